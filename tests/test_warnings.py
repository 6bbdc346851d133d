"""Warnings: valid input that is probably a slip.  Exit 0, printed, listed in the report.

Built on ``wb.valid_data()`` (see tests/wb.py): NdPr, 100 t in 2027 and 2028; offer
O_CN along MINE_CN (CHN, mining) -> SEP_CN (CHN, separation), offer O_AU along
MINE_AU (AUS) -> SEP_MY (MYS); rule BAN_CN bans the ``covered`` group (CHN) but is
inactive; cap CAP_CN is inactive.  That workbook gives no warning.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner
from wb import Data, valid_data, write

from planner import api
from planner.cli import main
from planner.inputs.template import write_template


def warnings(tmp_path: Path, data: Data) -> list[str]:
    return api.load(write(tmp_path, data)).warnings


def test_clean_workbook_has_no_warning(tmp_path: Path) -> None:
    assert warnings(tmp_path, valid_data()) == []


def test_offer_with_a_zero_capacity_facility_is_never_available(tmp_path: Path) -> None:
    data = valid_data()
    data["Facilities"][2]["capacity"] = 0  # MINE_AU, on O_AU's route
    assert warnings(tmp_path, data) == [
        "Offers row 3: offer 'O_AU' is never available in the base case: facility "
        "'MINE_AU' on its route has zero capacity in 2027, 2028. It will never be bought "
        "(nor its min_volume committed)."]


def test_offer_banned_throughout_is_never_available(tmp_path: Path) -> None:
    data = valid_data()
    data["Rules"][0]["active"] = True  # BAN_CN on the covered group (CHN)
    assert warnings(tmp_path, data) == [
        "Offers row 2: offer 'O_CN' is never available in the base case: ban rule 'BAN_CN' "
        "(Rules row 2) excludes it. It will never be bought (nor its min_volume committed)."]


def test_offer_whose_facility_closes_before_its_window(tmp_path: Path) -> None:
    data = valid_data()
    data["Facilities"][3]["to_period"] = 2027  # SEP_MY closes after 2027
    data["Offers"][1]["from_period"] = 2028    # O_AU only offered in 2028
    assert warnings(tmp_path, data) == [
        "Offers row 3: offer 'O_AU' is never available in the base case: facility "
        "'SEP_MY' on its route is closed in 2028. It will never be bought (nor its "
        "min_volume committed)."]


def test_material_with_demand_but_no_offer(tmp_path: Path) -> None:
    data = valid_data()
    data["Materials"].append({"material": "Dy"})
    data["Demand"] += [{"material": "Dy", "period": 2027, "demand": 5},
                       {"material": "Dy", "period": 2028, "demand": 2.5}]
    assert warnings(tmp_path, data) == [
        "Materials row 3: material 'Dy' has demand (7.5 t in all) but no offer; all of it "
        "will be unmet. Add an offer of it on the Offers sheet."]


def test_material_without_demand_and_offer_is_fine(tmp_path: Path) -> None:
    data = valid_data()
    data["Materials"].append({"material": "Dy"})
    assert warnings(tmp_path, data) == []


def test_facility_on_no_route(tmp_path: Path) -> None:
    data = valid_data()
    data["Facilities"].append({"facility": "SEP_AU", "country": "AUS",
                               "stage": "separation"})
    assert warnings(tmp_path, data) == [
        "Facilities row 6: facility 'SEP_AU' is on no route, so it plays no part in the "
        "plan. Put it in the separation column of a route, or delete the row."]


def test_rule_that_matches_nothing(tmp_path: Path) -> None:
    data = valid_data()
    # No mining happens in Malaysia (SEP_MY separates), so this ban matches no offer.
    data["Rules"].append({"rule": "BAN_MY_MINING", "kind": "ban", "country": "MYS",
                          "stage": "mining"})
    assert warnings(tmp_path, data) == [
        "Rules row 3: rule 'BAN_MY_MINING' matches no offer, so it never restricts "
        "anything. Check its country, company, stage and material."]


def test_floor_no_available_offer_can_meet(tmp_path: Path) -> None:
    data = valid_data()
    data["Caps"].append({"cap": "FLOOR_MY_MINING", "material": "NdPr", "stage": "mining",
                         "country": "MYS", "min_share": 0.2})
    assert warnings(tmp_path, data) == [
        "Caps row 3: cap 'FLOOR_MY_MINING' (min_share 20%) cannot be met by the available "
        "offers of 'NdPr' in 2027, 2028, so it forces purchases of 'NdPr' there to zero "
        "(the demand goes unmet). Add offers that satisfy it, relax the share, or set "
        "active to FALSE."]


def test_cap_that_every_available_offer_breaks_and_the_solve_agrees(tmp_path: Path) -> None:
    """All mining of both offers is in group G (CHN and AUS): at most 50% through G
    forces purchases to zero, so all 200 t of demand go unmet."""
    data = valid_data()
    data["Countries"][0]["groups"] = "covered, G"
    data["Countries"][1]["groups"] = "allied, G"
    data["Caps"][0].update(stage="mining", country="G", max_share=0.5, active=True)
    path = write(tmp_path, data)
    plan = api.load(path)
    assert plan.warnings == [
        "Caps row 2: cap 'CAP_CN' (max_share 50%) cannot be met by the available offers of "
        "'NdPr' in 2027, 2028, so it forces purchases of 'NdPr' there to zero (the demand "
        "goes unmet). Add offers that satisfy it, relax the share, or set active to FALSE."]
    (base,) = api.solve_all(plan, [])
    assert base.summary["unmet_demand"] == pytest.approx(200)


def test_satisfiable_floor_and_cap_give_no_warning(tmp_path: Path) -> None:
    data = valid_data()
    data["Caps"][0].update(active=True)  # CHN at most 50% of separation: O_AU can fill
    data["Caps"].append({"cap": "FLOOR_AU", "stage": "mining", "country": "AUS",
                         "min_share": 0.2})
    assert warnings(tmp_path, data) == []


def test_inactive_cap_is_not_checked(tmp_path: Path) -> None:
    data = valid_data()
    data["Caps"].append({"cap": "FLOOR_MY", "stage": "mining", "country": "MYS",
                         "min_share": 0.2, "active": False})
    assert warnings(tmp_path, data) == []


def test_blank_template_warns_there_is_nothing_to_plan(tmp_path: Path) -> None:
    path = write_template(tmp_path / "blank.xlsx")
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0
    assert ("warning: Periods: the sheet lists no periods, so there is nothing to plan. "
            "Add one row per period, e.g. 2027.") in result.output


def test_no_demand_warning(tmp_path: Path) -> None:
    data = valid_data()
    data["Demand"] = []
    assert warnings(tmp_path, data)[0] == (
        "Demand: no material has any demand, so the plan buys nothing. Add rows material, "
        "period, demand (t).")


def read_sheet(path: Path, name: str) -> list[dict[str, Any]]:
    ws = openpyxl.load_workbook(path, read_only=True)[name]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:]]


def test_warnings_exit_zero_are_printed_and_listed_in_the_report(tmp_path: Path) -> None:
    data = valid_data()
    data["Facilities"].append({"facility": "SEP_AU", "country": "AUS",
                               "stage": "separation"})
    data["Rules"].append({"rule": "BAN_MY_MINING", "kind": "ban", "country": "MYS",
                          "stage": "mining"})
    path = write(tmp_path, data)
    expected = [
        "Facilities row 6: facility 'SEP_AU' is on no route, so it plays no part in the "
        "plan. Put it in the separation column of a route, or delete the row.",
        "Rules row 3: rule 'BAN_MY_MINING' matches no offer, so it never restricts "
        "anything. Check its country, company, stage and material."]
    checked = CliRunner().invoke(main, ["validate", str(path)])
    assert checked.exit_code == 0
    assert [line[len("warning: "):] for line in checked.output.splitlines()
            if line.startswith("warning: ")] == expected
    report = tmp_path / "report.xlsx"
    ran = CliRunner().invoke(main, ["run", str(path), "-o", str(report)])
    assert ran.exit_code == 0, ran.output
    assert all(f"warning: {w}" in ran.output for w in expected)
    notes = [r for r in read_sheet(report, "Notes") if r["kind"] == "warning"]
    assert [r["note"] for r in notes] == expected
