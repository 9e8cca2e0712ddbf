"""torch's per-axis taps and weights: the plans of :func:`upconv.interpolate`.

One function per mode (table ``TORCH_PLANS``; ``TORCH_AA_FILTERS`` and
:func:`torch_antialias_plan` for ``antialias=True``) turns an axis size
``n_in -> n_out`` into an :class:`upconv.ops.resampling.AxisPlan`, with the
floating-point arithmetic of torch 2.13 on the CPU
(``ATen/native/UpSample.h``, ``cpu/UpSampleKernel.cpp``): scales and source
coordinates in ``opmath`` (float32 for float32 inputs, float64 for
float64), indices through ``floorf`` (a float32 floor even for doubles),
the legacy ``nearest_idx`` (float32, with the ``out == in`` and
``out == 2*in`` shortcuts) where torch's 2-d nearest kernel uses it, and in
float32 the multiply-adds its compiler fuses (found by reading torch's
weights back with one-hot inputs).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from upconv.ops.resampling import TORCH_FMA, AxisPlan
from upconv.shapes import ceil_div

if TYPE_CHECKING:
    import numpy.typing as npt

    #: a float type of numpy (torch's ``opmath`` type T), and an array of it
    FloatType = type[np.floating[Any]]
    Floats = npt.NDArray[np.floating[Any]]

__all__ = ["TorchAxis", "TORCH_PLANS", "TORCH_AA_FILTERS", "torch_antialias_plan", "torch_uint8_taps",
           "torch_uint8_steps", "fixed_point", "torch_plan"]


@dataclass(frozen=True)
class TorchAxis:
    """What a torch per-axis function needs besides the sizes.

    ``dtype`` is torch's ``opmath`` type (= the compute dtype: float32 or
    float64); ``legacy_nearest`` selects ``nearest_idx``/``nearest_exact_idx``
    (float32, shortcuts), which torch's 2-d nearest kernel uses when
    ``out_h + out_w <= 128``.
    """

    dtype: np.dtype[Any]
    align_corners: bool = False
    legacy_nearest: bool = False


def _torch_scales_value(T: FloatType, n_in: int, n_out: int, sf: float | None) -> np.floating[Any]:
    """``compute_scales_value<T>``: ``1/sf`` (double, then cast) or ``in/out`` in T."""
    if sf is not None and sf > 0:
        return T(1.0 / sf)
    return T(n_in) / T(n_out)


def _torch_scale(T: FloatType, n_in: int, n_out: int, sf: float | None, align_corners: bool) -> np.floating[Any]:
    """``area_pixel_compute_scale<T>``."""
    if align_corners:
        return T(n_in - 1) / T(n_out - 1) if n_out > 1 else T(0)
    return _torch_scales_value(T, n_in, n_out, sf)


def _torch_source(T: FloatType, scale: np.floating[Any], n_out: int, align_corners: bool, cubic: bool) -> Floats:
    """``area_pixel_compute_source_index<T>`` for every output position."""
    i = np.arange(n_out).astype(T)
    if align_corners:
        return scale * i
    if T is np.float32:  # torch's build contracts this into a fused multiply-add
        src = (np.float64(scale) * (i + T(0.5)).astype(np.float64) - 0.5).astype(T)
    else:
        src = scale * (i + T(0.5)) - T(0.5)
    return src if cubic else np.where(src < 0, T(0), src)


def _floorf(a: np.ndarray) -> npt.NDArray[np.int64]:
    """C ``floorf``: the argument is rounded to float32 first (also for doubles)."""
    return np.floor(a.astype(np.float32)).astype(np.int64)


def _guard(T: FloatType, src: Floats, n_in: int) -> tuple[npt.NDArray[np.int64], Floats]:
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


def _fma32(a: np.floating[Any] | Floats, b: Floats, c: np.floating[Any]) -> npt.NDArray[np.float32]:
    """float32 fused multiply-add ``a*b + c``: exact product in float64, one rounding to float32."""
    return (np.float64(a) * np.asarray(b, np.float64) + np.float64(c)).astype(np.float32)


def _cubic1(x: Floats, A: np.floating[Any]) -> Floats:
    """Keys kernel for ``|x| <= 1``: ``((A + 2)*x - (A + 3))*x*x + 1`` (``cubic_convolution1``).

    For float32 with the multiply-add that torch's build fuses (found by reading its weights back
    with one-hot inputs: every weight then matches bit for bit)."""
    if isinstance(A, np.float32):
        return _fma32(A + 2, x, -(A + 3)) * x * x + 1
    return ((A + 2) * x - (A + 3)) * x * x + 1


def _cubic2(x: Floats, A: np.floating[Any]) -> Floats:
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
    end = ceil_div((o + 1) * n_in, n_out)
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


def _aa_triangle(x: Floats, T: FloatType) -> Floats:
    x = np.abs(x)
    return np.where(x < 1, (1.0 - x.astype(np.float64)).astype(T), T(0))


def _aa_keys(x: Floats, T: FloatType) -> Floats:
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


def _sinc(x: Floats, T: FloatType) -> Floats:
    """``sin(pi x) / (pi x)`` in T, 1 at 0 (torch's ``sinc_filter``)."""
    y = x * T(np.pi)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(x == 0, T(1), np.sin(y) / y).astype(T)


def _aa_lanczos(x: Floats, T: FloatType) -> Floats:
    """Lanczos-3, ``sinc(x) * sinc(x/3)`` for ``|x| < 3`` (PIL); the second factor in double,
    as torch's ``sinc_filter(x / 3.0)`` is instantiated for double."""
    x = np.abs(x)
    w = _sinc(x, T).astype(np.float64) * _sinc(x.astype(np.float64) / 3.0, np.float64)
    return np.where(x < 3, w, 0.0).astype(T)


#: mode -> (interp_size, filter) of torch's antialiased (PIL-style) resampling.
TORCH_AA_FILTERS: dict[str, tuple[int, Callable[[Floats, FloatType], Floats]]] = {
    "bilinear": (2, _aa_triangle), "bicubic": (4, _aa_keys), "lanczos": (6, _aa_lanczos)
}


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


def torch_uint8_taps(n_in: int, n_out: int, sf: float | None, align_corners: bool, mode: str,
                     antialias: bool) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int64], int] | None:
    """torch's uint8 resampling of one axis (bilinear, and bicubic with antialias): ``(index, weight, bits)``.

    torch resamples uint8 images with Pillow's fixed-point scheme
    (``_compute_index_ranges_int16_weights``): the PIL-style filter's
    weights in double (widened by the scale only with ``antialias``),
    normalised, scaled by ``2**bits`` to int16 (``bits`` as large as the
    largest weight allows) and rounded half away from zero; each output is
    ``clip((sum_t w_t x_t + 2**(bits-1)) >> bits, 0, 255)``.  ``index`` and
    ``weight`` are ``(n_out, T)``.  None when the axis keeps its size (torch
    skips it).
    """
    if n_out == n_in:
        return None
    interp_size, a = (2, np.float64(0)) if mode == "bilinear" else (4, np.float64(-0.5))
    if align_corners:
        scale = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    else:
        scale = 1.0 / sf if sf is not None and sf > 0 else n_in / n_out
    wide = antialias and scale >= 1.0
    support = interp_size * 0.5 * scale if wide else interp_size * 0.5
    invscale = 1.0 / scale if wide else 1.0
    taps = int(math.ceil(support)) * 2 + 1
    delta = 0.5 if align_corners and not antialias else 0.0
    center = scale * (np.arange(n_out) + 0.5 - delta) + delta
    xmin = np.maximum(np.trunc(center - support + 0.5).astype(np.int64), 0)
    xmax = np.minimum(np.trunc(center + support + 0.5).astype(np.int64), n_in)
    xsize = np.clip(xmax - xmin, 0, taps)
    j = np.arange(taps)
    pos = xmin[:, None] + j
    t = np.abs((pos - center[:, None] + 0.5) * invscale)
    if mode == "bilinear":
        f = np.where(t < 1, 1 - t, 0.0)
    else:
        f = np.where(t < 1, _cubic1(t, a), np.where(t < 2, _cubic2(t, a), 0.0))
    w = np.where(j < xsize[:, None], f, 0.0)
    total = w.sum(axis=1, keepdims=True)
    w = np.divide(w, total, out=w, where=total != 0)
    return fixed_point(np.clip(pos, 0, n_in - 1), w)


def fixed_point(index: np.ndarray, weight: np.ndarray) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.int64], int]:
    """``(index, int16 weights, bits)`` of float64 ``(n_out, T)`` weights, as torch's uint8 path scales them.

    The arrays are read-only: a memoized plan shares them between calls.
    """
    w_max = float(weight.max())
    bits = 0
    while bits < 21 and int(0.5 + w_max * (1 << (bits + 1))) < (1 << 15):
        bits += 1
    scaled = weight * (1 << bits)
    wi = np.where(weight < 0, np.trunc(scaled - 0.5), np.trunc(scaled + 0.5)).astype(np.int64)
    index = np.asarray(index, dtype=np.intp)
    index.flags.writeable = wi.flags.writeable = False
    return index, wi, bits


def torch_uint8_steps(
    in_size: tuple[int, ...], out_size: tuple[int, ...], sf: tuple[float, ...] | None, align_corners: bool,
    mode: str, antialias: bool, plans: list[AxisPlan | None],
) -> list[tuple[int, tuple[npt.NDArray[np.intp], npt.NDArray[np.int64], int]]]:
    """torch's uint8 ``bilinear``/``bicubic``: ``(spatial axis, fixed-point taps)`` per resampled axis, last first.

    Bit for bit for bilinear and for bicubic with antialias
    (:func:`torch_uint8_taps`); bicubic without antialias takes the Keys
    taps of the float32 ``plans`` into the same fixed point (torch's own
    uint8 taps differ slightly: within 2 grey levels of torch).  torch skips
    an axis that keeps its size, whatever the scale.
    """
    steps = []
    for a in range(len(in_size) - 1, -1, -1):  # the last (contiguous) axis first
        if in_size[a] == out_size[a]:
            continue
        plan = plans[a]
        if mode == "bicubic" and not antialias:
            taps = None if plan is None else fixed_point(plan.index.T, plan.weight.T.astype(np.float64))
        else:
            taps = torch_uint8_taps(in_size[a], out_size[a], None if sf is None else sf[a], align_corners, mode,
                                    antialias)
        if taps is not None:
            steps.append((a, taps))
    return steps


@functools.lru_cache(maxsize=512)
def torch_plan(mode: str, antialias: bool, n_in: int, n_out: int, sf: float | None, ax: TorchAxis) -> AxisPlan | None:
    """One axis's plan of ``interpolate``: ``TORCH_PLANS[mode]``, or :func:`torch_antialias_plan`.

    A pure function of its arguments: cached, its arrays shared read-only.
    """
    plan = torch_antialias_plan(n_in, n_out, sf, ax, mode) if antialias else TORCH_PLANS[mode](n_in, n_out, sf, ax)
    return None if plan is None else plan.read_only()
