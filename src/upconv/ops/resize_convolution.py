"""Resize-convolution: interpolate, then convolve.

The artifact-free alternative to the transposed convolution (Odena, Dumoulin
& Olah, "Deconvolution and Checkerboard Artifacts", Distill 2016; seed 003):
the up-sampling (nearest, bilinear, ...) and the learned filtering are
separate steps, so every output pixel is reached by the same number of
kernel taps.  With ``mode="nearest"`` and an integer factor ``s`` it equals
a stride-``s`` transposed convolution with ``k + s - 1`` taps
(:func:`resize_equivalent_kernel`,
:func:`upconv.shapes.resize_conv_transpose_padding`), whose polyphase DC
gains are all equal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.ops.arrays import array_function
from upconv.ops.convolution import check_conv_channels, convolve, finish, prepare
from upconv.ops.resample_plans import interpolate_resampling
from upconv.ops.resampling import Resampling
from upconv.ops.transposed import as_conv_weight

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["resize_conv", "resize_equivalent_kernel", "RESIZE_CONV_MODES"]

#: Interpolation modes of :func:`resize_conv`; ``"linear"`` is (bi/tri)linear for any number of axes.
RESIZE_CONV_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "trilinear", "bicubic", "area")

_LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}


def interpolation_args(
    func: str, x: np.ndarray, n: int, scale_factor: v.FloatOrTuple, mode: str, align_corners: bool | None
) -> tuple[str, bool | None, tuple[int, ...]]:
    """Validate the interpolation half of a resize-convolution: ``(mode for interpolate, align_corners, size)``."""
    mode = v.choice(mode, RESIZE_CONV_MODES, func, "mode")
    if not 1 <= n <= 3:
        raise ValueError(f"{func}: interpolation supports 1 to 3 spatial axes, got a weight with {n}")
    if mode in ("linear", "bilinear", "trilinear"):
        if mode != "linear" and mode != _LINEAR[n]:
            raise ValueError(
                f"{func}: mode={mode!r} needs {2 if mode == 'bilinear' else 3} spatial axes, the weight has {n}; "
                f"use mode='linear' (multilinear for any number of axes)"
            )
        mode = _LINEAR[n]
    elif mode == "bicubic" and n != 2:
        raise ValueError(f"{func}: mode='bicubic' needs 2 spatial axes, the weight has {n}")
    if align_corners is not None:
        if mode in ("nearest", "nearest-exact", "area"):
            raise ValueError(
                f"{func}: align_corners option can only be set with the interpolating modes: "
                f"linear | bilinear | bicubic | trilinear (mode={mode!r}), got align_corners={align_corners!r}"
            )
        align_corners = v.boolean(align_corners, func, "align_corners")
    size = shapes.interpolate_output_size(x.shape[2:], None, scale_factor, allow_empty=False, func=func)
    return mode, align_corners, size


def check_convolution(func: str, c_in: int, size: tuple[int, ...], w: np.ndarray, b: np.ndarray | None,
                      stride: v.IntOrTuple, padding: v.PaddingLike, dilation: v.IntOrTuple,
                      groups: int) -> tuple[int, shapes.ConvGeometry]:
    """Validate the convolution half (as :func:`upconv.conv` does) on the interpolated size: ``(groups, geometry)``."""
    groups = v.integer(groups, func, "groups", minimum=1)  # w is checked by the caller (v.kernel_weight)
    check_conv_channels(func, c_in, w, b, groups)
    return groups, shapes.conv_geometry(size, w.shape[2:], stride, padding, dilation, func=func)


class ResizeConvPlan(NamedTuple):
    """A validated resize-convolution: the interpolation's arguments and plan, the convolution's geometry."""

    mode: str
    align_corners: bool | None
    groups: int
    geometry: shapes.ConvGeometry
    resampling: Resampling


def plan_resize_conv(func: str, x: np.ndarray, w: np.ndarray, b: np.ndarray | None, scale_factor: v.FloatOrTuple,
                     mode: str, align_corners: bool | None, stride: v.IntOrTuple, padding: v.PaddingLike,
                     dilation: v.IntOrTuple, groups: int) -> ResizeConvPlan:
    """Validate and plan :func:`resize_conv` for batched ``x`` and weight ``w`` (their shapes and dtype only)."""
    return _plan(func, x.shape, x.dtype, w.shape, None if b is None else b.shape, scale_factor, mode,
                 align_corners, stride, padding, dilation, groups)


@v.memoized
def _plan(func: str, shape: tuple[int, ...], dtype: np.dtype[Any], w_shape: tuple[int, ...],
          b_shape: tuple[int, ...] | None, scale_factor: v.FloatOrTuple, mode: str, align_corners: bool | None,
          stride: v.IntOrTuple, padding: v.PaddingLike, dilation: v.IntOrTuple, groups: int) -> ResizeConvPlan:
    """:func:`plan_resize_conv`, memoized: planning costs a small call more than its arithmetic."""
    x, w = v.proxy(shape, dtype), v.proxy(w_shape, dtype)
    b = None if b_shape is None else v.proxy(b_shape, dtype)
    mode, align_corners, size = interpolation_args(func, x, len(w_shape) - 2, scale_factor, mode, align_corners)
    groups, g = check_convolution(func, shape[1], size, w, b, stride, padding, dilation, groups)
    resampling = interpolate_resampling(func, x, None, scale_factor, mode, align_corners, None, False)
    return ResizeConvPlan(mode, align_corners, groups, g, resampling)


@array_function
def resize_conv(
    x: npt.ArrayLike,
    weight: npt.ArrayLike,
    bias: npt.ArrayLike | None = None,
    scale_factor: v.FloatOrTuple = 2,
    mode: str = "nearest",
    padding: v.PaddingLike = "same",
    stride: v.IntOrTuple = 1,
    dilation: v.IntOrTuple = 1,
    groups: int = 1,
    *,
    align_corners: bool | None = None,
) -> np.ndarray:
    r"""Up-sample with :func:`upconv.interpolate`, then convolve with :func:`upconv.conv`.

    ``resize_conv(x, w, b, s, mode, padding, ...) ==
    conv(interpolate(x, scale_factor=s, mode=mode, align_corners=...), w, b,
    stride, padding, dilation, groups)``.

    Parameters
    ----------
    x : (N, C_in, *in_size) or (C_in, *in_size) array_like
        Input; ``n = weight.ndim - 2`` spatial axes (1 to 3).
    weight : (C_out, C_in / groups, *kernel_size) array_like
        Filters of the convolution (conv layout).
    bias : (C_out,) array_like, optional
    scale_factor : float or sequence of n floats, optional
        Up-sampling factor (default 2); the interpolated size is
        ``floor(in * scale_factor)`` (:func:`upconv.shapes.interpolate_output_size`).
    mode : {"nearest", "nearest-exact", "linear", "bilinear", "trilinear", "bicubic", "area"}
        Interpolation mode, as :func:`upconv.interpolate`; ``"linear"``
        means multilinear for any number of axes.
    padding : int, sequence, pairs, "same" or "valid", optional
        The convolution's padding; ``"same"`` (default, stride 1) keeps the
        interpolated size.
    stride, dilation, groups : optional
        The convolution's, as :func:`upconv.conv`.
    align_corners : bool, optional
        Linear and cubic modes only, as :func:`upconv.interpolate`.

    Returns
    -------
    y : (N, C_out, *out_size) or (C_out, *out_size) ndarray
        ``out_size = conv_output_size(floor(in * scale_factor), ...)``.

    Raises
    ------
    ValueError, TypeError
        For an invalid interpolation or convolution, naming the argument.

    See Also
    --------
    resize_equivalent_kernel : the equal transposed convolution (nearest).
    upconv.grad.resize_conv_grad_input, upconv.grad.resize_conv_grad_weight

    Notes
    -----
    With ``mode="nearest"``, an integer factor ``s``, a ``k``-tap kernel and
    padding ``p`` this is a stride-``s`` transposed convolution with the
    ``k + s - 1``-tap kernel ``flip(w) * box_s`` and padding ``k - 1 - p``:
    every phase of that kernel sums to ``sum(w)``, so a flat input gives a
    flat output and there is no checkerboard (Odena et al. 2016).  With a
    linear mode the same holds away from the borders.

    Examples
    --------
    >>> import numpy as np, upconv
    >>> from upconv import resize_conv
    >>> x = np.array([[[1.0, 2.0, 3.0]]])
    >>> resize_conv(x, np.ones((1, 1, 3)))          # [1,1,2,2,3,3] convolved with [1,1,1], 'same'
    array([[[2., 4., 5., 7., 8., 6.]]])
    >>> w = np.array([[[1.0, 2.0, 3.0]]])
    >>> K = resize_equivalent_kernel(w, 2)
    >>> P = upconv.shapes.resize_conv_transpose_padding(3, padding=1)
    >>> np.allclose(resize_conv(x, w, padding=1), upconv.conv_transpose(x, K, stride=2, padding=P))
    True
    """
    func = "resize_conv"

    result_dtype, xb, w, b, groups, unbatched = prepare(func, x, weight, bias, groups)
    plan = plan_resize_conv(func, xb, w, b, scale_factor, mode, align_corners, stride, padding, dilation, groups)
    # the two ops' engines on the validated arrays: one validation, the small call's cost (benchmarks/README.md)
    up = plan.resampling.run(xb, func)
    return finish(convolve(up, w, plan.geometry, plan.groups, func), b, result_dtype, unbatched)


@array_function
def resize_equivalent_kernel(
    conv_weight: npt.ArrayLike, stride: v.IntOrTuple, mode: str = "nearest", *, groups: int = 1
) -> np.ndarray:
    """Transposed-convolution kernel equal to nearest upsampling followed by a convolution.

    Parameters
    ----------
    conv_weight : (C_out, C_in / groups, *k) array_like
        Weights of the stride-1 convolution applied after upsampling (conv
        layout, as :func:`upconv.conv`).
    stride : int or sequence of n ints
        Upsampling factor = the transposed convolution's stride.
    mode : {"nearest"}
        Upsampling mode (integer-factor nearest: every pixel repeated).
    groups : int, optional
        Groups of the convolution.

    Returns
    -------
    (C_in, C_out / groups, *(k + s - 1)) ndarray
        Transposed-convolution weights (torch layout), same dtype policy as
        :func:`upconv.conv`.

    Raises
    ------
    TypeError, ValueError
        For invalid weights, stride, mode or groups.

    Notes
    -----
    Per axis, ``K = flip(w) * box_s`` (full convolution with ``s`` ones):
    ``K[t] = sum_{u=0}^{s-1} w[k - 1 - t + u]``.  Then

    ``conv_transpose(x, K, stride=s, padding=P) == conv(nearest_s(x), w, padding=p)``

    exactly, borders included, with
    ``P = upconv.shapes.resize_conv_transpose_padding(k, p)``
    (``= k - 1 - p`` per side).  Every phase of ``K`` sums to ``sum(w)``, so
    :func:`upconv.dc_gain_spread` is zero: resize-convolution cannot make a
    checkerboard on flat regions (Odena et al., 2016).

    Examples
    --------
    >>> import numpy as np
    >>> from upconv import resize_equivalent_kernel
    >>> resize_equivalent_kernel(np.array([[[1.0, 2.0, 3.0]]]), 2)
    array([[[3., 5., 3., 1.]]])
    """
    func = "resize_equivalent_kernel"
    v.choice(mode, ("nearest",), func, "mode")
    dtype, (w,) = v.float_arrays(func, conv_weight=conv_weight)
    v.kernel_weight(func, w, "conv_weight")
    groups = v.integer(groups, func, "groups", minimum=1)
    if w.shape[0] % groups:
        raise ValueError(
            f"{func}: conv_weight.shape[0] (out channels, {w.shape[0]}) must be divisible by groups={groups}"
        )
    n = w.ndim - 2
    s = v.int_tuple(stride, n, func, "stride", minimum=1)
    k = w.shape[2:]
    out_k = tuple(k_ + s_ - 1 for k_, s_ in zip(k, s, strict=True))
    v.check_allocation(w.shape[:2] + out_k, w.dtype, func, "the kernel")
    kern = np.flip(w, axis=tuple(range(2, 2 + n)))
    for a, s_ in enumerate(s):
        shape = list(kern.shape)
        shape[2 + a] += s_ - 1
        box = np.zeros(shape, dtype=w.dtype)
        for u in range(s_):
            idx = [slice(None)] * kern.ndim
            idx[2 + a] = slice(u, u + kern.shape[2 + a])
            box[tuple(idx)] += kern
        kern = box
    return np.ascontiguousarray(as_conv_weight(kern, groups)).astype(dtype, copy=False)
