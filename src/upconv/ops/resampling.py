"""The separable interpolation engine behind :func:`upconv.interpolate` and :func:`upconv.resize`.

Resampling one axis from ``n_in`` to ``n_out`` samples is an :class:`AxisPlan`:
for every output position ``o`` a fixed number ``T`` of taps (source
positions ``index[t, o]``, already clamped into ``[0, n_in)``) and weights
``weight[t, o]``::

    y[..., o, ...] = sum_t weight[t, o] * x[..., index[t, o], ...]

in the compute dtype, summed in the order of the library being reproduced
(``AxisPlan.order``).  Nearest modes are one tap of weight 1, an exact
gather.  Windows of varying width (antialiasing, ``area``) are padded with
zero-weight taps (``AxisPlan.size`` says how many are real); a result with
a NaN, which they make of an inf, is computed again without them.  An N-d
resampling is one plan per axis, applied axis after axis (``None`` means
the axis is unchanged).

Integer and boolean data in a nearest mode is gathered (:func:`gather`,
dtype kept) and uint8 data in torch's fixed-point modes resampled in fixed
point (:func:`apply_fixed_point`); a :class:`Resampling` says which engine
a call runs, for the in-memory operators and their chunked versions alike.

This module holds the plan and the engines (:func:`apply`); the per-axis
"taps and weights" functions, one per library and mode, computed with the
floating-point arithmetic of each library, are in
:mod:`upconv.ops.resample_torch` (``torch.nn.functional.interpolate``) and
:mod:`upconv.ops.resample_onnx` (ONNX ``Resize``).  The heavy lifting is done
by compiled kernels (:mod:`upconv.kernels.interpolation`), loaded on first use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from upconv import _validate as v
from upconv.kernels.parallel import parallel_for
from upconv.shapes import ceil_div

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["AxisPlan", "SEQUENTIAL", "TORCH_FMA", "PAIRWISE", "apply", "schedule", "Schedule", "Pass", "check_tables",
           "gather", "apply_fixed_point",
           "Resampling", "GATHER", "FIXED_POINT", "FLOAT"]

# Bytes a plan costs per output position while it is built, for T taps: the per-axis tables (index and weight,
# 16 bytes a tap) and the coordinate temporaries of the plan functions (measured with tracemalloc over every
# torch and ONNX mode: at most 62 + 68 T bytes).
_TABLE_BYTES = (64, 72)


#: Summation orders of the taps (see :class:`AxisPlan`).
SEQUENTIAL, TORCH_FMA, PAIRWISE = 0, 1, 2


@dataclass(frozen=True)
class AxisPlan:
    """Taps and weights of a resampling along one axis.

    Attributes
    ----------
    index : (T, n_out) intp ndarray
        Source positions, clamped into ``[0, n_in)``; tap-major so that the
        kernels' inner loops over output positions are contiguous.
    weight : (T, n_out) ndarray
        Weights in the compute dtype.
    outside : (n_out,) bool ndarray or None
        Output positions whose source coordinate lies outside the input
        (ONNX ``tf_crop_and_resize``): they receive the fill value.
    order : int
        How the taps are summed: ``SEQUENTIAL`` (``w0*x0 + w1*x1 + ...``,
        every operation rounded), ``TORCH_FMA`` (torch's compiled kernels:
        ``fma(w0, x0, w1*x1)``, then ``fma(wt, xt, acc)``) or ``PAIRWISE``
        (numpy's pairwise summation, which ``ndarray.sum`` uses when the
        summed axis is the contiguous one; the same as sequential below 8
        taps).
    size : (n_out,) intp ndarray or None
        Taps of each output position that the library reproduced computes;
        the rest are zero-weight padding of varying windows (``None``: all
        ``T``).  Padding read an inf or NaN from ``x`` as ``0 * inf = NaN``,
        which the library never computes, so :func:`apply` computes a result
        with a NaN again without it (sequential order only).
    """

    index: npt.NDArray[np.intp]
    weight: npt.NDArray[np.floating[Any]]
    outside: npt.NDArray[np.bool_] | None = None
    order: int = 0
    size: npt.NDArray[np.intp] | None = None

    @property
    def n_out(self) -> int:
        return self.index.shape[1]

    def read_only(self) -> AxisPlan:
        """This plan with its arrays made read-only, so that a cache may share it between calls."""
        for a in (self.index, self.weight, self.outside, self.size):
            if a is not None:
                a.flags.writeable = False
        return self

    @classmethod
    def gather(cls, index: np.ndarray, dtype: np.dtype[Any], outside: npt.NDArray[np.bool_] | None = None) -> AxisPlan:
        """One tap of weight 1 per output position (nearest modes): an exact copy."""
        index = np.ascontiguousarray(index, dtype=np.intp).reshape(1, -1)
        return cls(index, np.ones(index.shape, dtype=dtype), outside, SEQUENTIAL)

    @classmethod
    def taps(cls, index: np.ndarray, weight: np.ndarray, n_in: int, dtype: np.dtype[Any],
             outside: npt.NDArray[np.bool_] | None = None, order: int = SEQUENTIAL,
             size: np.ndarray | None = None) -> AxisPlan:
        """Plan from ``(n_out, T)`` indices (clamped here) and weights; ``size``: the real taps per output."""
        index = np.clip(np.asarray(index), 0, n_in - 1)
        if size is not None:
            size = np.asarray(size, dtype=np.intp)
            if (size >= index.shape[1]).all():
                size = None  # no padding
        return cls(
            np.ascontiguousarray(index.T, dtype=np.intp),
            np.ascontiguousarray(np.asarray(weight).T, dtype=dtype),
            outside,
            order,
            size,
        )


def check_tables(func: str, n_in: int, n_out: int, taps: int, reach: float = 1.0) -> None:
    """MemoryError before a plan of ``n_out`` positions is built, if its tables would pass the memory limit.

    ``taps`` is the filter's tap count at scale 1; ``reach``, how many input samples one output's filter
    spans per tap (antialiased down-sampling widens it by ``n_in / n_out``).
    """
    t = 2 * math.ceil(taps / 2 * max(1.0, reach)) + 1 if reach > 1 else taps
    per_output = _TABLE_BYTES[0] + _TABLE_BYTES[1] * t
    v.check_allocation((n_out, per_output), np.uint8, func, f"the interpolation tables ({n_in} -> {n_out}, {t} taps)")


# --------------------------------------------------------------------------
# the engine


@dataclass(frozen=True)
class Pass:
    """One kernel launch of :func:`apply`: one axis (``"rows"``: the last, ``"axis"``: another), or the
    last two axes fused (``"fused"``: ``plan`` the last axis', ``plan_b`` the second last's).  ``source``
    and ``target`` are the views the kernel takes of its input and its result, ``shape`` the result's
    shape, ``items`` its work items, ``block`` the fused kernel's output rows per item."""

    kernel: str
    plan: AxisPlan
    plan_b: AxisPlan | None
    shape: tuple[int, ...]
    source: tuple[int, ...]
    target: tuple[int, ...]
    items: int
    block: int
    cost_ns: float
    fills: bool


@dataclass(frozen=True)
class Schedule:
    """The passes :func:`apply` makes over an input of one shape: worked out once per plan and shape
    (:meth:`Resampling.run` keeps it), since on a small call that costs more than the arithmetic
    (benchmarks/README.md, "Small calls")."""

    out_shape: tuple[int, ...]
    passes: tuple[Pass, ...]
    padded: bool  # a plan has zero-weight padding taps (AxisPlan.size): a result with a NaN is redone


def schedule(shape: tuple[int, ...], itemsize: int, plans: Sequence[AxisPlan | None], order: Sequence[int]) -> Schedule:
    """The passes of :func:`apply` for an input of ``shape`` (``itemsize`` bytes an element)."""
    out_shape = tuple(p.n_out if p is not None else s for p, s in zip(plans, shape, strict=True))
    todo = [(a, p) for a in order if (p := plans[a]) is not None]  # (axis, its plan) in order
    passes = []
    y, r, i = tuple(shape), len(shape), 0
    while i < len(todo):
        a, pa = todo[i]
        nxt, pb = todo[i + 1] if i + 1 < len(todo) else (None, None)
        if (a == r - 1 and nxt == r - 2 and pb is not None and pa.outside is None and pb.outside is None
                and pa.order == pb.order):
            out = y[:-2] + (pb.n_out, pa.n_out)
            source = (math.prod(y[:-2]),) + y[-2:]
            block = _row_block(source, out[-1], pb.n_out, itemsize)
            passes.append(Pass("fused", pa, pb, out, source, (source[0],) + out[-2:],
                               source[0] * ceil_div(pb.n_out, block),  # (plane, block of output rows)
                               block, math.prod(out) * (pa.index.shape[0] + pb.index.shape[0]), False))
            y, i = out, i + 2
            continue
        out = y[:a] + (pa.n_out,) + y[a + 1:]
        outer, inner = math.prod(y[:a]), math.prod(y[a + 1:])
        fills = pa.outside is not None and bool(pa.outside.any())
        cost = math.prod(out) * pa.index.shape[0]
        if inner == 1:
            passes.append(Pass("rows", pa, None, out, (outer, y[a]), (outer, pa.n_out), outer, 0, cost, fills))
        else:
            passes.append(Pass("axis", pa, None, out, (outer, y[a], inner), (outer, pa.n_out, inner),
                               outer * pa.n_out, 0, cost, fills))
        y, i = out, i + 1
    return Schedule(out_shape, tuple(passes), any(p.size is not None for _, p in todo))


def apply(
    x: np.ndarray,
    plans: Sequence[AxisPlan | None],
    order: Sequence[int],
    func: str,
    fill: float = 0.0,
    passes: Schedule | None = None,
) -> np.ndarray:
    """Apply one plan per axis of ``x`` in ``order``; returns a new C-contiguous array.

    ``plans[a]`` resamples axis ``a`` of ``x`` (``None``: unchanged); ``x``
    must already be in the compute dtype, which is also the weights' dtype.
    When the two last axes come first in ``order`` (last, then second last)
    they are done by one fused kernel that keeps the intermediate rows in
    cache; the result is bit-identical to two separate passes.  ``passes``:
    :func:`schedule` of these plans for ``x``'s shape, when the caller keeps it.
    """
    sched = schedule(x.shape, x.itemsize, plans, order) if passes is None else passes
    v.check_allocation(sched.out_shape, x.dtype, func, "the output")
    if not sched.passes:
        return np.array(x, order="C", copy=True)
    if math.prod(sched.out_shape) == 0 or x.size == 0:
        return np.zeros(sched.out_shape, dtype=x.dtype)
    from upconv.kernels import interpolation as k

    y = np.ascontiguousarray(x)
    last = sched.passes[-1]
    for p in sched.passes:
        if p is not last:  # (the last pass makes the output, checked above)
            v.check_allocation(p.shape, y.dtype, func, "an intermediate result")
        out = np.empty(p.shape, dtype=y.dtype)
        pa, src, dst = p.plan, y.reshape(p.source), out.reshape(p.target)
        if p.plan_b is not None:
            parallel_for(k.fused_last_two, p.items, src, p.plan_b.index, p.plan_b.weight, pa.index, pa.weight,
                         dst, p.block, pa.order, cost_ns=p.cost_ns)
        else:
            kernel = k.along_rows if p.kernel == "rows" else k.along_axis
            parallel_for(kernel, p.items, src, pa.index, pa.weight, dst, pa.order, cost_ns=p.cost_ns)
            if p.fills:
                out.reshape(p.target[0], p.target[1], -1)[:, pa.outside, :] = fill
        y = out
    if sched.padded:
        with np.errstate(invalid="ignore", over="ignore"):  # a sum overflowing both ways costs the slow path
            if np.isnan(np.add.reduce(y, axis=None)):
                return _apply_without_padding(x, plans, [a for a in order if plans[a] is not None], func, fill)
    return y


def gather(x: np.ndarray, plans: Sequence[AxisPlan | None], func: str, fill: float = 0.0) -> np.ndarray:
    """Nearest plans (one tap of weight 1 each) applied by indexing: exact for every dtype; a new array."""
    out_shape = tuple(p.n_out if p is not None else s for p, s in zip(plans, x.shape, strict=True))
    v.check_allocation(out_shape, x.dtype, func, "the output")
    y = x
    for a, p in enumerate(plans):
        if p is None:
            continue
        y = np.take(y, p.index[0], axis=a)
        if p.outside is not None and p.outside.any():
            y[(slice(None),) * a + (p.outside,)] = np.asarray(fill).astype(x.dtype)
    return np.array(y, copy=True) if y is x else y


def apply_fixed_point(x: np.ndarray, steps: Sequence[tuple[int, tuple[np.ndarray, np.ndarray, int]]],
                      func: str) -> npt.NDArray[np.uint8]:
    """torch's uint8 resampling: per ``(axis, (index, weight, bits))`` in order, int16 weights, rounded shift.

    Each pass rounds to uint8 (``clip((sum_t w_t x_t + 2**(bits-1)) >> bits, 0, 255)``), as torch (and
    Pillow) store the intermediate image in uint8.
    """
    y = x
    for axis, (index, weight, bits) in steps:
        moved = np.moveaxis(y, axis, -1)
        v.check_allocation(moved.shape[:-1] + (index.shape[0],), np.int64, func, "the fixed-point accumulator")
        acc = np.full(moved.shape[:-1] + (index.shape[0],), 1 << (bits - 1), dtype=np.int64)
        for t in range(index.shape[1]):
            acc += weight[:, t] * moved[..., index[:, t]]
        y = np.moveaxis(np.clip(acc >> bits, 0, 255).astype(np.uint8), -1, axis)
    return np.ascontiguousarray(y) if y is not x else x.copy()


#: The engines of a :class:`Resampling`.
GATHER, FIXED_POINT, FLOAT = "gather", "fixed_point", "float"


@dataclass(frozen=True)
class Resampling:
    """A validated, planned interpolation, ready to run on the whole input or on a window of it.

    :func:`upconv.ops.interpolation.interpolate_resampling` and
    :func:`~upconv.ops.interpolation.resize_resampling` make it from the
    input's shape and dtype; the in-memory operators run it on the array,
    :mod:`upconv.ops.chunked_resample` on every block (with tables cut by
    :meth:`part`): one dtype policy, one engine for both.

    Attributes
    ----------
    engine : {GATHER, FIXED_POINT, FLOAT}
        ``GATHER``: integer and boolean data in a nearest mode, copied by
        :func:`gather` (exact, dtype kept); ``FIXED_POINT``: uint8 data in
        the modes torch resamples in fixed point (:func:`apply_fixed_point`,
        uint8); ``FLOAT``: :func:`apply` in ``compute``, cast to ``dtype``.
    dtype : numpy.dtype
        The result's dtype.
    compute : numpy.dtype
        The float engine's dtype (that of the plans' weights).
    tables : tuple or None
        Per axis of the input, what resamples it: an :class:`AxisPlan`
        (gather, float) or fixed-point taps ``(index, weight, bits)``
        (``(n_out, T)`` tables, :func:`apply_fixed_point`); None where the
        axis is unchanged.  None when the output is empty.
    order : tuple of int
        The axes resampled one after the other (float and fixed point).
    out_shape : tuple of int
        The shape of the whole output.
    fill : float
        The value of outputs outside the input (ONNX ``tf_crop_and_resize``).
    """

    engine: str
    dtype: np.dtype[Any]
    compute: np.dtype[Any]
    tables: tuple[Any, ...] | None
    order: tuple[int, ...]
    out_shape: tuple[int, ...]
    fill: float = 0.0

    def reads(self, axis: int) -> np.ndarray | None:
        """``(T, n_out)``: the input positions every output along ``axis`` reads; None for an unchanged axis."""
        t = None if self.tables is None else self.tables[axis]
        if t is None:
            return None
        return t.index if isinstance(t, AxisPlan) else t[0].T

    def part(self, axis: int, start: int, stop: int, read_start: int) -> Any:
        """The table of the outputs ``[start, stop)`` along ``axis``, its taps counted from ``read_start``."""
        assert self.tables is not None
        t, cut = self.tables[axis], slice(start, stop)
        if isinstance(t, AxisPlan):
            return AxisPlan(np.ascontiguousarray(t.index[:, cut] - read_start), np.ascontiguousarray(t.weight[:, cut]),
                            None if t.outside is None else t.outside[cut], t.order,
                            None if t.size is None else t.size[cut])
        index, weight, bits = t
        return np.ascontiguousarray(index[cut] - read_start), np.ascontiguousarray(weight[cut]), bits

    def window(self, tables: Sequence[Any]) -> Resampling:
        """This resampling of a window of the input: ``tables`` from :meth:`part` (None where unchanged)."""
        return replace(self, tables=tuple(tables))

    def run(self, x: np.ndarray, func: str) -> np.ndarray:
        """Resample ``x`` (the input, or the window the tables were cut for); a new array of dtype ``dtype``."""
        if self.tables is None:
            v.check_allocation(self.out_shape, self.dtype, func, "the output")
            return np.zeros(self.out_shape, dtype=self.dtype)
        if self.engine == GATHER:
            return gather(x, self.tables, func, self.fill)
        if self.engine == FIXED_POINT:
            return apply_fixed_point(x, [(a, self.tables[a]) for a in self.order], func)
        if x.dtype != self.compute:
            v.check_allocation(x.shape, self.compute, func, f"the {self.compute} copy of x")
            x = x.astype(self.compute)
        kept = self.__dict__.get("_schedule")  # (shape, Schedule): a memoized plan runs on one shape
        if kept is None or kept[0] != x.shape:
            kept = (x.shape, schedule(x.shape, x.itemsize, self.tables, self.order))
            self.__dict__["_schedule"] = kept  # a cache beside the frozen fields, as functools.cached_property
        return apply(x, self.tables, self.order, func, self.fill, kept[1]).astype(self.dtype, copy=False)


def _apply_without_padding(x: np.ndarray, plans: Sequence[AxisPlan | None], todo: Sequence[int], func: str,
                           fill: float) -> np.ndarray:
    """:func:`apply` axis by axis, skipping the padding taps past each output's ``size`` (NumPy; slow).

    For results with a NaN, which padding taps make from an inf or NaN
    they read with weight 0.  Plans with padding are summed in sequential
    order, so every value equals the compiled engine's where that has no NaN.
    """
    y = np.ascontiguousarray(x)
    for a in todo:
        p = plans[a]
        if p is None:  # the axis is not resampled (todo lists resampled axes only)
            continue
        if p.size is None:
            y = apply(y, [p if b == a else None for b in range(y.ndim)], [a], func, fill)
            continue
        src = np.moveaxis(y, a, 0)
        bcast = (-1,) + (1,) * (src.ndim - 1)
        acc = np.zeros((p.n_out,) + src.shape[1:], dtype=y.dtype)
        with np.errstate(invalid="ignore", over="ignore"):
            for t in range(p.index.shape[0]):
                term = p.weight[t].reshape(bcast) * src[p.index[t]]
                acc = np.where((t < p.size).reshape(bcast), term if t == 0 else acc + term, acc)
        if p.outside is not None:
            acc[p.outside] = fill
        y = np.ascontiguousarray(np.moveaxis(acc, 0, a))
    return y


def _row_block(x_shape: tuple[int, ...], w_out: int, h_out: int, itemsize: int) -> int:
    """Output rows per work item of the fused kernel.

    Small enough that the horizontally resampled input rows of one item stay
    in L2 (~256 KiB) and that there are a few items per thread; never below
    one row.
    """
    planes, h_in = x_shape[0], x_shape[1]
    rows_in = max(4, (256 * 1024) // max(1, w_out * itemsize))
    block = max(1, (rows_in * h_out) // max(1, h_in))
    per_plane = ceil_div(32, max(1, planes))  # aim at >= 32 items in all
    return max(1, min(block, ceil_div(h_out, per_plane)))
