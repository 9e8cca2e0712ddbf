"""Chunked ``pixel_shuffle``, ``pixel_unshuffle``, ``depth_to_space``, ``space_to_depth`` (:mod:`upconv.ops.chunked`).

A shuffle to space is a transposed convolution's geometry with kernel and
stride ``r`` (every input pixel fills its own ``r x ... x r`` block), a
shuffle to depth a convolution's (:mod:`upconv.shapes.chunks`).  The channel
axis, which the block index is folded into, is rechunked to one chunk; the
leading axes keep their chunks.  Results are exact copies, in the dtype the
in-memory operator returns (:func:`upconv.ops.chunked_graph.result_dtype`:
every dtype is kept).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from upconv import shapes
from upconv.ops import rearrange
from upconv.ops.chunked_graph import as_dask_array, blocks, keep, result_dtype, whole, windows
from upconv.ops.rearrange import (
    Rearrangement,
    depth_to_space_plan,
    pixel_shuffle_plan,
    pixel_unshuffle_plan,
    space_to_depth_plan,
)

__all__ = ["pixel_shuffle", "pixel_unshuffle", "depth_to_space", "space_to_depth"]

_PLANS: dict[str, Callable[..., Rearrangement]] = {
    "pixel_shuffle": pixel_shuffle_plan, "pixel_unshuffle": pixel_unshuffle_plan,
    "depth_to_space": depth_to_space_plan, "space_to_depth": space_to_depth_plan,
}


def _block(xs: list[np.ndarray], local: tuple[Any, ...], shared: Any, *, func: str, n: int, args: tuple) -> np.ndarray:
    y = _PLANS[func](xs[0].shape, *args).apply(xs[0], func)
    crop = tuple(slice(c.padding[0], c.padding[0] + c.stop - c.start) for c in local[-n:])
    return y[(Ellipsis,) + crop]


def _rearranged(func: str, x: Any, r: int, n: int, to_space: bool, args: tuple) -> Any:
    x = as_dask_array(x)
    plan = _PLANS[func](x.shape, *args)  # validates, with the in-memory messages
    c_axis = x.ndim - n - 1
    if len(x.chunks[c_axis]) > 1:
        x = x.rechunk({c_axis: -1})
    axes = [keep(c) for c in x.chunks[:c_axis]] + [whole(x.shape[c_axis], plan.out_shape[c_axis])]
    for a in range(n):
        size, chunks = x.shape[c_axis + 1 + a], x.chunks[c_axis + 1 + a]
        if to_space:
            found = shapes.conv_transpose_chunks(shapes.conv_transpose_geometry((size,), r, stride=r), 0, chunks)
        else:
            found = shapes.conv_chunks(shapes.conv_geometry((size,), r, stride=r), 0, chunks)
        axes.append(windows(found))
    # the in-memory operator on a one-element array, with factor 1 (pixel_*'s ndim is keyword-only)
    probe = {"ndim": args[1]} if func.startswith("pixel") else {"mode": args[1]}
    dtype = result_dtype(getattr(rearrange, func), x.ndim, x.dtype, 1, **probe)
    fn = partial(_block, func=func, n=n, args=args)
    return blocks(func, fn, [x], axes, [dtype], token=args)[0]


def pixel_shuffle(x: Any, upscale_factor: int, *, ndim: int = 2) -> Any:
    """Chunked :func:`upconv.pixel_shuffle`: a lazy Dask array equal to it, for any chunking.

    Parameters
    ----------
    x : (*, C * r**ndim, *spatial) dask.array.Array
        Input, chunked in any way along the leading and spatial axes; the
        channel axis is rechunked to one chunk.
    upscale_factor, ndim
        As :func:`upconv.pixel_shuffle`.

    Returns
    -------
    y : dask.array.Array
        Not yet computed; spatial chunks ``r`` times ``x``'s.

    Examples
    --------
    >>> import numpy as np, dask.array as da, upconv
    >>> from upconv.ops import chunked
    >>> x = np.arange(4 * 5 * 6).reshape(1, 4, 5, 6)
    >>> y = chunked.pixel_shuffle(da.from_array(x, chunks=(1, 2, 2, 4)), 2)
    >>> y.chunks[2:]
    ((4, 4, 2), (8, 4))
    >>> bool((y.compute() == upconv.pixel_shuffle(x, 2)).all())
    True
    """
    n = ndim if isinstance(ndim, int) and not isinstance(ndim, bool) else 0
    return _rearranged("pixel_shuffle", x, upscale_factor, n, True, (upscale_factor, ndim))


def pixel_unshuffle(x: Any, downscale_factor: int, *, ndim: int = 2) -> Any:
    """Chunked :func:`upconv.pixel_unshuffle`: a lazy Dask array equal to it, for any chunking.

    Parameters
    ----------
    x : (*, C, *spatial) dask.array.Array
        Input, chunked in any way along the leading and spatial axes; the
        channel axis is rechunked to one chunk.
    downscale_factor, ndim
        As :func:`upconv.pixel_unshuffle`.

    Examples
    --------
    >>> import numpy as np, dask.array as da, upconv
    >>> from upconv.ops import chunked
    >>> x = np.arange(2 * 6 * 8).reshape(1, 2, 6, 8)
    >>> y = chunked.pixel_unshuffle(da.from_array(x, chunks=(1, 1, 3, 3)), 2)
    >>> y.shape, y.chunks[2:]
    ((1, 8, 3, 4), ((1, 2), (1, 2, 1)))
    >>> bool((y.compute() == upconv.pixel_unshuffle(x, 2)).all())
    True
    """
    n = ndim if isinstance(ndim, int) and not isinstance(ndim, bool) else 0
    return _rearranged("pixel_unshuffle", x, downscale_factor, n, False, (downscale_factor, ndim))


def depth_to_space(x: Any, blocksize: int, mode: str = "DCR") -> Any:
    """Chunked :func:`upconv.depth_to_space`: a lazy Dask array equal to it, for any chunking.

    Parameters
    ----------
    x : (N, C * b**n, *spatial) dask.array.Array
        Input, chunked in any way along the batch and spatial axes; the
        channel axis is rechunked to one chunk.
    blocksize, mode
        As :func:`upconv.depth_to_space`.

    Examples
    --------
    >>> import numpy as np, dask.array as da, upconv
    >>> from upconv.ops import chunked
    >>> x = np.arange(8 * 3 * 3).reshape(1, 8, 3, 3)
    >>> y = chunked.depth_to_space(da.from_array(x, chunks=(1, 4, 2, 1)), 2)
    >>> bool((y.compute() == upconv.depth_to_space(x, 2)).all())
    True
    """
    n = np.ndim(x) - 2
    return _rearranged("depth_to_space", x, blocksize, n, True, (blocksize, mode))


def space_to_depth(x: Any, blocksize: int, mode: str = "DCR") -> Any:
    """Chunked :func:`upconv.space_to_depth`: a lazy Dask array equal to it, for any chunking.

    Parameters
    ----------
    x : (N, C, *spatial) dask.array.Array
        Input, chunked in any way along the batch and spatial axes; the
        channel axis is rechunked to one chunk.
    blocksize, mode
        As :func:`upconv.space_to_depth`.

    Examples
    --------
    >>> import numpy as np, dask.array as da, upconv
    >>> from upconv.ops import chunked
    >>> x = np.arange(2 * 4 * 6).reshape(1, 2, 4, 6)
    >>> y = chunked.space_to_depth(da.from_array(x, chunks=(1, 1, 3, 5)), 2, mode="CRD")
    >>> bool((y.compute() == upconv.space_to_depth(x, 2, mode="CRD")).all())
    True
    """
    n = np.ndim(x) - 2
    return _rearranged("space_to_depth", x, blocksize, n, False, (blocksize, mode))
