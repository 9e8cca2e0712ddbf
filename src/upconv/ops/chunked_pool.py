"""Chunked ``max_pool``, ``max_unpool`` and ``unpool`` (see :mod:`upconv.ops.chunked`).

Pooling is a convolution's geometry (:func:`upconv.shapes.conv_chunks` on
:func:`upconv.shapes.pool_geometry`, ceil mode included); unpooling a
transposed one (:func:`upconv.shapes.conv_transpose_chunks`; a max unpooling
writes every value inside its pooling window, :func:`upconv.shapes.max_unpool_geometry`).
Channels are pooled independently and keep their chunks.  Every result is
exact: maxima and copies.

Dtypes: every block runs the in-memory operator (``max_pool``, ``unpool``) on
its window as it comes, or the in-memory dtype policy around a window's
scatter (:func:`upconv.ops.pooling.unpooled_values`), so integer and boolean
data keep their dtype exactly where the in-memory call keeps it; the graph's
dtype is the in-memory operator's for the input's dtype
(:func:`upconv.ops.chunked_graph.result_dtype`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.kernels.parallel import parallel_for
from upconv.ops.chunked_graph import as_dask_array, blocks, keep, result_dtype, windows
from upconv.ops.pooling import UNPOOL_MODES, count_spatial_axes, unpooled_values
from upconv.ops.pooling import max_pool as max_pool_in_memory
from upconv.ops.pooling import max_unpool as max_unpool_in_memory
from upconv.ops.pooling import unpool as unpool_in_memory

__all__ = ["max_pool", "max_unpool", "unpool"]


def _leading(x: Any, n: int) -> list[Any]:
    return [keep(c) for c in x.chunks[: x.ndim - n]]


def _max_pool_block(xs: list[np.ndarray], local: tuple[Any, ...], shared: Any, *, n: int, kernel_size: Any,
                    stride: Any, dilation: Any, return_indices: bool, in_size: tuple[int, ...]) -> Any:
    chunks = local[-n:]
    out = max_pool_in_memory(xs[0], kernel_size, stride, [c.padding for c in chunks], dilation, False,
                             return_indices)
    if not return_indices:
        return out
    y, idx = out
    # the window's flat positions -> the whole plane's
    at = np.unravel_index(idx, xs[0].shape[-n:])
    return y, np.ravel_multi_index(tuple(a + c.read_start for a, c in zip(at, chunks, strict=True)), in_size)


def max_pool(
    x: Any,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: Any = 0,
    dilation: int | Sequence[int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """Chunked :func:`upconv.max_pool`: lazy Dask arrays equal to it (indices included), for any chunking.

    Parameters
    ----------
    x : (N, C, *in_size) or (C, *in_size) dask.array.Array
        Input, chunked in any way.  A NumPy array is wrapped as one chunk.
    kernel_size, stride, padding, dilation, ceil_mode, return_indices
        As :func:`upconv.max_pool`.

    Returns
    -------
    y : dask.array.Array
    indices : dask.array.Array of int64
        Only with ``return_indices``: flat positions in the whole plane, as
        the in-memory call returns.

    Examples
    --------
    >>> import numpy as np, dask.array as da, upconv
    >>> from upconv.ops import chunked
    >>> x = np.random.default_rng(0).standard_normal((2, 3, 21, 21))
    >>> y, i = chunked.max_pool(da.from_array(x, chunks=(1, 3, 5, 8)), 3, stride=2, padding=1, return_indices=True)
    >>> y0, i0 = upconv.max_pool(x, 3, stride=2, padding=1, return_indices=True)
    >>> bool((y.compute() == y0).all() and (i.compute() == i0).all())
    True
    """
    func = "max_pool"
    x = as_dask_array(x)
    dtype = result_dtype(max_pool_in_memory, 3, x.dtype, 1)
    xp = v.proxy(x.shape, dtype)
    n = count_spatial_axes(func, xp, kernel_size, "kernel_size")
    xb, _ = v.batched(func, xp, n)
    return_indices = v.boolean(return_indices, func, "return_indices")
    g = shapes.pool_geometry(xb.shape[2:], kernel_size, stride, padding, dilation, ceil_mode, func=func)
    axes = _leading(x, n) + [windows(shapes.conv_chunks(g, a, x.chunks[x.ndim - n + a])) for a in range(n)]
    fn = partial(_max_pool_block, n=n, kernel_size=g.kernel_size, stride=g.stride, dilation=g.dilation,
                 return_indices=return_indices, in_size=g.in_size)
    dtypes = [dtype, np.int64] if return_indices else [dtype]
    out = blocks(func, fn, [x], axes, dtypes, token=(g, return_indices))
    return (out[0], out[1]) if return_indices else out[0]


def _max_unpool_block(xs: list[np.ndarray], local: tuple[Any, ...], shared: Any, *, n: int,
                      geometry: shapes.ConvGeometry) -> np.ndarray:
    x, ind = xs
    return unpooled_values("max_unpool", x, partial(_scatter, ind=ind, local=local, n=n, geometry=geometry))


def _scatter(x: np.ndarray, *, ind: np.ndarray, local: tuple[Any, ...], n: int,
             geometry: shapes.ConvGeometry) -> np.ndarray:
    """The output chunk ``local`` of the max unpooling of the float window ``x`` at its global indices ``ind``."""
    from upconv.kernels.pooling import max_unpool_planes

    lead, chunks = local[:-n], local[-n:]
    out_size = geometry.in_size
    starts = np.array([c.start for c in chunks])[:, None]
    size = tuple(c.stop - c.start for c in chunks)
    P, L = math.prod(x.shape[:-n]), math.prod(size)
    idx = np.ascontiguousarray(ind, dtype=np.int64).reshape(P, -1)
    bad = (idx < 0) | (idx >= math.prod(out_size))
    at = np.array(np.unravel_index(np.where(bad, 0, idx), out_size)).reshape(n, P, -1)
    # every index must lie in its element's pooling window: then the window read holds every writer
    pos = np.array(np.unravel_index(np.arange(idx.shape[1]), x.shape[-n:])).reshape(n, 1, -1)
    pos += np.array([c.read_start for c in chunks]).reshape(n, 1, 1)
    s = np.array(geometry.stride).reshape(n, 1, 1)
    first = pos * s - np.array([p for p, _ in geometry.padding]).reshape(n, 1, 1)
    outside = ((at < first) | (at >= first + np.array(geometry.kernel_size).reshape(n, 1, 1))).any(axis=0)
    wrong = bad | outside
    if wrong.any():
        p, j = np.argwhere(wrong)[0]
        at_lead = tuple(int(i) + r[0] for i, r in zip(np.unravel_index(p, x.shape[:-n]), lead, strict=True))
        where = at_lead + tuple(int(a) for a in pos[:, 0, j])
        shown = list(where)
        if bad[p, j]:
            raise ValueError(f"max_unpool: indices{shown} = {int(idx[p, j])} is not a valid position in an output "
                             f"plane of size {out_size}; indices must lie in [0, {math.prod(out_size)})")
        raise ValueError(f"max_unpool: indices{shown} = {int(idx[p, j])} lies outside the pooling window of its "
                         "element; the chunked max_unpool needs the indices of max_pool with the same kernel_size, "
                         "stride and padding (call .compute() first to unpool other indices)")
    rel = at.reshape(n, -1) - starts
    inside = ((rel >= 0) & (rel < np.array(size)[:, None])).all(axis=0)
    flat = np.where(inside, np.ravel_multi_index(tuple(np.where(inside, rel, 0)), size), L).reshape(P, -1)
    out = np.empty((P, L + 1), dtype=x.dtype)  # the last column takes the writes outside the chunk
    if P:
        parallel_for(max_unpool_planes, P, np.ascontiguousarray(x).reshape(P, -1), flat, out,
                     np.full(P, -1, dtype=np.int64))
    return out[:, :L].reshape(x.shape[:-n] + size)


def max_unpool(
    x: Any,
    indices: Any,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] | None = None,
    padding: Any = 0,
    output_size: Sequence[int] | None = None,
) -> Any:
    """Chunked :func:`upconv.max_unpool`: a lazy Dask array equal to it, for any chunking.

    Parameters
    ----------
    x : (N, C, *in_size) or (C, *in_size) dask.array.Array
        Pooled values, chunked in any way.
    indices : dask.array.Array or array_like of ints, shape of ``x``
        As returned by :func:`max_pool` (or :func:`upconv.max_pool`) with the
        same ``kernel_size``, ``stride`` and ``padding``: every index must lie
        inside the pooling window of its element, so that an output chunk
        needs only the inputs whose windows reach it (checked when computed:
        an index elsewhere raises ValueError).  Rechunked as ``x``.
    kernel_size, stride, padding, output_size
        As :func:`upconv.max_unpool`.

    Returns
    -------
    y : dask.array.Array
        Not yet computed.

    Examples
    --------
    >>> import numpy as np, dask.array as da, upconv
    >>> from upconv.ops import chunked
    >>> x = np.random.default_rng(0).standard_normal((1, 2, 12, 12))
    >>> y, i = upconv.max_pool(x, 2, return_indices=True)
    >>> z = chunked.max_unpool(da.from_array(y, chunks=(1, 1, 4, 3)), i, 2)
    >>> bool((z.compute() == upconv.max_unpool(y, i, 2)).all())
    True
    """
    func = "max_unpool"
    x = as_dask_array(x)
    dtype = result_dtype(max_unpool_in_memory, 3, x.dtype, np.zeros((1, 1, 1), np.int64), 1)
    ind = as_dask_array(indices)
    if ind.dtype.kind not in "iu":
        raise TypeError(f"{func}: indices must be an integer array, got dtype {ind.dtype}")
    if ind.shape != x.shape:
        raise ValueError(f"{func}: indices must have the shape of x, {x.shape}, got {ind.shape}")
    xp = v.proxy(x.shape, dtype)
    n = count_spatial_axes(func, xp, kernel_size, "kernel_size")
    xb, _ = v.batched(func, xp, n)
    out_size = shapes.max_unpool_output_size(xb.shape[2:], kernel_size, stride, padding, output_size, func=func)
    k = v.int_tuple(kernel_size, n, func, "kernel_size")
    s = k if stride is None else v.int_tuple(stride, n, func, "stride")
    g = shapes.max_unpool_geometry(xb.shape[2:], k, s, v.pad_pairs(padding, n, func), out_size)
    ind = ind.rechunk(x.chunks)
    axes = _leading(x, n) + [windows(shapes.conv_transpose_chunks(g, a, x.chunks[x.ndim - n + a]))
                             for a in range(n)]
    fn = partial(_max_unpool_block, n=n, geometry=g)
    return blocks(func, fn, [x, ind], axes, [dtype], token=g)[0]


def _unpool_block(xs: list[np.ndarray], local: tuple[Any, ...], shared: Any, *, n: int, scale: tuple[int, ...],
                  mode: str) -> np.ndarray:
    y = unpool_in_memory(xs[0], scale, mode)
    crop = tuple(slice(c.padding[0], c.padding[0] + c.stop - c.start) for c in local[-n:])
    return y[(Ellipsis,) + crop]


def unpool(x: Any, scale_factor: int | Sequence[int], mode: str = "nearest") -> Any:
    """Chunked :func:`upconv.unpool`: a lazy Dask array equal to it, for any chunking.

    Parameters
    ----------
    x : (N, C, *in_size) or (C, *in_size) dask.array.Array
        Input, chunked in any way.
    scale_factor, mode
        As :func:`upconv.unpool`.

    Returns
    -------
    y : dask.array.Array
        Not yet computed; chunks ``scale_factor`` times ``x``'s.

    Examples
    --------
    >>> import numpy as np, dask.array as da, upconv
    >>> from upconv.ops import chunked
    >>> x = np.arange(12.0).reshape(1, 1, 3, 4)
    >>> y = chunked.unpool(da.from_array(x, chunks=(1, 1, 2, 3)), 2, mode="bed_of_nails")
    >>> y.chunks[2:]
    ((4, 2), (6, 2))
    >>> bool((y.compute() == upconv.unpool(x, 2, mode="bed_of_nails")).all())
    True
    """
    func = "unpool"
    mode = v.choice(mode, tuple(UNPOOL_MODES), func, "mode")
    x = as_dask_array(x)
    dtype = result_dtype(unpool_in_memory, 3, x.dtype, 1)
    xp = v.proxy(x.shape, dtype)
    n = count_spatial_axes(func, xp, scale_factor, "scale_factor")
    xb, _ = v.batched(func, xp, n)
    s = v.int_tuple(scale_factor, n, func, "scale_factor", minimum=1)
    shapes.unpool_output_size(xb.shape[2:], s)
    g = shapes.conv_transpose_geometry(xb.shape[2:], s, stride=s)
    axes = _leading(x, n) + [windows(shapes.conv_transpose_chunks(g, a, x.chunks[x.ndim - n + a])) for a in range(n)]
    return blocks(func, partial(_unpool_block, n=n, scale=s, mode=mode), [x], axes, [dtype], token=(s, mode))[0]
