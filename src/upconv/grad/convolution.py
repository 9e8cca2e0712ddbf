"""Gradients of conv and conv_transpose (each is the other's input gradient)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.grad._common import _check_grad_out, _sum_bias
from upconv.kernels.parallel import parallel_for
from upconv.kernels.workspace import scratch
from upconv.ops.convolution import (
    _as_3d,
    _check_conv_channels,
    _correlate,
    _direct_conv,
    _im2col,
    _prepare,
    _simd_conv,
    _weight_grad_simd,
    conv_transpose,
)
from upconv.shapes import ConvGeometry

# Target size of one im2col block of the weight gradient.
_BLOCK_BYTES = 64 * 2**20



def _weight_grad(x: np.ndarray, gy: np.ndarray, g: ConvGeometry, groups: int, func: str,
                 cols: np.ndarray | None = None) -> np.ndarray:
    """``dw[co, ci, t] = sum_{n, o} gy[n, co, o] * x_pad[n, g ci, o*s + t*d]``, shape ``(C_out, C_in/g, *k)``.

    The correlation of the input with the output gradient: the im2col
    matrix of ``x`` (:func:`_im2col`) times the channel-major output
    gradient, one GEMM per group whose inner dimension runs over the batch
    and the output positions; the batch in chunks of about
    ``_BLOCK_BYTES``.  ``cols``, the whole batch's im2col matrix, skips
    building it (a layer keeps the one its forward pass multiplied).  With
    one or two output channels per group a compiled kernel computes the dot
    products directly, without the im2col matrix (``conv._direct_conv``).
    """
    N, c_in = x.shape[:2]
    c_out = gy.shape[1]
    K, P = math.prod(g.kernel_size), math.prod(g.out_size)
    ci_g, co_g = c_in // groups, c_out // groups
    if cols is None and _direct_conv(g, co_g, N * c_out * ci_g * K * P):
        from upconv.kernels import convolution as nk

        lead = (1,) * (3 - g.ndim)
        gw = np.empty((c_out, ci_g, K), dtype=x.dtype)
        parallel_for(nk.weight_grad_direct, c_out * ci_g, np.ascontiguousarray(x).reshape((N, c_in) + lead + g.in_size),
                     np.ascontiguousarray(gy).reshape((N, c_out) + lead + g.out_size), gw, groups, *_as_3d(g))
        return gw.reshape((c_out, ci_g) + g.kernel_size)
    if cols is None and _simd_conv(x, g, ci_g, co_g):
        return _weight_grad_simd(x, gy, g, groups)
    acc = np.zeros((groups, co_g, ci_g * K), dtype=x.dtype)
    if cols is not None:
        chunk = max(N, 1)
    else:
        v.check_allocation((1, c_in, K, P), x.dtype, func, "the im2col matrix of one sample")
        chunk = max(1, min(max(N, 1), _BLOCK_BYTES // max(1, c_in * K * P * x.itemsize)))
    for start in range(0, N, chunk):
        m = min(chunk, N - start)
        if cols is None:
            block = _im2col(x[start : start + m], g, groups, out=scratch("im2col", (groups, ci_g * K, m * P), x.dtype))
        else:
            block = cols
        # (m, c_out, P) -> (groups, co_g, m * P): the GEMM's left operand
        gm = np.ascontiguousarray(gy[start : start + m].reshape(m, groups, co_g, P).transpose(1, 2, 0, 3))
        # dw^T = cols @ gm^T: OpenBLAS is faster with the long inner dimension on the wide operand's rows
        acc += np.matmul(block, gm.reshape(groups, co_g, m * P).transpose(0, 2, 1)).transpose(0, 2, 1)
    return acc.reshape((c_out, ci_g) + g.kernel_size)


# --------------------------------------------------------------------------
# conv


def _conv_setup(func, grad_out, x, weight, bias, stride, padding, dilation, groups):
    """Validate a conv call and its ``grad_out``; batched compute-dtype arrays and the geometry."""
    result_dtype, (grad_out,) = v.float_arrays(func, grad_out=grad_out)
    result_dtype2, x, w, b, groups, unbatched = _prepare(func, x, weight, bias, groups)
    if result_dtype != result_dtype2:
        raise TypeError(
            f"{func}: grad_out must have the dtype of conv's output, {result_dtype2}, got {result_dtype}"
        )
    _check_conv_channels(func, x.shape[1], w, b, groups)
    c_out = w.shape[0]
    g = shapes.conv_geometry(x.shape[2:], w.shape[2:], stride, padding, dilation, func=func)
    expected = ((c_out,) if unbatched else (x.shape[0], c_out)) + g.out_size
    _check_grad_out(func, grad_out, expected, "conv")
    gy = grad_out[None] if unbatched else grad_out
    return result_dtype, gy, x, w, groups, unbatched, g


def conv_grad_input(
    grad_out: Any,
    x: Any,
    weight: Any,
    bias: Any = None,
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
    # stride 1: the zero-insertion view inserts nothing, one correlation with the flipped kernel;
    # strided: the polyphase view, s**n dense correlations without products with inserted zeros
    # (kernel stamping instead when the convolution widens channels more than twice: its GEMM and
    # overlap-add cover the narrow x's channels, where zero insertion copies the wide grad_out's im2col)
    # (unless the correlation takes the vector kernels, which read grad_out in place)
    if all(s == 1 for s in g.stride):
        vector = _simd_conv(gy, shapes.zero_insertion_geometry(g), w.shape[0] // groups, w.shape[1])
        method = "scatter" if w.shape[0] // groups > 2 * w.shape[1] and not vector else "zero_insertion"
    else:
        method = "phase"
    gx = conv_transpose(gy, w, None, g.stride, g.padding, output_padding, groups, g.dilation, method=method)
    gx = gx[0] if unbatched else gx
    return gx.astype(result_dtype, copy=False)


def conv_grad_weight(
    grad_out: Any,
    x: Any,
    weight: Any,
    bias: Any = None,
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
    return _weight_grad(xa, gy, g, groups, func).astype(result_dtype, copy=False)


def conv_grad_bias(
    grad_out: Any,
    x: Any,
    weight: Any,
    bias: Any = None,
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


def _conv_grads(
    grad_out: Any, x: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any, groups: int,
    *, cols: np.ndarray | None = None, input_grad: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """``(grad_x, grad_weight, grad_bias)`` of :func:`upconv.conv`, equal to the three public functions.

    ``cols``, the im2col matrix the forward pass multiplied
    (:func:`upconv.ops.convolution._conv_keeping_cols`), is reused for the weight
    gradient instead of being built again.
    """
    func = "conv_grads"
    result_dtype, gy, xa, w, groups, unbatched, g = _conv_setup(
        func, grad_out, x, weight, bias, stride, padding, dilation, groups
    )
    gw = _weight_grad(xa, gy, g, groups, func, cols=cols).astype(result_dtype, copy=False)
    gb = None if bias is None else _sum_bias(gy, False).astype(result_dtype, copy=False)
    gx = conv_grad_input(grad_out, x, weight, None, stride, padding, dilation, groups) if input_grad else None
    return gx, gw, gb


# --------------------------------------------------------------------------
# conv_transpose


def _conv_transpose_setup(func, grad_out, x, weight, bias, stride, padding, output_padding, groups, dilation,
                          output_size):
    """Validate a conv_transpose call and its ``grad_out``; batched arrays and the geometry."""
    result_dtype, (grad_out,) = v.float_arrays(func, grad_out=grad_out)
    result_dtype2, x, w, b, groups, unbatched = _prepare(func, x, weight, bias, groups)
    if result_dtype != result_dtype2:
        raise TypeError(
            f"{func}: grad_out must have the dtype of conv_transpose's output, {result_dtype2}, got {result_dtype}"
        )
    c_in = x.shape[1]
    if c_in != w.shape[0]:
        raise ValueError(
            f"{func}: x has {c_in} channels but weight of shape {w.shape} expects {w.shape[0]} (weight.shape[0])"
        )
    if c_in % groups:
        raise ValueError(f"{func}: in channels ({c_in}) must be divisible by groups={groups}")
    c_out = w.shape[1] * groups
    if b is not None and b.shape != (c_out,):
        raise ValueError(f"{func}: bias must have shape ({c_out},), got {b.shape}")
    n = w.ndim - 2
    if output_size is not None and not isinstance(output_size, (str, bytes)) and isinstance(output_size, Sequence):
        leading = 1 if unbatched else 2
        if len(output_size) == n + leading:
            output_size = tuple(output_size)[leading:]
    g = shapes.conv_transpose_geometry(
        x.shape[2:], w.shape[2:], stride, padding, output_padding, dilation, output_size=output_size, func=func
    )
    expected = ((c_out,) if unbatched else (x.shape[0], c_out)) + g.in_size
    _check_grad_out(func, grad_out, expected, "conv_transpose")
    gy = grad_out[None] if unbatched else grad_out
    return result_dtype, gy, x, w, groups, unbatched, g


def _conv_of_grad(gy: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int) -> np.ndarray:
    """``conv(gy, w)`` with the padding of the transposed convolution ``g``.

    Its end padding ``p_end - output_padding`` may be negative: the last
    elements of ``gy`` are then cropped (no conv window reaches them).
    """
    return _correlate(gy, w, g, groups, "conv_transpose_grad_input")


def conv_transpose_grad_input(
    grad_out: Any,
    x: Any,
    weight: Any,
    bias: Any = None,
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
    gx = _conv_of_grad(gy, w, g, groups)
    gx = gx[0] if unbatched else gx
    return gx.astype(result_dtype, copy=False)


def conv_transpose_grad_weight(
    grad_out: Any,
    x: Any,
    weight: Any,
    bias: Any = None,
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
    gw = _weight_grad(gy, xa, g, groups, func)  # im2col crops the geometry's negative end padding
    return gw.astype(result_dtype, copy=False)


def conv_transpose_grad_bias(
    grad_out: Any,
    x: Any,
    weight: Any,
    bias: Any = None,
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


def _conv_transpose_grads(
    grad_out: Any, x: Any, weight: Any, bias: Any, stride: Any, padding: Any, output_padding: Any,
    groups: int, dilation: Any, *, input_grad: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """``(dL/dx, dL/dw, dL/db)`` of :func:`upconv.conv_transpose`, for a layer's backward pass.

    The input gradient (the convolution of ``grad_out``) and the weight
    gradient (its correlation with ``x``) multiply the same im2col matrix of
    ``grad_out``; it is built once, unless the vector kernels compute both
    without it (``conv._simd_conv``).  Equal to the three public functions.
    """
    func = "conv_transpose_grads"
    result_dtype, gy, xa, w, groups, unbatched, g = _conv_transpose_setup(
        func, grad_out, x, weight, bias, stride, padding, output_padding, groups, dilation, None
    )
    N, c_out = gy.shape[:2]
    co_g, ci_g = c_out // groups, xa.shape[1] // groups
    K, P = math.prod(g.kernel_size), math.prod(g.out_size)
    gb = None if bias is None else _sum_bias(gy, False).astype(result_dtype, copy=False)
    if _simd_conv(gy, g, co_g, ci_g):  # w, read as a conv weight, maps grad_out's channels to x's
        gw = _weight_grad(gy, xa, g, groups, func).astype(result_dtype, copy=False)
        gx = _correlate(gy, w, g, groups, func) if input_grad else None
    else:
        v.check_allocation((groups, co_g * K, N * P), gy.dtype, func, "the im2col matrix of grad_out")
        cols = _im2col(gy, g, groups, out=np.empty((groups, co_g * K, N * P), dtype=gy.dtype))
        gw = _weight_grad(gy, xa, g, groups, func, cols=cols).astype(result_dtype, copy=False)
        gx = None
        if input_grad:
            gx = np.matmul(w.reshape(groups, ci_g, co_g * K), cols)  # (groups, ci_g, N * P)
            gx = np.moveaxis(gx.reshape((groups * ci_g, N) + g.out_size), 1, 0)
    if gx is not None:
        gx = np.ascontiguousarray(gx[0] if unbatched else gx).astype(result_dtype, copy=False)
    return gx, gw, gb
