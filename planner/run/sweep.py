"""Scenario sweeps: solve many cases sequentially, in local processes or on Dask.

Every case is solved on one shared model (:mod:`planner.run.batch`): the LP of
every case a run asks for is built and translated once, as their superset, and
each case is a change of bounds, right-hand sides and costs on the same HiGHS
instance.  Local worker processes and Dask workers each build the same shared
model once (a process-pool initializer; a per-worker cache on Dask) and then
solve chunks of case names; only names go out and tidy :class:`CaseResult`
rows come back.  Results come back in the order asked (base first, then the
scenarios in sheet order), identical whichever way the cases were spread.

Warm starts: the base case is solved first, in this process, and its optimal
basis travels to every worker; every other case starts from it (always the
base's basis, never the previous case's), so a case's answer does not depend on
order or placement.  When the base case is not among the names it is still
solved for its basis (and not reported).  Solver option ``warm`` ``off``: every
case is solved cold.

Solver option ``translator`` ``pyomo`` solves each case's own model through
Pyomo's HiGHS interface instead (the reference the tests compare with).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import TYPE_CHECKING, Any, TypeVar

from planner.analysis.results import CaseResult
from planner.inputs.data import PlanData
from planner.run.batch import Basis, Batch, failed, scenario_variants
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

_worker_batch: Batch | None = None
_worker_start: Basis | None = None
#: Dask workers: the shared model of each sweep, by the sweep's token
_dask_batches: dict[str, Batch] = {}


def chunks(names: Sequence[T], size: int) -> Iterator[list[T]]:
    """Consecutive slices of ``names`` of at most ``size`` items."""
    size = max(1, size)
    for i in range(0, len(names), size):
        yield list(names[i:i + size])


def solve_names(plan: PlanData, names: Sequence[str], options: dict[str, Any] | None = None,
                ix: Index | None = None, warm: WarmStart | None = None) -> list[CaseResult]:
    """Solve the named cases one after another, each on its own model (the reference
    path, used for solver option ``translator`` ``pyomo``)."""
    from planner.run.case import solve_case

    ix = ix or Index.build(plan)
    return [solve_case(plan, name, ix, options, warm) for name in names]


def _every(names: Sequence[str]) -> list[str]:
    """The cases the shared model is built for: ``names``, and the base case."""
    return list(names) if "base" in names else ["base", *names]


def _shared(plan: PlanData, every: list[str], options: dict[str, Any] | None,
            ix: Index | None = None) -> Batch:
    ix = ix or Index.build(plan)
    return Batch(plan, scenario_variants(plan, ix, every), ix, options)


def _init_worker(plan: PlanData, every: list[str], options: dict[str, Any] | None,
                 start: Basis | None) -> None:
    global _worker_batch, _worker_start
    _worker_batch, _worker_start = _shared(plan, every, options), start


def _solve_in_worker(names: list[str]) -> list[CaseResult]:
    assert _worker_batch is not None
    return [_worker_batch.solve(n, _worker_start)[0] for n in names]


def _dask_solve(plan: PlanData, every: list[str], token: str, names: list[str],
                options: dict[str, Any] | None, start: Basis | None) -> list[CaseResult]:
    """Dask task: builds the sweep's shared model once per worker (cached by token)."""
    batch = _dask_batches.get(token)
    if batch is None:
        _dask_batches.clear()
        batch = _dask_batches[token] = _shared(plan, every, options)
    return [batch.solve(n, start)[0] for n in names]


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


#: the shared model of the last sweep that was told of cases to come (``prepare``):
#: (plan, options key, its cases, the model, the base basis)
_kept: tuple[PlanData, str, list[str], Batch, Basis | None] | None = None


def _options_key(options: dict[str, Any] | None) -> str:
    import json

    return json.dumps(options or {}, sort_keys=True, default=str)


def release() -> None:
    """Forget the shared model kept for cases to come (see ``prepare``)."""
    global _kept
    _kept = None


def _reuse(plan: PlanData, every: list[str], options: dict[str, Any] | None
           ) -> tuple[Batch, Basis | None] | None:
    if _kept is not None and _kept[0] is plan and _kept[1] == _options_key(options) \
            and set(every) <= set(_kept[2]):
        return _kept[3], _kept[4]
    return None


def run_sweep(plan: PlanData, names: Sequence[str], options: dict[str, Any] | None = None,
              workers: int = 1, scheduler: Any = None, chunk: int | None = None,
              progress: Progress | None = None, bar: bool | None = None,
              prepare: Sequence[str] = ()) -> list[CaseResult]:
    """Solve ``names`` and return their results in the order given.

    ``prepare`` names cases a later sweep of the same plan and options will ask for
    (the policy re-solves of ``planner run``): the shared model is built for them
    too and kept, so that sweep reuses it, and its base basis, instead of building
    another (:func:`release` forgets it).

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
        if (options or {}).get("translator") == "pyomo":
            for i, name in enumerate(names):
                collect([i], solve_names(plan, [name], options, ix))
            return [done[i] for i in range(len(names))]
        global _kept
        every = _every([*names, *(n for n in prepare if n not in names)])
        kept = _reuse(plan, every, options)
        if kept is not None:
            batch, start = kept
            every = _kept[2] if _kept is not None else every
            base_at = None
        else:
            try:
                batch = _shared(plan, every, options, ix)
            except Exception as exc:  # noqa: BLE001 - every case carries the cause
                collect(list(range(len(names))), failed(names, exc))
                return [done[i] for i in range(len(names))]
            start, base_at = _base_first(batch, names, options, collect, bool(prepare))
            if prepare:
                _kept = (plan, _options_key(options), every, batch, start)
        todo = [i for i in range(len(names)) if i != base_at]
        if not todo:
            pass
        elif client is not None:
            _run_dask(plan, every, names, todo, options, start, client,
                      chunk or DEFAULT_CHUNK, collect)
        elif workers > 1 and len(todo) > 1:
            _run_processes(plan, every, names, todo, options, start, workers, chunk, collect)
        else:
            for i in todo:
                collect([i], [batch.solve(names[i], start)[0]])
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


def _base_first(batch: Batch, names: list[str], options: dict[str, Any] | None,
                collect: Collect, more: bool = False) -> tuple[Basis | None, int | None]:
    """Solve the base case for its basis (unless warm starts are off or there is no
    other case, now or to come: ``more``); report it if it was asked for.  Returns
    (basis, its position)."""
    from planner.solve import warm as warm_mod

    if warm_mod.mode(options) == "off" or (all(n == "base" for n in names) and not more):
        return None, None
    result, start = batch.solve("base", capture=True)
    at = names.index("base") if "base" in names else None
    if at is not None:
        collect([at], [result])
    return start, at


def _run_processes(plan: PlanData, every: list[str], names: list[str], todo: list[int],
                   options: dict[str, Any] | None, start: Basis | None,
                   workers: int, chunk: int | None, collect: Collect) -> None:
    workers = min(workers, len(todo), os.cpu_count() or workers)
    # about 8 chunks per worker: balances uneven cases, amortises per-task overhead
    size = chunk or max(1, min(32, len(todo) // (workers * 8)))
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker,
                             initargs=(plan, every, options, start)) as pool:
        futures: dict[Future[list[CaseResult]], list[int]] = {}
        for part in chunks(todo, size):
            futures[pool.submit(_solve_in_worker, [names[i] for i in part])] = part
        for fut in as_completed(futures):
            collect(futures[fut], fut.result())


def _run_dask(plan: PlanData, every: list[str], names: list[str], todo: list[int],
              options: dict[str, Any] | None, start: Basis | None,
              client: Any, size: int, collect: Collect) -> None:
    import uuid

    from distributed import as_completed as dask_completed

    token = uuid.uuid4().hex
    plan_future = client.scatter(plan, broadcast=True)
    start_future = client.scatter(start, broadcast=True) if start is not None else None
    parts: dict[Any, list[int]] = {}
    futures = []
    for part in chunks(todo, size):
        fut = client.submit(_dask_solve, plan_future, every, token, [names[i] for i in part],
                            options, start_future, pure=False)
        parts[fut.key] = part
        futures.append(fut)
    for fut in dask_completed(futures):
        collect(parts[fut.key], fut.result())
