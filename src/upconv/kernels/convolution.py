"""Compiled kernels (numba).  Imported lazily: ``import upconv`` never imports numba.

Kernels are compiled on first use and cached on disk (``cache=True``), so
only the very first call in a fresh environment pays the compilation.  Each
kernel is serial and releases the GIL; it works on the items ``[start,
stop)`` (output planes or rows) and :func:`upconv.kernels.parallel.parallel_for`
runs slices of them on several threads.
Geometry is passed as tuples of ints (not arrays) so that the compiler keeps
it in registers: an int64 array could alias the output as far as LLVM knows,
which would stop it from hoisting loads out of the inner loops.
"""

from __future__ import annotations

import numba
import numpy as np

from upconv.kernels.simd import (
    vadd,
    vfence,
    vfma,
    vhead,
    vload,
    vprefetch_write,
    vrange,
    vsplat,
    vstore,
    vstream,
    vsum,
    vzero,
    vzip_hi,
    vzip_lo,
    wide_register_file,
)

#: Whether the vector kernels may use register blocks of 24 accumulators (:func:`_mac48`).
WIDE = wide_register_file()


@numba.njit(cache=True, inline="always")
def _hits(L, k, d, pb, s, m):  # pragma: no cover - compiled
    """``hits[o, t]``: the input index ``j`` whose tap ``t`` lands on output ``o = j*s + t*d - pb``, else -1.

    The index map of :func:`upconv.shapes.tap_reach`, restated here because compiled code cannot call it.
    """
    hits = np.full((L, k), -1, np.int64)
    for t in range(k):
        for j in range(m):
            o = j * s + t * d - pb
            if 0 <= o < L:
                hits[o, t] = j
    return hits


@numba.njit(cache=True, inline="always")
def _last_axis_taps(L, k, d, pb, s, m):  # pragma: no cover - compiled
    """Where each tap of the last axis lands, as runs over the output's residue classes mod ``s``.

    Output ``o = r + s*u`` (class ``r``) gets tap ``t`` of input ``j = u + shift``.
    Row ``t``: offset ``r * ceil(L/s)`` of class ``r`` in the accumulator,
    ``shift``, and the range ``[lo, hi)`` of ``u`` with ``0 <= j < m``.
    """
    taps = np.empty((k, 4), np.int64)
    per_class = (L + s - 1) // s
    for t in range(k):
        e = t * d - pb
        r = e % s
        shift = (r - e) // s
        taps[t, 0] = r * per_class
        taps[t, 1] = shift
        taps[t, 2] = max(0, -shift)
        taps[t, 3] = min((L - r + s - 1) // s, m - shift)
    return taps


@numba.njit(cache=True, inline="always")
def _store_classes(acc, out, at, L, s):  # pragma: no cover - compiled
    """Interleave the residue classes of ``acc`` into the output row ``out[at : at + L]``."""
    per_class = (L + s - 1) // s
    if s == 2:  # the common case, one loop that LLVM vectorises with shuffles
        for u in range(L // 2):
            out[np.uint64(at + 2 * u)] = acc[np.uint64(u)]
            out[np.uint64(at + 2 * u + 1)] = acc[np.uint64(per_class + u)]
        if L % 2:
            out[np.uint64(at + L - 1)] = acc[np.uint64(per_class - 1)]
        return
    for r in range(min(s, L)):
        for u in range((L - r + s - 1) // s):
            out[np.uint64(at + r + s * u)] = acc[np.uint64(r * per_class + u)]


@numba.njit(cache=True, inline="always")
def _gather_tables(out, k, s, d, pb, m):  # pragma: no cover - compiled
    """The row accumulator and the tap tables with which kernel stamping gathers each output row."""
    L0, L1, L2 = out.shape[2], out.shape[3], out.shape[4]
    acc = np.empty(s[2] * ((L2 + s[2] - 1) // s[2]), out.dtype)
    hits0 = _hits(L0, k[0], d[0], pb[0], s[0], m[0])
    hits1 = _hits(L1, k[1], d[1], pb[1], s[1], m[1])
    return acc, hits0, hits1, _last_axis_taps(L2, k[2], d[2], pb[2], s[2], m[2])


@numba.njit(cache=True, inline="always")
def _row_hits(hits0, hits1, o0, o1, m1, m2, first, tap_step, taps, rows):  # pragma: no cover - compiled
    """The ``nr`` stamp rows that reach output row ``(o0, o1)``, returns ``nr``.

    ``taps[:nr]``: their taps ``t0 k1 + t1``; ``rows[:nr]``: where they start,
    ``first + taps * tap_step + (j0 m1 + j1) m2`` for input ``(j0, j1)``.
    """
    k1 = hits1.shape[1]
    nr = 0
    for t0 in range(hits0.shape[1]):
        j0 = hits0[o0, t0]
        if j0 < 0:
            continue
        for t1 in range(k1):
            j1 = hits1[o1, t1]
            if j1 < 0:
                continue
            taps[nr] = t0 * k1 + t1
            rows[nr] = first + taps[nr] * tap_step + (j0 * m1 + j1) * m2
            nr += 1
    return nr


# Indices are cast to unsigned in the inner loops: with a signed index numba
# adds a negative-index wrap-around test that stops LLVM from vectorising
# (measured 3x slower).


@numba.njit(cache=True, nogil=True)
def overlap_add(start, stop, cols, out, k, s, d, pb, m):  # pragma: no cover - compiled
    """Kernel stamping for up to 3 spatial axes; items are the output planes ``(c, n)``, ``n`` fastest.

    cols : (C, k0*k1*k2, N, m0*m1*m2) products of input pixels and kernel taps
    out  : (N, C, L0, L1, L2), written completely (it need not be zeroed)
    k, s, d, pb, m : 3-tuples: kernel size, stride, dilation, begin padding, input size

    Input ``j`` stamped by tap ``t`` lands at ``j*s + t*d - pb``.  Each output
    row is gathered once: the stamp rows that reach it are summed, per
    residue class of the last axis, into a small contiguous accumulator
    (vectorised adds), which is then interleaved into the row.  Consecutive
    items read adjacent stamp rows (``n`` is next to last in ``cols``).
    """
    N, C, L0, L1, L2 = out.shape
    K, P = cols.shape[1], cols.shape[3]
    k1, k2, m1, m2 = k[1], k[2], m[1], m[2]
    acc, hits0, hits1, taps = _gather_tables(out, k, s, d, pb, m)
    hit_taps, rows = np.empty(k[0] * k1, np.int64), np.empty(k[0] * k1, np.int64)
    flat_cols = cols.reshape(-1)
    flat_out = out.reshape(-1)
    for item in range(start, stop):
        n, c = item % N, item // N
        at, first = (n * C + c) * L0 * L1 * L2, (c * K * N + n) * P
        for o0 in range(L0):
            for o1 in range(L1):
                acc[:] = 0
                for q in range(_row_hits(hits0, hits1, o0, o1, m1, m2, first, k2 * N * P, hit_taps, rows)):
                    for t2 in range(k2):
                        a, src = taps[t2, 0], rows[q] + t2 * N * P + taps[t2, 1]
                        for u in range(taps[t2, 2], taps[t2, 3]):
                            acc[np.uint64(a + u)] += flat_cols[np.uint64(src + u)]
                _store_classes(acc, flat_out, at, L2, s[2])
                at += L2


@numba.njit(cache=True, nogil=True)
def overlap_add_simd(start, stop, cols, out, k, s, d, pb, m):  # pragma: no cover - compiled
    """:func:`overlap_add` for float32 and stride 2 along the last axis, in vector registers.

    An output row is computed 16 outputs at a time: 8 of each residue class,
    each class summed in a register from whole-vector loads of the stamp rows
    (lanes outside a tap's range masked to zero), then interleaved by shuffles
    and stored.  No accumulator goes through memory, which on short rows
    (decoder layers of 8 x 8 to 16 x 16) took more time than the additions.

    The masked loads read up to 7 elements past either end of a stamp row,
    so ``cols`` must have 7 readable floats before and after it
    (:func:`upconv.ops.transposed._scatter_gemm` leaves a margin around it).
    """
    N, C, L0, L1, L2 = out.shape
    K, P = cols.shape[1], cols.shape[3]
    k1, k2, m1, m2 = k[1], k[2], m[1], m[2]
    _, hits0, hits1, taps = _gather_tables(out, k, s, d, pb, m)
    hit_taps, rows = np.empty(k[0] * k1, np.int64), np.empty(k[0] * k1, np.int64)
    spare = np.empty(16, np.float32)
    flat_cols = cols.reshape(-1)
    flat_out = out.reshape(-1)
    per_class = (L2 + 1) // 2
    for item in range(start, stop):
        n, c = item % N, item // N
        at, first = (n * C + c) * L0 * L1 * L2, (c * K * N + n) * P
        for o0 in range(L0):
            for o1 in range(L1):
                nr = _row_hits(hits0, hits1, o0, o1, m1, m2, first, k2 * N * P, hit_taps, rows)
                for u0 in range(0, per_class, 8):
                    even, odd = vzero(), vzero()
                    for t2 in range(k2):
                        lo, hi = taps[t2, 2] - u0, taps[t2, 3] - u0
                        if hi <= 0 or lo >= 8:
                            continue
                        src = t2 * N * P + taps[t2, 1] + u0
                        if taps[t2, 0] == 0:  # the tap lands in class 0 (its offset in an accumulator row)
                            for q in range(nr):
                                even = vadd(even, vrange(vload(flat_cols, rows[q] + src), lo, hi))
                        else:
                            for q in range(nr):
                                odd = vadd(odd, vrange(vload(flat_cols, rows[q] + src), lo, hi))
                    o = at + 2 * u0
                    if 2 * u0 + 16 <= L2:
                        vstore(flat_out, o, vzip_lo(even, odd))
                        vstore(flat_out, o + 8, vzip_hi(even, odd))
                    else:  # the row's last outputs
                        vstore(spare, 0, vzip_lo(even, odd))
                        vstore(spare, 8, vzip_hi(even, odd))
                        for u in range(L2 - 2 * u0):
                            flat_out[o + u] = spare[u]
                at += L2


@numba.njit(cache=True, nogil=True)
def stamp_direct(start, stop, y, w, out, groups, k, s, d, pb):  # pragma: no cover - compiled
    """Kernel stamping without a GEMM, for groups with few input channels.

    y   : (N, C_in, m0, m1, m2)
    w   : (C_in, C_out/groups, k0*k1*k2)
    out : (N, C_out, L0, L1, L2), written completely

    Every plane ``(n, c_out)`` gathers ``w[c_in, c_out, t] * y[n, c_in]``
    stamped by every tap ``t`` for the input channels ``c_in`` of its group,
    row by row as :func:`overlap_add` does.
    """
    N, C, L0, L1, L2 = out.shape
    c_in, m0, m1, m2 = y.shape[1], y.shape[2], y.shape[3], y.shape[4]
    ci_g = c_in // groups
    co_g = C // groups
    K, k2 = w.shape[2], k[2]
    acc, hits0, hits1, taps = _gather_tables(out, k, s, d, pb, (m0, m1, m2))
    hit_taps, rows = np.empty(k[0] * k[1], np.int64), np.empty(k[0] * k[1], np.int64)
    flat_y = y.reshape(-1)
    flat_w = w.reshape(-1)
    flat_out = out.reshape(-1)
    for plane in range(start, stop):
        c = plane % C
        n = plane // C
        g = c // co_g
        co = c - g * co_g
        at = plane * L0 * L1 * L2
        for o0 in range(L0):
            for o1 in range(L1):
                acc[:] = 0
                for q in range(_row_hits(hits0, hits1, o0, o1, m1, m2, n * c_in * m0 * m1 * m2, 0, hit_taps, rows)):
                    tap = hit_taps[q] * k2
                    for ci in range(g * ci_g, (g + 1) * ci_g):
                        row = rows[q] + ci * m0 * m1 * m2
                        wrow = (ci * co_g + co) * K + tap
                        for t2 in range(k2):
                            a, src, wv = taps[t2, 0], row + taps[t2, 1], flat_w[wrow + t2]
                            for u in range(taps[t2, 2], taps[t2, 3]):
                                acc[np.uint64(a + u)] += wv * flat_y[np.uint64(src + u)]
                _store_classes(acc, flat_out, at, L2, s[2])
                at += L2


@numba.njit(cache=True, inline="always")
def _run(L, m, e, s):  # pragma: no cover - compiled
    """``[lo, hi)``: the outputs ``o < L`` whose input ``o*s + e`` lies in ``[0, m)``."""
    lo = min(L, max(0, (s - 1 - e) // s))
    hi = max(lo, min(L, (m - 1 - e) // s + 1)) if m - 1 - e >= 0 else lo
    return lo, hi

@numba.njit(cache=True, inline="always")
def _copy_run(out, at, length, lo, hi, x, src, step):  # pragma: no cover - compiled
    """``out[at + i] = x[src + i*step]`` for ``lo <= i < hi`` and 0 for the other ``i < length``."""
    for i in range(lo):
        out[np.uint64(at + i)] = 0
    if step == 1:  # contiguous: vectorised
        for i in range(lo, hi):
            out[np.uint64(at + i)] = x[np.uint64(src + i)]
    else:
        for i in range(lo, hi):
            out[np.uint64(at + i)] = x[np.uint64(src + i * step)]
    for i in range(hi, length):
        out[np.uint64(at + i)] = 0


@numba.njit(cache=True, nogil=True)
def im2col(start, stop, x, out, k, s, d, pb):  # pragma: no cover - compiled
    """The im2col matrix of up to 3 spatial axes; items are the rows ``(c, t, n)``.

    x   : (N, C, m0, m1, m2), unpadded
    out : (C, k0*k1*k2, N, L0, L1, L2), written completely:
          ``out[c, t, n, o] = x[n, c, o*s + t*d - pb]``, 0 outside ``x``

    Reading the unpadded input saves the padded copy; the zero borders are
    written as runs.
    """
    N, C, m0, m1, m2 = x.shape
    K = out.shape[1]
    L0, L1, L2 = out.shape[3], out.shape[4], out.shape[5]
    k1, k2 = k[1], k[2]
    s0, s1, s2 = s
    flat_x = x.reshape(-1)
    flat_out = out.reshape(-1)
    for item in range(start, stop):
        n = item % N
        t = (item // N) % K
        c = item // (N * K)
        t0, t1, t2 = t // (k1 * k2), (t // k2) % k1, t % k2
        e2 = t2 * d[2] - pb[2]
        lo2, hi2 = _run(L2, m2, e2, s2)
        at = item * L0 * L1 * L2
        for o0 in range(L0):
            i0 = o0 * s0 + t0 * d[0] - pb[0]
            for o1 in range(L1):
                i1 = o1 * s1 + t1 * d[1] - pb[1]
                if i0 < 0 or i0 >= m0 or i1 < 0 or i1 >= m1:
                    for o2 in range(L2):
                        flat_out[np.uint64(at + o2)] = 0
                else:
                    src = (((n * C + c) * m0 + i0) * m1 + i1) * m2 + e2
                    _copy_run(flat_out, at, L2, lo2, hi2, flat_x, src, s2)
                at += L2


@numba.njit(cache=True, nogil=True)
def correlate_direct(start, stop, x, w, out, groups, k, s, d, pb):  # pragma: no cover - compiled
    """Convolution without im2col, for groups with few output channels; items are the planes ``(n, co)``.

    x   : (N, C_in, m0, m1, m2), unpadded
    w   : (C_out, C_in/groups, k0*k1*k2)
    out : (N, C_out, L0, L1, L2), ``out[n, co, o] = sum_{ci, t} w[co, ci, t] * x[n, ci, o*s + t*d - pb]``

    Each output row is accumulated in a small buffer, one contiguous
    multiply-add per (input channel, tap).
    """
    N, C, L0, L1, L2 = out.shape
    c_in, m0, m1, m2 = x.shape[1], x.shape[2], x.shape[3], x.shape[4]
    ci_g = w.shape[1]
    co_g = C // groups
    K = w.shape[2]
    k0, k1, k2 = k
    s0, s1, s2 = s
    acc = np.empty(L2, out.dtype)
    runs = np.empty((k2, 2), np.int64)
    for t2 in range(k2):
        runs[t2, 0], runs[t2, 1] = _run(L2, m2, t2 * d[2] - pb[2], s2)
    flat_x = x.reshape(-1)
    flat_w = w.reshape(-1)
    flat_out = out.reshape(-1)
    for plane in range(start, stop):
        co = plane % C
        n = plane // C
        g = co // co_g
        at = plane * L0 * L1 * L2
        for o0 in range(L0):
            for o1 in range(L1):
                acc[:] = 0
                for cl in range(ci_g):
                    ci = g * ci_g + cl
                    for t0 in range(k0):
                        i0 = o0 * s0 + t0 * d[0] - pb[0]
                        if i0 < 0 or i0 >= m0:
                            continue
                        for t1 in range(k1):
                            i1 = o1 * s1 + t1 * d[1] - pb[1]
                            if i1 < 0 or i1 >= m1:
                                continue
                            row = (((n * c_in + ci) * m0 + i0) * m1 + i1) * m2
                            wrow = (co * ci_g + cl) * K + (t0 * k1 + t1) * k2
                            for t2 in range(k2):
                                e = t2 * d[2] - pb[2]
                                lo, hi = runs[t2, 0], runs[t2, 1]
                                wv = flat_w[wrow + t2]
                                src = row + e
                                if s2 == 1:  # contiguous: vectorised
                                    for o2 in range(lo, hi):
                                        acc[np.uint64(o2)] += wv * flat_x[np.uint64(src + o2)]
                                else:
                                    for o2 in range(lo, hi):
                                        acc[np.uint64(o2)] += wv * flat_x[np.uint64(src + o2 * s2)]
                for o2 in range(L2):
                    flat_out[np.uint64(at + o2)] = acc[np.uint64(o2)]
                at += L2

@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def weight_grad_direct(start, stop, x, gy, gw, groups, k, s, d, pb):  # pragma: no cover - compiled
    """Weight gradient of a convolution without im2col, for few output channels; items are ``(co, ci)`` pairs.

    x  : (N, C_in, m0, m1, m2), unpadded
    gy : (N, C_out, L0, L1, L2)
    gw : (C_out, C_in/groups, k0*k1*k2), ``gw[co, ci, t] = sum_{n, o} gy[n, co, o] * x[n, ci, o*s + t*d - pb]``

    Dot products of output-gradient rows with input rows (re-associated,
    so rounding differs from the GEMM's in the last bits).
    """
    N, C, L0, L1, L2 = gy.shape
    c_in, m0, m1, m2 = x.shape[1], x.shape[2], x.shape[3], x.shape[4]
    ci_g = gw.shape[1]
    co_g = C // groups
    k0, k1, k2 = k
    s0, s1, s2 = s
    flat_x = x.reshape(-1)
    flat_g = gy.reshape(-1)
    for item in range(start, stop):
        co = item // ci_g
        cl = item % ci_g
        ci = (co // co_g) * ci_g + cl
        for t0 in range(k0):
            for t1 in range(k1):
                for t2 in range(k2):
                    e = t2 * d[2] - pb[2]
                    lo, hi = _run(L2, m2, e, s2)
                    total = flat_g.dtype.type(0)
                    for n in range(N):
                        for o0 in range(L0):
                            i0 = o0 * s0 + t0 * d[0] - pb[0]
                            if i0 < 0 or i0 >= m0:
                                continue
                            for o1 in range(L1):
                                i1 = o1 * s1 + t1 * d[1] - pb[1]
                                if i1 < 0 or i1 >= m1:
                                    continue
                                src = (((n * c_in + ci) * m0 + i0) * m1 + i1) * m2 + e
                                grow = (((n * C + co) * L0 + o0) * L1 + o1) * L2
                                part = flat_g.dtype.type(0)
                                if s2 == 1:
                                    for o2 in range(lo, hi):
                                        part += flat_g[np.uint64(grow + o2)] * flat_x[np.uint64(src + o2)]
                                else:
                                    for o2 in range(lo, hi):
                                        part += flat_g[np.uint64(grow + o2)] * flat_x[np.uint64(src + o2 * s2)]
                                total += part
                    gw[co, cl, (t0 * k1 + t1) * k2 + t2] = total


@numba.njit(cache=True, nogil=True)
def pad_copy(start, stop, x, xp, pb, s2):  # pragma: no cover - compiled
    """Zero-padded (or cropped) copy of up to 3 axes, the last split by phase; items are the slabs ``(n, c, i0)``.

    x  : (N, C, m0, m1, m2)
    xp : (N, C, P0, P1, s2 * Q2), written completely:
         ``xp[n, c, i0, i1, r * Q2 + q] = x[n, c, i0 - pb0, i1 - pb1, q * s2 + r - pb2]``, 0 outside ``x``
         (for ``s2 = 1`` a plain padded copy).  A convolution with stride
         ``s2`` on the last axis then reads contiguous runs of a phase.
    """
    N, C, m0, m1, m2 = x.shape
    P0, P1, P2 = xp.shape[2], xp.shape[3], xp.shape[4]
    Q2 = P2 // s2
    fx, fp = x.reshape(-1), xp.reshape(-1)
    runs = np.empty((s2, 2), np.int64)  # phase r's entries q with 0 <= q*s2 + r - pb2 < m2
    for r in range(s2):
        runs[r, 0] = min(Q2, max(0, (pb[2] - r + s2 - 1) // s2))
        runs[r, 1] = max(runs[r, 0], min(Q2, (m2 + pb[2] - r + s2 - 1) // s2))
    for item in range(start, stop):
        i0 = item % P0
        plane = item // P0
        j0 = i0 - pb[0]
        at = item * P1 * P2
        for i1 in range(P1):
            j1 = i1 - pb[1]
            if j0 < 0 or j0 >= m0 or j1 < 0 or j1 >= m1:
                for i2 in range(P2):
                    fp[np.uint64(at + i2)] = 0
            else:
                row = ((plane * m0 + j0) * m1 + j1) * m2
                for r in range(s2):
                    _copy_run(fp, at + r * Q2, Q2, runs[r, 0], runs[r, 1], fx, row + r - pb[2], s2)
            at += P2


@numba.njit(cache=True, inline="always")
def _mac24(fx, fw, base, step, offsets, lo, hi, w, out, at, ostep, stride):  # pragma: no cover - compiled
    """The register block of the vector kernels: 4 channels x 3 vectors of 8 outputs.

    ``out[at + j*stride + v*ostep + u] = sum_e fw[w + 4 (e - lo) + j] * fx[base + v*step + offsets[e] + u]``
    over the entries ``e`` in ``[lo, hi)``, for channel ``j < 4``, vector
    ``v < 3`` and lane ``u < 8``: 12 accumulators in vector registers; a step
    loads 3 input vectors and 4 weights for 12 multiply-adds.  The vectors
    are 24 outputs of a row (``step = ostep = 8``) or, for narrow rows, the
    same columns of 3 rows.
    """
    a00, a01, a02, a10, a11, a12 = vzero(), vzero(), vzero(), vzero(), vzero(), vzero()
    a20, a21, a22, a30, a31, a32 = vzero(), vzero(), vzero(), vzero(), vzero(), vzero()
    for e in range(lo, hi):
        src = base + offsets[e]
        x0 = vload(fx, src)
        x1 = vload(fx, src + step)
        x2 = vload(fx, src + 2 * step)
        c = vsplat(fw[np.uint64(w)])
        a00, a01, a02 = vfma(x0, c, a00), vfma(x1, c, a01), vfma(x2, c, a02)
        c = vsplat(fw[np.uint64(w + 1)])
        a10, a11, a12 = vfma(x0, c, a10), vfma(x1, c, a11), vfma(x2, c, a12)
        c = vsplat(fw[np.uint64(w + 2)])
        a20, a21, a22 = vfma(x0, c, a20), vfma(x1, c, a21), vfma(x2, c, a22)
        c = vsplat(fw[np.uint64(w + 3)])
        a30, a31, a32 = vfma(x0, c, a30), vfma(x1, c, a31), vfma(x2, c, a32)
        w += 4
    vstore(out, at, a00), vstore(out, at + ostep, a01), vstore(out, at + 2 * ostep, a02)
    at += stride
    vstore(out, at, a10), vstore(out, at + ostep, a11), vstore(out, at + 2 * ostep, a12)
    at += stride
    vstore(out, at, a20), vstore(out, at + ostep, a21), vstore(out, at + 2 * ostep, a22)
    at += stride
    vstore(out, at, a30), vstore(out, at + ostep, a31), vstore(out, at + 2 * ostep, a32)


@numba.njit(cache=True, inline="always")
def _mac48(fx, fw, base, step, offsets, lo, hi, w, out, at, ostep, stride):  # pragma: no cover - compiled
    """:func:`_mac24` for 6 vectors, in 3 pairs: 24 accumulators, for 32 vector registers (AVX-512VL).

    Pair ``r < 3`` reads ``fx[base + r*step + offsets[e] + (0 or 8) + u]`` and is
    stored at ``out[at + r*ostep + (0 or 8) + u]``: 16 outputs of 3 rows, or
    with ``step = ostep = 16`` 48 outputs of one row.  A step loads 6 input
    vectors and 4 weights for 24 multiply-adds.
    """
    a00, a01, a02, a03, a04, a05 = vzero(), vzero(), vzero(), vzero(), vzero(), vzero()
    a10, a11, a12, a13, a14, a15 = vzero(), vzero(), vzero(), vzero(), vzero(), vzero()
    a20, a21, a22, a23, a24, a25 = vzero(), vzero(), vzero(), vzero(), vzero(), vzero()
    a30, a31, a32, a33, a34, a35 = vzero(), vzero(), vzero(), vzero(), vzero(), vzero()
    for e in range(lo, hi):
        src = base + offsets[e]
        x0, x1, x2 = vload(fx, src), vload(fx, src + 8), vload(fx, src + step)
        x3, x4, x5 = vload(fx, src + step + 8), vload(fx, src + 2 * step), vload(fx, src + 2 * step + 8)
        c = vsplat(fw[np.uint64(w)])
        a00, a01, a02 = vfma(x0, c, a00), vfma(x1, c, a01), vfma(x2, c, a02)
        a03, a04, a05 = vfma(x3, c, a03), vfma(x4, c, a04), vfma(x5, c, a05)
        c = vsplat(fw[np.uint64(w + 1)])
        a10, a11, a12 = vfma(x0, c, a10), vfma(x1, c, a11), vfma(x2, c, a12)
        a13, a14, a15 = vfma(x3, c, a13), vfma(x4, c, a14), vfma(x5, c, a15)
        c = vsplat(fw[np.uint64(w + 2)])
        a20, a21, a22 = vfma(x0, c, a20), vfma(x1, c, a21), vfma(x2, c, a22)
        a23, a24, a25 = vfma(x3, c, a23), vfma(x4, c, a24), vfma(x5, c, a25)
        c = vsplat(fw[np.uint64(w + 3)])
        a30, a31, a32 = vfma(x0, c, a30), vfma(x1, c, a31), vfma(x2, c, a32)
        a33, a34, a35 = vfma(x3, c, a33), vfma(x4, c, a34), vfma(x5, c, a35)
        w += 4
    o1, o2 = ostep, 2 * ostep
    vstore(out, at, a00), vstore(out, at + 8, a01), vstore(out, at + o1, a02)
    vstore(out, at + o1 + 8, a03), vstore(out, at + o2, a04), vstore(out, at + o2 + 8, a05)
    at += stride
    vstore(out, at, a10), vstore(out, at + 8, a11), vstore(out, at + o1, a12)
    vstore(out, at + o1 + 8, a13), vstore(out, at + o2, a14), vstore(out, at + o2 + 8, a15)
    at += stride
    vstore(out, at, a20), vstore(out, at + 8, a21), vstore(out, at + o1, a22)
    vstore(out, at + o1 + 8, a23), vstore(out, at + o2, a24), vstore(out, at + o2 + 8, a25)
    at += stride
    vstore(out, at, a30), vstore(out, at + 8, a31), vstore(out, at + o1, a32)
    vstore(out, at + o1 + 8, a33), vstore(out, at + o2, a34), vstore(out, at + o2 + 8, a35)


@numba.njit(cache=True, inline="always")
def _mac16(fx, fw, base, step, offsets, lo, hi, w, out, at, ostep, stride):  # pragma: no cover - compiled
    """:func:`_mac24` for 2 vectors: 8 accumulators."""
    a00, a01, a10, a11 = vzero(), vzero(), vzero(), vzero()
    a20, a21, a30, a31 = vzero(), vzero(), vzero(), vzero()
    for e in range(lo, hi):
        src = base + offsets[e]
        x0 = vload(fx, src)
        x1 = vload(fx, src + step)
        c = vsplat(fw[np.uint64(w)])
        a00, a01 = vfma(x0, c, a00), vfma(x1, c, a01)
        c = vsplat(fw[np.uint64(w + 1)])
        a10, a11 = vfma(x0, c, a10), vfma(x1, c, a11)
        c = vsplat(fw[np.uint64(w + 2)])
        a20, a21 = vfma(x0, c, a20), vfma(x1, c, a21)
        c = vsplat(fw[np.uint64(w + 3)])
        a30, a31 = vfma(x0, c, a30), vfma(x1, c, a31)
        w += 4
    vstore(out, at, a00), vstore(out, at + ostep, a01)
    at += stride
    vstore(out, at, a10), vstore(out, at + ostep, a11)
    at += stride
    vstore(out, at, a20), vstore(out, at + ostep, a21)
    at += stride
    vstore(out, at, a30), vstore(out, at + ostep, a31)


@numba.njit(cache=True, inline="always")
def _mac8(fx, fw, base, offsets, lo, hi, w, out, at, stride):  # pragma: no cover - compiled
    """:func:`_mac24` for 1 vector: 4 accumulators."""
    a0, a1, a2, a3 = vzero(), vzero(), vzero(), vzero()
    for e in range(lo, hi):
        x0 = vload(fx, base + offsets[e])
        a0 = vfma(x0, vsplat(fw[np.uint64(w)]), a0)
        a1 = vfma(x0, vsplat(fw[np.uint64(w + 1)]), a1)
        a2 = vfma(x0, vsplat(fw[np.uint64(w + 2)]), a2)
        a3 = vfma(x0, vsplat(fw[np.uint64(w + 3)]), a3)
        w += 4
    vstore(out, at, a0), vstore(out, at + stride, a1), vstore(out, at + 2 * stride, a2)
    vstore(out, at + 3 * stride, a3)


@numba.njit(cache=True, nogil=True)
def correlate_simd(start, stop, xp, wt, out, groups, s, offsets, wide):  # pragma: no cover - compiled
    """Direct float32 convolution in blocks of 4 channels x 24 (``wide``: 48) outputs.

    Items are rows ``(n, g, o0, o1)``.

    xp  : (N, C_in, P0, P1, P2) float32, the padded input, its last axis split by
          phase (:func:`pad_copy`)
    wt  : (B, R, 4), the weights of output-channel block ``b`` for the ``R =
          C_in/groups * k0*k1*k2`` (input channel, tap) pairs (``B / groups``
          blocks per group, channels ``4b .. 4b+3``, zero-padded)
    out : (N, 4B, L0, L1, L2w), ``L2w`` a multiple of 8 (columns past the true
          output width are computed from the padding and discarded by the caller):
          ``out[n, 4b + j, o] = sum_r wt[b, r, j] * xp.flat[at(n, g(b), o) + offsets[r]]``
    offsets : (R,) int64, where pair ``r`` reads, relative to the element of
          output ``o`` in the group's first input channel,
          ``at(n, g, o) = (((n C_in + g C_in/groups) P0 + o0 s0) P1 + o1 s1) P2 + o2``.
    wide : blocks of 48 outputs (24 accumulators, :func:`_mac48`) while they fit the row

    The 12 (or, in the last columns, 4) accumulators stay in vector
    registers through the whole reduction, one flat loop over the pairs; a
    step loads 3 input vectors and 4 weights for 12 multiply-adds.  All
    channel blocks of a group are computed for one stretch of outputs before
    the next, while the input it reads is in L1.
    """
    N, c_in, P0, P1, P2 = xp.shape
    B, R = wt.shape[0], wt.shape[1]
    s0, s1 = s[0], s[1]
    L0, L1, Lw = out.shape[2], out.shape[3], out.shape[4]
    nb = B // groups
    ci_g = c_in // groups
    fx, fw, fo = xp.reshape(-1), wt.reshape(-1), out.reshape(-1)
    plane = L0 * L1 * Lw
    for item in range(start, stop):
        o1 = item % L1
        o0 = (item // L1) % L0
        g = (item // (L1 * L0)) % groups
        n = item // (L1 * L0 * groups)
        base = (((n * c_in + g * ci_g) * P0 + o0 * s0) * P1 + o1 * s1) * P2
        w0 = 0
        while w0 < Lw:
            width = 48 if wide and w0 + 48 <= Lw else 24 if w0 + 24 <= Lw else 8
            for b in range(g * nb, (g + 1) * nb):
                o = (((n * B + b) * 4 * L0 + o0) * L1 + o1) * Lw + w0
                if width == 48:
                    _mac48(fx, fw, base + w0, 16, offsets, 0, R, b * R * 4, fo, o, 16, plane)
                elif width == 24:
                    _mac24(fx, fw, base + w0, 8, offsets, 0, R, b * R * 4, fo, o, 8, plane)
                else:
                    _mac8(fx, fw, base + w0, offsets, 0, R, b * R * 4, fo, o, plane)
            w0 += width


# The block buffer of conv_transpose_simd: per residue class along the last axis, 4 channels x 3 rows x 24 outputs.
_ROW = 24
_CHANNEL = 3 * _ROW
_CLASS = 4 * _CHANNEL


@numba.njit(cache=True, inline="always")
def _interleave_block(tb, at, fo, row, q, nq, L2, s2, classes, add, stream):  # pragma: no cover - compiled
    """Interleave a block's classes into an output row: ``fo[row + s2 (q + u) + r] = tb[at + r _CLASS + u]``.

    For ``u < nq`` and the classes ``r < classes``, where ``s2 (q + u) + r <
    L2``; with ``add``, added to the output.  Stride 2 with whole vectors zips
    pairs of vectors, each pair one cache line, which ``stream`` stores past
    the caches (:func:`~upconv.kernels.simd.vstream`); otherwise element by element.
    """
    if s2 == 2 and 2 * (q + nq) <= L2:
        for v in range(0, nq, 8):
            a, b = vload(tb, at + v), vload(tb, at + _CLASS + v)
            low, high, dst = vzip_lo(a, b), vzip_hi(a, b), row + 2 * (q + v)
            if add:
                low, high = vadd(low, vload(fo, dst)), vadd(high, vload(fo, dst + 8))
            if stream:
                vstream(fo, dst, low)
                vstream(fo, dst + 8, high)
            else:
                vstore(fo, dst, low)
                vstore(fo, dst + 8, high)
        return
    for u in range(min(nq, (L2 + s2 - 1) // s2 - q)):
        for r in range(min(classes, L2 - s2 * (q + u))):
            o = np.uint64(row + s2 * (q + u) + r)
            value = tb[np.uint64(at + r * _CLASS + u)]
            fo[o] = fo[o] + value if add else value


@numba.njit(cache=True, inline="always")
def _class_block(shared, src, step, count, lo_k, w, row, J, q, nq, add, stream):  # pragma: no cover - compiled
    """One register block of 4 channels for every residue class along the last axis, into the output.

    The block is ``nq`` outputs of each class: 48 or 24 of one row (6 or 3
    vectors along it), 16 of 3 rows or 8 of ``count`` rows (2 or 1 vectors
    per row; ``step`` the input's row length).  Each class's sum over its entries
    ``[lo_k, lo_k + chunk)`` (counted from its first) goes to ``tb``, then
    :func:`_interleave_block` writes (or with ``add`` adds) the ``J`` channels
    into the output rows ``row + c plane + j row_step``.  Unless they are
    streamed, the output lines are prefetched first: the multiply-adds hide
    the latency of fetching them.  ``shared``: what all blocks of a unit share.
    """
    fy, fw, fo, tb, offsets, starts, cls0, classes, chunk, plane, row_step, L2, s2 = shared
    rows = 1 if nq >= _ROW else count
    end = min(L2, s2 * (q + nq))
    for c in range(0 if stream else J):
        for j in range(rows):
            for o in range(s2 * q, end, 16):
                vprefetch_write(fo, row + c * plane + j * row_step + o)
    for r in range(classes):
        last = starts[cls0 + r + 1]
        lo = min(starts[cls0 + r] + lo_k, last)
        hi = min(lo + chunk, last)
        at = r * _CLASS
        if nq == 2 * _ROW:
            _mac48(fy, fw, src, 16, offsets, lo, hi, w + 4 * lo, tb, at, 16, _CHANNEL)
        elif nq == _ROW:
            _mac24(fy, fw, src, 8, offsets, lo, hi, w + 4 * lo, tb, at, 8, _CHANNEL)
        elif nq == 16:
            _mac48(fy, fw, src, step, offsets, lo, hi, w + 4 * lo, tb, at, _ROW, _CHANNEL)
        elif count == 3:
            _mac24(fy, fw, src, step, offsets, lo, hi, w + 4 * lo, tb, at, _ROW, _CHANNEL)
        elif count == 2:
            _mac16(fy, fw, src, step, offsets, lo, hi, w + 4 * lo, tb, at, _ROW, _CHANNEL)
        else:
            _mac8(fy, fw, src, offsets, lo, hi, w + 4 * lo, tb, at, _CHANNEL)
    for c in range(J):
        for j in range(rows):
            _interleave_block(tb, c * _CHANNEL + j * _ROW, fo, row + c * plane + j * row_step, q, nq, L2, s2,
                              classes, add, stream)


@numba.njit(cache=True, nogil=True)
def conv_transpose_simd(start, stop, y, fused, yp, margin, wt, out, groups, s, starts, offsets, rows, chunk,
                        wide, stream):  # pragma: no cover - compiled
    """Direct float32 transposed convolution in register blocks of 4 channels, all classes of a block together.

    Output ``o = q*s + r`` of residue class ``r`` (per axis) is a stride-1
    correlation of the input with the class's taps (the polyphase view):
    ``out[n, c, o] = sum_e wt[b, e, j] * yp.flat[at(n, g, q) + offsets[e]]`` over
    the entries ``e`` in ``[starts[cls], starts[cls + 1])`` of class
    ``cls = (r0 s1 + r1) s2 + r2``, for channel ``c = g C_out/groups + 4 b' + j``
    of block ``b = g B/groups + b'``.

    yp  : (N, C_in, P0, P1, P2) float32, the zero-padded input; ``at(n, g, q) =
          (((n C_in + g C_in/groups) P0 + q0) P1 + q1) P2 + q2``, offsets include the margins
    y   : (N, C_in, m0, m1, m2) float32, the input; with ``fused``, items are whole inputs ``(n, g)``,
          and each copies its part of ``yp`` itself (:func:`pad_copy`, ``margin`` zeros before) and
          computes it while it is in cache; otherwise ``yp`` is filled already
    wt  : (B, E, 4), the weights of every class's (input channel, tap) entries for
          output-channel block ``b`` (``B / groups`` blocks per group, zero-padded)
    out : (N, C_out, L0, L1, L2), written completely
    rows : (H, 2) int64, the output rows ``o1 = rows[h, 0] + j*s1``, ``j < rows[h, 1] <= 3``,
          of one class along axis 1 that an item computes together
    wide : whether 24 accumulators fit the registers (:func:`upconv.kernels.simd.wide_register_file`)
    stream : whether to store past the caches (stride 2 along the last axis, whose rows are whole
          cache lines: ``out`` 64-byte aligned, ``L2`` a multiple of 16), where a unit's sum takes one chunk

    Items are ``(n, g, o0, h)`` (with ``fused``, ``(n, g)``).  An item's rows
    are computed in blocks (:func:`_class_block`): 24 outputs of a row where
    every class has them, then 8 outputs of all the item's rows (``wide``:
    16 outputs of 3 rows where an item has 3, else 48 then 24 of a row); a block
    computes every class along the last axis into a small buffer and
    interleaves them straight into the output (stride 2: two zipped vectors
    make 16 outputs), so no output goes through memory twice.  A class's
    entries are summed in chunks of ``chunk`` that keep the input they read in
    cache across the channel blocks; later chunks add to the output.
    """
    N, c_in, P0, P1, P2 = yp.shape
    B, E = wt.shape[0], wt.shape[1]
    C, L0, L1, L2 = out.shape[1], out.shape[2], out.shape[3], out.shape[4]
    s0, s1, s2 = s
    nb = B // groups
    ci_g, co_g = c_in // groups, C // groups
    H = rows.shape[0]
    classes = min(s2, L2)
    tb = np.empty(classes * _CLASS, np.float32)
    fy, fw, fo = yp.reshape(-1), wt.reshape(-1), out.reshape(-1)
    plane = L0 * L1 * L2
    across = L2 // s2 // _ROW * _ROW  # blocks of 24 along a row, while every class has them
    Qw = ((L2 + s2 - 1) // s2 + 7) // 8 * 8  # then blocks of 8 down the rows, the last one partly outside
    per_item = L0 * H if fused else 1  # fused: an item is a whole input (n, g), all its rows
    for item in range(start, stop):
        if fused:  # c_in = groups * ci_g: the item's channels start at (n * groups + g) * ci_g
            pad_copy(item * ci_g * P0, (item + 1) * ci_g * P0, y, yp, margin, 1)
        for unit in range(item * per_item, (item + 1) * per_item):
            h = unit % H
            o0 = (unit // H) % L0
            g = (unit // (H * L0)) % groups
            n = unit // (H * L0 * groups)
            o1, count = rows[h, 0], rows[h, 1]
            base = (((n * c_in + g * ci_g) * P0 + o0 // s0) * P1 + o1 // s1) * P2
            cls0 = ((o0 % s0) * s1 + o1 % s1) * s2
            chunks = 1
            for r in range(classes):
                chunks = max(chunks, (starts[cls0 + r + 1] - starts[cls0 + r] + chunk - 1) // chunk)
            row = (((n * C + g * co_g) * L0 + o0) * L1 + o1) * L2
            streamed = stream and chunks == 1  # (later chunks read the output back)
            down = L2 // s2 // 16 * 16 if wide and count == 3 else 0  # blocks of 16 down 3 rows
            shared = (fy, fw, fo, tb, offsets, starts, cls0, classes, chunk, plane, s1 * L2, L2, s2)
            w0 = g * nb * E * 4  # the weights of the group's first channel block
            for k in range(chunks):  # (a class that no tap reaches: zeros)
                for q in range(0, down, 16):
                    for bl in range(nb):
                        _class_block(shared, base + q, P2, count, k * chunk, w0 + bl * E * 4, row + 4 * bl * plane,
                                     min(4, co_g - 4 * bl), q, 16, k > 0, streamed)
                for j in range(0 if down else count):
                    q = 0
                    while q < across:  # wide: blocks of 48 first
                        nq = 2 * _ROW if wide and q + 2 * _ROW <= L2 // s2 else _ROW
                        for bl in range(nb):
                            _class_block(shared, base + j * P2 + q, 8, 1, k * chunk, w0 + bl * E * 4,
                                         row + 4 * bl * plane + j * s1 * L2, min(4, co_g - 4 * bl), q, nq, k > 0,
                                         streamed)
                        q += nq
                for q in range(down if down else across, Qw, 8):
                    for bl in range(nb):
                        _class_block(shared, base + q, P2, count, k * chunk, w0 + bl * E * 4, row + 4 * bl * plane,
                                     min(4, co_g - 4 * bl), q, 8, k > 0, streamed)
    if stream:
        vfence()  # the streamed stores are visible before the caller goes on


@numba.njit(cache=True, nogil=True)
def pack_weights(start, stop, w, source, wt):  # pragma: no cover - compiled
    """The weights of the vector kernels, blocks of 4 channels side by side; items are the blocks ``b``.

    w  : (C_in, C_out/groups, K), a transposed convolution's weight with its taps flattened
    source : (E, 2) int64, the input channel ``ci`` (of a group) and tap ``t`` of entry ``e``
    wt : (groups * nb, E, 4), ``wt[b, e, j] = w[g C_in/groups + ci, 4 (b - g nb) + j, t]``
         for ``b`` in group ``g`` (``nb`` blocks each), 0 past ``C_out/groups``

    Written in order (reading a block's weights from cache).
    """
    co_g, K = w.shape[1], w.shape[2]
    nb, E = (co_g + 3) // 4, source.shape[0]
    ci_g = w.shape[0] // (wt.shape[0] // nb)
    fw, ft = w.reshape(-1), wt.reshape(-1)
    for b in range(start, stop):
        g, c0 = b // nb, 4 * (b % nb)
        J = min(4, co_g - c0)
        first = (g * ci_g * co_g + c0) * K
        for e in range(E):
            at, to = first + source[e, 0] * co_g * K + source[e, 1], (b * E + e) * 4
            if J == 4:
                ft[to], ft[to + 1], ft[to + 2], ft[to + 3] = fw[at], fw[at + K], fw[at + 2 * K], fw[at + 3 * K]
            else:
                for j in range(4):
                    ft[to + j] = fw[at + j * K] if j < J else 0.0


@numba.njit(cache=True, nogil=True)
def weight_grad_simd(start, stop, xp, gy, gw, groups, s, d, taps, L2):  # pragma: no cover - compiled
    """Float32 weight gradient in register blocks of 4 output channels x 3 taps; items are ``(b, ci)``.

    xp : (N, C_in, P0, P1, P2) float32, the padded input split by phase, as :func:`correlate_simd`
    taps : (k2w,) int64, the offsets of the last axis' taps in a row, as :func:`correlate_simd`
    gy : (N, 4B, L0, L1, L2w) the output gradient, zero in the padded
         channels and in the columns from ``L2`` on (``L2w`` a multiple of 8)
    gw : (B, 4, C_in/groups, k0, k1, k2w), ``k2w`` a multiple of 3 (taps past
         ``k2`` are discarded by the caller):
         ``gw[b, j, ci, t] = sum_{n, o} gy[n, 4b + j, o] * xp[n, g(b) C_in/groups + ci, o*s + t*d]``

    The output positions are taken in tiles (the rows of one ``(n, o0)``),
    so that the block's gradient rows stay in L1 while every tap of the
    input channel is computed; each of the 12 accumulators sums one
    weight's products over the tile in its 8 lanes (re-associated: rounding
    differs from the GEMM's in the last bits).  The input lanes past ``L2``
    are masked, so infinities there cannot meet the zero gradient.
    """
    N, c_in, P0, P1, P2 = xp.shape
    L0, L1, Lw = gy.shape[2], gy.shape[3], gy.shape[4]
    B, ci_g, k0, k1, k2w = gw.shape[0], gw.shape[2], gw.shape[3], gw.shape[4], gw.shape[5]
    s0, s1 = s[0], s[1]
    d0, d1 = d[0], d[1]
    nb = B // groups
    fx, fg = xp.reshape(-1), gy.reshape(-1)
    plane = L0 * L1 * Lw
    full = L2 - L2 % 8
    for item in range(start, stop):
        cl = item % ci_g
        b = item // ci_g
        ci = (b // nb) * ci_g + cl
        gw[b, :, cl] = 0
        for n in range(N):
            for o0 in range(L0):  # a tile: the block's gradient rows stay in L1 for all taps
                gt = ((n * B + b) * 4 * L0 + o0) * L1 * Lw
                for t0 in range(k0):
                    for t1 in range(k1):
                        r0 = ((n * c_in + ci) * P0 + o0 * s0 + t0 * d0) * P1 + t1 * d1
                        for t2 in range(0, k2w, 3):
                            e0, e1, e2 = taps[t2], taps[t2 + 1], taps[t2 + 2]
                            a00, a01, a02, a10, a11, a12 = vzero(), vzero(), vzero(), vzero(), vzero(), vzero()
                            a20, a21, a22, a30, a31, a32 = vzero(), vzero(), vzero(), vzero(), vzero(), vzero()
                            for o1 in range(L1):
                                src = (r0 + o1 * s1) * P2
                                gr = gt + o1 * Lw
                                w = 0
                                while w < Lw:
                                    x0 = vload(fx, src + e0 + w)
                                    x1 = vload(fx, src + e1 + w)
                                    x2 = vload(fx, src + e2 + w)
                                    if w >= full:
                                        x0, x1, x2 = vhead(x0, L2 - w), vhead(x1, L2 - w), vhead(x2, L2 - w)
                                    g = vload(fg, gr + w)
                                    a00, a01, a02 = vfma(g, x0, a00), vfma(g, x1, a01), vfma(g, x2, a02)
                                    g = vload(fg, gr + plane + w)
                                    a10, a11, a12 = vfma(g, x0, a10), vfma(g, x1, a11), vfma(g, x2, a12)
                                    g = vload(fg, gr + 2 * plane + w)
                                    a20, a21, a22 = vfma(g, x0, a20), vfma(g, x1, a21), vfma(g, x2, a22)
                                    g = vload(fg, gr + 3 * plane + w)
                                    a30, a31, a32 = vfma(g, x0, a30), vfma(g, x1, a31), vfma(g, x2, a32)
                                    w += 8
                            g0, g1 = gw[b, 0, cl, t0, t1], gw[b, 1, cl, t0, t1]
                            g2, g3 = gw[b, 2, cl, t0, t1], gw[b, 3, cl, t0, t1]
                            g0[t2] += vsum(a00)
                            g0[t2 + 1] += vsum(a01)
                            g0[t2 + 2] += vsum(a02)
                            g1[t2] += vsum(a10)
                            g1[t2 + 1] += vsum(a11)
                            g1[t2 + 2] += vsum(a12)
                            g2[t2] += vsum(a20)
                            g2[t2 + 1] += vsum(a21)
                            g2[t2 + 2] += vsum(a22)
                            g3[t2] += vsum(a30)
                            g3[t2 + 1] += vsum(a31)
                            g3[t2 + 2] += vsum(a32)


@numba.njit(cache=True, nogil=True)
def interleave_phases(start, stop, phases, out, pb):  # pragma: no cover - compiled
    """Interleave the residue classes of the sub-pixel form into the cropped output.

    phases : (G, s0, s1, s2, C/G, N, m0, m1, m2): class ``r`` of un-cropped position ``j*s + r``
    out    : (N, C, L0, L1, L2), ``out[o] = full[o + pb]``, zero beyond the un-cropped result

    Items are the output planes ``(n, c)``.
    """
    N, C, L0, L1, L2 = out.shape
    s0, s1, s2 = phases.shape[1], phases.shape[2], phases.shape[3]
    co_g = phases.shape[4]
    m0, m1, m2 = phases.shape[6], phases.shape[7], phases.shape[8]
    # per class r2 of the last axis: first output, its source index, how many outputs have a source
    runs = np.empty((s2, 3), np.int64)
    for r2 in range(s2):
        first = (r2 - pb[2]) % s2
        j2 = (first + pb[2]) // s2
        runs[r2, 0], runs[r2, 1] = first, j2
        runs[r2, 2] = max(0, min((L2 - first + s2 - 1) // s2, m2 - j2))
    flat_p = phases.reshape(-1)
    flat_out = out.reshape(-1)
    for plane in range(start, stop):
        c = plane % C
        n = plane // C
        g = c // co_g
        co = c - g * co_g
        at = plane * L0 * L1 * L2
        for o0 in range(L0):
            f0 = o0 + pb[0]
            j0 = f0 // s0
            for o1 in range(L1):
                f1 = o1 + pb[1]
                j1 = f1 // s1
                if j0 >= m0 or j1 >= m1:
                    for o2 in range(L2):
                        flat_out[np.uint64(at + o2)] = 0
                else:
                    for o2 in range(L2):
                        flat_out[np.uint64(at + o2)] = 0
                    for r2 in range(s2):
                        first, j2, count = runs[r2, 0], runs[r2, 1], runs[r2, 2]
                        cls = ((g * s0 + f0 % s0) * s1 + f1 % s1) * s2 + r2
                        src = (((cls * co_g + co) * N + n) * m0 + j0) * m1 * m2 + j1 * m2 + j2
                        for u in range(count):
                            flat_out[np.uint64(at + first + u * s2)] = flat_p[np.uint64(src + u)]
                at += L2


def as3(values, fill):
    """Left-pad a per-axis tuple to 3 entries (extra leading axes are trivial)."""
    return (fill,) * (3 - len(values)) + tuple(int(v) for v in values)
