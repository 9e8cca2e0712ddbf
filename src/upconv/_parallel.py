"""Run a compiled kernel over a range of independent work items on a few threads.

upconv's compiled kernels (convolution, interpolation, pooling, shuffles)
are serial ``nogil`` numba functions that take the range of items (output
planes or rows) they own; this module splits the range over a
small pool of Python threads.  Idle pool threads block rather than spin, so
they leave the cores to OpenBLAS between kernels: numba's own OpenMP workers
spin after every parallel region, and on a 2-core machine that halved the
speed of the GEMMs running right after them (see benchmarks/README.md).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import _validate as v

_pool: ThreadPoolExecutor | None = None
_num_threads: int | None = None


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
    if n is not None:
        n = v.integer(n, "set_num_threads", "n", minimum=1)
    _num_threads = n


def parallel_for(kernel: Callable[..., Any], n_items: int, *args: Any) -> None:
    """Call ``kernel(start, stop, *args)`` on contiguous slices of ``range(n_items)`` in parallel."""
    global _pool
    threads = min(get_num_threads(), n_items)
    if threads <= 1:
        kernel(0, n_items, *args)
        return
    if _pool is None or _pool._max_workers < threads - 1:
        _pool = ThreadPoolExecutor(max_workers=threads - 1, thread_name_prefix="upconv")
    bounds = [n_items * i // threads for i in range(threads + 1)]
    futures = [_pool.submit(kernel, bounds[i], bounds[i + 1], *args) for i in range(1, threads)]
    kernel(bounds[0], bounds[1], *args)  # the calling thread takes the first slice
    for f in futures:
        f.result()
