"""interpolate and resize validated and planned: the :class:`upconv.ops.resampling.Resampling` of a call.

:func:`interpolate_resampling` and :func:`resize_resampling` check a call's
arguments against the input's shape and dtype (an array, or a stand-in of
that shape and dtype without memory), apply the dtype policy (which engine:
gather, fixed point or float, and the result's dtype) and plan every axis
(:func:`interpolate_plans`, :func:`resize_plans`).  The in-memory operators
(:mod:`upconv.ops.interpolation`) run the result on the array, the chunked
ones (:mod:`upconv.ops.chunked_resample`) on every block.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.ops.pooling import is_exact
from upconv.ops.resample_onnx import ONNX_COORDINATES, OnnxAxis, cached_onnx_plan
from upconv.ops.resample_torch import (
    TORCH_AA_FILTERS,
    TorchAxis,
    torch_plan,
    torch_uint8_steps,
)
from upconv.ops.resampling import FIXED_POINT, FLOAT, GATHER, AxisPlan, Resampling, check_tables

__all__ = ["INTERPOLATE_MODES", "RESIZE_MODES", "interpolate_resampling", "resize_resampling", "interpolate_plans",
           "resize_plans"]

#: Modes of :func:`upconv.interpolate` and the input rank each accepts (``None``: 3, 4 or 5).
INTERPOLATE_MODES: dict[str, int | None] = {
    "nearest": None,
    "nearest-exact": None,
    "area": None,
    "linear": 3,
    "bilinear": 4,
    "bicubic": 4,
    "trilinear": 5,
    "lanczos": 4,
}

#: Modes of :func:`upconv.resize`.
RESIZE_MODES = ("nearest", "linear", "cubic")

_COORDINATE_MODES = tuple(ONNX_COORDINATES)
_NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")
# torch's 2-d nearest kernel takes the legacy float32 ``nearest_idx`` path when
# out_h + out_w <= 128 (``_use_vectorized_kernel_cond_2d``, contiguous input).
_LEGACY_NEAREST_MAX = 128
# taps of each mode's filter at scale 1 (the tables' size: resampling.check_tables)
_TORCH_TAPS = {"nearest": 1, "nearest-exact": 1, "linear": 2, "bilinear": 2, "trilinear": 2, "bicubic": 4,
               "lanczos": 6}
_ONNX_TAPS = {"nearest": 1, "linear": 2, "cubic": 4}


@v.memoized_on_shape
def interpolate_resampling(
    func: str,
    x: np.ndarray,
    size: v.IntOrTuple | None,
    scale_factor: v.FloatOrTuple | None,
    mode: str,
    align_corners: bool | None,
    recompute_scale_factor: bool | None,
    antialias: bool,
) -> Resampling:
    """Validate an :func:`upconv.interpolate` call on ``x`` (its shape and dtype only) and plan it: the dtype policy.

    Integer and boolean data in the nearest modes is gathered (dtype kept);
    uint8 ``bilinear`` and ``bicubic`` run in torch's fixed point
    (:func:`upconv.ops.resample_torch.torch_uint8_steps`, uint8); the rest
    in the float dtype :func:`upconv._validate.float_arrays` gives, torch's
    index arithmetic in float32 for integer data.  Memoized on the shape and dtype.
    """
    if is_exact(x) and mode in ("nearest", "nearest-exact"):
        engine, dtype, compute = GATHER, x.dtype, np.dtype(np.float32)
    elif x.dtype == np.uint8 and mode in ("bilinear", "bicubic"):
        engine, dtype, compute = FIXED_POINT, x.dtype, np.dtype(np.float32)
    else:
        dtype, (probe,) = v.float_arrays(func, x=np.empty(0, x.dtype))
        engine, compute = FLOAT, probe.dtype
    out_size, plans = interpolate_plans(func, x, size, scale_factor, mode, align_corners, recompute_scale_factor,
                                        antialias, dtype=compute)
    out_shape = x.shape[:2] + out_size
    if plans is None:
        return Resampling(engine, dtype, compute, None, (), out_shape)
    if engine != FIXED_POINT:
        # torch resamples the last (contiguous) axis first, then the others from the back
        return Resampling(engine, dtype, compute, tuple(plans), tuple(range(x.ndim - 1, 1, -1)), out_shape)
    sf = (v.float_tuple(scale_factor, x.ndim - 2, func, "scale_factor")
          if scale_factor is not None and not recompute_scale_factor else None)
    steps = torch_uint8_steps(x.shape[2:], out_size, sf, bool(align_corners), mode, antialias, plans[2:])
    tables: list[Any] = [None] * x.ndim
    for a, taps in steps:
        tables[2 + a] = taps
    return Resampling(engine, dtype, compute, tuple(tables), tuple(2 + a for a, _ in steps), out_shape)



def interpolate_plans(
    func: str,
    x: np.ndarray,
    size: v.IntOrTuple | None,
    scale_factor: v.FloatOrTuple | None,
    mode: str,
    align_corners: bool | None,
    recompute_scale_factor: bool | None,
    antialias: bool,
    dtype: np.dtype | None = None,
) -> tuple[tuple[int, ...], list[AxisPlan | None] | None]:
    """Validate an :func:`upconv.interpolate` call under ``func``; ``(out_size, plans)``.

    ``dtype`` is the arithmetic of torch's index computations (default: ``x``'s; float32 for integer data).
    """
    # x: converted by _validate.float_arrays (its dtype selects torch's index arithmetic); plans: one AxisPlan
    # per axis of x (None for N, C and unchanged axes) to apply over the spatial axes from the back, or None
    # when the output is empty
    mode = v.choice(mode, tuple(INTERPOLATE_MODES), func, "mode")
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError(
                f"{func}: align_corners option can only be set with the interpolating modes: "
                f"linear | bilinear | bicubic | trilinear (mode={mode!r}), got align_corners={align_corners!r}"
            )
        align_corners = False
    else:
        align_corners = False if align_corners is None else v.boolean(align_corners, func, "align_corners")
    antialias = v.boolean(antialias, func, "antialias")
    if recompute_scale_factor is not None:
        recompute_scale_factor = v.boolean(recompute_scale_factor, func, "recompute_scale_factor")
    if x.ndim not in (3, 4, 5):
        raise ValueError(
            f"{func}: x must have 3, 4 or 5 dimensions (N, C, *spatial) with 1 to 3 spatial axes, "
            f"got shape {x.shape}"
        )
    rank = INTERPOLATE_MODES[mode]
    if rank is not None and x.ndim != rank:
        raise ValueError(
            f"{func}: mode={mode!r} needs a {rank}-d input (N, C, {rank - 2} spatial axes), got shape {x.shape}"
        )
    if antialias and not (mode in TORCH_AA_FILTERS and x.ndim == 4):
        raise ValueError(
            f"{func}: antialias=True is restricted to the bilinear, bicubic and lanczos modes on a 4-d "
            f"input, got mode={mode!r} and x of shape {x.shape}"
        )
    if mode == "lanczos" and (align_corners or not antialias):
        raise ValueError(
            f"{func}: mode='lanczos' requires antialias=True and does not support align_corners=True, "
            f"got antialias={antialias!r}, align_corners={align_corners!r}"
        )
    if recompute_scale_factor and size is not None:
        raise ValueError(f"{func}: recompute_scale_factor=True is not meaningful with an explicit size")
    in_size = x.shape[2:]
    out_size = shapes.interpolate_output_size(
        in_size, size, scale_factor, allow_empty=mode == "area", func=func
    )
    if x.shape[1] == 0 and mode != "area":
        raise ValueError(f"{func}: x must have at least one channel for mode={mode!r}, got shape {x.shape}")
    if math.prod(x.shape[:2] + out_size) == 0:
        return out_size, None
    v.check_allocation(x.shape[:2] + out_size, x.dtype if dtype is None else dtype, func,
                       "the output")  # before the tables
    for i, o in zip(in_size, out_size, strict=True):
        if mode == "area":
            check_tables(func, i, o, shapes.ceil_div(i, o) + 1)
        else:
            check_tables(func, i, o, _TORCH_TAPS[mode], i / o if antialias else 1.0)
    # scales for the coordinates: 1/scale_factor unless recomputed from the size ("area" always is)
    if scale_factor is not None and not recompute_scale_factor and mode != "area":
        sf: tuple[float | None, ...] = v.float_tuple(scale_factor, len(in_size), func, "scale_factor")
    else:
        sf = (None,) * len(in_size)
    ax = TorchAxis(
        dtype=x.dtype if dtype is None else dtype,
        align_corners=align_corners,
        legacy_nearest=len(in_size) == 2 and sum(out_size) <= _LEGACY_NEAREST_MAX,
    )
    per_axis = [torch_plan(mode, antialias, i, o, s, ax) for i, o, s in zip(in_size, out_size, sf, strict=True)]
    return out_size, [None, None, *per_axis]


def _flag(value: object, func: str, name: str) -> bool:
    """An ONNX int attribute used as a flag: accept bools and the integers 0 and 1."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral) and value in (0, 1):
        return bool(value)
    raise TypeError(f"{func}: {name} must be True/False or 0/1, got {value!r}")


@v.memoized_on_shape
def resize_resampling(
    func: str,
    x: np.ndarray,
    sizes: Sequence[int] | None,
    scales: Sequence[float] | None,
    roi: Sequence[float] | None,
    mode: str,
    coordinate_transformation_mode: str,
    nearest_mode: str,
    cubic_coeff_a: float,
    exclude_outside: bool,
    extrapolation_value: float,
    antialias: bool,
    axes: Sequence[int] | None,
    keep_aspect_ratio_policy: str,
) -> Resampling:
    """Validate a :func:`upconv.resize` call on ``x`` (its shape and dtype only) and plan it.

    The dtype policy: integer and boolean data in ``mode="nearest"`` is
    gathered (dtype kept); the rest is computed in float64 and cast to the
    dtype :func:`upconv._validate.float_arrays` gives.  Memoized on the shape and dtype.
    """
    extrapolation_value = v.real(extrapolation_value, func, "extrapolation_value", finite=False)
    if is_exact(x) and mode == "nearest":
        engine, dtype = GATHER, x.dtype
    else:
        engine, dtype = FLOAT, v.float_arrays(func, x=np.empty(0, x.dtype))[0]
    g, plans = resize_plans(func, x, sizes, scales, roi, mode, coordinate_transformation_mode, nearest_mode,
                            cubic_coeff_a, exclude_outside, antialias, axes, keep_aspect_ratio_policy)
    tables = None if plans is None else tuple(plans)
    return Resampling(engine, dtype, np.dtype(np.float64), tables, tuple(g.axes), g.out_shape, extrapolation_value)



def resize_plans(
    func: str,
    x: np.ndarray,
    sizes: Sequence[int] | None,
    scales: Sequence[float] | None,
    roi: Sequence[float] | None,
    mode: str,
    coordinate_transformation_mode: str,
    nearest_mode: str,
    cubic_coeff_a: float,
    exclude_outside: bool,
    antialias: bool,
    axes: Sequence[int] | None,
    keep_aspect_ratio_policy: str,
) -> tuple[shapes.ResizeGeometry, list[AxisPlan | None] | None]:
    """Validate a :func:`upconv.resize` call (not its extrapolation_value) under ``func``; ``(geometry, plans)``."""
    # x: converted by _validate.float_arrays (only its shape is used); plans: one AxisPlan per axis of x (None
    # for the axes left unchanged) to apply over geometry.axes in order, or None when the output is empty
    mode = v.choice(mode, RESIZE_MODES, func, "mode")
    ctm = v.choice(coordinate_transformation_mode, _COORDINATE_MODES, func, "coordinate_transformation_mode")
    nearest_mode = v.choice(nearest_mode, _NEAREST_MODES, func, "nearest_mode")
    cubic_coeff_a = v.real(cubic_coeff_a, func, "cubic_coeff_a")
    exclude_outside = _flag(exclude_outside, func, "exclude_outside")
    antialias = _flag(antialias, func, "antialias")
    if antialias and mode == "nearest":
        raise ValueError(f"{func}: antialias is not supported for mode='nearest' (only 'linear' and 'cubic')")
    if x.ndim == 0:
        raise ValueError(f"{func}: x must have at least one dimension, got a scalar")
    g = shapes.resize_geometry(
        x.shape, sizes, scales, axes=axes, keep_aspect_ratio_policy=keep_aspect_ratio_policy, func=func
    )
    k = len(g.axes)
    if ctm == "tf_crop_and_resize":
        if roi is None:
            raise ValueError(f"{func}: coordinate_transformation_mode='tf_crop_and_resize' needs roi")
        r = v.float_tuple(roi, 2 * k, func, "roi", scalar_ok=False)
        rois: dict[int, tuple[float, float] | None] = {a: (r[i], r[k + i]) for i, a in enumerate(g.axes)}
    else:
        rois = dict.fromkeys(g.axes)
    if math.prod(g.out_shape) == 0:
        return g, None
    v.check_allocation(g.out_shape, np.float64, func, "the float64 output")  # before the tables
    for a in g.axes:
        i, o = g.in_shape[a], g.out_shape[a]
        reach = max(i / o, 1 / g.scales[a]) if antialias else 1.0
        check_tables(func, i, o, _ONNX_TAPS[mode], reach)
    ax = OnnxAxis(mode, ctm, nearest_mode, cubic_coeff_a, exclude_outside, antialias)
    plans: list[AxisPlan | None] = [None] * x.ndim
    for j, a in enumerate(g.axes):
        # onnx.reference resamples an array holding the listed axes in the listed order; its sum
        # over the taps is pairwise where no later listed axis is longer than 1
        contiguous = math.prod(g.in_shape[b] for b in g.axes[j + 1:]) == 1
        plans[a] = cached_onnx_plan(g.in_shape[a], g.out_shape[a], g.scales[a], rois[a], ax, contiguous)
    return g, plans
