"""Load a workbook into a checked plan: read and validate it (:mod:`planner.inputs`),
then the checks that need the base case (end values against delivered prices, and
the warnings about offers, caps, floors, prices and periods)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from planner import collector
from planner.inputs.data import PlanData
from planner.inputs.excel import RawTable
from planner.inputs.problems import InputError
from planner.inputs.schema import SHEETS, norm_name
from planner.inputs.validate import Validator, read_plan
from planner.scenario.checks import end_value_problems, warnings_for


def load_plan(path: str | Path) -> PlanData:
    """Read, validate and check a workbook; raise :class:`InputError` with every problem.
    (The collector is paused: reading makes many objects and no garbage.)"""
    with collector.paused():
        return _checked(read_plan(path))


def _checked(plan: PlanData) -> PlanData:
    """The checks that need the base case, added to a validated plan."""
    problems, warned = end_value_problems(plan)
    if problems:
        raise InputError(problems, plan.warnings + warned)
    plan.warnings.extend(warned)
    plan.warnings.extend(warnings_for(plan))
    return plan


def plan_from_rows(rows: dict[str, list[dict[str, Any]]], source: str = "rows",
                   checks: bool = True) -> PlanData:
    """A plan from ``sheet -> list of row dicts`` held in memory (notebooks, generators,
    benchmarks), validated exactly as a workbook would be, with the base-case checks
    unless ``checks`` is False; raises :class:`InputError` listing every problem."""
    tables: dict[str, RawTable] = {}
    for sheet in SHEETS:
        data = rows.get(sheet.name)
        if data is None:
            continue
        headers = [c.name for c in sheet.columns]
        if sheet.stage_columns:
            headers += [str(r["stage"]) for r in rows.get("Stages", [])]
        cols = {norm_name(h): i for i, h in enumerate(headers)}
        table = RawTable(sheet.name, cols, headers)
        table.rows = [(i, tuple(r.get(h) for h in headers)) for i, r in enumerate(data, 2)]
        tables[norm_name(sheet.name)] = table
    v = Validator(tables, source)
    plan = v.build()
    if v.problems:
        raise InputError(v.problems, v.warnings)
    return _checked(plan) if checks else plan
