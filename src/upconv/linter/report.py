"""The lint report: :class:`LintReport` of :class:`LayerReport` rows, as JSON (``to_dict``) and as text (``str``).

The JSON document's shape is :data:`JSON_SCHEMA` (a JSON Schema, also
printed in the README's "Linting a model" section).
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from typing import Any

from upconv.linter.thresholds import severity, thresholds_dict

__all__ = ["Finding", "LayerReport", "LintReport", "SCHEMA_ID", "JSON_SCHEMA"]

SCHEMA_ID = "upconv.lint/1"
#: Width of the text report.
WIDTH = 100


@dataclass(frozen=True)
class Finding:
    """One finding on a layer: a code of :data:`upconv.linter.thresholds.SEVERITY`, its severity and a sentence."""

    code: str
    message: str

    @property
    def severity(self) -> str:
        """``"flag"`` or ``"note"``."""
        return severity(self.code)

    def to_dict(self) -> dict[str, str]:
        """``{"code", "severity", "message"}``."""
        return {"code": self.code, "severity": self.severity, "message": self.message}


@dataclass
class LayerReport:
    """One up-sampling layer (or resize-convolution): where, what, and what is wrong with it.

    ``geometry``, ``weights``, ``suggestion`` and ``replay`` are JSON-able
    dicts (None when not applicable); ``skipped`` says why a layer could not
    be analysed.
    """

    name: str
    op: str
    source_op: str
    attributes: dict[str, Any] = field(default_factory=dict)
    in_shape: tuple[int, ...] | None = None
    out_shape: tuple[int, ...] | None = None
    upconv_call: str | None = None
    torch_call: str | None = None
    torch_note: str | None = None
    geometry: dict[str, Any] | None = None
    weights: dict[str, Any] | None = None
    findings: list[Finding] = field(default_factory=list)
    suggestion: dict[str, Any] | None = None
    replay: dict[str, Any] | None = None
    skipped: str | None = None

    @property
    def flagged(self) -> bool:
        """Whether any finding is a ``"flag"``."""
        return any(f.severity == "flag" for f in self.findings)

    def add(self, code: str, message: str) -> None:
        """Append a finding."""
        self.findings.append(Finding(code, message))

    def to_dict(self) -> dict[str, Any]:
        """The layer as JSON-able data (see :data:`JSON_SCHEMA`)."""
        return {
            "name": self.name, "op": self.op, "source_op": self.source_op, "attributes": _jsonable(self.attributes),
            "in_shape": _shape(self.in_shape), "out_shape": _shape(self.out_shape),
            "upconv_call": self.upconv_call, "torch_call": self.torch_call, "torch_note": self.torch_note,
            "flagged": self.flagged, "skipped": self.skipped,
            "geometry": _jsonable(self.geometry), "weights": _jsonable(self.weights),
            "findings": [f.to_dict() for f in self.findings],
            "suggestion": _jsonable(self.suggestion), "replay": _jsonable(self.replay),
        }


@dataclass
class LintReport:
    """What ``upconv lint`` found in a model: one :class:`LayerReport` per up-sampling layer, in graph order.

    ``str(report)`` is the terminal report (flagged layers first);
    ``report.to_dict()`` the JSON document; ``report.flagged`` the CI verdict.
    """

    model: str
    source: str
    layers: list[LayerReport]
    inputs: dict[str, tuple[int, ...]] = field(default_factory=dict)
    opset: int | None = None
    notes: list[str] = field(default_factory=list)
    op_counts: dict[str, int] = field(default_factory=dict)
    replayed: bool = False
    figures: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        """Whether any layer is flagged."""
        return any(layer.flagged for layer in self.layers)

    def summary(self) -> dict[str, int]:
        """Counts: ``layers``, ``flagged``, ``skipped``."""
        return {"layers": len(self.layers), "flagged": sum(layer.flagged for layer in self.layers),
                "skipped": sum(layer.skipped is not None for layer in self.layers)}

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-able data, shaped as :data:`JSON_SCHEMA`."""
        return {
            "schema": SCHEMA_ID, "model": self.model, "source": self.source, "opset": self.opset,
            "inputs": {k: list(v) for k, v in self.inputs.items()}, "flagged": self.flagged,
            "summary": self.summary(), "thresholds": thresholds_dict(), "replayed": self.replayed,
            "notes": list(self.notes), "op_counts": dict(self.op_counts),
            "layers": [layer.to_dict() for layer in self.layers], "figures": list(self.figures),
        }

    def __str__(self) -> str:
        return "\n".join(self.lines())

    def lines(self, quiet: bool = False) -> list[str]:
        """The text report; ``quiet``: the verdict line and one line per flag only."""
        s = self.summary()
        inputs = ", ".join(f"{k} {_dims(v)}" for k, v in self.inputs.items())
        where = f"{self.source}{'' if self.opset is None else f', opset {self.opset}'}" + (
            f"; input {inputs}" if inputs else "")
        verdict = (f"{s['layers']} up-sampling layer(s): {s['flagged']} flagged, "
                   f"{s['layers'] - s['flagged'] - s['skipped']} clean, {s['skipped']} skipped")
        order = sorted(self.layers, key=lambda L: (not L.flagged, L.skipped is not None))
        if quiet:
            out = [f"upconv lint: {self.model}: {verdict}"]
            for layer in order:
                out += [f"  {layer.name}: {f.code}: {f.message}" for f in layer.findings if f.severity == "flag"]
            return out
        out = [f"upconv lint: {self.model} ({where})", verdict]
        out += _wrap("; ".join(self.notes), "", "") if self.notes else []
        if not self.layers:
            ops = ", ".join(f"{k} x{v}" for k, v in sorted(self.op_counts.items(), key=lambda kv: -kv[1]))
            out += _wrap(f"no up-sampling layer (ConvTranspose, Resize/Upsample, DepthToSpace/PixelShuffle, "
                         f"MaxUnpool) found; ops: {ops or 'none'}", "", "")
            return out
        out += [""] + _summary_table(order) + [""]
        for layer in order:
            out += _layer_lines(layer) + [""]
        if self.figures:
            out += ["figures: " + ", ".join(self.figures)]
        return out[:-1] if out[-1] == "" else out


def _summary_table(layers: list[LayerReport]) -> list[str]:
    rows = [["", "layer", "op", "in -> out", "overlap", "DC spread", "findings"]]
    for L in layers:
        status = "FLAG" if L.flagged else ("skip" if L.skipped else "ok")
        ratio = (L.geometry or {}).get("overlap_ratio")
        spread = (L.weights or {}).get("max_relative_spread")
        codes = ",".join(dict.fromkeys(f.code for f in L.findings)) or "-"
        shapes = f"{_dims(L.in_shape)} -> {_dims(L.out_shape)}" if L.in_shape and L.out_shape else "?"
        rows.append([status, L.name, L.source_op, shapes, _num(ratio), _num(spread), codes])
    widths = [max(len(r[j]) for r in rows) for j in range(len(rows[0]))]
    fmt = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    return [fmt(rows[0]), "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows[1:]]


def _layer_lines(L: LayerReport) -> list[str]:
    status = "FLAGGED" if L.flagged else ("SKIPPED" if L.skipped else "ok")
    shapes = f"{_dims(L.in_shape)} -> {_dims(L.out_shape)}" if L.in_shape and L.out_shape else "sizes unknown"
    out = [f"[{status}] {L.name}  ({L.source_op}, {shapes})"]
    row = lambda key, text: _wrap(text, f"  {key:<11} ", " " * 14)  # noqa: E731
    if L.attributes:
        out += row("attributes", " ".join(f"{k}={_attr(v)}" for k, v in L.attributes.items()))
    if L.skipped:
        return out + row("skipped", L.skipped)
    if L.upconv_call:
        out += row("upconv", L.upconv_call)
    out += row("torch", L.torch_call or f"none: {L.torch_note}")
    g = L.geometry or {}
    if "overlap_ratio" in g:
        tiles = " x ".join(str(t) for t in g.get("tile_per_axis", []))
        out += row("overlap", f"ratio {_num(g['overlap_ratio'])} (per axis "
                              f"{', '.join(_num(r) for r in g.get('overlap_ratio_per_axis', []))}); stamp tile "
                              f"{tiles}; period {'x'.join(map(str, g.get('period', [])))}")
    if "unreached" in g:
        miss = [f"axis {i}: {u['count']} at {u['positions']}" for i, u in enumerate(g["unreached"]) if u["count"]]
        out += row("unreached", "; ".join(miss) if miss else "none (every output gets a tap)")
    if "borders" in g:
        out += row("borders", "even" if all(b["even"] for b in g["borders"]) else "uneven; stamps missing, from "
                   "each border inwards: " + "; ".join(
                       f"axis {i}: start {b['begin'] or 'none'}, end {b['end'] or 'none'}"
                       for i, b in enumerate(g["borders"]) if not b["even"]))
    if g.get("stack"):
        st = g["stack"]
        chain = " -> ".join(f"k{_axes(x['kernel_size'])} s{_axes(x['stride'])}" for x in st["layers"])
        out += row("stack", f"{chain}: combined overlap ratio {_num(st['overlap_ratio'])}")
    if "scales" in g:
        out += row("scales", ", ".join(_num(x) for x in g["scales"]))
    if "repeats_per_axis" in g:
        out += row("repeats", "; ".join(f"axis {i + 2}: each input row {lo} to {hi} times" if lo != hi else
                                        f"axis {i + 2}: each input row {lo} times"
                                        for i, (lo, hi) in enumerate(g["repeats_per_axis"])))
    if "sub_pixel_conv" in g:
        out += row("sub-pixel", f"{g['sub_pixel_conv']} then blocksize {g['blocksize']}")
    if "equivalent_conv_transpose" in g:
        e = g["equivalent_conv_transpose"]
        out += row("as convT", f"kernel {_axes(e['kernel_size'])}, stride {_axes(e['stride'])}, padding "
                               f"{e['padding']} (the equal transposed convolution)")
    if "filled_fraction" in g:
        out += row("unpool", f"default size {_dims(g['default_size'])}, output {_dims(g['output_size'])}, "
                             f"{_num(g['filled_fraction'])} of the outputs filled")
    w = L.weights
    if w:
        if "max_relative_spread" in w:
            energy = w.get("stride_frequency_energy")
            out += row("weights", f"DC-gain spread over the phases up to {_num(w['max_relative_spread'])} x the "
                                  f"layer's DC gain (channel {w['worst_channel']}; "
                                  f"{w['channels_over_threshold']} of {len(w['relative_spread'])} channels over "
                                  f"the threshold); stride-frequency energy of the flat response {_num(energy)}")
        elif "note" in w:
            out += row("weights", w["note"])
    for f in L.findings:
        mark = "x" if f.severity == "flag" else "-"
        out += _wrap(f"{f.code}: {f.message}", f"  {mark} ", "    ")
    if L.replay:
        r = L.replay
        if r.get("skipped"):
            out += row("replay", f"skipped: {r['skipped']}")
        else:
            out += row("replay", f"max abs {r['max_abs_diff']:.3g}, max rel {r['max_rel_diff']:.3g} vs "
                                 f"{r['reference']} ({r['input']} input)")
    if L.suggestion:
        out += row("suggestion", L.suggestion["summary"])
        out += ["      " + line for line in L.suggestion["torch"].splitlines()]
    return out


def _wrap(text: str, first: str, rest: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False) or [first]


def _dims(shape: Any) -> str:
    return "?" if shape is None else "x".join(map(str, shape))


def _axes(v: list[int]) -> str:
    return str(v[0]) if len(set(v)) == 1 else "x".join(map(str, v))


def _attr(v: Any) -> str:
    return f'"{v}"' if isinstance(v, str) else str(v)


def _num(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, str):
        return x
    if isinstance(x, float) and math.isinf(x):
        return "inf"
    return str(int(x)) if float(x) == int(x) else f"{x:.3g}"


def _shape(shape: Any) -> list[int] | None:
    return None if shape is None else [int(x) for x in shape]


def _jsonable(value: Any) -> Any:
    """Tuples to lists, NumPy scalars to Python numbers, infinities to ``"inf"``."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item() if getattr(value, "ndim", 0) == 0 else value.tolist()
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value


_NUM = {"oneOf": [{"type": "number"}, {"enum": ["inf"]}]}

#: The JSON document of ``upconv lint --json`` / ``LintReport.to_dict()`` (JSON Schema, draft 2020-12).
JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["schema", "model", "source", "opset", "inputs", "flagged", "summary", "thresholds", "replayed",
                 "notes", "op_counts", "layers", "figures"],
    "properties": {
        "schema": {"const": SCHEMA_ID},
        "model": {"type": "string"},
        "source": {"enum": ["onnx", "torch", "state_dict"]},
        "opset": {"type": ["integer", "null"]},
        "inputs": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "integer"}}},
        "flagged": {"type": "boolean"},
        "summary": {"type": "object", "required": ["layers", "flagged", "skipped"],
                    "additionalProperties": {"type": "integer"}},
        "thresholds": {"type": "object", "additionalProperties": {
            "type": "object", "required": ["value", "why"],
            "properties": {"value": {"type": "number"}, "why": {"type": "string"}}}},
        "replayed": {"type": "boolean"},
        "notes": {"type": "array", "items": {"type": "string"}},
        "op_counts": {"type": "object", "additionalProperties": {"type": "integer"}},
        "figures": {"type": "array", "items": {"type": "string"}},
        "layers": {"type": "array", "items": {
            "type": "object",
            "required": ["name", "op", "source_op", "attributes", "in_shape", "out_shape", "upconv_call",
                         "torch_call", "torch_note", "flagged", "skipped", "geometry", "weights", "findings",
                         "suggestion", "replay"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string"},
                "op": {"enum": ["conv_transpose", "resize", "depth_to_space", "max_unpool", "resize_conv"]},
                "source_op": {"type": "string"},
                "attributes": {"type": "object"},
                "in_shape": {"type": ["array", "null"], "items": {"type": "integer"}},
                "out_shape": {"type": ["array", "null"], "items": {"type": "integer"}},
                "upconv_call": {"type": ["string", "null"]},
                "torch_call": {"type": ["string", "null"]},
                "torch_note": {"type": ["string", "null"]},
                "flagged": {"type": "boolean"},
                "skipped": {"type": ["string", "null"]},
                "geometry": {"type": ["object", "null"], "properties": {
                    "overlap_ratio": _NUM,
                    "overlap_ratio_per_axis": {"type": "array", "items": _NUM},
                    "tile_per_axis": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
                    "period": {"type": "array", "items": {"type": "integer"}},
                    "unreached": {"type": "array", "items": {
                        "type": "object", "required": ["count", "positions"],
                        "properties": {"count": {"type": "integer"},
                                       "positions": {"type": "array", "items": {"type": "integer"}}}}},
                    "borders": {"type": "array", "items": {
                        "type": "object", "required": ["begin", "end", "even"],
                        "properties": {"begin": {"type": "array", "items": {"type": "integer"}},
                                       "end": {"type": "array", "items": {"type": "integer"}},
                                       "even": {"type": "boolean"}}}},
                    "stack": {"type": ["object", "null"], "required": ["layers", "overlap_ratio"],
                              "properties": {"overlap_ratio": _NUM,
                                             "overlap_ratio_so_far": {"type": "array", "items": _NUM},
                                             "layers": {"type": "array"}}},
                    "scales": {"type": "array", "items": {"type": "number"}},
                    "repeats_per_axis": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
                }},
                "weights": {"type": ["object", "null"], "properties": {
                    "relative_spread": {"type": "array", "items": {"type": "number"}},
                    "max_relative_spread": {"type": "number"},
                    "worst_channel": {"type": "integer"},
                    "channels_over_threshold": {"type": "integer"},
                    "dc_gain_per_phase_worst_channel": {"type": "array"},
                    "stride_frequency_energy": {"type": ["number", "null"]},
                    "note": {"type": "string"},
                }},
                "findings": {"type": "array", "items": {
                    "type": "object", "required": ["code", "severity", "message"], "additionalProperties": False,
                    "properties": {"code": {"type": "string"}, "severity": {"enum": ["flag", "note"]},
                                   "message": {"type": "string"}}}},
                "suggestion": {"type": ["object", "null"], "required": ["summary", "torch"],
                               "properties": {"summary": {"type": "string"}, "torch": {"type": "string"}}},
                "replay": {"type": ["object", "null"], "properties": {
                    "reference": {"type": "string"}, "input": {"enum": ["model", "random", "torch"]},
                    "max_abs_diff": {"type": "number"}, "max_rel_diff": {"type": "number"},
                    "skipped": {"type": "string"}}},
            },
        }},
    },
}
