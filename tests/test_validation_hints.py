"""Slips a new user makes, each refused or warned with the cell and the fix.

One broken field per test, on the small valid workbook of tests/wb.py (Offers
row 2 is O_CN at 50/t, row 3 O_AU at 80/t).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from planner import api
from planner.inputs.problems import InputError
from tests import wb


def problems(tmp_path: Path, data: wb.Data) -> list[str]:
    with pytest.raises(InputError) as exc:
        api.load(wb.write(tmp_path, data))
    return [str(p) for p in exc.value.problems]


def test_number_typed_with_thousands_separators(tmp_path: Path) -> None:
    data = wb.valid_data()
    data["Offers"][0]["unit_cost"] = "750,000"
    assert problems(tmp_path, data) == [
        "Offers, row 2, column unit_cost (Offers!E2): value '750,000': expected a "
        "non-negative number in currency/t. The cell holds the text '750,000': type the "
        "number 750000 as a number (without thousands separators, or in a cell formatted "
        "as a number)."]


def test_percent_typed_as_text(tmp_path: Path) -> None:
    data = wb.valid_data()
    data["Caps"][0]["max_share"] = "65 %"
    (p,) = problems(tmp_path, data)
    assert p.endswith("The cell holds the text '65 %': type 0.65 (or 65 % in a cell "
                      "formatted as a percentage).")


def renamed(tmp_path: Path, cell: str, header: str) -> Path:
    """The valid workbook with one Offers header cell retyped."""
    path = wb.write(tmp_path, wb.valid_data())
    book = load_workbook(path)
    book["Offers"][cell] = header
    book.save(path)
    return path


def test_required_header_with_a_unit_is_a_near_miss(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        api.load(renamed(tmp_path, "E1", "unit_cost (USD/t)"))
    assert [str(p) for p in exc.value.problems] == [
        "Offers, row 1, column unit_cost (Offers!E1): value 'unit_cost (USD/t)': expected a "
        "column headed unit_cost in row 1. Rename the header 'unit_cost (USD/t)' to "
        "'unit_cost': headers must match exactly (units belong in the help, not in the "
        "header)."]


def test_optional_header_with_a_unit_warns(tmp_path: Path) -> None:
    plan = api.load(renamed(tmp_path, "G1", "Max Volume (t/yr)"))
    assert any(w.startswith("Offers!G1: the header 'Max Volume (t/yr)' is not the column "
                            "'max_volume', so the column is ignored") for w in plan.warnings)


def test_periods_typed_as_dates_are_one_problem_each_on_the_periods_sheet(
        tmp_path: Path) -> None:
    data = wb.valid_data()
    path = wb.write(tmp_path, data)
    book = load_workbook(path)
    ws = book["Periods"]
    ws["A2"] = datetime(2027, 1, 1)
    ws["A3"] = datetime(2028, 1, 1)
    book.save(path)
    with pytest.raises(InputError) as exc:
        api.load(path)
    got = exc.value.problems
    assert [(p.sheet, p.cell) for p in got] == [("Periods", "Periods!A2"),
                                                ("Periods", "Periods!A3")]
    assert got[0].expected == ("a period label such as 2027 or 2027-Q1 (text or a whole "
                               "number), not a date")


def test_floor_typed_for_a_cap_warns(tmp_path: Path) -> None:
    """CAP_CN meant 'at most 50% from China' but says min_share 0.9; China's offer sells
    at most 80 t/yr against 100 t of demand: the floor can never be met at full demand."""
    data = wb.valid_data()
    data["Caps"][0].update({"active": True, "max_share": None, "min_share": 0.9})
    data["Offers"][0]["max_volume"] = 80
    plan = api.load(wb.write(tmp_path, data))
    assert ("Caps row 2: floor 'CAP_CN' (min_share 90%) can only be met if purchases of "
            "'NdPr' stay below its demand in 2027, 2028: its target cannot supply 90% of the "
            "demand within the offers' max_volume. The rest goes unmet. Did you mean "
            "max_share?") in plan.warnings


def test_floor_above_a_cap_on_the_same_scope_warns(tmp_path: Path) -> None:
    data = wb.valid_data()
    data["Caps"][0]["active"] = True
    data["Caps"].append({"cap": "FLOOR", "material": "NdPr", "stage": "separation",
                         "country": "CHN", "min_share": 0.6})
    plan = api.load(wb.write(tmp_path, data))
    assert any(w.startswith("Caps row 3: floor 'FLOOR' asks for at least 60% from 'CHN', "
                            "above cap 'CAP_CN' (Caps row 2) allowing at most 50%")
               for w in plan.warnings)


def test_price_per_kg_warns(tmp_path: Path) -> None:
    data = wb.valid_data()
    data["Offers"][0]["unit_cost"] = 50_000
    data["Offers"].append({"offer": "O_KG", "supplier": "Lynas", "material": "NdPr",
                           "route": "R_AU", "unit_cost": 75, "max_volume": 1000})
    data["Offers"][1]["unit_cost"] = 80_000
    plan = api.load(wb.write(tmp_path, data))
    assert ("Offers row 4: unit_cost 75.00 of offer 'O_KG' is 867x below the other offers "
            "of 'NdPr' (median 65,000.00). Prices are per t: a price per kg is 1,000x too "
            "low. Check the unit.") in plan.warnings


def test_input_error_str_lists_every_problem(tmp_path: Path) -> None:
    data = wb.valid_data()
    data["Offers"][0]["unit_cost"] = -1
    data["Demand"][0]["demand"] = "lots"
    with pytest.raises(InputError) as exc:
        api.load(wb.write(tmp_path, data))
    text = str(exc.value)
    assert text.startswith("2 problem(s) in the input workbook:\n  - ")
    assert "Offers!E2" in text and "Demand!C2" in text
