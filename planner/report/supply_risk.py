"""The Supply risk sheet of every report: concentration per material x stage x period
(:mod:`planner.analysis.concentration`), weighted by the countries' risk scores."""

from __future__ import annotations

from collections.abc import Sequence

from openpyxl import Workbook

from planner.analysis.concentration import HHI_LABEL
from planner.analysis.results import CaseResult
from planner.analysis.risk import HHI_COLUMNS, HHI_HEADERS, hhi_rows, read_risk_inputs, unscored
from planner.inputs.data import PlanData
from planner.inputs.problems import InputError
from planner.report.periods import number_periods
from planner.xlsx.tables import write_table

HHI_FORMATS = {"purchases": '#,##0.0" t"', "through_stage": '#,##0.0" t"',
               "top_share": "0.0%", "hhi": "#,##0", "hhi_governance": "0.00"}


def supply_risk_notes(plan: PlanData, scores: dict[str, float], problem: str = "") -> list[str]:
    """What the Supply risk sheet's columns mean, for the Notes sheet."""
    notes = [f"Supply risk {HHI_LABEL}: sum of squared country shares in percent, each share "
             "the tonnes passing the stage in that country / all tonnes of the material "
             "bought in the period (routes skipping the stage count in the total, as caps "
             "do); 10,000 = one country handles every tonne bought.",
             "Supply risk hhi_governance: sum of squared shares (0-1) x Countries.risk_score "
             "(EU HHI_WGI, on the score's 0-10 scale); blank when no score is given."]
    missing = unscored(plan, scores)
    if missing:
        notes.append("Supply risk: no risk_score (counted with the highest score given): "
                     + ", ".join(missing) + ".")
    if problem:
        notes.append(f"Supply risk: risk scores not used (run planner validate): {problem}")
    return notes


def add_supply_risk_sheet(wb: Workbook, plan: PlanData, results: Sequence[CaseResult],
                          formats: dict[str, str] | None = None) -> list[str]:
    """The ``Supply risk`` sheet of every report: concentration per material x stage x
    period, one header row; returns its notes (for the Notes sheet)."""
    try:
        inputs = read_risk_inputs(plan, strict=False)
        scores = inputs.scores
        problem = "; ".join(str(p) for p in inputs.problems
                            if p.column == "risk_score")
    except InputError as err:  # the file could not be read again
        scores, problem = {}, str(err.problems[0])
    rows = number_periods(plan, hhi_rows(plan, results, scores))
    ws = wb.create_sheet("Supply risk")
    write_table(ws, HHI_COLUMNS, rows, {**(formats or {}), **HHI_FORMATS}, table="SupplyRisk",
                headers=HHI_HEADERS)
    return supply_risk_notes(plan, scores, problem)
