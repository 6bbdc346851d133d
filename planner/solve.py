"""Solve a built model with HiGHS through Pyomo's HiGHS interface, with duals.

Every termination is mapped to a status word for the report; no solver
exception leaks out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

from planner.data import Settings

_STATUS = {
    TerminationCondition.convergenceCriteriaSatisfied: "optimal",
    TerminationCondition.provenInfeasible: "infeasible",
    TerminationCondition.locallyInfeasible: "infeasible",
    # Every cost is non-negative, so the objective is bounded below by 0:
    # "infeasible or unbounded" can only be infeasible here.
    TerminationCondition.infeasibleOrUnbounded: "infeasible",
    TerminationCondition.unbounded: "unbounded",
    TerminationCondition.maxTimeLimit: "time_limit",
    TerminationCondition.iterationLimit: "iteration_limit",
    TerminationCondition.interrupted: "interrupted",
}


@dataclass
class SolveResult:
    """What the solver said, and whether values were loaded into the model."""

    status: str
    seconds: float
    has_solution: bool
    duals: dict[Any, float] = field(default_factory=dict)
    message: str = ""


def solver_options(settings: Settings, overrides: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
    """HiGHS options from Settings (time_limit, threads, method), CLI overrides last."""
    opts: dict[str, Any] = {}
    if settings.time_limit:
        opts["time_limit"] = float(settings.time_limit)
    if settings.threads:
        opts["threads"] = int(settings.threads)
    if settings.method and settings.method != "choose":
        opts["solver"] = settings.method
    opts.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return opts


def gap_options(gap: float | None) -> dict[str, Any]:
    """HiGHS options for a relative optimality gap: the duality-gap tolerances of the
    interior-point and PDLP methods (simplex always solves to optimality)."""
    if gap is None:
        return {}
    return {"ipm_optimality_tolerance": float(gap), "pdlp_d_gap_tol": float(gap)}


def solve(model: pyo.ConcreteModel, options: dict[str, Any] | None = None) -> SolveResult:
    """Solve ``model`` in place; load primal values and duals when a solution exists."""
    opts = dict(options or {})
    time_limit = opts.pop("time_limit", None)
    threads = opts.pop("threads", None)
    start = time.perf_counter()
    try:
        solver = SolverFactory("highs")
        kwargs: dict[str, Any] = {"load_solutions": False,
                                  "raise_exception_on_nonoptimal_result": False,
                                  "solver_options": {"output_flag": False, **opts}}
        if time_limit:
            kwargs["time_limit"] = float(time_limit)
        if threads:
            kwargs["threads"] = int(threads)
        res = solver.solve(model, **kwargs)
    except Exception as exc:  # noqa: BLE001 - report solver failures as a status
        return SolveResult("error", time.perf_counter() - start, False, message=str(exc))
    status = _STATUS.get(res.termination_condition, str(res.termination_condition.name))
    has = res.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
    duals: dict[Any, float] = {}
    if has:
        res.solution_loader.load_vars()
        if status == "optimal":
            try:
                duals = dict(res.solution_loader.get_duals())
            except Exception:  # noqa: BLE001 - duals are optional extras
                duals = {}
    return SolveResult(status, time.perf_counter() - start, has, duals)
