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
from planner.schema import SHEETS, STAGES, norm_name


@dataclass
class RawTable:
    """One sheet as read: header positions and data rows with their Excel numbers."""

    title: str
    #: normalised column name -> 0-based position
    columns: dict[str, int]
    #: header text as written, by position
    headers: list[str]
    rows: list[tuple[int, tuple[Any, ...]]] = field(default_factory=list)
    #: formula cells without a saved result: (Excel row, 0-based column, formula)
    uncached: list[tuple[int, int, str]] = field(default_factory=list)

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
            rows = [tuple(_cached(c) for c in row) for row in ws.iter_rows()]
            formulas = list(wf.iter_rows(values_only=True))
            tables[key] = _table(ws.title, rows, formulas)
    finally:
        wb_values.close()
        wb_formulas.close()
    problems.extend(_uncached_problems(tables))
    return tables, problems


def _cached(cell: Any) -> Any:
    """The cached value of a cell.

    A formula whose saved result is the empty string is stored typed as text
    (``t="str"``) and reads as ``""``; a formula never calculated has an untyped empty
    value and reads as ``None`` (then :func:`_table` marks it).
    """
    v = cell.value
    if v is None and getattr(cell, "data_type", None) == "str":
        return ""
    return v


def _table(title: str, rows: list[tuple[Any, ...]], formulas: list[tuple[Any, ...]]
           ) -> RawTable:
    """Header positions and the non-empty data rows; uncached formulas become markers."""
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
        fr = formulas[r - 1] if r - 1 < len(formulas) else ()
        clean = list(values)
        for i, v in enumerate(values):
            f = fr[i] if i < len(fr) else None
            if v is None and isinstance(f, str) and f.startswith("="):
                clean[i] = _NO_CACHE
                table.uncached.append((r, i, f))
        if all(is_blank(v) for v in clean):
            continue
        table.rows.append((r, tuple(clean)))
    return table


def _uncached_problems(tables: dict[str, RawTable]) -> list[Problem]:
    """One problem per formula without a result in a column the planner reads.

    Columns the planner ignores (analysts' notes) are left alone; Routes also reads
    one column per stage id listed on the Stages sheet.
    """
    stages: set[str] = set()
    st = tables.get(norm_name(STAGES.name))
    if st is not None:
        stages = {norm_name(v) for _, row in st.rows
                  if not is_blank(v := st.get(row, "stage")) and not no_cache(v)}
    out: list[Problem] = []
    for sheet in SHEETS:
        table = tables.get(norm_name(sheet.name))
        if table is None:
            continue
        read = {norm_name(c.name) for c in sheet.columns} | (stages if sheet.stage_columns
                                                              else set())
        for r, i, f in table.uncached:
            name = table.headers[i] if i < len(table.headers) else ""
            if norm_name(name) in read and table.columns.get(norm_name(name)) == i:
                out.append(Problem(
                    table.title, r, name, f, "a value, but the formula has no calculated "
                    "result saved in the file",
                    "The workbook was written by a program and never opened in a spreadsheet: "
                    "open it in Excel or LibreOffice and save it, or type the value.",
                    col_index=i + 1))
    return out


class _NoCache:
    """Marker for a formula cell without a cached value (already reported)."""

    def __repr__(self) -> str:
        return "<formula without value>"


_NO_CACHE = _NoCache()


def no_cache(v: Any) -> bool:
    return v is _NO_CACHE
