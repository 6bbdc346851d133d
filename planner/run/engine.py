"""One engine that maps work over this process, local worker processes or a Dask cluster.

Scenario sweeps and policy re-solves (:mod:`planner.run.sweep`), stress tests and Monte
Carlo draws (:mod:`planner.resilience.stress`) all run through :func:`map_chunks`:

- ``setup(*args)`` builds a worker's context once per worker (for a sweep, the shared
  model of :mod:`planner.run.batch`; for a stress test, the index and the base plan):
  in a local process by the pool's initializer, on Dask once per worker process,
  cached under the run's token (the arguments are scattered once);
- ``work(context, chunk)`` solves a chunk of items and returns their results in order;
- ``collect(indices, results)`` receives each chunk's results as it finishes.

Only items go out and results come back; a run gives the same results sequentially,
on processes and on Dask, because every item is solved by the same ``work`` from the
same context.  ``setup`` and ``work`` must be module-level functions (pickled by name).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: seconds to wait for a Dask scheduler before giving up
CONNECT_TIMEOUT = 10.0
#: items per Dask task when the caller names no chunk size
DASK_CHUNK = 4

#: this process's worker contexts, by run token (one at a time)
_contexts: dict[str, Any] = {}


def chunks(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """Consecutive slices of ``items`` of at most ``size`` items."""
    size = max(1, size)
    for i in range(0, len(items), size):
        yield list(items[i:i + size])


def connect(scheduler: Any) -> tuple[Any, bool]:
    """A Dask client for ``scheduler`` (an address, or a Client used as is), and
    whether it is ours to close.  Connects before any solving, so an unreachable
    scheduler fails fast."""
    from distributed import Client

    if isinstance(scheduler, Client):
        return scheduler, False
    return Client(scheduler, timeout=CONNECT_TIMEOUT), True


def _init(token: str, setup: Callable[..., Any], args: tuple[Any, ...]) -> None:
    _contexts.clear()
    _contexts[token] = setup(*args)


def _call(token: str, work: Callable[[Any, list[Any]], list[Any]],
          part: list[Any]) -> list[Any]:
    return work(_contexts[token], part)


def _dask_call(token: str, setup: Callable[..., Any], work: Callable[[Any, list[Any]],
               list[Any]], part: list[Any], *args: Any) -> list[Any]:
    """Dask task: the context is built on the first task a worker process runs."""
    if token not in _contexts:
        _init(token, setup, args)
    return work(_contexts[token], part)


def map_chunks(setup: Callable[..., Any], args: tuple[Any, ...],
               work: Callable[[Any, list[T]], list[R]], items: Sequence[T],
               collect: Callable[[list[int], list[R]], None], *, workers: int = 1,
               client: Any = None, chunk: int | None = None, local: Any = None) -> None:
    """Call ``work(context, chunk)`` on chunks of ``items``; ``collect(indices, results)``
    as each chunk finishes (module docstring).

    ``client`` (a Dask client) sends the chunks to its cluster; else ``workers`` > 1
    spreads them over that many local processes; else they run here, with ``local`` as
    the context when given (the caller's own) or ``setup(*args)``.
    """
    at = list(range(len(items)))
    if not at:
        return
    token = uuid.uuid4().hex
    if client is not None:
        from distributed import as_completed as dask_completed

        scattered = [client.scatter(a, broadcast=True) for a in args]
        parts: dict[Any, list[int]] = {}
        futures = []
        for part in chunks(at, chunk or DASK_CHUNK):
            fut = client.submit(_dask_call, token, setup, work, [items[i] for i in part],
                                *scattered, pure=False)
            parts[fut.key] = part
            futures.append(fut)
        for fut in dask_completed(futures):
            collect(parts[fut.key], fut.result())
    elif workers > 1 and len(at) > 1:
        workers = min(workers, len(at), os.cpu_count() or workers)
        # about 8 chunks per worker: balances uneven items, amortises per-task overhead
        size = chunk or max(1, min(32, len(at) // (workers * 8)))
        with ProcessPoolExecutor(max_workers=workers, initializer=_init,
                                 initargs=(token, setup, args)) as pool:
            pending: dict[Future[list[R]], list[int]] = {}
            for part in chunks(at, size):
                pending[pool.submit(_call, token, work, [items[i] for i in part])] = part
            for fut in as_completed(pending):
                collect(pending[fut], fut.result())
    else:
        context = local if local is not None else setup(*args)
        for part in chunks(at, chunk or 1):
            collect(part, work(context, [items[i] for i in part]))


class Ordered:
    """Results placed by index, and ``progress`` called once per result in index order as
    soon as it and all before it are in (``collect`` for :func:`map_chunks`)."""

    def __init__(self, n: int, progress: Callable[[Any], None] | None = None,
                 tick: Callable[[int], None] | None = None) -> None:
        self.n, self.progress, self.tick = n, progress, tick
        self.done: dict[int, Any] = {}
        self.emitted = 0

    def __call__(self, at: list[int], results: list[Any]) -> None:
        for i, r in zip(at, results, strict=True):
            self.done[i] = r
        if self.tick:
            self.tick(len(results))
        while self.emitted in self.done:
            if self.progress:
                self.progress(self.done[self.emitted])
            self.emitted += 1

    def results(self) -> list[Any]:
        return [self.done[i] for i in range(self.n)]
