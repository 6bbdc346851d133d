"""Solve a built model with HiGHS, with duals: the typed solver boundary.

Models go to HiGHS as arrays (planner.solve.arrays, the one translator); solver
option ``translator=pyomo`` sends them through Pyomo's own HiGHS interface instead
(the reference the tests compare with).

Every termination is mapped to a :class:`Status`; no solver exception leaks
out.  A status that is not a result (``error``, ``unknown``,
``solver_missing``) always carries its cause: HiGHS's own words where it gave
any, and the planner's explanation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

from planner.solve.options import (  # noqa: F401 - the solver's options, re-exported
    MAX_THREADS,
    NOT_SOLVER_OPTIONS,
    clamp_threads,
    gap_options,
    solver_options,
)
from planner.solve.status import CAUSES, Status

if TYPE_CHECKING:
    from planner.solve.warm import WarmStart


_STATUS = {
    TerminationCondition.convergenceCriteriaSatisfied: Status.OPTIMAL,
    TerminationCondition.provenInfeasible: Status.INFEASIBLE,
    TerminationCondition.locallyInfeasible: Status.INFEASIBLE,
    # Every cost is non-negative, so the objective is bounded below by 0:
    # "infeasible or unbounded" can only be infeasible here.
    TerminationCondition.infeasibleOrUnbounded: Status.INFEASIBLE,
    TerminationCondition.unbounded: Status.UNBOUNDED,
    TerminationCondition.maxTimeLimit: Status.TIME_LIMIT,
    TerminationCondition.iterationLimit: Status.ITERATION_LIMIT,
    TerminationCondition.interrupted: Status.INTERRUPTED,
    TerminationCondition.objectiveLimit: Status.OBJECTIVE_LIMIT,
    TerminationCondition.error: Status.ERROR,
    TerminationCondition.unknown: Status.UNKNOWN,
}

@dataclass
class SolveResult:
    """What the solver said, and whether values were loaded into the model."""

    status: Status
    seconds: float
    has_solution: bool
    duals: dict[Any, float] = field(default_factory=dict)
    #: why the solve ended as it did (empty for an optimum): the planner's words,
    #: then HiGHS's own where it gave any
    message: str = ""
    #: the solve started from a warm basis (:mod:`planner.solve.warm`)
    warm: bool = False
    #: this solve's optimal basis, when asked for (``solve(..., capture=True)``)
    basis: WarmStart | None = None


def _highs(model: pyo.ConcreteModel, options: dict[str, Any] | None,
           warm: WarmStart | None = None, capture: bool = False) -> Any:
    """One HiGHS call, without loading anything into the model.

    ``options["translator"]``: ``"direct"`` (also ``"auto"``, the default) passes the model
    as arrays (:mod:`planner.solve.arrays`, the planner's one translator); ``"pyomo"``
    through Pyomo's own HiGHS interface, the reference the tests compare with.  Either
    way the result offers termination_condition, solution_status and
    solution_loader.load_vars() / get_duals().  With ``warm`` or ``capture`` and
    :func:`planner.solve.warm.applies`, the result is a :class:`planner.solve.warm.Outcome`
    (started from ``warm``'s basis when the model fits it, else cold).
    """
    opts = dict(options or {})
    pyomo_interface = opts.pop("translator", None) == "pyomo"
    opts.pop("warm", None)
    # A forced Pyomo interface means no arrays, hence no basis to start from.
    if (warm is not None or capture) and not pyomo_interface:
        from planner.solve import warm as warm_mod

        if warm_mod.applies(model, options):
            c = warm_mod.compile_model(model)
            fits = warm is not None and warm.fits(c)
            return warm_mod.solve_compiled(c, opts, warm if fits else None)
    if not pyomo_interface:
        from planner.solve import arrays as highs_direct

        return highs_direct.solve(model, opts)
    time_limit = opts.pop("time_limit", None)
    threads = opts.pop("threads", None)
    from planner.solve.runtime import prepare

    prepare(threads)
    kwargs: dict[str, Any] = {"load_solutions": False,
                              "raise_exception_on_nonoptimal_result": False,
                              "solver_options": {"output_flag": False, **opts}}
    if time_limit:
        kwargs["time_limit"] = float(time_limit)
    if threads:
        kwargs["threads"] = int(threads)
    return SolverFactory("highs").solve(model, **kwargs)


def solve(model: pyo.ConcreteModel, options: dict[str, Any] | None = None,
          warm: WarmStart | None = None, capture: bool = False) -> SolveResult:
    """Solve ``model`` in place; load primal values and duals when a solution exists.

    ``warm``: start simplex from this basis (the base case's) when the model has
    its structure; ``capture``: return this solve's optimal basis in
    ``SolveResult.basis``.  Both only where :func:`planner.solve.warm.applies`; without
    them the solve is exactly the cold one.
    """
    start = time.perf_counter()
    if next(model.component_data_objects(pyo.Var, active=True), None) is None:
        # Nothing to decide (e.g. the blank template): the empty plan is optimal.
        return SolveResult(Status.OPTIMAL, time.perf_counter() - start, True)
    try:
        res = _highs(model, options, warm, capture)
    except Exception as exc:  # noqa: BLE001 - report solver failures as a status
        status, message = failure(exc)
        return SolveResult(status, time.perf_counter() - start, False, message=message)
    warmed = False
    basis = None
    if warm is not None or capture:
        from planner.solve import warm as warm_mod

        if isinstance(res, warm_mod.Outcome):
            warmed = res.warm
            res = res.results
            basis = warm_mod.capture(res) if capture else None
    status, has, message = status_of(res)
    duals: dict[Any, float] = {}
    if has:
        res.solution_loader.load_vars()
        if status is Status.OPTIMAL:
            try:
                duals = dict(res.solution_loader.get_duals())
            except Exception:  # noqa: BLE001 - duals are optional extras
                duals = {}
    if status is Status.OPTIMAL:
        _lexicographic(model, options)
    return SolveResult(status, time.perf_counter() - start, has, duals, message=message,
                       warm=warmed, basis=basis)


def failure(exc: Exception) -> tuple[Status, str]:
    """The status and cause of a solve that raised ``exc``: a missing solver library
    is ``solver_missing``, anything else ``error``; the cause names the exception."""
    if isinstance(exc, ImportError):
        return Status.SOLVER_MISSING, (f"{CAUSES[Status.SOLVER_MISSING]}: {exc}. "
                                       "Reinstall the planner (pip install -e .).")
    return Status.ERROR, f"{CAUSES[Status.ERROR]}: {type(exc).__name__}: {exc}"


def status_of(res: Any) -> tuple[Status, bool, str]:
    """(status, whether a solution exists, cause) of a solver result (Pyomo's or
    :class:`planner.solve.arrays.Results`)."""
    status = _STATUS.get(res.termination_condition, Status.UNKNOWN)
    has = res.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
    return status, has, "" if status is Status.OPTIMAL else _cause(status, res)


def _loaded(var: Any) -> float | None:
    """A variable's value as loaded into the model (a tie-break's ``value``)."""
    return pyo.value(var, exception=False)


def _cause(status: Status, res: Any) -> str:
    """The planner's words for ``status``, then what HiGHS said (its model status)."""
    said = getattr(res, "highs_status", None)
    term = getattr(res.termination_condition, "name", str(res.termination_condition))
    words = CAUSES[status]
    if status.is_failure:
        words += f" (termination: {term}" + (f"; HiGHS: {said}" if said else "") + ")"
    return words


def _lexicographic(model: pyo.ConcreteModel, options: dict[str, Any] | None) -> None:
    """Among cost-optimal plans, load the one the model's tie-breaks prefer.

    The model declares its tie-breaks (``model.tie_breaks``: callables of the model
    and a variable's value that return an expression to minimise, or None to skip;
    see :data:`planner.model.build.TIE_BREAKS`).
    The active objective is held at its optimum, then each
    tie-break is minimised in turn, each held at its own optimum for the next.  This
    solver layer knows nothing of what they mean.  Duals stay those of the cost
    model; when a stage fails, the plan of the last stage that solved stands (it is
    equally optimal).  Everything added is removed and only the objective that was
    active goes back on (a caller may have deactivated another, e.g. a stress model's
    own total_cost).
    """
    stages = getattr(model, "tie_breaks", ())
    if not stages:
        return
    objective = next(model.component_data_objects(pyo.Objective, active=True))
    before = {c.local_name for c in model.component_objects(descend_into=False)}
    held: list[Any] = [objective.expr]
    bests = [pyo.value(objective)]
    objective.deactivate()
    try:
        for stage in stages:
            expr = stage(model, _loaded)
            if expr is None:
                continue
            for i, (e, best) in enumerate(zip(held, bests, strict=True)):
                name = f"_tie_hold_{i}"
                if model.component(name) is None:
                    # Held at the optimum itself: HiGHS's own feasibility tolerance is
                    # the only slack, so a tie-break cannot raise the cost it reports.
                    model.add_component(name, pyo.Constraint(expr=e <= best))
            model.del_component("_tie_goal")
            model._tie_goal = pyo.Objective(expr=expr, sense=pyo.minimize)
            try:
                res = _highs(model, options)
            except Exception:  # noqa: BLE001 - the last plan stands
                break
            if res.solution_status != SolutionStatus.optimal:
                break
            res.solution_loader.load_vars()
            held.append(expr)
            bests.append(pyo.value(expr))
    finally:
        for comp in list(model.component_objects(descend_into=False)):
            if comp.local_name not in before:
                model.del_component(comp)
        objective.activate()


def tie_break_arrays(h: Any, model: pyo.ConcreteModel, col_of: dict[int, int],
                     values: Any, present: Any, cost: Any) -> Any:
    """:func:`_lexicographic` on a model HiGHS already holds as arrays (the
    one-model-many-cases engine, :mod:`planner.run.batch`): the same tie-breaks of
    ``model.tie_breaks``, each held at its optimum by an added row, solved on ``h``
    from where the cost solve ended.  ``values`` are the column values of the cost
    optimum, ``present`` marks the columns the case has (the others are fixed at 0 and
    are None to a tie-break), ``cost`` the case's objective.  Returns the column
    values of the last stage that solved; every added row and column is removed and
    the Pyomo model left as it was.
    """
    import highspy
    import numpy as np

    from planner.solve import arrays as hd

    stages = getattr(model, "tie_breaks", ())
    n, rows0 = h.getNumCol(), h.getNumRow()
    x = np.asarray(values, dtype=float)
    if not stages:
        return x

    def value(var: Any) -> float | None:
        j = col_of.get(id(var))
        return None if j is None or j >= n or not present[j] else float(x[j])

    nz = np.flatnonzero(cost)
    # (columns, coefficients, upper bound) of each objective held at its optimum
    holds: list[tuple[Any, Any, float]] = [(nz, np.asarray(cost)[nz], float(np.dot(cost, x)))]
    added = 0
    passed: set[str] = set()
    before = {c.local_name for c in model.component_objects(descend_into=False)}
    known = col_of  # copied before a stage adds columns: ``col_of`` stays the model's
    try:
        for stage in stages:
            expr = stage(model, value)
            if expr is None:
                continue
            for comp in list(model.component_objects(pyo.Block, descend_into=False)):
                if comp.local_name not in before and comp.local_name not in passed:
                    if known is col_of:
                        known = dict(col_of)
                    hd.add_block(h, comp, known)
                    passed.add(comp.local_name)
            for cols, coefs, best in holds[added:]:
                h.addRow(-hd.INF, best, len(cols), cols.astype(np.int32), coefs)
            added = len(holds)
            vars_, coefs, _ = hd.linear_of(expr)
            cols = np.fromiter((known[id(v)] for v in vars_), dtype=np.int64, count=len(vars_))
            goal = np.zeros(h.getNumCol())
            np.add.at(goal, cols, coefs)
            h.changeColsCost(len(goal), np.arange(len(goal), dtype=np.int32), goal)
            try:
                h.run()
            except Exception:  # noqa: BLE001 - the last plan stands (equally optimal)
                break
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                break
            full = np.asarray(h.getSolution().col_value, dtype=float)
            x = full[:n]
            nz = np.flatnonzero(goal)
            holds.append((nz, goal[nz], float(np.dot(goal, full))))
    finally:
        if h.getNumRow() > rows0:
            extra = np.arange(rows0, h.getNumRow(), dtype=np.int32)
            h.deleteRows(len(extra), extra)
        if h.getNumCol() > n:
            extra = np.arange(n, h.getNumCol(), dtype=np.int32)
            h.deleteCols(len(extra), extra)
        for comp in list(model.component_objects(descend_into=False)):
            if comp.local_name not in before:
                model.del_component(comp)
    return x
