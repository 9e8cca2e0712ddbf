// Drawing helpers: SVG elements, colours, grids of cells. Nothing here computes a view: it draws arrays
// the server sent, row-major (a 1-D array is drawn as one row).

const NS = "http://www.w3.org/2000/svg";

export function svgEl(tag, attrs = {}, parent = null, text = null) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) e.setAttribute(k, v);
  if (text !== null) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

export function htmlEl(tag, attrs = {}, parent = null, text = null) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) e.setAttribute(k, v);
  if (text !== null) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

/** A 1-D list as one row, a 2-D list as it is. */
export function rows2d(a) {
  if (!Array.isArray(a)) return [[a]];
  return a.length && Array.isArray(a[0]) ? a : [a];
}

/** Integers as integers, other numbers with at most 2 decimals. */
export function fmt(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "boolean") return v ? "1" : "0";
  if (Number.isInteger(v)) return String(v);
  const r = Math.round(v * 100) / 100;
  return String(Object.is(r, -0) ? 0 : r);
}

export function absMax(...arrays) {
  let m = 0;
  for (const a of arrays) {
    if (a === null || a === undefined) continue;
    for (const row of rows2d(a)) for (const v of row) m = Math.max(m, Math.abs(v));
  }
  return m;
}

function mix(c0, c1, t) {
  const r = c0.map((c, i) => Math.round(c + (c1[i] - c) * t));
  return `rgb(${r[0]},${r[1]},${r[2]})`;
}

const WHITE = [255, 255, 255], RED = [214, 96, 77], BLUE = [67, 147, 195], ORANGE = [230, 120, 30];

/** Diverging: white at 0, red for positive, blue for negative values, scaled by m. */
export function valueColor(v, m) {
  if (!m) return "#ffffff";
  const t = Math.max(-1, Math.min(1, v / m));
  return t >= 0 ? mix(WHITE, RED, t * 0.85) : mix(WHITE, BLUE, -t * 0.85);
}

/** Sequential: white for 0, orange up to the largest count. */
export function countColor(c, max) {
  if (!max || c <= 0) return "#ffffff";
  return mix([255, 236, 210], ORANGE, Math.min(1, c / max));
}

/** A cell size so that rows x cols fit in maxW x maxH, between lo and hi pixels. */
export function cellSize(rows, cols, maxW = 300, maxH = 300, lo = 4, hi = 30) {
  return Math.max(lo, Math.min(hi, Math.floor(maxW / Math.max(cols, 1)), Math.floor(maxH / Math.max(rows, 1))));
}

export function svgRoot(parent, w, h, attrs = {}) {
  return svgEl("svg", { width: Math.ceil(w), height: Math.ceil(h), viewBox: `0 0 ${Math.ceil(w)} ${Math.ceil(h)}`,
                        ...attrs }, parent);
}

export function caption(parent, x, y, text, attrs = {}) {
  return svgEl("text", { x, y, class: "cap", ...attrs }, parent, text);
}

function fontSize(cell, texts) {
  const longest = Math.max(1, ...texts.map((t) => t.length));
  return Math.max(7, Math.min(13, cell * 0.45, (cell * 1.7) / longest));
}

const ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" };
const esc = (v) => String(v).replace(/[&<>"]/g, (c) => ESC[c]);

/** Markup of attributes (null and undefined left out). */
export function attrText(attrs) {
  let t = "";
  for (const k in attrs) if (attrs[k] !== null && attrs[k] !== undefined) t += ` ${k}="${esc(attrs[k])}"`;
  return t;
}

/** Append SVG markup (a list of strings) to an SVG element: one parse instead of one call per element. */
export function appendMarkup(parent, parts) {
  parent.insertAdjacentHTML("beforeend", parts.join(""));
}

/**
 * Draw a grid of cells. opt: x, y, cell, fill(v, r, c), text(v, r, c) (string or null), attrs(r, c) (extra
 * attributes of the cell, e.g. data-o), cls (class of the group). Returns {g, rows, cols, cell, x, y, w, h}.
 */
export function grid(parent, a, opt) {
  const A = rows2d(a);
  const rows = A.length, cols = rows ? A[0].length : 0;
  const { x = 0, y = 0, cell = 20 } = opt;
  const g = svgEl("g", { class: opt.cls || null }, parent);
  const showText = cell >= 18 && opt.text !== false;  // smaller cells: colour only (hover for the value)
  const texts = [];
  if (showText) for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
    const t = opt.text ? opt.text(A[r][c], r, c) : fmt(A[r][c]);
    texts.push(t === null ? "" : t);
  }
  const fs = showText ? fontSize(cell, texts).toFixed(1) : 0;
  const parts = [];
  let i = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = A[r][c];
      const extra = opt.attrs ? opt.attrs(r, c) : {};
      const cellAttrs = { class: "cell", fill: opt.fill ? opt.fill(v, r, c) : "#fff", ...extra };
      parts.push(`<rect x="${x + c * cell}" y="${y + r * cell}" width="${cell}" height="${cell}"` +
                 `${attrText(cellAttrs)}/>`);
      if (showText) {
        const t = texts[i++];
        if (t !== "") {
          const ta = { ...extra };
          delete ta.class;
          delete ta.fill;
          parts.push(`<text x="${x + c * cell + cell / 2}" y="${(y + r * cell + cell / 2 + fs * 0.36).toFixed(1)}" ` +
                     `text-anchor="middle" font-size="${fs}"${attrText(ta)}>${esc(t)}</text>`);
        }
      }
    }
  }
  appendMarkup(g, parts);
  return { g, rows, cols, cell, x, y, w: cols * cell, h: rows * cell };
}

/** An outline around cells [r0, r1) x [c0, c1) of a drawn grid. */
export function outline(parent, G, r0, r1, c0, c1, cls, attrs = {}) {
  return svgEl("rect", { x: G.x + c0 * G.cell, y: G.y + r0 * G.cell, width: (c1 - c0) * G.cell,
                         height: (r1 - r0) * G.cell, class: cls, ...attrs }, parent);
}

/** Flat row-major index -> [row, col] of a grid with `cols` columns. */
export function rc(i, cols) {
  return [Math.floor(i / cols), i % cols];
}

/** A pixel index (list of 1 or 2 ints) as [row, col] in a drawn grid. */
export function at(idx) {
  return idx.length === 1 ? [0, idx[0]] : [idx[0], idx[1]];
}

/** A captioned sub-figure (an <svg> of w x h) in a flex row. */
export function subfig(parent, title, w, h, attrs = {}) {
  const f = htmlEl("figure", { class: "sub", ...attrs }, parent);
  htmlEl("figcaption", {}, f, title);
  return svgRoot(f, w, h);
}

/**
 * A captioned heat map of an array: kind "value" (diverging, scaled by m) or "count" (sequential). opt: m, maxW,
 * maxH, lo, hi, attrs(r, c), text(v, r, c), id. Returns {svg, G}.
 */
export function heat(parent, title, a, opt = {}) {
  const A = rows2d(a);
  const rows = A.length, cols = rows ? A[0].length : 0;
  const cell = opt.cell || cellSize(rows, cols, opt.maxW || 150, opt.maxH || 150, opt.lo || 4, opt.hi || 28);
  const svg = subfig(parent, title, cols * cell + 2, rows * cell + 2, opt.id ? { id: opt.id } : {});
  const kind = opt.kind || "value";
  const m = opt.m !== undefined ? opt.m : (kind === "count" ? Math.max(0, ...A.flat()) : absMax(A));
  const fill = kind === "count" ? (v) => countColor(v, m) : (v) => valueColor(v, m);
  const G = grid(svg, A, { x: 1, y: 1, cell, fill, attrs: opt.attrs, text: opt.text });
  return { svg, G };
}

export function row(parent, cls = "row") {
  return htmlEl("div", { class: cls }, parent);
}

export function note(parent, text, cls = "note") {
  return htmlEl("p", { class: cls }, parent, text);
}

/**
 * A canvas of w x h CSS pixels at (x, y) of a positioned box (sharp on high-DPI screens), under the SVG drawn
 * after it in the same box: the large matrices are painted there, one element instead of thousands.
 */
export function canvasLayer(box, x, y, w, h) {
  const c = htmlEl("canvas", { class: "layer" }, box);
  const r = window.devicePixelRatio || 1;
  c.width = Math.max(1, Math.ceil(w * r));
  c.height = Math.max(1, Math.ceil(h * r));
  Object.assign(c.style, { left: `${x}px`, top: `${y}px`, width: `${w}px`, height: `${h}px` });
  const ctx = c.getContext("2d");
  ctx.scale(r, r);
  return ctx;
}

/** A captioned figure whose SVG lies over a canvas layer: returns {box, svg}. */
export function layeredFigure(parent, title, w, h) {
  const f = htmlEl("figure", { class: "sub" }, parent);
  htmlEl("figcaption", {}, f, title);
  const box = htmlEl("div", { class: "stack" }, f);
  return { box, svg: null, make: () => svgRoot(box, w, h) };
}

/**
 * A transparent rectangle over cells of size `cell` at (x, y) that reports the cell under the pointer as a
 * "cellhover" event ({o} or {j}; `which(row, col)` says which), and null when the pointer leaves.
 */
export function hoverArea(svg, x, y, w, h, cell, which) {
  const cap = svgEl("rect", { x, y, width: w, height: h, fill: "transparent", class: "capture" }, svg);
  const send = (detail) => svg.dispatchEvent(new CustomEvent("cellhover", { bubbles: true, detail }));
  cap.addEventListener("mousemove", (ev) => {
    const b = cap.getBoundingClientRect();
    const r = Math.floor((ev.clientY - b.top) / cell), c = Math.floor((ev.clientX - b.left) / cell);
    send(which(r, c));
  });
  cap.addEventListener("mouseleave", () => send(null));
  return cap;
}
