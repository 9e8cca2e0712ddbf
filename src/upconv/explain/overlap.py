"""Geometry of the checkerboard: how many stamps cover each output pixel of a transposed convolution or a stack.

A stride-``s`` transposed convolution stamps a copy of its kernel at every
``s``-th output position; where the kernel size is not a multiple of the
stride, some output pixels receive more stamps than their neighbours, with
period ``s``.  :func:`overlap_map` counts the stamps (running
:func:`upconv.conv_transpose` on ones) for one layer or a stack of layers
(stride-1 layers included); :func:`overlap_ratio` is the ratio of the most to
the least covered interior pixel (1.0 = even coverage), computed per axis
and cached for the planner.

Coordinates: counts are given in *un-cropped* coordinates, where position
``j*s + t*d`` is tap ``t`` of input pixel ``j``; padding only crops, i.e.
rotates the period tile.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeGuard

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.explain.report import grid_text, number, table
from upconv.ops.convolution import conv_transpose

__all__ = ["Layer", "OverlapMap", "layer_stack", "overlap_map", "overlap_ratio", "stack_ratio", "verdict"]


# --------------------------------------------------------------------------
# ratios, tiles and verdicts (shared with the gradient pattern and the planner)


def _ratio(tile: np.ndarray) -> float:
    """``max / min`` of a tile of counts: 1.0 even, ``inf`` when some count is 0."""
    lo, hi = int(tile.min()), int(tile.max())
    return math.inf if lo == 0 else hi / lo


def verdict(ratio: float) -> str:
    """``"artifact-free"`` (ratio 1), ``"holes"`` (infinite ratio) or ``"checkerboard"``."""
    if ratio == 1.0:
        return "artifact-free"
    return "holes" if math.isinf(ratio) else "checkerboard"


def _tile(a: np.ndarray, interior: Sequence[tuple[int, int]], period: Sequence[int]) -> np.ndarray:
    """``tile[r] = a[i]`` for interior ``i`` with ``i % period == r`` (the interior holds >= 1 period)."""
    seg = a[tuple(slice(b, b + p) for (b, _), p in zip(interior, period, strict=False))]
    return np.roll(seg, tuple(b % p for (b, _), p in zip(interior, period, strict=False)), axis=tuple(range(a.ndim)))


def _smallest(length: Callable[[int], int], target: int) -> int:
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


def _axes(t: tuple[int, ...]) -> str:
    """``(3, 3) -> "3"``, ``(3, 4) -> "3x4"``."""
    return str(t[0]) if len(set(t)) == 1 else "x".join(map(str, t))


class Layer(NamedTuple):
    """One transposed-convolution layer of a stack, per-axis tuples (padding plays no part)."""

    kernel_size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]

    def __str__(self) -> str:
        return f"k{_axes(self.kernel_size)} s{_axes(self.stride)}" + (
            "" if set(self.dilation) == {1} else f" d{_axes(self.dilation)}"
        )


def _is_seq(x: object) -> TypeGuard[Sequence[Any] | np.ndarray]:
    return isinstance(x, (Sequence, np.ndarray)) and not isinstance(x, (str, bytes))


def layer_stack(func: str, kernel_size: int | Sequence[int] | None, stride: int | Sequence[int] | None,
                dilation: int | Sequence[int], layers: Sequence[Sequence[int | Sequence[int]]] | None,
                ndim: int | None) -> tuple[Layer, ...]:
    """``kernel_size, stride, dilation`` or ``layers``, as :func:`overlap_map` takes them, as :class:`Layer` s."""
    specs: list[tuple[int | Sequence[int], ...]]
    names: list[tuple[str, ...]]
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
                    f"{func}: layers[{j}] must be (kernel_size, stride) or (kernel_size, stride, dilation), "
                    f"got {spec!r}"
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
        Layer(*(v.int_tuple(x, n, func, name, minimum=1) for x, name in zip(spec, nm, strict=False)))
        for spec, nm in zip(specs, names, strict=False)
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


def _run_stack(layers: tuple[Layer, ...], in_size: tuple[int, ...],
               func: str) -> tuple[np.ndarray, tuple[tuple[int, int], ...]]:
    v.check_allocation((1, 1) + in_size, np.float64, func, "the all-ones input")
    x = np.ones((1, 1) + in_size)
    inner = tuple((0, i) for i in in_size)
    for L in layers:
        v.check_allocation(
            (1, 1) + shapes.conv_transpose_output_size(x.shape[2:], L.kernel_size, L.stride, 0, 0, L.dilation),
            np.float64, func, "the overlap map",
        )
        inner = shapes.conv_transpose_interior(x.shape[2:], L.kernel_size, L.stride, 0, 0, L.dilation,
                                               input_interior=inner)
        x = conv_transpose(x, np.ones((1, 1) + L.kernel_size), stride=L.stride, dilation=L.dilation,
                           method="zero_insertion")
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

    @property
    def verdict(self) -> str:
        """The geometry's verdict: ``"artifact-free"`` (even overlap), ``"checkerboard"`` or ``"holes"``.

        It is about geometry only: see :attr:`advice` for what the weights decide.
        """
        return verdict(self.ratio)

    @property
    def advice(self) -> str:
        """What the verdict means and what to change, in a few sentences.

        The verdict is about geometry (how evenly the kernel stamps overlap).
        Even overlap is necessary, not sufficient: the weights decide the rest,
        so an artifact-free geometry still says how to check them.
        """
        if self.artifact_free:
            return ("Even overlap: the geometry adds no checkerboard. The verdict is about geometry only: the "
                    "weights decide the rest, and random or learned weights of an even geometry still make one "
                    "when their DC gain differs between the stride phases (a flat input then gives a periodic "
                    "output); check them with upconv.dc_gain_spread(weight, stride), or initialise them with "
                    "upconv.resize_equivalent_kernel.")
        if math.isinf(self.ratio):
            return ("Some output pixels receive no stamp at all: a kernel smaller than the stride (or a dilation "
                    "that skips residues) leaves holes.")
        if len(self.layers) > 1:
            return "Uneven overlap remains after the whole stack: a checkerboard whatever the weights."
        L = self.layers[0]
        kernel = _axes(tuple(shapes.ceil_div(k, s) * s for k, s in zip(L.kernel_size, L.stride, strict=False)))
        return (f"Uneven overlap makes a checkerboard whatever the weights. The kernel size is not a multiple of "
                f"the stride: use kernel {kernel} (k % s == 0), resize-convolution "
                "(upconv.resize_equivalent_kernel), or a stride-1 layer after it.")

    def format_table(self) -> str:
        """Layers, period tile and ratio as plain text."""
        rows = [
            (j + 1, *("x".join(map(str, t)) for t in (L.kernel_size, L.stride, L.dilation)))
            for j, L in enumerate(self.layers)
        ]
        return "\n".join([
            f"overlap map of {' -> '.join(map(str, self.layers))} ({self.ndim}-d)",
            "\n".join(table(("layer", "kernel", "stride", "dilation"), rows)),
            f"period {'x'.join(map(str, self.period))}; interior tile (from a multiple of the period):",
            grid_text(self.tile),
            f"count min {self.min_count}, max {self.max_count}; "
            f"overlap ratio {number(self.ratio)} ({self.verdict} geometry)",
            self.advice,
        ])

    def __str__(self) -> str:
        return self.format_table()


def _overlap_map(layers: tuple[Layer, ...], in_size: tuple[int, ...] | None, func: str) -> OverlapMap:
    n = len(layers[0].kernel_size)
    period = tuple(math.prod(L.stride[a] for L in layers) for a in range(n))
    if in_size is None:  # two periods of interior: periodicity is visible and checkable
        in_size = tuple(_smallest(functools.partial(_interior_length, layers=layers, axis=a), 2 * period[a])
                        for a in range(n))
    else:
        for a in range(n):
            if _interior_length(in_size[a], layers, a) < period[a]:
                need = _smallest(functools.partial(_interior_length, layers=layers, axis=a), period[a])
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
    layers: Sequence[Sequence[int | Sequence[int]]] | None = None,
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
    stack = layer_stack(func, kernel_size, stride, dilation, layers, ndim)
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


def stack_ratio(stack: Sequence[tuple[Sequence[int], Sequence[int], Sequence[int]]]) -> float:
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
    layers: Sequence[Sequence[int | Sequence[int]]] | None = None,
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
    return stack_ratio(layer_stack("overlap_ratio", kernel_size, stride, dilation, layers, ndim))
