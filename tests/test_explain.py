"""Infeasible cases explained by HiGHS's IIS, in workbook terms, in the report and console.

The network: material M, demand 100 t in 2027; offer O1 (Offers row 2)
through plant FA in A (Facilities row 2), offer O2 (Offers row 3) through FC
in C (Facilities row 3).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from planner import api
from planner.analysis import explain
from planner.cli import main
from planner.inputs.template import write_workbook
from planner.scenario.cases import Index, build_case

Data = dict[str, list[dict[str, Any]]]


def network() -> Data:
    return copy.deepcopy({
        "Periods": [{"period": 2027, "days": 365}, {"period": 2028, "days": 365}],
        "Materials": [{"material": "M"}],
        "Demand": [{"material": "M", "period": 2027, "demand": 100},
                   {"material": "M", "period": 2028, "demand": 100}],
        "Countries": [{"country": "A"}, {"country": "C"}],
        "Stages": [{"stage": "sep"}],
        "Facilities": [{"facility": "FA", "name": "Plant A", "country": "A", "stage": "sep"},
                       {"facility": "FC", "country": "C", "stage": "sep"}],
        "Routes": [{"route": "R1", "sep": "FA"}, {"route": "R2", "sep": "FC"}],
        "Offers": [
            {"offer": "O1", "supplier": "S1", "material": "M", "route": "R1", "unit_cost": 10},
            {"offer": "O2", "supplier": "S2", "material": "M", "route": "R2", "unit_cost": 20}],
    })


def write(tmp_path: Path, d: Data) -> Path:
    path = tmp_path / "in.xlsx"
    write_workbook(path, d)
    return path


def explain_base(tmp_path: Path, d: Data) -> list[str]:
    plan = api.load(write(tmp_path, d))
    (base,) = [r for r in api.solve_all(plan) if r.name == "base"]
    assert base.status == "infeasible"
    return base.explanation


def test_min_volume_against_capacity(tmp_path: Path) -> None:
    """O1 must take 80 t/yr; FA allows 50 t/yr: exactly those two rows, in both years."""
    d = network()
    d["Offers"][0]["min_volume"] = 80
    d["Facilities"][0]["capacity"] = 50
    lines = explain_base(tmp_path, d)
    assert lines[0].startswith("Case 'base' is infeasible. These 2 input item(s) conflict")
    body = lines[1:]
    assert len(body) == 2
    assert "offer O1 (S1) must take its min_volume of 80 t/yr" in body[0]
    assert "(Offers row 2)" in body[0]
    assert "facility FA (Plant A, A, sep) capacity of 50 t/yr" in body[1]
    assert "(Facilities row 2)" in body[1]
    # an IIS needs only one period; none of O2, FC or demand take part
    text = "\n".join(body)
    assert "O2" not in text and "FC" not in text and "Demand" not in text


def test_cap_stockpile_max_and_commitment(tmp_path: Path) -> None:
    """O2 must take 30 t/yr; cap K lets C hold at most 20%, so total flow >= 150 t;
    demand is 100 t and the stockpile maximum of 0 t leaves nowhere for the rest."""
    d = network()
    d["Periods"] = d["Periods"][:1]
    d["Demand"] = d["Demand"][:1]
    d["Offers"][1]["min_volume"] = 30
    d["Caps"] = [{"cap": "K", "stage": "sep", "country": "C", "max_share": 0.2,
                  "basis": "=not a formula"}]
    d["Stockpile"] = [{"material": "M", "max_tonnes": 0}]
    lines = explain_base(tmp_path, d)
    text = "\n".join(lines)
    assert "offer O2 (S2) must take its min_volume of 30 t/yr in 2027 (Offers row 3)" in text
    assert "cap K: at most 20.0% of M at sep in C in 2027 (Caps row 2; basis: =not a formula)" \
        in text
    assert "stockpile maximum of M: max_tonnes 0 t in 2027 (Stockpile row 2)" in text
    assert "O1" not in text


def test_each_listed_item_alone_removes_the_conflict(tmp_path: Path) -> None:
    """The subset is irreducible: dropping any one of its input items gives a plan."""
    d = network()
    d["Periods"] = d["Periods"][:1]
    d["Demand"] = d["Demand"][:1]
    d["Offers"][1]["min_volume"] = 30
    d["Caps"] = [{"cap": "K", "stage": "sep", "country": "C", "max_share": 0.2}]
    d["Stockpile"] = [{"material": "M", "max_tonnes": 0}]
    assert len(explain_base(tmp_path, d)) == 1 + 4
    for change in ("min_volume", "cap", "stockpile"):
        e = copy.deepcopy(d)
        if change == "min_volume":
            e["Offers"][1]["min_volume"] = 0
        elif change == "cap":
            e["Caps"][0]["active"] = False
        else:
            e["Stockpile"][0]["max_tonnes"] = None
        plan = api.load(write(tmp_path, e))
        assert api.solve_all(plan)[0].status == "optimal", change


def test_quota_rule(tmp_path: Path) -> None:
    d = network()
    d["Offers"][0]["min_volume"] = 60
    d["Rules"] = [{"rule": "Q", "kind": "quota", "country": "A", "limit": 40,
                   "from_period": 2028, "basis": "export licence"}]
    lines = explain_base(tmp_path, d)
    text = "\n".join(lines)
    assert "quota rule Q limit of 40 t/yr in 2028 (Rules row 2; basis: export licence)" in text
    assert "offer O1 (S1) must take its min_volume of 60 t/yr in 2028 (Offers row 2)" in text


def test_floor_against_max_volume(tmp_path: Path) -> None:
    """Floor F: at least 50% of M from C.  O1 must take 60 t/yr, so O2 must carry at
    least 60 t/yr too, above its max_volume of 20 t/yr."""
    d = network()
    d["Periods"] = d["Periods"][:1]
    d["Demand"] = d["Demand"][:1]
    d["Offers"][0]["min_volume"] = 60
    d["Offers"][1]["max_volume"] = 20
    d["Caps"] = [{"cap": "F", "stage": "sep", "country": "C", "min_share": 0.5}]
    text = "\n".join(explain_base(tmp_path, d))
    assert "floor F: at least 50.0% of M at sep from C in 2027 (Caps row 2)" in text
    assert "offer O2 (S2) may sell at most its max_volume of 20 t/yr in 2027 (Offers row 3)" \
        in text
    assert "offer O1 (S1) must take its min_volume of 60 t/yr in 2027 (Offers row 2)" in text


def test_fallback_when_iis_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    d = network()
    d["Offers"][0]["min_volume"] = 80
    d["Facilities"][0]["capacity"] = 50
    plan = api.load(write(tmp_path, d))

    def broken(_: Any) -> Any:
        raise RuntimeError("no IIS")

    monkeypatch.setattr(explain, "compute_iis", broken)
    ix = Index.build(plan)
    lines = explain.explain_infeasible(plan, ix, build_case(plan, ix, "base"))
    assert lines[0].startswith("Case 'base' is infeasible. Relaxing any one of these")
    assert "offer commitments (Offers min_volume)" in lines[0]
    assert "facility capacities (Facilities capacity)" in lines[0]


def test_report_and_console_explain(tmp_path: Path) -> None:
    d = network()
    d["Offers"][0]["min_volume"] = 80
    d["Facilities"][0]["capacity"] = 50
    path = write(tmp_path, d)
    out = tmp_path / "report.xlsx"
    res = CliRunner().invoke(main, ["run", str(path), "-o", str(out), "--no-policy"])
    assert res.exit_code == 1
    assert "offer O1 (S1) must take its min_volume of 80 t/yr" in res.output
    assert "(Facilities row 2)" in res.output
    wb = load_workbook(out)
    rows = list(wb["Infeasibility"].iter_rows(values_only=True))
    assert rows[0] == ("scenario", "explanation")
    assert rows[1][0] == "base" and "irreducible infeasible subset" in rows[1][1]
    assert any("Facilities row 2" in r[1] for r in rows[2:])
    dash = [c for row in wb["Dashboard"].iter_rows(values_only=True) for c in row if c]
    assert "base: see the Infeasibility sheet" in dash
    assert "What breaks" in dash
    assert any(str(c).startswith("- offer O1 (S1) must take its min_volume") for c in dash)
    summary = list(wb["Summary"].iter_rows(values_only=True))
    assert summary[1][:2] == ("base", "infeasible")
