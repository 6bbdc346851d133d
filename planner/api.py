"""The Python API: load, solve, write the report.  The CLI is a thin layer on it.

>>> from planner.api import load, solve_all, write
>>> plan = load("inputs/example.xlsx")          # doctest: +SKIP
>>> results = solve_all(plan)                    # doctest: +SKIP
>>> write(plan, results, "reports/example.xlsx") # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.inputs.data import PlanData
from planner.inputs.problems import InputError, Problem
from planner.scenario.cases import Index, case_names
from planner.scenario.plan import load_plan, plan_from_rows
from planner.solve.status import Status

if TYPE_CHECKING:
    from planner.analysis.policy import PolicyCost
    from planner.analysis.results import CaseResult
    from planner.report.workbook import RunInfo
    from planner.resilience.analyse import ResilienceReport
    from planner.resilience.hedge import HedgeResult
    from planner.solve.warm import WarmStart

#: names this facade re-exports from the solver-side modules, imported on first use so
#: that loading and validating a workbook never loads Pyomo (PEP 562)
_LAZY = {"CaseResult": "planner.analysis.results", "RunInfo": "planner.report.workbook",
         "PolicyCost": "planner.analysis.policy"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'planner.api' has no attribute {name!r}")

__all__ = ["load", "plan_from_rows", "solve_case", "solve_base", "solve_all", "write", "run",
           "default_report_path", "RunOutcome", "exit_code", "Status", "InputError",
           "policy_costs", "RunInfo", "PolicyCost", "check_risks", "resilience",
           "write_resilience", "CaseResult", "hedge", "write_hedge", "default_hedge_path"]


def load(path: str | Path) -> PlanData:
    """Read and validate a workbook; raises :class:`InputError` listing every problem."""
    return load_plan(path)


def solve_case(plan: PlanData, name: str = "base", ix: Index | None = None,
               options: dict[str, Any] | None = None,
               warm: WarmStart | None = None) -> CaseResult:
    """Build and solve one case (``base`` or a scenario name) and extract its tables
    (:func:`planner.run.case.solve_case`)."""
    from planner.run.case import solve_case as _solve

    return _solve(plan, name, ix, options, warm)


def solve_base(plan: PlanData, ix: Index | None = None,
               options: dict[str, Any] | None = None
               ) -> tuple[CaseResult, WarmStart | None]:
    """Solve the base case and capture its basis for warm starts
    (:func:`planner.run.case.solve_base`)."""
    from planner.run.case import solve_base as _solve

    return _solve(plan, ix, options)


def solve_all(plan: PlanData, scenarios: list[str] | None = None,
              options: dict[str, Any] | None = None,
              progress: Callable[[CaseResult], None] | None = None,
              workers: int = 1, scheduler: Any = None,
              with_policy: bool = False) -> list[CaseResult]:
    """The base case, then each scenario (all, or those named), in sheet order.

    Every case is solved on one shared model (:mod:`planner.run.batch`).
    ``workers`` > 1 solves the cases in that many local processes, and
    ``scheduler`` (a Dask scheduler address or ``distributed.Client``) on a
    Dask cluster (see :mod:`planner.run.sweep`); the results are the same either way:
    every backend solves the base case first and starts each scenario from its basis
    (solver option ``warm``).  ``with_policy``: the shared model also holds the policy
    re-solves, and is kept for :func:`policy_costs` to reuse.
    """
    unknown = [s for s in scenarios or [] if s not in plan.scenarios and s != "base"]
    if unknown:
        raise InputError([Problem("Scenarios", None, "scenario", s,
                                  "a scenario named in the Scenarios sheet",
                                  "Known: " + (", ".join(plan.scenarios) or "none") + ".")
                          for s in unknown])
    from planner.analysis.policy import policies
    from planner.run.sweep import run_sweep

    names = case_names(plan, scenarios)
    prepare = [p.case for p in policies(plan)] if with_policy and "base" in names else []
    parallel = workers > 1 or scheduler is not None
    return run_sweep(plan, names, options, workers=workers, scheduler=scheduler,
                     progress=progress, bar=None if parallel else False, prepare=prepare)


def write(plan: PlanData, results: list[CaseResult], path: str | Path,
          info: RunInfo | None = None, policy: list[PolicyCost] | None = None) -> Path:
    """Write the report workbook atomically (``policy`` from :func:`policy_costs`)."""
    from planner.report.workbook import RunInfo, write_report

    info = info or RunInfo(plan.source)
    if not info.solver_version:
        try:
            from planner.solve.runtime import version

            info.solver_version = version()
        except Exception:  # noqa: BLE001 - a missing version is not worth failing a report
            pass
    return write_report(plan, results, path, info, policy)


def policy_costs(plan: PlanData, results: list[CaseResult],
                 options: dict[str, Any] | None = None,
                 progress: Callable[[PolicyCost], None] | None = None) -> list[PolicyCost]:
    """What each active rule, cap and the stockpile minimums cost the base case: the base
    case re-solved without each, as cases of the shared model (the one
    :func:`solve_all` kept when asked ``with_policy``, else a new one).

    Empty when the base case was not among ``results``.
    """
    from planner.analysis.policy import policies
    from planner.analysis.policy import policy_costs as _costs
    from planner.run.sweep import release, run_sweep

    base = next((r for r in results if r.name == "base"), None)
    if base is None:
        return []
    try:
        names = [p.case for p in policies(plan)]
        solved = run_sweep(plan, names, options, bar=False) if names else []
    finally:
        release()
    return _costs(plan, base, {r.name: r for r in solved}, progress)


def default_report_path(input_path: str | Path) -> Path:
    """reports/<input name>-report.xlsx, relative to the working directory."""
    return Path("reports") / f"{Path(input_path).stem}-report.xlsx"


@dataclass
class RunOutcome:
    plan: PlanData
    results: list[CaseResult]
    report: Path

    @property
    def exit_code(self) -> int:
        """The contract's exit code of a run: see :func:`exit_code`."""
        return exit_code(self.results)


def exit_code(results: list[CaseResult]) -> int:
    """0 when every case solved to optimality; 3 when a case could not be solved
    (solver error, unknown end, solver missing); else 1 (a case infeasible,
    unbounded or stopped at a limit).  3 wins over 1: the solver's failure says
    nothing about the plan, so it must not read as "infeasible"."""
    statuses = [Status.of(str(r.status)) for r in results]
    if any(s.is_failure for s in statuses):
        return 3
    return 0 if all(s is Status.OPTIMAL for s in statuses) else 1


def run(path: str | Path, out: str | Path | None = None, scenarios: list[str] | None = None,
        options: dict[str, Any] | None = None,
        progress: Callable[[CaseResult], None] | None = None,
        workers: int = 1, scheduler: Any = None, with_policy: bool = True) -> RunOutcome:
    """Validate, solve every case and write the report (what ``planner run`` does).

    ``with_policy=False`` skips re-solving the base case without each policy.
    """
    from planner.inputs.problems import refuse_overwriting_input
    from planner.report.workbook import RunInfo

    target = out or default_report_path(path)
    refuse_overwriting_input(path, target)
    info = RunInfo(str(path), options=dict(options or {}))
    plan = load(path)
    results = solve_all(plan, scenarios, options, progress, workers, scheduler,
                        with_policy=with_policy)
    started = time.perf_counter()
    policy = policy_costs(plan, results, options) if with_policy else None
    info.policy_seconds = time.perf_counter() - started if with_policy else None
    report = write(plan, results, target, info, policy)
    return RunOutcome(plan, results, report)


def check_risks(plan: PlanData) -> None:
    """Validate the optional Risks sheet and Countries.risk_score; raises InputError."""
    from planner.analysis.risk import read_risk_inputs

    read_risk_inputs(plan)


def resilience(plan: PlanData, **kwargs: Any) -> ResilienceReport:
    """Stress test, Monte Carlo, supply risk and stockpile sizing (``planner stress``);
    keyword arguments as :func:`planner.resilience.analyse.analyse`.  Returns a ResilienceReport."""
    from planner.resilience.analyse import analyse

    return analyse(plan, **kwargs)


def write_resilience(plan: PlanData, report: ResilienceReport, path: str | Path) -> Path:
    """Write the base case's report with the Resilience sheet in front, atomically."""
    from planner.report.resilience import write_resilience_report

    return write_resilience_report(plan, report, path)


def hedge(plan: PlanData, options: dict[str, Any] | None = None) -> HedgeResult:
    """The two-stage hedge of contract section 6 (``planner hedge``): shared orders through
    Settings ``commit_through``, the measures, the frontier and each scenario's recourse.

    Raises :class:`InputError` when the workbook has no Probabilities sheet (or it is
    empty).  See :mod:`planner.resilience.hedge`.
    """
    from planner.resilience.hedge import hedge as _hedge

    return _hedge(plan, options)


def write_hedge(plan: PlanData, result: HedgeResult, path: str | Path) -> Path:
    """Write the hedge report (Dashboard, Hedge, Commitments, ...) atomically."""
    from planner.report.hedge import write_hedge_report

    return write_hedge_report(plan, result, path)


def default_hedge_path(input_path: str | Path) -> Path:
    """reports/<input name>-hedge.xlsx, relative to the working directory."""
    return Path("reports") / f"{Path(input_path).stem}-hedge.xlsx"
