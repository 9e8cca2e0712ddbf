"""im2col and col2im: a convolution as one GEMM (seed 002, section 2).

**im2col** (:func:`im2col`) copies every window of the input into a column,
so that ``conv(x, w) == w.reshape(C_out, -1) @ im2col(x)`` (one GEMM; the
pixels are duplicated, the weight is only reshaped).  :func:`col2im` is its
adjoint (overlapping windows are summed), torch's ``F.fold`` and ONNX
``Col2Im``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.ops.arrays import array_function

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["im2col", "col2im"]


def _ndim_from_size_args(kernel_size: object, *others: object) -> int:
    """Number of spatial axes: the length of the first sequence among the size arguments, else 2.

    An int everywhere means two spatial axes, as ``torch.nn.functional.unfold``/``fold``.
    """
    for value in (kernel_size,) + others:
        if isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, (str, bytes)):
            return len(value)
    return 2


@array_function(whole=True)  # its columns index the windows of the whole array
def im2col(
    x: npt.ArrayLike,
    kernel_size: v.IntOrTuple,
    stride: v.IntOrTuple = 1,
    padding: v.PadPairsLike = 0,
    dilation: v.IntOrTuple = 1,
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
    from upconv.ops.correlation import pad, windows

    func = "im2col"
    result_dtype, (x,) = v.float_arrays(func, x=x)
    x, unbatched = v.batched(func, x, _ndim_from_size_args(kernel_size, stride, padding, dilation))
    g = shapes.conv_geometry(x.shape[2:], kernel_size, stride, padding, dilation, func=func)
    N, c = x.shape[:2]
    rows, L = c * math.prod(g.kernel_size), math.prod(g.out_size)
    v.check_allocation((N, rows, L), x.dtype, func, "the column matrix")
    cols = np.array(windows(pad(x, g.padding, func), g).reshape(N, rows, L), dtype=result_dtype)
    return cols[0] if unbatched else cols


@array_function(whole=True)
def col2im(
    cols: npt.ArrayLike,
    output_size: v.IntOrTuple,
    kernel_size: v.IntOrTuple,
    stride: v.IntOrTuple = 1,
    padding: v.PadPairsLike = 0,
    dilation: v.IntOrTuple = 1,
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

        \mathrm{image}[n, c, \mathbf i] = \sum_{\mathbf t, \mathbf o:
            \ \mathbf o \odot s + \mathbf t \odot d - p_{begin} = \mathbf i}
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
    from upconv.ops.transposed import overlap_add

    func = "col2im"
    result_dtype, (cols,) = v.float_arrays(func, cols=cols)
    n = _ndim_from_size_args(output_size, kernel_size, stride, padding, dilation)
    if isinstance(output_size, (numbers.Integral, np.integer)) and not isinstance(output_size, (bool, np.bool_)):
        output_size = (output_size,) * n  # type: ignore[assignment]  # mypy does not count int as numbers.Integral
    g = shapes.conv_geometry(
        output_size, kernel_size, stride, padding, dilation, func=func  # type: ignore[arg-type]  # n ints by now
    )
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
    out = overlap_add(planes, N, g).astype(result_dtype, copy=False)
    return out[0] if unbatched else out
