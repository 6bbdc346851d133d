"""Write the input template from the schema (no second list of columns anywhere).

Each sheet of :data:`planner.schema.SHEETS` becomes a styled, named Excel
table with a frozen header, number formats, an input message on every header
and drop-down lists for references; an Instructions sheet comes first.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from planner.report import save_atomic, set_value
from planner.schema import SETTING_KEYS, SHEETS, Column, Sheet

DEFAULT_STAGES = ["mining", "separation", "metal", "magnet"]
#: rows of each table that carry drop-downs and formats in a blank template
BLANK_ROWS = 200
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFF")

INSTRUCTIONS = """\
How to fill this workbook
Fill the sheets in this order: Settings (optional), Periods, Materials, Countries, Stages, \
Facilities, Routes, Offers, Demand, then the optional Stockpile, Tariffs, Rules, Caps, Scenarios.
Units: mass in tonnes (t); money in the Settings currency; shares as fractions (65% is 0.65).
Per-year rates (facility capacity, offer min/max volume, holding cost, quota limits) are \
scaled by days/365 in each period; demand is per period.
A blank cell means "not set": the default applies, or "any" where the column help says so.
Ids are case-sensitive and unique within their sheet. Period windows include both ends; a blank \
end is open.
Countries: a group tag (e.g. EU, covered) in the groups column may be used wherever a country \
is asked for, and then means every member country.
Routes: one column per stage, holding the facility that performs the stage (blank: skipped).
Rules: ban makes matching offers unavailable; quota limits matching flows (t/yr). An offer \
matches when its material fits, a route facility (at the stage, if given) lies in the country \
or tag, and the supplier or a route facility's operator is the company.
Caps: the share of a material's flow through the country (or tag) at a stage stays at most \
max_share and at least min_share; a blank country means each single country.
Scenarios: each scenario is the base case plus its rows (rule_on/off, cap_on/off, capacity, \
cost, demand factors over a window).
Tiny illustration: Periods 2027; Materials NdPr; Demand NdPr 2027 100; Countries CHN; Stages \
separation; Facilities F1 CHN separation; Routes R1 with separation = F1; Offers O1 supplier \
S1 NdPr R1 unit_cost 60000. The plan buys 100 t from O1 at 6,000,000.
Run: planner validate this.xlsx, then planner run this.xlsx (report in reports/).
"""


def _columns(sheet: Sheet, stages: Sequence[str]) -> list[Column]:
    cols = list(sheet.columns)
    if sheet.stage_columns:
        cols += [Column(s, "id", f"Facility performing the {s} stage (blank: skipped).",
                        ref="facility", width=16) for s in stages]
    return cols


def _ref_source(col: Column, lengths: dict[str, str]) -> str | None:
    """The drop-down list formula for a reference column."""
    if col.choices:
        return '"' + ",".join(col.choices) + '"'
    if col.ref == "country_or_tag":
        return lengths.get("country")
    if col.ref:
        return lengths.get(col.ref)
    return None


def _input_message(col: Column) -> str:
    bits = [col.help]
    if col.unit:
        bits.append(f"Unit: {col.unit}.")
    if col.default is not None:
        bits.append(f"Default: {col.default}.")
    return " ".join(bits)[:255]


def write_sheet(ws: Worksheet, sheet: Sheet, stages: Sequence[str],
                rows: list[dict[str, Any]], sources: dict[str, str],
                extra: Sequence[str] = ()) -> None:
    """One input table: header, rows, formats, input messages, drop-downs.

    ``extra`` names additional free-text columns (e.g. ``source``) written after
    the schema's; the loader ignores them.
    """
    cols = _columns(sheet, stages) + [Column(e, "text", f"Note ({e}); ignored by the planner.",
                                             width=28) for e in extra]
    for j, col in enumerate(cols, start=1):
        c = ws.cell(row=1, column=j, value=col.name)
        c.font, c.fill = HEADER_FONT, HEADER_FILL
        c.alignment = Alignment(horizontal="center")
        ws.column_dimensions[get_column_letter(j)].width = max(col.width, len(col.name) + 3)
    for i, row in enumerate(rows, start=2):
        for j, col in enumerate(cols, start=1):
            set_value(ws, i, j, row.get(col.name))
    last = max(len(rows) + 1, BLANK_ROWS + 1)
    for j, col in enumerate(cols, start=1):
        letter = get_column_letter(j)
        rng = f"{letter}2:{letter}{last}"
        for i in range(2, last + 1):
            if col.number_format != "General":
                ws.cell(row=i, column=j).number_format = col.number_format
        help_dv = DataValidation(allow_blank=True, showInputMessage=True,
                                 promptTitle=col.name[:32], prompt=_input_message(col))
        help_dv.add(f"{letter}1")
        ws.add_data_validation(help_dv)
        src = _ref_source(col, sources)
        if src:
            dv = DataValidation(type="list", formula1=src, allow_blank=True,
                                showErrorMessage=not col.ref == "country_or_tag",
                                showInputMessage=True, promptTitle=col.name[:32],
                                prompt=_input_message(col))
        elif col.kind in ("number", "rate"):
            dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0",
                                allow_blank=True, showErrorMessage=True,
                                error="Enter a number of at least 0.", showInputMessage=True,
                                promptTitle=col.name[:32], prompt=_input_message(col))
        elif col.kind == "share":
            dv = DataValidation(type="decimal", operator="between", formula1="0",
                                formula2="1", allow_blank=True, showErrorMessage=True,
                                error="Enter a share between 0% and 100% (65% is 0.65).",
                                showInputMessage=True, promptTitle=col.name[:32],
                                prompt=_input_message(col))
        else:
            continue
        dv.add(rng)
        ws.add_data_validation(dv)
    ref = f"A1:{get_column_letter(len(cols))}{max(len(rows) + 1, 2)}"
    table = Table(displayName=f"t{sheet.name}", ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    ws.freeze_panes = "A2"


def _sources(stages: Sequence[str]) -> dict[str, str]:
    """Drop-down sources: whole id columns, so lists follow the rows analysts add."""
    out: dict[str, str] = {}
    for sheet in SHEETS:
        if sheet.key:
            out[sheet.key] = f"{sheet.name}!$A$2:$A${BLANK_ROWS + 1}"
    return out


def build_template(example: bool = False, stages: Sequence[str] | None = None) -> Workbook:
    """The blank template (stages prefilled) or the small worked example."""
    if example:
        from planner.example import example_rows

        return build_workbook(example_rows())
    stages = list(stages or DEFAULT_STAGES)
    return build_workbook({"Stages": [{"stage": s} for s in stages]})


def build_workbook(data: dict[str, list[dict[str, Any]]],
                   extra: dict[str, Sequence[str]] | None = None) -> Workbook:
    """An input workbook holding ``data`` (sheet -> rows of column -> value).

    Stages come from ``data["Stages"]``; ``extra`` adds note columns per sheet
    (e.g. ``{"Offers": ["source"]}``).  Examples and tests build workbooks this way.
    """
    stages = [str(r["stage"]) for r in data.get("Stages", [])]
    wb = Workbook()
    ws0 = wb.active
    assert ws0 is not None
    ws0.title = "Instructions"
    for i, line in enumerate(INSTRUCTIONS.splitlines(), start=1):
        ws0.cell(row=i, column=1, value=line).alignment = Alignment(wrap_text=True)
    ws0["A1"].font = Font(bold=True, size=14)
    ws0.column_dimensions["A"].width = 120
    n = len(INSTRUCTIONS.splitlines()) + 2
    ws0.cell(row=n, column=1, value="Sheets").font = Font(bold=True)
    for k, sheet in enumerate(SHEETS, start=n + 1):
        need = "required" if sheet.required else "optional"
        ws0.cell(row=k, column=1, value=f"{sheet.name} ({need}): {sheet.purpose}")
    k = n + len(SHEETS) + 2
    ws0.cell(row=k, column=1, value="Settings").font = Font(bold=True)
    for i, (key, (_, text)) in enumerate(SETTING_KEYS.items(), start=k + 1):
        ws0.cell(row=i, column=1, value=f"{key}: {text}")
    sources = _sources(stages)
    for sheet in SHEETS:
        write_sheet(wb.create_sheet(sheet.name), sheet, stages, data.get(sheet.name, []),
                    sources, (extra or {}).get(sheet.name, ()))
    return wb


def write_workbook(path: str | Path, data: dict[str, list[dict[str, Any]]],
                   extra: dict[str, Sequence[str]] | None = None) -> Path:
    """Write an input workbook holding ``data`` atomically (see :func:`build_workbook`)."""
    return save_atomic(build_workbook(data, extra), path)


def write_template(path: str | Path, example: bool = False,
                   stages: Sequence[str] | None = None) -> Path:
    """Write the blank template (or the worked example) atomically."""
    return save_atomic(build_template(example, stages), path)
