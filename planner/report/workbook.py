"""Write the report workbook atomically: temporary file, then rename.

Sheets, in order: Dashboard (key figures and native charts), the contract's
tidy tables (Summary, Plan, Stock, Exposure, Constraints: exactly section
4's sheet and column names, base case first, each a filterable Excel table),
then Policy costs, Shadow prices, Infeasibility (when a case is infeasible),
Excluded offers, Run (audit trail), Notes and Chart data.

A table longer than Excel's 1,048,576 rows continues on ``<name> (2)``,
``<name> (3)`` ... and the Notes sheet says so.

Large tables (:data:`FAST_ROWS` rows or more) are streamed: openpyxl writes
the sheet with its header, widths, frozen pane, Excel table, filters and
conditional formatting, and :func:`save_atomic` then writes the data rows
straight into the sheet's XML (same cells, number formats and styles as
openpyxl would write), over ten times faster than openpyxl's per-cell
objects, normal or write-only.  A workbook from :func:`build_workbook` must
therefore be saved with :func:`save_atomic`.  Input text is always written
as text, never as a formula (an id beginning with ``=``, ``+``, ``-`` or ``@``
stays text).
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from planner import collector
from planner.analysis.excluded import EXCLUDED_COLUMNS
from planner.analysis.results import TABLE_COLUMNS, CaseResult, tidy_tables
from planner.analysis.table import Table
from planner.inputs.data import PlanData
from planner.report.periods import number_periods
from planner.report.supply_risk import add_supply_risk_sheet
from planner.solve.options import solver_options
from planner.xlsx import tables as xt
from planner.xlsx.save import save_atomic
from planner.xlsx.tables import (
    BINDING_FILL,
    _formats,
    write_split,
)


@dataclass
class RunInfo:
    """Facts for the Run sheet that the report cannot see for itself."""

    input_path: str | None = None
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    options: dict[str, Any] = field(default_factory=dict)
    policy_seconds: float | None = None
    #: HiGHS's own version string (the report loads no solver; empty: the highspy
    #: package's version)
    solver_version: str = ""


def sha256(path: str | Path) -> str | None:
    """The SHA-256 of a file, or None when it cannot be read."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def _now() -> datetime:
    """The time the report is written (UTC); one place, so tests can hold it still."""
    return datetime.now(UTC)


def run_rows(plan: PlanData, results: Sequence[CaseResult], info: RunInfo) -> list[dict[str, Any]]:
    """The Run sheet: input file and hash, versions, solver options and times."""
    highs = info.solver_version or _version("highspy")
    src = info.input_path or plan.source
    rows: list[dict[str, Any]] = [
        {"item": "plan name", "value": plan.settings.plan_name},
        {"item": "input file", "value": Path(src).name if src else ""},
        {"item": "input path", "value": str(src or "")},
        {"item": "input SHA-256", "value": (sha256(src) if src else None) or "unreadable"},
        {"item": "run started (UTC)", "value": info.started.strftime("%Y-%m-%d %H:%M:%S")},
        {"item": "report written (UTC)",
         "value": _now().strftime("%Y-%m-%d %H:%M:%S")},
        {"item": "planner version", "value": _version("planner")},
        {"item": "Pyomo version", "value": _version("pyomo")},
        {"item": "HiGHS version", "value": highs},
        {"item": "highspy version", "value": _version("highspy")},
        {"item": "Python version", "value": platform.python_version()},
        {"item": "solver options", "value": json.dumps(
            solver_options(plan.settings, info.options), sort_keys=True),
         "note": "Settings, then command-line overrides"},
    ]
    rows.extend({"item": f"solve time: {r.name}", "value": round(r.seconds, 3),
                 "unit": "s", "note": f"{r.status}: {r.message}" if r.message else str(r.status)}
                for r in results)
    rows.extend({"item": f"not solved: {r.name}", "value": str(r.status), "note": r.message}
                for r in results if r.message and r.status != "infeasible")
    rows.append({"item": "solve time: all cases",
                 "value": round(sum(r.seconds for r in results), 3), "unit": "s"})
    if info.policy_seconds is not None:
        rows.append({"item": "policy re-solves", "value": round(info.policy_seconds, 3),
                     "unit": "s"})
    return rows


def build_workbook(plan: PlanData, results: list[CaseResult], info: RunInfo | None = None,
                   policy: Sequence[Any] | None = None) -> Workbook:
    """The whole report; ``policy`` holds :class:`planner.analysis.policy.PolicyCost` items."""
    from planner.analysis.policy import POLICY_COLUMNS, SHADOW_COLUMNS, shadow_prices
    from planner.report.dashboard import add_dashboard

    info = info or RunInfo(plan.source)
    wb = Workbook()
    assert wb.active is not None
    wb.remove(wb.active)
    cur = plan.settings.currency
    fmts = _formats(cur)
    notes: list[str] = []

    # the contract's tidy tables
    tables = tidy_tables(results)
    for name, columns in TABLE_COLUMNS.items():
        sheets = write_split(wb, name, columns, number_periods(plan, tables[name]), fmts, notes)
        if name == "Constraints":
            _highlight_binding_caps(sheets, len(tables[name]))

    # answers
    policy_rows = [p.as_row() for p in policy or []]
    ws = write_split(wb, "Policy costs", POLICY_COLUMNS, policy_rows, fmts, notes)[0]
    if not policy_rows:
        ws.cell(row=2, column=1, value="Policy costs were not computed for this run "
                "(or the base case has no active rule, cap or stockpile minimum).")
    shadows = [s for r in results if r.status == "optimal" for s in shadow_prices(plan, r)]
    ws = write_split(wb, "Shadow prices", SHADOW_COLUMNS, [s.as_row() for s in shadows],
                     fmts, notes)[0]
    ws.column_dimensions[get_column_letter(SHADOW_COLUMNS.index("sentence") + 1)].width = 100
    explained = [{"scenario": r.name, "explanation": line}
                 for r in results for line in r.explanation]
    if explained:
        ws = write_split(wb, "Infeasibility", ["scenario", "explanation"], explained, fmts,
                         notes)[0]
        ws.column_dimensions["B"].width = 130
    write_split(wb, "Excluded offers", EXCLUDED_COLUMNS,
                number_periods(plan, Table.concat(EXCLUDED_COLUMNS,
                                                  [r.excluded for r in results])), fmts,
                notes)
    # concentration per material x stage x period; its notes go to the Notes sheet
    risk_notes = add_supply_risk_sheet(wb, plan, results, fmts)
    ws = write_split(wb, "Run", ["item", "value", "unit", "note"],
                     run_rows(plan, results, info), fmts, notes, stream=False)[0]
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 70
    for row in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        row[0].alignment = Alignment(horizontal="left")

    note_rows: list[dict[str, Any]] = [{"kind": "warning", "case": "", "note": w}
                                       for w in plan.warnings]
    note_rows.extend({"kind": "report", "case": "", "note": n} for n in notes)
    note_rows.extend({"kind": "supply risk", "case": "", "note": n} for n in risk_notes)
    note_rows.extend({"kind": str(r.status), "case": r.name, "note": r.message}
                     for r in results if r.message)
    note_rows.extend({"kind": "plan", "case": r.name, "note": n}
                     for r in results for n in r.notes)
    ws = write_split(wb, "Notes", ["kind", "case", "note"], note_rows, fmts)[0]
    ws.column_dimensions["C"].width = 120

    header = [("Input", Path(info.input_path or plan.source).name),
              ("Run (UTC)", info.started.strftime("%Y-%m-%d %H:%M"))]
    bad = [r.name for r in results if r.explanation]
    if bad:
        header.append(("Infeasible", f"{', '.join(bad)}: see the Infeasibility sheet"))
    failed = [r for r in results if r.message and not r.explanation]
    for r in failed:
        header.append((f"Not solved: {r.name}", f"{r.status}: {r.message}"))
    first = results[0].name if results else ""
    base_shadows = [s.sentence for s in shadows if s.scenario == first]
    add_dashboard(wb, plan, results, header, policy_rows, base_shadows)
    wb.active = 0
    return wb


def _highlight_binding_caps(sheets: Sequence[Worksheet], n_rows: int) -> None:
    """Conditional formatting: cap rows with (near) zero slack are binding.

    ``n_rows`` is the table's length over all ``sheets`` (streamed rows are not
    in the sheet yet, so ``max_row`` cannot tell).
    """
    for k, ws in enumerate(sheets):
        last = min(xt.MAX_ROWS, n_rows - k * xt.MAX_ROWS) + 1
        if last < 2:
            continue
        ws.conditional_formatting.add(
            f"A2:F{last}",
            FormulaRule(formula=['AND($C2="cap",ABS($E2)<=0.000001)'], fill=BINDING_FILL))


def write_report(plan: PlanData, results: list[CaseResult], path: str | Path,
                 info: RunInfo | None = None, policy: Sequence[Any] | None = None) -> Path:
    """Build the report and write it atomically (the collector paused: many rows, no
    garbage)."""
    with collector.paused():
        return save_atomic(build_workbook(plan, results, info, policy), path)
