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

This module holds the engine (:func:`apply`) and the per-axis "taps and
weights" functions, one per library and mode (tables ``TORCH_PLANS``,
``TORCH_AA_FILTERS``, ``ONNX_COORDINATES``, ``ONNX_COEFFICIENTS``), computed
with the floating-point arithmetic of each library:

* torch (``ATen/native/UpSample.h``, ``cpu/UpSampleKernel.cpp``): scales and
  source coordinates in ``opmath`` (float32 for float32 inputs, float64 for
  float64), indices through ``floorf`` (a float32 floor even for doubles),
  the legacy ``nearest_idx`` (float32, with the ``out == in`` and
  ``out == 2*in`` shortcuts) where torch's 2-d nearest kernel uses it, and
  in float32 the multiply-adds its compiler fuses (found by reading torch's
  weights back with one-hot inputs);
* ONNX (``onnx/reference/ops/op_resize.py``): float64, except the cubic
  polynomial, which the reference evaluates in float32; the reference's
  tie-breaking of neighbour windows and numpy's summation order.

The heavy lifting is done by numba kernels (``_interp_kernels``), imported
on first use.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from upconv import _validate as v
from upconv.kernels.parallel import parallel_for

__all__ = [
    "AxisPlan",
    "SEQUENTIAL",
    "TORCH_FMA",
    "PAIRWISE",
    "apply",
    "TorchAxis",
    "TORCH_PLANS",
    "TORCH_AA_FILTERS",
    "torch_antialias_plan",
    "OnnxAxis",
    "ONNX_COORDINATES",
    "ONNX_COEFFICIENTS",
    "onnx_plan",
]


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

    index: np.ndarray
    weight: np.ndarray
    outside: np.ndarray | None = None
    order: int = 0
    size: np.ndarray | None = None

    @property
    def n_out(self) -> int:
        return self.index.shape[1]

    @classmethod
    def gather(cls, index: np.ndarray, dtype: np.dtype, outside: np.ndarray | None = None) -> AxisPlan:
        """One tap of weight 1 per output position (nearest modes): an exact copy."""
        index = np.ascontiguousarray(index, dtype=np.intp).reshape(1, -1)
        return cls(index, np.ones(index.shape, dtype=dtype), outside, SEQUENTIAL)

    @classmethod
    def taps(cls, index: np.ndarray, weight: np.ndarray, n_in: int, dtype: np.dtype,
             outside: np.ndarray | None = None, order: int = SEQUENTIAL,
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


# --------------------------------------------------------------------------
# the engine


def apply(
    x: np.ndarray,
    plans: Sequence[AxisPlan | None],
    order: Sequence[int],
    func: str,
    fill: float = 0.0,
) -> np.ndarray:
    """Apply one plan per axis of ``x`` in ``order``; returns a new C-contiguous array.

    ``plans[a]`` resamples axis ``a`` of ``x`` (``None``: unchanged); ``x``
    must already be in the compute dtype, which is also the weights' dtype.
    When the two last axes come first in ``order`` (last, then second last)
    they are done by one fused kernel that keeps the intermediate rows in
    cache; the result is bit-identical to two separate passes.
    """
    out_shape = tuple(p.n_out if p is not None else s for p, s in zip(plans, x.shape))
    v.check_allocation(out_shape, x.dtype, func, "the output")
    todo = [a for a in order if plans[a] is not None]
    if not todo:
        return np.array(x, order="C", copy=True)
    if math.prod(out_shape) == 0 or x.size == 0:
        return np.zeros(out_shape, dtype=x.dtype)
    from upconv.kernels import interpolation as k

    y = np.ascontiguousarray(x)
    r = y.ndim
    i = 0
    while i < len(todo):
        a = todo[i]
        nxt = todo[i + 1] if i + 1 < len(todo) else None
        pa = plans[a]
        if (a == r - 1 and nxt == r - 2 and pa.outside is None and plans[nxt].outside is None
                and pa.order == plans[nxt].order):
            pb = plans[nxt]
            lead = y.shape[:-2]
            shape = lead + (pb.n_out, pa.n_out)
            v.check_allocation(shape, y.dtype, func, "an intermediate result")
            out = np.empty(shape, dtype=y.dtype)
            x3 = y.reshape((-1,) + y.shape[-2:])
            block = _row_block(x3.shape, shape[-1], pb.n_out, y.itemsize)
            items = x3.shape[0] * -(-pb.n_out // block)  # (plane, block of output rows)
            parallel_for(k.fused_last_two, items, x3, pb.index, pb.weight, pa.index, pa.weight,
                         out.reshape((-1,) + shape[-2:]), block, pa.order)
            y = out
            i += 2
            continue
        shape = y.shape[:a] + (pa.n_out,) + y.shape[a + 1:]
        v.check_allocation(shape, y.dtype, func, "an intermediate result")
        out = np.empty(shape, dtype=y.dtype)
        outer, inner = math.prod(y.shape[:a]), math.prod(y.shape[a + 1:])
        if inner == 1:
            parallel_for(k.along_rows, outer, y.reshape(outer, y.shape[a]), pa.index, pa.weight,
                         out.reshape(outer, pa.n_out), pa.order)
        else:
            parallel_for(k.along_axis, outer * pa.n_out, y.reshape(outer, y.shape[a], inner), pa.index,
                         pa.weight, out.reshape(outer, pa.n_out, inner), pa.order)
        if pa.outside is not None and pa.outside.any():
            out.reshape(outer, pa.n_out, inner)[:, pa.outside, :] = fill
        y = out
        i += 1
    if any(plans[a].size is not None for a in todo):
        with np.errstate(invalid="ignore", over="ignore"):  # a sum overflowing both ways costs the slow path
            if np.isnan(np.add.reduce(y, axis=None)):
                return _apply_without_padding(x, plans, todo, func, fill)
    return y


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
    per_plane = -(-32 // max(1, planes))  # aim at >= 32 items in all
    return max(1, min(block, -(-h_out // per_plane)))


# --------------------------------------------------------------------------
# torch: per-axis taps and weights


@dataclass(frozen=True)
class TorchAxis:
    """What a torch per-axis function needs besides the sizes.

    ``dtype`` is torch's ``opmath`` type (= the compute dtype: float32 or
    float64); ``legacy_nearest`` selects ``nearest_idx``/``nearest_exact_idx``
    (float32, shortcuts), which torch's 2-d nearest kernel uses when
    ``out_h + out_w <= 128``.
    """

    dtype: np.dtype
    align_corners: bool = False
    legacy_nearest: bool = False


def _torch_scales_value(T: type, n_in: int, n_out: int, sf: float | None):
    """``compute_scales_value<T>``: ``1/sf`` (double, then cast) or ``in/out`` in T."""
    if sf is not None and sf > 0:
        return T(1.0 / sf)
    return T(n_in) / T(n_out)


def _torch_scale(T: type, n_in: int, n_out: int, sf: float | None, align_corners: bool):
    """``area_pixel_compute_scale<T>``."""
    if align_corners:
        return T(n_in - 1) / T(n_out - 1) if n_out > 1 else T(0)
    return _torch_scales_value(T, n_in, n_out, sf)


def _torch_source(T: type, scale, n_out: int, align_corners: bool, cubic: bool) -> np.ndarray:
    """``area_pixel_compute_source_index<T>`` for every output position."""
    i = np.arange(n_out).astype(T)
    if align_corners:
        return scale * i
    if T is np.float32:  # torch's build contracts this into a fused multiply-add
        src = (np.float64(scale) * (i + T(0.5)).astype(np.float64) - 0.5).astype(T)
    else:
        src = scale * (i + T(0.5)) - T(0.5)
    return src if cubic else np.where(src < 0, T(0), src)


def _floorf(a: np.ndarray) -> np.ndarray:
    """C ``floorf``: the argument is rounded to float32 first (also for doubles)."""
    return np.floor(a.astype(np.float32)).astype(np.int64)


def _guard(T: type, src: np.ndarray, n_in: int) -> tuple[np.ndarray, np.ndarray]:
    """``guard_index_and_lambda``: index ``min(floorf(src), in-1)``, lambda clamped to [0, 1]."""
    idx = np.minimum(_floorf(src), n_in - 1)
    lam = np.minimum(np.maximum(src - idx.astype(T), T(0)), T(1))
    return idx, lam


def _torch_nearest(n_in: int, n_out: int, sf: float | None, ax: TorchAxis) -> AxisPlan | None:
    """``nearest``: ``floor(dst * scale)`` (OpenCV's INTER_NEAREST), clamped to ``in - 1``."""
    i = np.arange(n_out)
    if ax.legacy_nearest:  # nearest_idx: float32 scale, two shortcuts
        if n_out == n_in:
            return None
        if n_out == 2 * n_in:
            return AxisPlan.gather(i >> 1, ax.dtype)
        scale = _torch_scales_value(np.float32, n_in, n_out, sf)
        src = i.astype(np.float32) * scale
    else:  # HelperInterpNearest: opmath scale, align_corners-style source index
        T = ax.dtype.type
        src = _torch_scale(T, n_in, n_out, sf, False) * i.astype(T)
    idx = np.minimum(_floorf(src), n_in - 1)
    return None if n_out == n_in and np.array_equal(idx, i) else AxisPlan.gather(idx, ax.dtype)


def _torch_nearest_exact(n_in: int, n_out: int, sf: float | None, ax: TorchAxis) -> AxisPlan | None:
    """``nearest-exact``: ``floor((dst + 0.5) * scale)`` clamped (= ONNX half_pixel + round_prefer_ceil)."""
    i = np.arange(n_out)
    if ax.legacy_nearest:  # nearest_exact_idx: (dst + 0.5) in double times a float32 scale
        scale = _torch_scales_value(np.float32, n_in, n_out, sf)
        src = (i + 0.5) * np.float64(scale)
    else:  # HelperInterpNearestExact: round(max(0, scale*(dst+0.5) - 0.5)) in opmath
        T = ax.dtype.type
        src = _torch_source(T, _torch_scale(T, n_in, n_out, sf, False), n_out, False, False)
        src = src.astype(np.float64) + 0.5
    idx = np.minimum(_floorf(src), n_in - 1)
    return None if n_out == n_in and np.array_equal(idx, i) else AxisPlan.gather(idx, ax.dtype)


def _torch_linear(n_in: int, n_out: int, sf: float | None, ax: TorchAxis) -> AxisPlan | None:
    """``linear``/``bilinear``/``trilinear``: two taps; identity when ``out == in`` (torch's shortcut)."""
    if n_out == n_in:
        return None
    T = ax.dtype.type
    src = _torch_source(T, _torch_scale(T, n_in, n_out, sf, ax.align_corners), n_out, ax.align_corners, False)
    i0, lam1 = _guard(T, src, n_in)
    i1 = i0 + (i0 < n_in - 1)
    lam0 = T(1) - lam1
    return AxisPlan.taps(np.stack([i0, i1], 1), np.stack([lam0, lam1], 1), n_in, ax.dtype, order=TORCH_FMA)


def _fma32(a, b, c):
    """float32 fused multiply-add ``a*b + c``: exact product in float64, one rounding to float32."""
    return (np.float64(a) * np.asarray(b, np.float64) + np.float64(c)).astype(np.float32)


def _cubic1(x, A):
    """Keys kernel for ``|x| <= 1``: ``((A + 2)*x - (A + 3))*x*x + 1`` (``cubic_convolution1``).

    For float32 with the multiply-add that torch's build fuses (found by reading its weights back
    with one-hot inputs: every weight then matches bit for bit)."""
    if isinstance(A, np.float32):
        return _fma32(A + 2, x, -(A + 3)) * x * x + 1
    return ((A + 2) * x - (A + 3)) * x * x + 1


def _cubic2(x, A):
    """Keys kernel for ``1 < |x| < 2``: ``((A*x - 5A)*x + 8A)*x - 4A`` (``cubic_convolution2``)."""
    if isinstance(A, np.float32):
        return _fma32(_fma32(A, x, -5 * A), x, 8 * A) * x - 4 * A
    return ((A * x - 5 * A) * x + 8 * A) * x - 4 * A


def _torch_cubic(n_in: int, n_out: int, sf: float | None, ax: TorchAxis) -> AxisPlan | None:
    """``bicubic``: taps ``floor(src) - 1 .. + 2`` clamped, Keys kernel with ``A = -0.75``; no shortcut."""
    T = ax.dtype.type
    src = _torch_source(T, _torch_scale(T, n_in, n_out, sf, ax.align_corners), n_out, ax.align_corners, True)
    i0, t = _guard(T, src, n_in)
    A = T(-0.75)
    x2 = T(1) - t
    w = np.stack([_cubic2(t + T(1), A), _cubic1(t, A), _cubic1(x2, A), _cubic2(x2 + T(1), A)], 1)
    idx = i0[:, None] + np.arange(-1, 3)
    return AxisPlan.taps(idx, w, n_in, ax.dtype, order=TORCH_FMA)


def _torch_area(n_in: int, n_out: int, sf: float | None, ax: TorchAxis) -> AxisPlan | None:
    """``area`` = adaptive average pooling: mean over ``[floor(o*in/out), ceil((o+1)*in/out))``."""
    if n_out == n_in:
        return None
    o = np.arange(n_out)
    start = (o * n_in) // n_out
    end = -((-(o + 1) * n_in) // n_out)
    width = end - start
    T = ax.dtype.type
    taps = np.arange(int(width.max()))
    valid = taps[None, :] < width[:, None]
    w = np.where(valid, T(1) / width[:, None].astype(T), T(0))
    return AxisPlan.taps(start[:, None] + taps, w, n_in, ax.dtype, size=width)


TorchPlan = Callable[[int, int, "float | None", TorchAxis], "AxisPlan | None"]

TORCH_PLANS: dict[str, TorchPlan] = {
    "nearest": _torch_nearest,
    "nearest-exact": _torch_nearest_exact,
    "linear": _torch_linear,
    "bilinear": _torch_linear,
    "trilinear": _torch_linear,
    "bicubic": _torch_cubic,
    "area": _torch_area,
}


def _aa_triangle(x, T):
    x = np.abs(x)
    return np.where(x < 1, (1.0 - x.astype(np.float64)).astype(T), T(0))


def _aa_keys(x, T):
    """PIL's bicubic filter, ``a = -0.5`` (torch uses it only with antialias).

    In this context torch's float32 build fuses every multiply-add of the two polynomials
    (again read back with one-hot inputs)."""
    x = np.abs(x)
    a = T(-0.5)
    if T is np.float32:
        near = _fma32(_fma32(a + 2, x, -(a + 3)) * x, x, T(1))
        far = _fma32(_fma32(_fma32(a, x, -5 * a), x, 8 * a), x, -4 * a)
    else:
        near, far = _cubic1(x, a), _cubic2(x, a)
    return np.where(x < 1, near, np.where(x < 2, far, T(0))).astype(T)


def _sinc(x, T):
    """``sin(pi x) / (pi x)`` in T, 1 at 0 (torch's ``sinc_filter``)."""
    y = x * T(np.pi)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(x == 0, T(1), np.sin(y) / y).astype(T)


def _aa_lanczos(x, T):
    """Lanczos-3, ``sinc(x) * sinc(x/3)`` for ``|x| < 3`` (PIL); the second factor in double,
    as torch's ``sinc_filter(x / 3.0)`` is instantiated for double."""
    x = np.abs(x)
    w = _sinc(x, T).astype(np.float64) * _sinc(x.astype(np.float64) / 3.0, np.float64)
    return np.where(x < 3, w, 0.0).astype(T)


#: mode -> (interp_size, filter) of torch's antialiased (PIL-style) resampling.
TORCH_AA_FILTERS = {"bilinear": (2, _aa_triangle), "bicubic": (4, _aa_keys), "lanczos": (6, _aa_lanczos)}


def torch_antialias_plan(n_in: int, n_out: int, sf: float | None, ax: TorchAxis, mode: str) -> AxisPlan | None:
    """torch ``antialias=True`` (``_compute_indices_min_size_weights_aa``): a PIL-style filter
    stretched by ``max(scale, 1)`` on a window truncated at the borders, normalised to sum 1."""
    if n_out == n_in:  # separable_upsample_generic_Nd_kernel_impl skips equal-sized axes
        return None
    interp_size, filt = TORCH_AA_FILTERS[mode]
    T = ax.dtype.type
    scale = _torch_scale(T, n_in, n_out, sf, ax.align_corners)
    big = scale >= 1.0
    support = T((interp_size * 0.5) * float(scale)) if big else T(interp_size * 0.5)
    max_taps = int(math.ceil(support)) * 2 + 1
    invscale = T(1.0 / float(scale)) if big else T(1.0)
    i = np.arange(n_out)
    center = (float(scale) * (i + 0.5)).astype(T)
    xmin = np.maximum(np.trunc((center - support).astype(np.float64) + 0.5).astype(np.int64), 0)
    xmax = np.minimum(np.trunc((center + support).astype(np.float64) + 0.5).astype(np.int64), n_in)
    xsize = np.clip(xmax - xmin, 0, max_taps)
    j = np.arange(max_taps)
    pos = xmin[:, None] + j
    arg = ((pos.astype(T) - center[:, None]).astype(np.float64) + 0.5) * float(invscale)
    w = np.where(j < xsize[:, None], filt(arg.astype(T), T), T(0)).astype(T)
    total = np.zeros(n_out, dtype=T)
    for t in range(max_taps):  # sequential sum in T, as the C++ loop
        total = total + w[:, t]
    w = np.where(total[:, None] != 0, w / np.where(total == 0, T(1), total)[:, None], w).astype(T)
    return AxisPlan.taps(pos, w, n_in, ax.dtype, size=xsize)


# --------------------------------------------------------------------------
# ONNX: per-axis taps and weights (a port of onnx.reference's Resize)


@dataclass(frozen=True)
class OnnxAxis:
    """Resize attributes that shape the taps of one axis (all float64 arithmetic)."""

    mode: str
    coordinate_transformation_mode: str = "half_pixel"
    nearest_mode: str = "round_prefer_floor"
    cubic_coeff_a: float = -0.75
    exclude_outside: bool = False
    antialias: bool = False


def _x_half_pixel(y, scale, n_in, length, n_out, roi):
    return (y + 0.5) / scale - 0.5


def _x_half_pixel_symmetric(y, scale, n_in, length, n_out, roi):
    adjustment = n_out / length
    center = n_in / 2
    offset = center * (1 - adjustment)
    return offset + (y + 0.5) / scale - 0.5


def _x_pytorch_half_pixel(y, scale, n_in, length, n_out, roi):
    if length == 1:
        return np.full(n_out, -0.5)
    return (y + 0.5) / scale - 0.5


def _x_align_corners(y, scale, n_in, length, n_out, roi):
    if length == 1:
        return np.zeros(n_out)
    return y * (n_in - 1) / (length - 1)


def _x_asymmetric(y, scale, n_in, length, n_out, roi):
    return y / scale


def _x_tf_crop_and_resize(y, scale, n_in, length, n_out, roi):
    start, end = roi
    if length == 1:
        x = np.full(n_out, (end - start) * (n_in - 1) / 2)
    else:
        x = y * (end - start) * (n_in - 1) / (length - 1)
    return x + start * (n_in - 1)


#: coordinate_transformation_mode -> source coordinate of output index y.
ONNX_COORDINATES = {
    "half_pixel": _x_half_pixel,
    "half_pixel_symmetric": _x_half_pixel_symmetric,
    "pytorch_half_pixel": _x_pytorch_half_pixel,
    "align_corners": _x_align_corners,
    "asymmetric": _x_asymmetric,
    "tf_crop_and_resize": _x_tf_crop_and_resize,
}


def _c_nearest(ratio, scale, ax):
    """Two taps (left, right); exactly one has weight 1.  An integral coordinate has ratio 1."""
    integral = ratio == 1.0
    right = {
        "round_prefer_floor": ratio > 0.5,
        "round_prefer_ceil": ratio >= 0.5,
        "floor": np.zeros(ratio.shape, bool),
        "ceil": np.ones(ratio.shape, bool),
    }[ax.nearest_mode] | integral
    return np.stack([~right, right], 1).astype(np.float64)


def _c_linear(ratio, scale, ax):
    return np.stack([1 - ratio, ratio], 1)


def _c_cubic(ratio, scale, ax):
    # The reference holds cubic_coeff_a as a numpy float32 (an ONNX float attribute), which makes
    # the whole polynomial float32 arithmetic (the coordinate is rounded to float32 first).
    f = np.float32
    A = f(ax.cubic_coeff_a)
    r, r1 = ratio.astype(f), (ratio + 1).astype(f)
    q, q1 = (1 - ratio).astype(f), ((1 - ratio) + 1).astype(f)
    return np.stack([
        ((A * r1 - 5 * A) * r1 + 8 * A) * r1 - 4 * A,
        ((A + 2) * r - (A + 3)) * r * r + 1,
        ((A + 2) * q - (A + 3)) * q * q + 1,
        ((A * q1 - 5 * A) * q1 + 8 * A) * q1 - 4 * A,
    ], 1).astype(np.float64)


def _row_sums(c: np.ndarray) -> np.ndarray:
    """Row sums with Python's left-to-right ``sum`` (as the reference), in the dtype of ``c``."""
    total = c[:, 0].copy()
    for t in range(1, c.shape[1]):
        total = total + c[:, t]
    return total


def _c_linear_aa(ratio, scale, ax):
    scale = min(scale, 1.0)
    start = int(np.floor(-1 / scale) + 1)
    footprint = 2 - 2 * start
    args = (np.arange(start, start + footprint)[None, :] - ratio[:, None]) * scale
    c = np.clip(1 - np.abs(args), 0, 1)
    return c / _row_sums(c)[:, None]


def _c_cubic_aa(ratio, scale, ax):
    # float32 polynomial as in _c_cubic; taps beyond the support are the Python float 0.0, and
    # a row holding one is normalised in float64, a row without in float32 (numpy's promotion).
    f = np.float32
    A = f(ax.cubic_coeff_a)
    scale = min(scale, 1.0)
    i_start = int(np.floor(-2 / scale) + 1)
    x = np.abs(scale * (np.arange(i_start, 2 - i_start)[None, :] - ratio[:, None]))
    x2 = x * x
    x3 = x * x2
    xf, x2f, x3f = x.astype(f), x2.astype(f), x3.astype(f)
    near = (A + 2) * x3f - (A + 3) * x2f + 1
    far = A * x3f - 5 * A * x2f + 8 * A * xf - 4 * A
    c = np.where(x <= 1, near, np.where(x < 2, far, f(0))).astype(f)
    total = _row_sums(c)
    wide = (x >= 2).any(axis=1)
    return np.where(wide[:, None], c.astype(np.float64) / total.astype(np.float64)[:, None],
                    (c / total[:, None]).astype(np.float64))


#: (mode, antialias) -> coefficients of the taps, one row per output position.
ONNX_COEFFICIENTS = {
    ("nearest", False): _c_nearest,
    ("linear", False): _c_linear,
    ("cubic", False): _c_cubic,
    ("linear", True): _c_linear_aa,
    ("cubic", True): _c_cubic_aa,
}


def onnx_plan(n_in: int, n_out: int, scale: float, roi: tuple[float, float] | None, ax: OnnxAxis,
              contiguous: bool = False) -> AxisPlan | None:
    """Taps and weights of ONNX Resize along one axis (``_interpolate_1d_along_axis``).

    ``scale`` is the axis scale (``sizes/in`` or the given float32 scale);
    the output length used by the coordinate transforms is the fractional
    ``scale * n_in``.  Returns None where the reference skips the axis
    (scale 1, same size, trivial region of interest).  ``contiguous``: the
    reference's array has no other axis of length > 1 after this one, so
    its ``sum`` over the taps is pairwise.
    """
    ctm = ax.coordinate_transformation_mode
    crop = ctm == "tf_crop_and_resize"
    if math.isclose(scale, 1.0) and n_out == n_in and (not crop or (
            math.isclose(roi[0], 0.0) and math.isclose(roi[1], 1.0))):
        return None
    y = np.arange(n_out, dtype=np.float64)
    x = ONNX_COORDINATES[ctm](y, scale, n_in, scale * n_in, n_out, roi)
    outside = ((x < 0) | (x > n_in - 1)) if crop else None
    x_int = np.floor(x).astype(np.int64)
    ratio = np.where(x == x_int, 1.0, x - x_int)
    coeffs = ONNX_COEFFICIENTS[ax.mode, ax.antialias](ratio, scale, ax)
    n = coeffs.shape[1]
    # the reference's window: the n taps nearest to x in edge-padded coordinates, ties to the left
    pad = -(-n // 2)
    xp = x + pad
    pp = np.floor(xp).astype(np.int64)
    frac = xp - pp
    if n % 2 == 0:
        offset = np.where(frac == 0, -(n // 2), -(n // 2) + 1)
    else:
        base = -((n - 1) // 2)
        offset = np.where(frac <= 0.5, base, base + 1)
    taps = (pp + offset)[:, None] + np.arange(n) - pad
    if ax.mode == "nearest":
        chosen = np.where(coeffs[:, 1] > 0, taps[:, 1], taps[:, 0])
        plan = AxisPlan.gather(np.clip(chosen, 0, n_in - 1), np.dtype(np.float64), outside)
        if ax.exclude_outside:  # the reference zeroes the weight of a chosen tap outside the input
            plan.weight[0, (chosen < 0) | (chosen >= n_in)] = 0.0
        return plan
    if ax.exclude_outside:
        coeffs = np.where((taps < 0) | (taps >= n_in), 0.0, coeffs)
        total = coeffs.sum(axis=-1, keepdims=True)
        coeffs = coeffs / np.where(total == 0, 1.0, total)
    return AxisPlan.taps(taps, coeffs, n_in, np.dtype(np.float64), outside,
                         PAIRWISE if contiguous else SEQUENTIAL)
