"""Compiled kernels (numba).  Imported lazily: ``import upconv`` never imports numba.

Kernels are compiled on first use and cached on disk (``cache=True``), so
only the very first call in a fresh environment pays the compilation.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(parallel=True, cache=True, nogil=True)
def overlap_add(cols, out, k, s, d, pb, m):  # pragma: no cover - compiled
    """Kernel stamping for up to 3 spatial axes, parallel over output planes.

    cols : (C, k0*k1*k2, N, m0*m1*m2) products of input pixels and kernel taps
    out  : (N, C, L0, L1, L2), written completely (it need not be zeroed)
    k, s, d, pb, m : int64[3] kernel size, stride, dilation, begin padding, input size

    Input ``j`` stamped by tap ``t`` lands at ``j*s + t*d - pb``.  Each plane
    ``(n, c)`` belongs to one thread, which streams through its taps in order
    and adds them into the (cache-resident) plane.
    """
    N, C, L0, L1, L2 = out.shape
    for r in numba.prange(N * C):
        n = r // C
        c = r % C
        plane = out[n, c]
        plane[:] = 0
        for t0 in range(k[0]):
            off0 = t0 * d[0] - pb[0]
            lo0 = max(0, -(off0 // s[0]))
            hi0 = min(m[0], (L0 - 1 - off0) // s[0] + 1)
            for t1 in range(k[1]):
                off1 = t1 * d[1] - pb[1]
                lo1 = max(0, -(off1 // s[1]))
                hi1 = min(m[1], (L1 - 1 - off1) // s[1] + 1)
                for t2 in range(k[2]):
                    off2 = t2 * d[2] - pb[2]
                    lo2 = max(0, -(off2 // s[2]))
                    hi2 = min(m[2], (L2 - 1 - off2) // s[2] + 1)
                    src = cols[c, (t0 * k[1] + t1) * k[2] + t2, n]
                    for j0 in range(lo0, hi0):
                        for j1 in range(lo1, hi1):
                            row = plane[j0 * s[0] + off0, j1 * s[1] + off1]
                            base = (j0 * m[1] + j1) * m[2]
                            for j2 in range(lo2, hi2):
                                row[j2 * s[2] + off2] += src[base + j2]


def as3(values, fill):
    """Left-pad a per-axis tuple to 3 entries (extra leading axes are trivial)."""
    return np.array((fill,) * (3 - len(values)) + tuple(values), dtype=np.int64)
