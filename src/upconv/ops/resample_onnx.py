"""ONNX ``Resize``'s per-axis taps and weights: the plans of :func:`upconv.resize`.

A port of ``onnx/reference/ops/op_resize.py`` (opset 19): the coordinate
transformation modes (``ONNX_COORDINATES``), the coefficients of every mode
(``ONNX_COEFFICIENTS``) and :func:`onnx_plan`, which turns one axis into an
:class:`upconv.ops.resampling.AxisPlan`.  All in float64, except the cubic
polynomial, which the reference evaluates in float32; the reference's
tie-breaking of neighbour windows and numpy's summation order are kept.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from upconv.ops.resampling import PAIRWISE, SEQUENTIAL, AxisPlan
from upconv.shapes import ceil_div

if TYPE_CHECKING:
    import numpy.typing as npt

    Doubles = npt.NDArray[np.float64]

__all__ = ["OnnxAxis", "ONNX_COORDINATES", "ONNX_COEFFICIENTS", "onnx_plan", "cached_onnx_plan"]


@dataclass(frozen=True)
class OnnxAxis:
    """Resize attributes that shape the taps of one axis (all float64 arithmetic)."""

    mode: str
    coordinate_transformation_mode: str = "half_pixel"
    nearest_mode: str = "round_prefer_floor"
    cubic_coeff_a: float = -0.75
    exclude_outside: bool = False
    antialias: bool = False


def _x_half_pixel(y: Doubles, scale: float, n_in: int, length: float, n_out: int, roi: None) -> Doubles:
    return (y + 0.5) / scale - 0.5


def _x_half_pixel_symmetric(y: Doubles, scale: float, n_in: int, length: float, n_out: int, roi: None) -> Doubles:
    adjustment = n_out / length
    center = n_in / 2
    offset = center * (1 - adjustment)
    return offset + (y + 0.5) / scale - 0.5


def _x_pytorch_half_pixel(y: Doubles, scale: float, n_in: int, length: float, n_out: int, roi: None) -> Doubles:
    if length == 1:
        return np.full(n_out, -0.5)
    return (y + 0.5) / scale - 0.5


def _x_align_corners(y: Doubles, scale: float, n_in: int, length: float, n_out: int, roi: None) -> Doubles:
    if length == 1:
        return np.zeros(n_out)
    return y * (n_in - 1) / (length - 1)


def _x_asymmetric(y: Doubles, scale: float, n_in: int, length: float, n_out: int, roi: None) -> Doubles:
    return y / scale


def _x_tf_crop_and_resize(
    y: Doubles, scale: float, n_in: int, length: float, n_out: int, roi: tuple[float, float]
) -> Doubles:
    start, end = roi
    if length == 1:
        x = np.full(n_out, (end - start) * (n_in - 1) / 2)
    else:
        x = y * (end - start) * (n_in - 1) / (length - 1)
    return x + start * (n_in - 1)


#: coordinate_transformation_mode -> source coordinate of output index y (``roi`` only with tf_crop_and_resize).
ONNX_COORDINATES: dict[str, Callable[..., Doubles]] = {
    "half_pixel": _x_half_pixel,
    "half_pixel_symmetric": _x_half_pixel_symmetric,
    "pytorch_half_pixel": _x_pytorch_half_pixel,
    "align_corners": _x_align_corners,
    "asymmetric": _x_asymmetric,
    "tf_crop_and_resize": _x_tf_crop_and_resize,
}


def _c_nearest(ratio: Doubles, scale: float, ax: OnnxAxis) -> Doubles:
    """Two taps (left, right); exactly one has weight 1.  An integral coordinate has ratio 1."""
    integral = ratio == 1.0
    right = {
        "round_prefer_floor": ratio > 0.5,
        "round_prefer_ceil": ratio >= 0.5,
        "floor": np.zeros(ratio.shape, bool),
        "ceil": np.ones(ratio.shape, bool),
    }[ax.nearest_mode] | integral
    return np.stack([~right, right], 1).astype(np.float64)


def _c_linear(ratio: Doubles, scale: float, ax: OnnxAxis) -> Doubles:
    return np.stack([1 - ratio, ratio], 1)


def _c_cubic(ratio: Doubles, scale: float, ax: OnnxAxis) -> Doubles:
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


def _c_linear_aa(ratio: Doubles, scale: float, ax: OnnxAxis) -> Doubles:
    scale = min(scale, 1.0)
    start = int(np.floor(-1 / scale) + 1)
    footprint = 2 - 2 * start
    args = (np.arange(start, start + footprint)[None, :] - ratio[:, None]) * scale
    c = np.clip(1 - np.abs(args), 0, 1)
    return c / _row_sums(c)[:, None]


def _c_cubic_aa(ratio: Doubles, scale: float, ax: OnnxAxis) -> Doubles:
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
    # numpy's stubs type any(axis=1) as possibly a scalar
    return np.where(wide[:, None], c.astype(np.float64) / total.astype(np.float64)[:, None],  # type: ignore[index]
                    (c / total[:, None]).astype(np.float64))


#: (mode, antialias) -> coefficients of the taps, one row per output position.
ONNX_COEFFICIENTS: dict[tuple[str, bool], Callable[[Doubles, float, OnnxAxis], Doubles]] = {
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
            roi is not None and math.isclose(roi[0], 0.0) and math.isclose(roi[1], 1.0))):
        return None
    y = np.arange(n_out, dtype=np.float64)
    x = ONNX_COORDINATES[ctm](y, scale, n_in, scale * n_in, n_out, roi)
    outside = ((x < 0) | (x > n_in - 1)) if crop else None
    x_int = np.floor(x).astype(np.int64)
    ratio = np.where(x == x_int, 1.0, x - x_int)
    coeffs = ONNX_COEFFICIENTS[ax.mode, ax.antialias](ratio, scale, ax)
    n = coeffs.shape[1]
    # the reference's window: the n taps nearest to x in edge-padded coordinates, ties to the left
    pad = ceil_div(n, 2)
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


@functools.lru_cache(maxsize=512)
def cached_onnx_plan(n_in: int, n_out: int, scale: float, roi: tuple[float, float] | None, ax: OnnxAxis,
                     contiguous: bool = False) -> AxisPlan | None:
    """:func:`onnx_plan`, a pure function of its arguments: cached, its arrays shared read-only."""
    plan = onnx_plan(n_in, n_out, scale, roi, ax, contiguous)
    return None if plan is None else plan.read_only()
