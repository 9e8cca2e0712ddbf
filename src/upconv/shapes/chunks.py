"""Chunked computation: which inputs each output chunk reads, and where each output chunk starts.

A chunked operator (:mod:`upconv.ops.chunked`) computes its output chunk by
chunk, each chunk by the ordinary in-memory operator on a window of the
input.  Per axis this module answers, for given input chunk sizes: where the
output chunks start and end, which input range ``[read_start, read_stop)``
each of them reads (its own chunk plus the halo), and the padding of the
local call on that window that makes it produce exactly the output chunk.
One answer per kind of operator, each from the operator's own index map:

=========================  ====================================================
:func:`conv_chunks`        a convolution (or pooling): output ``o`` reads
                           input ``o*s + t*d - p_begin`` through tap ``t``
                           (:func:`upconv.shapes.tap_reach`)
:func:`conv_transpose_chunks`  a transposed convolution (or an unpooling or a
                           shuffle to space): the same map read backwards
:func:`gather_chunks`      a resampling: output ``o`` reads the taps
                           ``index[:, o]`` of its plan (interpolation)
=========================  ====================================================

Only inputs some tap actually reads are counted, at the array's edges
(padding), with dilation, stride and ``output_padding``/cropping: the read
range of a chunk is the smallest range holding every input it reads (a
transposed convolution's may start up to one input earlier, so that its local
padding is not negative).  Output chunks that would read nothing (a chunk
falling entirely on padding or between the taps of a large stride) are merged
into a neighbour, so every chunk reads at least one input.

Output chunk boundaries follow the input's: the output at input coordinate
``b - 1/2`` (between inputs ``b - 1`` and ``b``) is where an output chunk
starts when an input chunk starts at ``b``, so a stride-1 ``"same"``
convolution keeps the chunks, and a factor-``s`` up-sampling multiplies them
by ``s``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from upconv import _validate as v
from upconv.shapes.convolution import ConvGeometry, ceil_div, effective_kernel_size
from upconv.shapes.transposed import tap_reach

__all__ = [
    "Chunk",
    "chunk_bounds",
    "conv_chunks",
    "conv_transpose_chunks",
    "gather_chunks",
    "max_unpool_geometry",
]


class Chunk(NamedTuple):
    """One output chunk along one axis, and the inputs it reads.

    The chunk is the outputs ``[start, stop)``; it reads the inputs
    ``[read_start, read_stop)`` (inside the array).  The in-memory operator
    applied to those inputs with the local ``padding`` ``(begin, end)`` in
    place of the operator's own returns exactly the chunk.  For a transposed
    convolution ``padding`` is in the convention of
    :class:`upconv.shapes.ConvGeometry`: a negative ``end`` is an
    ``output_padding`` of ``-end``.
    """

    start: int
    stop: int
    read_start: int
    read_stop: int
    padding: tuple[int, int] = (0, 0)


def chunk_bounds(chunks: Sequence[int]) -> tuple[int, ...]:
    """Boundaries ``(0, c_0, c_0 + c_1, ..., total)`` of consecutive chunk sizes (Dask's ``chunks`` of one axis).

    Examples
    --------
    >>> chunk_bounds((3, 3, 1))
    (0, 3, 6, 7)
    """
    out = [0]
    for c in chunks:
        c = v.integer(c, "chunk_bounds", "chunks", minimum=0)
        out.append(out[-1] + c)
    return tuple(out)


def _check_chunks(func: str, chunks: Sequence[int], total: int) -> tuple[int, ...]:
    bounds = chunk_bounds(chunks)
    if bounds[-1] != total:
        raise ValueError(f"{func}: chunks must add up to the axis length {total}, got {tuple(chunks)}")
    return bounds


def _cut(reads_lo: np.ndarray, reads_hi: np.ndarray, cuts: Any, n_out: int) -> list[tuple[int, int, int, int]]:
    """Output chunks at ``cuts`` (filtered), each with the hull of what its outputs read, empty ones merged.

    ``reads_lo[o]``/``reads_hi[o]`` are the first and one past the last input
    output ``o`` reads (``lo >= hi``: none).  Returns ``(start, stop,
    read_start, read_stop)``; ``read_start >= read_stop`` only when no output
    reads anything (a single chunk then).
    """
    bounds = [0] + sorted({int(c) for c in cuts if 0 < c < n_out}) + [n_out]
    starts = np.asarray(bounds[:-1])
    lo = np.minimum.reduceat(np.where(reads_lo < reads_hi, reads_lo, np.iinfo(np.int64).max), starts)
    hi = np.maximum.reduceat(np.where(reads_lo < reads_hi, reads_hi, -1), starts)
    merged: list[list[int]] = []
    for a, b, r0, r1 in zip(bounds[:-1], bounds[1:], lo.tolist(), hi.tolist(), strict=True):
        if r0 >= r1:  # reads nothing: joins the chunk before (or, leading, the first that reads something)
            if merged:
                merged[-1][1] = b
            continue
        merged.append([0 if not merged else a, b, r0, r1])
    if not merged:
        return [(0, n_out, 0, 0)]
    return [tuple(m) for m in merged]  # type: ignore[misc]


def _tap_reads(g: ConvGeometry, axis: int, transposed: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per output, the first and one past the last input read, over every tap (:func:`tap_reach`).

    Not transposed: the outputs are ``g``'s outputs; transposed: ``g``'s
    inputs (the transposed convolution's outputs), which read ``g``'s outputs.
    """
    n = g.in_size[axis] if transposed else g.out_size[axis]
    lo = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    hi = np.full(n, -1, dtype=np.int64)
    for t in range(g.kernel_size[axis]):
        outs, ins = tap_reach(g, axis, t)
        if not outs:
            continue
        if transposed:  # output ins[j] of the transposed convolution reads its input outs[j]
            where, read = slice(ins.start, ins.stop, ins.step), np.arange(outs.start, outs.stop)
        else:
            where, read = slice(outs.start, outs.stop), np.arange(ins.start, ins.stop, ins.step)
        np.minimum(lo[where], read, out=lo[where])
        np.maximum(hi[where], read + 1, out=hi[where])
    return lo, hi


def conv_chunks(g: ConvGeometry, axis: int, chunks: Sequence[int]) -> tuple[Chunk, ...]:
    """Output chunks of the convolution (or max pooling) ``g`` along ``axis``, for input chunks ``chunks``.

    Output ``o`` reads the inputs ``o*s + t*d - p_begin`` that lie inside the
    array (the others are padding); a chunk reads the range spanning what its
    outputs read, and its local ``padding`` is what the first window starts
    before that range and the last window ends after it (never negative).
    Input chunk boundary ``b`` starts the output chunk at the first output
    whose window centre ``o*s - p_begin + (ek-1)/2`` is at least ``b - 1/2``.

    Parameters
    ----------
    g : ConvGeometry
        The convolution (:func:`upconv.shapes.conv_geometry`,
        :func:`upconv.shapes.pool_geometry`).
    axis : int
        Spatial axis of ``g``.
    chunks : sequence of ints
        Input chunk sizes along that axis (they add up to ``g.in_size[axis]``).

    Returns
    -------
    tuple of Chunk
        Consecutive output chunks covering ``[0, g.out_size[axis])``.

    Examples
    --------
    A 3-tap "same" convolution keeps the chunks; each reads one more input on
    either side, except at the array's edges, where the padding is:

    >>> from upconv.shapes import conv_geometry, conv_chunks
    >>> for c in conv_chunks(conv_geometry((8,), 3, padding=1), 0, (4, 4)):
    ...     print(c)
    Chunk(start=0, stop=4, read_start=0, read_stop=5, padding=(1, 0))
    Chunk(start=4, stop=8, read_start=3, read_stop=8, padding=(0, 1))
    """
    func = "conv_chunks"
    n_in, n_out = g.in_size[axis], g.out_size[axis]
    bounds = _check_chunks(func, chunks, n_in)
    s, d, k, (pb, pe) = g.stride[axis], g.dilation[axis], g.kernel_size[axis], g.padding[axis]
    ek = effective_kernel_size(k, d)
    lo, hi = _tap_reads(g, axis, transposed=False)
    cuts = [ceil_div(2 * b + 2 * pb - ek, 2 * s) for b in bounds[1:-1]]
    out = []
    for o0, o1, r0, r1 in _cut(lo, hi, cuts, n_out):
        if r0 >= r1:  # no output reads the input: the whole axis in one call
            out.append(Chunk(0, n_out, 0, n_in, (pb, pe)))
            continue
        first, last = o0 * s - pb, (o1 - 1) * s - pb + ek  # the first window's start, the last one's end
        out.append(Chunk(o0, o1, r0, r1, (r0 - first, last - r1)))
    return tuple(out)


def conv_transpose_chunks(g: ConvGeometry, axis: int, chunks: Sequence[int]) -> tuple[Chunk, ...]:
    """Output chunks of the transposed convolution (or unpooling) ``g`` along ``axis``, for its input chunks.

    ``g`` is the geometry :func:`upconv.shapes.conv_transpose_geometry`
    returns: the transposed convolution maps ``g.out_size`` to ``g.in_size``,
    and its output ``i`` receives input ``j`` through tap ``t`` when ``i =
    j*s + t*d - p_begin``.  A chunk reads the range spanning the inputs that
    reach it, started early enough that the local ``padding`` (the crop of the
    window's un-cropped result) is not negative at the beginning; a negative
    end is an ``output_padding`` of ``-end`` (less than ``max(s, d)``).  Input
    chunk boundary ``b`` starts the output chunk at the first output past the
    midpoint of the stamps of inputs ``b - 1`` and ``b``.

    Parameters
    ----------
    g : ConvGeometry
        The transposed convolution's geometry.
    axis : int
        Spatial axis of ``g``.
    chunks : sequence of ints
        Chunk sizes of the transposed convolution's input along that axis
        (they add up to ``g.out_size[axis]``).

    Returns
    -------
    tuple of Chunk
        Consecutive output chunks covering ``[0, g.in_size[axis])``.

    Examples
    --------
    The x2 up-sampling layer (kernel 4, stride 2, padding 1) doubles the
    chunks; each reads one more input on either side where there is one:

    >>> from upconv.shapes import conv_transpose_geometry, conv_transpose_chunks
    >>> for c in conv_transpose_chunks(conv_transpose_geometry((6,), 4, stride=2, padding=1), 0, (3, 3)):
    ...     print(c)
    Chunk(start=0, stop=6, read_start=0, read_stop=4, padding=(1, 3))
    Chunk(start=6, stop=12, read_start=2, read_stop=6, padding=(3, 1))
    """
    func = "conv_transpose_chunks"
    n_in, n_out = g.out_size[axis], g.in_size[axis]
    bounds = _check_chunks(func, chunks, n_in)
    s, d, k, (pb, pe) = g.stride[axis], g.dilation[axis], g.kernel_size[axis], g.padding[axis]
    ek = effective_kernel_size(k, d)
    lo, hi = _tap_reads(g, axis, transposed=True)
    cuts = [b * s - pb + (ek + 1 - s) // 2 for b in bounds[1:-1]]
    out = []
    for i0, i1, r0, r1 in _cut(lo, hi, cuts, n_out):
        if r0 >= r1:
            out.append(Chunk(0, n_out, 0, n_in, (pb, pe)))
            continue
        r0 = min(r0, (i0 + pb) // s)  # the window's stamps must not start after the chunk
        begin = i0 + pb - r0 * s
        out.append(Chunk(i0, i1, r0, r1, (begin, (r1 - r0 - 1) * s + ek - begin - (i1 - i0))))
    return tuple(out)


def gather_chunks(index: Any, n_in: int, chunks: Sequence[int]) -> tuple[Chunk, ...]:
    """Output chunks of a resampling whose output ``o`` reads the inputs ``index[..., o]``, for input chunks ``chunks``.

    ``index`` is a plan's table of source positions (any leading shape, the
    last axis the ``n_out`` outputs; :class:`upconv.ops.resampling.AxisPlan`
    holds it as ``(taps, n_out)``), every entry in ``[0, n_in)``.  A chunk
    reads the range spanning its outputs' taps (zero-weight taps included:
    the engine reads them); padding is always ``(0, 0)``.  Input chunk
    boundary ``b`` starts the output chunk at the first output whose centre
    maps to ``b - 1/2`` or later, ``ceil(b * n_out / n_in - 1/2)``.

    Examples
    --------
    Linear x2 up-sampling (the taps of ``torch``'s ``align_corners=False``):

    >>> import numpy as np
    >>> src = np.clip((np.arange(8) + 0.5) / 2 - 0.5, 0, None)
    >>> taps = np.stack([np.floor(src), np.minimum(np.floor(src) + 1, 3)]).astype(int)
    >>> for c in gather_chunks(taps, 4, (2, 2)):
    ...     print(c)
    Chunk(start=0, stop=4, read_start=0, read_stop=3, padding=(0, 0))
    Chunk(start=4, stop=8, read_start=1, read_stop=4, padding=(0, 0))
    """
    func = "gather_chunks"
    n_in = v.integer(n_in, func, "n_in", minimum=1)
    bounds = _check_chunks(func, chunks, n_in)
    idx = np.asarray(index)
    if idx.ndim == 0 or idx.dtype.kind not in "iu":
        raise TypeError(f"{func}: index must be an integer array with the outputs on its last axis, got {idx!r}")
    idx = idx.reshape(-1, idx.shape[-1]).astype(np.int64, copy=False)
    n_out = idx.shape[1]
    if n_out == 0:
        return ()
    lo, hi = idx.min(axis=0), idx.max(axis=0) + 1
    if lo.min() < 0 or hi.max() > n_in:
        raise ValueError(f"{func}: index must lie in [0, {n_in}), got {lo.min()}..{hi.max() - 1}")
    cuts = [ceil_div(2 * b * n_out - n_in, 2 * n_in) for b in bounds[1:-1]]
    return tuple(Chunk(o0, o1, r0, r1) for o0, o1, r0, r1 in _cut(lo, hi, cuts, n_out))


def max_unpool_geometry(
    in_size: Sequence[int],
    kernel_size: Sequence[int],
    stride: Sequence[int],
    padding: Sequence[tuple[int, int]],
    out_size: Sequence[int],
) -> ConvGeometry:
    """A max unpooling ``in_size -> out_size`` as a transposed convolution (for :func:`conv_transpose_chunks`).

    Input ``j`` of the unpooling writes inside its pooling window ``j*s -
    p_begin + [0, k)``, as the stamp of a transposed convolution with that
    kernel, stride and padding; an ``out_size`` other than the default
    becomes the end padding, as ``output_padding`` does.  The arguments are
    the validated per-axis values (:func:`upconv.shapes.max_unpool_output_size`).

    Examples
    --------
    >>> max_unpool_geometry((2,), (2,), (2,), ((0, 0),), (5,))
    ConvGeometry(in_size=(5,), out_size=(2,), kernel_size=(2,), stride=(2,), dilation=(1,), padding=((0, -1),))
    """
    pads = tuple((b, (i - 1) * s + k - b - o) for i, k, s, (b, _), o
                 in zip(in_size, kernel_size, stride, padding, out_size, strict=True))
    return ConvGeometry(tuple(out_size), tuple(in_size), tuple(kernel_size), tuple(stride), (1,) * len(pads), pads)
