"""Gradients of resize_conv: the convolution's, then the transposed interpolation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from upconv import _validate as v
from upconv.grad._common import _check_grad_out, _sum_bias
from upconv.grad.convolution import conv_grad_input, conv_grad_weight
from upconv.grad.interpolation import interpolate_grad_input
from upconv.ops.arrays import array_function
from upconv.ops.resize_convolution import plan_resize_conv

if TYPE_CHECKING:
    import numpy.typing as npt

# --------------------------------------------------------------------------
# resize_conv = interpolate, then conv


def _resize_conv_parts(func: str, grad_out: npt.ArrayLike, x: npt.ArrayLike, weight: npt.ArrayLike,
                       bias: npt.ArrayLike | None, scale_factor: float | Sequence[float], mode: str, padding: Any,
                       stride: int | Sequence[int], dilation: int | Sequence[int], groups: int,
                       align_corners: bool | None,
                       ) -> tuple[np.dtype[Any], np.ndarray, np.ndarray, np.ndarray, dict[str, Any], tuple[Any, ...],
                                  bool]:
    """Validate a resize_conv call; the interpolation arguments and the interpolated input."""
    result_dtype, arrays = v.float_arrays(func, grad_out=grad_out, x=x, weight=weight, bias=bias)
    # float_arrays types its entries Optional: only bias may be None
    gy, xa, w, b = cast("tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]", arrays)
    n = v.kernel_weight(func, w).ndim - 2
    xb, unbatched = v.batched(func, xa, n, weight=w)
    gb = gy[None] if unbatched else gy
    plan = plan_resize_conv(func, xb, w, b, scale_factor, mode, align_corners, stride, padding, dilation, groups)
    expected = xb.shape[:1] + (w.shape[0],) + plan.geometry.out_size
    _check_grad_out(func, gy, expected[1:] if unbatched else expected, "resize_conv")
    interp: dict[str, Any] = {"scale_factor": scale_factor, "mode": plan.mode, "align_corners": plan.align_corners}
    up = plan.resampling.run(xb, func)
    conv_args = (w, b, stride, padding, dilation, plan.groups)
    return result_dtype, gb, xb, up, interp, conv_args, unbatched


@array_function
def resize_conv_grad_input(grad_out: npt.ArrayLike, x: npt.ArrayLike, weight: npt.ArrayLike,
                           bias: npt.ArrayLike | None = None,
                           scale_factor: float | Sequence[float] = 2, mode: str = "nearest", padding: Any = "same",
                           stride: int | Sequence[int] = 1, dilation: int | Sequence[int] = 1, groups: int = 1, *,
                           align_corners: bool | None = None) -> np.ndarray:
    r"""Gradient of :func:`upconv.ops.resize_convolution.resize_conv` with respect to ``x``.

    The chain rule through its two steps: ``interpolate_grad_input(conv_grad_input(g, up, w), x)``,
    i.e. a transposed convolution followed by the transposed interpolation.

    Parameters
    ----------
    grad_out : (N, C_out, *out_size) or (C_out, *out_size) array_like
    x, weight, bias, scale_factor, mode, padding, stride, dilation, groups, align_corners
        The forward call's arguments.

    Returns
    -------
    grad_x : ndarray, shape of ``x``

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.grad import resize_conv_grad_input
    >>> resize_conv_grad_input(np.ones((1, 1, 6)), np.zeros((1, 1, 3)), np.ones((1, 1, 3)))
    array([[[5., 6., 5.]]])
    """
    func = "resize_conv_grad_input"
    result_dtype, gb, xb, up, interp, conv_args, unbatched = _resize_conv_parts(
        func, grad_out, x, weight, bias, scale_factor, mode, padding, stride, dilation, groups, align_corners)
    g_up = conv_grad_input(gb, up, *conv_args)
    gx = interpolate_grad_input(g_up, xb, **interp)
    return (gx[0] if unbatched else gx).astype(result_dtype, copy=False)


@array_function
def resize_conv_grad_weight(grad_out: npt.ArrayLike, x: npt.ArrayLike, weight: npt.ArrayLike,
                            bias: npt.ArrayLike | None = None,
                            scale_factor: float | Sequence[float] = 2, mode: str = "nearest", padding: Any = "same",
                            stride: int | Sequence[int] = 1, dilation: int | Sequence[int] = 1, groups: int = 1, *,
                            align_corners: bool | None = None) -> np.ndarray:
    r"""Gradient of :func:`upconv.ops.resize_convolution.resize_conv` with respect to ``weight``.

    :func:`conv_grad_weight` with the interpolated input ``interpolate(x)``.

    Returns
    -------
    grad_weight : (C_out, C_in / groups, *kernel_size) ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.grad import resize_conv_grad_weight
    >>> resize_conv_grad_weight(np.ones((1, 1, 6)), np.array([[[1.0, 2.0, 3.0]]]), np.ones((1, 1, 3)))
    array([[[ 9., 12., 11.]]])
    """
    func = "resize_conv_grad_weight"
    result_dtype, gb, xb, up, interp, conv_args, unbatched = _resize_conv_parts(
        func, grad_out, x, weight, bias, scale_factor, mode, padding, stride, dilation, groups, align_corners)
    return conv_grad_weight(gb, up, *conv_args).astype(result_dtype, copy=False)


@array_function
def resize_conv_grad_bias(grad_out: npt.ArrayLike, x: npt.ArrayLike, weight: npt.ArrayLike,
                          bias: npt.ArrayLike | None = None,
                          scale_factor: float | Sequence[float] = 2, mode: str = "nearest", padding: Any = "same",
                          stride: int | Sequence[int] = 1, dilation: int | Sequence[int] = 1, groups: int = 1, *,
                          align_corners: bool | None = None) -> np.ndarray:
    r"""Gradient of :func:`upconv.ops.resize_convolution.resize_conv` with respect to ``bias``.

    ``grad_out`` summed per channel.

    Returns
    -------
    grad_bias : (C_out,) ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.grad import resize_conv_grad_bias
    >>> resize_conv_grad_bias(np.ones((1, 2, 6)), np.zeros((1, 1, 3)), np.ones((2, 1, 3)))
    array([6., 6.])
    """
    func = "resize_conv_grad_bias"
    result_dtype, gb, *_ = _resize_conv_parts(
        func, grad_out, x, weight, bias, scale_factor, mode, padding, stride, dilation, groups, align_corners)
    return _sum_bias(gb, False).astype(result_dtype, copy=False)
