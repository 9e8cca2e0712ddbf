"""Kernels of the interpolation engine (compiled C: ``csrc/interpolation.c``, ``interpolation_t.h``).

Built at install and loaded by :func:`upconv.ops.resampling.apply` on its first call (``import upconv``
never loads them).  Each kernel is serial, releases the GIL and works on the items ``[start, stop)``
(rows, lines or blocks of rows), which :func:`upconv.kernels.parallel.parallel_for` runs in slices on
several threads; float32 or float64, ``idx`` int64.

Every kernel computes ``out[o] = sum_t w[t, o] * x[idx[t, o]]`` along one axis, summing taps in order
(``t = 0`` first) in the dtype of ``out``, in the ``order`` of :mod:`upconv.ops.resampling`
(``SEQUENTIAL``: every operation rounded; ``TORCH_FMA``: torch's ``fma(w0, x0, w1*x1)`` then
``fma(wt, xt, acc)``; ``PAIRWISE``: NumPy's pairwise sum of the rounded products); nothing else is fused
or re-associated, so results are reproducible and the fused kernel equals the two single-axis passes bit
for bit.

``along_rows(start, stop, x, idx, w, out, order)``
    Resample the last axis: ``x (R, L) -> out (R, M)``; items are the rows.
``along_axis(start, stop, x, idx, w, out, order)``
    Resample the middle axis: ``x (A, L, B) -> out (A, M, B)``, whole lines at a time; items are the
    lines ``a*M + j``.
``fused_last_two(start, stop, x, ih, wh, iw, ww, out, block, order)``
    The last axis, then the second last: ``x (P, H, W) -> out (P, Ho, Wo)``; items are (plane, block of
    ``block`` output rows), whose input rows are resampled into a buffer that stays in cache.
"""

from __future__ import annotations

from upconv.kernels import _native

along_rows = _native.along_rows
along_axis = _native.along_axis
fused_last_two = _native.fused_last_two
