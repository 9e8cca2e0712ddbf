"""Artifacts from geometry: stamp counts, unreached outputs, uneven borders and overlap periods.

The functions on one axis (:func:`stamp_counts`, :func:`unreached_positions`,
:func:`border_deficits`) are the library's (:mod:`upconv.shapes.stamps`,
which ``upconv.plan`` ranks with too), re-exported here;
:func:`minimal_period` is plain integer arithmetic on a tile.  :func:`conv_transpose_geometry_report` joins
them with :func:`upconv.overlap_ratio` and :func:`upconv.overlap_map` for one
layer.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from upconv.explain.overlap import overlap_map, overlap_ratio
from upconv.linter.thresholds import THRESHOLDS
from upconv.shapes.stamps import border_deficits, interior_counts, stamp_counts, unreached_positions

if TYPE_CHECKING:
    pass

__all__ = [
    "stamp_counts",
    "interior_counts",
    "unreached_positions",
    "border_deficits",
    "minimal_period",
    "overlap_summary",
    "conv_transpose_geometry_report",
    "stack_report",
]

#: Unreached positions listed per axis (the count is always exact).
MAX_LISTED = 8


def minimal_period(tile: Sequence[int]) -> int:
    """Smallest ``p`` with ``tile[r] == tile[r % p]`` for every ``r`` (``p`` divides ``len(tile)``).

    Examples
    --------
    >>> minimal_period([2, 1]), minimal_period([2, 2]), minimal_period([3, 2, 3, 2])
    (2, 1, 2)
    """
    a = np.asarray(tile)
    n = len(a)
    return next(p for p in range(1, n + 1) if n % p == 0 and np.array_equal(a, np.resize(a[:p], n)))


def overlap_summary(kernel_size: Sequence[int], stride: Sequence[int], dilation: Sequence[int]) -> dict[str, Any]:
    """``overlap_ratio`` (total), ``overlap_ratio_per_axis``, ``tile_per_axis`` and minimal ``period`` of a layer."""
    n = len(kernel_size)
    tiles = [overlap_map(kernel_size[i], stride[i], dilation=dilation[i]).tile.tolist() for i in range(n)]
    return {
        "overlap_ratio": _num(overlap_ratio(tuple(kernel_size), tuple(stride), dilation=tuple(dilation), ndim=n)),
        "overlap_ratio_per_axis": [_num(overlap_ratio(kernel_size[i], stride[i], dilation=dilation[i]))
                                   for i in range(n)],
        "tile_per_axis": tiles,
        "period": [minimal_period(t) for t in tiles],
    }


def conv_transpose_geometry_report(
    in_size: Sequence[int], params: dict[str, Any],
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Geometry of one transposed convolution: ``(geometry dict, [(code, message), ...])``.

    ``params`` as :class:`upconv.linter.graph.Node` ``conv_transpose``.
    The dict holds ``overlap_ratio`` (total), ``overlap_ratio_per_axis``,
    ``tile_per_axis`` (one period of stamp counts), ``period`` (minimal,
    per axis), ``unreached`` (per axis: ``{"count", "positions"}``) and
    ``borders`` (per axis: ``{"begin", "end", "even"}``).
    """
    k, s, d = params["kernel_size"], params["stride"], params["dilation"]
    pads, a = params["padding"], params["output_padding"]
    n = len(k)
    geometry = overlap_summary(k, s, d)
    ratio = math.inf if geometry["overlap_ratio"] == "inf" else geometry["overlap_ratio"]
    per_axis, tiles = geometry["overlap_ratio_per_axis"], geometry["tile_per_axis"]
    unreached, borders = [], []
    for i in range(n):
        args = (in_size[i], k[i], s[i], tuple(pads[i]), a[i], d[i])
        pos = unreached_positions(*args)
        unreached.append({"count": int(pos.size), "positions": [int(x) for x in pos[:MAX_LISTED]]})
        begin, end = border_deficits(*args)
        borders.append({"begin": begin, "end": end, "even": begin == end})
    geometry.update(unreached=unreached, borders=borders)
    findings = []
    if math.isinf(ratio):
        findings.append(("holes", f"overlap ratio inf: kernel {_axes(k)} with stride {_axes(s)} leaves output "
                                  f"phases without any stamp (tiles {tiles})"))
    elif ratio > THRESHOLDS["overlap_ratio"].value:
        findings.append(("overlap", f"overlap ratio {ratio:.4g} (per axis {', '.join(_txt(r) for r in per_axis)}"
                                    f"; stamp tiles {tiles}, period {_axes(geometry['period'])}): kernel "
                                    f"{_axes(k)} is not a multiple of stride {_axes(s)}"))
    missing = [(i, u) for i, u in enumerate(unreached) if u["count"]]
    if missing and not math.isinf(ratio):
        text = "; ".join(f"axis {i}: {u['count']} position(s) {_positions(u)}"
                         for i, u in missing)
        findings.append(("unreached", f"no kernel tap reaches {text}: they hold the bias only "
                                      f"(output_padding {_axes(a)} past the kernel)"))
    uneven = [(i, b) for i, b in enumerate(borders) if not b["even"]]
    if uneven:
        text = "; ".join(f"axis {i}: stamps missing from the start {b['begin'] or 'none'}, from the end "
                         f"{b['end'] or 'none'}" for i, b in uneven)
        findings.append(("uneven_border", f"uneven borders ({text})"))
    return geometry, findings


def _txt(r: float | str) -> str:
    return r if isinstance(r, str) else f"{r:.4g}"


def _positions(u: dict[str, Any]) -> str:
    listed = ", ".join(map(str, u["positions"])) + (", …" if u["count"] > len(u["positions"]) else "")
    return f"[{listed}]"


def stack_report(layers: Sequence[tuple[str, tuple[tuple[int, ...], ...]]], ndim: int) -> dict[str, Any]:
    """The combined overlap pattern of a stack on one path: ``{"layers", "overlap_ratio", "overlap_ratio_so_far"}``.

    ``layers`` are ``(name, (kernel_size, stride, dilation))``, first layer
    first; the ratios come from :func:`upconv.overlap_ratio` ``(layers=...)``.
    """
    specs = [spec for _, spec in layers]
    so_far = [_num(overlap_ratio(layers=specs[: j + 1], ndim=ndim)) for j in range(len(specs))]
    return {
        "layers": [{"name": name, "kernel_size": list(spec[0]), "stride": list(spec[1]), "dilation": list(spec[2])}
                   for name, spec in layers],
        "overlap_ratio": so_far[-1],
        "overlap_ratio_so_far": so_far,
    }


def _num(x: float) -> float | str:
    """JSON-able ratio: ``"inf"`` for infinity."""
    return "inf" if math.isinf(x) else float(x)


def _axes(t: Sequence[int]) -> str:
    return str(t[0]) if len(set(t)) == 1 else "x".join(map(str, t))
