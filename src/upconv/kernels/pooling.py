"""Kernels of max pooling and max unpooling (compiled C: ``csrc/pooling.c``, ``pooling_t.h``).

Built at install and loaded by :mod:`upconv.ops.pooling` on its first call (``import upconv`` never
loads them).  Each is serial, releases the GIL and works on the planes ``[start, stop)`` of ``(planes,
flat plane)`` arrays, float32 or float64; :func:`upconv.kernels.parallel.parallel_for` runs slices of
them on several threads.  The N-d window geometry arrives as flat int64 offsets, so one kernel serves
every number of spatial axes.

``max_pool_planes(start, stop, xf, L, row_pad, row_idx, first_idx, W, s_last, tap_pad, tap_idx, out, idx_out,``
``with_idx)``
    Window maxima (and their input indices) of padded planes, torch's scan: strict ``>`` keeps the first
    maximum, any NaN replaces (the last NaN wins), the padding (-inf) never wins, and an all -inf window
    reports its first real element (``first_idx``).
``max_unpool_planes(start, stop, x, idx, out, bad)``
    Scatter ``x`` at ``idx`` into zeroed planes of ``out`` (later duplicates win, as torch); ``bad[p]``
    receives the position of plane ``p``'s first invalid index.
"""

from __future__ import annotations

from upconv.kernels import _native

max_pool_planes = _native.max_pool_planes
max_unpool_planes = _native.max_unpool_planes
