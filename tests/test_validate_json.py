"""``planner validate --json``: one JSON document on stdout for automation.

Shape: ``{"ok": bool, "problems": [...], "warnings": [...]}``; each problem has
sheet, row, column, cell (as Excel names it), value, expected, hint and the
full message.  Exit 0 when clean (warnings allowed), 2 when not.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
from click.testing import CliRunner
from wb import valid_data, write

from planner.cli import main


def validate_json(path: Path) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(main, ["validate", "--json", str(path)])
    return result.exit_code, json.loads(result.stdout)


def test_clean_workbook(tmp_path: Path) -> None:
    code, doc = validate_json(write(tmp_path, valid_data()))
    assert code == 0
    assert doc == {"ok": True, "problems": [], "warnings": []}


def test_warnings_are_listed_and_exit_is_zero(tmp_path: Path) -> None:
    data = valid_data()
    data["Facilities"].append({"facility": "SEP_AU", "country": "AUS",
                               "stage": "separation"})
    code, doc = validate_json(write(tmp_path, data))
    assert code == 0 and doc["ok"] is True and doc["problems"] == []
    assert doc["warnings"] == [
        "Facilities row 6: facility 'SEP_AU' is on no route, so it plays no part in the "
        "plan. Put it in the separation column of a route, or delete the row."]


def test_common_slips_each_name_the_cell_and_suggest_the_fix(tmp_path: Path) -> None:
    data = valid_data()
    data["Caps"][0]["max_share"] = 65          # Caps!E2: meant 65%
    data["Facilities"][0]["country"] = "chn"   # Facilities!D2: meant CHN
    data["Offers"][0]["material"] = "NdPr "    # Offers!C2: trailing space
    data["Demand"][1]["period"] = 2030         # Demand!B3: outside 2027-2028
    code, doc = validate_json(write(tmp_path, data))
    assert code == 2 and doc["ok"] is False and doc["warnings"] == []
    by_cell = {p["cell"]: p for p in doc["problems"]}
    assert set(by_cell) == {"Caps!E2", "Facilities!D2", "Offers!C2", "Demand!B3"}
    assert by_cell["Caps!E2"] == {
        "sheet": "Caps", "row": 2, "column": "max_share", "cell": "Caps!E2", "value": "65",
        "expected": "a share between 0 and 1 (65% is 0.65)",
        "hint": "Did you mean 65% (0.65)?",
        "message": "Caps, row 2, column max_share (Caps!E2): value 65: expected a share "
                   "between 0 and 1 (65% is 0.65). Did you mean 65% (0.65)?"}
    assert by_cell["Facilities!D2"]["value"] == "chn"
    assert by_cell["Facilities!D2"]["hint"] == "Ids are case-sensitive: did you mean 'CHN'?"
    assert by_cell["Offers!C2"]["value"] == "NdPr "
    assert by_cell["Offers!C2"]["hint"] == "Remove the surrounding spaces: 'NdPr'."
    assert by_cell["Demand!B3"]["value"] == "2030"
    assert by_cell["Demand!B3"]["hint"] == "The horizon runs 2027 to 2028."


def test_formula_without_result_is_a_problem_in_json(tmp_path: Path) -> None:
    path = write(tmp_path, valid_data())
    wb = openpyxl.load_workbook(path)
    wb["Demand"]["C2"] = "=50*2"  # written by a script, never calculated
    wb.save(path)
    code, doc = validate_json(path)
    assert code == 2
    (p,) = doc["problems"]
    assert (p["cell"], p["value"]) == ("Demand!C2", "=50*2")
    assert "never opened in a spreadsheet" in p["hint"]


def test_missing_file_and_non_workbook(tmp_path: Path) -> None:
    code, doc = validate_json(tmp_path / "nope.xlsx")
    assert code == 2
    (p,) = doc["problems"]
    assert (p["cell"], p["expected"], p["hint"]) == (
        None, "an existing .xlsx file", "Check the path: no such file.")
    text = tmp_path / "notes.xlsx"
    text.write_text("not a workbook")
    code, doc = validate_json(text)
    assert code == 2 and doc["problems"][0]["expected"] == "an Excel workbook (.xlsx)"


def test_stdout_is_only_json_from_the_real_command(tmp_path: Path) -> None:
    data = valid_data()
    data["Offers"][1]["unit_cost"] = -5
    path = write(tmp_path, data)
    proc = subprocess.run([sys.executable, "-m", "planner.cli", "validate", "--json",
                           str(path)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    doc = json.loads(proc.stdout)  # the whole of stdout parses
    assert [p["cell"] for p in doc["problems"]] == ["Offers!E3"]


def test_trailing_space_where_the_id_is_defined(tmp_path: Path) -> None:
    data = valid_data()
    data["Routes"][0]["route"] = "R_CN "  # Routes!A2 defines the id with a space
    code, doc = validate_json(write(tmp_path, data))
    assert code == 2
    (p,) = doc["problems"]  # the one reference to it: Offers!D2
    assert (p["cell"], p["value"], p["hint"]) == (
        "Offers!D2", "R_CN", "The route is written 'R_CN ', with surrounding spaces, where "
        "it is defined: remove them there.")


def test_json_keeps_warnings_when_validation_fails(tmp_path: Path) -> None:
    from planner.inputs.template import write_workbook
    from tests.test_model import base

    d = base()
    d["Demand"][0]["demand"] = "100"  # read, with a warning
    d["Offers"][0]["unit_cost"] = -1  # a problem
    path = tmp_path / "w.xlsx"
    write_workbook(path, d)
    res = CliRunner().invoke(main, ["validate", "--json", str(path)])
    assert res.exit_code == 2
    out = json.loads(res.stdout)
    assert [p["cell"] for p in out["problems"]] == ["Offers!E2"]
    assert out["warnings"] == ["Demand!C2 (demand): the number '100' is stored as text; it was "
                               "read as 100. Re-enter it as a number to be sure."]
