"""The four methods of ``conv_transpose``: the four views of the transposed convolution.

Each takes the batched input ``y (N, C_in, *g.out_size)``, the weight
``(C_in, C_out/groups, *k)`` and the geometry ``g`` of the convolution it is
the adjoint of, and returns ``(N, C_out, *g.in_size)``; all give the same
result for every configuration.

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
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import NamedTuple

import numpy as np

from upconv import _validate as v
from upconv import shapes
from upconv.kernels.parallel import get_num_threads, parallel_for
from upconv.kernels.workspace import aligned_empty, scratch
from upconv.ops import paths
from upconv.ops.correlation import as_3d, correlate
from upconv.ops.paths import use_simd_transpose
from upconv.shapes import ConvGeometry, ceil_div

# Spare elements before and after the stamp matrix of conv_transpose_scatter: the masked whole-vector
# loads of kernels.convolution.overlap_add_simd reach up to 7 elements past a stamp row's ends.
_STAMP_MARGIN = 8


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
# scatter: kernel stamping


def conv_transpose_scatter(y: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int) -> np.ndarray:
    """Kernel stamping: one GEMM for all (input pixel, kernel tap) products, then overlap-add.

    ``cols[c_out, t, n, j] = sum_ci w[ci, c_out, t] * y[n, ci, j]`` is tap
    ``t`` of the stamp of input pixel ``j``; it lands at output position
    ``j*s + t*d - p_begin`` (:func:`upconv.shapes.tap_reach`).  Up to 3
    spatial axes the overlap-add is a compiled kernel (parallel over output
    planes; in float32 with stride 2 along the last axis,
    :func:`~upconv.kernels.convolution.overlap_add_simd`, where the stamps
    overlap there); beyond 3 axes it is :func:`overlap_add` in NumPy.  Small
    problems, where starting threads costs more than it saves, take the
    compiled :func:`~upconv.kernels.convolution.overlap_add` on the calling
    thread: the sums of :func:`overlap_add`, in the same order.  With one or
    two input channels per group the compiled kernel multiplies while it
    stamps (no GEMM), at every size.
    """
    N, c_in = y.shape[:2]
    ci_g, c_out = c_in // groups, w.shape[1] * groups
    K = math.prod(g.kernel_size)
    if g.ndim > 3:
        return overlap_add(_scatter_gemm(y, w, groups), N, g)
    from upconv.kernels import convolution as nk

    out = np.empty((N, c_out) + g.in_size, dtype=y.dtype)
    lead = (1,) * (3 - g.ndim)
    out3 = out.reshape((N, c_out) + lead + g.in_size)
    k, s, d, pb = as_3d(g)
    stamps = N * c_out * K * math.prod(g.out_size)
    if ci_g <= paths.DIRECT_MAX_CHANNELS:
        # Few input channels per group: a GEMM would be a batch of thin outer products, so multiply while
        # stamping instead (at every size: one order of the sums; a small call skips the GEMM's set-up)
        y3 = np.ascontiguousarray(y).reshape((N, c_in) + lead + g.out_size)
        w3 = np.ascontiguousarray(w).reshape(c_in, -1, K)
        parallel_for(nk.stamp_direct, N * c_out, y3, w3, out3, groups, k, s, d, pb,
                     cost_ns=2 * stamps * ci_g / paths.DIRECT_FLOPS_PER_NS)
    elif stamps < paths.COMPILED_MIN_SIZE:
        parallel_for(nk.overlap_add, N * c_out, _scatter_gemm(y, w, groups), out3, k, s, d, pb,
                     nk.as3(g.out_size, 1), cost_ns=0)
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
    paths.matmul(wm, ym, out=cols)
    return cols.reshape(groups * co_g, K, N, P)


def overlap_add(cols: np.ndarray, N: int, g: ConvGeometry) -> np.ndarray:
    """Add each tap plane of ``cols (C, K, N, *out)`` into the strided output ``(N, C, *in)`` (NumPy, any n)."""
    c_out = cols.shape[0]
    n = g.ndim
    cols = cols.reshape((c_out, math.prod(g.kernel_size), N) + g.out_size)
    out = np.zeros((N, c_out) + g.in_size, dtype=cols.dtype)
    for t, tap in enumerate(np.ndindex(*g.kernel_size)):
        dst, src = [], []
        for a in range(n):
            planes, lands = shapes.tap_reach(g, a, tap[a])
            dst.append(slice(lands.start, lands.stop, lands.step))
            src.append(slice(planes.start, planes.stop))
        out[(slice(None), slice(None)) + tuple(dst)] += np.moveaxis(
            cols[(slice(None), t, slice(None)) + tuple(src)], 0, 1
        )
    return out


# --------------------------------------------------------------------------
# zero insertion and the matrix


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
    return correlate(z, flipped, gz, groups, "conv_transpose")


def conv_transpose_matrix(y: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int) -> np.ndarray:
    """Apply ``C.T``, the transpose of the sparse matrix of the convolution ``g``."""
    from upconv.ops.matrix import _conv_matrix

    N = y.shape[0]
    C = _conv_matrix(g, w, groups, "conv_transpose")  # (c_in * P_out, c_out * P_in), CSR
    # C.T is a CSC view: its product adds each output's terms in the order of C's rows, as C.tocsc().T's did
    out = (C.T @ y.reshape(N, C.shape[0]).T).T
    return np.ascontiguousarray(out, dtype=y.dtype).reshape((N, C.shape[1] // math.prod(g.in_size)) + g.in_size)


# --------------------------------------------------------------------------
# phase: the polyphase decomposition


def conv_transpose_phase(y: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int) -> np.ndarray:
    """Polyphase: each output residue class mod the stride is a dense stride-1 convolution.

    Output positions ``o`` with ``(o + p_begin) % s == r`` receive only the
    kernel taps ``t`` with ``t*d % s == r``; for them the transposed
    convolution is an ordinary correlation of the input with those taps
    (reversed, dilation ``d / gcd(d, s)``).  The float32 shapes of
    :func:`upconv.ops.paths.use_simd_transpose` are computed class by class,
    a few output rows at a time, by a compiled vector kernel
    (:func:`_conv_transpose_simd`); otherwise ``k % s == 0`` makes one
    sub-pixel GEMM (:func:`_phase_subpixel`) and other shapes one
    correlation per class.
    """
    if use_simd_transpose(y, g, y.shape[1] // groups, w.shape[1]):
        return _conv_transpose_simd(y, w, g, groups)
    if all(d == 1 and k % s == 0 for k, s, d in zip(g.kernel_size, g.stride, g.dilation, strict=True)):
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
        dst = tuple(slice(c.first, None, s) for c, s in zip(parts, g.stride, strict=True))
        out[(slice(None), slice(None)) + dst] = correlate(y, sub, g_sub, groups, "conv_transpose")
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
    q = tuple(k // s_ for k, s_ in zip(g.kernel_size, s, strict=True))
    m = tuple(o + q_ - 1 for o, q_ in zip(g.out_size, q, strict=True))
    # w[ci, co, i*s + r] -> sub[(group, r..., co), ci, q-1-i...]
    split = w.reshape((groups, ci_g, co_g) + tuple(x for pair in zip(q, s, strict=True) for x in pair))
    split = np.flip(split, axis=tuple(3 + 2 * a for a in range(n)))
    order = (0,) + tuple(4 + 2 * a for a in range(n)) + (2, 1) + tuple(3 + 2 * a for a in range(n))
    sub = split.transpose(order).reshape((groups * math.prod(s) * co_g, ci_g) + q)
    g_sub = ConvGeometry(g.out_size, m, q, (1,) * n, (1,) * n, tuple((a - 1, a - 1) for a in q))
    # (groups * prod(s) * co_g, N, *m): class r of un-cropped position j*s + r
    phases = correlate(y, sub, g_sub, groups, "conv_transpose", channel_major=True)
    phases = phases.reshape((groups,) + s + (co_g, N) + m)
    out = np.empty((N, groups * co_g) + g.in_size, dtype=y.dtype)
    pb = tuple(b for b, _ in g.padding)
    if n <= 3:
        from upconv.kernels import convolution as nk

        lead = (1,) * (3 - n)
        p9 = phases.reshape((groups,) + lead + s + (co_g, N) + lead + m)
        out3 = out.reshape(out.shape[:2] + lead + g.in_size)
        parallel_for(nk.interleave_phases, out3.shape[0] * out3.shape[1], p9, out3, nk.as3(pb, 0),
                     cost_ns=out.size / paths.COPY_ELEMENTS_PER_NS)
        return out
    full = np.zeros((N, groups, co_g) + tuple(x for pair in zip(m, s, strict=True) for x in pair), dtype=y.dtype)
    full[...] = phases.transpose((2 + n, 0, 1 + n) + tuple(x for a in range(n) for x in (3 + n + a, 1 + a)))
    sizes = tuple(a * b for a, b in zip(m, s, strict=True))
    full = full.reshape((N, groups * co_g) + sizes)
    out.fill(0)
    src = tuple(slice(b, min(b + L, f)) for b, L, f in zip(pb, g.in_size, sizes, strict=True))
    out[(slice(None), slice(None)) + tuple(slice(0, x.stop - x.start) for x in src)] = full[(slice(None),) * 2 + src]
    return out


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

    Building them in Python costs as much as the kernel on a small layer.
    """
    from upconv.kernels import convolution as nk

    k, s, _, _ = as_3d(g)
    m, L = nk.as3(g.out_size, 1), nk.as3(g.in_size, 1)
    classes = _class_shifts(g)
    # margins of the padded input: every read of a class, for every (vector-rounded) output, lands inside it
    shifts = [np.concatenate([c for _, c in axis] + [np.zeros(1, np.int64)]) for axis in classes]
    margin = [max(0, -int(c.min())) for c in shifts]
    reach = [ceil_div(L[a], s[a]) for a in range(2)] + [ceil_div(ceil_div(L[2], s[2]), 8) * 8]
    size = [margin[a] + max(m[a], reach[a] + int(shifts[a].max())) for a in range(3)]
    # rows start on a vector boundary: fewer loads split across cache lines
    P = (size[0], size[1], ceil_div(size[2], 8) * 8)
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
    return _TransposeTables(m, L, s, (margin[0], margin[1], margin[2]), P, *arrays)


def _conv_transpose_simd(y: np.ndarray, w: np.ndarray, g: ConvGeometry, groups: int) -> np.ndarray:
    """:func:`conv_transpose_phase` computed directly by the compiled float32 vector kernel.

    Every residue class of the output is a stride-1 correlation of ``y``
    with the class's taps (the polyphase view); the kernel computes all
    classes of the last axis for a block of outputs of up to 3 rows and
    interleaves them straight into the output, so that nothing is multiplied
    by an inserted zero and no stamp matrix or per-phase result goes through
    memory (:func:`upconv.kernels.convolution.conv_transpose_simd`); results of
    ``paths.STREAM_MIN_BYTES`` and more with stride 2 along rows of whole cache
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
    block = paths.SIMD_BLOCK
    nb = ceil_div(co_g, block)
    t = _transpose_tables(g, ci_g)
    v.check_allocation((N, c_in) + t.padded, np.float32, "conv_transpose", "the padded input")
    yp = scratch("simd_input", (N, c_in) + t.padded, np.float32)
    y5 = np.ascontiguousarray(y, dtype=np.float32).reshape(yp.shape[:2] + t.m)
    # an item is a whole input (n, g) that pads its own part while it is in cache, where that leaves
    # enough items to balance the threads (1-d: an item is one anyway)
    units = t.L[0] * len(t.rows)
    fused = units == 1 or (N * groups >= paths.FUSED_ITEMS_PER_THREAD * get_num_threads()
                           and ci_g * math.prod(t.padded) * 4 <= paths.FUSED_MAX_BYTES)
    if not fused:
        parallel_for(nk.pad_copy, N * c_in * t.padded[0], y5, yp, t.margin, 1,
                     cost_ns=yp.size / paths.COPY_ELEMENTS_PER_NS)
    wt = scratch("simd_weights", (groups * nb, t.starts[-1], block), np.float32)
    parallel_for(nk.pack_weights, groups * nb, np.ascontiguousarray(w, dtype=np.float32).reshape(c_in, co_g, -1),
                 t.source, wt, cost_ns=wt.size)
    out = aligned_empty((N, co_g * groups) + g.in_size, np.float32)
    stream = out.nbytes >= paths.STREAM_MIN_BYTES and t.s[2] == 2 and t.L[2] % 16 == 0
    parallel_for(nk.conv_transpose_simd, N * groups * (1 if fused else units), y5, fused, yp, t.margin, wt,
                 out.reshape((N, co_g * groups) + t.L), groups, t.s, t.starts, t.offsets, t.rows, paths.CHUNK,
                 nk.WIDE, stream,
                 cost_ns=2 * out.size * ci_g * math.prod(g.kernel_size) / math.prod(g.stride) / paths.SIMD_FLOPS_PER_NS)
    return out
