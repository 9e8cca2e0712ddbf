"""Compiled kernels of max pooling and max unpooling (numba).

Imported lazily by :mod:`upconv.ops.pooling`: ``import upconv`` never
imports numba.  Kernels are compiled on first use and cached on disk
(``cache=True``).  Each is serial and releases the GIL; it works on the
planes ``[start, stop)`` of ``(planes, flat plane)`` arrays and
:func:`upconv.kernels.parallel.parallel_for` runs slices of them on several
threads.  The N-d window geometry arrives as flat offsets, so one kernel
serves every number of spatial axes.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def max_pool_planes(start, stop, xf, L, row_pad, row_idx, first_idx, W, s_last, tap_pad, tap_idx, out, idx_out,
                    with_idx):  # pragma: no cover - compiled
    """Window maxima (and their input indices) of the padded planes ``[start, stop)`` of ``xf``.

    ``xf``: ``P`` padded planes of ``L`` elements, flat; ``out``, ``idx_out``:
    ``(P, Q)`` flat, ``Q = len(row_pad) * W``.  Output row ``jo`` (all axes
    but the last) and last-axis position ``o`` read the window at
    ``row_pad[jo] + o*s_last`` (``+ tap_pad[t]`` per tap) in the padded
    plane; the input index of tap ``t`` is ``row_idx[jo] + o*s_last +
    tap_idx[t]``.  Taps outside, rows of ``W`` inside: the inner loop is
    affine and branch-free.  torch's scan: strict ``>`` keeps the first
    maximum, any NaN replaces (the last NaN wins), the padding (-inf) never
    wins, and an all -inf window reports its first real element
    (``first_idx``).  The scan reads a unit-stride row (strided taps are
    gathered into ``tmp`` first) with unsigned indices (no negative-index
    wrap-around): LLVM then vectorises it.
    """
    R = row_pad.shape[0]
    Q = R * W
    K = tap_pad.shape[0]
    best = np.empty(W, xf.dtype)
    arg = np.empty(W, np.int64)
    tmp = np.empty(W, xf.dtype)
    for p in range(start, stop):
        for jo in range(R):
            rb = p * L + row_pad[jo]
            for o in range(W):
                best[o] = -np.inf
                arg[o] = -1
            for t in range(K):
                tb = rb + tap_pad[t]
                if s_last == 1:
                    for o in range(W):
                        val = xf[np.uint64(tb + o)]
                        cur = best[np.uint64(o)]
                        upd = (val > cur) | (val != val)
                        best[np.uint64(o)] = val if upd else cur
                        arg[np.uint64(o)] = t if upd else arg[np.uint64(o)]
                else:  # the same scan, over the gathered row
                    for o in range(W):
                        tmp[np.uint64(o)] = xf[np.uint64(tb + o * s_last)]
                    for o in range(W):
                        val = tmp[np.uint64(o)]
                        cur = best[np.uint64(o)]
                        upd = (val > cur) | (val != val)
                        best[np.uint64(o)] = val if upd else cur
                        arg[np.uint64(o)] = t if upd else arg[np.uint64(o)]
            ob = p * Q + jo * W
            for o in range(W):
                out[ob + o] = best[o]
            if with_idx:
                for o in range(W):
                    a = arg[o]
                    idx_out[ob + o] = first_idx[jo * W + o] if a < 0 else row_idx[jo] + o * s_last + tap_idx[a]


@numba.njit(cache=True, nogil=True)
def max_unpool_planes(start, stop, x, idx, out, bad):  # pragma: no cover - compiled
    """Scatter the planes ``[start, stop)`` of ``x`` at ``idx`` (both ``(P, Q)``) into ``out`` ``(P, L)``.

    ``out`` is uninitialised: each plane is zeroed and scattered by one
    thread (later duplicates overwrite earlier ones, as torch); ``bad[p]``
    is set to the position of the first invalid index of plane ``p`` (the
    caller fills it with -1).
    """
    Q = x.shape[1]
    L = out.shape[1]
    for p in range(start, stop):
        for i in range(L):
            out[p, i] = 0
        for j in range(Q):
            i = idx[p, j]
            if i < 0 or i >= L:
                bad[p] = j
                break
            out[p, i] = x[p, j]
