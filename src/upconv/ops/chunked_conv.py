"""Chunked ``conv`` and ``conv_transpose``: Dask arrays in, lazy Dask arrays out (see :mod:`upconv.ops.chunked`).

Each output block is :func:`upconv.conv` / :func:`upconv.conv_transpose` on
the input window :func:`upconv.shapes.conv_chunks` /
:func:`upconv.shapes.conv_transpose_chunks` give for it, with the local
padding they give in place of the operator's own (for the transposed
convolution a negative end padding is passed as ``output_padding``).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.ops import paths
from upconv.ops.chunked_graph import (
    as_dask_array,
    blocks,
    dtype_rule,
    finished,
    keep,
    prepared,
    whole,
    windows,
)
from upconv.ops.convolution import (
    CONV_TRANSPOSE_METHODS,
    check_conv_channels,
    check_transpose_channels,
    prepare,
    spatial_output_size,
)
from upconv.ops.convolution import conv as conv_in_memory
from upconv.ops.convolution import conv_transpose as conv_transpose_in_memory

__all__ = ["conv", "conv_transpose"]


def _conv_block(xs: list[np.ndarray], local: tuple[Any, ...], shared: Any, *, stride: tuple[int, ...],
                dilation: tuple[int, ...], groups: int, route: paths.Route) -> np.ndarray:
    w, b = shared
    with paths.following(route):  # the whole array's choices: a compiled kernel's sums, bit for bit
        return conv_in_memory(xs[0], w, b, stride, [c.padding for c in local[2:]], dilation, groups)


def _conv_transpose_block(xs: list[np.ndarray], local: tuple[Any, ...], shared: Any, *, stride: tuple[int, ...],
                          dilation: tuple[int, ...], groups: int, method: str, route: paths.Route) -> np.ndarray:
    w, b = shared
    pads = [(c.padding[0], max(c.padding[1], 0)) for c in local[2:]]
    extra = [max(-c.padding[1], 0) for c in local[2:]]
    with paths.following(route):
        return conv_transpose_in_memory(xs[0], w, b, stride, pads, extra, groups, dilation, method=method)


def conv(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: int | Sequence[int] = 1,
    padding: Any = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> Any:
    r"""Chunked :func:`upconv.conv`: a lazy Dask array equal to ``upconv.conv`` of the whole array.

    Parameters
    ----------
    x : (N, C_in, *in_size) or (C_in, *in_size) dask.array.Array
        Input, chunked along the batch and spatial axes in any way; the
        channel axis is rechunked to one chunk (every output channel reads
        every input channel).  A NumPy array is wrapped as one chunk.
    weight, bias, stride, padding, dilation, groups
        As :func:`upconv.conv` (NumPy arrays; a Dask weight is computed).

    Returns
    -------
    y : dask.array.Array
        ``upconv.conv(x, ...)``, not yet computed.  Its spatial chunks follow
        ``x``'s (:func:`upconv.shapes.conv_chunks`); each is ``upconv.conv``
        of the window of ``x`` it reads.

    Raises
    ------
    ValueError, TypeError
        Where :func:`upconv.conv` raises, with its messages, before any
        graph is built.

    Notes
    -----
    Every block takes the whole array's choice of kernel
    (:func:`upconv.ops.paths.conv_route`), not the one its own size would
    give, and each engine sums every output in an order that does not
    depend on the extent (the compiled kernels; im2col and the fixed-order
    GEMM :func:`upconv.ops.paths.matmul`): the result is the in-memory one
    bit for bit.

    Examples
    --------
    >>> import numpy as np, dask.array as da, upconv
    >>> from upconv.ops import chunked
    >>> x = np.random.default_rng(0).standard_normal((1, 3, 64, 64))
    >>> w = np.ones((4, 3, 3, 3))
    >>> y = chunked.conv(da.from_array(x, chunks=(1, 3, 20, 20)), w, padding=1)
    >>> y.chunks[2:]
    ((20, 20, 20, 4), (20, 20, 20, 4))
    >>> np.allclose(y.compute(), upconv.conv(x, w, padding=1))
    True
    """
    func = "conv"
    x = as_dask_array(x)
    result, compute, (w, b) = dtype_rule(func, x, weight=weight, bias=bias)
    _, xp, w, b, groups, unbatched = prepare(func, v.proxy(x.shape, compute), w, b, groups)
    check_conv_channels(func, xp.shape[1], w, b, groups)
    g = shapes.conv_geometry(xp.shape[2:], w.shape[2:], stride, padding, dilation, func=func)
    xb = prepared(x, compute, unbatched, whole_axis=1)
    axes = [keep(xb.chunks[0]), whole(xb.shape[1], w.shape[0])]
    axes += [windows(shapes.conv_chunks(g, a, xb.chunks[2 + a])) for a in range(g.ndim)]
    route = paths.conv_route(v.proxy(xb.shape, compute), g, groups, w.shape[0])
    fn = partial(_conv_block, stride=g.stride, dilation=g.dilation, groups=groups, route=route)
    (y,) = blocks(func, fn, [xb], axes, [compute], shared=(w, b), token=(w, b, g, groups, route))
    return finished(y, result, unbatched)


def conv_transpose(
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
) -> Any:
    r"""Chunked :func:`upconv.conv_transpose`: a lazy Dask array equal to ``upconv.conv_transpose`` of the whole array.

    Parameters
    ----------
    x : (N, C_in, *in_size) or (C_in, *in_size) dask.array.Array
        Input, chunked along the batch and spatial axes in any way; the
        channel axis is rechunked to one chunk.  A NumPy array is wrapped as
        one chunk.
    weight, bias, stride, padding, output_padding, groups, dilation, output_size, method
        As :func:`upconv.conv_transpose` (NumPy arrays; a Dask weight is
        computed).

    Returns
    -------
    y : dask.array.Array
        ``upconv.conv_transpose(x, ...)``, not yet computed.  Its spatial
        chunks follow ``x``'s, times the stride
        (:func:`upconv.shapes.conv_transpose_chunks`); each is
        ``upconv.conv_transpose`` of the window of ``x`` it reads, with the
        local padding and output padding of that chunk.

    Raises
    ------
    ValueError, TypeError
        Where :func:`upconv.conv_transpose` raises, with its messages, before
        any graph is built.

    Notes
    -----
    Every block takes the whole array's choices (the method for
    ``"auto"``, the vector kernel or not: :func:`upconv.ops.paths.conv_transpose_route`),
    not those its own size would give.  Every method sums each output's
    products in the same order in a block as in the whole array:
    ``method="matrix"`` (a sparse ``C.T @ y``), the compiled kernels (direct
    stamping, overlap-add, the float32 vector kernels) and the fixed-order
    GEMM (:func:`upconv.ops.paths.matmul`) of scatter, phase and zero
    insertion: bit for bit.

    Examples
    --------
    The x2 up-sampling layer (kernel 4, stride 2, padding 1) on chunks of 16:

    >>> import numpy as np, dask.array as da, upconv
    >>> from upconv.ops import chunked
    >>> x = np.random.default_rng(0).standard_normal((2, 8, 40, 40)).astype(np.float32)
    >>> w = np.random.default_rng(1).standard_normal((8, 4, 4, 4)).astype(np.float32)
    >>> y = chunked.conv_transpose(da.from_array(x, chunks=(1, 8, 16, 16)), w, stride=2, padding=1)
    >>> y.shape, y.chunks[2]
    ((2, 4, 80, 80), (32, 32, 16))
    >>> np.allclose(y.compute(), upconv.conv_transpose(x, w, stride=2, padding=1), rtol=1e-6, atol=1e-6)
    True
    """
    func = "conv_transpose"
    method = v.choice(method, ("auto",) + tuple(CONV_TRANSPOSE_METHODS), func, "method")
    x = as_dask_array(x)
    result, compute, (w, b) = dtype_rule(func, x, weight=weight, bias=bias)
    _, xp, w, b, groups, unbatched = prepare(func, v.proxy(x.shape, compute), w, b, groups)
    check_transpose_channels(func, xp.shape[1], w, b, groups)
    if output_size is not None:
        output_size = spatial_output_size(func, output_size, w.ndim - 2, unbatched)
    g = shapes.conv_transpose_geometry(
        xp.shape[2:], w.shape[2:], stride, padding, output_padding, dilation, output_size=output_size, func=func
    )
    xb = prepared(x, compute, unbatched, whole_axis=1)
    axes = [keep(xb.chunks[0]), whole(xb.shape[1], w.shape[1] * groups)]
    axes += [windows(shapes.conv_transpose_chunks(g, a, xb.chunks[2 + a])) for a in range(g.ndim)]
    route = paths.conv_transpose_route(v.proxy(xb.shape, compute), w, g, groups, method)
    fn = partial(_conv_transpose_block, stride=g.stride, dilation=g.dilation, groups=groups, method=method,
                 route=route)
    (y,) = blocks(func, fn, [xb], axes, [compute], shared=(w, b), token=(w, b, g, groups, method, route))
    return finished(y, result, unbatched)
