"""N-d convolution and transposed convolution, with torch's semantics.

``conv`` is cross-correlation computed as im2col + one GEMM per group, or,
for few channels, directly by compiled kernels (float32: register blocks of
8-lane vectors, :mod:`upconv.kernels.simd`).
``conv_transpose`` is its adjoint, computed four ways (the four views of the
transposed convolution) that give the same result for every configuration:

``"scatter"``
    Kernel stamping (overlap-add): one GEMM multiplies every input pixel by
    every kernel tap, then each tap's plane is added into the strided output.
``"zero_insertion"``
    Insert ``s-1`` zeros between input pixels, pad by ``ek-1-p`` and
    correlate with the flipped, channel-transposed kernel (Dumoulin & Visin,
    relationship 14).
``"matrix"``
    Build the sparse matrix ``C`` of the convolution this is the transpose
    of and apply ``C.T``.
``"phase"``
    Polyphase / sub-pixel decomposition: every output residue class modulo
    the stride is a small dense stride-1 convolution of the input with a
    subset of the kernel taps; the ``s**n`` results are interleaved.  No
    multiplication by an inserted zero.

Everything works on a :class:`upconv.shapes.ConvGeometry`: ``conv`` maps
``geometry.in_size -> geometry.out_size``, ``conv_transpose`` maps back.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from upconv import _validate as v
from upconv import shapes
from upconv.kernels.parallel import get_num_threads, parallel_for
from upconv.kernels.workspace import aligned_empty, scratch
from upconv.shapes import ConvGeometry

__all__ = ["conv", "conv_transpose", "CONV_TRANSPOSE_METHODS"]

# Target size of one im2col block; larger batches are processed in chunks.
_BLOCK_BYTES = 64 * 2**20
# Largest im2col matrix a layer keeps from its forward pass for the weight gradient.
_KEEP_COLS_BYTES = 256 * 2**20
# Below this many kernel stamps (or im2col elements) NumPy beats the threaded compiled kernels.
_COMPILED_MIN_SIZE = 2**16
# Up to this many input channels per group (conv_transpose) or output channels per group (conv)
# the compiled kernels compute directly, without im2col or a GEMM.
_DIRECT_MAX_CHANNELS = 2
# Output channels per register block of the float32 vector kernels (conv._correlate_simd).
_SIMD_BLOCK = 4
# Single-thread speeds of the vector kernels and of the padded copy, for parallel_for's estimate (measured).
_SIMD_FLOPS_PER_NS = 80
_COPY_ELEMENTS_PER_NS = 3
# Where the vector kernels beat im2col + GEMM (conv._simd_conv), measured: output channels per group,
# the product C_in/g * C_out/g, and the output row length.
_SIMD_MAX_CHANNELS = 128
_SIMD_MAX_PRODUCT = 16384
_SIMD_MIN_WIDTH = 24
# (input channel, tap) entries per chunk of the transposed vector kernel's reduction, whose input the
# channel blocks then read from L2.  Measured on one thread: 2048 was 5-9 % faster than 256 (L1-sized)
# where a class has more entries (a, 512 -> 256, 256 -> 64), the same elsewhere; unlimited was no faster.
_CHUNK = 2048
# The transposed vector kernel's items are whole inputs (n, g), padded by the item itself, when there are
# this many per thread and one padded input fits in half of L2.
_FUSED_ITEMS_PER_THREAD = 4
_FUSED_MAX_BYTES = 512 * 2**10
# Results of at least this many bytes the transposed vector kernel stores past the caches (stride 2 along
# the last axis, rows of whole cache lines): whole calls measured 3-7 % faster on d and f (8 and 16 MiB),
# and an in-place ReLU and a sum reading the result back were not slower (benchmarks/README.md).
_STREAM_MIN_BYTES = 4 * 2**20
# Spare elements before and after the stamp matrix of conv_transpose_scatter: the masked whole-vector
# loads of _numba_kernels.overlap_add_simd reach up to 7 elements past a stamp row's ends.
_STAMP_MARGIN = 8


# --------------------------------------------------------------------------
# argument handling shared by conv and conv_transpose


def _prepare(func, x, weight, bias, groups):
    """Dtype policy, rank and channel checks.  Returns batched arrays and helpers."""
    result_dtype, (x, weight, bias) = v.float_arrays(func, x=x, weight=weight, bias=bias)
    if weight.ndim < 3:
        raise ValueError(
            f"{func}: weight must have at least 3 dimensions (channels, channels, *kernel), "
            f"got shape {weight.shape}"
        )
    n = weight.ndim - 2
    if x.ndim not in (n + 1, n + 2):
        raise ValueError(
            f"{func}: x must have {n + 1} (unbatched) or {n + 2} (batched) dimensions for a weight with "
            f"{n} spatial axes, got x of shape {x.shape} and weight of shape {weight.shape}"
        )
    unbatched = x.ndim == n + 1
    if unbatched:
        x = x[None]
    groups = v.integer(groups, func, "groups", minimum=1)
    if any(s == 0 for s in weight.shape):
        raise ValueError(f"{func}: weight must not have a zero-length axis, got shape {weight.shape}")
    return result_dtype, x, weight, bias, groups, unbatched


def _check_bias(func, bias, channels):
    if bias is not None and bias.shape != (channels,):
        raise ValueError(f"{func}: bias must have shape ({channels},), got {bias.shape}")


def _check_conv_channels(func, c_in, w, bias, groups):
    """Channel, group and bias checks of a convolution with weight ``(C_out, C_in/groups, *k)``."""
    c_out = w.shape[0]
    if c_out % groups:
        raise ValueError(f"{func}: weight.shape[0] (out channels, {c_out}) must be divisible by groups={groups}")
    if c_in != w.shape[1] * groups:
        raise ValueError(
            f"{func}: x has {c_in} channels but weight of shape {w.shape} with groups={groups} "
            f"expects {w.shape[1] * groups} (weight.shape[1] * groups)"
        )
    _check_bias(func, bias, c_out)


def _finish(out, bias, result_dtype, unbatched):
    if bias is not None:
        out += bias.reshape((-1,) + (1,) * (out.ndim - 2))
    if unbatched:
        out = out[0]
    return out.astype(result_dtype, copy=False)


# --------------------------------------------------------------------------
# primitives


def pad(x: np.ndarray, pads: Sequence[tuple[int, int]]) -> np.ndarray:
    """Zero-pad the spatial axes of ``(N, C, *spatial)``; negative entries crop."""
    crop = tuple(slice(max(-b, 0), x.shape[2 + i] - max(-e, 0)) for i, (b, e) in enumerate(pads))
    x = x[(slice(None), slice(None)) + crop]
    if any(b > 0 or e > 0 for b, e in pads):
        x = np.pad(x, [(0, 0), (0, 0)] + [(max(b, 0), max(e, 0)) for b, e in pads])
    return x


def windows(xp: np.ndarray, g: ConvGeometry) -> np.ndarray:
    """Read-only view ``(N, C, *kernel, *out)`` of the windows of padded ``xp``."""
    n = g.ndim
    st = xp.strides
    shape = xp.shape[:2] + g.kernel_size + g.out_size
    strides = (
        st[:2]
        + tuple(st[2 + i] * g.dilation[i] for i in range(n))
        + tuple(st[2 + i] * g.stride[i] for i in range(n))
    )
    return as_strided(xp, shape, strides, writeable=False)


def _im2col(x: np.ndarray, g: ConvGeometry, groups: int, out: np.ndarray | None = None) -> np.ndarray:
    """The im2col matrix ``(groups, C_in/g * K, N * P)`` of ``x``: the windows :func:`_correlate` multiplies.

    Column ``n * P + o`` holds window ``o`` of sample ``n``, row
    ``ci * K + t`` its tap ``t`` of channel ``ci``; written into ``out`` when
    given (a C-contiguous buffer of that shape).  Up to 3 spatial axes a
    compiled kernel fills it (rows in parallel, 2-5x faster than NumPy's
    strided copies of short rows); otherwise one strided slice of the padded
    input per kernel tap.
    """
    N, c_in = x.shape[:2]
    if out is None:
        out = np.empty((groups, c_in // groups * math.prod(g.kernel_size), N * math.prod(g.out_size)), x.dtype)
    if out.size == 0:
        return out
    if g.ndim <= 3 and out.size >= _COMPILED_MIN_SIZE:
        from upconv.kernels import convolution as nk

        lead = (1,) * (3 - g.ndim)
        x5 = np.ascontiguousarray(x).reshape((N, c_in) + lead + g.in_size)
        out6 = out.reshape((c_in, math.prod(g.kernel_size), N) + lead + g.out_size)
        parallel_for(nk.im2col, out6.shape[0] * out6.shape[1] * N, x5, out6, *_as_3d(g))
        return out
    dst = out.reshape((c_in,) + g.kernel_size + (N,) + g.out_size)
    src = np.swapaxes(pad(x, g.padding), 0, 1)  # (c_in, N, *padded)
    for tap in np.ndindex(*g.kernel_size):
        window = tuple(slice(t * d, t * d + (o - 1) * s + 1, s)
                       for t, d, o, s in zip(tap, g.dilation, g.out_size, g.stride))
        dst[(slice(None),) + tap] = src[(slice(None), slice(None)) + window]
    return out


def _correlate(
    x: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int, func: str, *, channel_major: bool = False,
    cols: np.ndarray | None = None,
) -> np.ndarray:
    """Grouped cross-correlation: ``(N, C_in, *g.in_size) -> (N, C_out, *g.out_size)``.

    im2col (a copy of the windows) + one GEMM per group; the batch is split
    into chunks so that an im2col block stays near ``_BLOCK_BYTES``.  With
    ``channel_major=True`` the result is laid out ``(C_out, N, *g.out_size)``,
    the GEMM's own layout, which saves a transposing copy for callers that
    rearrange the result anyway.  ``cols``, a buffer of the shape of the
    whole batch's im2col matrix, receives it in one chunk (a layer keeps it
    for its weight gradient).
    """
    N, c_in = x.shape[:2]
    c_out = w.shape[0]
    K, P = math.prod(g.kernel_size), math.prod(g.out_size)
    ci_g, co_g = c_in // groups, c_out // groups
    v.check_allocation((N, c_out) + g.out_size, x.dtype, func, "the output")
    v.check_allocation((1, c_in, K, P), x.dtype, func, "the im2col matrix of one sample")
    if not channel_major and cols is None and _direct_conv(g, co_g, N * c_out * ci_g * K * P):
        return _correlate_direct(x, w, g, groups)
    if not channel_major and cols is None and _simd_conv(x, g, ci_g, co_g):
        return _correlate_simd(x, w, g, groups)
    wm = w.reshape(groups, co_g, ci_g * K)
    if channel_major:  # an intermediate for conv_transpose's phase method, never returned
        out = scratch("channel_major", (c_out, N) + g.out_size, x.dtype)
    else:
        out = np.empty((N, c_out) + g.out_size, dtype=x.dtype)
    if N == 0:
        return out
    keep = cols
    chunk = N if keep is not None else max(1, min(N, _BLOCK_BYTES // max(1, c_in * K * P * x.itemsize)))
    for start in range(0, N, chunk):
        m = min(chunk, N - start)
        buffer = keep if keep is not None else scratch("im2col", (groups, ci_g * K, m * P), x.dtype)
        cols = _im2col(x[start : start + m], g, groups, out=buffer)
        if channel_major and m == N:  # one chunk: the GEMM writes the result in place
            np.matmul(wm, cols, out=out.reshape(groups, co_g, N * P))
            continue
        res = np.matmul(wm, cols).reshape((c_out, m) + g.out_size)  # (groups * co_g, m, *out)
        if channel_major:
            out[:, start : start + m] = res
        else:
            out[start : start + m] = np.moveaxis(res, 1, 0)
    return out


def _direct_conv(g: ConvGeometry, co_g: int, work: int) -> bool:
    """Whether the compiled direct convolution beats im2col + GEMM: one or two output channels per group.

    The GEMM then reads the im2col matrix (``C_in/g * prod(k)`` times the
    input) for one or two multiply-adds per element, so building and reading
    it costs more than the direct loops (measured 1.8-3x)."""
    return g.ndim <= 3 and co_g <= _DIRECT_MAX_CHANNELS and work >= _COMPILED_MIN_SIZE


def _as_3d(g: ConvGeometry) -> tuple[tuple[int, ...], ...]:
    """Kernel size, stride, dilation and begin padding as 3-tuples, for the compiled kernels."""
    from upconv.kernels import convolution as nk

    return (nk.as3(g.kernel_size, 1), nk.as3(g.stride, 1), nk.as3(g.dilation, 1),
            nk.as3([b for b, _ in g.padding], 0))


def _correlate_direct(x: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int) -> np.ndarray:
    """:func:`_correlate` by the compiled direct kernel (up to 3 spatial axes)."""
    from upconv.kernels import convolution as nk

    N, c_in = x.shape[:2]
    c_out = w.shape[0]
    lead = (1,) * (3 - g.ndim)
    out = np.empty((N, c_out) + g.out_size, dtype=x.dtype)
    x5 = np.ascontiguousarray(x).reshape((N, c_in) + lead + g.in_size)
    w3 = np.ascontiguousarray(w).reshape(c_out, w.shape[1], -1)
    parallel_for(nk.correlate_direct, N * c_out, x5, w3, out.reshape((N, c_out) + lead + g.out_size), groups,
                 *_as_3d(g))
    return out


def _simd_conv(x: np.ndarray, g: ConvGeometry, ci_g: int, co_g: int) -> bool:
    """Whether the compiled float32 vector kernels beat im2col + GEMM for this convolution and its weight gradient.

    They keep blocks of 4 output channels x 24 outputs in vector registers
    (:func:`upconv.kernels.convolution.correlate_simd`,
    :func:`~upconv.kernels.convolution.weight_grad_simd`) and need float32 and up
    to 3 spatial axes (a stride on the last axis is read from the input
    split by phase, :func:`_simd_input`).  OpenBLAS multiplies a matrix
    with few rows at a fraction of its full rate, so they win while the
    channels are few: measured with ``benchmarks/bench_conv.py``, 1.5-4x up
    to 64 -> 64 channels, 1.0-1.2x at 128 -> 128, for output rows of at
    least 24 (narrower rows fill the vectors less well).
    """
    return (x.dtype == np.float32 and g.ndim <= 3 and g.out_size[-1] >= _SIMD_MIN_WIDTH
            and _DIRECT_MAX_CHANNELS < co_g <= _SIMD_MAX_CHANNELS and ci_g * co_g <= _SIMD_MAX_PRODUCT
            and x.shape[0] * co_g * math.prod(g.out_size) >= _COMPILED_MIN_SIZE)


def _simd_input(x: np.ndarray, g: ConvGeometry, taps: int) -> tuple[np.ndarray, np.ndarray]:
    """Zero-padded float32 copy of ``x`` for the vector kernels (a scratch buffer), and its tap offsets.

    ``xp (N, C, P0, P1, s2 * Q2)``, up to 3 axes (leading ones of size 1),
    holds ``x_pad[n, c, i0, i1, q * s2 + r]`` at ``[n, c, i0, i1, r * Q2 + q]``,
    where ``x_pad[n, c, i + p_begin] = x[n, c, i]``: the last axis split into
    its ``s2`` phases, so that output ``o`` reads tap ``t`` of the last axis
    at ``offsets[t] + o``, contiguous in ``o`` for every stride.  It is large
    enough for every window of the convolution and, on the last axis, for
    ``taps`` taps read in whole vectors of 8 from outputs
    ``0 .. ceil(L/8)*8 - 1``.
    """
    from upconv.kernels import convolution as nk

    _, s, d, pb = _as_3d(g)
    size, out = nk.as3(g.in_size, 1), nk.as3(g.out_size, 1)
    padded = nk.as3([i + b + e for i, (b, e) in zip(g.in_size, g.padding)], 1)  # holds every window
    lanes = -(-out[2] // 8) * 8
    e = np.arange(taps) * d[2]
    offsets = e // s[2]
    Q2 = lanes + int(offsets[-1])
    offsets += (e % s[2]) * Q2
    P = padded[:2] + (s[2] * Q2,)
    v.check_allocation(x.shape[:2] + P, np.float32, "conv", "the padded input")
    xp = scratch("simd_input", x.shape[:2] + P, np.float32)
    parallel_for(nk.pad_copy, x.shape[0] * x.shape[1] * P[0],
                 np.ascontiguousarray(x, dtype=np.float32).reshape(x.shape[:2] + size), xp, pb, s[2],
                 cost_ns=xp.size / _COPY_ELEMENTS_PER_NS)
    return xp, offsets.astype(np.int64)


def _correlate_simd(x: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int) -> np.ndarray:
    """:func:`_correlate` by the compiled float32 vector kernel (see :func:`_simd_conv`)."""
    from upconv.kernels import convolution as nk

    N, c_in = x.shape[:2]
    c_out = w.shape[0]
    ci_g, co_g = c_in // groups, c_out // groups
    nb = -(-co_g // _SIMD_BLOCK)
    k, s, d, _ = _as_3d(g)
    L = nk.as3(g.out_size, 1)
    lanes = -(-L[2] // 8) * 8
    xp, taps = _simd_input(x, g, k[2])
    # where each (input channel, tap) pair reads, relative to the output's position in the group's first channel
    P0, P1, P2 = xp.shape[2:]
    offsets = (((np.arange(ci_g)[:, None, None, None] * P0 + np.arange(k[0])[:, None, None] * d[0]) * P1
                + np.arange(k[1])[:, None] * d[1]) * P2 + taps).ravel()
    # (groups, co_g, ci_g, *k) -> blocks (groups * nb, ci_g * K, 4), the block's 4 weights of a pair side by side
    wt = np.zeros((groups, nb * _SIMD_BLOCK, ci_g) + k, np.float32)
    wt[:, :co_g] = w.reshape((groups, co_g, ci_g) + k)
    wt = np.ascontiguousarray(wt.reshape(groups * nb, _SIMD_BLOCK, -1).transpose(0, 2, 1))
    exact = co_g % _SIMD_BLOCK == 0 and lanes == L[2]
    out = np.empty((N, c_out) + g.out_size, np.float32)
    res = out if exact else scratch("simd_out", (N, groups * nb * _SIMD_BLOCK) + L[:2] + (lanes,), np.float32)
    parallel_for(nk.correlate_simd, N * groups * L[0] * L[1], xp, wt,
                 res.reshape((N, groups * nb * _SIMD_BLOCK) + L[:2] + (lanes,)), groups, s, offsets, nk.WIDE,
                 cost_ns=2 * res.size * offsets.size / _SIMD_FLOPS_PER_NS)
    if not exact:
        blocks = res.reshape((N, groups, nb * _SIMD_BLOCK) + L[:2] + (lanes,))[:, :, :co_g, :, :, : L[2]]
        out.reshape((N, groups, co_g) + L)[...] = blocks
    return out


def _simd_transpose(y: np.ndarray, g: ConvGeometry, ci_g: int, co_g: int) -> bool:
    """Whether the compiled float32 vector kernel computes this transposed convolution fastest.

    :func:`_conv_transpose_simd` (the polyphase view, computed directly)
    needs float32 and up to 3 spatial axes.  Measured against the GEMM paths
    (``benchmarks/bench_conv_transpose.py``, the sweeps and paired rounds of
    ``benchmarks/README.md``; ``C_in * C_out`` are channel pairs per group,
    pixels are ``N * prod(in_size)``), it wins for:

    - images up to 4096 channel pairs at any size (64 -> 64: 0.73-2.4x,
      median 1.10x);
    - images up to 128 x 128 and 128 -> 256 from 4096 pixels (0.97-1.71x;
      with fewer pixels 0.57-1.48x; 256 -> 128 there a tie, 0.92-1.30x);
    - 2-d images up to 256 x 128 where every stride is at least 2 and
      divides its kernel size (even overlap: every residue class has the same
      taps), in batches of at least 16 images and 1024 pixels (workload a and
      128 -> 256 on 16 images of 8 x 8: 1.07-1.26x, timed as the benchmark
      times them and in isolation; with k3, 8 images or 256 -> 256
      0.67-1.04x, with stride 1 0.54-1.54x, in 3-d 0.46-1.18x);
    - 1-d signals up to 64 channel pairs, and where a residue class has at
      least 24 outputs (a 1-d row has no rows below it to fill a vector block
      with) up to 128 x 128, and up to 256 x 256 from 8192 positions
      (1.00-1.51x; with 2048 positions 0.73-1.06x).

    It loses where ``k == s`` (scatter's overlap-add is then a plain
    interleave), with one or two input channels per group (direct stamping)
    and with fewer than 4 output channels per group (its blocks of 4
    channels run partly empty).
    """
    if (y.dtype != np.float32 or g.ndim > 3 or g.kernel_size == g.stride or ci_g <= _DIRECT_MAX_CHANNELS
            or not (co_g == _SIMD_BLOCK or co_g >= 2 * _SIMD_BLOCK)
            or y.shape[0] * co_g * math.prod(g.in_size) < _COMPILED_MIN_SIZE):
        return False
    channels, positions = ci_g * co_g, math.prod(y.shape[:1] + y.shape[2:])
    if g.ndim > 1:
        even = all(s > 1 and k % s == 0 for k, s in zip(g.kernel_size, g.stride))  # up-sampling, even overlap
        images = y.shape[0] * (y.shape[1] // ci_g)
        return (channels <= 4096 or (positions >= 4096 and (channels <= 16384 or (ci_g <= 128 and co_g <= 256)))
                or (g.ndim == 2 and even and images >= 16 and positions >= 1024 and channels <= 32768))
    return channels <= 64 or (-(-g.in_size[-1] // g.stride[-1]) >= _SIMD_MIN_WIDTH
                              and (channels <= 16384 or (positions >= 8192 and ci_g <= 256 and co_g <= 256)))


def _class_shifts(g: ConvGeometry) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    """Per axis (3, leading ones trivial) and output residue ``r``: the taps reaching class ``r``, their input shifts.

    From :func:`upconv.shapes.phase_decomposition`: output ``o = q*s + r``
    receives tap ``taps[i]`` of input ``q + shifts[i]``; classes that hold no
    output or that no tap reaches are empty.
    """
    axes = [[(np.zeros(1, np.int64), np.zeros(1, np.int64))]] * (3 - g.ndim)
    for a in range(g.ndim):
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        classes = [empty] * g.stride[a]
        for c in shapes.phase_decomposition(g, a):
            if c.count and c.taps:
                classes[c.first] = (np.array(c.taps), np.arange(len(c.taps)) * c.dilation - c.padding[0])
        axes.append(classes)
    return axes


class _TransposeTables(NamedTuple):
    """What :func:`_conv_transpose_simd` computes from the geometry alone (3-d: leading axes of size 1)."""

    m: tuple[int, int, int]  # the input's size
    L: tuple[int, int, int]  # the output's size
    s: tuple[int, int, int]  # the stride
    margin: tuple[int, int, int]  # zeros before the input, per axis
    padded: tuple[int, int, int]  # the padded input's size
    starts: np.ndarray  # (classes + 1,) where each class's entries start
    offsets: np.ndarray  # (entries,) where an entry reads, relative to the item's base
    source: np.ndarray  # (entries, 2) the input channel and tap of each entry
    rows: np.ndarray  # (H, 2) an item's first row along axis 1 and its number of rows (<= 3)


@functools.lru_cache(maxsize=256)
def _transpose_tables(g: ConvGeometry, ci_g: int) -> _TransposeTables:
    """The tables of :func:`_conv_transpose_simd` for geometry ``g``, cached (read-only arrays).

    Computing them costs 0.1-0.4 ms of Python per call, as much as the
    kernel on a small layer.
    """
    from upconv.kernels import convolution as nk

    k, s, _, _ = _as_3d(g)
    m, L = nk.as3(g.out_size, 1), nk.as3(g.in_size, 1)
    classes = _class_shifts(g)
    # margins of the padded input: every read of a class, for every (vector-rounded) output, lands inside it
    shifts = [np.concatenate([c for _, c in axis] + [np.zeros(1, np.int64)]) for axis in classes]
    margin = [max(0, -int(c.min())) for c in shifts]
    reach = [-(-L[a] // s[a]) for a in range(2)] + [-(-(-(-L[2] // s[2])) // 8) * 8]
    P = [margin[a] + max(m[a], reach[a] + int(shifts[a].max())) for a in range(3)]
    P = (P[0], P[1], -(-P[2] // 8) * 8)  # rows start on a vector boundary: fewer loads split across cache lines
    # every class's (input channel, tap) entries, and where they read relative to the output's class position
    cl = np.arange(ci_g)[:, None, None, None]
    starts, offsets, entries = [0], [], []
    for (t0, c0), (t1, c1), (t2, c2) in itertools.product(*classes):
        off = ((cl * P[0] + (c0 + margin[0])[:, None, None]) * P[1] + (c1 + margin[1])[:, None]) * P[2] + c2 + margin[2]
        offsets.append(off.ravel())
        taps = (t0[:, None, None] * k[1] + t1[:, None]) * k[2] + t2
        entries.append(np.stack(np.broadcast_arrays(cl, taps), -1).reshape(-1, 2))
        starts.append(starts[-1] + off.size)
    # the items' rows along axis 1: up to 3 consecutive rows of a residue class, computed together
    rows = np.array([(o, len(range(o, L[1], s[1])[:3])) for r in range(min(s[1], L[1]))
                     for o in range(r, L[1], 3 * s[1])], np.int64)
    arrays = [np.array(starts, np.int64), np.concatenate(offsets).astype(np.int64), np.concatenate(entries), rows]
    for a in arrays:
        a.flags.writeable = False
    return _TransposeTables(m, L, s, tuple(margin), P, *arrays)


def _conv_transpose_simd(y: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int) -> np.ndarray:
    """:func:`conv_transpose_phase` computed directly by the compiled float32 vector kernel.

    Every residue class of the output is a stride-1 correlation of ``y``
    with the class's taps (the polyphase view); the kernel computes all
    classes of the last axis for a block of outputs of up to 3 rows and
    interleaves them straight into the output, so that nothing is multiplied
    by an inserted zero and no stamp matrix or per-phase result goes through
    memory (:func:`upconv.kernels.convolution.conv_transpose_simd`); results of
    ``_STREAM_MIN_BYTES`` and more with stride 2 along rows of whole cache
    lines are stored past the caches into a 64-byte aligned array.  The input is
    copied once with zero margins (rows padded to whole vectors; where a work
    item is a whole input ``(n, g)``, always in 1-d, it copies its own part
    right before it reads it), the weights
    are packed per class in blocks of 4 output channels
    (:func:`~upconv.kernels.convolution.pack_weights`), and the tables that depend
    only on the geometry are cached (:func:`_transpose_tables`).
    """
    from upconv.kernels import convolution as nk

    N, c_in = y.shape[:2]
    ci_g, co_g = c_in // groups, w.shape[1]
    nb = -(-co_g // _SIMD_BLOCK)
    t = _transpose_tables(g, ci_g)
    v.check_allocation((N, c_in) + t.padded, np.float32, "conv_transpose", "the padded input")
    yp = scratch("simd_input", (N, c_in) + t.padded, np.float32)
    y5 = np.ascontiguousarray(y, dtype=np.float32).reshape(yp.shape[:2] + t.m)
    # an item is a whole input (n, g) that pads its own part while it is in cache, where that leaves
    # enough items to balance the threads (1-d: an item is one anyway)
    units = t.L[0] * len(t.rows)
    fused = units == 1 or (N * groups >= _FUSED_ITEMS_PER_THREAD * get_num_threads()
                           and ci_g * math.prod(t.padded) * 4 <= _FUSED_MAX_BYTES)
    if not fused:
        parallel_for(nk.pad_copy, N * c_in * t.padded[0], y5, yp, t.margin, 1,
                     cost_ns=yp.size / _COPY_ELEMENTS_PER_NS)
    wt = scratch("simd_weights", (groups * nb, t.starts[-1], _SIMD_BLOCK), np.float32)
    parallel_for(nk.pack_weights, groups * nb, np.ascontiguousarray(w, dtype=np.float32).reshape(c_in, co_g, -1),
                 t.source, wt, cost_ns=wt.size)
    out = aligned_empty((N, co_g * groups) + g.in_size, np.float32)
    stream = out.nbytes >= _STREAM_MIN_BYTES and t.s[2] == 2 and t.L[2] % 16 == 0
    parallel_for(nk.conv_transpose_simd, N * groups * (1 if fused else units), y5, fused, yp, t.margin, wt,
                 out.reshape((N, co_g * groups) + t.L), groups, t.s, t.starts, t.offsets, t.rows, _CHUNK, nk.WIDE,
                 stream,
                 cost_ns=2 * out.size * ci_g * math.prod(g.kernel_size) / math.prod(g.stride) / _SIMD_FLOPS_PER_NS)
    return out


def _weight_grad_simd(x: np.ndarray, gy: np.ndarray, g: ConvGeometry, groups: int) -> np.ndarray:
    """The weight gradient ``(C_out, C_in/g, *k)`` of a convolution by the compiled float32 vector kernel.

    ``dw[co, ci, t] = sum_{n, o} gy[n, co, o] * x_pad[n, g ci, o*s + t*d]``, for
    the convolutions :func:`_simd_conv` accepts
    (:func:`upconv.kernels.convolution.weight_grad_simd`).
    """
    from upconv.kernels import convolution as nk

    N, c_in = x.shape[:2]
    c_out = gy.shape[1]
    ci_g, co_g = c_in // groups, c_out // groups
    nb = -(-co_g // _SIMD_BLOCK)
    k, s, d, _ = _as_3d(g)
    L = nk.as3(g.out_size, 1)
    lanes, k2w = -(-L[2] // 8) * 8, -(-k[2] // 3) * 3
    xp, taps = _simd_input(x, g, k2w)
    if co_g % _SIMD_BLOCK == 0 and lanes == L[2]:
        gp = np.ascontiguousarray(gy, dtype=np.float32).reshape((N, c_out) + L)
    else:  # zero-padded to whole channel blocks and vectors
        gp = np.zeros((N, groups, nb * _SIMD_BLOCK) + L[:2] + (lanes,), np.float32)
        gp[:, :, :co_g, :, :, : L[2]] = gy.reshape((N, groups, co_g) + L)
        gp = gp.reshape((N, groups * nb * _SIMD_BLOCK) + L[:2] + (lanes,))
    gw = np.empty((groups * nb, _SIMD_BLOCK, ci_g) + k[:2] + (k2w,), np.float32)
    parallel_for(nk.weight_grad_simd, groups * nb * ci_g, xp, gp, gw, groups, s, d,
                 taps, L[2], cost_ns=2 * gp.size * ci_g * k[0] * k[1] * k2w / _SIMD_FLOPS_PER_NS)
    gw = gw.reshape((groups, nb * _SIMD_BLOCK, ci_g) + k[:2] + (k2w,))[:, :co_g, ..., : k[2]]
    return np.ascontiguousarray(gw).reshape((c_out, ci_g) + g.kernel_size)


def as_conv_weight(w: np.ndarray, groups: int) -> np.ndarray:
    """Transposed-conv weight ``(C_in, C_out/g, *k)`` regrouped as a conv weight ``(C_out, C_in/g, *k)``.

    Channels are swapped within each group; the result is the weight of the
    (stride-1) correlations that map the transposed conv's input to its
    output in the zero-insertion and phase views (spatially flipped or
    sub-sampled there)."""
    c_in, co_g = w.shape[:2]
    k = w.shape[2:]
    return w.reshape((groups, c_in // groups, co_g) + k).swapaxes(1, 2).reshape((groups * co_g, c_in // groups) + k)


# --------------------------------------------------------------------------
# conv


def conv(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: int | Sequence[int] = 1,
    padding: Any = 0,
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
) -> np.ndarray:
    r"""N-d convolution (cross-correlation), identical to ``torch.nn.functional.conv{1,2,3}d``.

    Parameters
    ----------
    x : (N, C_in, *in_size) or (C_in, *in_size) array_like
        Input; the number of spatial axes ``n`` is ``weight.ndim - 2``.
    weight : (C_out, C_in / groups, *kernel_size) array_like
        Filters.
    bias : (C_out,) array_like, optional
        Added to every output position.
    stride, dilation : int or sequence of n ints, optional
        Step between windows and between kernel taps (>= 1).
    padding : int, sequence of n ints, sequence of n (begin, end) pairs, "valid" or "same"
        Zeros added around each spatial axis.  Pairs express ONNX ``pads``;
        ``"same"`` (stride 1 only) puts the odd element at the end, as torch.
    groups : int, optional
        Split channels into ``groups`` independent convolutions.

    Returns
    -------
    y : (N, C_out, *out_size) or (C_out, *out_size) ndarray
        Same dtype as the inputs (float16 is computed in float32).

    Raises
    ------
    ValueError, TypeError
        For every configuration torch rejects, naming the argument.
    MemoryError
        If the result or the im2col buffer of one sample exceeds
        :func:`upconv.get_memory_limit`.

    See Also
    --------
    conv_transpose : the adjoint (input gradient) of this function.
    upconv.shapes.conv_output_size : the output size without computing.

    Notes
    -----
    .. math::

        y[n, c_o, \mathbf{o}] = b[c_o] + \sum_{c_i, \mathbf{t}}
            w[c_o, c_i, \mathbf{t}]\, x_{pad}[n, g c_i, \mathbf{o}\odot s + \mathbf{t}\odot d]

        o = \lfloor (i + p_{begin} + p_{end} - d(k-1) - 1) / s \rfloor + 1

    Examples
    --------
    >>> import numpy as np, upconv
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> upconv.conv(x, np.ones((1, 1, 3, 3)))
    array([[[[45., 54.],
             [81., 90.]]]])
    """
    func = "conv"
    result_dtype, x, w, b, groups, unbatched = _prepare(func, x, weight, bias, groups)
    _check_conv_channels(func, x.shape[1], w, b, groups)
    g = shapes.conv_geometry(x.shape[2:], w.shape[2:], stride, padding, dilation, func=func)
    return _finish(_correlate(x, w, g, groups, func), b, result_dtype, unbatched)


def _conv_keeping_cols(
    x: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any, groups: int,
    buffer: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`conv`, and the whole batch's im2col matrix it multiplied, for the weight gradient.

    The matrix is written into ``buffer`` when that has the right shape and
    dtype (a layer passes last step's, which saves allocating and faulting
    in a fresh one).  It is None when the direct kernel computes the
    convolution (one or two output channels per group: no im2col) or when it
    would be larger than ``_KEEP_COLS_BYTES`` or the memory limit (the
    forward pass then works in chunks as ``conv``); the weight gradient then
    does without it.
    """
    func = "conv"
    result_dtype, x, w, b, groups, unbatched = _prepare(func, x, weight, bias, groups)
    _check_conv_channels(func, x.shape[1], w, b, groups)
    g = shapes.conv_geometry(x.shape[2:], w.shape[2:], stride, padding, dilation, func=func)
    shape = (groups, x.shape[1] // groups * math.prod(g.kernel_size), x.shape[0] * math.prod(g.out_size))
    cols = None
    co_g = w.shape[0] // groups
    direct = _direct_conv(g, co_g, math.prod(shape) * co_g) or _simd_conv(x, g, x.shape[1] // groups, co_g)
    if not direct and math.prod(shape) * x.itemsize <= min(_KEEP_COLS_BYTES, v.get_memory_limit()) and 0 not in shape:
        ok = buffer is not None and buffer.shape == shape and buffer.dtype == x.dtype
        cols = buffer if ok else np.empty(shape, x.dtype)
    out = _correlate(x, w, g, groups, func, cols=cols)
    return _finish(out, b, result_dtype, unbatched), cols


# --------------------------------------------------------------------------
# conv_transpose: the four views


def conv_transpose_scatter(y: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int) -> np.ndarray:
    """Kernel stamping: one GEMM for all (input pixel, kernel tap) products, then overlap-add.

    ``cols[c_out, t, n, j] = sum_ci w[ci, c_out, t] * y[n, ci, j]`` is tap
    ``t`` of the stamp of input pixel ``j``; it lands at output position
    ``j*s + t*d - p_begin``.  Up to 3 spatial axes the overlap-add is a
    compiled kernel (parallel over output planes; in float32 with stride 2
    along the last axis, :func:`~upconv.kernels.convolution.overlap_add_simd`,
    where the stamps overlap there); beyond 3 axes, and for
    small problems where starting threads costs more than it saves, it is
    :func:`_overlap_add` in NumPy.
    """
    N, c_in = y.shape[:2]
    ci_g, c_out = c_in // groups, w.shape[1] * groups
    K = math.prod(g.kernel_size)
    compiled = g.ndim <= 3 and N * c_out * K * math.prod(g.out_size) >= _COMPILED_MIN_SIZE
    if not compiled:
        return _overlap_add(_scatter_gemm(y, w, groups), N, g)
    from upconv.kernels import convolution as nk

    out = np.empty((N, c_out) + g.in_size, dtype=y.dtype)
    lead = (1,) * (3 - g.ndim)
    out3 = out.reshape((N, c_out) + lead + g.in_size)
    k, s, d, pb = _as_3d(g)
    if ci_g <= _DIRECT_MAX_CHANNELS:
        # Few input channels per group: a GEMM would be a batch of thin outer
        # products, so multiply while stamping instead.
        y3 = np.ascontiguousarray(y).reshape((N, c_in) + lead + g.out_size)
        w3 = np.ascontiguousarray(w).reshape(c_in, -1, K)
        parallel_for(nk.stamp_direct, N * c_out, y3, w3, out3, groups, k, s, d, pb)
    else:
        # float32 with stride 2 along the last axis (and stamps that overlap there): in vector registers
        vector = y.dtype == np.float32 and g.stride[-1] == 2 < g.kernel_size[-1]
        parallel_for(nk.overlap_add_simd if vector else nk.overlap_add, N * c_out, _scatter_gemm(y, w, groups),
                     out3, k, s, d, pb, nk.as3(g.out_size, 1))
    return out


def _scatter_gemm(y: np.ndarray, w: np.ndarray, groups: int) -> np.ndarray:
    """``(C_out, K, N, P)`` products of every input pixel with every kernel tap.

    They live in a scratch buffer with ``_STAMP_MARGIN`` spare elements on
    either side, which :func:`~upconv.kernels.convolution.overlap_add_simd` reads.
    """
    N, c_in = y.shape[:2]
    ci_g, co_g = c_in // groups, w.shape[1]
    K, P = math.prod(w.shape[2:]), math.prod(y.shape[2:])
    v.check_allocation((groups * co_g, K, N, P), y.dtype, "conv_transpose", "the kernel-stamp matrix")
    ym = y.reshape(N, groups, ci_g, P).transpose(1, 2, 0, 3).reshape(groups, ci_g, N * P)
    wm = w.reshape(groups, ci_g, co_g * K).transpose(0, 2, 1)
    size = groups * co_g * K * N * P
    flat = scratch("stamps", (size + 2 * _STAMP_MARGIN,), y.dtype)
    cols = flat[_STAMP_MARGIN:_STAMP_MARGIN + size].reshape(groups, co_g * K, N * P)
    np.matmul(wm, ym, out=cols)
    return cols.reshape(groups * co_g, K, N, P)


def _overlap_add(cols: np.ndarray, N: int, g: ConvGeometry) -> np.ndarray:
    """Add each tap plane of ``cols (C, K, N, *out)`` into the strided output (NumPy, any n)."""
    c_out = cols.shape[0]
    n = g.ndim
    cols = cols.reshape((c_out, math.prod(g.kernel_size), N) + g.out_size)
    out = np.zeros((N, c_out) + g.in_size, dtype=cols.dtype)
    for t, tap in enumerate(np.ndindex(*g.kernel_size)):
        dst, src = [], []
        for a in range(n):
            lo, hi = _tap_range(tap[a], g, a)
            start = lo * g.stride[a] + tap[a] * g.dilation[a] - g.padding[a][0]
            dst.append(slice(start, start + (hi - lo - 1) * g.stride[a] + 1, g.stride[a]) if hi > lo else slice(0, 0))
            src.append(slice(lo, hi))
        out[(slice(None), slice(None)) + tuple(dst)] += np.moveaxis(cols[(slice(None), t, slice(None)) + tuple(src)], 0, 1)
    return out


def _tap_range(t: int, g: ConvGeometry, a: int) -> tuple[int, int]:
    """Input indices ``[lo, hi)`` whose tap ``t`` lands inside the output on axis ``a``.

    Input ``j`` lands at ``j*s + off`` with ``off = t*d - p_begin``; it must lie in ``[0, L)``.
    """
    s, off, L = g.stride[a], t * g.dilation[a] - g.padding[a][0], g.in_size[a]
    lo = max(0, -(off // s))
    hi = min(g.out_size[a], (L - 1 - off) // s + 1)
    return lo, max(lo, hi)


def conv_transpose_zero_insertion(y: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int) -> np.ndarray:
    """Insert ``s-1`` zeros between pixels, pad ``ek-1-p``, correlate with the flipped kernel."""
    N, c = y.shape[:2]
    gz = shapes.zero_insertion_geometry(g)
    v.check_allocation((N, c) + gz.in_size, y.dtype, "conv_transpose", "the zero-inserted input")
    if all(s == 1 for s in g.stride):  # nothing to insert: the correlation pads
        z = y
    else:
        z = np.zeros((N, c) + gz.in_size, dtype=y.dtype)
        z[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in g.stride)] = y
    flipped = np.flip(as_conv_weight(w, groups), axis=tuple(range(2, 2 + g.ndim)))
    return _correlate(z, flipped, gz, groups, "conv_transpose")


def conv_transpose_matrix(y: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int) -> np.ndarray:
    """Apply ``C.T``, the transpose of the sparse matrix of the convolution ``g``."""
    from upconv.ops.matrix import _conv_matrix

    N = y.shape[0]
    C = _conv_matrix(g, w, groups, "conv_transpose").tocsc()  # (c_in * P_out, c_out * P_in); transposing CSC gives CSR
    out = (C.T @ y.reshape(N, C.shape[0]).T).T
    return np.ascontiguousarray(out, dtype=y.dtype).reshape((N, C.shape[1] // math.prod(g.in_size)) + g.in_size)


def conv_transpose_phase(y: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int) -> np.ndarray:
    """Polyphase: each output residue class mod the stride is a dense stride-1 convolution.

    Output positions ``o`` with ``(o + p_begin) % s == r`` receive only the
    kernel taps ``t`` with ``t*d % s == r``; for them the transposed
    convolution is an ordinary correlation of the input with those taps
    (reversed, dilation ``d / gcd(d, s)``).  Float32 with up to
    ``C_in * C_out = 4096`` channel pairs per group is computed class by
    class, a few output rows at a time, by a compiled vector kernel
    (:func:`_conv_transpose_simd`); otherwise ``k % s == 0`` makes one
    sub-pixel GEMM (:func:`_phase_subpixel`) and other shapes one
    correlation per class.
    """
    if _simd_transpose(y, g, y.shape[1] // groups, w.shape[1]):
        return _conv_transpose_simd(y, w, g, groups)
    if all(d == 1 and k % s == 0 for k, s, d in zip(g.kernel_size, g.stride, g.dilation)):
        return _phase_subpixel(y, w, g, groups)
    n = g.ndim
    N = y.shape[0]
    wc = as_conv_weight(w, groups)
    out = np.zeros((N, wc.shape[0]) + g.in_size, dtype=y.dtype)
    # Residue classes that are empty or reached by no tap stay zero; skip them
    # (with a huge stride most are).
    axes = [[c for c in shapes.phase_decomposition(g, a) if c.count and c.taps] for a in range(n)]
    for parts in itertools.product(*axes):
        sub = wc[(slice(None), slice(None)) + np.ix_(*[c.taps for c in parts])]
        g_sub = ConvGeometry(
            g.out_size,
            tuple(c.count for c in parts),
            tuple(len(c.taps) for c in parts),
            (1,) * n,
            tuple(c.dilation for c in parts),
            tuple(c.padding for c in parts),
        )
        dst = tuple(slice(c.first, None, s) for c, s in zip(parts, g.stride))
        out[(slice(None), slice(None)) + dst] = _correlate(y, sub, g_sub, groups, "conv_transpose")
    return out


def _phase_subpixel(y: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int) -> np.ndarray:
    """The polyphase decomposition as one GEMM, when every class has the same ``k/s`` taps.

    With ``d = 1`` and ``k = q*s`` on every axis, the un-cropped output is
    ``full[j*s + r] = sum_i w[r + s*i] * y[j - i]`` for ``j < m + q - 1``: a
    single stride-1 correlation of ``y`` (padded ``q-1``) with ``s**n * C_out``
    output channels, one per (residue class, channel) (the sub-pixel
    convolution of Shi et al. 2016), then interleaved and cropped.
    """
    n = g.ndim
    N, c_in = y.shape[:2]
    co_g, ci_g = w.shape[1], c_in // groups
    s = g.stride
    q = tuple(k // s_ for k, s_ in zip(g.kernel_size, s))
    m = tuple(o + q_ - 1 for o, q_ in zip(g.out_size, q))
    # w[ci, co, i*s + r] -> sub[(group, r..., co), ci, q-1-i...]
    split = w.reshape((groups, ci_g, co_g) + tuple(x for pair in zip(q, s) for x in pair))
    split = np.flip(split, axis=tuple(3 + 2 * a for a in range(n)))
    order = (0,) + tuple(4 + 2 * a for a in range(n)) + (2, 1) + tuple(3 + 2 * a for a in range(n))
    sub = split.transpose(order).reshape((groups * math.prod(s) * co_g, ci_g) + q)
    g_sub = ConvGeometry(g.out_size, m, q, (1,) * n, (1,) * n, tuple((a - 1, a - 1) for a in q))
    # (groups * prod(s) * co_g, N, *m): class r of un-cropped position j*s + r
    phases = _correlate(y, sub, g_sub, groups, "conv_transpose", channel_major=True)
    phases = phases.reshape((groups,) + s + (co_g, N) + m)
    out = np.empty((N, groups * co_g) + g.in_size, dtype=y.dtype)
    pb = tuple(b for b, _ in g.padding)
    if n <= 3:
        from upconv.kernels import convolution as nk

        lead = (1,) * (3 - n)
        p9 = phases.reshape((groups,) + lead + s + (co_g, N) + lead + m)
        out3 = out.reshape(out.shape[:2] + lead + g.in_size)
        parallel_for(nk.interleave_phases, out3.shape[0] * out3.shape[1], p9, out3, nk.as3(pb, 0))
        return out
    full = np.zeros((N, groups, co_g) + tuple(x for pair in zip(m, s) for x in pair), dtype=y.dtype)
    full[...] = phases.transpose((2 + n, 0, 1 + n) + tuple(x for a in range(n) for x in (3 + n + a, 1 + a)))
    full = full.reshape((N, groups * co_g) + tuple(a * b for a, b in zip(m, s)))
    out.fill(0)
    src = tuple(slice(b, min(b + L, f)) for b, L, f in zip(pb, g.in_size, full.shape[2:]))
    out[(slice(None), slice(None)) + tuple(slice(0, x.stop - x.start) for x in src)] = full[(slice(None),) * 2 + src]
    return out


CONV_TRANSPOSE_METHODS: dict[str, Callable[[np.ndarray, np.ndarray, ConvGeometry, int], np.ndarray]] = {
    "scatter": conv_transpose_scatter,
    "zero_insertion": conv_transpose_zero_insertion,
    "matrix": conv_transpose_matrix,
    "phase": conv_transpose_phase,
}


def _auto_method(y: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int) -> str:
    """Pick the fastest method for this shape (rules measured with benchmarks/bench_conv_transpose.py).

    ``"scatter"`` is one GEMM whose inner dimension is ``C_in / groups``,
    followed by an overlap-add that reads a stamp matrix ``k**n / s**n`` times
    the size of the output.  When ``k % s == 0`` and ``d == 1``, ``"phase"``
    is one GEMM with inner dimension ``C_in / groups * (k/s)**n`` and an
    output the size of the result, then one interleaving pass.  Phase wins
    unless scatter's GEMM is already wide (``C_in / groups >= 256``: phase
    then only adds its border overhead), the two GEMMs are the same
    (``k == s``: scatter's overlap-add is then a plain interleave too),
    phase's GEMM has few rows (``s**n * C_out / groups < 64``), or there are
    one or two input channels per group (scatter then stamps directly,
    without a GEMM).  The float32 shapes that :func:`_simd_transpose`
    accepts take ``"phase"`` computed by the vector kernel, without any GEMM.
    """
    subpixel = all(d == 1 and k % s == 0 for k, s, d in zip(g.kernel_size, g.stride, g.dilation))
    ci_g, co_g = y.shape[1] // groups, w.shape[1]
    if _simd_transpose(y, g, ci_g, co_g):
        return "phase"
    overlap = g.kernel_size != g.stride
    if subpixel and overlap and _DIRECT_MAX_CHANNELS < ci_g < 256 and math.prod(g.stride) * co_g >= 64:
        return "phase"
    return "scatter"


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
) -> np.ndarray:
    r"""N-d transposed convolution, identical to ``torch.nn.functional.conv_transpose{1,2,3}d``.

    The adjoint of :func:`conv`: ``<conv(x, w), y> == <x, conv_transpose(y, w)>``
    for the same ``stride``, ``padding`` and ``dilation``, which makes it
    conv's input gradient.  Note torch's argument order: ``groups`` comes
    before ``dilation``.

    Parameters
    ----------
    x : (N, C_in, *in_size) or (C_in, *in_size) array_like
        Input; ``n = weight.ndim - 2`` spatial axes.
    weight : (C_in, C_out / groups, *kernel_size) array_like
        Filters (torch's ``ConvTranspose`` layout).
    bias : (C_out,) array_like, optional
    stride, dilation : int or sequence of n ints, optional
    padding : int, sequence of n ints, or sequence of n (begin, end) pairs
        Elements cropped off the beginning and end of the un-cropped result
        (ONNX ``pads`` as pairs).
    output_padding : int or sequence of n ints, optional
        Elements added at the end, ``0 <= output_padding < max(stride, dilation)``.
    groups : int, optional
    output_size : sequence of n (or n + 2) ints, optional
        Requested output size; replaces ``output_padding`` as
        ``nn.ConvTransposeNd.forward(x, output_size)`` does.  See
        :func:`upconv.shapes.conv_transpose_output_size_range`.
    method : {"auto", "scatter", "zero_insertion", "matrix", "phase"}
        Algorithm (all give the same result); ``"auto"`` picks the fastest.

    Returns
    -------
    y : (N, C_out, *out_size) or (C_out, *out_size) ndarray

    Raises
    ------
    ValueError, TypeError
        For every configuration torch rejects, naming the argument.
    MemoryError
        When the chosen method would allocate more than
        :func:`upconv.get_memory_limit`.

    Notes
    -----
    .. math::

        o = (i - 1) s - p_{begin} - p_{end} + d (k - 1) + a + 1

    The four methods are the four views of the transposed convolution:
    kernel stamping (``"scatter"``), zero insertion and convolution with the
    flipped kernel (``"zero_insertion"``), multiplication by the transposed
    convolution matrix (``"matrix"``) and the polyphase decomposition
    (``"phase"``).

    Examples
    --------
    >>> import numpy as np, upconv
    >>> x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    >>> y = upconv.conv_transpose(x, np.ones((1, 1, 3, 3)), stride=2)
    >>> y.shape
    (1, 1, 5, 5)
    >>> y[0, 0]
    array([[ 1.,  1.,  3.,  2.,  2.],
           [ 1.,  1.,  3.,  2.,  2.],
           [ 4.,  4., 10.,  6.,  6.],
           [ 3.,  3.,  7.,  4.,  4.],
           [ 3.,  3.,  7.,  4.,  4.]])
    """
    func = "conv_transpose"
    method = v.choice(method, ("auto",) + tuple(CONV_TRANSPOSE_METHODS), func, "method")
    result_dtype, x, w, b, groups, unbatched = _prepare(func, x, weight, bias, groups)
    c_in = x.shape[1]
    if c_in != w.shape[0]:
        raise ValueError(
            f"{func}: x has {c_in} channels but weight of shape {w.shape} expects {w.shape[0]} (weight.shape[0])"
        )
    if c_in % groups:
        raise ValueError(f"{func}: in channels ({c_in}) must be divisible by groups={groups}")
    _check_bias(func, b, w.shape[1] * groups)
    if output_size is not None and not isinstance(output_size, (str, bytes)) and isinstance(output_size, Sequence):
        # torch accepts the spatial sizes alone or preceded by the non-spatial ones: (C,) when
        # unbatched, (N, C) when batched.
        leading = 1 if unbatched else 2
        if len(output_size) == w.ndim - 2 + leading:
            output_size = tuple(output_size)[leading:]
        elif len(output_size) != w.ndim - 2:
            raise ValueError(
                f"{func}: output_size must have {w.ndim - 2} or {w.ndim - 2 + leading} elements for a "
                f"{'un' if unbatched else ''}batched input, got {tuple(output_size)!r}"
            )
    g = shapes.conv_transpose_geometry(
        x.shape[2:], w.shape[2:], stride, padding, output_padding, dilation, output_size=output_size, func=func
    )
    v.check_allocation((x.shape[0], w.shape[1] * groups) + g.in_size, x.dtype, func, "the output")
    if method == "auto":
        method = _auto_method(x, w, g, groups)
    out = CONV_TRANSPOSE_METHODS[method](x, w, g, groups)
    return _finish(out, b, result_dtype, unbatched)
