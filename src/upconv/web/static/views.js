// The four views (and the phases) drawn from /api/views. Each panel has draw(root, D, st) and
// highlight(root, D, h): h is null, {o: output pixel} or {j: input pixel}, flat row-major indices.

import { absMax, at, canvasLayer, caption, cellSize, fmt, grid, heat, hoverArea, htmlEl, layeredFigure, note,
         outline, rc, row, rows2d, subfig, svgEl, valueColor } from "./draw.js";

const flat = (a) => rows2d(a).flat();
const label = (idx) => idx.join(",");
const outCols = (D) => D.config.out_size[D.config.out_size.length - 1];
const inCols = (D) => D.config.in_size[D.config.in_size.length - 1];

function hlLayer(svg) {
  let g = svg.querySelector(":scope > g.hl-layer");
  if (!g) g = svgEl("g", { class: "hl-layer" }, svg);
  g.replaceChildren();
  return g;
}

/** The input x as a small grid with data-j, for the panels that show where stamps come from. */
function inputGrid(parent, D, title, m) {
  return heat(parent, title, D.config.x, { m, maxW: 110, maxH: 110, hi: 26,
    attrs: (r, c) => ({ "data-j": r * inCols(D) + c }) });
}

// ------------------------------------------------------------------ 1 stamping

export const stamping = {
  draw(root, D, st) {
    const fig = root.querySelector(".figure");
    fig.replaceChildren();
    const v = st.stepData || D.views.stamping;  // with the steps once /api/steps has sent them
    const steps = v.stamps !== null && v.stamps !== undefined;
    const n = v.pixels.length;
    const step = steps ? Math.min(st.stampStep ?? n, n) : n;
    const sums = steps ? v.partial_sums[step] : v.canvas;
    const counts = steps ? v.partial_overlaps[step] : v.overlap;
    const m = absMax(steps ? v.partial_sums : v.canvas, D.config.x);
    const top = row(fig);
    inputGrid(top, D, "input x", m);
    heat(top, "kernel w", D.config.weight, { maxW: 90, maxH: 90, hi: 24 });
    const C = rows2d(v.canvas);
    const crop = v.crop.length === 1 ? [[0, 1], v.crop[0]] : v.crop;
    const oc = outCols(D);
    const cell = cellSize(C.length, C[0].length, 300, 260, 5, 30);
    const body = row(fig);
    const attrs = (r, c) => {
      const inside = r >= crop[0][0] && r < crop[0][1] && c >= crop[1][0] && c < crop[1][1];
      return inside ? { "data-o": (r - crop[0][0]) * oc + (c - crop[1][0]) } : { class: "cell dim" };
    };
    const title = steps && step < n ? `canvas after ${step} of ${n} stamps (box: the output)`
      : "canvas: the sum of the stamps (box: the output)";
    const S = heat(body, title, sums, { m, cell, attrs });
    outline(S.svg, S.G, crop[0][0], crop[0][1], crop[1][0], crop[1][1], "box");
    const maxCount = Math.max(...flat(v.overlap));
    const O = heat(body, "overlap: stamps per cell", counts, { kind: "count", m: maxCount, cell, attrs });
    outline(O.svg, O.G, crop[0][0], crop[0][1], crop[1][0], crop[1][1], "box");
    if (steps && step > 0 && st.stampStep !== null && st.stampStep !== undefined) {
      const j = step - 1;
      const reach = rows2d(v.reach[j]);
      for (const G of [S, O]) {
        const g = svgEl("g", {}, G.svg);
        reach.forEach((rr, r) => rr.forEach((on, c) => { if (on) outline(g, G.G, r, r + 1, c, c + 1, "stamp"); }));
      }
    }
    root._geo = { S, O, crop };
    const lbl = root.querySelector(".step-label");
    if (lbl) {
      if (!D.steps.available) lbl.textContent = D.notes.steps;
      else if (!steps || st.stampStep === null || st.stampStep === undefined) {
        lbl.textContent = `${n} stamps: step or play them`;
      }
      else if (step === 0) lbl.textContent = `no stamp yet (${n} to go)`;
      else {
        const j = step - 1;
        lbl.textContent = `stamp ${step} of ${n}: x[${label(v.pixels[j])}] = ${fmt(flat(D.config.x)[j])} ` +
          `times w, placed at ${label(v.starts[j])} (= j·s)`;
      }
    }
  },
  highlight(root, D, h, st) {
    const geo = root._geo;
    if (!geo) return;
    const v = st.stepData || D.views.stamping;
    for (const G of [geo.S, geo.O]) {
      const g = hlLayer(G.svg);
      if (h && h.j !== undefined && v.reach) {
        rows2d(v.reach[h.j]).forEach((rr, r) => rr.forEach((on, c) => {
          if (on) outline(g, G.G, r, r + 1, c, c + 1, "band-src");
        }));
      }
    }
  },
  steps: (D) => (D.steps.available ? D.steps.count : 0),
};

// ------------------------------------------------------------------ 2 zero insertion

const KIND_FILL = { padding: "#eef1f4", "inserted zero": "#ffffff", cropped: "#c9ced6" };

export const zeroInsertion = {
  draw(root, D, st) {
    const fig = root.querySelector(".figure");
    fig.replaceChildren();
    const v = D.views.zero_insertion, c = D.config;
    const axes = D.formula.axes;
    const lines = htmlEl("div", { class: "kv" }, fig);
    v.insertion_padding.forEach(([b, e], a) => {
      const s = c.stride[a];
      const amount = (p) => (p >= 0 ? `${p}` : `${p} (crop ${-p})`);
      htmlEl("div", {}, lines, `${axes[a]}: insert ${s - 1} zero${s - 1 === 1 ? "" : "s"}, pad ${amount(b)} before ` +
        `and ${amount(e)} after`);
    });
    const K = rows2d(v.kind), A = rows2d(v.canvas);
    const kinds = v.cell_kinds;
    const m = absMax(v.canvas, c.output);
    // where input pixel j sits on the canvas: (padding before, when positive) + j*s per axis
    const jAt = new Map();
    D.views.stamping.pixels.forEach((idx, j) => {
      const pos = idx.map((i, a) => Math.max(v.insertion_padding[a][0], 0) + i * c.stride[a]);
      const [r, cc] = at(pos);
      if (kinds[K[r][cc]] === "input pixel") jAt.set(`${r},${cc}`, j);
    });
    const cell = cellSize(A.length, A[0].length, 300, 260, 5, 30);
    const top = row(fig);
    const svg = subfig(top, "zero-inserted, padded input (box: what the kernel reads)", A[0].length * cell + 2,
                       A.length * cell + 2);
    const G = grid(svg, A, {
      x: 1, y: 1, cell,
      fill: (val, r, cc) => (kinds[K[r][cc]] === "input pixel" ? valueColor(val, m) : KIND_FILL[kinds[K[r][cc]]]),
      text: (val, r, cc) => (kinds[K[r][cc]] === "input pixel" ? fmt(val) : null),
      attrs: (r, cc) => (jAt.has(`${r},${cc}`) ? { "data-j": jAt.get(`${r},${cc}`) } : {}),
    });
    const used = v.used.length === 1 ? [[0, 1], v.used[0]] : v.used;
    outline(svg, G, used[0][0], used[0][1], used[1][0], used[1][1], "box");
    heat(top, "flipped kernel", v.flipped, { maxW: 90, maxH: 90, hi: 24 });
    const nOut = flat(c.output).length;
    const step = Math.min(st.slideStep ?? nOut, nOut);
    const oc = outCols(D);
    const Y = heat(row(fig), step === nOut ? "output" : `output, ${step} of ${nOut} computed`, c.output, {
      m, maxW: 300, maxH: 200, hi: 30,
      text: (val, r, cc) => (r * oc + cc < step ? fmt(val) : null),
      // the outputs not computed yet are blank
      attrs: (r, cc) => (r * oc + cc < step ? { "data-o": r * oc + cc } : { "data-o": r * oc + cc, fill: "#f6f8fa" }),
    });
    root._geo = { svg, G, Y };
    if (step > 0 && step <= nOut && st.slideStep !== null && st.slideStep !== undefined) {
      this.window(svg, G, D, step - 1, "window");
      const [r, cc] = rc(step - 1, oc);
      outline(Y.svg, Y.G, r, r + 1, cc, cc + 1, "window");
    }
    const lbl = root.querySelector(".step-label");
    if (lbl) {
      if (st.slideStep === null || st.slideStep === undefined || step === nOut) {
        lbl.textContent = `${nOut} outputs: step to slide the flipped kernel`;
      } else if (step === 0) lbl.textContent = "no output yet";
      else {
        const o = step - 1;
        lbl.textContent = `output ${o + 1} of ${nOut} (${label(idxOf(o, c.out_size))}) = window · flipped kernel ` +
          `= ${fmt(flat(c.output)[o])}`;
      }
    }
  },
  /** Outline the taps of output o's window: window_starts[o] + t*d per axis. */
  window(svg, G, D, o, cls, parent = null) {
    const v = D.views.zero_insertion, c = D.config;
    const start = v.window_starts[o];
    const g = parent || svgEl("g", {}, svg);
    const ks = c.kernel_size, ds = c.dilation;
    const rowsT = ks.length === 1 ? [0] : [...Array(ks[0]).keys()].map((t) => start[0] + t * ds[0]);
    const colsT = [...Array(ks[ks.length - 1]).keys()].map((t) => start[start.length - 1] + t * ds[ds.length - 1]);
    for (const r of rowsT) for (const cc of colsT) outline(g, G, r, r + 1, cc, cc + 1, cls);
    return g;
  },
  highlight(root, D, h) {
    const geo = root._geo;
    if (!geo) return;
    const g = hlLayer(geo.svg);
    if (h && h.o !== undefined) this.window(geo.svg, geo.G, D, h.o, "band-src", g);
  },
  steps: (D) => flat(D.config.output).length,
};

function idxOf(o, size) {
  return size.length === 1 ? [o] : [Math.floor(o / size[1]), o % size[1]];
}

// ------------------------------------------------------------------ 3 the matrix

export const matrix = {
  draw(root, D) {
    const fig = root.querySelector(".figure");
    fig.replaceChildren();
    const v = D.views.matrix, c = D.config;
    const [nIn, nOut] = v.shape;
    note(fig, `Cᵀ: ${nOut} × ${nIn} (C is the conv ${c.out_size.join("×")} → ${v.conv_out_size.join("×")}; ` +
      `${v.values.length} stored entries). Rows: output pixels; columns: input pixels.`, "kv");
    const cell = Math.max(2, Math.min(26, Math.floor(560 / nOut), Math.floor(220 / nIn)));
    const labels = cell >= 12;
    const lw = labels ? 7 * Math.max(...v.col_labels.map((s) => s.length)) + 8 : 0;
    const top = labels ? cell + 14 : 14;
    const W = lw + nIn * cell + 12 + (labels ? 46 : Math.max(cell, 8) + 6);
    const H = top + nOut * cell + 4;
    const x0 = lw, y0 = top;
    const F = layeredFigure(fig, "Cᵀ · vec(x) = vec(y)", W, H);
    // the entries: painted on a canvas under the SVG (thousands of them for 16x16 outputs)
    const ctx = canvasLayer(F.box, x0, y0, nIn * cell, nOut * cell);
    ctx.fillStyle = "#fbfbfc";
    ctx.fillRect(0, 0, nIn * cell, nOut * cell);
    const m = absMax(v.values);
    const showTaps = cell >= 22;
    ctx.font = "10px ui-monospace, Menlo, Consolas, monospace";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    for (let k = 0; k < v.values.length; k++) {
      const j = v.rows[k], o = v.cols[k];
      ctx.fillStyle = valueColor(v.values[k], m);
      ctx.fillRect(j * cell, o * cell, cell, cell);
      if (cell >= 6) {
        ctx.strokeStyle = "#c9ced6";
        ctx.lineWidth = 0.6;
        ctx.strokeRect(j * cell, o * cell, cell, cell);
      }
      if (showTaps) {
        ctx.fillStyle = "#1f2328";
        ctx.fillText(v.tap_names[v.taps[k] - 1], j * cell + cell / 2, o * cell + cell / 2 + 0.5);
      }
    }
    const svg = F.make();
    svgEl("rect", { x: x0, y: y0, width: nIn * cell, height: nOut * cell, fill: "none", stroke: "#c9ced6" }, svg);
    const xs = flat(c.x);
    // the columns: x[j] above each column
    for (let j = 0; j < nIn; j++) {
      const a = { x: x0 + j * cell, y: 2, width: cell, height: top - 4, fill: valueColor(xs[j], absMax(xs)),
                  class: "cell", "data-j": j };
      svgEl("rect", a, svg);
      if (labels) svgEl("text", { x: x0 + j * cell + cell / 2, y: top / 2 + 4, "text-anchor": "middle",
                                   "font-size": 10, "data-j": j }, svg, fmt(xs[j]));
    }
    if (labels) caption(svg, 2, top / 2 + 4, "x →");
    // the rows: output pixel labels
    if (labels) {
      v.col_labels.forEach((t, o) => svgEl("text", { x: lw - 4, y: y0 + o * cell + cell / 2 + 4, "text-anchor": "end",
        "font-size": 10, class: "row-label", "data-o": o, "data-row": o }, svg, t));
    }
    hoverArea(svg, x0, y0, nIn * cell, nOut * cell, cell, (r) => (r >= 0 && r < nOut ? { o: r } : null));
    // y at the right of each row
    const ys = flat(v.output);
    const yx = x0 + nIn * cell + 12;
    const my = absMax(ys);
    const yw = labels ? 40 : Math.max(cell, 8);
    ys.forEach((val, o) => {
      svgEl("rect", { x: yx, y: y0 + o * cell, width: yw, height: cell, class: "cell", fill: valueColor(val, my),
                      "data-o": o }, svg);
      if (labels) svgEl("text", { x: yx + yw / 2, y: y0 + o * cell + cell / 2 + 4, "text-anchor": "middle",
                                   "font-size": 10, "data-o": o }, svg, fmt(val));
    });
    root._geo = { svg, x0, y0, cell, nIn, nOut, W: nIn * cell, yx, yw };
  },
  highlight(root, D, h) {
    const geo = root._geo;
    if (!geo) return;
    const g = hlLayer(geo.svg);
    const v = D.views.matrix;
    const band = (o, cls, id) => svgEl("rect", { x: geo.x0, y: geo.y0 + o * geo.cell, width: geo.W + 12 + geo.yw,
      height: geo.cell, class: cls, id, "data-o": o }, g);
    const col = (j, cls) => svgEl("rect", { x: geo.x0 + j * geo.cell, y: 0, width: geo.cell,
      height: geo.y0 + geo.nOut * geo.cell, class: cls, "data-col": j }, g);
    if (h && h.o !== undefined) {
      band(h.o, "band", "matrix-row-band");
      for (const j of v.inputs_reaching[h.o]) col(j, "band-src");
    } else if (h && h.j !== undefined) {
      col(h.j, "band");
      for (const o of v.outputs_reached[h.j]) band(o, "band-src", null);
    }
  },
};

// ------------------------------------------------------------------ 4 the gradient

export const gradient = {
  draw(root, D) {
    const fig = root.querySelector(".figure");
    fig.replaceChildren();
    const v = D.views.gradient, c = D.config, ag = D.agreement;
    note(fig, `conv: X (${c.out_size.join("×")}) → ${v.conv_out_size.join("×")}, same kernel, stride, padding and ` +
      "dilation; f(X) = ⟨conv(X, w), x⟩.", "kv");
    const oc = outCols(D);
    const top = row(fig);
    heat(top, "df/dX: one vector-Jacobian product (upconv.grad)", v.gradient, { maxW: 200, maxH: 200, hi: 30,
      attrs: (r, cc) => ({ "data-o": r * oc + cc }) });
    const lines = htmlEl("div", { class: "kv" }, fig);
    const diff = (name, key) => {
      const val = ag[key];
      htmlEl("div", {}, lines, `${name}: ${val === null || val === undefined ? "not computed" : "max |difference| = " + fmt(val)}`);
    };
    diff("df/dX vs the transposed convolution", "gradient");
    if (v.jacobian === null) {
      note(fig, D.notes.jacobian || "no Jacobian");
      root._geo = null;
      return;
    }
    diff("Jᵀ·vec(x) vs the transposed convolution", "gradient_from_jacobian");
    diff("J (column i = conv of the unit image e_i) vs C", "jacobian_vs_C");
    const J = v.jacobian;
    const nIn = J.length, nOut = J[0].length;
    const cell = Math.max(1, Math.min(20, Math.floor(300 / nOut), Math.floor(220 / nIn)));
    const F = layeredFigure(fig, `Jacobian J = ∂conv(X)/∂X: ${nIn} × ${nOut} (one column per output pixel)`,
                            nOut * cell + 2, nIn * cell + 2);
    const ctx = canvasLayer(F.box, 1, 1, nOut * cell, nIn * cell);
    ctx.fillStyle = "#fbfbfc";
    ctx.fillRect(0, 0, nOut * cell, nIn * cell);
    const m = absMax(J);
    J.forEach((rr, j) => rr.forEach((val, o) => {
      if (val === 0) return;
      ctx.fillStyle = valueColor(val, m);
      ctx.fillRect(o * cell, j * cell, cell, cell);
      if (cell >= 6) {
        ctx.strokeStyle = "#c9ced6";
        ctx.lineWidth = 0.6;
        ctx.strokeRect(o * cell, j * cell, cell, cell);
      }
    }));
    const svg = F.make();
    svgEl("rect", { x: 1, y: 1, width: nOut * cell, height: nIn * cell, fill: "none", stroke: "#c9ced6" }, svg);
    hoverArea(svg, 1, 1, nOut * cell, nIn * cell, cell, (r, cc) => (cc >= 0 && cc < nOut ? { o: cc } : null));
    root._geo = { svg, cell, nIn, nOut };
  },
  highlight(root, D, h) {
    const geo = root._geo;
    if (!geo) return;
    const g = hlLayer(geo.svg);
    if (h && h.o !== undefined) {
      svgEl("rect", { x: 1 + h.o * geo.cell, y: 1, width: geo.cell, height: geo.nIn * geo.cell, class: "band",
                      id: "jacobian-col-band" }, g);
    } else if (h && h.j !== undefined) {
      svgEl("rect", { x: 1, y: 1 + h.j * geo.cell, width: geo.nOut * geo.cell, height: geo.cell, class: "band" }, g);
    }
  },
};

// ------------------------------------------------------------------ phases

const PALETTE = ["#e8f1fb", "#fdeede", "#e6f4ea", "#f3e8fd", "#fff4cc", "#e0f7f7", "#fde7ef", "#eceff3"];

export const phase = {
  draw(root, D) {
    const fig = root.querySelector(".figure");
    fig.replaceChildren();
    const v = D.views.phase, c = D.config;
    const axes = D.formula.axes;
    const lines = htmlEl("div", { class: "kv" }, fig);
    v.classes.forEach((classes, a) => classes.forEach((p) => {
      const taps = p.taps.length ? `tap${p.taps.length > 1 ? "s" : ""} ${p.taps.join(", ")}` : "no taps (zeros)";
      htmlEl("div", {}, lines, `${axes[a]}: o ≡ ${p.first} (mod ${c.stride[a]}): ${p.count} output` +
        `${p.count === 1 ? "" : "s"}, ${taps}`);
    }));
    // which class each output belongs to: the outputs first + m*s of every block
    const oc = outCols(D);
    const Y = rows2d(c.output);
    const cls = Y.map((r) => r.map(() => -1));
    v.blocks.forEach((b, i) => {
      const [r0, c0] = at(b.residues), [nr, nc] = at(b.counts);
      const [sr, sc] = at(c.stride);
      for (let mr = 0; mr < nr; mr++) for (let mc = 0; mc < nc; mc++) cls[r0 + mr * sr][c0 + mc * sc] = i;
    });
    heat(row(fig), `interleaved output: ${v.n_classes} class${v.n_classes === 1 ? "" : "es"}, ` +
      `${v.blocks.length} with taps (colour: class)`, c.output, { maxW: 260, maxH: 200, hi: 28,
      attrs: (r, cc) => ({ "data-o": r * oc + cc, fill: cls[r][cc] < 0 ? "#ffffff" : PALETTE[cls[r][cc] % 8] }) });
    if (v.blocks.length > 16) {
      note(fig, `${v.blocks.length} classes with taps: their sub-kernels are listed for at most 16.`);
      return;
    }
    const blocks = htmlEl("div", { class: "blocks" }, fig);
    v.blocks.forEach((b, i) => {
      const div = htmlEl("div", { class: "block" }, blocks);
      htmlEl("div", {}, div, `o ≡ ${b.residues.join(",")}: taps ${b.taps.map((t) => t.join(",")).join(" × ")}`);
      const r = row(div);
      if (b.sub_kernel !== null) heat(r, "sub-kernel", b.sub_kernel, { maxW: 70, maxH: 70, hi: 20 });
      heat(r, "outputs", b.outputs, { maxW: 90, maxH: 90, hi: 20, m: absMax(c.output),
        attrs: () => ({ fill: PALETTE[i % 8] }) });
    });
  },
  highlight() {},
};
