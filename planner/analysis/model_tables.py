"""The tidy tables read off a solved Pyomo model (the single-case path: a case alone on
its own model, the hedge's sub-blocks), through the same :func:`tables_of` and
:func:`family_rows` the shared-model engine uses."""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from planner.analysis.results import (
    CaseResult,
    Row,
    RowValues,
    family_rows,
    start_result,
    tables_of,
)
from planner.inputs.data import PlanData
from planner.model.families import COST_PARTS, FAMILIES, Family
from planner.scenario.cases import Case
from planner.scenario.groups import Groups
from planner.solve.arrays import evaluate
from planner.solve.solver import SolveResult


def extract(plan: PlanData, case: Case, model: pyo.ConcreteModel, g: Groups,
            res: SolveResult) -> CaseResult:
    """Read the tidy tables off a solved Pyomo model (only the Summary when there is no
    plan).  The one-model-many-cases engine reads the same tables off HiGHS's arrays
    (:func:`tables_of`)."""
    out = start_result(case.name, res.status, res.seconds, res.message)
    if not res.has_solution:
        return out
    values = {name: {k: _number(v.value) for k, v in comp.items()}
              for name in ("x", "s", "u", "v")
              for comp in (model.component(name),) if comp is not None}
    # every cost part, evaluated in bulk
    parts = dict(zip([p.component for p in COST_PARTS],
                     evaluate([model.component(p.component).expr for p in COST_PARTS]).tolist(),
                     strict=True))
    rows = constraint_rows(plan, model, res, case.name)
    return tables_of(plan, case, g, out, values, parts, rows)


def constraint_rows(plan: PlanData, model: pyo.ConcreteModel, res: SolveResult,
                    scenario: str) -> list[Row]:
    """Every balance, capacity, quota, cap and stockpile constraint of a solved Pyomo
    model: slack and shadow price (:func:`family_rows`)."""
    by_family: dict[str, list[RowValues]] = {}
    items: list[tuple[Family, Any, Any]] = []
    for fam in FAMILIES:
        if not fam.reported:
            continue
        block = getattr(model, fam.component[0], None)
        con = getattr(block, fam.component[1], None) if block is not None else None
        if con is None:
            continue
        items.extend((fam, k, c) for k, c in con.items())
    bounded = [c.to_bounded_expression(evaluate_bounds=True) for _, _, c in items]
    # bodies evaluated in bulk (Pyomo's expression walker takes seconds per 100k terms)
    bodies = evaluate([b for _, b, _ in bounded]).tolist()
    for (fam, k, c), (lb, _, ub), body in zip(items, bounded, bodies, strict=True):
        by_family.setdefault(fam.key, []).append((k, lb, ub, body, res.duals.get(c)))
    return family_rows(plan, by_family, scenario)


def _number(x: Any) -> float:
    return 0.0 if x is None else float(x)
