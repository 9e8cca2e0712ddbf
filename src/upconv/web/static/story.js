// The checkerboard story drawn from /api/checkerboard: overlap maps (layer and stack), the DC gain of the
// weights with the map it makes, and resize-convolution beside the transposed convolution.

import { absMax, fmt, heat, htmlEl, note, outline, row, rows2d } from "./draw.js";

function verdict(el, v) {
  el.textContent = v;
  el.className = `verdict ${v}`;
}

function overlapFigure(fig, M, title) {
  const r = row(fig);
  if (M.counts !== null) {
    const A = rows2d(M.counts);
    const H = heat(r, `${title}: stamps per pixel of ones ${M.in_size.join("×")} → ${M.out_size.join("×")} ` +
      "(dashed: the interior)", M.counts, { kind: "count", maxW: 260, maxH: 200, hi: 24 });
    const inner = M.interior.length === 1 ? [[0, 1], M.interior[0]] : M.interior;
    if (A.length) outline(H.svg, H.G, inner[0][0], inner[0][1], inner[1][0], inner[1][1], "interior");
  } else {
    note(r, `the map (${M.out_size.join("×")}) is too large to list; its period tile:`);
  }
  heat(r, `period ${M.period.join("×")} tile`, M.tile, { kind: "count", maxW: 120, maxH: 120, hi: 26,
                                                        m: M.max_count });
  const kv = htmlEl("div", { class: "kv" }, fig);
  htmlEl("div", {}, kv, `layers: ${M.layers.map((L) => L.label).join(" → ")}; counts ${M.min_count} to ` +
    `${M.max_count}`);
  if (M.advice) htmlEl("div", {}, kv, M.advice);
}

export const overlap = {
  draw(root, S) {
    const fig = root.querySelector(".figure");
    fig.replaceChildren();
    root.querySelector("#overlap-ratio").textContent = S.layer.ratio_text;
    verdict(root.querySelector("#overlap-verdict"), S.layer.verdict);
    overlapFigure(fig, S.layer, "this layer");
  },
};

export const stack = {
  draw(root, S) {
    const fig = root.querySelector(".figure");
    fig.replaceChildren();
    root.querySelector("#stack-ratio").textContent = S.stack.ratio_text;
    verdict(root.querySelector("#stack-verdict"), S.stack.verdict);
    overlapFigure(fig, S.stack, S.stack.layers.length > 1 ? "the stack" : "one layer (add a layer above)");
  },
};

export const dc = {
  draw(root, S) {
    const fig = root.querySelector(".figure");
    fig.replaceChildren();
    const d = S.dc_gain;
    const r = row(fig);
    heat(r, S.weights === "random" ? `random weights (seed ${S.seed})` : "the kernel w", S.weight,
         { maxW: 110, maxH: 110, hi: 26 });
    heat(r, "DC gain per phase (sum of the taps landing there)", d.gains, { maxW: 120, maxH: 120, hi: 30 });
    const kv = htmlEl("div", { class: "kv" }, fig);
    htmlEl("div", {}, kv, `spread ${fmt(d.spread)} (relative ${fmt(d.relative_spread)}): ${d.summary}`);
    const m = absMax(S.flat_transposed);
    heat(row(fig), `the map: ones ${S.flat_input_size.join("×")} through the transposed convolution (no padding)`,
         S.flat_transposed, { m, maxW: 300, maxH: 220, hi: 22, id: "dc-map" });
  },
};

export const resize = {
  draw(root, S) {
    const fig = root.querySelector(".figure");
    fig.replaceChildren();
    const m = absMax(S.transposed, S.resized);
    const r1 = row(fig);
    heat(r1, "x through the transposed convolution", S.transposed, { m, maxW: 150, maxH: 150, hi: 24 });
    heat(r1, "x through resize-convolution", S.resized, { m, maxW: 150, maxH: 150, hi: 24 });
    const mf = absMax(S.flat_transposed, S.flat_resized);
    const r2 = row(fig);
    heat(r2, "ones: transposed convolution", S.flat_transposed, { m: mf, maxW: 150, maxH: 150, hi: 20 });
    heat(r2, "ones: resize-convolution", S.flat_resized, { m: mf, maxW: 150, maxH: 150, hi: 20 });
    const r3 = row(fig);
    heat(r3, "the equal transposed kernel", S.resize_kernel, { maxW: 120, maxH: 120, hi: 24 });
    heat(r3, "its DC gain per phase", S.resize_dc_gain.gains, { maxW: 100, maxH: 100, hi: 28 });
    note(fig, S.resize_dc_gain.summary, "kv");
  },
};
