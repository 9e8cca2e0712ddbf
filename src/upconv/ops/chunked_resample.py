"""Chunked ``interpolate``, ``resize`` and ``resize_conv`` (see :mod:`upconv.ops.chunked`).

The in-memory operators validate and plan a call as a
:class:`upconv.ops.resampling.Resampling` (:mod:`upconv.ops.resample_plans`:
the engine their dtype policy picks, the result's dtype, the taps and weights
of every output along every axis) and run it on the array.  Here the same
Resampling is made once for the whole array, from its shape and dtype, its
tables are cut per output chunk (:meth:`~upconv.ops.resampling.Resampling.part`;
:func:`upconv.shapes.gather_chunks` says which inputs a chunk's taps read),
and every block runs it on its window: the same engine (a gather for integer
data in the nearest modes, torch's fixed point for uint8 ``bilinear`` and
``bicubic``, the float engine otherwise) and each output the same sum of the
same products, bit for bit, for any chunking.  Axes left unchanged (and the
batch and channel axes of ``interpolate``) keep their chunks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from upconv import _validate as v
from upconv.ops.chunked_conv import conv as chunked_conv
from upconv.ops.chunked_graph import as_dask_array, blocks, dtype_rule, finished, keep, prepared, windows
from upconv.ops.convolution import prepare
from upconv.ops.resample_plans import interpolate_resampling, resize_resampling
from upconv.ops.resampling import Resampling
from upconv.ops.resize_convolution import check_convolution, interpolation_args
from upconv.shapes import gather_chunks

__all__ = ["interpolate", "resize", "resize_conv"]


def _resample_block(xs: list[Any], local: tuple[Any, ...], shared: Resampling, *, func: str,
                    resampled: tuple[bool, ...]) -> Any:
    return shared.window([t if on else None for t, on in zip(local, resampled, strict=True)]).run(xs[0], func)


def _resampled(func: str, x: Any, r: Resampling, token: Any) -> Any:
    """``r`` run block by block on the Dask array ``x``: a lazy Dask array of dtype ``r.dtype``."""
    if r.tables is None:  # an empty output
        import dask.array as da

        return da.zeros(r.out_shape, dtype=r.dtype)
    axes = []
    for a in range(x.ndim):
        reads = r.reads(a)
        if reads is None:
            axes.append(keep(x.chunks[a]))
            continue
        chunks = gather_chunks(reads, x.shape[a], x.chunks[a])
        axes.append(windows(chunks, [r.part(a, c.start, c.stop, c.read_start) for c in chunks]))
    fn = partial(_resample_block, func=func, resampled=tuple(r.reads(a) is not None for a in range(x.ndim)))
    # the tables travel cut, one chunk's with each block (the graph's per-chunk keys)
    return blocks(func, fn, [x], axes, [r.dtype], shared=replace(r, tables=()), token=token)[0]


def interpolate(
    x: Any,
    size: int | Sequence[int] | None = None,
    scale_factor: float | Sequence[float] | None = None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Any:
    """Chunked :func:`upconv.interpolate`: a lazy Dask array equal to it, bit for bit, for any chunking.

    Parameters
    ----------
    x : (N, C, *in_size) dask.array.Array
        Input, chunked in any way along every axis (channels too: they are
        resampled independently).  A NumPy array is wrapped as one chunk.
    size, scale_factor, mode, align_corners, recompute_scale_factor, antialias
        As :func:`upconv.interpolate`: every mode, scale factor and size.

    Returns
    -------
    y : (N, C, *out_size) dask.array.Array
        Not yet computed.  Output chunk boundaries follow the input's, scaled
        (:func:`upconv.shapes.gather_chunks`); each chunk reads the inputs its
        taps reach.

    Raises
    ------
    ValueError, TypeError
        Where :func:`upconv.interpolate` raises, with its messages, before any
        graph is built.

    Examples
    --------
    >>> import numpy as np, dask.array as da, upconv
    >>> from upconv.ops import chunked
    >>> x = np.random.default_rng(0).random((1, 3, 50, 70), dtype=np.float32)
    >>> y = chunked.interpolate(da.from_array(x, chunks=(1, 1, 16, 32)), scale_factor=2.5, mode="bicubic")
    >>> y.shape
    (1, 3, 125, 175)
    >>> bool((y.compute() == upconv.interpolate(x, scale_factor=2.5, mode="bicubic")).all())
    True
    """
    func = "interpolate"
    x = as_dask_array(x)
    r = interpolate_resampling(func, v.proxy(x.shape, x.dtype), size, scale_factor, mode, align_corners,
                               recompute_scale_factor, antialias)
    return _resampled(func, x, r, (size, scale_factor, mode, align_corners, recompute_scale_factor, antialias))


def resize(
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
) -> Any:
    """Chunked :func:`upconv.resize` (ONNX Resize): a lazy Dask array equal to it, bit for bit, for any chunking.

    Parameters
    ----------
    x : dask.array.Array
        Input of any rank, chunked in any way.  A NumPy array is wrapped as
        one chunk.
    sizes, scales, roi, mode, coordinate_transformation_mode, nearest_mode, cubic_coeff_a, exclude_outside, \
extrapolation_value, antialias, axes, keep_aspect_ratio_policy
        As :func:`upconv.resize`.

    Returns
    -------
    y : dask.array.Array
        Not yet computed; resized axes are chunked as
        :func:`upconv.shapes.gather_chunks` says, the others keep ``x``'s chunks.

    Raises
    ------
    ValueError, TypeError
        Where :func:`upconv.resize` raises, with its messages, before any
        graph is built.

    Examples
    --------
    >>> import numpy as np, dask.array as da, upconv
    >>> from upconv.ops import chunked
    >>> x = np.random.default_rng(0).random((3, 40, 30))
    >>> y = chunked.resize(da.from_array(x, chunks=(3, 7, 11)), scales=[1.7, 0.6], axes=[1, 2], mode="linear")
    >>> y.shape, y.chunks[1]
    ((3, 68, 18), (12, 12, 12, 12, 11, 9))
    >>> bool((y.compute() == upconv.resize(x, scales=[1.7, 0.6], axes=[1, 2], mode="linear")).all())
    True
    """
    func = "resize"
    x = as_dask_array(x)
    r = resize_resampling(func, v.proxy(x.shape, x.dtype), sizes, scales, roi, mode, coordinate_transformation_mode,
                          nearest_mode, cubic_coeff_a, exclude_outside, extrapolation_value, antialias, axes,
                          keep_aspect_ratio_policy)
    token = (sizes, scales, roi, mode, coordinate_transformation_mode, nearest_mode, cubic_coeff_a, exclude_outside,
             extrapolation_value, antialias, axes, keep_aspect_ratio_policy)
    return _resampled(func, x, r, token)


def resize_conv(
    x: Any,
    weight: Any,
    bias: Any = None,
    scale_factor: float | Sequence[float] = 2,
    mode: str = "nearest",
    padding: Any = "same",
    stride: int | Sequence[int] = 1,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    *,
    align_corners: bool | None = None,
) -> Any:
    """Chunked :func:`upconv.resize_conv`: chunked :func:`interpolate`, then chunked ``conv``.

    Parameters
    ----------
    x : (N, C_in, *in_size) or (C_in, *in_size) dask.array.Array
        Input, chunked along the batch and spatial axes in any way; the
        channel axis is rechunked to one chunk.
    weight, bias, scale_factor, mode, padding, stride, dilation, groups, align_corners
        As :func:`upconv.resize_conv`.

    Returns
    -------
    y : dask.array.Array
        Not yet computed; equal to the in-memory call to the rounding of the
        convolution (see :func:`upconv.ops.chunked.conv`).

    Raises
    ------
    ValueError, TypeError
        Where :func:`upconv.resize_conv` raises, with its messages.

    Examples
    --------
    >>> import numpy as np, dask.array as da, upconv
    >>> from upconv.ops import chunked
    >>> x = np.random.default_rng(0).standard_normal((2, 30, 30))
    >>> w = np.random.default_rng(1).standard_normal((3, 2, 3, 3))
    >>> y = chunked.resize_conv(da.from_array(x, chunks=(2, 8, 8)), w, mode="bilinear")
    >>> y.shape
    (3, 60, 60)
    >>> np.allclose(y.compute(), upconv.resize_conv(x, w, mode="bilinear"), rtol=1e-12, atol=1e-12)
    True
    """
    func = "resize_conv"
    x = as_dask_array(x)
    result, compute, (w, b) = dtype_rule(func, x, weight=weight, bias=bias)
    _, xp, w, b, groups, unbatched = prepare(func, v.proxy(x.shape, compute), w, b, groups)
    mode, align_corners, size = interpolation_args(func, xp, w.ndim - 2, scale_factor, mode, align_corners)
    groups, _ = check_convolution(func, xp.shape[1], size, w, b, stride, padding, dilation, groups)
    xb = prepared(x, compute, unbatched, whole_axis=1)
    up = interpolate(xb, scale_factor=scale_factor, mode=mode, align_corners=align_corners)
    return finished(chunked_conv(up, w, b, stride, padding, dilation, groups), result, unbatched)
