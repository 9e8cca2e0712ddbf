"""The two settings of upconv: the memory limit and the number of threads.

This is the bottom of the package: it imports nothing from upconv, and
everything that allocates or starts threads reads its settings from here.
"""

from __future__ import annotations

import numbers
import operator
import os

__all__ = ["get_memory_limit", "set_memory_limit", "get_num_threads", "set_num_threads"]

_DEFAULT_MEMORY_LIMIT = 4 * 2**30
_memory_limit: int | None = None
_num_threads: int | None = None


def _positive_int(value: object, func: str, name: str) -> int:
    """``value`` as a Python int >= 1; bools and non-integers are a TypeError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{func}: {name} must be an integer, got {value!r}")
    value = operator.index(value)
    if value < 1:
        raise ValueError(f"{func}: {name} must be >= 1, got {value}")
    return value


def get_memory_limit() -> int:
    """Return the largest allocation, in bytes, that an upconv function may make.

    The default is 4 GiB, or the value of the environment variable
    ``UPCONV_MEMORY_LIMIT`` (bytes) when it is set.  Functions that would need
    more raise :class:`MemoryError` with a message naming the array before
    allocating anything.

    Examples
    --------
    >>> import upconv
    >>> upconv.get_memory_limit() > 0
    True
    """
    if _memory_limit is not None:
        return _memory_limit
    env = os.environ.get("UPCONV_MEMORY_LIMIT")
    return int(env) if env else _DEFAULT_MEMORY_LIMIT


def set_memory_limit(nbytes: int | None) -> None:
    """Set the largest allocation (in bytes) upconv may make; ``None`` restores the default.

    Examples
    --------
    >>> import upconv
    >>> upconv.set_memory_limit(2**20)
    >>> upconv.get_memory_limit()
    1048576
    >>> upconv.set_memory_limit(None)
    """
    global _memory_limit
    _memory_limit = None if nbytes is None else _positive_int(nbytes, "set_memory_limit", "nbytes")


def get_num_threads() -> int:
    """Number of threads upconv's compiled kernels use (default: the cores this process may use).

    Examples
    --------
    >>> import upconv
    >>> upconv.get_num_threads() >= 1
    True
    """
    if _num_threads is not None:
        return _num_threads
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def set_num_threads(n: int | None) -> None:
    """Set the number of threads of upconv's compiled kernels; ``None`` restores the default.

    BLAS (the GEMMs) keeps its own setting (``threadpoolctl`` or the
    ``OPENBLAS_NUM_THREADS`` variable control it).

    Examples
    --------
    >>> import upconv
    >>> upconv.set_num_threads(1)
    >>> upconv.get_num_threads()
    1
    >>> upconv.set_num_threads(None)
    """
    global _num_threads
    _num_threads = None if n is None else _positive_int(n, "set_num_threads", "n")
