"""Read an input workbook into raw tables, keeping Excel row numbers.

Only the shape is handled here (sheet and column names matched
case-insensitively, empty rows dropped, formula cells without a cached value
caught); the meaning of each cell is checked in :mod:`planner.validate`.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from planner.problems import Problem
from planner.schema import SHEETS, norm_name


@dataclass
class RawTable:
    """One sheet as read: header positions and data rows with their Excel numbers."""

    title: str
    #: normalised column name -> 0-based position
    columns: dict[str, int]
    #: header text as written, by position
    headers: list[str]
    rows: list[tuple[int, tuple[Any, ...]]] = field(default_factory=list)

    def get(self, values: tuple[Any, ...], column: str) -> Any:
        i = self.columns.get(norm_name(column))
        if i is None or i >= len(values):
            return None
        return values[i]

    def col_index(self, column: str) -> int | None:
        i = self.columns.get(norm_name(column))
        return None if i is None else i + 1


def is_blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and v.strip() == "")


def read_workbook(path: str | Path) -> tuple[dict[str, RawTable], list[Problem]]:
    """Return the sheets of the workbook keyed by normalised name, and file problems."""
    p = Path(path)
    if not p.exists():
        return {}, [Problem("", None, None, str(p), "an existing .xlsx file",
                            "Check the path: no such file.")]
    if p.is_dir() or not zipfile.is_zipfile(p):
        return {}, [Problem("", None, None, str(p), "an Excel workbook (.xlsx)",
                            "The file is not an .xlsx workbook; save it from Excel as "
                            "'Excel Workbook (*.xlsx)'.")]
    try:
        wb_values = load_workbook(p, data_only=True, read_only=True)
        wb_formulas = load_workbook(p, data_only=False, read_only=True)
    except Exception as exc:  # noqa: BLE001 - any reader failure is bad input
        return {}, [Problem("", None, None, str(p), "a readable Excel workbook (.xlsx)",
                            f"The file could not be read: {exc}.")]
    problems: list[Problem] = []
    known = {norm_name(s.name) for s in SHEETS}
    tables: dict[str, RawTable] = {}
    try:
        for ws in wb_values.worksheets:
            key = norm_name(ws.title)
            if key not in known or key in tables:
                continue
            # Some writers record a wrong sheet dimension; read what is really there.
            ws.reset_dimensions()
            wf = wb_formulas[ws.title]
            wf.reset_dimensions()
            rows = list(ws.iter_rows(values_only=True))
            formulas = list(wf.iter_rows(values_only=True))
            tables[key] = _table(ws.title, rows, formulas, problems)
    finally:
        wb_values.close()
        wb_formulas.close()
    return tables, problems


def _table(title: str, rows: list[tuple[Any, ...]], formulas: list[tuple[Any, ...]],
           problems: list[Problem]) -> RawTable:
    header = rows[0] if rows else ()
    columns: dict[str, int] = {}
    headers: list[str] = []
    for i, h in enumerate(header):
        headers.append("" if h is None else str(h))
        name = norm_name(h)
        if name and name not in columns:
            columns[name] = i
    table = RawTable(title, columns, headers)
    for r, values in enumerate(rows[1:], start=2):
        if all(is_blank(v) for v in values):
            continue
        fr = formulas[r - 1] if r - 1 < len(formulas) else ()
        clean = list(values)
        for i, v in enumerate(values):
            f = fr[i] if i < len(fr) else None
            if v is None and isinstance(f, str) and f.startswith("="):
                name = headers[i] if i < len(headers) else ""
                if norm_name(name) in columns and columns[norm_name(name)] == i:
                    problems.append(Problem(
                        title, r, name, f, "a value, but the formula has no cached result",
                        "The workbook was written by a program and never calculated: open "
                        "it in Excel or LibreOffice and save it, or type the value.",
                        col_index=i + 1))
                clean[i] = _NO_CACHE
        table.rows.append((r, tuple(clean)))
    return table


class _NoCache:
    """Marker for a formula cell without a cached value (already reported)."""

    def __repr__(self) -> str:
        return "<formula without value>"


_NO_CACHE = _NoCache()


def no_cache(v: Any) -> bool:
    return v is _NO_CACHE
