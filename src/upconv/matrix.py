"""Convolutions as matrix products: the convolution matrix and im2col / col2im.

Two ways to write a convolution as one matrix product (seed 002, section 2):

* **image flatten** (:func:`conv_matrix`): for one sample,
  ``conv(x, w).ravel() == C @ x.ravel()`` and the transposed convolution with
  the same parameters is ``C.T @ y.ravel()`` (seeds 000/001: the 4x4 input
  and 3x3 kernel give a 4x16 ``C``).  ``C`` is sparse; ``dense=True`` (or
  ``C.toarray()``) gives the dense view for small cases.
* **im2col** (:func:`im2col`): copy every window of the input into a column,
  then ``conv(x, w) == w.reshape(C_out, -1) @ im2col(x)`` (one GEMM; the
  pixels are duplicated, the weight is only reshaped).  :func:`col2im` is its
  adjoint (overlapping windows are summed), torch's ``F.fold`` and ONNX
  ``Col2Im``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _validate as v
from . import shapes
from .shapes import ConvGeometry

__all__ = ["conv_matrix", "im2col", "col2im"]


def _axis_triplets(g: ConvGeometry, a: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All (output index, tap, input index) on axis ``a`` with the input index inside the input."""
    o = np.arange(g.out_size[a])[:, None]
    t = np.arange(g.kernel_size[a])[None, :]
    i = o * g.stride[a] + t * g.dilation[a] - g.padding[a][0]
    keep = (i >= 0) & (i < g.in_size[a])
    o, t = np.broadcast_to(o, i.shape)[keep], np.broadcast_to(t, i.shape)[keep]
    return o, t, i[keep]


def _conv_matrix(g: ConvGeometry, w: np.ndarray, groups: int, func: str = "conv_matrix"):
    """Sparse ``(C_out * prod(out), C_in * prod(in))`` matrix of the grouped convolution ``g``."""
    import scipy.sparse as sp

    n = g.ndim
    c_out, ci_g = w.shape[:2]
    co_g = c_out // groups
    trip = [_axis_triplets(g, a) for a in range(n)]
    nnz = c_out * ci_g * math.prod(len(tr[0]) for tr in trip)
    # indices (two int64) and values of every stored entry, checked before building any of them
    v.check_allocation((nnz, 3), np.int64, func, "the sparse convolution matrix (indices and values)")
    # Cartesian product over axes of the per-axis valid triplets.
    mesh = np.meshgrid(*[np.arange(len(tr[0])) for tr in trip], indexing="ij")
    o = np.ravel_multi_index(tuple(tr[0][m.ravel()] for tr, m in zip(trip, mesh)), g.out_size)
    t = np.ravel_multi_index(tuple(tr[1][m.ravel()] for tr, m in zip(trip, mesh)), g.kernel_size)
    i = np.ravel_multi_index(tuple(tr[2][m.ravel()] for tr, m in zip(trip, mesh)), g.in_size)
    co = np.arange(c_out)[:, None, None]
    ci = (co // co_g) * ci_g + np.arange(ci_g)[None, :, None]
    rows = (co * math.prod(g.out_size) + o).astype(np.int64)
    cols = ci * math.prod(g.in_size) + i
    data = w.reshape(c_out, ci_g, -1)[:, :, t]
    shape = (c_out * math.prod(g.out_size), ci_g * groups * math.prod(g.in_size))
    rows, cols = np.broadcast_arrays(rows, cols)
    return sp.csr_array((data.ravel(), (rows.ravel(), cols.ravel())), shape=shape)


def conv_matrix(
    input_shape: Sequence[int],
    weight: Any,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
    *,
    dense: bool = False,
):
    r"""The sparse matrix ``C`` of a convolution, so that ``conv(x).ravel() == C @ x.ravel()``.

    Parameters
    ----------
    input_shape : sequence of ints
        ``(C_in, *in_size)`` of one sample, or only ``in_size`` (then
        ``C_in = weight.shape[1] * groups``).
    weight : (C_out, C_in / groups, *kernel_size) array_like
        Convolution weight (for a transposed convolution with weight
        ``(C_in', C_out' / groups, *k)`` pass that same array: ``C.T`` of the
        matching convolution is the transposed convolution).
    stride, padding, dilation, groups
        As :func:`upconv.conv`.
    dense : bool, optional
        Return the dense ``numpy.ndarray`` (``C.toarray()``) instead, for
        small cases and for printing.

    Returns
    -------
    C : scipy.sparse.csr_array or ndarray, shape (C_out * prod(out_size), C_in * prod(in_size))
        Row ``c_o * prod(out) + flat(o)``, column ``c_i * prod(in) + flat(i)``
        holds ``w[c_o, c_i mod (C_in/groups), t]`` where the tap ``t`` of
        output ``o`` reads input ``i = o*s + t*d - p_begin``.  ``C.T`` is the
        matrix of :func:`upconv.conv_transpose` with the same parameters.

    Examples
    --------
    The seeds' example: a 3x3 kernel on a 4x4 input gives a 4x16 matrix.

    >>> import numpy as np, upconv
    >>> w = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    >>> C = upconv.conv_matrix((4, 4), w)
    >>> C.shape
    (4, 16)
    >>> C.toarray()[0]
    array([1., 2., 3., 0., 4., 5., 6., 0., 7., 8., 9., 0., 0., 0., 0., 0.])

    The dense view, here of a 1-d convolution (stride 2, padding 1):

    >>> upconv.conv_matrix((4,), np.array([[[1.0, 2.0, 3.0]]]), stride=2, padding=1, dense=True)
    array([[2., 3., 0., 0.],
           [0., 1., 2., 3.]])
    """
    func = "conv_matrix"
    _, (w,) = v.float_arrays(func, weight=weight)
    if w.ndim < 3:
        raise ValueError(f"{func}: weight must have at least 3 dimensions, got shape {w.shape}")
    n = w.ndim - 2
    groups = v.integer(groups, func, "groups", minimum=1)
    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence):
        raise TypeError(f"{func}: input_shape must be a sequence of integers, got {input_shape!r}")
    if len(input_shape) == n:
        input_shape = (w.shape[1] * groups,) + tuple(input_shape)
    if len(input_shape) != n + 1:
        raise ValueError(
            f"{func}: input_shape must be (C_in, *in_size) or in_size with {n} spatial axes, got {input_shape!r}"
        )
    c_in = v.integer(input_shape[0], func, "input_shape[0]", minimum=1)
    if w.shape[0] % groups or c_in != w.shape[1] * groups:
        raise ValueError(
            f"{func}: weight of shape {w.shape} with groups={groups} expects {w.shape[1] * groups} input "
            f"channels and out channels divisible by groups; got input_shape {tuple(input_shape)}"
        )
    dense = v.boolean(dense, func, "dense")
    g = shapes.conv_geometry(input_shape[1:], w.shape[2:], stride, padding, dilation, func=func)
    if dense:
        shape = (w.shape[0] * math.prod(g.out_size), c_in * math.prod(g.in_size))
        v.check_allocation(shape, w.dtype, func, "the dense convolution matrix")
        return _conv_matrix(g, w, groups).toarray()
    return _conv_matrix(g, w, groups)


# --------------------------------------------------------------------------
# im2col / col2im


def _spatial_rank(kernel_size: Any, *others: Any) -> int:
    """Number of spatial axes: the length of the first sequence among the size arguments, else 2.

    An int everywhere means two spatial axes, as ``torch.nn.functional.unfold``/``fold``.
    """
    for value in (kernel_size,) + others:
        if isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, (str, bytes)):
            return len(value)
    return 2


def im2col(
    x: Any,
    kernel_size: int | Sequence[int],
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
) -> np.ndarray:
    r"""Copy every window of the input into a column: torch's ``F.unfold``, for any number of spatial axes.

    Parameters
    ----------
    x : (N, C, *in_size) or (C, *in_size) array_like
        Input with ``n`` spatial axes.
    kernel_size : int or sequence of n ints
        Window size.  ``n`` is the length of the first sequence among
        ``kernel_size``, ``stride``, ``padding``, ``dilation``; when all are
        ints, ``n = 2`` (as torch, whose ``unfold`` is 2-d only).
    stride, dilation : int or sequence of n ints, optional
    padding : int, sequence of n ints or sequence of n (begin, end) pairs, optional
        Zeros added around each spatial axis (pairs as ONNX ``pads``).

    Returns
    -------
    cols : (N, C * prod(kernel_size), L) or (C * prod(kernel_size), L) ndarray
        ``L = prod(out_size)`` windows (blocks) in row-major order; row
        ``c * prod(k) + flat(t)`` holds tap ``t`` of channel ``c``.  Same
        dtype as ``x`` (float16 computed in float32).

    Raises
    ------
    ValueError, TypeError
        For a wrong rank or invalid sizes, naming the argument.
    MemoryError
        If the result exceeds :func:`upconv.get_memory_limit`.

    See Also
    --------
    col2im : the adjoint (overlapping windows summed).
    conv_matrix : the other matrix view of a convolution (image flatten).

    Notes
    -----
    .. math::

        \mathrm{cols}[n, c\,K + \mathrm{flat}(\mathbf t), \mathrm{flat}(\mathbf o)]
            = x_{pad}[n, c, \mathbf o \odot s + \mathbf t \odot d],
        \qquad K = \textstyle\prod k

    so that ``conv(x, w) == (w.reshape(C_out, -1) @ im2col(x)).reshape(N, C_out, *out_size)``
    (seed 002's im2col view: pixels are duplicated, the weight is only
    reshaped).  The positional order follows :func:`upconv.conv` (``stride,
    padding, dilation``), not torch's ``unfold(input, kernel_size, dilation,
    padding, stride)``: pass them by keyword.

    Examples
    --------
    >>> import numpy as np, upconv
    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> upconv.im2col(x, 2)
    array([[[0., 1., 3., 4.],
            [1., 2., 4., 5.],
            [3., 4., 6., 7.],
            [4., 5., 7., 8.]]])
    >>> w = np.ones((1, 1, 2, 2))
    >>> (w.reshape(1, -1) @ upconv.im2col(x, 2)).reshape(1, 1, 2, 2)
    array([[[[ 8., 12.],
             [20., 24.]]]])
    """
    from .conv import _pad, _windows

    func = "im2col"
    result_dtype, (x,) = v.float_arrays(func, x=x)
    n = _spatial_rank(kernel_size, stride, padding, dilation)
    if x.ndim not in (n + 1, n + 2):
        raise ValueError(
            f"{func}: x must have {n + 1} (unbatched) or {n + 2} (batched) dimensions for {n} spatial axes, "
            f"got x of shape {x.shape}"
        )
    unbatched = x.ndim == n + 1
    if unbatched:
        x = x[None]
    g = shapes.conv_geometry(x.shape[2:], kernel_size, stride, padding, dilation, func=func)
    N, c = x.shape[:2]
    rows, L = c * math.prod(g.kernel_size), math.prod(g.out_size)
    v.check_allocation((N, rows, L), x.dtype, func, "the column matrix")
    cols = np.array(_windows(_pad(x, g.padding), g).reshape(N, rows, L), dtype=result_dtype)
    return cols[0] if unbatched else cols


def col2im(
    cols: Any,
    output_size: int | Sequence[int],
    kernel_size: int | Sequence[int],
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
) -> np.ndarray:
    r"""Sum columns back into an image: torch's ``F.fold`` and ONNX ``Col2Im``, the adjoint of :func:`im2col`.

    Parameters
    ----------
    cols : (N, C * prod(kernel_size), L) or (C * prod(kernel_size), L) array_like
        One column per window, in the layout :func:`im2col` produces.
    output_size : int or sequence of n ints
        Spatial size of the image (before padding).  ``n`` is the length of
        the first sequence among ``output_size``, ``kernel_size``,
        ``stride``, ``padding``, ``dilation``; when all are ints, ``n = 2``.
    kernel_size : int or sequence of n ints
    stride, dilation : int or sequence of n ints, optional
    padding : int, sequence of n ints or sequence of n (begin, end) pairs, optional
        Padding of the image the windows were taken from; what falls on it is
        dropped.  Pairs express ONNX ``pads`` (``[b_1..b_n, e_1..e_n]``
        regrouped per axis).

    Returns
    -------
    image : (N, C, *output_size) or (C, *output_size) ndarray
        Same dtype as ``cols``.

    Raises
    ------
    ValueError
        If ``cols.shape[-2]`` is not a multiple of ``prod(kernel_size)`` or
        ``L`` is not the number of windows of ``output_size``.
    MemoryError
        If the result exceeds :func:`upconv.get_memory_limit`.

    See Also
    --------
    im2col : its adjoint, ``<im2col(x), c> == <x, col2im(c)>``.

    Notes
    -----
    Overlapping contributions are summed:

    .. math::

        \mathrm{image}[n, c, \mathbf i] = \sum_{\mathbf t, \mathbf o:\ \mathbf o \odot s + \mathbf t \odot d - p_{begin} = \mathbf i}
            \mathrm{cols}[n, c\,K + \mathrm{flat}(\mathbf t), \mathrm{flat}(\mathbf o)]

    ``L`` must equal ``prod((out + p_begin + p_end - ek) // s + 1)``.  So
    ``col2im(im2col(x))`` is ``x`` times the number of windows covering each
    pixel, not ``x``.  Positional order as :func:`im2col` (torch's ``fold``
    is ``fold(input, output_size, kernel_size, dilation, padding, stride)``).

    Examples
    --------
    >>> import numpy as np, upconv
    >>> upconv.col2im(np.ones((1, 4, 4)), (3, 3), 2)
    array([[[[1., 2., 1.],
             [2., 4., 2.],
             [1., 2., 1.]]]])
    """
    from .conv import _overlap_add

    func = "col2im"
    result_dtype, (cols,) = v.float_arrays(func, cols=cols)
    n = _spatial_rank(output_size, kernel_size, stride, padding, dilation)
    if isinstance(output_size, (numbers.Integral, np.integer)) and not isinstance(output_size, (bool, np.bool_)):
        output_size = (output_size,) * n
    g = shapes.conv_geometry(output_size, kernel_size, stride, padding, dilation, func=func)
    if cols.ndim not in (2, 3):
        raise ValueError(
            f"{func}: cols must have 2 (unbatched) or 3 (batched) dimensions (N, C * prod(kernel_size), L), "
            f"got shape {cols.shape}"
        )
    given = cols.shape
    unbatched = cols.ndim == 2
    if unbatched:
        cols = cols[None]
    N, rows, L = cols.shape
    K = math.prod(g.kernel_size)
    if rows == 0 or rows % K:
        raise ValueError(
            f"{func}: cols.shape[-2] must be a positive multiple of prod(kernel_size) = {K} "
            f"(kernel_size={g.kernel_size}), got cols of shape {given}"
        )
    if L != math.prod(g.out_size):
        raise ValueError(
            f"{func}: cols must have L = {math.prod(g.out_size)} columns, the number of windows "
            f"{g.out_size} of output_size={g.in_size} with kernel_size={g.kernel_size}, stride={g.stride}, "
            f"padding={g.padding}, dilation={g.dilation}; got L = {L}"
        )
    c = rows // K
    v.check_allocation((N, c) + g.in_size, cols.dtype, func, "the output")
    planes = cols.reshape(N, c, K, L).transpose(1, 2, 0, 3).reshape((c, K, N) + g.out_size)
    out = _overlap_add(planes, N, g).astype(result_dtype, copy=False)
    return out[0] if unbatched else out
