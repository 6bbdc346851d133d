"""The cyclic garbage collector kept out of the hot loops.

Building a model, a case's arrays and tables, and a report make millions of small
objects, none of them garbage; with the collector on, each full collection walks
every live object (a model of a million flows) again and again.  ``paused()`` turns it
off for a block, as Pyomo's ``PauseGC`` does, and back on only if it was on (blocks
nest).  Measured by ``python -m benchmarks.gc_effect`` (docs/benchmarks.md).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


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
