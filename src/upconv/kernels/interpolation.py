"""Compiled kernels of the interpolation engine (numba).

Imported lazily by :func:`upconv.ops.resampling.apply`: ``import upconv`` never
imports numba.  Kernels are compiled on first use and cached on disk
(``cache=True``).  The public kernels are serial and release the GIL; each
works on the items ``[start, stop)`` (rows, lines or blocks of rows) and
:func:`upconv.kernels.parallel.parallel_for` runs slices of them on several threads.

Every kernel computes ``out[o] = sum_t w[t, o] * x[idx[t, o]]`` along one
axis, summing taps in order (``t = 0`` first) in the dtype of ``out``
(the dtype of ``x`` and ``w``); no fast-math, so results are reproducible
and the fused kernel equals the two single-axis passes bit for bit.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def _fma(typingctx, a, b, c):  # pragma: no cover - compiled
    """``a*b + c`` with one rounding (LLVM's ``llvm.fma``; a hardware FMA on x86-64 with FMA3)."""
    if not (isinstance(a, numba.types.Float) and a == b == c):
        return None

    def codegen(context, builder, signature, args):
        ty = args[0].type
        name = "llvm.fma.f32" if ty == ir.FloatType() else "llvm.fma.f64"
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ty, [ty] * 3), name)
        return builder.call(fn, args)

    return a(a, b, c), codegen


@numba.njit(cache=True, nogil=True)
def _pairwise_block(p, start, n):  # pragma: no cover - compiled
    """numpy's ``pairwise_sum`` for ``n <= 128``: 8 running sums, then a fixed tree."""
    if n < 8:
        res = p[start]
        for i in range(start + 1, start + n):
            res += p[i]
        return res
    r0, r1, r2, r3 = p[start], p[start + 1], p[start + 2], p[start + 3]
    r4, r5, r6, r7 = p[start + 4], p[start + 5], p[start + 6], p[start + 7]
    i = 8
    while i < n - (n % 8):
        k = start + i
        r0 += p[k]
        r1 += p[k + 1]
        r2 += p[k + 2]
        r3 += p[k + 3]
        r4 += p[k + 4]
        r5 += p[k + 5]
        r6 += p[k + 6]
        r7 += p[k + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += p[start + i]
        i += 1
    return res


@numba.njit(cache=True, nogil=True)
def _pairwise(p, n):  # pragma: no cover - compiled
    """numpy's ``pairwise_sum`` of ``p[:n]`` (``ndarray.sum`` along a contiguous axis).

    Above 128 numpy recurses on halves cut at a multiple of 8; here the
    recursion runs on an explicit stack (numba's on-disk cache and recursive
    functions do not mix)."""
    if n <= 128:
        return _pairwise_block(p, 0, n)
    f_start = np.empty(128, np.int64)
    f_n = np.empty(128, np.int64)
    f_phase = np.empty(128, np.int64)
    vals = np.empty(128, dtype=p.dtype)
    top = 0
    nv = 0
    f_start[0], f_n[0], f_phase[0] = 0, n, 0
    top = 1
    while top > 0:
        top -= 1
        s, m, ph = f_start[top], f_n[top], f_phase[top]
        if m <= 128:
            vals[nv] = _pairwise_block(p, s, m)
            nv += 1
            continue
        if ph == 1:  # both halves done: left + right
            vals[nv - 2] = vals[nv - 2] + vals[nv - 1]
            nv -= 1
            continue
        half = m // 2
        half -= half % 8
        f_start[top], f_n[top], f_phase[top] = s, m, 1
        f_start[top + 1], f_n[top + 1], f_phase[top + 1] = s + half, m - half, 0
        f_start[top + 2], f_n[top + 2], f_phase[top + 2] = s, half, 0
        top += 3
    return vals[0]


@numba.njit(cache=True, nogil=True, inline="always")
def _resample_row(src, idx, w, dst, order):  # pragma: no cover - compiled
    """``dst[i] = sum_t w[t, i] * src[idx[t, i]]`` for one contiguous row.

    ``order`` 0: ``((w0*x0 + w1*x1) + w2*x2) + ...``, every operation
    rounded; 1: torch's compiled order ``fma(w0, x0, w1*x1)``, then
    ``fma(wt, xt, acc)``; 2: numpy's pairwise sum of the rounded products
    (``ndarray.sum`` over a contiguous axis; equals order 0 below 8 taps).
    """
    T, M = idx.shape
    if order == 1 and T > 1:
        i0, w0, i1, w1 = idx[0], w[0], idx[1], w[1]
        for i in range(M):
            dst[i] = _fma(w0[i], src[i0[i]], w1[i] * src[i1[i]])
        for t in range(2, T):
            it = idx[t]
            wt = w[t]
            for i in range(M):
                dst[i] = _fma(wt[i], src[it[i]], dst[i])
        return
    if order == 2 and T >= 8:
        prod = np.empty(T, dtype=dst.dtype)
        for i in range(M):
            for t in range(T):
                prod[t] = w[t, i] * src[idx[t, i]]
            dst[i] = _pairwise(prod, T)
        return
    i0 = idx[0]
    w0 = w[0]
    for i in range(M):
        dst[i] = w0[i] * src[i0[i]]
    for t in range(1, T):
        it = idx[t]
        wt = w[t]
        for i in range(M):
            dst[i] += wt[i] * src[it[i]]


@numba.njit(cache=True, nogil=True, inline="always")
def _combine_lines(lines, rows, lo, w, j, o, order):  # pragma: no cover - compiled
    """``o[:] = sum_t w[t, j] * lines[rows[t, j] - lo]``: whole lines (contiguous, vectorised).

    Taps are summed in order, with torch's multiply-adds when ``order == 1``,
    or by numpy's pairwise sum when ``order == 2``.
    """
    T = rows.shape[0]
    B = o.shape[0]
    if order == 2 and T >= 8:
        prod = np.empty(T, dtype=o.dtype)
        for b in range(B):
            for t in range(T):
                prod[t] = w[t, j] * lines[rows[t, j] - lo, b]
            o[b] = _pairwise(prod, T)
        return
    if order == 1 and T > 1:
        s0 = lines[rows[0, j] - lo]
        s1 = lines[rows[1, j] - lo]
        w0 = w[0, j]
        w1 = w[1, j]
        for b in range(B):
            o[b] = _fma(w0, s0[b], w1 * s1[b])
        for t in range(2, T):
            s = lines[rows[t, j] - lo]
            wt = w[t, j]
            for b in range(B):
                o[b] = _fma(wt, s[b], o[b])
        return
    s = lines[rows[0, j] - lo]
    wt = w[0, j]
    for b in range(B):
        o[b] = wt * s[b]
    for t in range(1, T):
        s = lines[rows[t, j] - lo]
        wt = w[t, j]
        for b in range(B):
            o[b] += wt * s[b]


@numba.njit(cache=True, nogil=True)
def along_rows(start, stop, x, idx, w, out, order):  # pragma: no cover - compiled
    """Resample the last axis: ``x (R, L) -> out (R, M)``; items are the rows ``r``."""
    for r in range(start, stop):
        _resample_row(x[r], idx, w, out[r], order)


@numba.njit(cache=True, nogil=True)
def along_axis(start, stop, x, idx, w, out, order):  # pragma: no cover - compiled
    """Resample the middle axis: ``x (A, L, B) -> out (A, M, B)``.

    Each output line ``out[a, j, :]`` is a weighted sum of whole input lines
    (contiguous, vectorised); items are the lines ``q = a*M + j``.
    """
    M = idx.shape[1]
    for q in range(start, stop):
        a = q // M
        j = q - a * M
        _combine_lines(x[a], idx, 0, w, j, out[a, j], order)


@numba.njit(cache=True, nogil=True)
def fused_last_two(start, stop, x, ih, wh, iw, ww, out, block, order):  # pragma: no cover - compiled
    """Resample the last axis, then the second last: ``x (P, H, W) -> out (P, Ho, Wo)``.

    Work items are (plane, block of ``block`` output rows), ``q = p*nb + b``
    with ``nb = ceil(Ho / block)`` blocks per plane.  An item first
    resamples, along the last axis, every input row its output rows read
    (into a small buffer that stays in cache), then combines those rows
    along the second last axis.  Same arithmetic, in the same order, as
    ``along_rows`` followed by ``along_axis``.
    """
    H = x.shape[1]
    Th, Ho = ih.shape
    Wo = out.shape[2]
    nb = (Ho + block - 1) // block
    for q in range(start, stop):
        p = q // nb
        j0 = (q - p * nb) * block
        j1 = min(j0 + block, Ho)
        lo = H
        hi = -1
        for t in range(Th):
            for j in range(j0, j1):
                r = ih[t, j]
                if r < lo:
                    lo = r
                if r > hi:
                    hi = r
        need = np.zeros(hi - lo + 1, dtype=np.bool_)
        for t in range(Th):
            for j in range(j0, j1):
                need[ih[t, j] - lo] = True
        tmp = np.empty((hi - lo + 1, Wo), dtype=out.dtype)
        for r in range(lo, hi + 1):
            if need[r - lo]:
                _resample_row(x[p, r], iw, ww, tmp[r - lo], order)
        for j in range(j0, j1):
            _combine_lines(tmp, ih, lo, wh, j, out[p, j], order)
