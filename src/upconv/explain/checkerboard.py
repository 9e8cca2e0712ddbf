"""Checkerboard analysis of transposed convolutions (Odena, Dumoulin & Olah, Distill 2016).

A stride-``s`` transposed convolution stamps a copy of its kernel at every
``s``-th output position.  When the stamps overlap unevenly (the kernel size
is not a multiple of the stride) some output pixels receive more stamps than
their neighbours, with period ``s``: the checkerboard.  This module measures
that, for layer geometries and for actual weights:

``overlap_map`` / ``overlap_ratio``
    How many input pixels' stamps cover each output pixel, for one layer or a
    stack of layers (stride-1 layers included), computed by running
    :func:`upconv.conv_transpose` on ones; the ratio of the most to the least
    covered interior pixel (1.0 = even coverage).
``dc_gain_spread``
    For actual weights: the response to a constant input, per output phase
    (residue class modulo the stride) and channel pair.  Zero spread iff a
    flat input gives a flat output.
``resize_equivalent_kernel``
    The transposed-convolution kernel equal to nearest upsampling followed by
    a convolution (zero spread by construction).
``stride_frequency_energy``
    Fraction of an output's spectral energy at the stride frequencies
    ``j/s``: the checkerboard seen in any array.
``input_gradient_pattern``
    The same overlap seen backwards: the input gradient of a strided
    convolution (Distill's "gradient artifacts").

Coordinates: counts and phases are given in *un-cropped* coordinates, where
position ``j*s + t*d`` is tap ``t`` of input pixel ``j``; padding only
crops, i.e. rotates the period tile.

References
----------
A. Odena, V. Dumoulin, C. Olah, "Deconvolution and Checkerboard Artifacts",
Distill, 2016.  https://distill.pub/2016/deconv-checkerboard/
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.ops.convolution import conv_transpose
from upconv.ops.resize_convolution import resize_equivalent_kernel

# Deviations below this many units of rounding of the largest magnitude: stride_frequency_energy sees a constant.
_FLAT_ULPS = 64

__all__ = [
    "Layer",
    "OverlapMap",
    "DCGainSpread",
    "GradientPattern",
    "overlap_map",
    "overlap_ratio",
    "dc_gain_spread",
    "resize_equivalent_kernel",
    "stride_frequency_energy",
    "input_gradient_pattern",
]


# --------------------------------------------------------------------------
# plain-text tables and grids (shared with upconv.plan)


def _format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Aligned plain-text table: numbers right-aligned, text left-aligned."""
    cells = [[str(h) for h in headers]] + [[_cell(c) for c in row] for row in rows]
    numeric = [
        all(isinstance(row[j], numbers.Number) for row in rows) if rows else False for j in range(len(headers))
    ]
    widths = [max(len(r[j]) for r in cells) for j in range(len(headers))]
    lines = []
    for r in cells:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(r, widths, numeric)]
        lines.append("  ".join(parts).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cell(c: Any) -> str:
    if isinstance(c, (float, np.floating)):
        return "inf" if math.isinf(c) else f"{c:.4g}"
    return str(c)


def _format_grid(a: np.ndarray) -> str:
    """An integer array as right-aligned rows (1-d: one row; n-d: 2-d slices)."""
    width = max(len(str(x)) for x in a.ravel())
    if a.ndim == 1:
        return " ".join(str(x).rjust(width) for x in a)
    if a.ndim == 2:
        return "\n".join(" ".join(str(x).rjust(width) for x in row) for row in a)
    return "\n".join(f"[{', '.join(map(str, idx))}, :, :]\n" + _format_grid(a[idx]) for idx in np.ndindex(*a.shape[:-2]))


def _ratio(tile: np.ndarray) -> float:
    lo, hi = int(tile.min()), int(tile.max())
    return math.inf if lo == 0 else hi / lo


def _verdict(ratio: float) -> str:
    if ratio == 1.0:
        return "artifact-free"
    return "holes" if math.isinf(ratio) else "checkerboard"


def _tile(a: np.ndarray, interior: Sequence[tuple[int, int]], period: Sequence[int]) -> np.ndarray:
    """``tile[r] = a[i]`` for interior ``i`` with ``i % period == r`` (the interior holds >= 1 period)."""
    seg = a[tuple(slice(b, b + p) for (b, _), p in zip(interior, period))]
    return np.roll(seg, tuple(b % p for (b, _), p in zip(interior, period)), axis=tuple(range(a.ndim)))


def _smallest(length, target: int) -> int:
    """Smallest n >= 1 with ``length(n) >= target`` (``length`` non-decreasing, unbounded)."""
    hi = 1
    while length(hi) < target:
        hi *= 2
    lo = hi // 2
    while hi - lo > 1:  # length(lo) < target <= length(hi) (lo = 0 stands for "too small")
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if length(mid) >= target else (mid, hi)
    return hi


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


# --------------------------------------------------------------------------
# layers


class Layer(NamedTuple):
    """One transposed-convolution layer of a stack, per-axis tuples (padding plays no part)."""

    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]

    def __str__(self) -> str:
        def f(t: tuple[int, ...]) -> str:
            return str(t[0]) if len(set(t)) == 1 else "x".join(map(str, t))

        return f"k{f(self.kernel_size)} s{f(self.stride)}" + ("" if set(self.dilation) == {1} else f" d{f(self.dilation)}")


def _is_seq(x: Any) -> bool:
    return isinstance(x, (Sequence, np.ndarray)) and not isinstance(x, (str, bytes))


def _layers(func: str, kernel_size: Any, stride: Any, dilation: Any, layers: Any, ndim: Any) -> tuple[Layer, ...]:
    """Normalise ``kernel_size, stride, dilation`` or ``layers`` to a tuple of :class:`Layer`."""
    if layers is None:
        if kernel_size is None or stride is None:
            raise TypeError(f"{func}: give kernel_size and stride, or layers=[(kernel_size, stride), ...]")
        specs = [(kernel_size, stride, dilation)]
        names = [("kernel_size", "stride", "dilation")]
    else:
        if kernel_size is not None or stride is not None or not (isinstance(dilation, int) and dilation == 1):
            raise ValueError(
                f"{func}: give either kernel_size, stride (and dilation) or layers, not both; "
                f"got kernel_size={kernel_size!r}, stride={stride!r}, dilation={dilation!r} and layers={layers!r}"
            )
        if not _is_seq(layers) or len(layers) == 0:
            raise TypeError(
                f"{func}: layers must be a non-empty sequence of (kernel_size, stride) or "
                f"(kernel_size, stride, dilation) tuples, got {layers!r}"
            )
        specs, names = [], []
        for j, spec in enumerate(layers):
            if not _is_seq(spec) or len(spec) not in (2, 3):
                raise ValueError(
                    f"{func}: layers[{j}] must be (kernel_size, stride) or (kernel_size, stride, dilation), got {spec!r}"
                )
            specs.append(tuple(spec) + ((1,) if len(spec) == 2 else ()))
            names.append(tuple(f"layers[{j}] {w}" for w in ("kernel_size", "stride", "dilation")))
    lengths = {len(x) for spec in specs for x in spec if _is_seq(x)}
    if ndim is None:
        if len(lengths) > 1:
            raise ValueError(f"{func}: the per-axis tuples must all have one length, got lengths {sorted(lengths)}")
        n = lengths.pop() if lengths else 1
    else:
        n = v.integer(ndim, func, "ndim", minimum=1)
    return tuple(
        Layer(*(v.int_tuple(x, n, func, name, minimum=1) for x, name in zip(spec, nm))) for spec, nm in zip(specs, names)
    )


@functools.lru_cache(maxsize=65536)
def _step(size: int, inner: tuple[int, int], k: int, s: int, d: int) -> tuple[int, tuple[int, int]]:
    """One layer on one axis: (output size, output interior)."""
    (b, e), = shapes.conv_transpose_interior((size,), k, s, 0, 0, d, input_interior=(inner,))
    return shapes.conv_transpose_output_size((size,), k, s, 0, 0, d)[0], (b, e)


def _interior_length(n0: int, layers: tuple[Layer, ...], axis: int) -> int:
    size, inner = n0, (0, n0)
    for L in layers:
        size, inner = _step(size, inner, L.kernel_size[axis], L.stride[axis], L.dilation[axis])
    return inner[1] - inner[0]


def _run_stack(layers: tuple[Layer, ...], in_size: tuple[int, ...], func: str):
    x = np.ones((1, 1) + in_size)
    inner = tuple((0, i) for i in in_size)
    for L in layers:
        v.check_allocation(
            (1, 1) + shapes.conv_transpose_output_size(x.shape[2:], L.kernel_size, L.stride, 0, 0, L.dilation),
            np.float64, func, "the overlap map",
        )
        inner = shapes.conv_transpose_interior(x.shape[2:], L.kernel_size, L.stride, 0, 0, L.dilation, input_interior=inner)
        x = conv_transpose(x, np.ones((1, 1) + L.kernel_size), stride=L.stride, dilation=L.dilation, method="zero_insertion")
    return np.rint(x[0, 0]).astype(np.int64), inner


# --------------------------------------------------------------------------
# overlap maps


@dataclass(frozen=True, eq=False)
class OverlapMap:
    """Stamp counts of a transposed convolution (or a stack) applied to ones with all-ones kernels.

    Attributes
    ----------
    layers : tuple of Layer
        The stack, first layer first.
    in_size : tuple of int
        Spatial size of the all-ones input used.
    counts : (*out_size) int64 ndarray
        ``counts[o]`` = number of paths from an input pixel to output ``o``
        (for one layer: how many input pixels' stamps cover ``o``), in
        un-cropped coordinates (no padding).
    interior : tuple of (begin, end)
        Per axis, the positions of ``counts`` unaffected by the borders
        (:func:`upconv.shapes.conv_transpose_interior` chained through the
        stack); there ``counts`` is periodic with period :attr:`period`.
    tile : (*period) int64 ndarray
        One period of the interior: ``tile[r] = counts[o]`` for interior
        ``o`` with ``o % period == r``, i.e. the tile starts at a multiple of
        the period, counted from the first tap of input pixel 0.
    """

    layers: tuple[Layer, ...]
    in_size: tuple[int, ...]
    counts: np.ndarray
    interior: tuple[tuple[int, int], ...]
    tile: np.ndarray

    @property
    def ndim(self) -> int:
        """Number of spatial axes."""
        return len(self.in_size)

    @property
    def period(self) -> tuple[int, ...]:
        """Product of the strides, per axis."""
        return self.tile.shape

    @property
    def interior_counts(self) -> np.ndarray:
        """``counts`` restricted to :attr:`interior`."""
        return self.counts[tuple(slice(b, e) for b, e in self.interior)]

    @property
    def max_count(self) -> int:
        """Largest interior count."""
        return int(self.tile.max())

    @property
    def min_count(self) -> int:
        """Smallest interior count."""
        return int(self.tile.min())

    @property
    def ratio(self) -> float:
        """Interior ``max / min`` count: 1.0 even, ``inf`` if some pixels get no stamp."""
        return _ratio(self.tile)

    @property
    def artifact_free(self) -> bool:
        """Whether every interior pixel receives the same number of stamps."""
        return self.ratio == 1.0

    def format_table(self) -> str:
        """Layers, period tile and ratio as plain text."""
        rows = [
            (j + 1, "x".join(map(str, L.kernel_size)), "x".join(map(str, L.stride)), "x".join(map(str, L.dilation)))
            for j, L in enumerate(self.layers)
        ]
        return "\n".join([
            f"overlap map of {' -> '.join(map(str, self.layers))} ({self.ndim}-d)",
            _format_table(("layer", "kernel", "stride", "dilation"), rows),
            f"period {'x'.join(map(str, self.period))}; interior tile (from a multiple of the period):",
            _format_grid(self.tile),
            f"count min {self.min_count}, max {self.max_count}; overlap ratio {_cell(self.ratio)} ({_verdict(self.ratio)})",
        ])

    def __str__(self) -> str:
        return self.format_table()


def _overlap_map(layers: tuple[Layer, ...], in_size: tuple[int, ...] | None, func: str) -> OverlapMap:
    n = len(layers[0].kernel_size)
    period = tuple(math.prod(L.stride[a] for L in layers) for a in range(n))
    if in_size is None:  # two periods of interior: periodicity is visible and checkable
        in_size = tuple(_smallest(lambda m, a=a: _interior_length(m, layers, a), 2 * period[a]) for a in range(n))
    else:
        for a in range(n):
            if _interior_length(in_size[a], layers, a) < period[a]:
                need = _smallest(lambda m, a=a: _interior_length(m, layers, a), period[a])
                raise ValueError(
                    f"{func}: in_size={in_size} is too small: on axis {a} the border-free interior is shorter than "
                    f"one period ({period[a]}); use in_size >= {need} on that axis"
                )
    counts, inner = _run_stack(layers, in_size, func)
    return OverlapMap(layers, in_size, _readonly(counts), inner, _readonly(_tile(counts, inner, period)))


def overlap_map(
    kernel_size: int | Sequence[int] | None = None,
    stride: int | Sequence[int] | None = None,
    *,
    dilation: int | Sequence[int] = 1,
    layers: Sequence[Sequence[Any]] | None = None,
    ndim: int | None = None,
    in_size: int | Sequence[int] | None = None,
) -> OverlapMap:
    """Count how many input pixels' stamps cover each output pixel of a transposed convolution.

    Runs :func:`upconv.conv_transpose` on an all-ones input with all-ones
    kernels, layer after layer, and reads one period of the border-free
    interior.

    Parameters
    ----------
    kernel_size, stride : int or sequence of ndim ints, optional
        One layer.  Exclusive with ``layers``.
    dilation : int or sequence of ndim ints, optional
        Dilation of that layer.
    layers : sequence of (kernel_size, stride) or (kernel_size, stride, dilation)
        A stack, first layer first; entries are ints or per-axis tuples.
        Stride-1 layers are allowed (and can even out a checkerboard).
    ndim : int, optional
        Number of spatial axes; default: the length of the per-axis tuples
        given, else 1.
    in_size : int or sequence of ndim ints, optional
        Size of the all-ones input; default: the smallest giving an interior
        of two periods.

    Returns
    -------
    OverlapMap
        ``counts``, ``interior``, ``tile`` (one interior period), ``ratio``.

    Raises
    ------
    TypeError, ValueError
        For invalid layers, or an ``in_size`` whose interior is shorter than
        one period.

    Notes
    -----
    For one layer, ``counts[o] = #{(j, t) : j*s + t*d = o, 0 <= t < k}``,
    i.e. in the interior the number of taps ``t`` with ``t*d = o (mod s)``;
    a stack composes these (the counts are path counts), with period
    ``prod(s)``.  For ``k % s == 0`` (and ``d = 1``) every pixel gets
    ``k / s`` stamps.  On ``n`` axes with a square kernel the tile is the
    outer product of the 1-d tiles.

    Examples
    --------
    >>> from upconv import overlap_map
    >>> overlap_map(3, 2).tile
    array([2, 1])
    >>> overlap_map(3, 2, ndim=2).tile
    array([[4, 2],
           [2, 1]])
    >>> overlap_map(layers=[(3, 2), (3, 2)]).tile
    array([3, 2, 3, 1])
    >>> overlap_map(layers=[(3, 2), (2, 1)]).ratio
    1.0
    """
    func = "overlap_map"
    stack = _layers(func, kernel_size, stride, dilation, layers, ndim)
    size = None if in_size is None else v.int_tuple(in_size, len(stack[0].kernel_size), func, "in_size", minimum=1)
    return _overlap_map(stack, size, func)


@functools.lru_cache(maxsize=16384)
def _tile_1d(stack: tuple[tuple[int, int, int], ...]) -> np.ndarray:
    """Interior period tile of a 1-d stack of ``(k, s, d)`` layers, layer by layer (prefixes cached).

    The previous tile repeated ``m`` times from index 0 equals the infinite
    (periodic) signal on its whole length; one :func:`upconv.conv_transpose`
    of it gives the next tile in its interior, with the phase kept.
    """
    if not stack:
        return _readonly(np.ones(1, dtype=np.int64))
    prev = _tile_1d(stack[:-1])
    k, s, d = stack[-1]
    period = prev.size

    def interior(m: int) -> int:
        _, (b, e) = _step(m * period, (0, m * period), k, s, d)
        return e - b

    m = _smallest(interior, period * s)
    x = np.tile(prev.astype(np.float64), m)[None, None]
    _, inner = _step(m * period, (0, m * period), k, s, d)
    y = conv_transpose(x, np.ones((1, 1, k)), stride=s, dilation=d, method="zero_insertion")
    return _readonly(_tile(np.rint(y[0, 0]).astype(np.int64), (inner,), (period * s,)))


def _ratio_nd(stack: Sequence[tuple[Sequence[int], Sequence[int], Sequence[int]]]) -> float:
    """Overlap ratio of a stack of per-axis ``(k, s, d)`` layers, from the cached 1-d tiles.

    All-ones kernels are separable: the n-d tile is the outer product of the
    per-axis 1-d tiles, so its max / min is the product of theirs.
    """
    n = len(stack[0][0])
    return math.prod(_ratio(_tile_1d(tuple((k[a], s[a], d[a]) for k, s, d in stack))) for a in range(n))


def overlap_ratio(
    kernel_size: int | Sequence[int] | None = None,
    stride: int | Sequence[int] | None = None,
    *,
    dilation: int | Sequence[int] = 1,
    layers: Sequence[Sequence[Any]] | None = None,
    ndim: int | None = None,
) -> float:
    """Interior max / min stamp count of a transposed convolution or a stack: 1.0 = artifact-free.

    Equal to ``overlap_map(...).ratio``, computed per axis and layer by layer
    (each layer an :func:`upconv.conv_transpose` of the previous period
    tile, repeated) and cached, so that rating many stacks is fast.  ``inf`` when some output pixels
    receive no stamp at all (kernel smaller than the stride, or a dilation
    that skips residues).

    Examples
    --------
    >>> from upconv import overlap_ratio
    >>> overlap_ratio(3, 2), overlap_ratio(3, 2, ndim=2), overlap_ratio(4, 2)
    (2.0, 4.0, 1.0)
    >>> overlap_ratio(layers=[(3, 2), (3, 1)])
    1.25
    """
    return _ratio_nd(_layers("overlap_ratio", kernel_size, stride, dilation, layers, ndim))


# --------------------------------------------------------------------------
# weights: polyphase DC gain


@dataclass(frozen=True, eq=False)
class DCGainSpread:
    """Polyphase DC gains of transposed-convolution weights.

    Attributes
    ----------
    gains : (C_in, C_out / groups, *stride) float64 ndarray
        ``gains[ci, co, r]`` = sum of the taps ``w[ci, co, t]`` with
        ``t*d = r (mod s)`` (per axis): the interior output of phase ``r``
        (un-cropped coordinates) for a constant 1 in input channel ``ci``.
    spread : (C_in, C_out / groups) float64 ndarray
        ``max_r gains - min_r gains`` per channel pair.
    relative_spread : (C_in, C_out / groups) float64 ndarray
        ``spread / mean_r |gains|`` (0 where every gain is 0).
    stride, dilation : tuple of int
    tolerance : float
        Spreads up to this are rounding (``16 * eps(dtype) * max_pair sum|w|``).
    """

    gains: np.ndarray
    spread: np.ndarray
    relative_spread: np.ndarray
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    tolerance: float

    @property
    def max_spread(self) -> float:
        """Largest spread over the channel pairs."""
        return float(self.spread.max())

    @property
    def rms_spread(self) -> float:
        """Root mean square of the spreads over the channel pairs."""
        return float(np.sqrt(np.mean(self.spread**2)))

    @property
    def max_relative_spread(self) -> float:
        """Largest relative spread over the channel pairs."""
        return float(self.relative_spread.max())

    @property
    def response(self) -> np.ndarray:
        """``(C_out / groups, *stride)``: interior output per phase for a constant 1 in every input channel."""
        return self.gains.sum(axis=0)

    @property
    def response_spread(self) -> np.ndarray:
        """``(C_out / groups,)``: max - min over the phases of :attr:`response`."""
        r = self.response.reshape(self.response.shape[0], -1)
        return r.max(axis=1) - r.min(axis=1)

    @property
    def flat(self) -> bool:
        """Whether every channel pair maps a flat input to a flat output (spread within tolerance)."""
        return self.max_spread <= self.tolerance

    def format_table(self, max_pairs: int = 16) -> str:
        """Summary and the first ``max_pairs`` channel pairs as plain text."""
        n_ci, n_co = self.spread.shape
        g = self.gains.reshape(n_ci, n_co, -1)
        rows = [
            (ci, co, float(g[ci, co].min()), float(g[ci, co].max()), float(self.spread[ci, co]),
             float(self.relative_spread[ci, co]))
            for ci, co in list(np.ndindex(n_ci, n_co))[:max_pairs]
        ]
        lines = [
            f"polyphase DC gain, stride {'x'.join(map(str, self.stride))}, dilation "
            f"{'x'.join(map(str, self.dilation))}: {n_ci * n_co} channel pairs, {g.shape[2]} phases",
            _format_table(("c_in", "c_out", "min gain", "max gain", "spread", "relative"), rows),
        ]
        if n_ci * n_co > max_pairs:
            lines.append(f"... {n_ci * n_co - max_pairs} more pairs")
        lines.append(
            f"max spread {_cell(self.max_spread)}, rms {_cell(self.rms_spread)}, max relative "
            f"{_cell(self.max_relative_spread)}: " + ("flat in, flat out" if self.flat else "checkerboard on flat regions")
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format_table()


def _weight(func: str, weight: Any, name: str = "weight") -> tuple[np.dtype, np.ndarray]:
    dtype, (w,) = v.float_arrays(func, **{name: weight})
    return dtype, v.kernel_weight(func, w, name)


def dc_gain_spread(weight: Any, stride: int | Sequence[int], *, dilation: int | Sequence[int] = 1) -> DCGainSpread:
    r"""Polyphase DC gain of transposed-convolution weights: does a flat input give a flat output?

    Parameters
    ----------
    weight : (C_in, C_out / groups, *kernel_size) array_like
        Transposed-convolution weights (torch layout).
    stride, dilation : int or sequence of n ints
        The layer's stride and dilation.

    Returns
    -------
    DCGainSpread
        ``gains`` per (c_in, c_out, phase), ``spread`` and
        ``relative_spread`` per channel pair, aggregates ``max_spread``,
        ``rms_spread``, ``max_relative_spread`` and ``flat``.

    Raises
    ------
    TypeError, ValueError
        For a non-numeric weight, fewer than 3 dimensions, or invalid stride
        or dilation.

    Notes
    -----
    For a constant input ``c`` the interior output at un-cropped position
    ``o`` is ``c * sum_{t : t d = o (mod s)} w[t]``: the output takes one value
    per phase ``r = o mod s``,

    .. math:: G[c_i, c_o, r] = \sum_{t:\ t d \equiv r \ (\mathrm{mod}\ s)} w[c_i, c_o, t]

    and ``spread = max_r G - min_r G`` is zero for every pair iff the layer
    maps every per-channel constant input to a constant output.  Computed in
    float64.  Padding only relabels the phases.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv import dc_gain_spread
    >>> r = dc_gain_spread(np.ones((1, 1, 3)), 2)
    >>> r.gains, r.max_spread, r.flat
    (array([[[2., 1.]]]), 1.0, False)
    >>> dc_gain_spread(np.ones((1, 1, 4, 4)), 2).flat
    True
    """
    func = "dc_gain_spread"
    dtype, w = _weight(func, weight)
    n = w.ndim - 2
    s = v.int_tuple(stride, n, func, "stride", minimum=1)
    d = v.int_tuple(dilation, n, func, "dilation", minimum=1)
    g = w.astype(np.float64)
    for a, (k, s_, d_) in enumerate(zip(w.shape[2:], s, d)):
        onehot = np.zeros((k, s_))
        onehot[np.arange(k), (np.arange(k) * d_) % s_] = 1.0
        g = np.moveaxis(np.tensordot(g, onehot, axes=([2 + a], [0])), -1, 2 + a)
    phases = tuple(range(2, 2 + n))
    spread = g.max(axis=phases) - g.min(axis=phases)
    mean_abs = np.abs(g).mean(axis=phases)
    relative = np.divide(spread, mean_abs, out=np.zeros_like(spread), where=mean_abs > 0)
    scale = float(np.abs(w.astype(np.float64)).sum(axis=phases).max())
    tol = 16 * float(np.finfo(dtype).eps) * max(scale, np.finfo(np.float64).tiny)
    return DCGainSpread(_readonly(g), _readonly(spread), _readonly(relative), s, d, tol)


# --------------------------------------------------------------------------
# any output array: energy at the stride frequencies


def stride_frequency_energy(y: Any, stride: int | Sequence[int], axes: int | Sequence[int] | None = None) -> float:
    """Fraction of an array's spectral energy at the stride frequencies ``j/s``.

    Parameters
    ----------
    y : array_like
        Any real array, e.g. a transposed convolution's output.
    stride : int or sequence of ints
        Period of the suspected checkerboard, per analysed axis.
    axes : int or sequence of ints, optional
        Axes analysed.  Default: the last ``len(stride)`` axes when
        ``stride`` is a sequence; otherwise every axis of an array with at
        most 2 dimensions, and the spatial axes ``2, 3, ...`` of a
        ``(N, C, *spatial)`` array with 3 or more.

    Returns
    -------
    float
        In ``[0, 1]``: near 0 for smooth images, 1 for a pure period-``s``
        pattern; 0 for an array that is constant up to rounding (deviations
        below ``64 eps`` of its largest magnitude, with the ``eps`` of its
        dtype: float32's for float16 and float32, else float64's).

    Raises
    ------
    TypeError, ValueError
        For a non-numeric or non-finite ``y``, invalid ``axes`` or
        ``stride``, or an axis shorter than its stride.

    Notes
    -----
    Each analysed axis is cropped to a multiple of its stride, ``L' = s*floor(L/s)``,
    so that the frequencies ``j/s`` fall on FFT bins ``j L'/s``.  With ``P``
    the power ``|FFT(y - mean)|^2`` over the analysed axes (means taken per
    leading index), the result is ``sum P[j_1 L'_1/s_1, ..., j_n L'_n/s_n]``
    over ``0 <= j_a < s_a``, not all zero, divided by ``sum P``; leading
    axes are pooled.  A checkerboard ``m(o) * c(o)`` (``c`` of period ``s``)
    puts ``|sum m|^2``-weighted energy on those exact bins: the measure sees
    the checkerboard of the local mean (images: positive intensities); for an
    envelope ``m`` of zero mean the energy lands next to them and is not
    counted.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv import stride_frequency_energy
    >>> board = np.indices((8, 8)).sum(axis=0) % 2
    >>> stride_frequency_energy(board, 2)
    1.0
    >>> round(stride_frequency_energy(np.arange(64.0), 2), 4)
    0.0007
    """
    func = "stride_frequency_energy"
    _, (a,) = v.float_arrays(func, y=y)
    eps = float(np.finfo(a.dtype).eps)  # float16 and float32 input: float32's; float64: float64's
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        raise ValueError(f"{func}: y must have at least one axis, got a scalar")
    if axes is None:
        if _is_seq(stride):
            n = len(stride)
            if not 1 <= n <= a.ndim:
                raise ValueError(f"{func}: stride has {n} entries but y has {a.ndim} axes (shape {a.shape})")
            ax = tuple(range(a.ndim - n, a.ndim))
        else:
            ax = tuple(range(a.ndim)) if a.ndim <= 2 else tuple(range(2, a.ndim))
    else:
        raw = v.int_tuple(axes, len(axes) if _is_seq(axes) else 1, func, "axes")
        if not raw or any(not -a.ndim <= x < a.ndim for x in raw):
            raise ValueError(f"{func}: every entry of axes must be in [{-a.ndim}, {a.ndim - 1}] for y of shape {a.shape}, got {axes!r}")
        ax = tuple(x % a.ndim for x in raw)
        if len(set(ax)) != len(ax):
            raise ValueError(f"{func}: axes must not repeat an axis, got {axes!r}")
    s = v.int_tuple(stride, len(ax), func, "stride", minimum=1)
    for x, s_ in zip(ax, s):
        if a.shape[x] < s_:
            raise ValueError(f"{func}: axis {x} of y (length {a.shape[x]}) is shorter than its stride {s_}")
    crop = [slice(None)] * a.ndim
    for x, s_ in zip(ax, s):
        crop[x] = slice(0, a.shape[x] - a.shape[x] % s_)
    a = a[tuple(crop)]
    if not np.isfinite(a).all():
        raise ValueError(f"{func}: y must be finite (no inf or NaN): its spectrum is undefined")
    scale = float(np.abs(a).max(initial=0.0))
    a = a - a.mean(axis=ax, keepdims=True)
    power = np.abs(np.fft.fftn(a, axes=ax)) ** 2
    dc = [slice(None)] * a.ndim
    for x in ax:
        dc[x] = slice(0, 1)
    power[tuple(dc)] = 0.0  # the mean: removed above, up to rounding, which must not count
    total = float(power.sum())
    # Parseval: rounding alone (|a| ~ eps * scale per element) gives about size * prod(L) * (eps * scale)^2
    floor = a.size * math.prod(a.shape[x] for x in ax) * (_FLAT_ULPS * eps * scale) ** 2
    if total <= floor:
        return 0.0  # a constant array, up to rounding
    sub = power
    for x, s_ in zip(ax, s):
        sub = np.take(sub, np.arange(s_) * (a.shape[x] // s_), axis=x)
    return float(min(1.0, sub.sum() / total))


# --------------------------------------------------------------------------
# gradient artifacts


@dataclass(frozen=True, eq=False)
class GradientPattern:
    """Input gradient of a strided convolution with an all-ones kernel and an all-ones output gradient.

    Attributes
    ----------
    kernel_size, stride, padding, dilation : tuple of int
        The convolution (``padding`` per axis, symmetric).
    in_size : tuple of int
        Its input size.
    gradient : (*in_size) int64 ndarray
        ``dL/dx`` = how many windows cover each input pixel.
    interior : tuple of (begin, end)
        Positions unaffected by the borders.
    tile : (*stride) int64 ndarray
        ``tile[r] = gradient[i]`` for interior ``i`` with ``i % stride == r``
        (input coordinates).
    """

    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    in_size: tuple[int, ...]
    gradient: np.ndarray
    interior: tuple[tuple[int, int], ...]
    tile: np.ndarray

    @property
    def ratio(self) -> float:
        """Interior max / min of the gradient (1.0 = even)."""
        return _ratio(self.tile)

    def format_table(self) -> str:
        """The gradient, its interior tile and ratio as plain text."""
        def f(t: tuple[int, ...]) -> str:
            return "x".join(map(str, t))

        return "\n".join([
            f"input gradient of conv k{f(self.kernel_size)} s{f(self.stride)} p{f(self.padding)} d{f(self.dilation)} "
            f"on {f(self.in_size)} (all-ones kernel and output gradient):",
            _format_grid(self.gradient),
            "interior tile (from input index 0 modulo the stride):",
            _format_grid(self.tile),
            f"ratio {_cell(self.ratio)} ({_verdict(self.ratio)})",
        ])

    def __str__(self) -> str:
        return self.format_table()


def input_gradient_pattern(
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int],
    ndim: int | None = None,
    *,
    padding: int | Sequence[int] | None = None,
    dilation: int | Sequence[int] = 1,
    in_size: int | Sequence[int] | None = None,
) -> GradientPattern:
    """Input gradient of a strided convolution with all-ones kernel and output gradient.

    The gradient of :func:`upconv.conv` with respect to its input is
    :func:`upconv.conv_transpose` of the output gradient: the same uneven
    overlap that makes checkerboards in generators makes gradient artifacts
    in strided encoders and discriminators (Odena et al., 2016).

    Parameters
    ----------
    kernel_size, stride : int or sequence of ndim ints
    ndim : int, optional
        Number of spatial axes (default: from the tuples given, else 1).
    padding : int or sequence of ndim ints, optional
        The convolution's padding; default the begin of torch's ``"same"``
        padding, ``(d*(k-1)) // 2`` (k=3 -> 1).
    dilation : int or sequence of ndim ints, optional
    in_size : int or sequence of ndim ints, optional
        The convolution's input size; default: the smallest with an interior
        of two periods.

    Returns
    -------
    GradientPattern
        ``gradient``, ``interior``, ``tile``, ``ratio``.

    Raises
    ------
    TypeError, ValueError
        For invalid parameters, or an ``in_size`` whose interior is shorter
        than the stride.

    Examples
    --------
    >>> from upconv import input_gradient_pattern
    >>> input_gradient_pattern(3, 2, in_size=8).gradient
    array([1, 2, 1, 2, 1, 2, 1, 1])
    >>> input_gradient_pattern(3, 2).tile
    array([1, 2])
    """
    func = "input_gradient_pattern"
    (layer,) = _layers(func, kernel_size, stride, dilation, None, ndim)
    k, s, d = layer
    n = len(k)
    if padding is None:
        p = tuple(b for b, _ in shapes.same_padding(k, k, 1, d))  # in_size = k: only the kernel matters
    else:
        p = v.int_tuple(padding, n, func, "padding", minimum=0)

    def interior_length(m: int, a: int) -> int:
        try:
            o = shapes.conv_output_size((m,), k[a], s[a], p[a], d[a])
        except ValueError:  # kernel larger than the padded input
            return -1
        op = shapes.conv_transpose_output_padding((m,), o, k[a], s[a], p[a], d[a])
        (b, e), = shapes.conv_transpose_interior(o, k[a], s[a], p[a], op, d[a])
        return e - b

    if in_size is None:
        size = tuple(_smallest(lambda m, a=a: interior_length(m, a), 2 * s[a]) for a in range(n))
    else:
        size = v.int_tuple(in_size, n, func, "in_size", minimum=1)
        for a in range(n):
            if interior_length(size[a], a) < s[a]:
                need = _smallest(lambda m, a=a: interior_length(m, a), s[a])
                raise ValueError(
                    f"{func}: in_size={size} is too small: on axis {a} the border-free interior is shorter than "
                    f"the stride ({s[a]}); use in_size >= {need} on that axis"
                )
    out = shapes.conv_output_size(size, k, s, p, d)
    op = shapes.conv_transpose_output_padding(size, out, k, s, p, d)
    inner = shapes.conv_transpose_interior(out, k, s, p, op, d)
    grad = conv_transpose(np.ones((1, 1) + out), np.ones((1, 1) + k), stride=s, padding=p, dilation=d, output_size=size)
    grad = np.rint(grad[0, 0]).astype(np.int64)
    return GradientPattern(k, s, p, d, size, _readonly(grad), inner, _readonly(_tile(grad, inner, s)))
