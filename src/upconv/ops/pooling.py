"""N-d max pooling with indices, max unpooling and index-free unpooling (``"nearest"``, ``"bed_of_nails"``).

``max_pool`` and ``max_unpool`` have torch's semantics (values, int64
indices, NaN and tie rules, size checks); ``max_pool`` also takes ONNX
``pads`` as ``(begin, end)`` pairs.  Both run as compiled kernels
(:mod:`upconv.kernels.pooling`), parallel over planes, on ``(planes, flat plane)`` arrays: the N-d window geometry is
reduced to flat offsets, so one kernel serves every number of spatial axes.

``unpool`` is the index-free unpooling of the up-sampling literature:
``"nearest"`` copies every value into its ``s_1 x ... x s_n`` block,
``"bed_of_nails"`` puts it in the block's first cell and zeros elsewhere.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal, overload

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.kernels.parallel import parallel_for
from upconv.ops.arrays import array_function
from upconv.shapes import ConvGeometry

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["max_pool", "max_unpool", "unpool", "UNPOOL_MODES", "unpooled_values"]


# --------------------------------------------------------------------------
# helpers


def count_spatial_axes(func: str, x: np.ndarray, per_axis: object, name: str) -> int:
    """Number of spatial axes: ``len(per_axis)`` if that argument is a sequence, else ``x.ndim - 2``."""
    if isinstance(per_axis, Sequence) and not isinstance(per_axis, (str, bytes)):
        if len(per_axis) == 0:
            raise ValueError(f"{func}: {name} must not be empty, got {per_axis!r}")
        return len(per_axis)
    if x.ndim < 3:
        raise ValueError(
            f"{func}: x must have at least 3 dimensions (N, C, *spatial) when {name} is a single "
            f"integer, got x of shape {x.shape}; pass {name} as a sequence to pool an unbatched input"
        )
    return x.ndim - 2


def _grid(parts: Sequence[np.ndarray]) -> npt.NDArray[np.int64]:
    """Flattened outer sum ``sum_a parts[a][o_a]`` over the row-major grid of all axes."""
    n = len(parts)
    total = np.zeros((1,) * n, dtype=np.int64)
    for a, p in enumerate(parts):
        total = total + np.asarray(p, dtype=np.int64).reshape((-1,) + (1,) * (n - 1 - a))
    return total.ravel()


def _row_major_strides(shape: Sequence[int]) -> list[int]:
    strides: list[int] = []
    acc = 1
    for size in reversed(shape):
        strides.append(acc)
        acc *= size
    return strides[::-1]


def is_exact(x: object) -> bool:
    """Integer or boolean NumPy data: the operators that only move values keep its dtype."""
    return isinstance(x, np.ndarray) and x.dtype.kind in "biu"


def order_preserving(func: str, x: np.ndarray) -> np.ndarray:
    """A float copy of integer or boolean ``x`` with the same order and ties (the float kernels pick from it).

    Exact casts where the float holds every value (8- and 16-bit data in
    float32, 32-bit in float64, 64-bit within +-2**53); otherwise the ranks
    of the values, which keep order and equality.
    """
    if x.dtype.kind == "b" or x.dtype.itemsize <= 2:
        v.check_allocation(x.shape, np.float32, func, "the float32 copy of x")
        return x.astype(np.float32)
    v.check_allocation(x.shape, np.float64, func, "the float64 copy of x")
    if x.dtype.itemsize <= 4 or x.size == 0 or (int(x.min()) >= -(2**53) and int(x.max()) <= 2**53):
        return x.astype(np.float64)
    return np.unique(x, return_inverse=True)[1].reshape(x.shape).astype(np.float64)


def _planes_take(x: np.ndarray, idx: np.ndarray, n: int) -> np.ndarray:
    """``y[..., o] = x[...].flat[idx[..., o]]``: values of the ``(n, c)`` planes of ``x`` at flat plane indices."""
    if idx.size == 0:
        return np.empty(idx.shape, x.dtype)
    planes = math.prod(x.shape[: x.ndim - n])
    return np.take_along_axis(x.reshape(planes, -1), idx.reshape(planes, -1), axis=1).reshape(idx.shape)


# --------------------------------------------------------------------------
# max_pool


@functools.lru_cache(maxsize=256)
def _pool_offsets(g: ConvGeometry, padded: tuple[int, ...]) -> tuple[npt.NDArray[np.int64], ...]:
    """Flat offsets of :func:`max_pool`'s windows (per output row) and taps, in padded and input planes.

    Returns ``row_pad, row_idx, first_idx, tap_pad, tap_idx`` for the kernel:
    window ``(row jo, last-axis o)`` starts at ``row_pad[jo] + o*s`` in the
    padded plane and at input index ``row_idx[jo] + o*s``; ``first_idx`` is
    the input index of every window's first real element.  A pure function
    of the geometry: cached, the arrays read-only.
    """
    n = g.ndim
    ps, xs = _row_major_strides(padded), _row_major_strides(g.in_size)
    starts = [np.arange(g.out_size[a], dtype=np.int64) * g.stride[a] for a in range(n)]
    taps = [np.arange(g.kernel_size[a], dtype=np.int64) * g.dilation[a] for a in range(n)]
    first = []
    for a in range(n):
        st = starts[a] - g.padding[a][0]  # window start in input coordinates
        skip = np.where(st < 0, shapes.ceil_div(-st, g.dilation[a]), 0)  # taps before the first real element
        first.append((st + skip * g.dilation[a]) * xs[a])
    row_pad = _grid([starts[a] * ps[a] for a in range(n - 1)])
    row_idx = _grid([(starts[a] - g.padding[a][0]) * xs[a] for a in range(n - 1)]) - g.padding[n - 1][0]
    tap_pad = _grid([taps[a] * ps[a] for a in range(n)])
    tap_idx = _grid([taps[a] * xs[a] for a in range(n)])
    offsets = (row_pad, row_idx, _grid(first), tap_pad, tap_idx)
    for table in offsets:
        table.flags.writeable = False
    return offsets


@overload
def max_pool(
    x: npt.ArrayLike, kernel_size: v.IntOrTuple, stride: v.IntOrTuple | None = ..., padding: v.PadPairsLike = ...,
    dilation: v.IntOrTuple = ..., ceil_mode: bool = ..., return_indices: Literal[False] = ...,
) -> np.ndarray: ...


@overload
def max_pool(
    x: npt.ArrayLike, kernel_size: v.IntOrTuple, stride: v.IntOrTuple | None = ..., padding: v.PadPairsLike = ...,
    dilation: v.IntOrTuple = ..., ceil_mode: bool = ..., *, return_indices: Literal[True],
) -> tuple[np.ndarray, npt.NDArray[np.int64]]: ...


@overload
def max_pool(
    x: npt.ArrayLike, kernel_size: v.IntOrTuple, stride: v.IntOrTuple | None = ..., padding: v.PadPairsLike = ...,
    dilation: v.IntOrTuple = ..., ceil_mode: bool = ..., return_indices: bool = ...,
) -> np.ndarray | tuple[np.ndarray, npt.NDArray[np.int64]]: ...


@array_function
def max_pool(
    x: npt.ArrayLike,
    kernel_size: v.IntOrTuple,
    stride: v.IntOrTuple | None = None,
    padding: v.PadPairsLike = 0,
    dilation: v.IntOrTuple = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> np.ndarray | tuple[np.ndarray, npt.NDArray[np.int64]]:
    r"""N-d max pooling, identical to ``torch.nn.functional.max_pool{1,2,3}d``.

    Parameters
    ----------
    x : (N, C, *in_size) or (C, *in_size) array_like
        Input.  The number of spatial axes ``n`` is ``len(kernel_size)``, or
        ``x.ndim - 2`` when ``kernel_size`` is an int (then ``x`` must be
        batched).
    kernel_size : int or sequence of n ints
        Window size.
    stride : int, sequence of n ints or None, optional
        Step between windows; ``None`` (default) is ``kernel_size``, as torch.
    padding : int, sequence of n ints, or sequence of n (begin, end) pairs
        Implicit ``-inf`` padding.  Ints follow torch (``padding <=
        kernel_size // 2``); pairs are ONNX ``pads`` (any size, asymmetric).
    dilation : int or sequence of n ints, optional
        Step between the taps of a window.
    ceil_mode : bool, optional
        Round the output size up (see :func:`upconv.shapes.pool_geometry`).
    return_indices : bool, optional
        Also return the position of each maximum.

    Returns
    -------
    y : (N, C, *out_size) or (C, *out_size) ndarray
        Window maxima, in the input's dtype: floating, integer and boolean
        arrays keep theirs (float16 is computed in float32); lists become float64.
    indices : ndarray of int64, same shape as ``y``
        Only with ``return_indices``: the flat position of each maximum in its
        ``(n, c)`` plane, row-major over ``in_size`` (torch's convention; the
        input of :func:`max_unpool`).

    Raises
    ------
    ValueError, TypeError
        For every configuration torch rejects (ONNX rules for pair padding),
        naming the argument; also when a window holds padding only, where
        torch returns ``-inf`` with an out-of-range index.
    MemoryError
        If the output (or the padded input) exceeds :func:`upconv.get_memory_limit`.

    See Also
    --------
    max_unpool : puts the maxima back at ``indices``.
    upconv.shapes.pool_output_size : the output size without computing.

    Notes
    -----
    .. math::

        y[n, c, \mathbf{o}] = \max_{\mathbf{t}} x_{pad}[n, c, \mathbf{o}\odot s + \mathbf{t}\odot d]

        o = \lfloor (i + p_{begin} + p_{end} - d(k-1) - 1) / s \rfloor + 1

    Padding never wins.  A NaN in the window is the result and its index is
    returned (with several NaNs, the last in row-major window order, as
    torch); among equal maxima the first in row-major window order wins.

    Examples
    --------
    >>> import numpy as np, upconv
    >>> x = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    >>> y, idx = upconv.max_pool(x, 2, return_indices=True)
    >>> y
    array([[[[ 6.,  8.],
             [14., 16.]]]])
    >>> idx
    array([[[[ 5,  7],
             [13, 15]]]])
    """
    func = "max_pool"
    if is_exact(x):  # integers and booleans keep their dtype: the maxima are read from x itself
        assert isinstance(x, np.ndarray)
        return_indices = v.boolean(return_indices, func, "return_indices")
        _, where = max_pool(order_preserving(func, x), kernel_size, stride, padding, dilation, ceil_mode, True)
        values = _planes_take(x, where, count_spatial_axes(func, x, kernel_size, "kernel_size"))
        return (values, where) if return_indices else values
    result_dtype, (xa,) = v.float_arrays(func, x=x)
    n = count_spatial_axes(func, xa, kernel_size, "kernel_size")
    xa, unbatched = v.batched(func, xa, n)
    return_indices = v.boolean(return_indices, func, "return_indices")
    g = shapes.pool_geometry(xa.shape[2:], kernel_size, stride, padding, dilation, ceil_mode, func=func)
    N, C = xa.shape[:2]
    P, Q = N * C, math.prod(g.out_size)
    v.check_allocation((N, C) + g.out_size, np.int64 if return_indices else xa.dtype, func, "the output")
    padded = tuple(i + b + max(e, 0) for i, (b, e) in zip(g.in_size, g.padding, strict=True))
    if padded != g.in_size:
        v.check_allocation((N, C) + padded, xa.dtype, func, "the padded input")
        xp = np.full((N, C) + padded, -np.inf, dtype=xa.dtype)
        inside = tuple(slice(b, b + i) for i, (b, _) in zip(g.in_size, g.padding, strict=True))
        xp[(slice(None), slice(None)) + inside] = xa
    else:
        xp = np.ascontiguousarray(xa)
    out = np.empty(P * Q, dtype=xa.dtype)
    idx = np.empty(P * Q if return_indices else 1, dtype=np.int64)
    if P * Q:
        row_pad, row_idx, first_idx, tap_pad, tap_idx = _pool_offsets(g, padded)
        from upconv.kernels.pooling import max_pool_planes

        parallel_for(
            max_pool_planes, P, xp.reshape(-1), math.prod(padded), row_pad, row_idx, first_idx,
            g.out_size[-1], g.stride[-1], tap_pad, tap_idx, out, idx, return_indices, cost_ns=out.size * tap_pad.size,
        )
    shape = (C,) + g.out_size if unbatched else (N, C) + g.out_size
    y = out.reshape(shape).astype(result_dtype, copy=False)
    return (y, idx.reshape(shape)) if return_indices else y


# --------------------------------------------------------------------------
# max_unpool


def unpool_indices(func: str, indices: npt.ArrayLike, x: np.ndarray) -> np.ndarray:
    """``max_unpool``'s ``indices`` checked against ``x``: an integer array of its shape."""
    ind = np.asarray(indices)
    if ind.dtype.kind not in "iu":
        raise TypeError(f"{func}: indices must be an integer array, got dtype {ind.dtype}")
    if ind.shape != x.shape:
        raise ValueError(f"{func}: indices must have the shape of x, {x.shape}, got {ind.shape}")
    return ind


@array_function
def max_unpool(
    x: npt.ArrayLike,
    indices: npt.ArrayLike,
    kernel_size: v.IntOrTuple,
    stride: v.IntOrTuple | None = None,
    padding: v.PadPairsLike = 0,
    output_size: Sequence[int] | None = None,
) -> np.ndarray:
    r"""N-d max unpooling, identical to ``torch.nn.functional.max_unpool{1,2,3}d``.

    Every value of ``x`` is written at its ``indices`` entry of a zero
    output; the partial inverse of :func:`max_pool`.

    Parameters
    ----------
    x : (N, C, *in_size) or (C, *in_size) array_like
        Pooled values.  ``n = len(kernel_size)``, or ``x.ndim - 2`` when
        ``kernel_size`` is an int.
    indices : integer array_like, same shape as ``x``
        Flat positions in each ``(n, c)`` plane of the output, row-major over
        ``out_size`` (as returned by ``max_pool(..., return_indices=True)``).
    kernel_size, stride, padding : int or sequence of n ints
        The parameters of the pooling being inverted; ``stride=None`` is
        ``kernel_size``.  ``padding`` may be ``(begin, end)`` pairs.
    output_size : sequence of n (or n + 2) ints, optional
        The output size, strictly between ``default - stride`` and
        ``default + stride`` (see :func:`upconv.shapes.max_unpool_output_size`).

    Returns
    -------
    y : (N, C, *out_size) or (C, *out_size) ndarray
        Zeros except at ``indices``, in ``x``'s dtype (floating, integer or
        boolean; lists become float64).  Empty when ``output_size`` has a 0,
        as torch.

    Raises
    ------
    ValueError
        If ``indices`` does not have ``x``'s shape, an index lies outside
        ``[0, prod(out_size))`` (naming it), or ``output_size`` is invalid.
    TypeError
        If ``indices`` is not an integer array.

    Notes
    -----
    .. math::

        o = (i - 1) s - p_{begin} - p_{end} + k,
        \qquad y[n, c].\mathrm{flat}[\mathit{indices}[n, c, \mathbf{j}]] = x[n, c, \mathbf{j}]

    Where indices repeat (overlapping windows), the last value in row-major
    order of ``x`` is kept, as torch.

    Examples
    --------
    >>> import numpy as np, upconv
    >>> x = np.arange(1.0, 17.0).reshape(1, 1, 4, 4)
    >>> y, idx = upconv.max_pool(x, 2, return_indices=True)
    >>> upconv.max_unpool(y, idx, 2)[0, 0]
    array([[ 0.,  0.,  0.,  0.],
           [ 0.,  6.,  0.,  8.],
           [ 0.,  0.,  0.,  0.],
           [ 0., 14.,  0., 16.]])
    >>> upconv.max_unpool(y, idx, 2, output_size=(5, 5))[0, 0]
    array([[ 0.,  0.,  0.,  0.,  0.],
           [ 6.,  0.,  8.,  0.,  0.],
           [ 0.,  0.,  0., 14.,  0.],
           [16.,  0.,  0.,  0.,  0.],
           [ 0.,  0.,  0.,  0.,  0.]])
    """
    func = "max_unpool"
    return unpooled_values(func, x, lambda xa: _max_unpool(func, xa, indices, kernel_size, stride, padding,
                                                           output_size))


def unpooled_values(func: str, x: npt.ArrayLike, scatter: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``scatter(x)`` with :func:`max_unpool`'s dtype policy (``scatter`` unpools a float array of ``x``'s shape).

    Integer and boolean ``x`` keep their dtype: the positions of ``x`` are
    unpooled, then read.  Other data is unpooled in the float dtype
    :func:`upconv._validate.float_arrays` gives and cast back.
    """
    if is_exact(x):
        assert isinstance(x, np.ndarray)
        v.check_allocation(x.shape, np.float64, func, "the positions of x")
        source = scatter(np.arange(1.0, x.size + 1.0).reshape(x.shape))  # 1 + the flat position in x, 0: none
        v.check_allocation(source.shape, x.dtype, func, "the output")
        out = np.zeros(source.shape, x.dtype)
        filled = source > 0
        out[filled] = x.reshape(-1)[source[filled].astype(np.int64) - 1]
        return out
    result_dtype, (xa,) = v.float_arrays(func, x=x)
    return scatter(xa).astype(result_dtype, copy=False)


def _max_unpool(func: str, xa: np.ndarray, indices: npt.ArrayLike, kernel_size: v.IntOrTuple,
                stride: v.IntOrTuple | None, padding: v.PadPairsLike, output_size: Sequence[int] | None) -> np.ndarray:
    """:func:`max_unpool` of float ``xa``."""
    ind = unpool_indices(func, indices, xa)
    n = count_spatial_axes(func, xa, kernel_size, "kernel_size")
    xa, unbatched = v.batched(func, xa, n)
    ind = ind[None] if unbatched else ind
    out_size = shapes.max_unpool_output_size(xa.shape[2:], kernel_size, stride, padding, output_size, func=func)
    N, C = xa.shape[:2]
    P, L = N * C, math.prod(out_size)
    v.check_allocation((N, C) + out_size, xa.dtype, func, "the output")
    out = np.empty((P, L), dtype=xa.dtype)
    if P and L:  # an empty output plane holds no index: torch returns it without checking them
        from upconv.kernels.pooling import max_unpool_planes

        xf = np.ascontiguousarray(xa).reshape(P, -1)
        bad = np.full(P, -1, dtype=np.int64)
        parallel_for(max_unpool_planes, P, xf, np.ascontiguousarray(ind, dtype=np.int64).reshape(P, -1),
                     out, bad, cost_ns=out.size)
        wrong = np.flatnonzero(bad >= 0)
        if wrong.size:
            p = int(wrong[0])
            where = np.unravel_index(p * xf.shape[1] + int(bad[p]), ind.shape)
            shown = tuple(int(w) for w in where[1:]) if unbatched else tuple(int(w) for w in where)
            raise ValueError(
                f"{func}: indices{list(shown)} = {int(ind[where])} is not a valid position in an output "
                f"plane of size {out_size}; indices must lie in [0, {L})"
            )
    shape = (C,) + out_size if unbatched else (N, C) + out_size
    return out.reshape(shape)


# --------------------------------------------------------------------------
# unpool ("nearest", "bed_of_nails")


def _unpool_nearest(x: np.ndarray, s: tuple[int, ...], out_size: tuple[int, ...]) -> np.ndarray:
    """Broadcast ``(N, C, i_1, 1, i_2, 1, ...)`` into ``(N, C, i_1, s_1, ...)``: one copy, always a new array."""
    expanded = x.reshape(x.shape[:2] + sum(((i, 1) for i in x.shape[2:]), ()))
    target = x.shape[:2] + sum(((i, f) for i, f in zip(x.shape[2:], s, strict=True)), ())
    out = np.empty(x.shape[:2] + out_size, dtype=x.dtype)
    out.reshape(target)[...] = expanded
    return out


def _unpool_bed_of_nails(x: np.ndarray, s: tuple[int, ...], out_size: tuple[int, ...]) -> np.ndarray:
    out = np.zeros(x.shape[:2] + out_size, dtype=x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(None, None, f) for f in s)] = x
    return out


UNPOOL_MODES: dict[str, Callable[[np.ndarray, tuple[int, ...], tuple[int, ...]], np.ndarray]] = {
    "nearest": _unpool_nearest,
    "bed_of_nails": _unpool_bed_of_nails,
}


@array_function
def unpool(x: npt.ArrayLike, scale_factor: v.IntOrTuple, mode: str = "nearest") -> np.ndarray:
    r"""Unpooling without indices: enlarge every spatial axis ``s`` times.

    Parameters
    ----------
    x : (N, C, *in_size) or (C, *in_size) array_like
        Input.  ``n = len(scale_factor)``, or ``x.ndim - 2`` when
        ``scale_factor`` is an int.
    scale_factor : int or sequence of n ints
        Block size per axis (>= 1).
    mode : {"nearest", "bed_of_nails"}
        ``"nearest"`` fills each ``s_1 x ... x s_n`` block with its value
        (nearest-neighbour up-sampling, torch ``interpolate(mode="nearest")``
        for integer scales); ``"bed_of_nails"`` puts it in the block's first
        cell and zeros elsewhere (a stride-``s`` transposed convolution with
        a one-hot kernel, i.e. zero insertion).

    Returns
    -------
    y : (N, C, *(in_size * s)) or (C, *(in_size * s)) ndarray
        A new array in ``x``'s dtype (floating, integer or boolean; lists
        become float64).

    Notes
    -----
    .. math::

        y_{nearest}[\mathbf{o}] = x[\lfloor \mathbf{o} / s \rfloor], \qquad
        y_{nails}[\mathbf{o}] = x[\mathbf{o} / s] \text{ if } s \mid \mathbf{o} \text{ else } 0

    Examples
    --------
    >>> import numpy as np, upconv
    >>> x = np.array([[[1.0, 2.0], [3.0, 4.0]]])
    >>> upconv.unpool(x, (2, 2))
    array([[[1., 1., 2., 2.],
            [1., 1., 2., 2.],
            [3., 3., 4., 4.],
            [3., 3., 4., 4.]]])
    >>> upconv.unpool(x, (2, 2), mode="bed_of_nails")
    array([[[1., 0., 2., 0.],
            [0., 0., 0., 0.],
            [3., 0., 4., 0.],
            [0., 0., 0., 0.]]])
    """
    func = "unpool"
    mode = v.choice(mode, tuple(UNPOOL_MODES), func, "mode")
    if is_exact(x):  # integers and booleans keep their dtype
        assert isinstance(x, np.ndarray)
        result_dtype, xa = x.dtype, x
    else:
        result_dtype, (xa,) = v.float_arrays(func, x=x)
    n = count_spatial_axes(func, xa, scale_factor, "scale_factor")
    xa, unbatched = v.batched(func, xa, n)
    s = v.int_tuple(scale_factor, n, func, "scale_factor", minimum=1)
    out_size = shapes.unpool_output_size(xa.shape[2:], s)
    v.check_allocation(xa.shape[:2] + out_size, xa.dtype, func, "the output")
    out = UNPOOL_MODES[mode](xa, s, out_size)
    out = out[0] if unbatched else out
    return out.astype(result_dtype, copy=False)
