"""Scenario sweeps: solve many cases sequentially, in local processes or on Dask.

Every case is solved by the same function (:func:`planner.api.solve_case`),
whichever way the cases are spread, so a sweep gives exactly the results of the
sequential run, in the same order (base first, then the scenarios in sheet
order).  Each worker receives the validated plan once (a process-pool
initializer, or one Dask ``scatter``), builds the static :class:`Index` once,
and then solves chunks of case names; only names go out and tidy
:class:`CaseResult` rows come back.

Warm starts (:mod:`planner.solve.warm`): every backend first solves the base case in
this process and captures its optimal basis; the basis then travels with the
plan to every worker, and each scenario whose LP has the base's structure
starts simplex from it (always the base's basis, never the previous case's),
so a case's answer does not depend on order or placement.  When the base case
is not among the names, it is still solved for its basis (and not reported):
a scenario then gives the same answer whether or not the base was asked for.
Whether warm starts apply at all is the solver option ``warm``
(``auto``/``on``/``off``, :data:`planner.solve.warm.WARM_ABOVE`); with ``off`` no
base is solved ahead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import TYPE_CHECKING, Any, TypeVar

from planner.analysis.results import CaseResult
from planner.inputs.data import PlanData
from planner.scenario.cases import Index

if TYPE_CHECKING:
    from planner.solve.warm import WarmStart

Progress = Callable[[CaseResult], None]
Collect = Callable[[list[int], list[CaseResult]], None]
T = TypeVar("T")

#: cases sent to a worker at a time: small enough to balance, large enough to amortise
DEFAULT_CHUNK = 4
#: seconds to wait for a Dask scheduler before giving up
CONNECT_TIMEOUT = 10.0

_worker_plan: PlanData | None = None
_worker_index: Index | None = None
_worker_options: dict[str, Any] | None = None
_worker_warm: WarmStart | None = None


def chunks(names: Sequence[T], size: int) -> Iterator[list[T]]:
    """Consecutive slices of ``names`` of at most ``size`` items."""
    size = max(1, size)
    for i in range(0, len(names), size):
        yield list(names[i:i + size])


def solve_names(plan: PlanData, names: Sequence[str], options: dict[str, Any] | None = None,
                ix: Index | None = None, warm: WarmStart | None = None) -> list[CaseResult]:
    """Solve the named cases one after another (the unit of work of every backend),
    each from the base case's basis ``warm`` where it fits."""
    from planner.run.case import solve_case

    ix = ix or Index.build(plan)
    return [solve_case(plan, name, ix, options, warm) for name in names]


def _init_worker(plan: PlanData, options: dict[str, Any] | None,
                 warm: WarmStart | None) -> None:
    global _worker_plan, _worker_index, _worker_options, _worker_warm
    _worker_plan, _worker_options, _worker_warm = plan, options, warm
    _worker_index = Index.build(plan)


def _solve_in_worker(names: list[str]) -> list[CaseResult]:
    assert _worker_plan is not None
    return solve_names(_worker_plan, names, _worker_options, _worker_index, _worker_warm)


def _dask_solve(plan: PlanData, names: list[str], options: dict[str, Any] | None,
                warm: WarmStart | None) -> list[CaseResult]:
    """Dask task: plan and warm start arrive as scattered futures, resolved by the worker."""
    return solve_names(plan, names, options, warm=warm)


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
    terminal).  The base case is solved first, here, for the warm start
    (module docstring).
    """
    names = list(names)
    done: dict[int, CaseResult] = {}
    emitted = 0
    meter = _Bar(len(names), bar)

    def collect(at: list[int], results: list[CaseResult]) -> None:
        nonlocal emitted
        for i, r in zip(at, results, strict=True):
            done[i] = r
        meter.update(len(results))
        while emitted in done:
            if progress:
                progress(done[emitted])
            emitted += 1

    client, own = None, False
    try:
        if scheduler is not None:
            client, own = _connect(scheduler)
        ix = Index.build(plan)
        warm, base_at = _base_first(plan, names, options, ix, collect)
        todo = [i for i in range(len(names)) if i != base_at]
        if not todo:
            pass
        elif client is not None:
            _run_dask(plan, names, todo, options, warm, client, chunk or DEFAULT_CHUNK,
                      collect)
        elif workers > 1 and len(todo) > 1:
            _run_processes(plan, names, todo, options, warm, workers, chunk, collect)
        else:
            for i in todo:
                collect([i], solve_names(plan, [names[i]], options, ix, warm))
    finally:
        meter.close()
        if own and client is not None:
            client.close()
    return [done[i] for i in range(len(names))]


def _connect(scheduler: Any) -> tuple[Any, bool]:
    """A Dask client for ``scheduler`` (an address, or a Client used as is), and
    whether it is ours to close.  Connects before any solving, so an unreachable
    scheduler fails fast."""
    from distributed import Client

    if isinstance(scheduler, Client):
        return scheduler, False
    return Client(scheduler, timeout=CONNECT_TIMEOUT), True


def _base_first(plan: PlanData, names: list[str], options: dict[str, Any] | None,
                ix: Index, collect: Collect
                ) -> tuple[WarmStart | None, int | None]:
    """Solve the base case for its basis (unless warm starts are off or there is no
    scenario); report it if it was asked for.  Returns (warm start, its position)."""
    from planner.run.case import solve_base
    from planner.solve import warm as warm_mod

    if warm_mod.mode(options) == "off" or all(n == "base" for n in names):
        return None, None
    result, start = solve_base(plan, ix, options)
    at = names.index("base") if "base" in names else None
    if at is not None:
        collect([at], [result])
    return start, at


def _run_processes(plan: PlanData, names: list[str], todo: list[int],
                   options: dict[str, Any] | None, warm: WarmStart | None,
                   workers: int, chunk: int | None,
                   collect: Collect) -> None:
    workers = min(workers, len(todo), os.cpu_count() or workers)
    # about 8 chunks per worker: balances uneven cases, amortises per-task overhead
    size = chunk or max(1, min(32, len(todo) // (workers * 8)))
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                             initargs=(plan, options, warm)) as pool:
        futures: dict[Future[list[CaseResult]], list[int]] = {}
        for part in chunks(todo, size):
            futures[pool.submit(_solve_in_worker, [names[i] for i in part])] = part
        for fut in as_completed(futures):
            collect(futures[fut], fut.result())


def _run_dask(plan: PlanData, names: list[str], todo: list[int],
              options: dict[str, Any] | None, warm: WarmStart | None,
              client: Any, size: int, collect: Collect) -> None:
    from distributed import as_completed as dask_completed

    plan_future = client.scatter(plan, broadcast=True)
    warm_future = client.scatter(warm, broadcast=True) if warm is not None else None
    parts: dict[Any, list[int]] = {}
    futures = []
    for part in chunks(todo, size):
        fut = client.submit(_dask_solve, plan_future, [names[i] for i in part], options,
                            warm_future, pure=False)
        parts[fut.key] = part
        futures.append(fut)
    for fut in dask_completed(futures):
        collect(parts[fut.key], fut.result())
