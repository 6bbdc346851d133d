"""Scenario sweeps: solve many cases sequentially, in local processes or on Dask.

Every case is solved by the same function (:func:`planner.api.solve_case`),
whichever way the cases are spread, so a sweep gives exactly the results of the
sequential run, in the same order (base first, then the scenarios in sheet
order).  Each worker receives the validated plan once (a process-pool
initializer, or one Dask ``scatter``), builds the static :class:`Index` once,
and then solves chunks of case names; only names go out and tidy
:class:`CaseResult` rows come back.

Rebuilding each case's model is kept over re-solving one built model warm:
measured in ``benchmarks/warm.py`` and recorded in ``docs/benchmarks.md``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any

from planner.cases import Index
from planner.data import PlanData
from planner.results import CaseResult

Progress = Callable[[CaseResult], None]

#: cases sent to a worker at a time: small enough to balance, large enough to amortise
DEFAULT_CHUNK = 4
#: seconds to wait for a Dask scheduler before giving up
CONNECT_TIMEOUT = 10.0

_worker_plan: PlanData | None = None
_worker_index: Index | None = None
_worker_options: dict[str, Any] | None = None


def chunks(names: Sequence[str], size: int) -> Iterator[list[str]]:
    """Consecutive slices of ``names`` of at most ``size`` items."""
    size = max(1, size)
    for i in range(0, len(names), size):
        yield list(names[i:i + size])


def solve_names(plan: PlanData, names: Sequence[str], options: dict[str, Any] | None = None,
                ix: Index | None = None) -> list[CaseResult]:
    """Solve the named cases one after another (the unit of work of every backend)."""
    from planner.api import solve_case

    ix = ix or Index.build(plan)
    return [solve_case(plan, name, ix, options) for name in names]


def _init_worker(plan: PlanData, options: dict[str, Any] | None) -> None:
    global _worker_plan, _worker_index, _worker_options
    _worker_plan, _worker_options = plan, options
    _worker_index = Index.build(plan)


def _solve_in_worker(names: list[str]) -> list[CaseResult]:
    assert _worker_plan is not None
    return solve_names(_worker_plan, names, _worker_options, _worker_index)


def _dask_solve(plan: PlanData, names: list[str], options: dict[str, Any] | None
                ) -> list[CaseResult]:
    """Dask task: the plan arrives as a scattered future, resolved by the worker."""
    return solve_names(plan, names, options)


class _Bar:
    """A tqdm progress bar on stderr (only when stderr is a terminal, unless forced)."""

    def __init__(self, total: int, show: bool | None) -> None:
        from tqdm import tqdm

        if show is None:
            show = sys.stderr.isatty()
        self.bar = tqdm(total=total, unit="case", desc="cases", disable=not show,
                        file=sys.stderr, leave=True)

    def update(self, n: int) -> None:
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()


def run_sweep(plan: PlanData, names: Sequence[str], options: dict[str, Any] | None = None,
              workers: int = 1, scheduler: Any = None, chunk: int | None = None,
              progress: Progress | None = None, bar: bool | None = None) -> list[CaseResult]:
    """Solve ``names`` and return their results in the order given.

    ``workers`` > 1 spreads chunks over that many local processes;
    ``scheduler`` (a Dask scheduler address such as ``tcp://host:8786``, or a
    ``distributed.Client``) sends them to a Dask cluster instead.  ``progress``
    is called once per case, in the given order, as soon as that case and all
    before it are done; ``bar`` shows a progress bar (default: when stderr is a
    terminal).
    """
    names = list(names)
    done: dict[int, CaseResult] = {}
    emitted = 0
    meter = _Bar(len(names), bar)

    def collect(start: int, results: list[CaseResult]) -> None:
        nonlocal emitted
        for i, r in enumerate(results):
            done[start + i] = r
        meter.update(len(results))
        while emitted in done:
            if progress:
                progress(done[emitted])
            emitted += 1

    try:
        if scheduler is not None:
            _run_dask(plan, names, options, scheduler, chunk or DEFAULT_CHUNK, collect)
        elif workers > 1 and len(names) > 1:
            _run_processes(plan, names, options, workers, chunk, collect)
        else:
            ix = Index.build(plan)
            for i, name in enumerate(names):
                collect(i, solve_names(plan, [name], options, ix))
    finally:
        meter.close()
    return [done[i] for i in range(len(names))]


def _run_processes(plan: PlanData, names: list[str], options: dict[str, Any] | None,
                   workers: int, chunk: int | None,
                   collect: Callable[[int, list[CaseResult]], None]) -> None:
    workers = min(workers, len(names), os.cpu_count() or workers)
    # about 8 chunks per worker: balances uneven cases, amortises per-task overhead
    size = chunk or max(1, min(32, len(names) // (workers * 8)))
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                             initargs=(plan, options)) as pool:
        futures: dict[Future[list[CaseResult]], int] = {}
        for k, part in enumerate(chunks(names, size)):
            futures[pool.submit(_solve_in_worker, part)] = k * size
        for fut in as_completed(futures):
            collect(futures[fut], fut.result())


def _run_dask(plan: PlanData, names: list[str], options: dict[str, Any] | None,
              scheduler: Any, size: int,
              collect: Callable[[int, list[CaseResult]], None]) -> None:
    from distributed import Client
    from distributed import as_completed as dask_completed

    own = not isinstance(scheduler, Client)
    client = Client(scheduler, timeout=CONNECT_TIMEOUT) if own else scheduler
    try:
        plan_future = client.scatter(plan, broadcast=True)
        starts: dict[Any, int] = {}
        futures = []
        for k, part in enumerate(chunks(names, size)):
            fut = client.submit(_dask_solve, plan_future, part, options, pure=False)
            starts[fut.key] = k * size
            futures.append(fut)
        for fut in dask_completed(futures):
            collect(starts[fut.key], fut.result())
    finally:
        if own:
            client.close()
