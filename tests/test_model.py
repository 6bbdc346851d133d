"""Each constraint family on a tiny workbook whose optimum is worked out by hand.

The base network: material M, demand 100 t in one 365-day period; offer O1
costs 10/t along R1 (mine FA in A, separation FB in B), offer O2 costs 20/t
along R2 (separation FC in C only, skipping mining).  A and B form group G.
Unconstrained, the plan buys 100 t of O1: cost 1,000.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from planner import api
from planner.analysis.results import CaseResult
from planner.inputs.template import write_workbook

Data = dict[str, list[dict[str, Any]]]


def base() -> Data:
    return copy.deepcopy({
        "Periods": [{"period": "P1", "days": 365}],
        "Materials": [{"material": "M"}],
        "Demand": [{"material": "M", "period": "P1", "demand": 100}],
        "Countries": [{"country": "A", "groups": "G"}, {"country": "B", "groups": "G"},
                      {"country": "C"}],
        "Stages": [{"stage": "mine"}, {"stage": "sep"}],
        "Facilities": [
            {"facility": "FA", "country": "A", "stage": "mine", "company": "MineCo"},
            {"facility": "FB", "country": "B", "stage": "sep", "company": "Acme"},
            {"facility": "FC", "country": "C", "stage": "sep", "company": "SepCo"},
        ],
        "Routes": [{"route": "R1", "mine": "FA", "sep": "FB"}, {"route": "R2", "sep": "FC"}],
        "Offers": [
            {"offer": "O1", "supplier": "S1", "material": "M", "route": "R1", "unit_cost": 10},
            {"offer": "O2", "supplier": "S2", "material": "M", "route": "R2", "unit_cost": 20},
        ],
    })


def two_periods(d: Data) -> Data:
    """Two years; holding stock costs 1,000/t/yr so that carrying never pays by default."""
    d["Materials"][0]["holding_cost"] = 1000
    d["Periods"] = [{"period": 2027, "days": 365}, {"period": 2028, "days": 365}]
    d["Demand"] = [{"material": "M", "period": 2027, "demand": 100},
                   {"material": "M", "period": 2028, "demand": 100}]
    return d


def solve(tmp_path: Path, d: Data) -> dict[str, CaseResult]:
    path = tmp_path / "in.xlsx"
    write_workbook(path, d)
    plan = api.load(path)
    return {r.name: r for r in api.solve_all(plan)}


def cost(tmp_path: Path, d: Data, case: str = "base") -> float | None:
    return solve(tmp_path, d)[case].total_cost


def volumes(r: CaseResult) -> dict[tuple[str, str], float]:
    return {(row["offer"], str(row["period"])): row["volume"] for row in r.plan}


def test_cheapest_offer_wins(tmp_path: Path) -> None:
    r = solve(tmp_path, base())["base"]
    assert r.status == "optimal"
    assert r.total_cost == pytest.approx(1000)
    assert volumes(r) == {("O1", "P1"): pytest.approx(100)}
    assert r.summary["procurement_cost"] == pytest.approx(1000)
    assert r.summary["unmet_demand"] == pytest.approx(0)


def test_facility_capacity_is_shared_and_has_a_shadow_price(tmp_path: Path) -> None:
    d = base()
    d["Facilities"][1]["capacity"] = 60
    r = solve(tmp_path, d)["base"]
    assert r.total_cost == pytest.approx(60 * 10 + 40 * 20)
    cap = [c for c in r.constraints if c["kind"] == "capacity"]
    assert len(cap) == 1 and cap[0]["slack"] == pytest.approx(0)
    # one more t at FB saves 20 - 10
    assert cap[0]["shadow_price"] == pytest.approx(-10)
    bal = [c for c in r.constraints if c["kind"] == "balance"]
    assert bal[0]["shadow_price"] == pytest.approx(20)


def test_capacity_scales_with_days(tmp_path: Path) -> None:
    d = base()
    d["Periods"][0]["days"] = 73  # 0.2 yr
    d["Facilities"][1]["capacity"] = 100  # 20 t in the period
    assert cost(tmp_path, d) == pytest.approx(20 * 10 + 80 * 20)


def test_single_country_cap_when_country_blank(tmp_path: Path) -> None:
    d = base()
    d["Caps"] = [{"cap": "C1", "stage": "sep", "max_share": 0.5}]
    # B <= 50% and C <= 50% at separation
    assert cost(tmp_path, d) == pytest.approx(50 * 10 + 50 * 20)


def test_cap_share_counts_offers_that_skip_the_stage(tmp_path: Path) -> None:
    d = base()
    d["Caps"] = [{"cap": "C1", "stage": "mine", "country": "A", "max_share": 0.25}]
    # total includes O2, which skips mining: x1 <= 0.25 (x1 + x2)
    assert cost(tmp_path, d) == pytest.approx(25 * 10 + 75 * 20)


def test_group_cap(tmp_path: Path) -> None:
    d = base()
    d["Caps"] = [{"cap": "C1", "material": "M", "country": "G", "max_share": 0.3}]
    assert cost(tmp_path, d) == pytest.approx(30 * 10 + 70 * 20)


def test_min_share_floor(tmp_path: Path) -> None:
    d = base()
    d["Caps"] = [{"cap": "F1", "stage": "sep", "country": "C", "min_share": 0.8}]
    assert cost(tmp_path, d) == pytest.approx(20 * 10 + 80 * 20)


def test_inactive_cap_and_cap_window(tmp_path: Path) -> None:
    d = two_periods(base())
    d["Caps"] = [{"cap": "C1", "country": "G", "max_share": 0.3, "active": False},
                 {"cap": "C2", "country": "G", "max_share": 0.5, "from_period": 2028}]
    # 2027 free (1000); 2028 at most 50% G (50*10 + 50*20)
    assert cost(tmp_path, d) == pytest.approx(1000 + 1500)


def test_ban_by_tag(tmp_path: Path) -> None:
    d = base()
    d["Rules"] = [{"rule": "B1", "kind": "ban", "country": "G"}]
    assert cost(tmp_path, d) == pytest.approx(2000)


@pytest.mark.parametrize("stage,expected", [("sep", 1000), ("mine", 2000), (None, 2000)])
def test_ban_by_stage(tmp_path: Path, stage: str | None, expected: float) -> None:
    d = base()
    d["Rules"] = [{"rule": "B1", "kind": "ban", "country": "A", "stage": stage}]
    assert cost(tmp_path, d) == pytest.approx(expected)


@pytest.mark.parametrize("company,stage,expected", [
    ("Acme", None, 2000),       # operator of FB
    ("S1", None, 2000),         # the supplier
    ("S1", "mine", 2000),       # supplier matches whatever the stage
    ("Acme", "mine", 1000),     # Acme does not operate the mining facility
    ("Nobody", None, 1000),
])
def test_ban_by_company(tmp_path: Path, company: str, stage: str | None,
                        expected: float) -> None:
    d = base()
    d["Rules"] = [{"rule": "B1", "kind": "ban", "company": company, "stage": stage}]
    assert cost(tmp_path, d) == pytest.approx(expected)


def test_ban_needs_country_and_company_to_both_match(tmp_path: Path) -> None:
    d = base()
    d["Rules"] = [{"rule": "B1", "kind": "ban", "country": "C", "company": "Acme"}]
    # O1 has Acme but not C; O2 has C but not Acme: nothing is banned
    assert cost(tmp_path, d) == pytest.approx(1000)


def test_ban_window_and_material(tmp_path: Path) -> None:
    d = two_periods(base())
    d["Materials"].append({"material": "N"})
    d["Rules"] = [{"rule": "B1", "kind": "ban", "country": "B", "from_period": 2028},
                  {"rule": "B2", "kind": "ban", "country": "B", "material": "N"}]
    assert cost(tmp_path, d) == pytest.approx(1000 + 2000)


def test_quota(tmp_path: Path) -> None:
    d = base()
    d["Rules"] = [{"rule": "Q1", "kind": "quota", "country": "B", "limit": 30}]
    r = solve(tmp_path, d)["base"]
    assert r.total_cost == pytest.approx(30 * 10 + 70 * 20)
    q = [c for c in r.constraints if c["kind"] == "quota"]
    assert q[0]["shadow_price"] == pytest.approx(-10)


def test_quota_zero_is_a_ban_by_volume_but_commitments_stay(tmp_path: Path) -> None:
    d = base()
    d["Rules"] = [{"rule": "Q1", "kind": "quota", "country": "B", "limit": 0}]
    assert cost(tmp_path, d) == pytest.approx(2000)
    d["Offers"][0]["min_volume"] = 10
    r = solve(tmp_path, d)["base"]
    assert r.status == "infeasible" and r.total_cost is None
    assert r.explanation


def test_tariff_on_last_facility_country(tmp_path: Path) -> None:
    d = base()
    d["Tariffs"] = [{"country": "B", "rate": 0.5}]
    r = solve(tmp_path, d)["base"]
    assert r.total_cost == pytest.approx(1500)
    assert r.plan[0]["unit_cost"] == pytest.approx(15)


def test_tariffs_add_up(tmp_path: Path) -> None:
    d = base()
    d["Tariffs"] = [{"country": "B", "rate": 0.5}, {"country": "G", "material": "M",
                                                     "rate": 0.6}]
    assert cost(tmp_path, d) == pytest.approx(2000)  # 10 x 2.1 = 21 > 20


def test_tariff_ignores_earlier_stages(tmp_path: Path) -> None:
    d = base()
    d["Tariffs"] = [{"country": "A", "rate": 5}]  # A only mines on R1
    assert cost(tmp_path, d) == pytest.approx(1000)


def test_offer_window_and_min_max_volume(tmp_path: Path) -> None:
    d = two_periods(base())
    d["Offers"][0]["to_period"] = 2027
    d["Offers"][1]["min_volume"] = 30
    # 2027: O2 committed 30, O1 70; 2028: only O2
    assert cost(tmp_path, d) == pytest.approx(70 * 10 + 30 * 20 + 100 * 20)
    d["Offers"][0]["max_volume"] = 50
    assert cost(tmp_path, d) == pytest.approx(50 * 10 + 50 * 20 + 100 * 20)


def test_outage_makes_offer_unavailable_and_lapses_commitment(tmp_path: Path) -> None:
    d = base()
    d["Facilities"][1]["capacity"] = 0
    d["Offers"][0]["min_volume"] = 50
    assert cost(tmp_path, d) == pytest.approx(2000)


def test_facility_window(tmp_path: Path) -> None:
    d = two_periods(base())
    d["Facilities"][0]["from_period"] = 2028  # FA mines only from 2028
    assert cost(tmp_path, d) == pytest.approx(2000 + 1000)


def test_unmet_demand_and_default_penalty(tmp_path: Path) -> None:
    d = base()
    d["Offers"][0]["max_volume"] = 30
    d["Offers"][1]["max_volume"] = 30
    r = solve(tmp_path, d)["base"]
    # default shortage penalty: 10 x highest unit_cost = 200
    assert r.total_cost == pytest.approx(300 + 600 + 40 * 200)
    assert r.summary["unmet_demand"] == pytest.approx(40)
    assert r.summary["shortage_cost"] == pytest.approx(8000)
    d["Materials"][0]["shortage_penalty"] = 15  # cheaper to go short than to buy O2
    assert cost(tmp_path, d) == pytest.approx(300 + 70 * 15)


def test_initial_stock_and_holding_cost(tmp_path: Path) -> None:
    d = two_periods(base())
    d["Materials"][0].update(initial_stock=30, holding_cost=2)
    d["Offers"][0]["max_volume"] = 100
    d["Offers"][0]["to_period"] = 2027
    # buy O1 100 in 2027 (stock 30 left, holding 60), then 70 of O2 in 2028
    assert cost(tmp_path, d) == pytest.approx(1000 + 30 * 2 + 70 * 20)


def test_stockpile_days_of_cover(tmp_path: Path) -> None:
    d = two_periods(base())
    d["Demand"] = [{"material": "M", "period": 2027, "demand": 365},
                   {"material": "M", "period": 2028, "demand": 365}]
    d["Materials"][0]["holding_cost"] = 1
    d["Stockpile"] = [{"material": "M", "min_days": 10}]
    r = solve(tmp_path, d)["base"]
    # 10 t minimum at the end of each period: buy 375 then 365, hold 10 t twice
    assert r.total_cost == pytest.approx(740 * 10 + 20)
    assert [s["min_stock"] for s in r.stock] == pytest.approx([10, 10])


def test_stockpile_min_tonnes_is_soft_and_max_is_hard(tmp_path: Path) -> None:
    d = base()
    d["Settings"] = [{"setting": "stockpile_penalty", "value": 3}]
    d["Stockpile"] = [{"material": "M", "min_tonnes": 50}]
    # keeping 50 t costs 10/t, the penalty only 3/t: stay short
    r = solve(tmp_path, d)["base"]
    assert r.total_cost == pytest.approx(1000 + 50 * 3)
    assert r.summary["stockpile_shortfall_cost"] == pytest.approx(150)
    d["Materials"][0]["initial_stock"] = 80
    d["Stockpile"] = [{"material": "M", "max_tonnes": 10}]
    d["Demand"][0]["demand"] = 0
    assert solve(tmp_path, d)["base"].status == "infeasible"


def test_stockpile_max_limits_stock(tmp_path: Path) -> None:
    d = two_periods(base())
    d["Offers"][0]["to_period"] = 2027
    d["Materials"][0]["holding_cost"] = 0
    d["Stockpile"] = [{"material": "M", "max_tonnes": 40}]
    # buy 140 of O1 in 2027 (40 carried), 60 of O2 in 2028
    assert cost(tmp_path, d) == pytest.approx(1400 + 1200)


def test_scenario_actions(tmp_path: Path) -> None:
    d = two_periods(base())
    d["Facilities"][1]["capacity"] = 60
    d["Rules"] = [{"rule": "B1", "kind": "ban", "country": "B", "active": False},
                  {"rule": "B2", "kind": "ban", "country": "C", "from_period": 2028}]
    d["Caps"] = [{"cap": "C1", "country": "G", "max_share": 0.1, "active": False}]
    d["Scenarios"] = [
        {"scenario": "ban_on", "action": "rule_on", "target": "B1", "from_period": 2028},
        {"scenario": "ban_off", "action": "rule_off", "target": "B2"},
        {"scenario": "cap_on", "action": "cap_on", "target": "C1", "to_period": 2027},
        {"scenario": "half_capacity", "action": "capacity", "target": "FB", "value": 0.5},
        {"scenario": "outage_by_country", "action": "capacity", "target": "B",
         "from_period": 2028, "value": 0},
        {"scenario": "dear", "action": "cost", "target": "S1", "value": 2.5},
        {"scenario": "dear_other_material", "action": "cost", "target": "O1", "material": "M",
         "value": 3},
        {"scenario": "demand_up", "action": "demand", "value": 1.5, "from_period": 2028},
        {"scenario": "factors_multiply", "action": "demand", "target": "M", "value": 0.5},
        {"scenario": "factors_multiply", "action": "demand", "value": 0.5},
    ]
    r = solve(tmp_path, d)
    # base: 2027 60 x 10 + 40 x 20; 2028 C banned: O1 60 then 40 unmet at 200
    base_2027 = 60 * 10 + 40 * 20
    assert r["base"].total_cost == pytest.approx(base_2027 + 600 + 40 * 200)
    # B banned in 2028 too: 100 unmet
    assert r["ban_on"].total_cost == pytest.approx(base_2027 + 100 * 200)
    assert r["ban_off"].total_cost == pytest.approx(2 * base_2027)
    # 2027: x1 <= 0.1 total -> 10 x 10 + 90 x 20
    assert r["cap_on"].total_cost == pytest.approx(100 + 1800 + 600 + 40 * 200)
    assert r["half_capacity"].total_cost == pytest.approx(
        30 * 10 + 70 * 20 + 300 + 70 * 200)
    assert r["outage_by_country"].total_cost == pytest.approx(base_2027 + 100 * 200)
    assert r["dear"].total_cost == pytest.approx(60 * 20 + 40 * 20 + 60 * 25 + 40 * 200)
    assert r["dear_other_material"].total_cost == pytest.approx(
        100 * 20 + 60 * 30 + 40 * 200)
    # 2028 demand 150: 60 from O1 and 90 unmet
    assert r["demand_up"].total_cost == pytest.approx(base_2027 + 600 + 90 * 200)
    # demand x 0.25 = 25 t each year, all from O1
    assert r["factors_multiply"].total_cost == pytest.approx(250 + 250)


def test_scenario_capacity_on_unlimited_facility_zero_is_outage(tmp_path: Path) -> None:
    d = base()
    d["Scenarios"] = [{"scenario": "x", "action": "capacity", "target": "MineCo", "value": 0},
                      {"scenario": "y", "action": "capacity", "target": "G", "value": 2}]
    r = solve(tmp_path, d)
    assert r["x"].total_cost == pytest.approx(2000)
    assert r["y"].total_cost == pytest.approx(1000)


def test_stockpile_days_use_base_demand_also_in_scenarios(tmp_path: Path) -> None:
    """Contract: days of cover are on the base case's demand, in every scenario (the
    target is set in advance; a demand shock does not move it).

    Demand 365 t in one year, 10 days of cover: minimum 10 t, so the base buys 375 t at
    10 = 3,750.  Doubled demand (730 t) keeps the 10 t minimum: 740 t = 7,400 (it was
    7,500 when the target followed the shocked demand)."""
    d = base()
    d["Demand"][0]["demand"] = 365
    d["Stockpile"] = [{"material": "M", "min_days": 10}]
    d["Scenarios"] = [{"scenario": "double", "action": "demand", "value": 2}]
    r = solve(tmp_path, d)
    assert r["base"].total_cost == pytest.approx(375 * 10)
    assert r["double"].total_cost == pytest.approx(740 * 10)
    assert [s["min_stock"] for s in r["double"].stock] == [pytest.approx(10)]


def test_exposure_table(tmp_path: Path) -> None:
    d = base()
    d["Caps"] = [{"cap": "C1", "stage": "sep", "max_share": 0.5}]
    r = solve(tmp_path, d)["base"]
    got = {(e["stage"], e["country"]): (e["volume"], e["share"]) for e in r.exposure}
    assert got == {("mine", "A"): (pytest.approx(50), pytest.approx(0.5)),
                   ("sep", "B"): (pytest.approx(50), pytest.approx(0.5)),
                   ("sep", "C"): (pytest.approx(50), pytest.approx(0.5))}


def test_period_labels_normalised(tmp_path: Path) -> None:
    d = two_periods(base())
    d["Demand"][1]["period"] = "2028"
    d["Offers"][0]["to_period"] = 2027.0
    assert cost(tmp_path, d) == pytest.approx(1000 + 2000)
