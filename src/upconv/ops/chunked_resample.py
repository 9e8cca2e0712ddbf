"""Chunked ``interpolate``, ``resize`` and ``resize_conv`` (see :mod:`upconv.ops.chunked`).

The in-memory operators plan every axis (:class:`upconv.ops.resampling.AxisPlan`:
the taps and weights of every output) and run the engine
(:func:`upconv.ops.resampling.apply`).  Here the plans are made once for the
whole array, exactly as the in-memory call makes them (global coordinates,
scales, torch's shortcuts and index arithmetic), cut per output chunk
(:func:`upconv.shapes.gather_chunks` says which inputs a chunk's taps read),
and every block runs the same engine on its window with its part of the
plans: each output is the same sum of the same products, bit for bit, for any
chunking.  Axes a plan leaves unchanged (and the batch and channel axes of
``interpolate``) keep their chunks.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

import numpy as np

from upconv import _validate as v
from upconv.ops.chunked_conv import conv as chunked_conv
from upconv.ops.chunked_graph import as_dask_array, blocks, dtype_rule, finished, keep, prepared, proxy, windows
from upconv.ops.convolution import prepare
from upconv.ops.interpolation import interpolate_plans, resize_plans
from upconv.ops.resampling import AxisPlan, apply
from upconv.ops.resize_convolution import check_convolution, interpolation_args
from upconv.shapes import Chunk, gather_chunks

__all__ = ["interpolate", "resize", "resize_conv"]


def _part(plan: AxisPlan, c: Chunk) -> AxisPlan:
    """The plan of the outputs ``[c.start, c.stop)``, its taps counted from ``c.read_start``."""
    cut = slice(c.start, c.stop)
    return AxisPlan(
        np.ascontiguousarray(plan.index[:, cut] - c.read_start),
        np.ascontiguousarray(plan.weight[:, cut]),
        None if plan.outside is None else plan.outside[cut],
        plan.order,
        None if plan.size is None else plan.size[cut],
    )


def _resample_block(xs: list[np.ndarray], local: tuple[Any, ...], shared: Any, *, order: tuple[int, ...],
                    func: str, fill: float, compute: Any) -> np.ndarray:
    plans = [p if isinstance(p, AxisPlan) else None for p in local]
    return apply(xs[0].astype(compute, copy=False), plans, order, func, fill)


def _resampled(func: str, x: Any, plans: Sequence[AxisPlan | None], order: Sequence[int], compute: Any,
               fill: float, token: Any) -> Any:
    """The chunked engine: ``apply(x, plans, order)`` block by block, in the compute dtype."""
    axes = []
    for a, plan in enumerate(plans):
        if plan is None:
            axes.append(keep(x.chunks[a]))
            continue
        chunks = gather_chunks(plan.index, x.shape[a], x.chunks[a])
        axes.append(windows(chunks, [_part(plan, c) for c in chunks]))
    fn = partial(_resample_block, order=tuple(order), func=func, fill=fill, compute=compute)
    return blocks(func, fn, [x], axes, [compute], token=token)[0]


def _zeros(shape: tuple[int, ...], dtype: Any) -> Any:
    import dask.array as da

    return da.zeros(shape, dtype=dtype)


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
    result, compute, _ = dtype_rule(func, x)
    out_size, plans = interpolate_plans(func, proxy(x.shape, compute), size, scale_factor, mode, align_corners,
                                        recompute_scale_factor, antialias)
    if plans is None:
        return _zeros(x.shape[:2] + out_size, result)
    token = (size, scale_factor, mode, align_corners, recompute_scale_factor, antialias)
    # torch resamples the last (contiguous) axis first, then the others from the back
    y = _resampled(func, x, plans, range(x.ndim - 1, 1, -1), compute, 0.0, token)
    return finished(y, result, False)


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
    extrapolation_value = v.real(extrapolation_value, func, "extrapolation_value", finite=False)
    x = as_dask_array(x)
    result, compute, _ = dtype_rule(func, x)
    g, plans = resize_plans(func, proxy(x.shape, compute), sizes, scales, roi, mode, coordinate_transformation_mode,
                            nearest_mode, cubic_coeff_a, exclude_outside, antialias, axes, keep_aspect_ratio_policy)
    if plans is None:
        return _zeros(g.out_shape, result)
    token = (sizes, scales, roi, mode, coordinate_transformation_mode, nearest_mode, cubic_coeff_a, exclude_outside,
             extrapolation_value, antialias, axes, keep_aspect_ratio_policy)
    y = _resampled(func, x, plans, g.axes, np.dtype(np.float64), extrapolation_value, token)
    return finished(y, result, False)


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
    _, xp, w, b, groups, unbatched = prepare(func, proxy(x.shape, compute), w, b, groups)
    mode, align_corners, size = interpolation_args(func, xp, w.ndim - 2, scale_factor, mode, align_corners)
    groups = check_convolution(func, xp.shape[1], size, w, b, stride, padding, dilation, groups)
    xb = prepared(x, compute, unbatched, whole_axis=1)
    up = interpolate(xb, scale_factor=scale_factor, mode=mode, align_corners=align_corners)
    return finished(chunked_conv(up, w, b, stride, padding, dilation, groups), result, unbatched)
