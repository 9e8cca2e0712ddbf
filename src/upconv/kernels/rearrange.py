"""The sub-pixel rearrangements' transposing copy (compiled C: ``csrc/rearrange.c``).

Used by :mod:`upconv.ops.rearrange` for large arrays (NumPy's transposing copy is single-threaded);
built at install, loaded on first use.  The kernel is serial, releases the GIL and works on the blocks
``[start, stop)``, which :func:`upconv.kernels.parallel.parallel_for` runs in slices on several threads.

``permuted_copy(start, stop, src, dst, outer_shape, outer_strides, n0, s0, n1, s1)``
    ``dst[m, i, j] = src[offset(m) + i*s0 + j*s1]`` for the blocks ``m``, row-major over ``outer_shape``
    (int64 element strides ``outer_strides`` in ``src``); ``src`` and ``dst`` flat, of items of 1, 2,
    4 or 8 bytes (any dtype, moved as raw bytes).
"""

from __future__ import annotations

from upconv.kernels import _native

permuted_copy = _native.permuted_copy
