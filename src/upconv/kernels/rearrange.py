"""Compiled kernel of the sub-pixel rearrangements' transposing copy (numba).

Imported lazily by :mod:`upconv.ops.rearrange` for large arrays (NumPy's
transposing copy is single-threaded): ``import upconv`` never imports
numba.  The kernel is compiled on first use and cached on disk
(``cache=True``); it is serial, releases the GIL and works on the blocks
``[start, stop)``, which :func:`upconv.kernels.parallel.parallel_for` runs
in slices on several threads.
"""

from __future__ import annotations

import numba


@numba.njit(cache=True, nogil=True)
def permuted_copy(start, stop, src, dst, outer_shape, outer_strides, n0, s0, n1, s1):  # pragma: no cover - compiled
    """``dst[m, i, j] = src[offset(m) + i*s0 + j*s1]`` for the blocks ``m`` in ``[start, stop)``.

    ``m`` runs row-major over ``outer_shape`` (element strides
    ``outer_strides`` in ``src``); ``dst`` is flat, ``n0 * n1`` items per
    block.  When the middle axis is contiguous in ``src`` the copy reads
    along it (its writes then stride ``n1``).
    """
    block = n0 * n1
    D = outer_shape.shape[0]
    for m in range(start, stop):
        off = 0
        rem = m
        for a in range(D - 1, -1, -1):
            q = rem // outer_shape[a]
            off += (rem - q * outer_shape[a]) * outer_strides[a]
            rem = q
        base = m * block
        if s0 == 1:
            for j in range(n1):
                o = off + j * s1
                for i in range(n0):
                    dst[base + i * n1 + j] = src[o + i]
        else:
            for i in range(n0):
                o = off + i * s0
                for j in range(n1):
                    dst[base + i * n1 + j] = src[o + j * s1]
