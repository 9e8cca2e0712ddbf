"""Gradients of interpolate and resize: the transposed (adjoint) resampling."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from upconv import _validate as v
from upconv.grad._common import _check_grad_out
from upconv.ops.arrays import array_function
from upconv.ops.resample_plans import interpolate_plans, resize_plans
from upconv.ops.resampling import SEQUENTIAL, AxisPlan, apply

if TYPE_CHECKING:
    import numpy.typing as npt

# --------------------------------------------------------------------------
# interpolation: the transposed (adjoint) resampling


def _adjoint_plan(p: AxisPlan, n_in: int, every_tap: bool = False) -> AxisPlan:
    """The plan of the transposed resampling of one axis: for every input, the outputs that read it.

    ``p`` reads ``x[index[t, o]]`` with ``weight[t, o]`` for output ``o``; the
    adjoint sends ``g[o]`` back with the same weight, so input ``i`` gathers
    ``sum weight[t, o] * g[o]`` over its entries ``index[t, o] == i``, in
    output order.  Outputs marked ``outside`` (the extrapolation value, a
    constant) and the padding of varying windows (past ``p.size``) send
    nothing; nor do zero-weight taps, unless ``every_tap``: torch's backward
    sends ``0 * g`` along them too, which matters only for an inf or NaN.
    Inputs read by fewer outputs than the busiest one are padded with
    zero-weight taps in turn (``size``).
    """
    T, n_out = p.index.shape
    src = p.index.ravel()
    out = np.broadcast_to(np.arange(n_out), (T, n_out)).ravel()
    w = p.weight.ravel()
    keep = np.ones((T, n_out), bool) if p.size is None else np.arange(T)[:, None] < p.size
    if not every_tap:
        keep &= p.weight != 0
    if p.outside is not None:
        keep &= ~p.outside
    keep = keep.ravel()
    src, out, w = src[keep], out[keep], w[keep]
    by_input = np.lexsort((out, src))  # grouped by input, outputs in order within a group
    src, out, w = src[by_input], out[by_input], w[by_input]
    counts = np.bincount(src, minlength=n_in)
    width = max(1, int(counts.max(initial=0)))
    rank = np.arange(src.size) - np.repeat(np.cumsum(counts) - counts, counts)
    index = np.zeros((n_in, width), dtype=np.intp)
    weight = np.zeros((n_in, width), dtype=p.weight.dtype)
    index[src, rank], weight[src, rank] = out, w
    return AxisPlan.taps(index, weight, n_out, p.weight.dtype, order=SEQUENTIAL, size=counts if every_tap else None)


def _adjoint_plans(plans: Sequence[AxisPlan | None], in_shape: tuple[int, ...], every_tap: bool = False,
                   ) -> tuple[AxisPlan | None, ...]:
    """:func:`_adjoint_plan` of every axis, read-only (a memoized plan shares them)."""
    return tuple(None if p is None else _adjoint_plan(p, in_shape[a], every_tap).read_only()
                 for a, p in enumerate(plans))


def _transposed_resample(g: np.ndarray, plans: Sequence[AxisPlan | None], in_shape: tuple[int, ...],
                         func: str, adjoint: Sequence[AxisPlan | None] | None = None) -> np.ndarray:
    """Apply the adjoint of :func:`upconv.ops.resampling.apply` with ``plans`` to ``g``.

    Interpolation is ``y = M x`` with one sparse matrix per axis; its
    adjoint ``M^T g`` is again a resampling, one per axis
    (:func:`_adjoint_plan`: every input gathers the outputs that read it;
    ``adjoint``, when given, is :func:`_adjoint_plans` of ``plans``),
    computed by the same compiled engine (the last two axes fused).  With
    an inf or NaN in ``g`` it is computed again with torch's taps (zero
    weights too) and without the padding, which would have turned an inf
    into NaN elsewhere (:func:`upconv.ops.resampling.apply`).
    """
    order = list(range(g.ndim - 1, -1, -1))
    g = np.ascontiguousarray(g)
    out = apply(g, _adjoint_plans(plans, in_shape) if adjoint is None else adjoint, order, func)
    # one pass over the smaller array: an inf or NaN in g reaches out, since an output's weights sum to 1
    # (not with ONNX exclude_outside, where an output may weigh its only taps by 0: its g then stays out)
    with np.errstate(invalid="ignore", over="ignore"):  # a finite sum that overflows only costs the slow path
        if np.isfinite(np.add.reduce(out if out.size <= g.size else g, axis=None)):
            return out
    return apply(g, _adjoint_plans(plans, in_shape, every_tap=True), order, func)


@v.memoized_on_shape
def _interpolate_adjoint(func: str, x: np.ndarray, size: Any, scale_factor: Any, mode: str,
                         align_corners: bool | None, recompute_scale_factor: bool | None, antialias: bool,
                         ) -> tuple[tuple[int, ...], tuple[AxisPlan | None, ...] | None, tuple[AxisPlan | None, ...]]:
    """Validate and plan :func:`interpolate_grad_input` for ``x`` (its shape and dtype), memoized:
    ``(out_size, the forward plans or None, their adjoints)``."""
    out_size, plans = interpolate_plans(func, x, size, scale_factor, mode, align_corners, recompute_scale_factor,
                                        antialias)
    if plans is None:
        return out_size, None, ()
    return out_size, tuple(plans), _adjoint_plans(plans, x.shape)


@array_function
def interpolate_grad_input(
    grad_out: npt.ArrayLike,
    x: npt.ArrayLike,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> np.ndarray:
    r"""Gradient of :func:`upconv.interpolate` with respect to ``x``: the transposed interpolation.

    Interpolation is linear, ``y = M x`` with one small matrix per axis
    (``M = M_1 \otimes ... \otimes M_n``); the gradient is ``M^T g``: every
    output's gradient is sent back to the taps it was read from, with the
    same weights (nearest: to its source pixel; linear: split between the
    two neighbours).

    Parameters
    ----------
    grad_out : (N, C, *out_size) array_like
    x, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias
        The forward call's arguments, as :func:`upconv.interpolate`; only
        the shape and dtype of ``x`` are used.

    Returns
    -------
    grad_x : ndarray, shape of ``x``

    Raises
    ------
    ValueError, TypeError
        For an invalid forward call or a ``grad_out`` of the wrong shape.

    Notes
    -----
    .. math::

        \frac{\partial L}{\partial x[\ldots, i]} = \sum_{o, t:\ \mathit{index}[t, o] = i}
            \mathit{weight}[t, o]\, g[\ldots, o]

    per axis, with the taps and weights torch uses (:mod:`upconv.ops.resample_torch`).
    Nearest up-sampling by an integer factor transposes to a block sum
    (:func:`unpool_grad_input`).

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.grad import interpolate_grad_input
    >>> x = np.zeros((1, 1, 2))
    >>> interpolate_grad_input(np.ones((1, 1, 4)), x, scale_factor=2)
    array([[[2., 2.]]])
    >>> interpolate_grad_input(np.array([[[1.0, 0.0, 0.0, 0.0]]]), x, scale_factor=2, mode="linear")
    array([[[1., 0.]]])
    >>> interpolate_grad_input(np.array([[[0.0, 1.0, 0.0, 0.0]]]), x, scale_factor=2, mode="linear")
    array([[[0.75, 0.25]]])
    """
    func = "interpolate_grad_input"
    result_dtype, arrays = v.float_arrays(func, grad_out=grad_out, x=x)
    gy, xa = cast("list[np.ndarray]", arrays)  # float_arrays types its entries Optional: neither is None
    out_size, plans, adjoint = _interpolate_adjoint(func, xa, size, scale_factor, mode, align_corners,
                                                    recompute_scale_factor, antialias)
    _check_grad_out(func, gy, xa.shape[:2] + out_size, "interpolate")
    if plans is None:
        return np.zeros(xa.shape, dtype=result_dtype)
    return _transposed_resample(gy, plans, xa.shape, func, adjoint).astype(result_dtype, copy=False)


@array_function
def resize_grad_input(
    grad_out: npt.ArrayLike,
    x: npt.ArrayLike,
    sizes: Sequence[int] | None = None,
    scales: Sequence[float] | None = None,
    roi: Sequence[float] | None = None,
    *,
    mode: str = "nearest",
    coordinate_transformation_mode: str = "half_pixel",
    nearest_mode: str = "round_prefer_floor",
    cubic_coeff_a: float = -0.75,
    exclude_outside: bool = False,
    extrapolation_value: float = 0.0,
    antialias: bool = False,
    axes: Sequence[int] | None = None,
    keep_aspect_ratio_policy: str = "stretch",
) -> np.ndarray:
    r"""Gradient of :func:`upconv.resize` (ONNX ``Resize``) with respect to ``x``: the transposed resampling.

    As :func:`interpolate_grad_input`, with the taps and weights of ONNX
    ``Resize`` (computed in float64, then cast to the result dtype).
    Outputs that take ``extrapolation_value`` (``tf_crop_and_resize``
    outside the region) do not depend on ``x`` and pass no gradient.

    Parameters
    ----------
    grad_out : array_like, shape of the forward output
    x, sizes, scales, roi, mode, coordinate_transformation_mode, nearest_mode
        The forward call's arguments, as :func:`upconv.resize`; only the
        shape and dtype of ``x`` are used.
    cubic_coeff_a, exclude_outside, extrapolation_value, antialias, axes, keep_aspect_ratio_policy
        The forward call's other arguments.

    Returns
    -------
    grad_x : ndarray, shape of ``x``

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.grad import resize_grad_input
    >>> resize_grad_input(np.ones((1, 4)), np.zeros((1, 2)), scales=[1, 2], mode="linear")
    array([[2., 2.]])
    """
    func = "resize_grad_input"
    result_dtype, arrays = v.float_arrays(func, grad_out=grad_out, x=x)
    gy, xa = cast("list[np.ndarray]", arrays)  # float_arrays types its entries Optional: neither is None
    v.real(extrapolation_value, func, "extrapolation_value", finite=False)  # validated, not used
    g, plans = resize_plans(func, xa, sizes, scales, roi, mode, coordinate_transformation_mode, nearest_mode,
                            cubic_coeff_a, exclude_outside, antialias, axes, keep_aspect_ratio_policy)
    _check_grad_out(func, gy, g.out_shape, "resize")
    if plans is None:
        return np.zeros(xa.shape, dtype=result_dtype)
    gx = _transposed_resample(gy.astype(np.float64), plans, xa.shape, func)
    return gx.astype(result_dtype, copy=False)
