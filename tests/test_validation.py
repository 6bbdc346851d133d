"""Validation (issue 2, item 2) and loading conventions (item 1).

Each test starts from the small valid workbook of ``wb.valid_data()``, breaks
one field and asserts the exact message an analyst sees (``str(Problem)``):
sheet, Excel row, column and cell, the offending value and what was expected.
Column letters follow the schema order written by the template (e.g. Offers:
offer A, supplier B, material C, route D, unit_cost E, min_volume F,
max_volume G, from_period H, to_period I).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from wb import Data, valid_data, write

from planner.cli import main
from planner.inputs.problems import InputError
from planner.scenario.plan import load_plan


def problems(path: Path) -> list[str]:
    """Every problem message of the workbook at ``path`` (it must be refused)."""
    with pytest.raises(InputError) as info:
        load_plan(path)
    return [str(p) for p in info.value.problems]


def only_problem(tmp_path: Path, data: Data) -> str:
    """Write ``data`` and return its one and only problem message."""
    found = problems(write(tmp_path, data))
    assert len(found) == 1, found
    return found[0]


def edit(path: Path, change: Callable[[dict[str, Worksheet]], None]) -> Path:
    """Change a written workbook with openpyxl (sheets by title) and save it in place."""
    book = load_workbook(path)
    for ws in book.worksheets:
        for name in list(ws.tables):
            del ws.tables[name]  # tables would no longer match edited headers
    change({ws.title: ws for ws in book.worksheets})
    book.save(path)
    return path


def test_valid_workbook_loads(tmp_path: Path) -> None:
    plan = load_plan(write(tmp_path, valid_data()))
    assert [p.label for p in plan.periods] == ["2027", "2028"]
    assert plan.demand == {("NdPr", 0): 100.0, ("NdPr", 1): 100.0}
    assert set(plan.offers) == {"O_CN", "O_AU"}
    assert plan.routes["R_CN"].facilities == {"mining": "MINE_CN", "separation": "SEP_CN"}
    assert plan.warnings == []


@pytest.mark.parametrize("args", [[], ["--example"], ["--stages", "mining,refining"]])
def test_templates_are_valid_input(tmp_path: Path, args: list[str]) -> None:
    """Validation never refuses what the planner itself writes as a template."""
    path = tmp_path / "template.xlsx"
    assert CliRunner().invoke(main, ["template", str(path), *args]).exit_code == 0
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output


# --- missing sheets and columns ---------------------------------------------

def test_missing_required_sheet(tmp_path: Path) -> None:
    path = edit(write(tmp_path, valid_data()), lambda s: s["Offers"].parent.remove(s["Offers"]))
    assert problems(path) == [
        "Offers: expected a sheet named Offers. Add the sheet 'Offers' (Supply options: a "
        "supplier sells a material along a route)."
    ]


def test_missing_optional_sheet_is_fine(tmp_path: Path) -> None:
    data = valid_data()
    data["Scenarios"] = []
    path = edit(write(tmp_path, data),
                lambda s: s["Scenarios"].parent.remove(s["Scenarios"]))
    assert load_plan(path).scenarios == {}


def test_missing_required_column_is_reported_once(tmp_path: Path) -> None:
    def rename(s: dict[str, Worksheet]) -> None:
        s["Offers"]["E1"] = "price"  # unit_cost is gone; "price" is an unknown column

    path = edit(write(tmp_path, valid_data()), rename)
    assert problems(path) == [
        "Offers, row 1, column unit_cost: expected a column headed unit_cost in row 1. "
        "Add the column 'unit_cost' (Price per t delivered)."
    ]


@pytest.mark.parametrize("sheet", ["Periods", "Materials", "Countries", "Stages",
                                   "Facilities", "Routes"])
def test_missing_sheet_is_not_reported_again_at_each_reference(tmp_path: Path,
                                                                sheet: str) -> None:
    path = edit(write(tmp_path, valid_data()), lambda s: s[sheet].parent.remove(s[sheet]))
    found = problems(path)
    assert len(found) == 1, found
    assert found[0].startswith(f"{sheet}: expected a sheet named {sheet}. Add the sheet ")


def test_missing_id_column_is_reported_once(tmp_path: Path) -> None:
    def rename(s: dict[str, Worksheet]) -> None:
        s["Periods"]["A1"] = "year"

    assert problems(edit(write(tmp_path, valid_data()), rename)) == [
        "Periods, row 1, column period: expected a column headed period in row 1. Add the "
        "column 'period' (Period label, e.g. 2027)."
    ]


def test_formula_without_cached_value(tmp_path: Path) -> None:
    def formula(s: dict[str, Worksheet]) -> None:
        s["Demand"]["C2"] = "=50*2"  # openpyxl stores no cached result

    found = problems(edit(write(tmp_path, valid_data()), formula))
    assert len(found) == 1, found
    # the wording after "expected" belongs to the loader (load.py); the location is fixed
    assert found[0].startswith("Demand, row 2, column demand (Demand!C2): value '=50*2': "
                               "expected a value, but the formula has no ")


# --- unknown references -----------------------------------------------------

def test_unknown_material_in_demand(tmp_path: Path) -> None:
    data = valid_data()
    data["Demand"][1]["material"] = "Dy"
    assert only_problem(tmp_path, data) == (
        "Demand, row 3, column material (Demand!A3): value 'Dy': expected a material id "
        "from the Materials sheet. Known material: NdPr."
    )


def test_unknown_material_is_case_sensitive(tmp_path: Path) -> None:
    data = valid_data()
    data["Offers"][0]["material"] = "ndpr"
    assert only_problem(tmp_path, data) == (
        "Offers, row 2, column material (Offers!C2): value 'ndpr': expected a material id "
        "from the Materials sheet. Ids are case-sensitive: did you mean 'NdPr'?"
    )


def test_unknown_route_in_offers(tmp_path: Path) -> None:
    data = valid_data()
    data["Offers"][1]["route"] = "R_XX"
    assert only_problem(tmp_path, data) == (
        "Offers, row 3, column route (Offers!D3): value 'R_XX': expected a route id from "
        "the Routes sheet. Known route: R_AU, R_CN."
    )


def test_unknown_country_in_facilities(tmp_path: Path) -> None:
    data = valid_data()
    data["Facilities"][2]["country"] = "XXX"
    assert only_problem(tmp_path, data) == (
        "Facilities, row 4, column country (Facilities!D4): value 'XXX': expected a country "
        "id from the Countries sheet. Known country: AUS, CHN, MYS."
    )


def test_unknown_stage_in_facilities(tmp_path: Path) -> None:
    data = valid_data()
    data["Facilities"][0]["stage"] = "refining"
    assert only_problem(tmp_path, data) == (
        "Facilities, row 2, column stage (Facilities!E2): value 'refining': expected a stage "
        "id from the Stages sheet. Known stage: mining, separation."
    )


def test_unknown_facility_in_routes(tmp_path: Path) -> None:
    data = valid_data()
    data["Routes"][0]["separation"] = "SEP_XX"
    assert only_problem(tmp_path, data) == (
        "Routes, row 2, column separation (Routes!C2): value 'SEP_XX': expected a facility id "
        "from the Facilities sheet. Known facility: MINE_AU, MINE_CN, SEP_CN, SEP_MY."
    )


def test_unknown_country_or_tag_in_tariffs(tmp_path: Path) -> None:
    data = valid_data()
    data["Tariffs"][0]["country"] = "G7"
    assert only_problem(tmp_path, data) == (
        "Tariffs, row 2, column country (Tariffs!A2): value 'G7': expected a country code or "
        "group tag from the Countries sheet. Known country: AUS, CHN, MYS, allied, covered."
    )


def test_unknown_stage_in_rules(tmp_path: Path) -> None:
    data = valid_data()
    data["Rules"][0]["stage"] = "magnet"
    assert only_problem(tmp_path, data) == (
        "Rules, row 2, column stage (Rules!E2): value 'magnet': expected a stage id from the "
        "Stages sheet. Known stage: mining, separation."
    )


def test_unknown_material_in_caps(tmp_path: Path) -> None:
    data = valid_data()
    data["Caps"][0]["material"] = "Li"
    assert only_problem(tmp_path, data) == (
        "Caps, row 2, column material (Caps!B2): value 'Li': expected a material id from the "
        "Materials sheet. Known material: NdPr."
    )


def test_unknown_period_in_demand(tmp_path: Path) -> None:
    data = valid_data()
    data["Demand"][0]["period"] = 2030
    assert only_problem(tmp_path, data) == (
        "Demand, row 2, column period (Demand!B2): value 2030: expected a period label from "
        "the Periods sheet. The horizon runs 2027 to 2028."
    )


def test_unknown_period_in_window(tmp_path: Path) -> None:
    data = valid_data()
    data["Offers"][0]["from_period"] = "2026"
    assert only_problem(tmp_path, data) == (
        "Offers, row 2, column from_period (Offers!H2): value '2026': expected a period label "
        "from the Periods sheet. The horizon runs 2027 to 2028."
    )


def test_unknown_rule_in_scenario(tmp_path: Path) -> None:
    data = valid_data()
    data["Scenarios"][0]["target"] = "BAN_XX"
    assert only_problem(tmp_path, data) == (
        "Scenarios, row 2, column target (Scenarios!C2): value 'BAN_XX': expected a rule id "
        "from the Rules sheet. Known target: BAN_CN."
    )


def test_unknown_cap_in_scenario(tmp_path: Path) -> None:
    data = valid_data()
    data["Scenarios"] = [{"scenario": "s", "action": "cap_on", "target": "CAP_XX"}]
    assert only_problem(tmp_path, data) == (
        "Scenarios, row 2, column target (Scenarios!C2): value 'CAP_XX': expected a cap id "
        "from the Caps sheet. Known target: CAP_CN."
    )


def test_capacity_target_that_names_nothing(tmp_path: Path) -> None:
    data = valid_data()
    data["Scenarios"] = [{"scenario": "s", "action": "capacity", "target": "Nowhere",
                          "value": 0}]
    msg = only_problem(tmp_path, data)
    assert msg.startswith(
        "Scenarios, row 2, column target (Scenarios!C2): value 'Nowhere': expected a "
        "facility id, country code, group tag or company. Known target: "
    )
    # the hint lists what the target may name: facilities, countries, tags, companies
    for name in ("MINE_CN", "SEP_MY", "CHN", "covered", "allied", "CNRE", "Lynas"):
        assert name in msg


def test_scenario_action_that_names_nothing(tmp_path: Path) -> None:
    data = valid_data()
    data["Scenarios"][0]["action"] = "explode"
    assert only_problem(tmp_path, data) == (
        "Scenarios, row 2, column action (Scenarios!B2): value 'explode': expected one of "
        "rule_on, rule_off, cap_on, cap_off, capacity, cost, demand."
    )


def test_scenario_material_on_a_non_cost_action(tmp_path: Path) -> None:
    data = valid_data()
    data["Scenarios"][0]["material"] = "NdPr"
    assert only_problem(tmp_path, data) == (
        "Scenarios, row 2, column material (Scenarios!D2): value 'NdPr': expected a blank "
        "cell (material narrows cost rows only). Clear the material, or use a cost row."
    )


# --- duplicates ---------------------------------------------------------------

def test_duplicate_material_id(tmp_path: Path) -> None:
    data = valid_data()
    data["Materials"].append({"material": "NdPr"})
    assert only_problem(tmp_path, data) == (
        "Materials, row 3, column material (Materials!A3): value 'NdPr': expected a unique "
        "material id. It is already used in row 2."
    )


def test_duplicate_offer_id(tmp_path: Path) -> None:
    data = valid_data()
    data["Offers"][1]["offer"] = "O_CN"
    assert only_problem(tmp_path, data) == (
        "Offers, row 3, column offer (Offers!A3): value 'O_CN': expected a unique offer id. "
        "It is already used in row 2."
    )


def test_duplicate_demand_pair_with_normalised_label(tmp_path: Path) -> None:
    data = valid_data()
    data["Demand"].append({"material": "NdPr", "period": "2027", "demand": 5})
    assert only_problem(tmp_path, data) == (
        "Demand, row 4, column period (Demand!B4): value '2027': expected one Demand row per "
        "material and period. 'NdPr' in 2027 is already given in row 2."
    )


# --- numbers ------------------------------------------------------------------

def test_negative_number(tmp_path: Path) -> None:
    data = valid_data()
    data["Offers"][0]["unit_cost"] = -5
    assert only_problem(tmp_path, data) == (
        "Offers, row 2, column unit_cost (Offers!E2): value -5: expected a non-negative "
        "number in currency/t."
    )


def test_non_numeric_number(tmp_path: Path) -> None:
    data = valid_data()
    data["Materials"][0]["holding_cost"] = "cheap"
    assert only_problem(tmp_path, data) == (
        "Materials, row 2, column holding_cost (Materials!C2): value 'cheap': expected a "
        "non-negative number in currency/t/yr."
    )


def test_number_stored_as_text_is_that_number(tmp_path: Path) -> None:
    data = valid_data()
    data["Offers"][0]["unit_cost"] = " 50 "
    data["Demand"][0]["demand"] = "100"
    plan = load_plan(write(tmp_path, data))
    assert plan.offers["O_CN"].unit_cost == 50.0
    assert plan.demand[("NdPr", 0)] == 100.0


def test_text_that_is_not_a_plain_number(tmp_path: Path) -> None:
    data = valid_data()
    data["Offers"][0]["unit_cost"] = "1,000"
    assert only_problem(tmp_path, data) == (
        "Offers, row 2, column unit_cost (Offers!E2): value '1,000': expected a non-negative "
        "number in currency/t. The cell holds the text '1,000': type the number 1000 as a "
        "number (without thousands separators, or in a cell formatted as a number)."
    )


def test_date_in_a_number_column(tmp_path: Path) -> None:
    def date_cell(s: dict[str, Worksheet]) -> None:
        s["Demand"]["C2"] = datetime(2027, 3, 1)  # a date-formatted cell
        s["Demand"]["C2"].number_format = "yyyy-mm-dd"

    assert problems(edit(write(tmp_path, valid_data()), date_cell)) == [
        "Demand, row 2, column demand (Demand!C2): value 2027-03-01 (a date): expected a "
        "non-negative number in t."
    ]


def test_excel_error_value(tmp_path: Path) -> None:
    def error_cell(s: dict[str, Worksheet]) -> None:
        cell = s["Demand"]["C3"]
        cell.value = "#N/A"
        cell.data_type = "e"

    path = edit(write(tmp_path, valid_data()), error_cell)
    # the cell really is an error cell in the file, not text
    assert load_workbook(path)["Demand"]["C3"].data_type == "e"
    assert problems(path) == [
        "Demand, row 3, column demand (Demand!C3): value '#N/A': expected a non-negative "
        "number in t. The cell holds an Excel error value; fix the formula or type the value."
    ]


def test_excel_error_value_in_a_route_stage_column(tmp_path: Path) -> None:
    def error_cell(s: dict[str, Worksheet]) -> None:
        cell = s["Routes"]["B2"]
        cell.value = "#REF!"
        cell.data_type = "e"

    path = edit(write(tmp_path, valid_data()), error_cell)
    assert problems(path) == [
        "Routes, row 2, column mining (Routes!B2): value '#REF!': expected a facility id from "
        "the Facilities sheet. The cell holds an Excel error value; fix the formula or type "
        "the value."
    ]


def test_excel_error_value_as_a_scenario_target(tmp_path: Path) -> None:
    data = valid_data()
    data["Scenarios"][0]["target"] = "#N/A"
    assert only_problem(tmp_path, data) == (
        "Scenarios, row 2, column target (Scenarios!C2): value '#N/A': expected text. The "
        "cell holds an Excel error value; fix the formula or type the value."
    )


@pytest.mark.parametrize(("setting", "expected"), [
    ("plan_name", "text"),
    ("shortage_penalty", "a non-negative number"),
])
def test_excel_error_value_in_settings(tmp_path: Path, setting: str, expected: str) -> None:
    data = valid_data()
    data["Settings"] = [{"setting": setting, "value": "x"}]

    def error_cell(s: dict[str, Worksheet]) -> None:
        s["Settings"]["B2"].value = "#DIV/0!"
        s["Settings"]["B2"].data_type = "e"

    assert problems(edit(write(tmp_path, data), error_cell)) == [
        f"Settings, row 2, column value (Settings!B2): value '#DIV/0!': expected {expected}. "
        "The cell holds an Excel error value; fix the formula or type the value."
    ]


def test_blank_required_cell(tmp_path: Path) -> None:
    data = valid_data()
    data["Offers"][1]["supplier"] = None
    assert only_problem(tmp_path, data) == (
        "Offers, row 3, column supplier (Offers!B3): expected a value (Selling company). "
        "This cell must not be blank."
    )


def test_share_above_one(tmp_path: Path) -> None:
    data = valid_data()
    data["Caps"][0]["max_share"] = 65
    assert only_problem(tmp_path, data) == (
        "Caps, row 2, column max_share (Caps!E2): value 65: expected a share between 0 and 1 "
        "(65% is 0.65). Did you mean 65% (0.65)?"
    )


def test_share_below_zero(tmp_path: Path) -> None:
    data = valid_data()
    data["Caps"][0]["min_share"] = -0.1
    assert only_problem(tmp_path, data) == (
        "Caps, row 2, column min_share (Caps!F2): value -0.1: expected a share between 0 and "
        "1 (65% is 0.65)."
    )


def test_zero_day_period(tmp_path: Path) -> None:
    data = valid_data()
    data["Periods"][1]["days"] = 0
    assert only_problem(tmp_path, data) == (
        "Periods, row 3, column days (Periods!B3): value 0: expected a positive number of "
        "days. A period must last at least one day."
    )


def test_reversed_window(tmp_path: Path) -> None:
    data = valid_data()
    data["Offers"][0].update(from_period=2028, to_period=2027)
    assert only_problem(tmp_path, data) == (
        "Offers, row 2, column to_period (Offers!I2): value 2027: expected a period not before "
        "from_period. The window is reversed: swap from_period and to_period."
    )


# --- structure ------------------------------------------------------------------

def test_tag_equal_to_country_code(tmp_path: Path) -> None:
    data = valid_data()
    data["Countries"][0]["groups"] = "covered, AUS"
    assert only_problem(tmp_path, data) == (
        "Countries, row 2, column groups (Countries!C2): value 'AUS': expected a group tag "
        "that is not also a country code. Rename the tag: 'AUS' is the country code in row 3."
    )


def test_facility_in_wrong_stage_column(tmp_path: Path) -> None:
    data = valid_data()
    data["Routes"][1].update(mining=None, separation="MINE_AU")
    assert only_problem(tmp_path, data) == (
        "Routes, row 3, column separation (Routes!C3): value 'MINE_AU': expected a facility "
        "whose stage is separation. 'MINE_AU' is a mining facility: move it to the mining "
        "column."
    )


def test_route_with_no_facility(tmp_path: Path) -> None:
    data = valid_data()
    data["Routes"].append({"route": "R_EMPTY"})
    assert only_problem(tmp_path, data) == (
        "Routes, row 4, column route (Routes!A4): value 'R_EMPTY': expected at least one "
        "facility in the stage columns mining, separation. A route needs a facility."
    )


def test_min_volume_above_max_volume(tmp_path: Path) -> None:
    data = valid_data()
    data["Offers"][1].update(min_volume=500, max_volume=400)
    assert only_problem(tmp_path, data) == (
        "Offers, row 3, column min_volume (Offers!F3): value 500: expected at most "
        "max_volume (400). min_volume is above max_volume."
    )


def test_rule_without_country_and_company(tmp_path: Path) -> None:
    data = valid_data()
    data["Rules"][0]["country"] = None
    assert only_problem(tmp_path, data) == (
        "Rules, row 2, column country (Rules!C2): expected a country or tag, or a company (or "
        "both). A rule must say whose supply it restricts."
    )


def test_unknown_rule_kind(tmp_path: Path) -> None:
    data = valid_data()
    data["Rules"][0]["kind"] = "embargo"
    assert only_problem(tmp_path, data) == (
        "Rules, row 2, column kind (Rules!B2): value 'embargo': expected one of ban, quota."
    )


def test_quota_without_limit(tmp_path: Path) -> None:
    data = valid_data()
    data["Rules"][0]["kind"] = "quota"
    assert only_problem(tmp_path, data) == (
        "Rules, row 2, column limit (Rules!G2): expected a quota limit in t/yr (0 bans by "
        "volume). A quota needs a limit."
    )


def test_overlapping_stockpile_rows(tmp_path: Path) -> None:
    data = valid_data()
    data["Stockpile"] = [
        {"material": "NdPr", "to_period": 2027, "min_tonnes": 5},
        {"material": "NdPr", "from_period": 2027, "min_tonnes": 10},
    ]
    assert only_problem(tmp_path, data) == (
        "Stockpile, row 3, column from_period (Stockpile!B3): value 2027: expected a window "
        "that does not overlap another row of the material. Row 2 already sets 'NdPr''s "
        "stockpile for 2027."
    )


def test_adjacent_stockpile_rows_are_fine(tmp_path: Path) -> None:
    data = valid_data()
    data["Stockpile"] = [
        {"material": "NdPr", "to_period": 2027, "min_tonnes": 5},
        {"material": "NdPr", "from_period": 2028, "min_tonnes": 10},
    ]
    rows = load_plan(write(tmp_path, data)).stockpile
    assert [(s.window, s.min_tonnes) for s in rows] == [((0, 0), 5.0), ((1, 1), 10.0)]


# --- every problem at once ----------------------------------------------------

def test_several_problems_are_all_reported(tmp_path: Path) -> None:
    data = valid_data()
    data["Periods"][0]["days"] = 0
    data["Offers"][0]["unit_cost"] = "n/a"
    data["Rules"][0]["kind"] = "embargo"
    data["Caps"][0]["max_share"] = 1.5
    data["Countries"][2]["groups"] = "CHN"
    found = problems(write(tmp_path, data))
    assert len(found) == 5, found
    assert [m.split(":")[0] for m in found] == [
        "Periods, row 2, column days (Periods!B2)",
        "Countries, row 4, column groups (Countries!C4)",
        "Offers, row 2, column unit_cost (Offers!E2)",
        "Rules, row 2, column kind (Rules!B2)",
        "Caps, row 2, column max_share (Caps!E2)",
    ]


@pytest.mark.parametrize("seed", range(12))
def test_random_broken_cells_never_crash_the_validator(tmp_path: Path, seed: int) -> None:
    """Any mix of wrong values is either valid or an InputError, never another exception."""
    rnd = random.Random(seed)
    junk = [None, "#N/A", -1, 0, 2.5, "abc", "2027", 2028.0, "NdPr", "covered", "MINE_CN",
            "R_CN", "BAN_CN", "quota", "capacity", True, " CHN ", datetime(2027, 1, 1)]
    data = valid_data()
    data["Scenarios"] += [
        {"scenario": "dear", "action": "cost", "target": "CHN", "material": "NdPr",
         "value": 2},
        {"scenario": "outage", "action": "capacity", "target": "Lynas", "value": 0},
    ]
    for _ in range(4):
        sheet = rnd.choice(sorted(data))
        row = rnd.choice(data[sheet])
        row[rnd.choice(sorted(row) + ["from_period", "to_period"])] = rnd.choice(junk)
    path = write(tmp_path, data)
    try:
        load_plan(path)
    except InputError as err:
        assert err.problems
        assert all(p.sheet and p.expected for p in err.problems)


# --- files --------------------------------------------------------------------

def test_nonexistent_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.xlsx"
    assert problems(path) == [
        f"workbook: value {str(path)!r}: expected an existing .xlsx file. Check the path: no "
        "such file."
    ]


def test_file_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "input.xlsx"
    path.write_text("material,period,demand\nNdPr,2027,100\n")
    assert problems(path) == [
        f"workbook: value {str(path)!r}: expected an Excel workbook (.xlsx). The file is not "
        "an .xlsx workbook; save it from Excel as 'Excel Workbook (*.xlsx)'."
    ]


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "input.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("notes.txt", "not a spreadsheet")
    found = problems(path)
    assert len(found) == 1, found
    assert found[0].startswith(f"workbook: value {str(path)!r}: expected a readable Excel "
                               "workbook (.xlsx). The file could not be read: ")


def test_directory_is_not_a_workbook(tmp_path: Path) -> None:
    assert problems(tmp_path) == [
        f"workbook: value {str(tmp_path)!r}: expected an Excel workbook (.xlsx). The file is "
        "not an .xlsx workbook; save it from Excel as 'Excel Workbook (*.xlsx)'."
    ]


# --- command line ---------------------------------------------------------------

def test_cli_validate_bad_input_exits_2_without_traceback(tmp_path: Path) -> None:
    data = valid_data()
    data["Offers"][0]["unit_cost"] = -5
    path = write(tmp_path, data)
    proc = subprocess.run([sys.executable, "-m", "planner.cli", "validate", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stdout + proc.stderr
    assert ("Offers, row 2, column unit_cost (Offers!E2): value -5: expected a non-negative "
            "number in currency/t.") in proc.stdout


def test_cli_validate_json_lists_every_problem(tmp_path: Path) -> None:
    data = valid_data()
    data["Offers"][0]["unit_cost"] = -5
    data["Periods"][1]["days"] = 0
    result = CliRunner().invoke(main, ["validate", "--json", str(write(tmp_path, data))])
    assert result.exit_code == 2
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert [(p["sheet"], p["row"], p["column"], p["cell"], p["value"])
            for p in report["problems"]] == [
        ("Periods", 3, "days", "Periods!B3", "0"),
        ("Offers", 2, "unit_cost", "Offers!E2", "-5"),
    ]


def test_cli_validate_clean_exits_0(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["validate", str(write(tmp_path, valid_data()))])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


@pytest.mark.parametrize("kind", ["bad", "missing", "not_xlsx"])
def test_cli_run_bad_input_writes_nothing(tmp_path: Path, kind: str) -> None:
    if kind == "bad":
        data = valid_data()
        data["Rules"][0]["kind"] = "quota"
        path = write(tmp_path, data)
    elif kind == "missing":
        path = tmp_path / "missing.xlsx"
    else:
        path = tmp_path / "notes.xlsx"
        path.write_bytes(b"\x00\x01 not a zip")
    out = tmp_path / "out" / "report.xlsx"
    result = CliRunner().invoke(main, ["run", str(path), "-o", str(out)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert not out.exists()
    assert not out.parent.exists()


def test_cli_run_bad_input_default_report_path_not_created(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = valid_data()
    data["Demand"][0]["material"] = "Dy"
    path = write(tmp_path, data)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", str(path)])
    assert result.exit_code == 2, result.output
    assert not (tmp_path / "reports").exists()


def test_cli_run_unknown_scenario_is_bad_input(tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    result = CliRunner().invoke(main, ["run", str(write(tmp_path, valid_data())), "-o",
                                       str(out), "--scenario", "nope"])
    assert result.exit_code == 2, result.output
    assert not out.exists()


# --- loading conventions (item 1) ---------------------------------------------

def test_names_match_case_insensitively_ignoring_spaces(tmp_path: Path) -> None:
    def rename(s: dict[str, Worksheet]) -> None:
        s["Offers"].title = " OFFERS "
        s["Offers"]["E1"] = "  Unit_Cost "
        s["Demand"]["C1"] = "DEMAND"
        s["Routes"]["B1"] = " MINING "  # stage columns too

    path = edit(write(tmp_path, valid_data()), rename)
    plan = load_plan(path)
    assert plan.offers["O_CN"].unit_cost == 50.0
    assert plan.demand[("NdPr", 1)] == 100.0
    assert plan.routes["R_AU"].facilities == {"mining": "MINE_AU", "separation": "SEP_MY"}


def test_extra_columns_are_ignored(tmp_path: Path) -> None:
    data = valid_data()
    data["Offers"][0]["source"] = "#N/A from a broken lookup"
    data["Offers"][1]["source"] = -1
    data["Offers"].append({"source": "a row holding only a note is not a data row"})
    data["Routes"][0]["notes"] = "SEP_MY"  # not a stage column: not read as a facility
    plan = load_plan(write(tmp_path, data, extra={"Offers": ["source"], "Routes": ["notes"]}))
    assert plan.offers["O_AU"].unit_cost == 80.0
    assert set(plan.offers) == {"O_CN", "O_AU"}
    assert plan.routes["R_CN"].facilities == {"mining": "MINE_CN", "separation": "SEP_CN"}


def test_empty_rows_are_skipped_and_rows_keep_excel_numbers(tmp_path: Path) -> None:
    data = valid_data()
    data["Demand"].insert(1, {})  # Excel row 3 is empty
    data["Demand"][2]["demand"] = -1  # now Excel row 4
    assert only_problem(tmp_path, data) == (
        "Demand, row 4, column demand (Demand!C4): value -1: expected a non-negative number "
        "in t."
    )
    data["Demand"][2]["demand"] = 100
    assert load_plan(write(tmp_path, data)).demand[("NdPr", 1)] == 100.0


def test_period_labels_are_normalised(tmp_path: Path) -> None:
    data = valid_data()
    data["Periods"] = [{"period": 2027.0, "days": 365}, {"period": "2028", "days": 365}]
    data["Demand"] = [{"material": "NdPr", "period": "2027", "demand": 100},
                      {"material": "NdPr", "period": 2028.0, "demand": 70}]
    data["Offers"][0].update(from_period="2028", to_period=2028)
    plan = load_plan(write(tmp_path, data))
    assert [p.label for p in plan.periods] == ["2027", "2028"]
    assert plan.demand == {("NdPr", 0): 100.0, ("NdPr", 1): 70.0}
    assert plan.offers["O_CN"].window == (1, 1)


def test_duplicate_period_label_after_normalisation(tmp_path: Path) -> None:
    data = valid_data()
    data["Periods"][1]["period"] = "2027"
    msgs = problems(write(tmp_path, data))
    assert msgs[0] == (
        "Periods, row 3, column period (Periods!A3): value '2027': expected a unique period "
        "id. It is already used in row 2."
    )


def test_group_tags_accepted_wherever_a_country_is_asked_for(tmp_path: Path) -> None:
    data = valid_data()
    data["Tariffs"][0]["country"] = "covered"
    data["Rules"][0]["country"] = "allied"
    data["Caps"][0]["country"] = "covered"
    data["Scenarios"].append({"scenario": "outage", "action": "capacity",
                              "target": "allied", "value": 0})
    data["Scenarios"].append({"scenario": "dear", "action": "cost", "target": "covered",
                              "material": "NdPr", "value": 2})
    plan = load_plan(write(tmp_path, data))
    assert plan.tariffs[0].country == "covered"
    assert plan.rules["BAN_CN"].country == "allied"
    assert plan.caps["CAP_CN"].country == "covered"
    assert plan.members("allied") == {"AUS"}
    assert [r.target for r in plan.scenarios["outage"]] == ["allied"]


def test_facility_country_must_be_a_code_not_a_tag(tmp_path: Path) -> None:
    data = valid_data()
    data["Facilities"][0]["country"] = "covered"
    assert only_problem(tmp_path, data) == (
        "Facilities, row 2, column country (Facilities!D2): value 'covered': expected a "
        "country code from the Countries sheet. 'covered' is a group tag; a facility lies in "
        "one country."
    )
