"""The cyclic garbage collector kept out of the hot loops, and freed memory handed
back to the system.

Building a model, a case's arrays and tables, and a report make millions of small
objects, none of them garbage; with the collector on, each full collection walks
every live object (a model of a million flows) again and again.  ``paused()`` turns it
off for a block, as Pyomo's ``PauseGC`` does, and back on only if it was on (blocks
nest).  Measured by ``python -m benchmarks.gc_effect`` (docs/benchmarks.md).

``trim()`` asks the C library to return the free memory at the top of its heap and in
its free lists to the system (glibc's ``malloc_trim``, as Dask's workers do): once a
million-flow model's construction objects and a solve's working arrays are freed,
the process otherwise keeps their pages, and a run's peak is the sum of every step's
high-water mark (``python -m benchmarks.memory``).  Elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache


@contextmanager
def paused() -> Iterator[None]:
    """The collector off inside the block (on again after, if it was on)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    try:
        return ctypes.CDLL(None).malloc_trim  # type: ignore[no-any-return]
    except (OSError, AttributeError, TypeError):
        return None


def trim() -> None:
    """Hand the C library's free memory back to the system (glibc; elsewhere a no-op)."""
    fn = _malloc_trim()
    if fn is not None:
        fn(0)
