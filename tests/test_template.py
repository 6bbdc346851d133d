"""The input template, read back from the written workbook.

Checks what an analyst sees: the Instructions sheet, one named and styled
table per schema sheet with a frozen header, column number formats, an input
message on every header, drop-down lists (fed by named ranges over the id
columns) and number checks on the cells.  A round trip fills the blank
template by script, validates it and solves it to a hand-worked optimum.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from planner import api
from planner.cli import main
from planner.inputs.schema import SHEETS, Sheet
from planner.inputs.template import (
    DEFAULT_STAGES,
    ILLUSTRATION,
    ILLUSTRATION_RESULT,
    LIST_SOURCES,
    TemplateError,
    build_template,
    write_template,
)

INPUTS_TEMPLATE = Path(__file__).resolve().parent.parent / "inputs" / "template.xlsx"


@pytest.fixture(scope="module")
def blank(tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    """The blank template as written by ``planner template``, read back."""
    path = tmp_path_factory.mktemp("tpl") / "template.xlsx"
    result = CliRunner().invoke(main, ["template", str(path)])
    assert result.exit_code == 0, result.output
    return openpyxl.load_workbook(path)


def headers(ws: Worksheet) -> list[Any]:
    return [c.value for c in ws[1]]


def validations(ws: Worksheet, cell: str) -> list[DataValidation]:
    """The data validations whose range covers ``cell``."""
    return [dv for dv in ws.data_validations.dataValidation if cell in dv.sqref]


def schema_columns(sheet: Sheet) -> list[str]:
    return [c.name for c in sheet.columns] + (DEFAULT_STAGES if sheet.stage_columns else [])


def test_sheets_follow_the_schema_with_instructions_first(blank: openpyxl.Workbook) -> None:
    assert blank.sheetnames == ["Instructions"] + [s.name for s in SHEETS]
    for sheet in SHEETS:
        assert headers(blank[sheet.name]) == schema_columns(sheet)


def test_every_sheet_is_a_named_styled_table_with_frozen_header(
        blank: openpyxl.Workbook) -> None:
    for sheet in SHEETS:
        ws = blank[sheet.name]
        assert list(ws.tables) == [f"t{sheet.name}"]
        table = ws.tables[f"t{sheet.name}"]
        last = openpyxl.utils.get_column_letter(len(schema_columns(sheet)))
        rows = len(DEFAULT_STAGES) if sheet.name == "Stages" else 0  # only Stages prefilled
        assert table.ref == f"A1:{last}{max(rows + 1, 2)}"
        assert table.tableStyleInfo.name == "TableStyleMedium2"
        assert ws.freeze_panes == "A2"
        for cell in ws[1]:
            assert cell.font.bold and cell.fill.fgColor.rgb.endswith("1F4E78")
            # wide enough for the header text
            width = ws.column_dimensions[cell.column_letter].width
            assert width >= len(str(cell.value)) + 2


def test_number_formats_tonnes_money_percent(blank: openpyxl.Workbook) -> None:
    offers = blank["Offers"]
    assert headers(offers)[4:7] == ["unit_cost", "min_volume", "max_volume"]
    assert offers.column_dimensions["E"].number_format == "#,##0.00"   # money
    assert offers.column_dimensions["F"].number_format == "#,##0.###"  # t
    caps = blank["Caps"]
    assert headers(caps)[4:6] == ["max_share", "min_share"]
    assert caps.column_dimensions["E"].number_format == "0.0%"
    assert caps.column_dimensions["F"].number_format == "0.0%"
    assert blank["Tariffs"].column_dimensions["C"].number_format == "0.0%"
    for sheet in SHEETS:
        ws = blank[sheet.name]
        for j, col in enumerate(sheet.columns, start=1):
            letter = openpyxl.utils.get_column_letter(j)
            assert ws.column_dimensions[letter].number_format == col.number_format


def test_every_header_has_an_input_message_with_meaning_unit_default(
        blank: openpyxl.Workbook) -> None:
    for sheet in SHEETS:
        ws = blank[sheet.name]
        for j, col in enumerate(sheet.columns, start=1):
            cell = f"{openpyxl.utils.get_column_letter(j)}1"
            (dv,) = [d for d in validations(ws, cell) if str(d.sqref) == cell]
            assert dv.showInputMessage and dv.promptTitle == col.name
            assert col.help in dv.prompt
            if col.unit:
                assert f"Unit: {col.unit}." in dv.prompt
            if col.default is not None:
                assert "Default:" in dv.prompt
            # Excel shows at most 255 characters: nothing may be cut off
            assert len(dv.prompt) < 255 and dv.prompt.endswith(".")
    # Spelled out for two columns an analyst reads often:
    (dv,) = [d for d in validations(blank["Offers"], "G1") if str(d.sqref) == "G1"]
    assert dv.prompt == ("t per year at most (blank: unlimited). Unit: t/yr. May be blank.")
    (dv,) = [d for d in validations(blank["Periods"], "B1") if str(d.sqref) == "B1"]
    assert dv.prompt == "Length of the period in days. Unit: days. Default: 365."


def test_drop_downs_for_every_reference(blank: openpyxl.Workbook) -> None:
    expected = {
        ("Demand", "A5"): "list_material", ("Demand", "B5"): "list_period",
        ("Facilities", "D9"): "list_country", ("Facilities", "E9"): "list_stage",
        ("Facilities", "G9"): "list_period", ("Routes", "B3"): "list_facility",
        ("Routes", "E3"): "list_facility", ("Offers", "C7"): "list_material",
        ("Offers", "D7"): "list_route", ("Tariffs", "A2"): "list_country",
        ("Rules", "C4"): "list_country", ("Rules", "E4"): "list_stage",
        ("Caps", "C4"): "list_stage", ("Scenarios", "D4"): "list_material",
        ("Offers", "B7"): "list_company", ("Rules", "D4"): "list_company",
        ("Rules", "B4"): '"ban,quota"', ("Rules", "J4"): '"TRUE,FALSE"',
        ("Scenarios", "B4"): '"rule_on,rule_off,cap_on,cap_off,capacity,cost,demand"',
        ("Settings", "A2"): '"plan_name,currency,shortage_penalty,stockpile_penalty,'
                            'time_limit,threads,method,gap,commit_through,risk_weight,'
                            'cvar_level"',
    }
    for (sheet, cell), formula in expected.items():
        lists = [d for d in validations(blank[sheet], cell) if d.type == "list"]
        assert [d.formula1 for d in lists] == [formula], (sheet, cell)
    # A typed tag is allowed where a country or tag is asked for; a bad material is not.
    (tariff,) = [d for d in validations(blank["Tariffs"], "A2") if d.type == "list"]
    assert not tariff.showErrorMessage
    (mat,) = [d for d in validations(blank["Offers"], "C7") if d.type == "list"]
    assert mat.showErrorMessage
    (supplier,) = [d for d in validations(blank["Offers"], "B7") if d.type == "list"]
    assert not supplier.showErrorMessage  # a supplier need not operate a facility


def test_drop_down_sources_are_dynamic_ranges_over_the_id_columns(
        blank: openpyxl.Workbook) -> None:
    names = {k: v.attr_text for k, v in blank.defined_names.items()}
    assert names["list_material"] == (
        "OFFSET('Materials'!$A$2,0,0,MAX(1,COUNTA('Materials'!$A:$A)-1),1)")
    assert set(names) == {f"list_{ref}" for ref in LIST_SOURCES}
    for ref, (sheet, column) in LIST_SOURCES.items():
        letter = openpyxl.utils.get_column_letter(headers(blank[sheet]).index(column) + 1)
        # the list starts below the header of its column; its length counts the ids (A)
        assert names[f"list_{ref}"] == (
            f"OFFSET('{sheet}'!${letter}$2,0,0,MAX(1,COUNTA('{sheet}'!$A:$A)-1),1)")
        assert headers(blank[sheet])[0] == (ref if ref != "company" else "facility")
    # Suppliers and rule companies are suggested from the Facilities operators (column C).
    assert names["list_company"] == (
        "OFFSET('Facilities'!$C$2,0,0,MAX(1,COUNTA('Facilities'!$A:$A)-1),1)")


def test_validations_cover_whole_columns_and_check_numbers(blank: openpyxl.Workbook) -> None:
    deep = "F100000"  # far below the rows of any table: analysts' new rows are covered
    (vol,) = [d for d in validations(blank["Offers"], deep) if d.type]
    assert (vol.type, vol.operator, vol.formula1) == ("decimal", "greaterThanOrEqual", "0")
    (share,) = [d for d in validations(blank["Caps"], "E100000") if d.type]
    assert (share.type, share.operator, share.formula1, share.formula2) == (
        "decimal", "between", "0", "1")
    assert "65% is 0.65" in share.error
    (rate,) = [d for d in validations(blank["Tariffs"], "C3") if d.type]
    assert (rate.type, rate.operator, rate.formula1) == ("decimal", "greaterThanOrEqual", "0")


def test_instructions_cover_order_units_rules_caps_scenarios_and_illustration(
        blank: openpyxl.Workbook) -> None:
    ws = blank["Instructions"]
    text = "\n".join(f"{r[0] or ''} | {r[1] or ''}" for r in ws.iter_rows(values_only=True))
    assert ws["A1"].value == "How to fill this workbook"
    order = [f"{i}. {s.name} ({'required' if s.required else 'optional'})"
             for i, s in enumerate(SHEETS, start=1)]
    positions = [text.index(line) for line in order]
    assert positions == sorted(positions)
    for heading in ("Units and conventions", "Rules: sanctions and export controls",
                    "Caps: concentration limits and floors", "Scenarios: what-ifs",
                    "A tiny worked illustration"):
        assert heading in text
    assert "65% is 0.65" in text and "Tonnes (t)" in text
    assert "Offers | offer O_CN, supplier S1, material NdPr, route R_CN, unit_cost 60000, " \
           "max_volume 70;" in text
    assert ILLUSTRATION_RESULT in text
    assert ws.column_dimensions["B"].width >= 100 and ws["B2"].alignment.wrap_text


def test_fill_order_only_refers_back() -> None:
    """'Fill the tabs left to right' holds: every reference points to an earlier sheet."""
    order = [s.name for s in SHEETS]
    for i, sheet in enumerate(SHEETS):
        refs = {c.ref for c in sheet.columns if c.ref} | (
            {"facility"} if sheet.stage_columns else set())
        for ref in refs:
            source, _ = LIST_SOURCES["country" if ref == "country_or_tag" else ref]
            assert order.index(source) < i, (sheet.name, ref)


def test_stages_option_sets_stages_and_route_columns(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    result = CliRunner().invoke(main, ["template", str(path), "--stages", "ore, oxide,metal"])
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(path)
    assert headers(wb["Routes"]) == ["route", "ore", "oxide", "metal"]
    assert [r[0] for r in wb["Stages"].iter_rows(min_row=2, values_only=True)] == [
        "ore", "oxide", "metal"]
    (dv,) = [d for d in validations(wb["Routes"], "D2") if d.type == "list"]
    assert dv.formula1 == "list_facility"


@pytest.mark.parametrize(("args", "message"), [
    (["--stages", "a,A"], "stage names must differ (ignoring case): A, a"),
    (["--stages", "route"], "a stage cannot be named like a Routes column: route"),
    (["--stages", ","], "give at least one stage"),
    (["--example", "--stages", "a"], "--stages cannot be combined with --example"),
])
def test_bad_stages_are_refused_without_traceback(tmp_path: Path, args: list[str],
                                                  message: str) -> None:
    path = tmp_path / "t.xlsx"
    result = CliRunner().invoke(main, ["template", str(path), *args])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert not path.exists()


def test_unwritable_path_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    result = CliRunner().invoke(main, ["template", str(tmp_path / "file" / "t.xlsx")])
    assert result.exit_code == 2 and "Cannot write" in result.output


def test_example_validates_clean_and_solves(tmp_path: Path) -> None:
    path = tmp_path / "example.xlsx"
    assert CliRunner().invoke(main, ["template", "--example", str(path)]).exit_code == 0
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0 and "valid" in result.output
    assert "warning" not in result.output
    outcome = api.run(path, tmp_path / "report.xlsx")
    assert outcome.exit_code == 0
    assert [r.status for r in outcome.results] == ["optimal"] * 3


def fill(path: Path, data: dict[str, list[dict[str, Any]]]) -> None:
    """Type rows into an existing template by header name, as an analyst would."""
    wb = openpyxl.load_workbook(path)
    for sheet, rows in data.items():
        ws = wb[sheet]
        cols = {c.value: c.column for c in ws[1]}
        start = 2 + sum(1 for r in ws.iter_rows(min_row=2, values_only=True)
                        if any(v is not None for v in r))
        for i, row in enumerate(rows, start=start):
            for key, value in row.items():
                ws.cell(row=i, column=cols[key], value=value)
    wb.save(path)


def test_round_trip_fill_blank_template_validate_and_run(tmp_path: Path) -> None:
    """The Instructions' illustration typed into a blank template gives its stated result.

    By hand: demand 100 t; O_CN costs 60,000 but sells at most 70 t, O_AU costs 80,000:
    base = 70 x 60,000 + 30 x 80,000 = 6,600,000.  Scenario cap_on keeps CHN at most
    50%: 50 x 60,000 + 50 x 80,000 = 7,000,000.
    """
    path = tmp_path / "filled.xlsx"
    write_template(path, stages=["separation"])
    fill(path, {k: v for k, v in ILLUSTRATION.items() if k != "Stages"})
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output
    outcome = api.run(path, tmp_path / "report.xlsx")
    summary = {r.name: r.total_cost for r in outcome.results}
    assert summary == pytest.approx({"base": 6_600_000, "cap_on": 7_000_000})
    plan = {(r["scenario"], r["offer"]): r["volume"] for r in read_sheet(
        outcome.report, "Plan")}
    assert plan == pytest.approx({("base", "O_CN"): 70, ("base", "O_AU"): 30,
                                  ("cap_on", "O_CN"): 50, ("cap_on", "O_AU"): 50})


def read_sheet(path: Path, name: str) -> list[dict[str, Any]]:
    ws = openpyxl.load_workbook(path, read_only=True)[name]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:]]


def test_build_template_rejects_bad_stages_in_python() -> None:
    with pytest.raises(TemplateError):
        build_template(stages=["x", "x"])


def _snapshot(wb: openpyxl.Workbook) -> dict[str, Any]:
    """What the committed template must share with a fresh one (not its bytes)."""
    out: dict[str, Any] = {"sheets": wb.sheetnames,
                           "names": {k: v.attr_text for k, v in wb.defined_names.items()}}
    for ws in wb.worksheets:
        out[ws.title] = {
            "cells": [[c.value for c in row] for row in ws.iter_rows()],
            "tables": {t.name: (t.ref, t.tableStyleInfo.name) for t in ws.tables.values()},
            "validations": sorted(
                (str(d.sqref), d.type, d.operator, d.formula1, d.formula2, d.prompt, d.error,
                 d.showErrorMessage) for d in ws.data_validations.dataValidation),
            "formats": {k: (d.number_format, d.width) for k, d in ws.column_dimensions.items()},
            "freeze": ws.freeze_panes,
        }
    return out


def test_committed_template_equals_planner_template(tmp_path: Path) -> None:
    """inputs/template.xlsx is what ``planner template`` writes (regenerate it if not)."""
    fresh = tmp_path / "fresh.xlsx"
    write_template(fresh)
    assert INPUTS_TEMPLATE.exists(), "run: planner template inputs/template.xlsx"
    assert _snapshot(openpyxl.load_workbook(INPUTS_TEMPLATE)) == _snapshot(
        openpyxl.load_workbook(fresh)), "regenerate: planner template inputs/template.xlsx"
