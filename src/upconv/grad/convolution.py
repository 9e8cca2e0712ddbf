"""Gradients of conv and conv_transpose (each is the other's input gradient)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.grad._common import _check_grad_out, _sum_bias
from upconv.ops.arrays import array_function
from upconv.ops.convolution import (
    check_conv_channels,
    check_transpose_channels,
    conv_transpose,
    finish,
    prepare,
    spatial_output_size,
)
from upconv.ops.correlation import correlate, im2col_into, weight_gradient
from upconv.ops.paths import input_gradient_method, use_simd_conv

if TYPE_CHECKING:
    import numpy.typing as npt


def _setup(func: str, op: str, grad_out: npt.ArrayLike, x: npt.ArrayLike, weight: npt.ArrayLike,
           bias: npt.ArrayLike | None, groups: int,
           ) -> tuple[np.dtype[Any], np.ndarray, np.ndarray, np.ndarray, np.ndarray | None, int, bool]:
    """The forward call's arrays as :func:`upconv.ops.convolution.prepare` gives them, and ``grad_out`` of its dtype."""
    result_dtype, (gy,) = v.float_arrays(func, grad_out=grad_out)
    forward_dtype, xa, w, b, groups, unbatched = prepare(func, x, weight, bias, groups)
    if result_dtype != forward_dtype:
        raise TypeError(
            f"{func}: grad_out must have the dtype of {op}'s output, {forward_dtype}, got {result_dtype}"
        )
    return result_dtype, gy, xa, w, b, groups, unbatched


def _batched_grad_out(func: str, op: str, grad_out: np.ndarray, n: int, c_out: int, size: tuple[int, ...],
                      unbatched: bool) -> np.ndarray:
    """``grad_out`` checked against the forward output's shape ``(n, c_out, *size)``, batched."""
    _check_grad_out(func, grad_out, ((c_out,) if unbatched else (n, c_out)) + size, op)
    return grad_out[None] if unbatched else grad_out


# --------------------------------------------------------------------------
# conv


def _conv_setup(func: str, grad_out: npt.ArrayLike, x: npt.ArrayLike, weight: npt.ArrayLike,
                bias: npt.ArrayLike | None, stride: int | Sequence[int], padding: Any, dilation: int | Sequence[int],
                groups: int,
                ) -> tuple[np.dtype[Any], np.ndarray, np.ndarray, np.ndarray, int, bool, shapes.ConvGeometry]:
    """Validate a conv call and its ``grad_out``; batched compute-dtype arrays and the geometry."""
    result_dtype, gy, xa, w, b, groups, unbatched = _setup(func, "conv", grad_out, x, weight, bias, groups)
    check_conv_channels(func, xa.shape[1], w, b, groups)
    g = shapes.conv_geometry(xa.shape[2:], w.shape[2:], stride, padding, dilation, func=func)
    gy = _batched_grad_out(func, "conv", gy, xa.shape[0], w.shape[0], g.out_size, unbatched)
    return result_dtype, gy, xa, w, groups, unbatched, g


@array_function
def conv_grad_input(
    grad_out: npt.ArrayLike,
    x: npt.ArrayLike,
    weight: npt.ArrayLike,
    bias: npt.ArrayLike | None = None,
    stride: int | Sequence[int] = 1,
    padding: Any = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> np.ndarray:
    r"""Gradient of :func:`upconv.conv` with respect to ``x``: a transposed convolution.

    ``dL/dx = conv_transpose(grad_out, weight, stride=stride, padding=padding,
    output_padding=a, groups=groups, dilation=dilation)``, where the output
    padding ``a = (i + p_begin + p_end - ek) mod s`` gives back the input's
    size (the elements a strided conv never reads get zero gradient).  This
    function *is* that call.

    Parameters
    ----------
    grad_out : (N, C_out, *out_size) or (C_out, *out_size) array_like
        ``dL/dy`` for ``y = conv(x, weight, bias, stride, padding, dilation, groups)``.
    x, weight, bias, stride, padding, dilation, groups
        The forward call's arguments, as :func:`upconv.conv`; only the shape
        of ``x`` is used and ``bias`` does not matter.

    Returns
    -------
    grad_x : ndarray, shape of ``x``

    Raises
    ------
    ValueError, TypeError
        For an invalid forward call, or a ``grad_out`` whose shape is not the
        forward output's.

    See Also
    --------
    upconv.conv_transpose, upconv.shapes.conv_transpose_output_padding

    Notes
    -----
    .. math::

        \frac{\partial L}{\partial x[n, c_i, \mathbf{j}]} = \sum_{c_o, \mathbf{o}, \mathbf{t}:\
            \mathbf{o}\odot s + \mathbf{t}\odot d - p_{begin} = \mathbf{j}}
            w[c_o, c_i, \mathbf{t}]\, g[n, c_o, \mathbf{o}]

    which is the transposed convolution of ``g``: ``C^T g`` for the matrix
    ``C`` of the convolution (:func:`upconv.conv_matrix`).

    Examples
    --------
    >>> import numpy as np, upconv
    >>> from upconv.grad import conv_grad_input
    >>> x, w = np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3))
    >>> g = np.ones((1, 1, 2, 2))                     # dL/dy for L = sum(conv(x, w))
    >>> conv_grad_input(g, x, w)[0, 0]
    array([[1., 2., 2., 1.],
           [2., 4., 4., 2.],
           [2., 4., 4., 2.],
           [1., 2., 2., 1.]])
    >>> np.array_equal(conv_grad_input(g, x, w), upconv.conv_transpose(g, w))
    True
    """
    func = "conv_grad_input"
    result_dtype, gy, xa, w, groups, unbatched, g = _conv_setup(
        func, grad_out, x, weight, bias, stride, padding, dilation, groups
    )
    # the output_padding that makes the transposed convolution return x's size
    output_padding = shapes.conv_transpose_output_padding(
        g.in_size, g.out_size, g.kernel_size, g.stride, g.padding, g.dilation, func=func
    )
    method = input_gradient_method(gy, w, g, groups)
    gx = conv_transpose(gy, w, None, g.stride, g.padding, output_padding, groups, g.dilation, method=method)
    return finish(gx, None, result_dtype, unbatched)


@array_function
def conv_grad_weight(
    grad_out: npt.ArrayLike,
    x: npt.ArrayLike,
    weight: npt.ArrayLike,
    bias: npt.ArrayLike | None = None,
    stride: int | Sequence[int] = 1,
    padding: Any = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> np.ndarray:
    r"""Gradient of :func:`upconv.conv` with respect to ``weight``: the correlation of ``x`` with ``grad_out``.

    Parameters
    ----------
    grad_out : (N, C_out, *out_size) or (C_out, *out_size) array_like
        ``dL/dy`` for ``y = conv(x, weight, bias, stride, padding, dilation, groups)``.
    x, weight, bias, stride, padding, dilation, groups
        The forward call's arguments, as :func:`upconv.conv`; only the shape
        of ``weight`` is used.

    Returns
    -------
    grad_weight : (C_out, C_in / groups, *kernel_size) ndarray

    Raises
    ------
    ValueError, TypeError
        For an invalid forward call or a ``grad_out`` of the wrong shape.
    MemoryError
        If the im2col matrix of one sample exceeds :func:`upconv.get_memory_limit`.

    Notes
    -----
    .. math::

        \frac{\partial L}{\partial w[c_o, c_i, \mathbf{t}]} = \sum_{n, \mathbf{o}}
            g[n, c_o, \mathbf{o}]\, x_{pad}[n, g c_i, \mathbf{o}\odot s + \mathbf{t}\odot d]

    i.e. the im2col matrix of ``x`` (the one :func:`upconv.conv` multiplies
    by the weight) multiplied by ``g``: one GEMM per group.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.grad import conv_grad_weight
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> conv_grad_weight(np.ones((1, 1, 2, 2)), x, np.ones((1, 1, 3, 3)))[0, 0]
    array([[10., 14., 18.],
           [26., 30., 34.],
           [42., 46., 50.]])
    """
    func = "conv_grad_weight"
    result_dtype, gy, xa, w, groups, unbatched, g = _conv_setup(
        func, grad_out, x, weight, bias, stride, padding, dilation, groups
    )
    return weight_gradient(xa, gy, g, groups, func).astype(result_dtype, copy=False)


@array_function
def conv_grad_bias(
    grad_out: npt.ArrayLike,
    x: npt.ArrayLike,
    weight: npt.ArrayLike,
    bias: npt.ArrayLike | None = None,
    stride: int | Sequence[int] = 1,
    padding: Any = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> np.ndarray:
    r"""Gradient of :func:`upconv.conv` with respect to ``bias``: ``grad_out`` summed per channel.

    Parameters
    ----------
    grad_out : (N, C_out, *out_size) or (C_out, *out_size) array_like
    x, weight, bias, stride, padding, dilation, groups
        The forward call's arguments (used to check ``grad_out``'s shape).

    Returns
    -------
    grad_bias : (C_out,) ndarray
        Also when ``bias`` is None (the gradient with respect to a zero bias).

    Notes
    -----
    :math:`\partial L / \partial b[c] = \sum_{n, \mathbf{o}} g[n, c, \mathbf{o}]`.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.grad import conv_grad_bias
    >>> conv_grad_bias(np.ones((2, 3, 2, 2)), np.ones((2, 1, 4, 4)), np.ones((3, 1, 3, 3)))
    array([8., 8., 8.])
    """
    func = "conv_grad_bias"
    result_dtype, gy, *_ = _conv_setup(func, grad_out, x, weight, bias, stride, padding, dilation, groups)
    return _sum_bias(gy, False).astype(result_dtype, copy=False)


def conv_grads(
    grad_out: npt.ArrayLike, x: npt.ArrayLike, weight: npt.ArrayLike, bias: npt.ArrayLike | None,
    stride: int | Sequence[int], padding: Any, dilation: int | Sequence[int], groups: int,
    *, cols: np.ndarray | None = None, input_grad: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """``(grad_x, grad_weight, grad_bias)`` of :func:`upconv.conv`, equal to the three public functions.

    ``cols``, the im2col matrix the forward pass multiplied
    (:func:`upconv.ops.convolution.conv_keeping_cols`), is reused for the weight
    gradient instead of being built again.
    """
    func = "conv_grads"
    result_dtype, gy, xa, w, groups, unbatched, g = _conv_setup(
        func, grad_out, x, weight, bias, stride, padding, dilation, groups
    )
    gw = weight_gradient(xa, gy, g, groups, func, cols=cols).astype(result_dtype, copy=False)
    gb = None if bias is None else _sum_bias(gy, False).astype(result_dtype, copy=False)
    gx = conv_grad_input(grad_out, x, weight, None, stride, padding, dilation, groups) if input_grad else None
    return gx, gw, gb


# --------------------------------------------------------------------------
# conv_transpose


def _conv_transpose_setup(func: str, grad_out: npt.ArrayLike, x: npt.ArrayLike, weight: npt.ArrayLike,
                          bias: npt.ArrayLike | None, stride: int | Sequence[int], padding: Any,
                          output_padding: int | Sequence[int], groups: int, dilation: int | Sequence[int],
                          output_size: Sequence[int] | None,
                          ) -> tuple[np.dtype[Any], np.ndarray, np.ndarray, np.ndarray, int, bool, shapes.ConvGeometry]:
    """Validate a conv_transpose call and its ``grad_out``; batched arrays and the geometry."""
    result_dtype, gy, xa, w, b, groups, unbatched = _setup(
        func, "conv_transpose", grad_out, x, weight, bias, groups
    )
    check_transpose_channels(func, xa.shape[1], w, b, groups)
    if output_size is not None:
        output_size = spatial_output_size(func, output_size, w.ndim - 2, unbatched)
    g = shapes.conv_transpose_geometry(
        xa.shape[2:], w.shape[2:], stride, padding, output_padding, dilation, output_size=output_size, func=func
    )
    gy = _batched_grad_out(func, "conv_transpose", gy, xa.shape[0], w.shape[1] * groups, g.in_size, unbatched)
    return result_dtype, gy, xa, w, groups, unbatched, g


@array_function
def conv_transpose_grad_input(
    grad_out: npt.ArrayLike,
    x: npt.ArrayLike,
    weight: npt.ArrayLike,
    bias: npt.ArrayLike | None = None,
    stride: int | Sequence[int] = 1,
    padding: Any = 0,
    output_padding: int | Sequence[int] = 0,
    groups: int = 1,
    dilation: int | Sequence[int] = 1,
    *,
    output_size: Sequence[int] | None = None,
    method: str = "auto",
) -> np.ndarray:
    r"""Gradient of :func:`upconv.conv_transpose` with respect to ``x``: a convolution.

    ``dL/dx = conv(grad_out, weight, stride=stride, padding=padding,
    dilation=dilation, groups=groups)``: the transposed convolution is the
    adjoint of this convolution, so its gradient is the convolution itself.
    The ``output_padding`` elements at the end of ``grad_out`` are read by
    no window when ``output_padding < stride``; otherwise they are cropped.

    Parameters
    ----------
    grad_out : (N, C_out, *out_size) or (C_out, *out_size) array_like
        ``dL/dy`` for ``y = conv_transpose(x, weight, bias, stride, padding,
        output_padding, groups, dilation, output_size=...)``.
    x, weight, bias, stride, padding, output_padding, groups, dilation, output_size, method
        The forward call's arguments, as :func:`upconv.conv_transpose`; only
        the shape of ``x`` is used; ``bias`` and ``method`` do not matter.

    Returns
    -------
    grad_x : ndarray, shape of ``x``

    Raises
    ------
    ValueError, TypeError
        For an invalid forward call or a ``grad_out`` of the wrong shape.

    See Also
    --------
    upconv.conv

    Notes
    -----
    .. math::

        \frac{\partial L}{\partial x[n, c_i, \mathbf{j}]} = \sum_{c_o, \mathbf{t}}
            w[c_i, c_o, \mathbf{t}]\, g_{pad}[n, c_o, \mathbf{j}\odot s + \mathbf{t}\odot d]

    Examples
    --------
    >>> import numpy as np, upconv
    >>> from upconv.grad import conv_transpose_grad_input
    >>> x, w = np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3))
    >>> g = np.arange(25.0).reshape(1, 1, 5, 5)      # dL/dy, y of shape (1, 1, 5, 5)
    >>> conv_transpose_grad_input(g, x, w, stride=2)[0, 0]
    array([[ 54.,  72.],
           [144., 162.]])
    >>> np.array_equal(_, upconv.conv(g, w, stride=2)[0, 0])
    True
    """
    func = "conv_transpose_grad_input"
    result_dtype, gy, xa, w, groups, unbatched, g = _conv_transpose_setup(
        func, grad_out, x, weight, bias, stride, padding, output_padding, groups, dilation, output_size
    )
    gx = correlate(gy, w, g, groups, func)  # the end padding p_end - output_padding may crop grad_out
    return finish(gx, None, result_dtype, unbatched)


@array_function
def conv_transpose_grad_weight(
    grad_out: npt.ArrayLike,
    x: npt.ArrayLike,
    weight: npt.ArrayLike,
    bias: npt.ArrayLike | None = None,
    stride: int | Sequence[int] = 1,
    padding: Any = 0,
    output_padding: int | Sequence[int] = 0,
    groups: int = 1,
    dilation: int | Sequence[int] = 1,
    *,
    output_size: Sequence[int] | None = None,
    method: str = "auto",
) -> np.ndarray:
    r"""Gradient of :func:`upconv.conv_transpose` with respect to ``weight``.

    ``y = conv_transpose(x, w)`` is ``C_w^T x`` for the matrix ``C_w`` of
    ``conv(., w)``, so ``<g, y> = <conv(g, w), x>``: the weight gradient is
    :func:`conv_grad_weight` with the roles exchanged, the output gradient
    ``g`` as the convolution's input and ``x`` as its output gradient.

    Parameters
    ----------
    grad_out : (N, C_out, *out_size) or (C_out, *out_size) array_like
    x, weight, bias, stride, padding, output_padding, groups, dilation, output_size, method
        The forward call's arguments, as :func:`upconv.conv_transpose`.

    Returns
    -------
    grad_weight : (C_in, C_out / groups, *kernel_size) ndarray

    Notes
    -----
    .. math::

        \frac{\partial L}{\partial w[c_i, c_o, \mathbf{t}]} = \sum_{n, \mathbf{j}}
            x[n, c_i, \mathbf{j}]\, g_{pad}[n, g c_o, \mathbf{j}\odot s + \mathbf{t}\odot d]

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.grad import conv_transpose_grad_weight
    >>> x = np.array([[[1.0, 2.0]]])                  # (N, C_in, 2)
    >>> conv_transpose_grad_weight(np.arange(5.0).reshape(1, 1, 5), x, np.ones((1, 1, 3)), stride=2)
    array([[[ 4.,  7., 10.]]])
    """
    func = "conv_transpose_grad_weight"
    result_dtype, gy, xa, w, groups, unbatched, g = _conv_transpose_setup(
        func, grad_out, x, weight, bias, stride, padding, output_padding, groups, dilation, output_size
    )
    gw = weight_gradient(gy, xa, g, groups, func)  # im2col crops the geometry's negative end padding
    return gw.astype(result_dtype, copy=False)


@array_function
def conv_transpose_grad_bias(
    grad_out: npt.ArrayLike,
    x: npt.ArrayLike,
    weight: npt.ArrayLike,
    bias: npt.ArrayLike | None = None,
    stride: int | Sequence[int] = 1,
    padding: Any = 0,
    output_padding: int | Sequence[int] = 0,
    groups: int = 1,
    dilation: int | Sequence[int] = 1,
    *,
    output_size: Sequence[int] | None = None,
    method: str = "auto",
) -> np.ndarray:
    r"""Gradient of :func:`upconv.conv_transpose` with respect to ``bias``: ``grad_out`` summed per channel.

    Parameters
    ----------
    grad_out : (N, C_out, *out_size) or (C_out, *out_size) array_like
    x, weight, bias, stride, padding, output_padding, groups, dilation, output_size, method
        The forward call's arguments (used to check ``grad_out``'s shape).

    Returns
    -------
    grad_bias : (C_out,) ndarray

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.grad import conv_transpose_grad_bias
    >>> conv_transpose_grad_bias(np.ones((1, 2, 5)), np.ones((1, 1, 2)), np.ones((1, 2, 3)), stride=2)
    array([5., 5.])
    """
    func = "conv_transpose_grad_bias"
    result_dtype, gy, *_ = _conv_transpose_setup(
        func, grad_out, x, weight, bias, stride, padding, output_padding, groups, dilation, output_size
    )
    return _sum_bias(gy, False).astype(result_dtype, copy=False)


def conv_transpose_grads(
    grad_out: npt.ArrayLike, x: npt.ArrayLike, weight: npt.ArrayLike, bias: npt.ArrayLike | None,
    stride: int | Sequence[int], padding: Any, output_padding: int | Sequence[int], groups: int,
    dilation: int | Sequence[int], *, input_grad: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """``(dL/dx, dL/dw, dL/db)`` of :func:`upconv.conv_transpose`, for a layer's backward pass.

    The input gradient (the convolution of ``grad_out``) and the weight
    gradient (its correlation with ``x``) multiply the same im2col matrix of
    ``grad_out``; it is built once, unless the vector kernels compute both
    without it (:func:`upconv.ops.paths.use_simd_conv`).  Equal to the three public functions.
    """
    func = "conv_transpose_grads"
    result_dtype, gy, xa, w, groups, unbatched, g = _conv_transpose_setup(
        func, grad_out, x, weight, bias, stride, padding, output_padding, groups, dilation, None
    )
    N, c_out = gy.shape[:2]
    co_g, ci_g = c_out // groups, xa.shape[1] // groups
    K, P = math.prod(g.kernel_size), math.prod(g.out_size)
    gb = None if bias is None else _sum_bias(gy, False).astype(result_dtype, copy=False)
    cols = None
    if not use_simd_conv(gy, g, co_g, ci_g):  # w, read as a conv weight, maps grad_out's channels to x's
        v.check_allocation((groups, co_g * K, N * P), gy.dtype, func, "the im2col matrix of grad_out")
        cols = np.empty((groups, co_g * K, N * P), dtype=gy.dtype)
        if not input_grad:
            im2col_into(gy, g, groups, out=cols)
    gx = correlate(gy, w, g, groups, func, cols=cols) if input_grad else None  # fills cols
    gw = weight_gradient(gy, xa, g, groups, func, cols=cols).astype(result_dtype, copy=False)
    if gx is not None:
        gx = np.ascontiguousarray(gx[0] if unbatched else gx).astype(result_dtype, copy=False)
    return gx, gw, gb
