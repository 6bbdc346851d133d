"""Write the input template from the schema (no second list of columns anywhere).

Each sheet of :data:`planner.inputs.schema.SHEETS` becomes a styled, named Excel
table with a frozen header, column number formats, an input message on every
header and data validation on its cells: drop-down lists for references (fed
by dynamic named ranges, so they follow the rows the analyst adds) and range
checks on numbers and shares.  An Instructions sheet comes first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from planner.inputs.schema import SETTING_KEYS, SHEET_BY_NAME, SHEETS, Column, Sheet, norm_name
from planner.xlsx.save import save_atomic
from planner.xlsx.tables import set_value

DEFAULT_STAGES = ["mining", "separation", "metal", "magnet"]
#: a stage name starting so would be read as a formula in its Routes header
FORMULA_START = ("=", "+", "-", "@")
#: last Excel row: data validations cover whole columns below the header
MAX_ROW = 1_048_576
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFF")
TITLE_FONT = Font(bold=True, size=16, color="1F4E78")
HEADING_FONT = Font(bold=True, size=12, color="1F4E78")
REQUIRED_TAB = "1F4E78"
OPTIONAL_TAB = "8EA9DB"
#: width (characters) of the Instructions text column
TEXT_WIDTH = 110
#: reference -> (sheet, column) whose cells feed its drop-down list: the id column of the
#: sheet the reference points at; companies are suggested from the Facilities operators
LIST_SOURCES: dict[str, tuple[str, str]] = {
    s.key: (s.name, s.key) for s in SHEETS if s.key in ("material", "period", "country",
                                                       "stage", "facility", "route")
}
LIST_SOURCES["company"] = ("Facilities", "company")
#: references where a value outside the list is fine: a group tag where a country is
#: asked for, a supplier that operates no facility
OPEN_REFS = ("country_or_tag", "company")


class TemplateError(ValueError):
    """A template request that cannot be written (e.g. duplicate stage names)."""


def list_name(ref: str) -> str:
    """The defined name holding the drop-down list of a reference kind."""
    return f"list_{ref}"


# --- the tiny worked illustration ---------------------------------------------------------

#: A worked illustration small enough to check by hand.  Demand 100 t; the Chinese offer
#: is cheaper but capped at 70 t, so the plan buys 70 t at 60,000 and 30 t at 80,000:
#: 4,200,000 + 2,400,000 = 6,600,000.  With cap C1 (max 50% through CHN) on, it buys
#: 50 t of each: 3,000,000 + 4,000,000 = 7,000,000.
ILLUSTRATION: dict[str, list[dict[str, Any]]] = {
    "Periods": [{"period": 2027, "days": 365}],
    "Materials": [{"material": "NdPr"}],
    "Demand": [{"material": "NdPr", "period": 2027, "demand": 100}],
    "Countries": [{"country": "CHN", "groups": "covered"}, {"country": "AUS"}],
    "Stages": [{"stage": "separation"}],
    "Facilities": [{"facility": "F_CN", "country": "CHN", "stage": "separation"},
                   {"facility": "F_AU", "country": "AUS", "stage": "separation"}],
    "Routes": [{"route": "R_CN", "separation": "F_CN"},
               {"route": "R_AU", "separation": "F_AU"}],
    "Offers": [{"offer": "O_CN", "supplier": "S1", "material": "NdPr", "route": "R_CN",
                "unit_cost": 60000, "max_volume": 70},
               {"offer": "O_AU", "supplier": "S2", "material": "NdPr", "route": "R_AU",
                "unit_cost": 80000}],
    "Caps": [{"cap": "C1", "country": "CHN", "max_share": 0.5, "active": False}],
    "Scenarios": [{"scenario": "cap_on", "action": "cap_on", "target": "C1"}],
}
ILLUSTRATION_RESULT = (
    "Result: demand is 100 t; O_CN is cheaper but sells at most 70 t, so the base case buys "
    "70 t of O_CN at 60,000 and 30 t of O_AU at 80,000: total_cost 6,600,000. Scenario "
    "cap_on switches on cap C1 (at most 50% of NdPr through CHN), so it buys 50 t of each: "
    "total_cost 7,000,000."
)


def _show(v: Any, col: Column | None = None) -> str:
    """A value as the analyst would type it: TRUE/FALSE, shares and rates as percent."""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if col is not None and col.kind in ("share", "rate") and isinstance(v, (int, float)):
        return f"{v:.0%}"
    return str(v)


def _illustration_lines() -> list[tuple[str, str]]:
    lines = []
    for sheet, rows in ILLUSTRATION.items():
        fields = SHEET_BY_NAME[sheet].fields
        text = "; ".join(", ".join(f"{k} {_show(v, fields.get(k))}" for k, v in row.items())
                         for row in rows)
        lines.append((sheet, text))
    return lines


# --- the Instructions sheet -----------------------------------------------------------------

def _column_list(sheet: Sheet) -> str:
    names = [c.name + ("*" if c.required else "") for c in sheet.columns]
    if sheet.stage_columns:
        names.append("one column per stage (named by the Stages ids)")
    return ", ".join(names)


def _instruction_rows() -> list[tuple[str, str, str]]:
    """(style, label, text) rows of the Instructions sheet, built from the schema."""
    rows: list[tuple[str, str, str]] = [
        ("title", "How to fill this workbook", ""),
        ("text", "", "Fill the tabs left to right: each sheet only refers to sheets before it. "
         "Select a header cell to see what the column means, its unit and its default; cells "
         "that refer to another sheet offer a drop-down list of its ids. Then run "
         "'planner validate FILE' (it names every problem by cell, e.g. Offers!E7, and says "
         "how to fix it) and 'planner run FILE'."),
        ("blank", "", ""),
        ("heading", "Sheets, in the order to fill them", ""),
    ]
    for i, sheet in enumerate(SHEETS, start=1):
        need = "required" if sheet.required else "optional"
        rows.append(("item", f"{i}. {sheet.name} ({need})",
                     f"{sheet.purpose} Columns (* must be present): {_column_list(sheet)}."))
    rows += [
        ("blank", "", ""),
        ("heading", "Units and conventions", ""),
        ("item", "Mass", "Tonnes (t)."),
        ("item", "Money", "The currency named in Settings (default USD); unit_cost is per t."),
        ("item", "Shares and rates", "Fractions: 65% is 0.65 (type 65% or 0.65, not 65). "
         "Tariff rates likewise: 0.25 is 25%."),
        ("item", "Per year", "Facility capacity, offer min_volume and max_volume, holding_cost "
         "and rule limits are per year; in a period of d days they count d/365 of it. "
         "Demand is per period."),
        ("item", "Blank cells", "A blank cell means 'not set': the default applies (shown in "
         "the header's help), or 'any' where the help says so. Empty rows are ignored."),
        ("item", "Ids", "Case-sensitive text, unique within their sheet: CHN and chn differ; "
         "avoid stray spaces."),
        ("item", "Periods", "Refer to a period by its label exactly as written in Periods. A "
         "window from_period..to_period includes both ends; a blank end is open."),
        ("item", "Group tags", "Countries.groups lists tags (e.g. EU, covered); a tag can be "
         "typed wherever a country is asked for and means every member country."),
        ("item", "Notes", "Columns with other headers are ignored: keep notes and sources "
         "there. Formulas are fine once the file is saved by Excel or LibreOffice."),
        ("blank", "", ""),
        ("heading", "Rules: sanctions and export controls", ""),
        ("item", "kind", "ban: matching offers are unavailable in the window. quota: matching "
         "flows together stay at most limit t per year (0 bans by volume)."),
        ("item", "Matching", "An offer matches when its material fits (blank: all), a facility "
         "on its route (at the stage, if given) lies in the country or tag, and the company "
         "(if given) is the supplier or operates a route facility. Set country, company or "
         "both."),
        ("item", "active", "FALSE keeps the rule off until a scenario turns it on (rule_on)."),
        ("blank", "", ""),
        ("heading", "Caps: concentration limits and floors", ""),
        ("item", "Share", "share = flow of the material whose route facility at the stage lies "
         "in the country / all flow of the material in the period. It must stay at most "
         "max_share and at least min_share."),
        ("item", "Blanks", "Blank material or stage: each one separately. Blank country: each "
         "single country separately; a tag: the group as a whole."),
        ("blank", "", ""),
        ("heading", "Scenarios: what-ifs", ""),
        ("item", "How", "Each scenario is the base case plus its rows; several rows with the "
         "same scenario name apply together (factors multiply)."),
        ("item", "rule_on / rule_off", "target: a rule id; the rule applies / does not apply."),
        ("item", "cap_on / cap_off", "target: a cap id; the cap applies / does not apply."),
        ("item", "capacity", "target: a facility, a country or tag, or a company; capacity x "
         "value (0 = outage)."),
        ("item", "cost", "target: an offer, a country or tag, or a company; unit_cost x value "
         "(material narrows it to one material)."),
        ("item", "demand", "target: a material, or blank for all; demand x value."),
        ("blank", "", ""),
        ("heading", "Settings (sheet Settings, one row per setting)", ""),
    ]
    rows += [("item", key, text) for key, (_, text) in SETTING_KEYS.items()]
    rows += [("blank", "", ""), ("heading", "A tiny worked illustration", "")]
    rows += [("item", sheet, text) for sheet, text in _illustration_lines()]
    rows.append(("text", "", ILLUSTRATION_RESULT))
    return rows


def _height(text: str, width: int) -> float:
    lines = max(1, math.ceil(len(text) / width))
    return 15.0 * lines + 2


def write_instructions(ws: Worksheet) -> None:
    """The Instructions sheet: order to fill, units, rules, caps, scenarios, illustration."""
    ws.title = "Instructions"
    ws.sheet_properties.tabColor = "C00000"
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = TEXT_WIDTH
    ws.sheet_view.showGridLines = False
    top = Alignment(wrap_text=True, vertical="top")
    for i, (style, lab, text) in enumerate(_instruction_rows(), start=1):
        a, b = ws.cell(row=i, column=1, value=lab or None), ws.cell(row=i, column=2,
                                                                    value=text or None)
        a.alignment = b.alignment = top
        if style in ("title", "heading"):
            a.alignment = Alignment(vertical="top")  # no wrap: spills into the empty B cell
        if style == "title":
            a.font = TITLE_FONT
            ws.row_dimensions[i].height = 24
        elif style == "heading":
            a.font = HEADING_FONT
            ws.row_dimensions[i].height = 20
        elif style == "item":
            a.font = Font(bold=True)
            ws.row_dimensions[i].height = _height(text, TEXT_WIDTH)
        elif style == "text":
            ws.row_dimensions[i].height = _height(text, TEXT_WIDTH)
    _page_setup(ws)


def _page_setup(ws: Worksheet) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_title_rows = "1:1" if ws.title != "Instructions" else None


# --- the input tables -------------------------------------------------------------------

def _columns(sheet: Sheet, stages: Sequence[str]) -> list[Column]:
    cols = list(sheet.columns)
    if sheet.stage_columns:
        cols += [Column(s, "id", f"Facility performing the {s} stage (blank: the route "
                        "skips it).", ref="facility", width=16) for s in stages]
    return cols


def _input_message(col: Column) -> str:
    """Meaning, unit and default of a column, as shown when its header is selected."""
    bits = [col.help]
    if col.unit:
        bits.append(f"Unit: {col.unit}.")
    if col.kind == "share":
        bits.append("Type 65% or 0.65.")
    if col.default is not None:
        default = _show(col.default) if isinstance(col.default, bool) else f"{col.default:g}" \
            if isinstance(col.default, float) else str(col.default)
        bits.append(f"Default: {default}.")
    elif not col.cell_required:
        bits.append("May be blank.")
    if col.cell_required:
        bits.append("Required.")
    if col.ref == "country_or_tag":
        bits.append("Pick a country or type a group tag.")
    if col.ref == "company":
        bits.append("Pick an operator from Facilities or type a name.")
    return " ".join(bits)[:255]


def _validation(col: Column) -> DataValidation | None:
    """The data validation of a column's cells: a drop-down, or a number range."""
    prompt: dict[str, Any] = dict(showInputMessage=True, promptTitle=col.name[:32],
                                  prompt=_input_message(col))
    if col.choices:
        return DataValidation(type="list", formula1='"' + ",".join(col.choices) + '"',
                              allow_blank=True, showErrorMessage=True, errorTitle=col.name[:32],
                              error="Pick one of: " + ", ".join(col.choices) + ".", **prompt)
    if col.kind == "bool":
        return DataValidation(type="list", formula1='"TRUE,FALSE"', allow_blank=True,
                              showErrorMessage=True, error="Pick TRUE or FALSE.", **prompt)
    ref = "country" if col.ref == "country_or_tag" else col.ref
    if ref in LIST_SOURCES:
        # Open references accept values outside the list: no error alert there.
        return DataValidation(type="list", formula1=list_name(ref), allow_blank=True,
                              showErrorMessage=col.ref not in OPEN_REFS,
                              errorStyle="warning", errorTitle=col.name[:32],
                              error=f"Not a known {ref} id: pick one from the list, or add it "
                              f"to the {LIST_SOURCES[ref][0]} sheet first.", **prompt)
    if col.kind in ("number", "rate"):
        return DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0",
                              allow_blank=True, showErrorMessage=True, errorTitle=col.name[:32],
                              error="Enter a number of at least 0"
                              + (f" (in {col.unit})." if col.unit else "."), **prompt)
    if col.kind == "share":
        return DataValidation(type="decimal", operator="between", formula1="0", formula2="1",
                              allow_blank=True, showErrorMessage=True, errorTitle=col.name[:32],
                              error="Enter a share between 0% and 100% (65% is 0.65).",
                              **prompt)
    return None


def _settings_keys() -> DataValidation:
    return DataValidation(type="list", formula1='"' + ",".join(SETTING_KEYS) + '"',
                          allow_blank=True, showErrorMessage=True, errorStyle="warning",
                          error="Not a known setting (it would be ignored).",
                          showInputMessage=True, promptTitle="setting",
                          prompt="Pick a setting; see the Instructions sheet.")


def write_sheet(ws: Worksheet, sheet: Sheet, stages: Sequence[str],
                rows: list[dict[str, Any]], extra: Sequence[str] = ()) -> None:
    """One input table: header, rows, formats, input messages, validations.

    ``extra`` names additional free-text columns (e.g. ``source``) written after
    the schema's; the loader ignores them.
    """
    cols = _columns(sheet, stages) + [Column(e, "text", f"Note ({e}); ignored by the planner.",
                                             width=28) for e in extra]
    ws.sheet_properties.tabColor = REQUIRED_TAB if sheet.required else OPTIONAL_TAB
    for j, col in enumerate(cols, start=1):
        set_value(ws, 1, j, col.name)  # a header never becomes a formula
        c = ws.cell(row=1, column=j)
        c.font, c.fill = HEADER_FONT, HEADER_FILL
        c.alignment = Alignment(horizontal="center")
        letter = get_column_letter(j)
        dim = ws.column_dimensions[letter]
        dim.width = max(col.width, len(col.name) + 4)
        if col.number_format != "General":
            dim.number_format = col.number_format
    for i, row in enumerate(rows, start=2):
        for j, col in enumerate(cols, start=1):
            set_value(ws, i, j, row.get(col.name))
            if col.number_format != "General":
                ws.cell(row=i, column=j).number_format = col.number_format
    for j, col in enumerate(cols, start=1):
        letter = get_column_letter(j)
        help_dv = DataValidation(allow_blank=True, showInputMessage=True,
                                 promptTitle=col.name[:32], prompt=_input_message(col))
        help_dv.add(f"{letter}1")
        ws.add_data_validation(help_dv)
        dv = _settings_keys() if sheet.name == "Settings" and col.name == "setting" \
            else _validation(col)
        if dv is not None:
            dv.add(f"{letter}2:{letter}{MAX_ROW}")
            ws.add_data_validation(dv)
    ref = f"A1:{get_column_letter(len(cols))}{max(len(rows) + 1, 2)}"
    table = Table(displayName=f"t{sheet.name}", ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    ws.freeze_panes = "A2"
    _page_setup(ws)


def _add_list_names(wb: Workbook) -> None:
    """Dynamic named ranges over the source columns: the drop-downs grow with the rows added.

    The list runs from row 2 for as many rows as the sheet's id column has filled in.
    """
    for ref, (sheet_name, column) in LIST_SOURCES.items():
        sheet = next(s for s in SHEETS if s.name == sheet_name)
        assert sheet.key is not None
        names = [c.name for c in sheet.columns]
        letter = get_column_letter(names.index(column) + 1)
        key = get_column_letter(names.index(sheet.key) + 1)
        q = quote_sheetname(sheet_name)
        formula = (f"OFFSET({q}!${letter}$2,0,0,"
                   f"MAX(1,COUNTA({q}!${key}:${key})-1),1)")
        wb.defined_names[list_name(ref)] = DefinedName(list_name(ref), attr_text=formula)


def check_stages(stages: Sequence[str]) -> list[str]:
    """Stage ids usable as Routes columns; raise :class:`TemplateError` otherwise."""
    out = [str(s).strip() for s in stages if str(s).strip()]
    if not out:
        raise TemplateError("give at least one stage, e.g. --stages mining,separation")
    folded = [norm_name(s) for s in out]
    dup = sorted({s for s, f in zip(out, folded, strict=True) if folded.count(f) > 1})
    if dup:
        raise TemplateError(f"stage names must differ (ignoring case): {', '.join(dup)}")
    unsafe = [s for s in out if s[:1] in FORMULA_START or any(
        ord(ch) < 32 or ord(ch) == 127 for ch in s)]
    if unsafe:
        raise TemplateError(
            "a stage name cannot start with =, +, - or @ (a spreadsheet would read it as a "
            "formula) nor hold control characters, since it also heads a Routes column: "
            + ", ".join(repr(s) for s in unsafe))
    route_cols = {norm_name(c.name) for s in SHEETS if s.stage_columns for c in s.columns}
    clash = [s for s in out if norm_name(s) in route_cols]
    if clash:
        raise TemplateError(f"a stage cannot be named like a Routes column: {', '.join(clash)}")
    return out


def build_template(example: bool = False, stages: Sequence[str] | None = None) -> Workbook:
    """The blank template (stages prefilled) or the small worked example."""
    if example:
        if stages:
            raise TemplateError("--stages cannot be combined with --example (the example "
                                "has its own stages)")
        from planner.inputs.example import example_rows

        return build_workbook(example_rows())
    stage_ids = check_stages(DEFAULT_STAGES if stages is None else stages)
    return build_workbook({"Stages": [{"stage": s} for s in stage_ids]})


def build_workbook(data: dict[str, list[dict[str, Any]]],
                   extra: dict[str, Sequence[str]] | None = None,
                   sources: Sequence[tuple[str, str]] = ()) -> Workbook:
    """An input workbook holding ``data`` (sheet -> rows of column -> value).

    Stages come from ``data["Stages"]``; ``extra`` adds note columns per sheet
    (e.g. ``{"Offers": ["source"]}``); ``sources`` (tag or reference, meaning)
    adds a Sources sheet after the Instructions, which the loader ignores.
    Examples and tests build workbooks this way.
    """
    stages = [str(r["stage"]) for r in data.get("Stages", []) if r.get("stage") is not None]
    wb = Workbook()
    ws0 = wb.active
    assert ws0 is not None
    write_instructions(ws0)
    for sheet in SHEETS:
        write_sheet(wb.create_sheet(sheet.name), sheet, stages, data.get(sheet.name, []),
                    (extra or {}).get(sheet.name, ()))
    if sources:
        _write_sources(wb.create_sheet("Sources", 1), sources)
    _add_list_names(wb)
    return wb


#: The legend of source tags of shared/data/rare-earth-facts.md, for Sources sheets.
SOURCE_TAGS: tuple[tuple[str, str], ...] = (
    ("[S]", "Primary or reputable source (official statistics, regulation, company reports)."),
    ("[S2]", "Weaker source (press reports); verify before leaning on it."),
    ("[D]", "Arithmetic on sourced values."),
    ("[I]", "Illustrative assumption made for this example; replace with your own data."),
)


def _write_sources(ws: Worksheet, sources: Sequence[tuple[str, str]]) -> None:
    """The legend of source tags and the references behind them."""
    ws.append(["tag or reference", "meaning"])
    for c in ws[1]:
        c.font = Font(bold=True)
    for tag, text in sources:
        ws.append([tag, text])
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 120


def write_workbook(path: str | Path, data: dict[str, list[dict[str, Any]]],
                   extra: dict[str, Sequence[str]] | None = None,
                   sources: Sequence[tuple[str, str]] = ()) -> Path:
    """Write an input workbook holding ``data`` atomically (see :func:`build_workbook`)."""
    return save_atomic(build_workbook(data, extra, sources), path)


def write_template(path: str | Path, example: bool = False,
                   stages: Sequence[str] | None = None) -> Path:
    """Write the blank template (or the worked example) atomically."""
    return save_atomic(build_template(example, stages), path)
