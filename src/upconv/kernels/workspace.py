"""Per-thread scratch buffers for the intermediate arrays of the conv kernels, and aligned results.

Fresh large arrays cost a page fault per 4 KiB page on their first write,
which for the im2col and stamp matrices of a layer took as long as copying
them; reusing one buffer per role and thread avoids it (PyTorch's caching
allocator does the same).  Only intermediates that never leave upconv live
here.  What is kept is bounded: a buffer above ``MAX_BYTES`` is not kept,
and the buffers of all threads together stay under ``MAX_TOTAL_BYTES``
(past it a request gets a fresh array).  A thread's buffers are freed when
the thread ends; :func:`release_memory` (``upconv.release_memory``) frees
everyone's now.
"""

from __future__ import annotations

import math
import threading
import weakref
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

#: The largest buffer kept for reuse, and the most all threads' kept buffers may hold together.
MAX_BYTES = 64 * 2**20
MAX_TOTAL_BYTES = 256 * 2**20
_local = threading.local()
_lock = threading.Lock()


class _Buffers(dict[str, np.ndarray]):
    """One thread's buffers by role (a dict that can be weakly referenced, for :func:`release_memory`)."""

    __slots__ = ("__weakref__",)
    __hash__ = object.__hash__  # type: ignore[assignment]  # identity, for the WeakSet
    __eq__ = object.__eq__


# Every thread's _Buffers; an entry disappears with its thread (threading.local drops it).
_all: weakref.WeakSet[_Buffers] = weakref.WeakSet()


def kept_bytes() -> int:
    """Bytes held by the scratch buffers of all threads."""
    with _lock:
        return sum(b.nbytes for bufs in list(_all) for b in bufs.values())


def release_memory() -> None:
    """Free the scratch buffers upconv keeps between calls, in every thread.

    Operators reuse a few intermediate buffers per thread (at most
    ``MAX_TOTAL_BYTES`` in all) to avoid page faults; this drops them.
    A call in progress keeps what it uses until it returns.  (The compiled
    GEMM's packing blocks, under 1 MiB per thread, stay until their thread ends.)

    Examples
    --------
    >>> import upconv
    >>> upconv.release_memory()
    """
    with _lock:
        for bufs in list(_all):
            bufs.clear()


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
        buffers = _local.buffers = _Buffers()
        with _lock:
            _all.add(buffers)
    buf = buffers.get(role)
    if buf is None or buf.nbytes < nbytes:
        buf = aligned_empty((max(nbytes, 1),), np.uint8)
        with _lock:
            buffers.pop(role, None)  # the smaller buffer goes
            held = sum(b.nbytes for bufs in list(_all) for b in bufs.values())
            if held + buf.nbytes <= MAX_TOTAL_BYTES:  # else this one is used once and not kept
                buffers[role] = buf
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
