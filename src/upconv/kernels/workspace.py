"""Per-thread scratch buffers for the intermediate arrays of the conv kernels, and aligned results.

Fresh large arrays cost a page fault per 4 KiB page on their first write,
which for the im2col and stamp matrices of a layer took as long as copying
them; reusing one buffer per role and thread avoids it (PyTorch's caching
allocator does the same).  Only intermediates that never leave upconv live
here, and buffers above ``MAX_BYTES`` are not kept.
"""

from __future__ import annotations

import math
import threading
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

MAX_BYTES = 64 * 2**20
_local = threading.local()


def scratch(role: str, shape: tuple[int, ...], dtype: npt.DTypeLike) -> np.ndarray:
    """An uninitialised C-contiguous array for ``role``; valid until the next call with the same role.

    It starts on a cache line (64 bytes), as :func:`aligned_empty`: the
    vector kernels' row starts are then vector-aligned, which made the
    transposed vector kernel 7-16 % faster on workload d than NumPy's
    16-byte alignment (serial, thread CPU time, paired runs).
    """
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > MAX_BYTES:
        return np.empty(shape, dtype=dtype)
    buffers = getattr(_local, "buffers", None)
    if buffers is None:
        buffers = _local.buffers = {}
    buf = buffers.get(role)
    if buf is None or buf.nbytes < nbytes:
        buf = buffers[role] = aligned_empty((max(nbytes, 1),), np.uint8)
    return buf[:nbytes].view(dtype).reshape(shape)


def aligned_empty(shape: tuple[int, ...], dtype: npt.DTypeLike, alignment: int = 64) -> np.ndarray:
    """An uninitialised C-contiguous array whose data starts on a multiple of ``alignment`` bytes.

    NumPy's large arrays start 16 bytes past a page; the vector kernels'
    streamed stores need whole cache lines.
    """
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    raw = np.empty(nbytes + alignment, dtype=np.uint8)
    start = -raw.ctypes.data % alignment
    return raw[start : start + nbytes].view(dtype).reshape(shape)
