"""Convolution kernels (compiled C: ``csrc/convolution.c``, ``convolution_t.h``, ``convolution_simd.c``).

Built at install and loaded on the operators' first call (``import upconv`` never loads them).  Each
kernel is serial and releases the GIL; it works on the items ``[start, stop)`` (output planes or rows)
and :func:`upconv.kernels.parallel.parallel_for` runs slices of them on several threads.  Arguments are
checked (C-contiguous arrays of the kernel's dtypes and number of axes, writable where written; a wrong
one raises TypeError), geometry comes as 3-tuples of ints (up to 3 spatial axes, leading ones of size 1).
The kernels with float arrays take float32 or float64; the vector kernels (``*_simd``, ``pack_weights``)
float32, in 8-lane vectors (``csrc/simd.h``).

``overlap_add(start, stop, cols, out, k, s, d, pb, m)``
    Kernel stamping: ``cols (C, K, N, P)`` products of input pixels and taps, gathered row by row into
    ``out (N, C, L0, L1, L2)``.  ``overlap_add_simd``: the same in float32 with stride 2 along the last
    axis, in vector registers (reads 7 elements past each stamp row: ``cols`` needs a margin).
``stamp_direct(start, stop, y, w, out, groups, k, s, d, pb)``
    Kernel stamping without a GEMM, for few input channels per group.
``im2col(start, stop, x, out, k, s, d, pb)``
    The im2col matrix ``(C, K, N, L0, L1, L2)`` of the unpadded ``x``.
``correlate_direct(start, stop, x, w, out, groups, k, s, d, pb)``
    Convolution without im2col for few output channels; every product and sum rounded, in order.
``weight_grad_direct(start, stop, x, gy, gw, groups, k, s, d, pb)``
    Its weight gradient, dot products summed in vector lanes (re-associated).
``pad_copy(start, stop, x, xp, pb, s2)``
    Zero-padded copy, the last axis split into its ``s2`` phases.
``correlate_simd(start, stop, xp, wt, out, groups, s, offsets, wide)``
    Direct float32 convolution in register blocks of 4 channels x 24 (``wide``: 48) outputs.
``conv_transpose_simd(start, stop, y, fused, yp, margin, wt, out, groups, s, starts, offsets, rows, chunk,``
``wide, stream)``
    Direct float32 polyphase transposed convolution, all residue classes of a block together,
    optionally storing past the caches (``stream``).
``pack_weights(start, stop, w, source, wt)``
    The weights of the vector kernels, blocks of 4 channels side by side.
``weight_grad_simd(start, stop, xp, gy, gw, groups, s, d, taps, L2)``
    Float32 weight gradient in register blocks of 4 output channels x 3 taps.
``interleave_phases(start, stop, phases, out, pb)``
    Interleave the residue classes of the sub-pixel form into the cropped output.
``gemm(start, stop, a, b, c, a_transposed, mc, nc)``
    ``c = a @ b`` for ``a (G, M, K)`` (``a_transposed``: stored ``(G, K, M)``), ``b (G, K, N)``, every
    element summed over ``k`` in order, one multiply-add after another (``csrc/gemm.c``); the items are
    the tiles of ``mc x nc`` elements.

The shapes each kernel expects are in its comment in ``csrc``.
"""

from __future__ import annotations

from upconv.kernels import _native

overlap_add = _native.overlap_add
overlap_add_simd = _native.overlap_add_simd
stamp_direct = _native.stamp_direct
im2col = _native.im2col
correlate_direct = _native.correlate_direct
weight_grad_direct = _native.weight_grad_direct
pad_copy = _native.pad_copy
correlate_simd = _native.correlate_simd
conv_transpose_simd = _native.conv_transpose_simd
pack_weights = _native.pack_weights
weight_grad_simd = _native.weight_grad_simd
interleave_phases = _native.interleave_phases
gemm = _native.gemm

#: Whether the vector kernels may use register blocks of 24 accumulators: they need 31 vector
#: registers with their 6 inputs and a weight, which only the AVX-512 build has (32; AVX2 has 16, and
#: NEON's are 128-bit), so the others keep to blocks of 12.
WIDE = _native.variant() == "avx512"


def as3(values, fill):
    """Left-pad a per-axis tuple to 3 entries (extra leading axes are trivial)."""
    return (fill,) * (3 - len(values)) + tuple(int(v) for v in values)
