"""Write the report workbook atomically: temporary file, then rename.

The contract's tidy tables (Summary, Plan, Stock, Exposure, Constraints) are
written exactly as section 4 names them, base case first.  Input text is
always written as text, never as a formula.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from planner.data import PlanData
from planner.results import TABLE_COLUMNS, CaseResult

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")

FORMATS = {
    "volume": "#,##0.0", "demand": "#,##0.0", "supplied": "#,##0.0", "stock": "#,##0.0",
    "min_stock": "#,##0.0", "stockpile_shortfall": "#,##0.0", "unmet_demand": "#,##0.0",
    "share": "0.0%", "unit_cost": "#,##0.00", "cost": "#,##0", "total_cost": "#,##0",
    "procurement_cost": "#,##0", "holding_cost": "#,##0", "shortage_cost": "#,##0",
    "stockpile_shortfall_cost": "#,##0", "slack": "#,##0.###", "shadow_price": "#,##0.####",
}


def set_value(ws: Worksheet, row: int, col: int, value: Any) -> None:
    """Write a cell; text that looks like a formula stays text."""
    cell = ws.cell(row=row, column=col)
    cell.value = value
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        cell.data_type = "s"


def write_table(ws: Worksheet, columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> int:
    """A tidy table: styled header in row 1, one row per item; returns the row count."""
    for j, name in enumerate(columns, start=1):
        set_value(ws, 1, j, name)
        ws.cell(row=1, column=j).font = HEADER_FONT
        ws.cell(row=1, column=j).fill = HEADER_FILL
        ws.column_dimensions[get_column_letter(j)].width = max(12, len(name) + 3)
    n = 0
    for i, row in enumerate(rows, start=2):
        n += 1
        for j, name in enumerate(columns, start=1):
            set_value(ws, i, j, row.get(name))
            fmt = FORMATS.get(name)
            if fmt:
                ws.cell(row=i, column=j).number_format = fmt
    ws.freeze_panes = "A2"
    if n:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{n + 1}"
    return n


def build_workbook(plan: PlanData, results: list[CaseResult]) -> Workbook:
    """The report: tidy tables of every case, then notes."""
    wb = Workbook()
    assert wb.active is not None
    wb.remove(wb.active)
    tables: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLE_COLUMNS}
    for r in results:
        tables["Summary"].append(r.summary)
        tables["Plan"].extend(r.plan)
        tables["Stock"].extend(r.stock)
        tables["Exposure"].extend(r.exposure)
        tables["Constraints"].extend(r.constraints)
    for name, columns in TABLE_COLUMNS.items():
        write_table(wb.create_sheet(name), columns, tables[name])
    notes: list[dict[str, Any]] = [{"kind": "warning", "case": "", "note": w}
                                   for w in plan.warnings]
    for r in results:
        notes.extend({"kind": "infeasible", "case": r.name, "note": line}
                     for line in r.explanation)
    ws = wb.create_sheet("Notes")
    write_table(ws, ["kind", "case", "note"], notes)
    ws.column_dimensions["C"].width = 120
    return wb


def save_atomic(wb: Workbook, path: str | Path) -> Path:
    """Save to a temporary file beside ``path`` and rename it into place."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=".xlsx", dir=target.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_report(plan: PlanData, results: list[CaseResult], path: str | Path) -> Path:
    return save_atomic(build_workbook(plan, results), path)
