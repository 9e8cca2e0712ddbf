"""The two settings of upconv: the memory limit and the number of threads.

This is the bottom of the package: it imports nothing from upconv, and
everything that allocates or starts threads reads its settings from here.
"""

from __future__ import annotations

import math
import numbers
import operator
import os
import re

__all__ = ["get_memory_limit", "set_memory_limit", "get_num_threads", "set_num_threads"]

_DEFAULT_MEMORY_LIMIT = 4 * 2**30
_memory_limit: int | None = None
_num_threads: int | None = None
_ENV = "UPCONV_MEMORY_LIMIT"
# the last UPCONV_MEMORY_LIMIT value read and its size in bytes (get_memory_limit runs on every allocation check)
_env_cache: tuple[str, int] = ("", _DEFAULT_MEMORY_LIMIT)

#: Size units of the memory limit: K, M, G, T (and KB, MB, ...) are powers of 1000, KiB, MiB, ... of 1024.
UNITS = {"": 1, "b": 1, **{p: 1000 ** (i + 1) for i, p in enumerate("kmgt")},
         **{p + "b": 1000 ** (i + 1) for i, p in enumerate("kmgt")},
         **{p + "ib": 1024 ** (i + 1) for i, p in enumerate("kmgt")}}
_SIZE = re.compile(r"\s*([+-]?[0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([a-z]*)\s*", re.IGNORECASE)


def parse_size(text: str, what: str = _ENV) -> int:
    """A size in bytes from ``"4294967296"``, ``"1.5e9"``, ``"4G"``, ``"8GiB"``, ``"512 MiB"``; ``what`` names it.

    Examples
    --------
    >>> from upconv._config import parse_size
    >>> parse_size("4G"), parse_size("8GiB"), parse_size("1.5e9"), parse_size("512 KiB")
    (4000000000, 8589934592, 1500000000, 524288)
    """
    m = _SIZE.fullmatch(text)
    unit = UNITS.get(m.group(2).lower()) if m else None
    if m is None or unit is None:
        raise ValueError(
            f"{what} must be a size in bytes, optionally with a unit (K, M, G, T: powers of 1000; KiB, MiB, "
            f"GiB, TiB: powers of 1024), e.g. 4G, 8GiB, 1.5e9; got {text!r}"
        )
    nbytes = float(m.group(1)) * unit
    if not math.isfinite(nbytes) or nbytes < 1:
        raise ValueError(f"{what} must be a positive size of at least 1 byte, got {text!r}")
    return int(nbytes)


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
    ``UPCONV_MEMORY_LIMIT`` when it is set: bytes (``4294967296``,
    ``1.5e9``) or a size with a unit (``4G``, ``8GiB``, ``512MiB``; K, M, G,
    T are powers of 1000, KiB, MiB, GiB, TiB powers of 1024).  An invalid or
    non-positive value is a ValueError naming the variable.  Functions that
    would need more raise :class:`MemoryError` with a message naming the
    array before allocating anything.

    Examples
    --------
    >>> import upconv
    >>> upconv.get_memory_limit() > 0
    True
    """
    global _env_cache
    if _memory_limit is not None:
        return _memory_limit
    env = os.environ.get(_ENV)
    if not env:
        return _DEFAULT_MEMORY_LIMIT
    if env != _env_cache[0]:
        _env_cache = (env, parse_size(env))
    return _env_cache[1]


def set_memory_limit(nbytes: int | str | None) -> None:
    """Set the largest allocation upconv may make; ``None`` restores the default.

    ``nbytes`` is a number of bytes, or a size with a unit as
    ``UPCONV_MEMORY_LIMIT`` takes it (``"4G"``, ``"8GiB"``).

    Examples
    --------
    >>> import upconv
    >>> upconv.set_memory_limit(2**20)
    >>> upconv.get_memory_limit()
    1048576
    >>> upconv.set_memory_limit("2MiB")
    >>> upconv.get_memory_limit()
    2097152
    >>> upconv.set_memory_limit(None)
    """
    global _memory_limit
    if isinstance(nbytes, str):
        _memory_limit = parse_size(nbytes, "set_memory_limit: nbytes")
    else:
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

    The convolutions' GEMMs are compiled kernels too and follow it; BLAS,
    which the weight gradients' GEMMs use, keeps its own setting
    (``threadpoolctl`` or the ``OPENBLAS_NUM_THREADS`` variable control it).

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
