"""The correlation engine: grouped cross-correlation and its weight gradient on a :class:`~upconv.shapes.ConvGeometry`.

``conv`` is this correlation; ``conv_transpose``'s zero-insertion and phase
views and every input gradient of a transposed convolution run on it too.
It is computed as im2col (a copy of the windows, :func:`im2col_into`) and
one GEMM per group (:func:`upconv.ops.paths.matmul`: each element one sum in
a fixed order, whatever the batch), or, where :mod:`upconv.ops.paths` says so, by compiled
kernels: directly for one or two output channels per group, and in float32
by register blocks of 8-lane vectors (:mod:`upconv.kernels.simd`) on an
input split by phase (:func:`_simd_input`).  Arrays are batched ``(N, C,
*spatial)`` in the compute dtype; the public functions validate.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided

from upconv import _validate as v
from upconv.kernels.parallel import parallel_for
from upconv.kernels.workspace import scratch
from upconv.ops import paths
from upconv.ops.paths import use_direct_conv, use_simd_conv
from upconv.shapes import ConvGeometry, ceil_div

#: Per-axis values of up to 3 spatial axes, padded in front to 3 (as the compiled kernels take them).
Int3 = tuple[int, int, int]


def pad(x: np.ndarray, pads: Sequence[tuple[int, int]], func: str = "conv") -> np.ndarray:
    """Zero-pad the spatial axes of ``(N, C, *spatial)``; negative entries crop; ``func`` names a MemoryError."""
    crop = tuple(slice(max(-b, 0), x.shape[2 + i] - max(-e, 0)) for i, (b, e) in enumerate(pads))
    x = x[(slice(None), slice(None)) + crop]
    if any(b > 0 or e > 0 for b, e in pads):
        padded = x.shape[:2] + tuple(s + max(b, 0) + max(e, 0) for s, (b, e) in zip(x.shape[2:], pads, strict=True))
        v.check_allocation(padded, x.dtype, func, "the padded input")
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


@functools.lru_cache(maxsize=256)
def as_3d(g: ConvGeometry) -> tuple[Int3, Int3, Int3, Int3]:
    """Kernel size, stride, dilation and begin padding as 3-tuples, for the compiled kernels (cached)."""
    from upconv.kernels import convolution as nk

    return (nk.as3(g.kernel_size, 1), nk.as3(g.stride, 1), nk.as3(g.dilation, 1),
            nk.as3([b for b, _ in g.padding], 0))


def im2col_into(x: np.ndarray, g: ConvGeometry, groups: int, out: np.ndarray | None = None) -> np.ndarray:
    """The im2col matrix ``(groups, C_in/g * K, N * P)`` of ``x``: the windows :func:`correlate` multiplies.

    Column ``n * P + o`` holds window ``o`` of sample ``n``, row
    ``ci * K + t`` its tap ``t`` of channel ``ci``; written into ``out`` when
    given (a C-contiguous buffer of that shape).  Up to 3 spatial axes a
    compiled kernel fills it (rows in parallel, faster than NumPy's strided
    copies of short rows, and, on the calling thread, than NumPy's padding of
    small inputs); otherwise one strided slice of the padded input per
    kernel tap.
    """
    N, c_in = x.shape[:2]
    if out is None:
        out = np.empty((groups, c_in // groups * math.prod(g.kernel_size), N * math.prod(g.out_size)), x.dtype)
    if out.size == 0:
        return out
    if g.ndim <= 3:
        from upconv.kernels import convolution as nk

        if out.size < paths.COMPILED_MIN_SIZE and any(b > 0 or e > 0 for b, e in g.padding):
            # small ones took NumPy's padded copy, refused over the memory limit: the kernel needs none, but
            # refuses the same requests
            padded = x.shape[:2] + tuple(i + b + e for i, (b, e) in zip(x.shape[2:], g.padding, strict=True))
            v.check_allocation(padded, x.dtype, "conv", "the padded input")
        lead = (1,) * (3 - g.ndim)
        x5 = np.ascontiguousarray(x).reshape((N, c_in) + lead + g.in_size)
        out6: np.ndarray = out.reshape((c_in, math.prod(g.kernel_size), N) + lead + g.out_size)
        parallel_for(nk.im2col, out6.shape[0] * out6.shape[1] * N, x5, out6, *as_3d(g),
                     cost_ns=out.size / paths.COPY_ELEMENTS_PER_NS)
        return out
    dst = out.reshape((c_in,) + g.kernel_size + (N,) + g.out_size)
    src = np.swapaxes(pad(x, g.padding), 0, 1)  # (c_in, N, *padded)
    for tap in np.ndindex(*g.kernel_size):
        window = tuple(slice(t * d, t * d + (o - 1) * s + 1, s)
                       for t, d, o, s in zip(tap, g.dilation, g.out_size, g.stride, strict=True))
        dst[(slice(None),) + tap] = src[(slice(None), slice(None)) + window]
    return out


def correlate(
    x: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int, func: str, *, channel_major: bool = False,
    cols: np.ndarray | None = None,
) -> np.ndarray:
    """Grouped cross-correlation: ``(N, C_in, *g.in_size) -> (N, C_out, *g.out_size)``.

    im2col + one GEMM per group; the batch is split into chunks so that an
    im2col block stays near ``paths.BLOCK_BYTES``.  With
    ``channel_major=True`` the result is laid out ``(C_out, N, *g.out_size)``,
    the GEMM's own layout, which saves a transposing copy for callers that
    rearrange the result anyway.  ``cols``, a buffer of the shape of the
    whole batch's im2col matrix, receives it in one chunk (a layer keeps it
    for its weight gradient).  Otherwise the compiled kernels take the
    shapes :mod:`upconv.ops.paths` gives them.
    """
    N, c_in = x.shape[:2]
    c_out = w.shape[0]
    K, P = math.prod(g.kernel_size), math.prod(g.out_size)
    ci_g, co_g = c_in // groups, c_out // groups
    v.check_allocation((N, c_out) + g.out_size, x.dtype, func, "the output")
    if not channel_major and cols is None and use_direct_conv(g, co_g, N * c_out * ci_g * K * P):
        return _correlate_direct(x, w, g, groups)
    if not channel_major and cols is None and use_simd_conv(x, g, ci_g, co_g):
        return _correlate_simd(x, w, g, groups)  # (which checks its padded input)
    v.check_allocation((1, c_in, K, P), x.dtype, func, "the im2col matrix of one sample")
    wm = w.reshape(groups, co_g, ci_g * K)
    if channel_major:  # an intermediate for conv_transpose's phase method, never returned
        out = scratch("channel_major", (c_out, N) + g.out_size, x.dtype)
    else:
        out = np.empty((N, c_out) + g.out_size, dtype=x.dtype)
    if N == 0:
        return out
    keep = cols
    chunk = N if keep is not None else max(1, min(N, paths.BLOCK_BYTES // max(1, c_in * K * P * x.itemsize)))
    for start in range(0, N, chunk):
        m = min(chunk, N - start)
        buffer = keep if keep is not None else scratch("im2col", (groups, ci_g * K, m * P), x.dtype)
        cols = im2col_into(x[start : start + m], g, groups, out=buffer)
        if channel_major and m == N:  # one chunk: the GEMM writes the result in place
            paths.matmul(wm, cols, out=out.reshape(groups, co_g, N * P))
            continue
        res = paths.matmul(wm, cols).reshape((c_out, m) + g.out_size)  # (groups * co_g, m, *out)
        if channel_major:
            out[:, start : start + m] = res
        else:
            out[start : start + m] = res.swapaxes(0, 1)
    return out


def _correlate_direct(x: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int) -> np.ndarray:
    """:func:`correlate` by the compiled direct kernel (up to 3 spatial axes)."""
    from upconv.kernels import convolution as nk

    N, c_in = x.shape[:2]
    c_out = w.shape[0]
    lead = (1,) * (3 - g.ndim)
    out = np.empty((N, c_out) + g.out_size, dtype=x.dtype)
    x5 = np.ascontiguousarray(x).reshape((N, c_in) + lead + g.in_size)
    w3 = np.ascontiguousarray(w).reshape(c_out, w.shape[1], -1)
    parallel_for(nk.correlate_direct, N * c_out, x5, w3, out.reshape((N, c_out) + lead + g.out_size), groups,
                 *as_3d(g), cost_ns=2 * out.size * w3.shape[1] * w3.shape[2] / paths.DIRECT_FLOPS_PER_NS)
    return out


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

    _, s, d, pb = as_3d(g)
    size, out = nk.as3(g.in_size, 1), nk.as3(g.out_size, 1)
    padded = nk.as3([i + b + e for i, (b, e) in zip(g.in_size, g.padding, strict=True)], 1)  # holds every window
    lanes = ceil_div(out[2], 8) * 8
    e = np.arange(taps) * d[2]
    offsets = e // s[2]
    Q2 = lanes + int(offsets[-1])
    offsets += (e % s[2]) * Q2
    P = padded[:2] + (s[2] * Q2,)
    v.check_allocation(x.shape[:2] + P, np.float32, "conv", "the padded input")
    xp = scratch("simd_input", x.shape[:2] + P, np.float32)
    parallel_for(nk.pad_copy, x.shape[0] * x.shape[1] * P[0],
                 np.ascontiguousarray(x, dtype=np.float32).reshape(x.shape[:2] + size), xp, pb, s[2],
                 cost_ns=xp.size / paths.COPY_ELEMENTS_PER_NS)
    return xp, offsets.astype(np.int64)


def _correlate_simd(x: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int) -> np.ndarray:
    """:func:`correlate` by the compiled float32 vector kernel (see :func:`upconv.ops.paths.use_simd_conv`)."""
    from upconv.kernels import convolution as nk

    N, c_in = x.shape[:2]
    c_out = w.shape[0]
    ci_g, co_g = c_in // groups, c_out // groups
    block = paths.SIMD_BLOCK
    nb = ceil_div(co_g, block)
    k, s, d, _ = as_3d(g)
    L = nk.as3(g.out_size, 1)
    lanes = ceil_div(L[2], 8) * 8
    xp, taps = _simd_input(x, g, k[2])
    # where each (input channel, tap) pair reads, relative to the output's position in the group's first channel
    P0, P1, P2 = xp.shape[2:]
    offsets = (((np.arange(ci_g)[:, None, None, None] * P0 + np.arange(k[0])[:, None, None] * d[0]) * P1
                + np.arange(k[1])[:, None] * d[1]) * P2 + taps).ravel()
    # (groups, co_g, ci_g, *k) -> blocks (groups * nb, ci_g * K, 4), the block's 4 weights of a pair side by side
    wt = np.zeros((groups, nb * block, ci_g) + k, np.float32)
    wt[:, :co_g] = w.reshape((groups, co_g, ci_g) + k)
    wt = np.ascontiguousarray(wt.reshape(groups * nb, block, -1).transpose(0, 2, 1))
    exact = co_g % block == 0 and lanes == L[2]
    out = np.empty((N, c_out) + g.out_size, np.float32)
    res = out if exact else scratch("simd_out", (N, groups * nb * block) + L[:2] + (lanes,), np.float32)
    parallel_for(nk.correlate_simd, N * groups * L[0] * L[1], xp, wt,
                 res.reshape((N, groups * nb * block) + L[:2] + (lanes,)), groups, s, offsets, nk.WIDE,
                 cost_ns=2 * res.size * offsets.size / paths.SIMD_FLOPS_PER_NS)
    if not exact:
        blocks = res.reshape((N, groups, nb * block) + L[:2] + (lanes,))[:, :, :co_g, :, :, : L[2]]
        out.reshape((N, groups, co_g) + L)[...] = blocks
    return out


def weight_gradient(x: np.ndarray, gy: np.ndarray, g: ConvGeometry, groups: int, func: str,
                    cols: np.ndarray | None = None) -> np.ndarray:
    """``dw[co, ci, t] = sum_{n, o} gy[n, co, o] * x_pad[n, g ci, o*s + t*d]``, shape ``(C_out, C_in/g, *k)``.

    The correlation of the input with the output gradient: the im2col
    matrix of ``x`` (:func:`im2col_into`) times the channel-major output
    gradient, one GEMM per group whose inner dimension runs over the batch
    and the output positions; the batch in chunks of about
    ``paths.BLOCK_BYTES``.  ``cols``, the whole batch's im2col matrix, skips
    building it (a layer keeps the one its forward pass multiplied).
    Otherwise the compiled kernels take the shapes they take in
    :func:`correlate`: direct dot products for one or two output channels
    per group, the vector kernel in float32 with few channels.
    """
    N, c_in = x.shape[:2]
    c_out = gy.shape[1]
    K, P = math.prod(g.kernel_size), math.prod(g.out_size)
    ci_g, co_g = c_in // groups, c_out // groups
    if cols is None and use_direct_conv(g, co_g, N * c_out * ci_g * K * P):
        from upconv.kernels import convolution as nk

        lead = (1,) * (3 - g.ndim)
        gw = np.empty((c_out, ci_g, K), dtype=x.dtype)
        parallel_for(nk.weight_grad_direct, c_out * ci_g, np.ascontiguousarray(x).reshape((N, c_in) + lead + g.in_size),
                     np.ascontiguousarray(gy).reshape((N, c_out) + lead + g.out_size), gw, groups, *as_3d(g),
                     cost_ns=2 * gy.size * ci_g * K / paths.DIRECT_FLOPS_PER_NS)
        return gw.reshape((c_out, ci_g) + g.kernel_size)
    if cols is None and use_simd_conv(x, g, ci_g, co_g):
        return _weight_gradient_simd(x, gy, g, groups)
    acc = np.zeros((groups, co_g, ci_g * K), dtype=x.dtype)
    if cols is not None:
        chunk = max(N, 1)
    else:
        v.check_allocation((1, c_in, K, P), x.dtype, func, "the im2col matrix of one sample")
        chunk = max(1, min(max(N, 1), paths.BLOCK_BYTES // max(1, c_in * K * P * x.itemsize)))
    for start in range(0, N, chunk):
        m = min(chunk, N - start)
        if cols is None:
            block = im2col_into(x[start : start + m], g, groups,
                                out=scratch("im2col", (groups, ci_g * K, m * P), x.dtype))
        else:
            block = cols
        # (m, c_out, P) -> (groups, co_g, m * P): the GEMM's left operand
        gm = np.ascontiguousarray(gy[start : start + m].reshape(m, groups, co_g, P).transpose(1, 2, 0, 3))
        # dw^T = cols @ gm^T: OpenBLAS is faster with the long inner dimension on the wide operand's rows
        acc += np.matmul(block, gm.reshape(groups, co_g, m * P).transpose(0, 2, 1)).transpose(0, 2, 1)
    return acc.reshape((c_out, ci_g) + g.kernel_size)


def _weight_gradient_simd(x: np.ndarray, gy: np.ndarray, g: ConvGeometry, groups: int) -> np.ndarray:
    """:func:`weight_gradient` by the compiled float32 vector kernel, for the convolutions of :func:`_correlate_simd`.

    :func:`upconv.kernels.convolution.weight_grad_simd` sums blocks of 4
    output channels x 3 taps over tiles of output rows.
    """
    from upconv.kernels import convolution as nk

    N, c_in = x.shape[:2]
    c_out = gy.shape[1]
    ci_g, co_g = c_in // groups, c_out // groups
    k, s, d, _ = as_3d(g)
    L = nk.as3(g.out_size, 1)
    lanes, k2w = ceil_div(L[2], 8) * 8, ceil_div(k[2], 3) * 3  # taps of the last axis in blocks of 3
    block = paths.SIMD_BLOCK
    nb = ceil_div(co_g, block)
    xp, taps = _simd_input(x, g, k2w)
    if co_g % block == 0 and lanes == L[2]:
        gp = np.ascontiguousarray(gy, dtype=np.float32).reshape((N, c_out) + L)
    else:  # zero-padded to whole channel blocks and vectors
        gp = np.zeros((N, groups, nb * block) + L[:2] + (lanes,), np.float32)
        gp[:, :, :co_g, :, :, : L[2]] = gy.reshape((N, groups, co_g) + L)
        gp = gp.reshape((N, groups * nb * block) + L[:2] + (lanes,))
    gw = np.empty((groups * nb, block, ci_g) + k[:2] + (k2w,), np.float32)
    parallel_for(nk.weight_grad_simd, groups * nb * ci_g, xp, gp, gw, groups, s, d,
                 taps, L[2], cost_ns=2 * gp.size * ci_g * k[0] * k[1] * k2w / paths.SIMD_FLOPS_PER_NS)
    gw = gw.reshape((groups, nb * block, ci_g) + k[:2] + (k2w,))[:, :co_g, ..., : k[2]]
    return np.ascontiguousarray(gw).reshape((c_out, ci_g) + g.kernel_size)
