"""Solve a built model with HiGHS through Pyomo's HiGHS interface, with duals.

Every termination is mapped to a status word for the report; no solver
exception leaks out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import pyomo.environ as pyo
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


def _highs(model: pyo.ConcreteModel, options: dict[str, Any] | None) -> Any:
    """One HiGHS call, without loading anything into the model.

    The model goes to HiGHS as arrays through :mod:`planner.highs_direct`
    (several times faster to translate than Pyomo's persistent HiGHS
    interface, with the same results interface: termination_condition,
    solution_status, solution_loader.load_vars() and get_duals()).
    """
    from planner import highs_direct

    return highs_direct.solve(model, options)


def solve(model: pyo.ConcreteModel, options: dict[str, Any] | None = None) -> SolveResult:
    """Solve ``model`` in place; load primal values and duals when a solution exists."""
    start = time.perf_counter()
    if next(model.component_data_objects(pyo.Var, active=True), None) is None:
        # Nothing to decide (e.g. the blank template): the empty plan is optimal.
        return SolveResult("optimal", time.perf_counter() - start, True)
    try:
        res = _highs(model, options)
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
    if status == "optimal" and hasattr(model, "u"):
        _least_unmet(model, options)
    return SolveResult(status, time.perf_counter() - start, has, duals)


def _least_unmet(model: pyo.ConcreteModel, options: dict[str, Any] | None) -> None:
    """Among cost-optimal plans, load one that leaves the least demand unmet.

    Ties are common: with the default penalties a tonne short of demand and a tonne
    short of the stockpile minimum cost the same, and the LP alone would pick either.
    A stockpile exists to be drawn down, so the cost is held at its optimum (within
    1e-9 relative) while unmet demand is minimised.  Duals stay those of the cost
    model; if this second solve fails, the first (equally optimal) plan stands.
    """
    unmet = sum(pyo.value(u, exception=False) or 0.0 for u in model.u.values())
    if unmet <= 1e-7:
        return
    best = pyo.value(model.total_cost)
    model.total_cost.deactivate()
    model.tie_cost = pyo.Constraint(
        expr=model.total_cost.expr <= best + 1e-9 * max(1.0, abs(best)))
    model.tie_unmet = pyo.Objective(expr=pyo.quicksum(model.u.values()), sense=pyo.minimize)
    try:
        res = _highs(model, options)
        if res.solution_status == SolutionStatus.optimal:
            res.solution_loader.load_vars()
    except Exception:  # noqa: BLE001 - the first plan stands
        pass
    finally:
        model.del_component(model.tie_unmet)
        model.del_component(model.tie_cost)
        model.total_cost.activate()
