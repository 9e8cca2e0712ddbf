"""The convolution as a matrix: ``conv(x, w).ravel() == C @ x.ravel()`` (seed 002, section 2).

:func:`conv_matrix` builds the sparse ``C`` of one sample's convolution
("image flatten"); the transposed convolution with the same parameters is
``C.T @ y.ravel()`` (seeds 000/001: the 4x4 input and 3x3 kernel give a 4x16
``C``).  ``dense=True`` (or ``C.toarray()``) gives the dense view for small
cases.  :func:`upconv.im2col` (:mod:`upconv.ops.unfold`) is the other way to
write a convolution as one matrix product.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, overload

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.ops.arrays import array_function
from upconv.shapes import ConvGeometry

if TYPE_CHECKING:
    import numpy.typing as npt
    import scipy.sparse as sp

__all__ = ["conv_matrix"]


def _axis_triplets(g: ConvGeometry, a: int) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """All (output index, tap, input index) on axis ``a`` with the input index inside the input, by output."""
    reach = [shapes.tap_reach(g, a, t) for t in range(g.kernel_size[a])]
    o = np.concatenate([np.arange(outs.start, outs.stop) for outs, _ in reach])
    t = np.concatenate([np.full(len(outs), t) for t, (outs, _) in enumerate(reach)])
    i = np.concatenate([np.arange(ins.start, ins.stop, ins.step) for _, ins in reach])
    order = np.argsort(o, kind="stable")  # output-major, taps in order: the rows of C one after another
    return o[order], t[order], i[order]


def _conv_matrix(g: ConvGeometry, w: np.ndarray, groups: int, func: str = "conv_matrix") -> sp.csr_array:
    """Sparse ``(C_out * prod(out), C_in * prod(in))`` matrix of the grouped convolution ``g``."""
    import scipy.sparse as sp

    n = g.ndim
    c_out, ci_g = w.shape[:2]
    co_g = c_out // groups
    trip = [_axis_triplets(g, a) for a in range(n)]
    nnz = c_out * ci_g * math.prod(len(tr[0]) for tr in trip)
    # indices (two int64) and values of every stored entry, checked before building any of them
    v.check_allocation((nnz, 3), np.int64, func, "the sparse convolution matrix (indices and values)")
    P_out, P_in = math.prod(g.out_size), math.prod(g.in_size)
    # and its row pointers: one per output, however few entries (a large padding makes many empty rows)
    v.check_allocation((c_out * P_out + 1,), np.int64, func, "the row pointers of the sparse convolution matrix")
    # Cartesian product over axes of the per-axis valid triplets: by output, taps in order.
    mesh = np.meshgrid(*[np.arange(len(tr[0])) for tr in trip], indexing="ij")
    o = np.ravel_multi_index(tuple(tr[0][m.ravel()] for tr, m in zip(trip, mesh, strict=True)), g.out_size)
    t = np.ravel_multi_index(tuple(tr[1][m.ravel()] for tr, m in zip(trip, mesh, strict=True)), g.kernel_size)
    i = np.ravel_multi_index(tuple(tr[2][m.ravel()] for tr, m in zip(trip, mesh, strict=True)), g.in_size)
    # Built in CSR order (no sort): row (co, o) holds, channel by channel of co's group, the taps of o; the
    # order within a row is the same for every co, so it is computed once for the (channel, triplet) block.
    block = np.arange(ci_g * o.size)
    ci, j = np.divmod(np.lexsort((block, o[block % o.size])), o.size)
    cols = ((np.arange(c_out) // co_g) * (ci_g * P_in))[:, None] + (ci * P_in + i[j])
    data = np.take(w.reshape(c_out, -1), ci * math.prod(g.kernel_size) + t[j], axis=1)  # C order: ravel is a view
    indptr = np.zeros(c_out * P_out + 1, np.int64)
    np.cumsum(np.tile(np.bincount(o, minlength=P_out) * ci_g, c_out), out=indptr[1:])
    shape = (c_out * P_out, ci_g * groups * P_in)
    return sp.csr_array((data.ravel(), cols.astype(np.int64, copy=False).ravel(), indptr), shape=shape)


@overload
def conv_matrix(
    in_shape: Sequence[int], weight: npt.ArrayLike, stride: v.IntOrTuple = ..., padding: v.PaddingLike = ...,
    dilation: v.IntOrTuple = ..., groups: int = ..., *, dense: Literal[False] = ...,
) -> sp.csr_array: ...


@overload
def conv_matrix(
    in_shape: Sequence[int], weight: npt.ArrayLike, stride: v.IntOrTuple = ..., padding: v.PaddingLike = ...,
    dilation: v.IntOrTuple = ..., groups: int = ..., *, dense: Literal[True],
) -> np.ndarray: ...


@overload
def conv_matrix(
    in_shape: Sequence[int], weight: npt.ArrayLike, stride: v.IntOrTuple = ..., padding: v.PaddingLike = ...,
    dilation: v.IntOrTuple = ..., groups: int = ..., *, dense: bool,
) -> sp.csr_array | np.ndarray: ...


@array_function(whole=True)
def conv_matrix(
    in_shape: Sequence[int],
    weight: npt.ArrayLike,
    stride: v.IntOrTuple = 1,
    padding: v.PaddingLike = 0,
    dilation: v.IntOrTuple = 1,
    groups: int = 1,
    *,
    dense: bool = False,
) -> sp.csr_array | np.ndarray:
    r"""The sparse matrix ``C`` of a convolution, so that ``conv(x).ravel() == C @ x.ravel()``.

    Parameters
    ----------
    in_shape : sequence of ints
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
        output ``o`` reads input ``i = o*s + t*d - p_begin``
        (:func:`upconv.shapes.tap_reach`).  ``C.T`` is the
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
    w = v.kernel_weight(func, w)
    n = w.ndim - 2
    groups = v.integer(groups, func, "groups", minimum=1)
    if isinstance(in_shape, (str, bytes)) or not isinstance(in_shape, Sequence):
        raise TypeError(f"{func}: in_shape must be a sequence of integers, got {in_shape!r}")
    if len(in_shape) == n:
        in_shape = (w.shape[1] * groups,) + tuple(in_shape)
    if len(in_shape) != n + 1:
        raise ValueError(
            f"{func}: in_shape must be (C_in, *in_size) or in_size with {n} spatial axes, got {in_shape!r}"
        )
    c_in = v.integer(in_shape[0], func, "in_shape[0]", minimum=1)
    if w.shape[0] % groups or c_in != w.shape[1] * groups:
        raise ValueError(
            f"{func}: weight of shape {w.shape} with groups={groups} expects {w.shape[1] * groups} input "
            f"channels and out channels divisible by groups; got in_shape {tuple(in_shape)}"
        )
    dense = v.boolean(dense, func, "dense")
    g = shapes.conv_geometry(in_shape[1:], w.shape[2:], stride, padding, dilation, func=func)
    if dense:
        shape = (w.shape[0] * math.prod(g.out_size), c_in * math.prod(g.in_size))
        v.check_allocation(shape, w.dtype, func, "the dense convolution matrix")
        return _conv_matrix(g, w, groups).toarray()
    return _conv_matrix(g, w, groups)
