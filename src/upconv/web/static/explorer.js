// The explorer page: the controls, the address (it holds the configuration), the requests to /api/views and
// /api/checkerboard, hovering across the views, stepping and playing, copying. The server computes; this draws.

import { fmt, heat, htmlEl } from "./draw.js";
import * as story from "./story.js";
import * as views from "./views.js";

const PARAMS = ["size", "kernel_size", "stride", "padding", "output_padding", "dilation"];
const NAMES = { size: "input size", kernel_size: "kernel size", stride: "stride", padding: "padding",
                output_padding: "output_padding", dilation: "dilation" };
const SEEDS = { dims: "2", size: "2", kernel_size: "3", stride: "2", padding: "0", output_padding: "0", dilation: "1" };
const PLAY_MS = 550;

const $ = (sel) => document.querySelector(sel);

const state = {
  dims: 2,
  params: {},        // name -> list of strings, one per axis (what the fields hold)
  input: null,       // list of strings, or null: the server's default (1, 2, 3, ...)
  kernel: null,      // list of strings, or null: all ones
  layers: [],        // [[k, s, d], ...] after this layer
  weights: "user",
  seed: "0",
  stampStep: null,   // null: all stamps
  slideStep: null,   // null: every output
  hover: null,
  data: null,        // the last good /api/views answer
  stepData: null,    // the stamping with its steps (/api/steps), fetched when first stepped
  story: null,       // the last good /api/checkerboard answer
  limits: null,
};
let requestNumber = 0;
let playing = null;

// ------------------------------------------------------------------ the address

function readAddress() {
  const q = new URLSearchParams(location.search);
  let dims = 2;
  if (q.get("dims") === "1" || q.get("dims") === "2") dims = Number(q.get("dims"));
  else if (q.has("size") && q.get("size").split(",").length === 1) dims = 1;
  state.dims = dims;
  for (const name of PARAMS) {
    const parts = (q.get(name) ?? SEEDS[name]).split(",");
    state.params[name] = Array.from({ length: dims }, (_, a) => parts[Math.min(a, parts.length - 1)]);
  }
  state.input = q.has("input") ? q.get("input").split(",") : null;
  state.kernel = q.has("kernel") ? q.get("kernel").split(",") : null;
  state.layers = q.has("layers") && q.get("layers") ? q.get("layers").split(",").map((t) => t.split(":")) : [];
  state.weights = q.get("weights") === "random" ? "random" : "user";
  state.seed = q.get("seed") ?? "0";
}

function viewQuery() {
  const q = new URLSearchParams();
  q.set("dims", String(state.dims));
  for (const name of PARAMS) q.set(name, state.params[name].join(","));
  if (state.input) q.set("input", state.input.join(","));
  if (state.kernel) q.set("kernel", state.kernel.join(","));
  return q;
}

function storyQuery() {
  const q = viewQuery();
  if (state.layers.length) q.set("layers", state.layers.map((L) => L.join(":")).join(","));
  if (state.weights !== "user") q.set("weights", state.weights);
  if (state.seed !== "0") q.set("seed", state.seed);
  return q;
}

// ------------------------------------------------------------------ the controls

function buildParams() {
  const table = $("#params");
  table.replaceChildren();
  const axes = state.dims === 1 ? ["L"] : ["H", "W"];
  const head = htmlEl("tr", {}, table);
  htmlEl("td", {}, head);
  for (const a of axes) htmlEl("td", { class: "name" }, head, a);
  for (const name of PARAMS) {
    const tr = htmlEl("tr", {}, table);
    htmlEl("td", { class: "name" }, tr, NAMES[name]);
    state.params[name].forEach((val, a) => {
      const td = htmlEl("td", {}, tr);
      const input = htmlEl("input", { type: "number", id: `p-${name}-${a}`, value: val, step: 1,
                                      "aria-label": `${NAMES[name]} ${axes[a]}`, "data-param": name,
                                      "data-axis": a }, td);
      input.addEventListener("input", () => {
        state.params[name][a] = input.value.trim();
        if (name === "size") state.input = null;
        if (name === "kernel_size") state.kernel = null;
        changed();
      });
    });
  }
}

function buildValues(id, values, shape, key) {
  const box = $(id);
  if (state[key] !== null && box.dataset.shape === shape.join("x")) return;  // being edited: keep the fields
  box.dataset.shape = shape.join("x");
  box.replaceChildren();
  const cols = shape[shape.length - 1];
  box.style.gridTemplateColumns = `repeat(${cols}, auto)`;
  values.flat().forEach((v, i) => {
    const input = htmlEl("input", { type: "number", value: fmt(v), step: "any", "data-i": i,
                                    "aria-label": `${key} value ${i}` }, box);
    input.addEventListener("input", () => {
      const all = [...box.querySelectorAll("input")].map((e) => e.value.trim());
      state[key] = all;
      changed();
    });
  });
}

function buildStackControls() {
  const box = $("#stack-controls");
  box.replaceChildren();
  const d = state.data;
  const first = d ? `k${d.config.kernel_size.join("x")} s${d.config.stride.join("x")}` : "";
  const line = (text) => {
    const div = htmlEl("div", { class: "layer" }, box);
    htmlEl("span", { class: "name" }, div, text);
    return div;
  };
  line(`layer 1: this layer, ${first}`);
  const rows = [];
  for (let i = 0; i < 2; i++) {
    const L = state.layers[i];
    const div = line(`layer ${i + 2}`);
    const on = htmlEl("input", { type: "checkbox", id: `layer-${i}-on`, "aria-label": `layer ${i + 2}` }, div);
    on.checked = !!L;
    const fields = ["k", "s", "d"].map((n, f) => {
      const lab = htmlEl("label", {}, div, ` ${n} `);
      const input = htmlEl("input", { type: "number", id: `layer-${i}-${n}`, value: L ? (L[f] ?? "1") : [3, 2, 1][f],
                                      min: 1, step: 1 }, lab);
      input.disabled = !L;
      return input;
    });
    rows.push({ on, fields });
  }
  const update = () => {
    state.layers = rows.filter((r) => r.on.checked).map((r) => r.fields.map((f) => f.value.trim()));
    for (const r of rows) r.fields.forEach((f) => { f.disabled = !r.on.checked; });
    changed({ storyOnly: true });
  };
  for (const r of rows) {
    r.on.addEventListener("change", update);
    r.fields.forEach((f) => f.addEventListener("input", update));
  }
  const preset = htmlEl("button", { type: "button", id: "distill" }, box, "Distill's period 4: k3 s2, then k3 s2");
  preset.addEventListener("click", () => {
    for (const [name, v] of [["kernel_size", "3"], ["stride", "2"], ["dilation", "1"]]) {
      state.params[name] = state.params[name].map(() => v);
    }
    state.kernel = null;
    state.layers = [["3", "2", "1"]];
    buildParams();
    changed();
  });
}

function syncControls() {
  $(`#dims-${state.dims}`).checked = true;
  $(`#weights-${state.weights}`).checked = true;
  $("#seed").value = state.seed;
  buildParams();
}

// ------------------------------------------------------------------ requests

async function getJSON(url, signal) {
  const t0 = performance.now();
  const res = await fetch(url, { signal, headers: { accept: "application/json" } });
  const body = await res.json();
  return { ok: res.ok, status: res.status, body, ms: performance.now() - t0 };
}

let controller = null;

const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));

/**
 * A control changed: put the configuration in the address, ask for the views, draw them, then ask for the
 * checkerboard story and draw it. An answer to an older request is dropped. The time from the change to the
 * views on screen (the next frame after drawing) is shown in #timing and kept in body[data-update-ms].
 */
async function changed(opts = {}) {
  const started = performance.now();
  history.replaceState(null, "", `?${storyQuery().toString()}`);
  $("#page-url").textContent = location.href;
  const number = ++requestNumber;
  if (controller) controller.abort();
  controller = new AbortController();
  const signal = controller.signal;
  stop();
  try {
    let viewsOk = true, server = 0;
    if (!opts.storyOnly) {
      const v = await getJSON(`/api/views?${viewQuery()}`, signal);
      if (number !== requestNumber) return;
      viewsOk = v.ok;
      if (v.ok) {
        state.data = v.body;
        state.stepData = null;
        state.stampStep = null;
        state.slideStep = null;
        showStatus(null);
        renderViews();
        server += v.body.elapsed_ms;
      } else {
        showStatus(v.body.error);
      }
      await nextFrame();
      if (number !== requestNumber) return;
    }
    const shown = performance.now() - started;
    const s = await getJSON(`/api/checkerboard?${storyQuery()}`, signal);
    if (number !== requestNumber) return;
    if (s.ok) {
      state.story = s.body;
      renderStory();
      server += s.body.elapsed_ms;
      if (opts.storyOnly) showStatus(null);
    } else if (viewsOk) {
      showStatus(s.body.error);
    }
    await nextFrame();
    const total = performance.now() - started;
    $("#timing").textContent = `views on screen in ${fmt(shown)} ms, everything in ${fmt(total)} ms ` +
      `(computing: ${fmt(server)} ms)`;
    document.body.dataset.updateMs = shown.toFixed(1);
    document.body.dataset.totalMs = total.toFixed(1);
    document.body.dataset.ready = String(number);
  } catch (err) {
    if (err.name !== "AbortError") showStatus(`the server did not answer: ${err.message}`);
  }
}

function showStatus(message) {
  const el = $("#status");
  const stale = message !== null;
  el.textContent = stale ? message : "valid configuration";
  el.className = stale ? "error" : "ok";
  document.body.classList.toggle("stale", stale);
  for (const id of ["#views", "#checkerboard", "#code"]) $(id).classList.toggle("stale", stale);
}

// ------------------------------------------------------------------ drawing

const PANELS = [
  ["#view-stamping", views.stamping], ["#view-zero-insertion", views.zeroInsertion], ["#view-matrix", views.matrix],
  ["#view-gradient", views.gradient], ["#view-phase", views.phase],
];

function renderViews() {
  const D = state.data;
  $("#output-size").textContent = D.config.out_size.join(" × ");
  $("#formula").textContent = [D.formula.formula, ...D.formula.lines.map((l) => `  ${l}`)].join("\n");
  const res = $("#result");
  res.replaceChildren();
  const oc = D.config.out_size[D.config.out_size.length - 1];
  heat(res, "the output y = conv_transpose(x, w)", D.config.output, { maxW: 360, maxH: 240, hi: 32,
    attrs: (r, c) => ({ "data-o": r * oc + c }) });
  const worst = Math.max(...Object.values(D.agreement).filter((x) => x !== null));
  $("#agreement").textContent = `The views agree with conv_transpose: max |difference| = ${fmt(worst)} ` +
    `(stamping, zero insertion, matrix, phases, gradient${D.agreement.jacobian_vs_C === null ? "" : ", J vs C"}).`;
  buildValues("#x-values", D.config.x, D.config.in_size, "input");
  buildValues("#w-values", D.config.weight, D.config.kernel_size, "kernel");
  buildSteppers();
  for (const [sel, panel] of PANELS) panel.draw($(sel), D, state);
  $("#call-torch").textContent = D.calls.torch;
  $("#call-upconv").textContent = D.calls.upconv;
  $("#call-explain").textContent = D.calls.explain ?? "(upconv explain takes symmetric padding only)";
  buildStackControls();
  applyHover();
}

function renderStory() {
  const S = state.story;
  story.overlap.draw($("#story-overlap"), S);
  story.stack.draw($("#story-stack"), S);
  story.dc.draw($("#story-dc"), S);
  story.resize.draw($("#story-resize"), S);
}

// ------------------------------------------------------------------ hovering

function setHover(h) {
  const same = (a, b) => (a === null && b === null) || (a && b && a.o === b.o && a.j === b.j);
  if (same(h, state.hover)) return;
  state.hover = h;
  applyHover();
}

function applyHover() {
  for (const e of document.querySelectorAll(".hl, .hl-src")) e.classList.remove("hl", "hl-src");
  const D = state.data;
  const h = state.hover;
  if (D && h) {
    const m = D.views.matrix;
    if (h.o !== undefined && h.o < m.inputs_reaching.length) {
      for (const e of document.querySelectorAll(`[data-o="${h.o}"]`)) e.classList.add("hl");
      for (const j of m.inputs_reaching[h.o]) {
        for (const e of document.querySelectorAll(`[data-j="${j}"]`)) e.classList.add("hl-src");
      }
    } else if (h.j !== undefined && h.j < m.outputs_reached.length) {
      for (const e of document.querySelectorAll(`[data-j="${h.j}"]`)) e.classList.add("hl");
      for (const o of m.outputs_reached[h.j]) {
        for (const e of document.querySelectorAll(`[data-o="${o}"]`)) e.classList.add("hl-src");
      }
    }
  }
  if (D) for (const [sel, panel] of PANELS) panel.highlight($(sel), D, h, state);
  if (D) $("#hover-info").textContent = hoverText(D, h);
}

/** The hovered pixel in words: its value and where it comes from or goes (from the matrix view's lists). */
function hoverText(D, h) {
  const m = D.views.matrix;
  const ys = D.config.output.flat(), xs = D.config.x.flat();
  if (h && h.o !== undefined && h.o < m.col_labels.length) {
    const from = m.inputs_reaching[h.o].map((j) => `x[${m.row_labels[j]}] = ${fmt(xs[j])}`);
    return `output y[${m.col_labels[h.o]}] = ${fmt(ys[h.o])}: ` +
      (from.length ? `reached by ${from.join(", ")}` : "reached by no input pixel (only zeros land there)");
  }
  if (h && h.j !== undefined && h.j < m.row_labels.length) {
    const to = m.outputs_reached[h.j];
    return `input x[${m.row_labels[h.j]}] = ${fmt(xs[h.j])}: its stamp reaches ${to.length} output pixel` +
      `${to.length === 1 ? "" : "s"}`;
  }
  return "Hover a pixel in any view.";
}

document.addEventListener("mouseover", (ev) => {
  const t = ev.target.closest ? ev.target.closest("[data-o], [data-j]") : null;
  if (!t) return;
  if (t.dataset.o !== undefined) setHover({ o: Number(t.dataset.o) });
  else if (t.dataset.j !== undefined) setHover({ j: Number(t.dataset.j) });
});
// the matrices painted on a canvas report the cell under the pointer themselves
document.addEventListener("cellhover", (ev) => setHover(ev.detail));
document.addEventListener("mouseout", (ev) => {
  if (!ev.relatedTarget || !ev.relatedTarget.closest || !ev.relatedTarget.closest("[data-o], [data-j]")) {
    setHover(null);
  }
});

// ------------------------------------------------------------------ stepping and playing

function buildSteppers() {
  for (const box of document.querySelectorAll(".stepper")) {
    const which = box.dataset.for;
    const panel = which === "stamping" ? views.stamping : views.zeroInsertion;
    const key = which === "stamping" ? "stampStep" : "slideStep";
    const root = box.closest(".panel");
    const n = panel.steps(state.data);
    box.replaceChildren();
    if (!n) {
      htmlEl("span", { class: "step-label" }, box);
      continue;
    }
    const btn = (text, title, fn) => {
      const b = htmlEl("button", { type: "button", title, "data-action": title }, box, text);
      b.addEventListener("click", fn);
      return b;
    };
    const current = () => (state[key] === null ? n : state[key]);
    const go = async (i) => {
      if (key === "stampStep" && !(await loadSteps())) return;
      state[key] = Math.max(0, Math.min(n, i));
      range.value = String(state[key]);
      panel.draw(root, state.data, state);
      applyHover();
    };
    btn("|◀", "first", () => { stop(); go(0); });
    btn("◀", "back", () => { stop(); go(current() - 1); });
    const play = btn("▶ play", "play", () => {
      if (playing && playing.key === key) { stop(); return; }
      stop();
      if (current() >= n) go(0);
      play.classList.add("on");
      play.textContent = "⏸ pause";
      playing = { key, button: play, timer: setInterval(() => {
        if (current() >= n) { stop(); return; }
        go(current() + 1);
      }, PLAY_MS) };
    });
    btn("▶", "forward", () => { stop(); go(state[key] === null ? 1 : current() + 1); });
    btn("▶|", "last", () => { stop(); go(n); });
    const range = htmlEl("input", { type: "range", min: 0, max: n, value: current(), "aria-label": `${which} step` },
                         box);
    range.addEventListener("input", () => { stop(); go(Number(range.value)); });
    htmlEl("span", { class: "step-label" }, box);
  }
}

/** The stamps one by one, asked for once per configuration (they are large: stamps x canvas cells). */
async function loadSteps() {
  if (state.stepData) return true;
  const number = requestNumber;
  const r = await getJSON(`/api/steps?${viewQuery()}`);
  if (number !== requestNumber) return false;  // the configuration changed meanwhile
  if (!r.ok) {
    showStatus(r.body.error);
    return false;
  }
  state.stepData = r.body.stamping;
  return true;
}

function stop() {
  if (!playing) return;
  clearInterval(playing.timer);
  playing.button.classList.remove("on");
  playing.button.textContent = "▶ play";
  playing = null;
}

// ------------------------------------------------------------------ copying

async function copy(id, button) {
  const text = id === "page-url" ? location.href : $(`#${id}`).textContent;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const area = htmlEl("textarea", {}, document.body);
    area.value = text;
    area.select();
    document.execCommand("copy");
    area.remove();
  }
  const old = button.textContent;
  button.textContent = "Copied";
  setTimeout(() => { button.textContent = old; }, 1200);
}

// ------------------------------------------------------------------ start

async function start() {
  readAddress();
  syncControls();
  for (const r of document.querySelectorAll('input[name="dims"]')) {
    r.addEventListener("change", () => {
      state.dims = Number(r.value);
      for (const name of PARAMS) state.params[name] = Array.from({ length: state.dims }, () => state.params[name][0]);
      state.input = null;
      state.kernel = null;
      buildParams();
      changed();
    });
  }
  for (const r of document.querySelectorAll('input[name="weights"]')) {
    r.addEventListener("change", () => { state.weights = r.value; changed({ storyOnly: true }); });
  }
  $("#seed").addEventListener("input", () => { state.seed = $("#seed").value.trim(); changed({ storyOnly: true }); });
  $("#reseed").addEventListener("click", () => {
    state.weights = "random";
    state.seed = String((Number(state.seed) || 0) + 1);
    $("#weights-random").checked = true;
    $("#seed").value = state.seed;
    changed({ storyOnly: true });
  });
  $("#reset").addEventListener("click", () => {
    history.replaceState(null, "", location.pathname);
    readAddress();
    syncControls();
    changed();
  });
  $("#default-values").addEventListener("click", () => { state.input = null; state.kernel = null; changed(); });
  for (const b of document.querySelectorAll("[data-copy]")) b.addEventListener("click", () => copy(b.dataset.copy, b));
  document.addEventListener("keydown", (ev) => { if (ev.key === "Escape") setHover(null); });
  try {
    const limits = await (await fetch("/api/limits")).json();
    const L = limits.limits;
    state.limits = L;
    $("#limits").textContent = `Limits: 1-D or 2-D; input up to ${L.size} and kernel up to ${L.kernel_size} per axis; ` +
      `stride up to ${L.stride}, dilation up to ${L.dilation}, padding up to ${L.padding}; output up to ` +
      `${L.out_axis} per axis and ${L.out_pixels} pixels; stacks up to ${L.layers} layers of period up to ` +
      `${L.stack_period}.`;
  } catch { /* the limits line is optional */ }
  await changed();
}

start();
