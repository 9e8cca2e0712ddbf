"""Compiled kernels (numba).  Imported lazily: ``import upconv`` never imports numba.

Kernels are compiled on first use and cached on disk (``cache=True``), so
only the very first call in a fresh environment pays the compilation.  Each
kernel is serial and releases the GIL; it works on the items ``[start,
stop)`` (output planes or rows) and :func:`upconv._parallel.parallel_for`
runs slices of them on several threads.
Geometry is passed as tuples of ints (not arrays) so that the compiler keeps
it in registers: an int64 array could alias the output as far as LLVM knows,
which would stop it from hoisting loads out of the inner loops.
"""

from __future__ import annotations

import numba


@numba.njit(cache=True, inline="always")
def _tap_range(t, k_d, pb, s, m, length):  # pragma: no cover - compiled
    """Offset and input range ``[lo, hi)`` of tap ``t`` whose stamps land inside ``[0, length)``."""
    off = t * k_d - pb
    lo = max(0, -(off // s))
    hi = min(m, (length - 1 - off) // s + 1)
    return off, lo, hi


@numba.njit(cache=True, nogil=True)
def overlap_add(start, stop, cols, out, k, s, d, pb, m):  # pragma: no cover - compiled
    """Kernel stamping for up to 3 spatial axes, parallel over output planes.

    cols : (C, k0*k1*k2, N, m0*m1*m2) products of input pixels and kernel taps
    out  : (N, C, L0, L1, L2), written completely (it need not be zeroed)
    k, s, d, pb, m : 3-tuples: kernel size, stride, dilation, begin padding, input size

    Input ``j`` stamped by tap ``t`` lands at ``j*s + t*d - pb``.  Items are
    the planes ``(n, c)``; each streams through its taps in order and adds
    them into the (cache-resident) plane.
    """
    N, C, L0, L1, L2 = out.shape
    k0, k1, k2 = k
    s0, s1, s2 = s
    m1, m2 = m[1], m[2]
    for r in range(start, stop):
        n = r // C
        c = r % C
        plane = out[n, c]
        plane[:] = 0
        for t0 in range(k0):
            off0, lo0, hi0 = _tap_range(t0, d[0], pb[0], s0, m[0], L0)
            for t1 in range(k1):
                off1, lo1, hi1 = _tap_range(t1, d[1], pb[1], s1, m1, L1)
                for t2 in range(k2):
                    off2, lo2, hi2 = _tap_range(t2, d[2], pb[2], s2, m2, L2)
                    src = cols[c, (t0 * k1 + t1) * k2 + t2, n]
                    for j0 in range(lo0, hi0):
                        for j1 in range(lo1, hi1):
                            row = plane[j0 * s0 + off0, j1 * s1 + off1]
                            base = (j0 * m1 + j1) * m2
                            for j2 in range(lo2, hi2):
                                row[j2 * s2 + off2] += src[base + j2]


@numba.njit(cache=True, nogil=True)
def stamp_direct(start, stop, y, w, out, groups, k, s, d, pb):  # pragma: no cover - compiled
    """Kernel stamping without a GEMM, for groups with few input channels.

    y   : (N, C_in, m0, m1, m2)
    w   : (C_in, C_out/groups, k0*k1*k2)
    out : (N, C_out, L0, L1, L2), written completely

    Every plane ``(n, c_out)`` adds ``w[c_in, c_out, t] * y[n, c_in]`` stamped
    by every tap ``t`` for the input channels ``c_in`` of its group.
    """
    N, C, L0, L1, L2 = out.shape
    m0, m1, m2 = y.shape[2], y.shape[3], y.shape[4]
    ci_g = y.shape[1] // groups
    co_g = C // groups
    k0, k1, k2 = k
    s0, s1, s2 = s
    for r in range(start, stop):
        n = r // C
        c = r % C
        g = c // co_g
        plane = out[n, c]
        plane[:] = 0
        for ci in range(g * ci_g, (g + 1) * ci_g):
            src = y[n, ci]
            for t0 in range(k0):
                off0, lo0, hi0 = _tap_range(t0, d[0], pb[0], s0, m0, L0)
                for t1 in range(k1):
                    off1, lo1, hi1 = _tap_range(t1, d[1], pb[1], s1, m1, L1)
                    for t2 in range(k2):
                        off2, lo2, hi2 = _tap_range(t2, d[2], pb[2], s2, m2, L2)
                        wv = w[ci, c - g * co_g, (t0 * k1 + t1) * k2 + t2]
                        for j0 in range(lo0, hi0):
                            for j1 in range(lo1, hi1):
                                row = plane[j0 * s0 + off0, j1 * s1 + off1]
                                srow = src[j0, j1]
                                for j2 in range(lo2, hi2):
                                    row[j2 * s2 + off2] += wv * srow[j2]


@numba.njit(cache=True, nogil=True)
def interleave_phases(start, stop, phases, out, pb):  # pragma: no cover - compiled
    """Interleave the residue classes of the sub-pixel form into the cropped output.

    phases : (G, s0, s1, s2, C/G, N, m0, m1, m2): class ``r`` of un-cropped position ``j*s + r``
    out    : (N, C, L0, L1, L2), ``out[o] = full[o + pb]``, zero beyond the un-cropped result

    Items are the output rows ``(n, c, o0, o1)``.
    """
    N, C, L0, L1, L2 = out.shape
    s0, s1, s2 = phases.shape[1], phases.shape[2], phases.shape[3]
    co_g = phases.shape[4]
    m0, m1, m2 = phases.shape[6], phases.shape[7], phases.shape[8]
    for row in range(start, stop):
        o1 = row % L1
        q = row // L1
        o0 = q % L0
        q //= L0
        c = q % C
        n = q // C
        g = c // co_g
        co = c - g * co_g
        dst = out[n, c, o0, o1]
        f0 = o0 + pb[0]
        f1 = o1 + pb[1]
        j0 = f0 // s0
        j1 = f1 // s1
        if j0 >= m0 or j1 >= m1:
            dst[:] = 0
            continue
        for r2 in range(s2):
            first = (r2 - pb[2]) % s2
            src = phases[g, f0 % s0, f1 % s1, r2, co, n, j0, j1]
            j2 = (first + pb[2]) // s2
            for o2 in range(first, L2, s2):
                dst[o2] = src[j2] if j2 < m2 else 0
                j2 += 1


def as3(values, fill):
    """Left-pad a per-axis tuple to 3 entries (extra leading axes are trivial)."""
    return (fill,) * (3 - len(values)) + tuple(int(v) for v in values)
