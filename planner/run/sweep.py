"""Scenario sweeps: solve many cases sequentially, in local processes or on Dask.

Every case is solved on one shared model (:mod:`planner.run.batch`): the LP of
every case a run asks for is built and translated once, as their superset, and
each case is a change of that model's bounds, right-hand sides and costs.  Local
worker processes and Dask workers each build the same shared model once (a
process-pool initializer; a per-worker cache on Dask) and then solve chunks of case
names; only names go out and tidy :class:`CaseResult`
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

import sys
from collections.abc import Callable, Sequence
from typing import Any

from planner.analysis.results import CaseResult
from planner.inputs.data import PlanData
from planner.run.batch import Basis, Batch, failed, scenario_variants
from planner.run.engine import Ordered, connect, map_chunks
from planner.scenario.cases import Index

Progress = Callable[[CaseResult], None]

def solve_names(plan: PlanData, names: Sequence[str], options: dict[str, Any] | None = None,
                ix: Index | None = None) -> list[CaseResult]:
    """Solve the named cases one after another, each on its own model (the reference
    path, used for solver option ``translator`` ``pyomo``)."""
    from planner.run.case import solve_case

    ix = ix or Index.build(plan)
    return [solve_case(plan, name, ix, options) for name in names]


def _every(names: Sequence[str]) -> list[str]:
    """The cases the shared model is built for: ``names``, and the base case."""
    return list(names) if "base" in names else ["base", *names]


def _shared(plan: PlanData, every: list[str], options: dict[str, Any] | None,
            start: Basis | None = None) -> tuple[Batch, Basis | None]:
    """A worker's context (:func:`planner.run.engine.map_chunks`): the shared model of
    the sweep's cases, and the base basis every case starts from."""
    ix = Index.build(plan)
    return Batch(plan, scenario_variants(plan, ix, every), ix, options), start


def _solve_chunk(context: tuple[Batch, Basis | None], names: list[str]) -> list[CaseResult]:
    batch, start = context
    return [batch.solve(n, start)[0] for n in names]


def _own_models(context: tuple[PlanData, Index, dict[str, Any] | None],
                names: list[str]) -> list[CaseResult]:
    plan, ix, options = context
    return solve_names(plan, names, options, ix)


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
           ) -> tuple[list[str], Batch, Basis | None] | None:
    if _kept is not None and _kept[0] is plan and _kept[1] == _options_key(options) \
            and set(every) <= set(_kept[2]):
        return _kept[2], _kept[3], _kept[4]
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
    global _kept
    names = list(names)
    meter = _Bar(len(names), bar)
    collect = Ordered(len(names), progress, meter.update)
    client, own = None, False
    try:
        if scheduler is not None:
            client, own = connect(scheduler)
        spread: dict[str, Any] = {"workers": workers, "client": client, "chunk": chunk}
        if (options or {}).get("translator") == "pyomo":
            ix = Index.build(plan)
            map_chunks(_own_context, (plan, options), _own_models, names, collect,
                       local=(plan, ix, options), **spread)
            return collect.results()
        every = _every([*names, *(n for n in prepare if n not in names)])
        kept = _reuse(plan, every, options)
        base_at = None
        if kept is not None:
            every, batch, start = kept
        else:
            try:
                batch, _ = _shared(plan, every, options)
            except Exception as exc:  # noqa: BLE001 - every case carries the cause
                collect(list(range(len(names))), failed(names, exc))
                return collect.results()
            start, base_at = _base_first(batch, names, options, collect, bool(prepare))
            if prepare:
                _kept = (plan, _options_key(options), every, batch, start)
        todo = [i for i in range(len(names)) if i != base_at]
        map_chunks(_shared, (plan, every, options, start), _solve_chunk,
                   [names[i] for i in todo],
                   lambda at, rs: collect([todo[i] for i in at], rs),
                   local=(batch, start), **spread)
    finally:
        meter.close()
        if own and client is not None:
            client.close()
    return collect.results()


def _own_context(plan: PlanData, options: dict[str, Any] | None
                 ) -> tuple[PlanData, Index, dict[str, Any] | None]:
    return plan, Index.build(plan), options


def _base_first(batch: Batch, names: list[str], options: dict[str, Any] | None,
                collect: Ordered, more: bool = False) -> tuple[Basis | None, int | None]:
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
