"""Run a compiled kernel over a range of independent work items on a few threads.

upconv's compiled kernels (convolution, interpolation, pooling, shuffles)
are serial C functions that release the GIL and take the range of items
(output planes or rows) they own; this module splits the range over a
small pool of Python threads.  Idle pool threads block rather than spin, so
they leave the cores to OpenBLAS between kernels: OpenMP workers (numba's,
which the kernels once ran on) spin after every parallel region, and on a
2-core machine that halved the speed of the GEMMs running right after them
(see benchmarks/README.md).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from upconv._config import get_num_threads

# The pool and its size; created on first use under _lock, and forgotten in a forked child (the child
# inherits the executor object but none of its threads: work submitted there would wait forever).
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_lock = threading.Lock()
# Slices per thread in parallel_for: enough to balance a thread slowed by a busy core.
_SLICES_PER_THREAD = 8
# Jobs estimated to take less than this on one thread (ns) run on the calling thread: handing slices to
# the pool costs about 0.1 ms when its thread has to be woken (measured on a 2-core VM).
_PARALLEL_MIN_NS = 500_000


def parallel_for(kernel: Callable[..., object], n_items: int, *args: Any, cost_ns: float | None = None) -> None:
    """Call ``kernel(start, stop, *args)`` on slices of ``range(n_items)`` on several threads.

    The range is cut into ``_SLICES_PER_THREAD`` slices per thread, which the
    threads take in turn: a thread whose core is busy (OpenBLAS's workers
    keep spinning for a while after every GEMM) then simply takes fewer
    slices, where an even split would make everyone wait for it.  A job
    whose estimated single-thread time ``cost_ns`` is below
    ``_PARALLEL_MIN_NS`` runs on the calling thread alone.
    """
    if cost_ns is not None and cost_ns < _PARALLEL_MIN_NS:  # (before asking the OS for the cores: small calls)
        kernel(0, n_items, *args)
        return
    threads = min(get_num_threads(), n_items)
    if threads <= 1:
        kernel(0, n_items, *args)
        return
    pool = _get_pool(threads - 1)
    slices = min(n_items, threads * _SLICES_PER_THREAD)
    bounds = [n_items * i // slices for i in range(slices + 1)]
    taken = itertools.count()  # next() is atomic under the GIL

    def work() -> None:
        for i in iter(taken.__next__, None):
            if i >= slices:
                return
            kernel(bounds[i], bounds[i + 1], *args)

    futures = [pool.submit(work) for _ in range(threads - 1)]
    work()  # the calling thread works too
    for f in futures:
        f.result()


def _get_pool(workers: int) -> ThreadPoolExecutor:
    """The shared pool, with at least ``workers`` threads.

    A smaller pool is replaced, not shut down: a thread may still be about to submit to it, and its idle
    workers exit by themselves once it is garbage (ThreadPoolExecutor's weak-reference callback).
    """
    global _pool, _pool_size
    with _lock:
        pool = _pool
        if pool is None or _pool_size < workers:
            pool = _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="upconv")
            _pool_size = workers
        return pool


def _forget_pool_in_child() -> None:
    """After ``fork``: drop the parent's pool (its threads do not exist here) and its lock (it may be held)."""
    global _pool, _pool_size, _lock
    _pool, _pool_size, _lock = None, 0, threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_forget_pool_in_child)
