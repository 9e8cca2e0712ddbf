"""The explorer's JSON endpoints as plain functions: parse a query, bound every size, call the library.

Nothing here imports a web framework (:mod:`upconv.web.app` wraps these in
an ASGI app), and nothing here computes a view: every number comes from
:mod:`upconv.explain.views`, :mod:`upconv.explain.describe`,
:mod:`upconv.explain.story` and :mod:`upconv.shapes`.

A query is a list of ``(name, value)`` pairs.  Only the names of
:data:`VIEW_PARAMETERS` (``/api/views``) and :data:`STORY_PARAMETERS`
(``/api/checkerboard``) are accepted, each at most once.  Sizes are checked
by :func:`upconv.shapes.conv_transpose_geometry` (the library's message,
e.g. a padding that leaves no output) and then against :data:`LIMITS`
before anything is computed.  Errors are :class:`RequestError` with an
HTTP status: 400 for an unknown, repeated or unreadable parameter, 422 for a
configuration the library refuses or one over the explorer's limits.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from upconv import shapes
from upconv.explain import describe, story, views

__all__ = ["LIMITS", "VIEW_PARAMETERS", "STORY_PARAMETERS", "ENDPOINTS", "RequestError", "Request", "parse",
           "views_payload", "steps_payload", "checkerboard_payload", "limits_payload", "handle"]

#: The explorer's bounds, checked before computing (the page is legible, and answers fast, within them).
LIMITS: dict[str, int] = {
    "dims": 2,                # 1-d or 2-d
    "size": 16,               # input pixels per axis
    "kernel_size": 8,         # kernel taps per axis
    "stride": 8,
    "padding": 16,
    "output_padding": 7,      # the library also requires output_padding < max(stride, dilation)
    "dilation": 4,
    "out_axis": 64,           # output pixels per axis
    "out_pixels": 1024,       # output pixels in all (32x32)
    "value": 1_000_000,       # |input and kernel values|
    "step_cells": 65536,      # stamps x canvas cells for playing the stamping (/api/steps; else refused)
    "jacobian_cells": 16384,  # input x output pixels of the dense Jacobian (else none)
    "layers": story.MAX_LAYERS,  # the checkerboard stack, this layer included
    "stack_period": 16,       # the stack's period (product of the strides) per axis
    "seed": 2**32 - 1,
    "query": 16384,           # characters in a query string
}

_CONFIG = ("dims", "size", "kernel_size", "stride", "padding", "output_padding", "dilation", "input", "kernel")
#: The parameters of ``/api/views`` and ``/api/steps`` (``/api/limits`` takes none).
VIEW_PARAMETERS: tuple[str, ...] = _CONFIG
#: The parameters of ``/api/checkerboard``: the configuration, the further layers, the weights and their seed.
STORY_PARAMETERS: tuple[str, ...] = _CONFIG + ("layers", "weights", "seed")
#: What each parameter holds (``/api/limits`` lists it for the page and the README).
PARAMETER_HELP: dict[str, str] = {
    "dims": "1 or 2 (default: the number of entries of size, else 2)",
    "size": "input size, one integer per axis or one for all (default 2)",
    "kernel_size": "kernel size, per axis or one for all (default 3)",
    "stride": "per axis or one for all (default 2)",
    "padding": "cropped from both ends, per axis or one for all (default 0)",
    "output_padding": "added at the end, per axis or one for all (default 0)",
    "dilation": "per axis or one for all (default 1)",
    "input": "the input values, comma-separated, row-major (default 1, 2, 3, ...)",
    "kernel": "the kernel values, comma-separated, row-major (default all ones)",
    "layers": "further layers of the checkerboard stack, K:S or K:S:D, comma-separated (at most 2)",
    "weights": "weights of the DC-gain map and the resize comparison: user or random (default user)",
    "seed": "seed of the random weights (default 0)",
}
_DEFAULTS = {"size": (2,), "kernel_size": (3,), "stride": (2,), "padding": (0,), "output_padding": (0,),
             "dilation": (1,)}


class RequestError(ValueError):
    """A request the explorer refuses: ``status`` (400 or 422), the message, and the parameter (or None)."""

    def __init__(self, status: int, message: str, parameter: str | None = None):
        super().__init__(message)
        self.status = status
        self.parameter = parameter

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of the error response."""
        return {"error": str(self), "parameter": self.parameter, "status": self.status}


@dataclass(frozen=True)
class Request:
    """A parsed, bounded configuration (per-axis tuples of ``dims`` ints, the values row-major)."""

    dims: int
    size: tuple[int, ...]
    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    output_padding: tuple[int, ...]
    dilation: tuple[int, ...]
    x: np.ndarray
    weight: np.ndarray
    layers: tuple[tuple[int, int, int], ...]
    weights: str
    seed: int

    @property
    def args(self) -> tuple[Any, ...]:
        """``(x, weight, stride, padding, output_padding, dilation)`` for the library."""
        return self.x, self.weight, self.stride, self.padding, self.output_padding, self.dilation


def _ints(name: str, text: str) -> tuple[int, ...]:
    parts = [t.strip() for t in text.split(",")]
    try:
        if not all(t and t.lstrip("+-").isdigit() and len(t) <= 12 for t in parts):
            raise ValueError
        return tuple(int(t) for t in parts)
    except ValueError:
        raise RequestError(400, f"parameter {name!r}: expected integers separated by commas, got {text!r}",
                           name) from None


def _per_axis(name: str, values: tuple[int, ...], dims: int) -> tuple[int, ...]:
    if len(values) == 1:
        return values * dims
    if len(values) != dims:
        expected = "1 integer" if dims == 1 else f"1 or {dims} integers (one per axis)"
        raise RequestError(400, f"parameter {name!r}: expected {expected}, got {len(values)}", name)
    return values


def _numbers(name: str, text: str, count: int) -> np.ndarray:
    parts = [t.strip() for t in text.split(",")]
    try:
        if any(len(t) > 32 for t in parts):
            raise ValueError
        values = np.array([float(t) for t in parts])
    except ValueError:
        raise RequestError(400, f"parameter {name!r}: expected numbers separated by commas, got {text[:80]!r}",
                           name) from None
    if len(values) != count:
        raise RequestError(422, f"parameter {name!r}: expected {count} values (row-major), got {len(values)}", name)
    bound = LIMITS["value"]
    if not np.all(np.isfinite(values)) or np.any(np.abs(values) > bound):
        raise RequestError(422, f"parameter {name!r}: values must be finite numbers of at most {bound:g} in "
                                f"magnitude", name)
    return values


def _layers(text: str) -> tuple[tuple[int, int, int], ...]:
    if not text.strip():
        return ()
    specs = []
    for spec in text.split(","):
        parts = spec.strip().split(":")
        if len(parts) not in (2, 3):
            raise RequestError(400, f"parameter 'layers': expected K:S or K:S:D (kernel, stride, dilation) "
                                    f"separated by commas, got {spec.strip()!r}", "layers")
        k, s, *d = (_ints("layers", p)[0] for p in parts)  # no commas inside a spec: one integer each
        specs.append((k, s, d[0] if d else 1))
    return tuple(specs)


def _query(pairs: Iterable[tuple[str, str]], allowed: tuple[str, ...]) -> dict[str, str]:
    query: dict[str, str] = {}
    total = 0
    for name, value in pairs:
        total += len(name) + len(value)
        if total > LIMITS["query"]:
            raise RequestError(400, f"the query is longer than {LIMITS['query']} characters")
        if name not in allowed:
            raise RequestError(400, f"unknown parameter {name[:40]!r}; the parameters are {', '.join(allowed)}",
                               name[:40])
        if name in query:
            raise RequestError(400, f"parameter {name!r} is given more than once", name)
        query[name] = value
    return query


def _bound(name: str, values: tuple[int, ...], what: str) -> None:
    limit = LIMITS[name]
    if max(values) > limit:
        raise RequestError(422, f"{name}={','.join(map(str, values))} is over the explorer's limit: {what} at most "
                                f"{limit} per axis", name)


def parse(pairs: Iterable[tuple[str, str]], allowed: tuple[str, ...] = VIEW_PARAMETERS) -> Request:
    """Read and bound a configuration; raises :class:`RequestError` (nothing is computed before the bounds).

    Examples
    --------
    >>> from upconv.web.api import parse
    >>> r = parse([("size", "3,2"), ("stride", "2,1")])
    >>> r.dims, r.size, r.kernel_size, r.stride, r.x.tolist()
    (2, (3, 2), (3, 3), (2, 1), [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    """
    q = _query(pairs, allowed)
    ints = {name: _ints(name, q[name]) if name in q else _DEFAULTS[name] for name in _DEFAULTS}
    if "dims" in q:
        dims = _ints("dims", q["dims"])[0] if "," not in q["dims"] else 0
        if dims not in (1, 2):
            raise RequestError(422, f"parameter 'dims': the explorer draws 1-d and 2-d configurations, "
                                    f"got {q['dims']!r}", "dims")
    elif "size" in q:
        dims = len(ints["size"]) if len(ints["size"]) in (1, 2) else 2  # more entries: the error names them
    else:
        dims = 2
    axes = {name: _per_axis(name, values, dims) for name, values in ints.items()}
    # the library's checks and messages first (a padding that leaves no output, a stride of 0, ...)
    try:
        geometry = shapes.conv_transpose_geometry(axes["size"], axes["kernel_size"], axes["stride"], axes["padding"],
                                                  axes["output_padding"], axes["dilation"], func="conv_transpose")
    except (TypeError, ValueError) as exc:
        raise RequestError(422, str(exc)) from None
    _bound("size", axes["size"], "input size")
    _bound("kernel_size", axes["kernel_size"], "kernel size")
    for name in ("stride", "padding", "output_padding", "dilation"):
        _bound(name, axes[name], name)
    out = geometry.in_size
    if max(out) > LIMITS["out_axis"] or math.prod(out) > LIMITS["out_pixels"]:
        raise RequestError(422, f"the output, {'x'.join(map(str, out))}, is over the explorer's limit: at most "
                                f"{LIMITS['out_axis']} per axis and {LIMITS['out_pixels']} pixels in all")
    size, k = axes["size"], axes["kernel_size"]
    x = (_numbers("input", q["input"], math.prod(size)) if "input" in q
         else np.arange(1.0, math.prod(size) + 1.0)).reshape(size)
    w = (_numbers("kernel", q["kernel"], math.prod(k)) if "kernel" in q else np.ones(math.prod(k))).reshape(k)
    layers = _layers(q.get("layers", ""))
    if len(layers) > LIMITS["layers"] - 1:
        raise RequestError(422, f"parameter 'layers': at most {LIMITS['layers'] - 1} further layers "
                                f"(a stack of {LIMITS['layers']}), got {len(layers)}", "layers")
    for ks, ss, ds in layers:
        for name, value in (("kernel_size", ks), ("stride", ss), ("dilation", ds)):
            if value > LIMITS[name]:
                raise RequestError(422, f"parameter 'layers': {name} {value} is over the explorer's limit "
                                        f"{LIMITS[name]}", "layers")
    period = max(axes["stride"]) * math.prod(s for _, s, _ in layers)
    if period > LIMITS["stack_period"]:
        raise RequestError(422, f"parameter 'layers': the stack's period (the product of the strides), {period}, "
                                f"is over the explorer's limit {LIMITS['stack_period']}", "layers")
    seed = _ints("seed", q["seed"])[0] if "seed" in q else 0
    if seed > LIMITS["seed"]:
        raise RequestError(422, f"parameter 'seed': at most {LIMITS['seed']}, got {seed}", "seed")
    return Request(dims, size, k, axes["stride"], axes["padding"], axes["output_padding"], axes["dilation"], x, w,
                   layers, q.get("weights", "user"), seed)


def _library(call: Callable[[], Any]) -> Any:
    """The library's refusal (ValueError, TypeError, MemoryError) as a 422 with its message."""
    try:
        return call()
    except (TypeError, ValueError, MemoryError) as exc:
        raise RequestError(422, str(exc)) from None


def _sizes(r: Request) -> tuple[int, int, int]:
    """Input pixels, output pixels and stamping-canvas cells of a parsed configuration."""
    g = shapes.conv_transpose_geometry(r.size, r.kernel_size, r.stride, r.padding, r.output_padding, r.dilation)
    return math.prod(r.size), math.prod(g.in_size), math.prod(shapes.stamping_canvas(g)[0])


def _steps_note(n_in: int, cells: int) -> str | None:
    if n_in * cells <= LIMITS["step_cells"]:
        return None
    return (f"{n_in} stamps on a canvas of {cells} cells: too many to play (at most {LIMITS['step_cells']} "
            f"stamp cells in all)")


def views_payload(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``/api/views``: the configuration, its size formula, the calls, the five views and their agreement.

    The stamping comes without its steps (``/api/steps`` has them, asked
    for when the page steps or plays it); ``steps`` says whether they can
    be had.  The gradient view keeps its Jacobian when input x output
    pixels are at most ``LIMITS["jacobian_cells"]``; ``notes`` says when
    something is left out.
    """
    start = time.perf_counter()
    r = parse(pairs, VIEW_PARAMETERS)
    n_in, n_out, cells = _sizes(r)
    jacobian = n_in * n_out <= LIMITS["jacobian_cells"]
    e = _library(lambda: views.explain_views(*r.args, steps=False, jacobian=jacobian))
    steps_note = _steps_note(n_in, cells)
    payload = e.to_dict()
    payload.update({
        "dims": r.dims,
        "formula": describe.size_formula(e.config).to_dict(),
        "calls": describe.config_calls(e.config).to_dict(),
        "agreement": describe.view_agreement(e),
        "steps": {"available": steps_note is None, "count": n_in},
        "notes": {
            "steps": steps_note,
            "jacobian": None if jacobian else (f"the Jacobian would have {n_in} x {n_out} entries (at most "
                                               f"{LIMITS['jacobian_cells']}): not built; the gradient is one VJP"),
        },
    })
    payload["elapsed_ms"] = round(1e3 * (time.perf_counter() - start), 2)
    return payload


def steps_payload(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``/api/steps``: the stamping view with every stamp, where it reaches and the partial sums (for playing it)."""
    start = time.perf_counter()
    r = parse(pairs, VIEW_PARAMETERS)
    n_in, _, cells = _sizes(r)
    note = _steps_note(n_in, cells)
    if note is not None:
        raise RequestError(422, note)
    view = _library(lambda: views.stamping_view(*r.args, steps=True))
    return {"stamping": view.to_dict(config=False), "elapsed_ms": round(1e3 * (time.perf_counter() - start), 2)}


def checkerboard_payload(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``/api/checkerboard``: overlap maps (layer and stack), DC gain, resize-convolution beside it."""
    start = time.perf_counter()
    r = parse(pairs, STORY_PARAMETERS)
    s = _library(lambda: story.checkerboard_story(*r.args, layers=r.layers, weights=r.weights, seed=r.seed))
    payload = s.to_dict()
    payload["elapsed_ms"] = round(1e3 * (time.perf_counter() - start), 2)
    return payload


def limits_payload(pairs: Iterable[tuple[str, str]] = ()) -> dict[str, Any]:
    """``/api/limits``: the bounds, the parameters of each endpoint and what they hold."""
    _query(pairs, ())
    return {"limits": dict(LIMITS), "parameters": PARAMETER_HELP,
            "endpoints": {"/api/views": list(VIEW_PARAMETERS), "/api/steps": list(VIEW_PARAMETERS),
                          "/api/checkerboard": list(STORY_PARAMETERS),
                          "/api/limits": []}}


#: The JSON endpoints by path.
ENDPOINTS: dict[str, Callable[[Iterable[tuple[str, str]]], dict[str, Any]]] = {
    "/api/views": views_payload,
    "/api/steps": steps_payload,
    "/api/checkerboard": checkerboard_payload,
    "/api/limits": limits_payload,
}


def handle(path: str, pairs: Iterable[tuple[str, str]]) -> tuple[int, dict[str, Any]]:
    """``(status, JSON body)`` of a GET of ``path`` with the query ``pairs``: 200, 400, 404 or 422.

    Examples
    --------
    >>> from upconv.web.api import handle
    >>> status, body = handle("/api/views", [("size", "2,2"), ("kernel_size", "3"), ("stride", "2")])
    >>> status, body["config"]["out_size"], body["formula"]["lines"][0]
    (200, [5, 5], 'H: (2 - 1)*2 - 2*0 + 1*(3 - 1) + 0 + 1 = 5')
    >>> handle("/api/views", [("padding", "5")])[1]["error"][:44]
    'conv_transpose: output size is too small: (-'
    >>> handle("/api/views", [("colour", "red")])[0]
    400
    """
    endpoint = ENDPOINTS.get(path)
    if endpoint is None:
        return 404, {"error": f"no endpoint {path[:80]!r}; the endpoints are {', '.join(ENDPOINTS)}",
                     "parameter": None, "status": 404}
    try:
        return 200, endpoint(pairs)
    except RequestError as exc:
        return exc.status, exc.to_dict()
