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

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from upconv._config import get_num_threads

_pool: ThreadPoolExecutor | None = None
# Slices per thread in parallel_for: enough to balance a thread slowed by a busy core.
_SLICES_PER_THREAD = 8
# Jobs estimated to take less than this on one thread (ns) run on the calling thread: handing slices to
# the pool costs about 0.1 ms when its thread has to be woken (measured on a 2-core VM).
_PARALLEL_MIN_NS = 500_000


def _forget_pool() -> None:
    """After a fork: the child has none of the parent's pool threads, so it starts a pool of its own
    (waiting on the parent's would hang, as a Dask worker forked from a process that had computed did)."""
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def parallel_for(kernel: Callable[..., object], n_items: int, *args: Any, cost_ns: float | None = None) -> None:
    """Call ``kernel(start, stop, *args)`` on slices of ``range(n_items)`` on several threads.

    The range is cut into ``_SLICES_PER_THREAD`` slices per thread, which the
    threads take in turn: a thread whose core is busy (OpenBLAS's workers
    keep spinning for a while after every GEMM) then simply takes fewer
    slices, where an even split would make everyone wait for it.  A job
    whose estimated single-thread time ``cost_ns`` is below
    ``_PARALLEL_MIN_NS`` runs on the calling thread alone.
    """
    global _pool
    threads = min(get_num_threads(), n_items)
    if cost_ns is not None and cost_ns < _PARALLEL_MIN_NS:
        threads = 1
    if threads <= 1:
        kernel(0, n_items, *args)
        return
    if _pool is None or _pool._max_workers < threads - 1:
        _pool = ThreadPoolExecutor(max_workers=threads - 1, thread_name_prefix="upconv")
    slices = min(n_items, threads * _SLICES_PER_THREAD)
    bounds = [n_items * i // slices for i in range(slices + 1)]
    taken = itertools.count()  # next() is atomic under the GIL

    def work() -> None:
        for i in iter(taken.__next__, None):
            if i >= slices:
                return
            kernel(bounds[i], bounds[i + 1], *args)

    futures = [_pool.submit(work) for _ in range(threads - 1)]
    work()  # the calling thread works too
    for f in futures:
        f.result()
