"""One case end to end: build its model, solve it, read its tables, explain it.

The one function every engine calls for a case (sequential sweeps, process pools,
Dask workers), so a case's answer never depends on where it was solved.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from planner.analysis.excluded import describe
from planner.analysis.model_tables import extract
from planner.analysis.results import CaseResult
from planner.inputs.data import PlanData
from planner.model.build import build_model
from planner.scenario.cases import Index, build_case
from planner.solve.solver import solve, solver_options

if TYPE_CHECKING:
    from planner.solve.warm import WarmStart


def solve_case(plan: PlanData, name: str = "base", ix: Index | None = None,
               options: dict[str, Any] | None = None,
               warm: WarmStart | None = None) -> CaseResult:
    """Build and solve one case (``base`` or a scenario name) and extract its tables.

    ``warm`` (from :func:`solve_base`) starts simplex from the base case's optimal
    basis when the case's LP has the base's structure (see :mod:`planner.solve.warm`).
    """
    return _solve_case(plan, name, ix, options, warm, capture=False)[0]


def solve_base(plan: PlanData, ix: Index | None = None,
               options: dict[str, Any] | None = None
               ) -> tuple[CaseResult, WarmStart | None]:
    """Solve the base case (cold) and capture its optimal basis as the warm start of
    every scenario; the basis is None where warm starts do not apply
    (:func:`planner.solve.warm.applies`, solver option ``warm``) or the base is not optimal."""
    return _solve_case(plan, "base", ix, options, None, capture=True)


def _solve_case(plan: PlanData, name: str, ix: Index | None,
                options: dict[str, Any] | None, warm: WarmStart | None,
                capture: bool) -> tuple[CaseResult, WarmStart | None]:
    ix = ix or Index.build(plan)
    case = build_case(plan, ix, name)
    model, groups = build_model(plan, ix, case)
    options = dict(options or {})
    export = options.pop("export_lp", None)
    if export:
        from planner.solve.arrays import write_mps

        write_mps(model, str(lp_path(export, name)))
    res = solve(model, solver_options(plan.settings, options), warm=warm, capture=capture)
    result = describe(extract(plan, case, model, groups, res), plan, ix, case)
    if res.status == "infeasible":
        from planner.analysis.explain import explain_infeasible

        result.explanation = explain_infeasible(plan, ix, case)
    return result, res.basis


def lp_path(directory: str | Path, case: str) -> Path:
    """Where ``--export-lp DIR`` writes a case's LP: DIR/<case>.mps, the case name made
    safe for a file name (anything but letters, digits, - and _ becomes _)."""
    import re

    return Path(directory) / (re.sub(r"[^A-Za-z0-9_-]", "_", case) + ".mps")


