"""Gradients (vector-Jacobian products) of every upconv operator.

For an operator ``y = f(x, weight, bias, ...)`` and the gradient
``grad_out = dL/dy`` of a scalar loss ``L``, the function
``f_grad_<arg>(grad_out, <f's arguments>)`` returns ``dL/d<arg>``: one
function per (operator, differentiable argument), named
``<operator>_grad_input``, ``<operator>_grad_weight`` and
``<operator>_grad_bias``.

Every function takes ``grad_out`` followed by the forward call's arguments,
unchanged (same names, order and defaults), so that a forward call
``f(*args, **kwargs)`` is differentiated by ``f_grad_input(g, *args,
**kwargs)``.  Arguments a gradient does not depend on (``bias`` for the input
gradient, the values of ``x`` for a linear operator's input gradient) are
accepted and validated but not read.  ``grad_out`` must have the shape of the
forward output; results have the shape of the argument, and the dtype rule of
the forward function.

The two gradients the seeds are about:

* **conv's input gradient is** :func:`upconv.conv_transpose` with the same
  weight, stride, padding and dilation, and the ``output_padding`` that gives
  back the input's size (:func:`upconv.shapes.conv_transpose_output_padding`);
* **conv_transpose's input gradient is** :func:`upconv.conv` with the same
  parameters.

Weight gradients are correlations of the input with the output gradient,
computed as im2col (the windows :func:`upconv.conv.conv` multiplies) + one
GEMM per group over the batch and output positions, in batch chunks of
bounded size.

=========================  ==================================================
conv, conv_transpose       input (each other), weight, bias
resize_conv                input, weight, bias
max_pool                   input: ``grad_out`` scattered (added) to the argmax
max_unpool                 input: ``grad_out`` gathered at the indices
unpool                     input: block sums (nearest), strided slice (nails)
pixel_shuffle & co.        input: the inverse rearrangement
interpolate, resize        input: the transposed interpolation
=========================  ==================================================
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _validate as v
from . import shapes
from ._parallel import parallel_for
from ._workspace import scratch
from .conv import (_as_3d, _check_conv_channels, _correlate, _direct_conv, _im2col, _prepare, _simd_conv,
                   _weight_grad_simd, conv_transpose)
from .interpolate import _interpolate_plans, _real, _resize_plans
from .shapes import ConvGeometry

__all__ = [
    "conv_grad_input",
    "conv_grad_weight",
    "conv_grad_bias",
    "conv_transpose_grad_input",
    "conv_transpose_grad_weight",
    "conv_transpose_grad_bias",
    "max_pool_grad_input",
    "max_unpool_grad_input",
    "unpool_grad_input",
    "pixel_shuffle_grad_input",
    "pixel_unshuffle_grad_input",
    "depth_to_space_grad_input",
    "space_to_depth_grad_input",
    "interpolate_grad_input",
    "resize_grad_input",
    "resize_conv_grad_input",
    "resize_conv_grad_weight",
    "resize_conv_grad_bias",
]

# Target size of one im2col block of the weight gradient.
_BLOCK_BYTES = 64 * 2**20


# --------------------------------------------------------------------------
# shared helpers


def _check_grad_out(func: str, grad_out: np.ndarray, expected: tuple[int, ...], op: str) -> None:
    if grad_out.shape != tuple(expected):
        raise ValueError(
            f"{func}: grad_out must have the shape of {op}'s output, {tuple(expected)}, got {grad_out.shape}"
        )


def _sum_bias(grad_out: np.ndarray, unbatched: bool) -> np.ndarray:
    """``dL/db``: ``grad_out`` summed over every axis but the channel axis."""
    axes = tuple(a for a in range(grad_out.ndim) if a != (0 if unbatched else 1))
    return grad_out.sum(axis=axes)


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
        from . import _numba_kernels as nk

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
    (:func:`upconv.conv._conv_keeping_cols`), is reused for the weight
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


# --------------------------------------------------------------------------
# pooling and unpooling


def max_pool_grad_input(
    grad_out: Any,
    x: Any,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: Any = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
    *,
    indices: Any = None,
) -> np.ndarray:
    r"""Gradient of :func:`upconv.max_pool` with respect to ``x``: ``grad_out`` added at the argmax.

    Each window's gradient goes to the element :func:`upconv.max_pool`
    reports as its maximum (the first of equal maxima in row-major window
    order, a NaN if there is one: torch's rule); where windows overlap the
    contributions add up.

    Parameters
    ----------
    grad_out : (N, C, *out_size) or (C, *out_size) array_like
        ``dL/dy`` for the pooled values ``y``.
    x, kernel_size, stride, padding, dilation, ceil_mode, return_indices
        The forward call's arguments, as :func:`upconv.max_pool`
        (``return_indices`` does not matter).
    indices : integer array_like, shape of ``grad_out``, optional
        The forward call's indices; computed from ``x`` when not given.

    Returns
    -------
    grad_x : ndarray, shape of ``x``

    Raises
    ------
    ValueError, TypeError
        For an invalid forward call, or ``grad_out``/``indices`` of the wrong shape.

    Notes
    -----
    :math:`\partial L/\partial x[n, c].\mathrm{flat}[k] = \sum_{\mathbf{o}:\ \mathit{idx}[n, c, \mathbf{o}] = k} g[n, c, \mathbf{o}]`,
    the adjoint of the gather ``y = x.flat[idx]``.

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.grad import max_pool_grad_input
    >>> x = np.array([[[1.0, 3.0, 2.0, 2.0, 0.0]]])
    >>> max_pool_grad_input(np.array([[[10.0, 20.0]]]), x, 3, stride=2)   # windows [1,3,2], [2,2,0]
    array([[[ 0., 10., 20.,  0.,  0.]]])
    """
    func = "max_pool_grad_input"
    from .pool import _batched, _spatial_rank, max_pool

    result_dtype, (gy, xa) = v.float_arrays(func, grad_out=grad_out, x=x)
    n = _spatial_rank(func, xa, kernel_size, "kernel_size")
    xb, unbatched = _batched(func, xa, n)
    g = shapes.pool_geometry(xb.shape[2:], kernel_size, stride, padding, dilation, ceil_mode, func=func)
    expected = ((xb.shape[1],) if unbatched else xb.shape[:2]) + g.out_size
    _check_grad_out(func, gy, expected, "max_pool")
    if indices is None:
        _, idx = max_pool(xa, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)
    else:
        idx = np.asarray(indices)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"{func}: indices must be an integer array, got dtype {idx.dtype}")
        if idx.shape != gy.shape:
            raise ValueError(f"{func}: indices must have the shape of grad_out, {gy.shape}, got {idx.shape}")
    L = math.prod(g.in_size)
    P = math.prod(xb.shape[:2])
    flat = idx.reshape(P, -1).astype(np.int64) + (np.arange(P, dtype=np.int64) * L)[:, None]
    if flat.size and (idx.min() < 0 or idx.max() >= L):
        raise ValueError(f"{func}: indices must lie in [0, {L}) (positions in an input plane of size {g.in_size})")
    gx = np.bincount(flat.ravel(), weights=gy.reshape(-1), minlength=P * L)
    return gx.reshape(xa.shape).astype(result_dtype, copy=False)


def max_unpool_grad_input(
    grad_out: Any,
    x: Any,
    indices: Any,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: Any = 0,
    output_size: Sequence[int] | None = None,
) -> np.ndarray:
    r"""Gradient of :func:`upconv.max_unpool` with respect to ``x``: ``grad_out`` gathered at ``indices``.

    Parameters
    ----------
    grad_out : (N, C, *out_size) or (C, *out_size) array_like
    x, indices, kernel_size, stride, padding, output_size
        The forward call's arguments, as :func:`upconv.max_unpool`; only the
        shape of ``x`` is used.

    Returns
    -------
    grad_x : ndarray, shape of ``x``

    Notes
    -----
    :math:`\partial L/\partial x[n, c, \mathbf{j}] = g[n, c].\mathrm{flat}[\mathit{idx}[n, c, \mathbf{j}]]`.
    Where indices repeat, the forward keeps only the last value but every
    duplicate receives the gradient, as in torch (with indices from
    :func:`upconv.max_pool` the duplicates hold equal values).

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.grad import max_unpool_grad_input
    >>> g = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> max_unpool_grad_input(g, np.ones((1, 1, 2, 2)), np.array([[[[5, 7], [13, 15]]]]), 2)
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    """
    func = "max_unpool_grad_input"
    from .pool import _batched, _spatial_rank

    result_dtype, (gy, xa) = v.float_arrays(func, grad_out=grad_out, x=x)
    ind = np.asarray(indices)
    if ind.dtype.kind not in "iu":
        raise TypeError(f"{func}: indices must be an integer array, got dtype {ind.dtype}")
    if ind.shape != xa.shape:
        raise ValueError(f"{func}: indices must have the shape of x, {xa.shape}, got {ind.shape}")
    n = _spatial_rank(func, xa, kernel_size, "kernel_size")
    xb, unbatched = _batched(func, xa, n)
    out_size = shapes.max_unpool_output_size(xb.shape[2:], kernel_size, stride, padding, output_size, func=func)
    expected = ((xb.shape[1],) if unbatched else xb.shape[:2]) + out_size
    _check_grad_out(func, gy, expected, "max_unpool")
    P, L = math.prod(xb.shape[:2]), math.prod(out_size)
    ib = ind.reshape(P, -1)
    if ib.size and (ib.min() < 0 or ib.max() >= L):
        raise ValueError(f"{func}: indices must lie in [0, {L}) (positions in an output plane of size {out_size})")
    gx = np.take_along_axis(gy.reshape(P, L), ib.astype(np.intp, copy=False), axis=1)
    return gx.reshape(xa.shape).astype(result_dtype, copy=False)


def unpool_grad_input(grad_out: Any, x: Any, scale_factor: int | Sequence[int], mode: str = "nearest") -> np.ndarray:
    r"""Gradient of :func:`upconv.unpool` with respect to ``x``.

    ``"nearest"``: the sum of each ``s_1 x ... x s_n`` block of ``grad_out``
    (the adjoint of copying into the block, i.e. sum pooling);
    ``"bed_of_nails"``: the block's first cell, ``grad_out[..., ::s_1, ..., ::s_n]``.

    Parameters
    ----------
    grad_out : (N, C, *(in_size * s)) or (C, *(in_size * s)) array_like
    x, scale_factor, mode
        The forward call's arguments, as :func:`upconv.unpool`; only the
        shape of ``x`` is used.

    Returns
    -------
    grad_x : ndarray, shape of ``x``

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.grad import unpool_grad_input
    >>> g = np.arange(16.0).reshape(1, 4, 4)
    >>> unpool_grad_input(g, np.ones((1, 2, 2)), (2, 2))
    array([[[10., 18.],
            [42., 50.]]])
    >>> unpool_grad_input(g, np.ones((1, 2, 2)), (2, 2), mode="bed_of_nails")
    array([[[ 0.,  2.],
            [ 8., 10.]]])
    """
    func = "unpool_grad_input"
    from .pool import UNPOOL_MODES, _batched, _spatial_rank

    mode = v.choice(mode, tuple(UNPOOL_MODES), func, "mode")
    result_dtype, (gy, xa) = v.float_arrays(func, grad_out=grad_out, x=x)
    n = _spatial_rank(func, xa, scale_factor, "scale_factor")
    xb, unbatched = _batched(func, xa, n)
    s = v.int_tuple(scale_factor, n, func, "scale_factor", minimum=1)
    out_size = shapes.unpool_output_size(xb.shape[2:], s)
    _check_grad_out(func, gy, xa.shape[: xa.ndim - n] + out_size, "unpool")
    lead = xa.shape[: xa.ndim - n]
    if mode == "nearest":
        split = lead + sum(((i, f) for i, f in zip(xa.shape[-n:], s)), ())
        gx = gy.reshape(split).sum(axis=tuple(len(lead) + 2 * a + 1 for a in range(n)))
    else:
        gx = gy[(Ellipsis,) + tuple(slice(None, None, f) for f in s)]
    return np.ascontiguousarray(gx).astype(result_dtype, copy=False)


# --------------------------------------------------------------------------
# sub-pixel rearrangements: the gradient is the inverse permutation


def _rearrangement_grad(func: str, grad_out: Any, x: Any, forward, inverse, *args, **kwargs) -> np.ndarray:
    gy = np.asarray(grad_out)
    xa = np.asarray(x)
    try:
        expected = forward(np.broadcast_to(np.zeros((), dtype=np.uint8), xa.shape), *args, **kwargs).shape
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"{func}: {str(exc).split(': ', 1)[-1]}") from None
    _check_grad_out(func, gy, expected, forward.__name__)
    return inverse(gy, *args, **kwargs)


def pixel_shuffle_grad_input(grad_out: Any, x: Any, upscale_factor: int, *, ndim: int = 2) -> np.ndarray:
    r"""Gradient of :func:`upconv.pixel_shuffle` with respect to ``x``: :func:`upconv.pixel_unshuffle`.

    A permutation's adjoint is its inverse.

    Parameters
    ----------
    grad_out : (*, C, *(spatial * r)) array_like
    x, upscale_factor, ndim
        The forward call's arguments; only the shape of ``x`` is used.

    Returns
    -------
    grad_x : ndarray, shape of ``x``, dtype of ``grad_out``

    Examples
    --------
    >>> import numpy as np, upconv
    >>> from upconv.grad import pixel_shuffle_grad_input
    >>> x = np.arange(8.0).reshape(1, 4, 1, 2)
    >>> np.array_equal(pixel_shuffle_grad_input(upconv.pixel_shuffle(x, 2), x, 2), x)
    True
    """
    from .shuffle import pixel_shuffle, pixel_unshuffle

    return _rearrangement_grad("pixel_shuffle_grad_input", grad_out, x, pixel_shuffle, pixel_unshuffle,
                               upscale_factor, ndim=ndim)


def pixel_unshuffle_grad_input(grad_out: Any, x: Any, downscale_factor: int, *, ndim: int = 2) -> np.ndarray:
    r"""Gradient of :func:`upconv.pixel_unshuffle` with respect to ``x``: :func:`upconv.pixel_shuffle`.

    Parameters
    ----------
    grad_out : (*, C * r**ndim, *(spatial / r)) array_like
    x, downscale_factor, ndim
        The forward call's arguments; only the shape of ``x`` is used.

    Returns
    -------
    grad_x : ndarray, shape of ``x``, dtype of ``grad_out``

    Examples
    --------
    >>> import numpy as np
    >>> from upconv.grad import pixel_unshuffle_grad_input
    >>> pixel_unshuffle_grad_input(np.arange(4.0).reshape(1, 4, 1, 1), np.zeros((1, 1, 2, 2)), 2)[0, 0]
    array([[0., 1.],
           [2., 3.]])
    """
    from .shuffle import pixel_shuffle, pixel_unshuffle

    return _rearrangement_grad("pixel_unshuffle_grad_input", grad_out, x, pixel_unshuffle, pixel_shuffle,
                               downscale_factor, ndim=ndim)


def depth_to_space_grad_input(grad_out: Any, x: Any, blocksize: int, mode: str = "DCR") -> np.ndarray:
    r"""Gradient of :func:`upconv.depth_to_space` with respect to ``x``: :func:`upconv.space_to_depth`.

    Parameters
    ----------
    grad_out : (N, C, *(spatial * b)) array_like
    x, blocksize, mode
        The forward call's arguments; only the shape of ``x`` is used.

    Returns
    -------
    grad_x : ndarray, shape of ``x``, dtype of ``grad_out``

    Examples
    --------
    >>> import numpy as np, upconv
    >>> from upconv.grad import depth_to_space_grad_input
    >>> x = np.arange(8.0).reshape(1, 8, 1, 1)
    >>> np.array_equal(depth_to_space_grad_input(upconv.depth_to_space(x, 2), x, 2), x)
    True
    """
    from .shuffle import depth_to_space, space_to_depth

    return _rearrangement_grad("depth_to_space_grad_input", grad_out, x, depth_to_space, space_to_depth,
                               blocksize, mode)


def space_to_depth_grad_input(grad_out: Any, x: Any, blocksize: int, mode: str = "DCR") -> np.ndarray:
    r"""Gradient of :func:`upconv.space_to_depth` with respect to ``x``: :func:`upconv.depth_to_space`.

    Parameters
    ----------
    grad_out : (N, C * b**n, *(spatial / b)) array_like
    x, blocksize, mode
        The forward call's arguments; only the shape of ``x`` is used.

    Returns
    -------
    grad_x : ndarray, shape of ``x``, dtype of ``grad_out``

    Examples
    --------
    >>> import numpy as np, upconv
    >>> from upconv.grad import space_to_depth_grad_input
    >>> x = np.arange(8.0).reshape(1, 2, 2, 2)
    >>> np.array_equal(space_to_depth_grad_input(upconv.space_to_depth(x, 2), x, 2), x)
    True
    """
    from .shuffle import depth_to_space, space_to_depth

    return _rearrangement_grad("space_to_depth_grad_input", grad_out, x, space_to_depth, depth_to_space,
                               blocksize, mode)


# --------------------------------------------------------------------------
# interpolation: the transposed (adjoint) resampling


def _adjoint_plan(p: Any, n_in: int, every_tap: bool = False) -> Any:
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
    from ._interp import SEQUENTIAL, AxisPlan

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


def _transposed_resample(g: np.ndarray, plans: Sequence[Any], in_shape: tuple[int, ...], func: str) -> np.ndarray:
    """Apply the adjoint of :func:`upconv._interp.apply` with ``plans`` to ``g``.

    Interpolation is ``y = M x`` with one sparse matrix per axis; its
    adjoint ``M^T g`` is again a resampling, one per axis
    (:func:`_adjoint_plan`: every input gathers the outputs that read it),
    computed by the same compiled engine (the last two axes fused).  With
    an inf or NaN in ``g`` it is computed again with torch's taps (zero
    weights too) and without the padding, which would have turned an inf
    into NaN elsewhere (:func:`upconv._interp.apply`).
    """
    from ._interp import apply

    order = list(range(g.ndim - 1, -1, -1))
    g = np.ascontiguousarray(g)
    out = apply(g, [None if p is None else _adjoint_plan(p, in_shape[a]) for a, p in enumerate(plans)], order, func)
    # one pass over the smaller array: an inf or NaN in g reaches out, since an output's weights sum to 1
    # (not with ONNX exclude_outside, where an output may weigh its only taps by 0: its g then stays out)
    with np.errstate(invalid="ignore", over="ignore"):  # a finite sum that overflows only costs the slow path
        if np.isfinite(np.add.reduce(out if out.size <= g.size else g, axis=None)):
            return out
    exact = [None if p is None else _adjoint_plan(p, in_shape[a], every_tap=True) for a, p in enumerate(plans)]
    return apply(g, exact, order, func)


def interpolate_grad_input(
    grad_out: Any,
    x: Any,
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

    per axis, with the taps and weights torch uses (:mod:`upconv._interp`).
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
    result_dtype, (gy, xa) = v.float_arrays(func, grad_out=grad_out, x=x)
    out_size, plans = _interpolate_plans(func, xa, size, scale_factor, mode, align_corners,
                                         recompute_scale_factor, antialias)
    _check_grad_out(func, gy, xa.shape[:2] + out_size, "interpolate")
    if plans is None:
        return np.zeros(xa.shape, dtype=result_dtype)
    return _transposed_resample(gy, plans, xa.shape, func).astype(result_dtype, copy=False)


def resize_grad_input(
    grad_out: Any,
    x: Any,
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
    x, sizes, scales, roi, mode, coordinate_transformation_mode, nearest_mode, cubic_coeff_a, exclude_outside, extrapolation_value, antialias, axes, keep_aspect_ratio_policy
        The forward call's arguments, as :func:`upconv.resize`; only the
        shape and dtype of ``x`` are used.

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
    result_dtype, (gy, xa) = v.float_arrays(func, grad_out=grad_out, x=x)
    _real(extrapolation_value, func, "extrapolation_value")  # validated, not used
    g, plans = _resize_plans(func, xa, sizes, scales, roi, mode, coordinate_transformation_mode, nearest_mode,
                             cubic_coeff_a, exclude_outside, antialias, axes, keep_aspect_ratio_policy)
    _check_grad_out(func, gy, g.out_shape, "resize")
    if plans is None:
        return np.zeros(xa.shape, dtype=result_dtype)
    gx = _transposed_resample(gy.astype(np.float64), plans, xa.shape, func)
    return gx.astype(result_dtype, copy=False)


# --------------------------------------------------------------------------
# resize_conv = interpolate, then conv


def _resize_conv_parts(func, grad_out, x, weight, bias, scale_factor, mode, padding, stride, dilation, groups,
                       align_corners):
    """Validate a resize_conv call; the interpolation arguments and the interpolated input."""
    from .interpolate import interpolate
    from .resize_conv import _check_conv, _interpolate_args

    result_dtype, (gy, xa, w, b) = v.float_arrays(func, grad_out=grad_out, x=x, weight=weight, bias=bias)
    if w.ndim < 3:
        raise ValueError(
            f"{func}: weight must have at least 3 dimensions (channels, channels, *kernel), got shape {w.shape}"
        )
    n = w.ndim - 2
    if xa.ndim not in (n + 1, n + 2):
        raise ValueError(
            f"{func}: x must have {n + 1} (unbatched) or {n + 2} (batched) dimensions for a weight with "
            f"{n} spatial axes, got x of shape {xa.shape} and weight of shape {w.shape}"
        )
    unbatched = xa.ndim == n + 1
    xb = xa[None] if unbatched else xa
    gb = gy[None] if unbatched else gy
    mode, align_corners, size = _interpolate_args(func, xb, n, scale_factor, mode, align_corners)
    groups = _check_conv(func, xb.shape[1], size, w, b, stride, padding, dilation, groups)
    g = shapes.conv_geometry(size, w.shape[2:], stride, padding, dilation, func=func)
    expected = xb.shape[:1] + (w.shape[0],) + g.out_size
    _check_grad_out(func, gy, expected[1:] if unbatched else expected, "resize_conv")
    interp = {"scale_factor": scale_factor, "mode": mode, "align_corners": align_corners}
    up = interpolate(xb, **interp)
    conv_args = (w, b, stride, padding, dilation, groups)
    return result_dtype, gb, xb, up, interp, conv_args, unbatched


def resize_conv_grad_input(grad_out: Any, x: Any, weight: Any, bias: Any = None,
                           scale_factor: float | Sequence[float] = 2, mode: str = "nearest", padding: Any = "same",
                           stride: int | Sequence[int] = 1, dilation: int | Sequence[int] = 1, groups: int = 1, *,
                           align_corners: bool | None = None) -> np.ndarray:
    r"""Gradient of :func:`upconv.resize_conv.resize_conv` with respect to ``x``.

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


def resize_conv_grad_weight(grad_out: Any, x: Any, weight: Any, bias: Any = None,
                            scale_factor: float | Sequence[float] = 2, mode: str = "nearest", padding: Any = "same",
                            stride: int | Sequence[int] = 1, dilation: int | Sequence[int] = 1, groups: int = 1, *,
                            align_corners: bool | None = None) -> np.ndarray:
    r"""Gradient of :func:`upconv.resize_conv.resize_conv` with respect to ``weight``.

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


def resize_conv_grad_bias(grad_out: Any, x: Any, weight: Any, bias: Any = None,
                          scale_factor: float | Sequence[float] = 2, mode: str = "nearest", padding: Any = "same",
                          stride: int | Sequence[int] = 1, dilation: int | Sequence[int] = 1, groups: int = 1, *,
                          align_corners: bool | None = None) -> np.ndarray:
    r"""Gradient of :func:`upconv.resize_conv.resize_conv` with respect to ``bias``: ``grad_out`` summed per channel.

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
