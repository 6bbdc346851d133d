"""The contract's model-fidelity revision, each sentence on a workbook worked by hand.

Stock that buffers (stockpile penalty per year, days of cover on base demand),
rules and caps that follow origin (``applies_to = use``), contracts as signed
(``take_or_pay``, force majeure) and the end-of-horizon stock credit
(``end_value``).  The arithmetic is in each docstring.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from planner import api
from planner.analysis.results import CaseResult
from planner.cli import main
from planner.inputs.problems import InputError
from planner.inputs.template import write_workbook

Data = dict[str, list[dict[str, Any]]]


def two_offer(years: int = 2) -> Data:
    """One material M; a China-routed offer CN at 50/t and an Australian AU at 80/t;
    holding 5/t/yr; demand 100 t in the last year only."""
    periods = [2027 + i for i in range(years)]
    return copy.deepcopy({
        "Periods": [{"period": p} for p in periods],
        "Materials": [{"material": "M", "holding_cost": 5, "shortage_penalty": 1000}],
        "Demand": [{"material": "M", "period": periods[-1], "demand": 100}],
        "Countries": [{"country": "CHN", "groups": "covered"}, {"country": "AUS"}],
        "Stages": [{"stage": "sep"}],
        "Facilities": [{"facility": "F_CN", "country": "CHN", "stage": "sep"},
                       {"facility": "F_AU", "country": "AUS", "stage": "sep"}],
        "Routes": [{"route": "R_CN", "sep": "F_CN"}, {"route": "R_AU", "sep": "F_AU"}],
        "Offers": [
            {"offer": "CN", "supplier": "CNCo", "material": "M", "route": "R_CN",
             "unit_cost": 50},
            {"offer": "AU", "supplier": "AUCo", "material": "M", "route": "R_AU",
             "unit_cost": 80},
        ],
    })


def solve(tmp_path: Path, d: Data) -> dict[str, CaseResult]:
    path = tmp_path / "in.xlsx"
    write_workbook(path, d)
    return {r.name: r for r in api.solve_all(api.load(path))}


def stock(r: CaseResult) -> dict[str, float]:
    return {str(s["period"]): s["stock"] for s in r.stock}


# --- 1. a strategic stock is drawn in a crisis, not hoarded -----------------------------

def test_strategic_stock_is_drawn_not_hoarded(tmp_path: Path) -> None:
    """Demand 100 t in each of two years; the only offer, 150 t/yr at 50/t, in year 1
    only; minimum stock 50 t both years; shortage penalty 1,000/t.

    stockpile_penalty defaults to 1,000 / (2 x 2 years) = 250 per t per year.
    Drawn: buy 150 (7,500), 50 t in stock after year 1, drawn in year 2: 50 t unmet
    (50,000) and 50 t below the minimum for a year (50 x 250 = 12,500): 70,000.
    Hoarded: 100 t unmet (100,000) + 7,500 = 107,500."""
    d = two_offer()
    d["Demand"] = [{"material": "M", "period": 2027, "demand": 100},
                   {"material": "M", "period": 2028, "demand": 100}]
    d["Materials"][0]["holding_cost"] = 0
    d["Offers"] = [{"offer": "O", "supplier": "S", "material": "M", "route": "R_AU",
                    "unit_cost": 50, "max_volume": 150, "to_period": 2027}]
    d["Stockpile"] = [{"material": "M", "min_tonnes": 50}]
    r = solve(tmp_path, d)["base"]
    assert r.total_cost == pytest.approx(70_000)
    assert r.summary["unmet_demand"] == pytest.approx(50)
    assert r.summary["stockpile_shortfall_cost"] == pytest.approx(12_500)
    assert stock(r)["2028"] == pytest.approx(0)  # drawn to the last tonne


def test_stockpile_penalty_setting_is_per_year(tmp_path: Path) -> None:
    """Settings stockpile_penalty 100 per t per year, one period of 73 days (y = 0.2),
    minimum 10 t and nothing to buy: 10 x 100 x 0.2 = 200."""
    d = two_offer(1)
    d["Periods"] = [{"period": 2027, "days": 73}]
    d["Demand"] = []
    d["Offers"] = d["Offers"][:1]
    d["Rules"] = [{"rule": "B", "kind": "ban", "country": "CHN"}]
    d["Stockpile"] = [{"material": "M", "min_tonnes": 10}]
    d["Settings"] = [{"setting": "stockpile_penalty", "value": 100}]
    r = solve(tmp_path, d)["base"]
    assert r.total_cost == pytest.approx(200)


def test_default_stockpile_penalty_uses_the_materials_own_shortage_penalty(
        tmp_path: Path) -> None:
    """Two materials with shortage penalties 400 and 1,000, a 2-year horizon, 10 t minimum
    of each and no offer: shortfall 10 t per year each, two years.
    A: 400 / 4 = 100 per t-yr -> 2,000; B: 1,000 / 4 = 250 -> 5,000; total 7,000."""
    d = two_offer()
    d["Materials"] = [{"material": "A", "shortage_penalty": 400},
                      {"material": "B", "shortage_penalty": 1000}]
    d["Demand"] = []
    d["Offers"] = [{"offer": "O", "supplier": "S", "material": "A", "route": "R_AU",
                    "unit_cost": 1e6, "max_volume": 0}]
    d["Stockpile"] = [{"material": "A", "min_tonnes": 10}, {"material": "B", "min_tonnes": 10}]
    r = solve(tmp_path, d)["base"]
    assert r.total_cost == pytest.approx(7_000)


# --- 2. rules and caps that follow origin ---------------------------------------------

def test_use_ban_follows_stock_bought_before_the_window(tmp_path: Path) -> None:
    """Demand 100 t in year 2; CN at 50, AU at 80, holding 5/t/yr; a ban on China from
    year 2.  As a purchase ban: buy 100 t of CN in year 1 and hold it a year:
    5,000 + 500 = 5,500.  As a use ban, stock bought from CN cannot be consumed in
    year 2: 100 t of AU in year 2 = 8,000."""
    d = two_offer()
    d["Rules"] = [{"rule": "BAN", "kind": "ban", "country": "covered", "from_period": 2028}]
    assert solve(tmp_path, d)["base"].total_cost == pytest.approx(5_500)
    d["Rules"][0]["applies_to"] = "use"
    r = solve(tmp_path, d)["base"]
    assert r.total_cost == pytest.approx(8_000)
    assert {p["offer"] for p in r.plan} == {"AU"}


def test_use_quota_limits_consumption_of_earlier_purchases(tmp_path: Path) -> None:
    """As above, with a use quota of 30 t/yr on China from year 2 instead of a ban: at
    most 30 t of CN may be consumed in year 2, bought then (1,500; buying in year 1 would
    add holding), and 70 t of AU (5,600): 7,100.  As a purchase quota the same 30 t
    limit binds on year 2's purchases only: 70 t of CN in year 1 held a year (3,500 +
    350) and 30 t in year 2 (1,500): 5,350."""
    d = two_offer()
    d["Rules"] = [{"rule": "Q", "kind": "quota", "country": "CHN", "limit": 30,
                   "from_period": 2028, "applies_to": "use"}]
    assert solve(tmp_path, d)["base"].total_cost == pytest.approx(7_100)
    d["Rules"][0]["applies_to"] = "purchase"
    assert solve(tmp_path, d)["base"].total_cost == pytest.approx(5_350)


def test_use_cap_counts_initial_stock_in_the_total_only(tmp_path: Path) -> None:
    """One year, demand 100 t, initial stock 50 t (origin unknown), a use cap of 40% on
    China.  Consumption 100 = 50 initial + 50 bought; China at most 40 t: 40 t of CN
    (2,000) and 10 t of AU (800): 2,800."""
    d = two_offer(1)
    d["Materials"][0]["initial_stock"] = 50
    d["Caps"] = [{"cap": "C", "country": "CHN", "max_share": 0.4, "applies_to": "use"}]
    assert solve(tmp_path, d)["base"].total_cost == pytest.approx(2_800)


def test_use_ban_stock_still_counts_as_stock(tmp_path: Path) -> None:
    """Contract: s = sum of q + q0, whatever its origin.  Demand 100 t in year 2 and a
    20 t minimum stock in year 2 only; CN is use-banned from year 2.  Cheapest: 100 t of
    AU in year 2 (8,000) and 20 t of CN bought in year 2 to sit in stock (1,000) held a
    year (20 x 5 = 100): 9,100 (the 20 t short would cost 20 x 250 = 5,000)."""
    d = two_offer()
    d["Rules"] = [{"rule": "BAN", "kind": "ban", "country": "CHN", "from_period": 2028,
                   "applies_to": "use"}]
    d["Stockpile"] = [{"material": "M", "from_period": 2028, "min_tonnes": 20}]
    r = solve(tmp_path, d)["base"]
    assert r.total_cost == pytest.approx(9_100)


def test_use_rules_leave_other_plans_alone(tmp_path: Path) -> None:
    """Without use rules or caps no origin variables are built (today's size)."""
    d = two_offer()
    path = tmp_path / "in.xlsx"
    write_workbook(path, d)
    plan = api.load(path)
    from planner.model.build import build_model
    from planner.scenario.cases import Index, build_case
    ix = Index.build(plan)
    m, _ = build_model(plan, ix, build_case(plan, ix))
    assert not hasattr(m, "c") and not hasattr(m, "q")


# --- 3. contracts as signed ----------------------------------------------------------

def test_take_or_pay(tmp_path: Path) -> None:
    """Demand 40 t; an offer at 50/t with min_volume 100 t/yr and take_or_pay 0.5:
    take 40 (2,000) and pay 0.5 x 50 = 25 per t on the 60 t not taken (1,500): 3,500
    (taking all 100 would cost 5,000)."""
    d = two_offer(1)
    d["Demand"][0]["demand"] = 40
    d["Offers"] = [{"offer": "O", "supplier": "S", "material": "M", "route": "R_AU",
                    "unit_cost": 50, "min_volume": 100, "take_or_pay": 0.5}]
    r = solve(tmp_path, d)["base"]
    assert r.total_cost == pytest.approx(3_500)
    assert r.summary["take_or_pay_cost"] == pytest.approx(1_500)
    assert r.summary["procurement_cost"] == pytest.approx(2_000)


def test_take_or_pay_uses_cost_factor_not_tariff(tmp_path: Path) -> None:
    """As above with a 10% tariff on AUS and a scenario cost factor 2: purchases
    40 x 50 x 2 x 1.1 = 4,400; the 60 t not taken pay 0.5 x 50 x 2 = 50 each: 3,000."""
    d = two_offer(1)
    d["Demand"][0]["demand"] = 40
    d["Offers"] = [{"offer": "O", "supplier": "S", "material": "M", "route": "R_AU",
                    "unit_cost": 50, "min_volume": 100, "take_or_pay": 0.5}]
    d["Tariffs"] = [{"country": "AUS", "rate": 0.1}]
    d["Scenarios"] = [{"scenario": "dear", "action": "cost", "target": "O", "value": 2}]
    r = solve(tmp_path, d)["dear"]
    assert r.total_cost == pytest.approx(7_400)


def test_blank_take_or_pay_must_take(tmp_path: Path) -> None:
    """Without take_or_pay the 100 t must be taken: 5,000 (60 t left in stock)."""
    d = two_offer(1)
    d["Demand"][0]["demand"] = 40
    d["Offers"] = [{"offer": "O", "supplier": "S", "material": "M", "route": "R_AU",
                    "unit_cost": 50, "min_volume": 100}]
    d["Materials"][0]["holding_cost"] = 0
    assert solve(tmp_path, d)["base"].total_cost == pytest.approx(5_000)


def committed_plant() -> Data:
    """Demand 100 t; a plant F_AU of 100 t/yr carrying offer O (min_volume 100 t/yr at
    50/t), next to O2 at 80/t through China."""
    d = two_offer(1)
    d["Facilities"][1]["capacity"] = 100
    d["Offers"] = [{"offer": "O", "supplier": "S", "material": "M", "route": "R_AU",
                    "unit_cost": 50, "min_volume": 100},
                   {"offer": "O2", "supplier": "S2", "material": "M", "route": "R_CN",
                    "unit_cost": 80}]
    return d


def test_force_majeure_scales_min_volume(tmp_path: Path) -> None:
    """Demand 100 t; a plant of 100 t/yr carrying offer O (min_volume 100 at 50/t), next
    to an 80/t offer.  Scenario: the plant at x 0.5, so O's min_volume is 50:
    50 x 50 + 50 x 80 = 6,500 (without force majeure: infeasible, 100 > 50)."""
    d = committed_plant()
    d["Scenarios"] = [{"scenario": "half", "action": "capacity", "target": "F_AU",
                       "value": 0.5}]
    r = solve(tmp_path, d)
    assert r["base"].total_cost == pytest.approx(5_000)
    assert r["half"].status == "optimal"
    assert r["half"].total_cost == pytest.approx(6_500)


def test_force_majeure_on_unlimited_facility_and_smallest_factor(tmp_path: Path) -> None:
    """A factor below 1 on a facility of unlimited capacity still scales min_volume, and
    the smallest factor on the route counts.  Route F_MINE (x 0.5) -> F_AU (x 0.2),
    both unlimited; O has min_volume 100 at 50/t; demand 10 t; holding 0:
    commitment 100 x 0.2 = 20 t, so 20 x 50 = 1,000 (base: 100 x 50 = 5,000)."""
    d = two_offer(1)
    d["Materials"][0]["holding_cost"] = 0
    d["Demand"][0]["demand"] = 10
    d["Stages"] = [{"stage": "mine"}, {"stage": "sep"}]
    d["Facilities"].append({"facility": "F_MINE", "country": "AUS", "stage": "mine"})
    d["Routes"][1]["mine"] = "F_MINE"
    d["Offers"] = [{"offer": "O", "supplier": "S", "material": "M", "route": "R_AU",
                    "unit_cost": 50, "min_volume": 100}]
    d["Scenarios"] = [{"scenario": "cut", "action": "capacity", "target": "F_MINE",
                       "value": 0.5},
                      {"scenario": "cut", "action": "capacity", "target": "F_AU",
                       "value": 0.2}]
    r = solve(tmp_path, d)
    assert r["base"].total_cost == pytest.approx(5_000)
    assert r["cut"].total_cost == pytest.approx(1_000)


def test_small_capacity_factor_is_feasible_like_an_outage(tmp_path: Path) -> None:
    """A factor of 0.05 on the plant used to be infeasible while 0 was feasible: now the
    commitment shrinks with it (100 x 0.05 = 5 t at 50, 95 t at 80 = 7,850)."""
    d = committed_plant()
    d["Scenarios"] = [{"scenario": "tiny", "action": "capacity", "target": "F_AU",
                       "value": 0.05}]
    assert solve(tmp_path, d)["tiny"].total_cost == pytest.approx(7_850)


# --- end_value ---------------------------------------------------------------------

def end_value_data() -> Data:
    """One year, demand 100 t, minimum stock 20 t, offer at 50/t, holding 5/t/yr."""
    d = two_offer(1)
    d["Offers"] = d["Offers"][:1]
    d["Materials"][0].pop("shortage_penalty")
    d["Stockpile"] = [{"material": "M", "min_tonnes": 20}]
    return d


def test_end_value_credits_stock_left_at_the_end(tmp_path: Path) -> None:
    """120 t bought at 50 (6,000), 20 t held a year at 5 (100), credited at 40 (800):
    6,000 + 100 - 800 = 5,300."""
    d = end_value_data()
    d["Materials"][0]["end_value"] = 40
    r = solve(tmp_path, d)["base"]
    assert r.total_cost == pytest.approx(5_300)
    assert r.summary["end_value_credit"] == pytest.approx(800)
    assert r.summary["procurement_cost"] == pytest.approx(6_000)
    assert r.summary["holding_cost"] == pytest.approx(100)


def test_summary_sheet_shows_the_credit_and_take_or_pay(tmp_path: Path) -> None:
    d = end_value_data()
    d["Materials"][0]["end_value"] = 40
    src = tmp_path / "in.xlsx"
    write_workbook(src, d)
    out = tmp_path / "r.xlsx"
    res = CliRunner().invoke(main, ["run", str(src), "-o", str(out), "--no-policy"])
    assert res.exit_code == 0, res.output
    rows = list(load_workbook(out)["Summary"].iter_rows(values_only=True))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["total_cost"] == pytest.approx(5_300)
    assert row["end_value_credit"] == pytest.approx(800)
    assert row["take_or_pay_cost"] == pytest.approx(0)


def test_end_value_at_the_cheapest_price_is_refused(tmp_path: Path) -> None:
    d = end_value_data()
    d["Tariffs"] = [{"country": "CHN", "rate": 0.1}]
    d["Materials"][0]["end_value"] = 55  # 50 x 1.1 = 55 delivered
    path = tmp_path / "in.xlsx"
    write_workbook(path, d)
    with pytest.raises(InputError) as exc:
        api.load(path)
    (p,) = exc.value.problems
    assert (p.sheet, p.row, p.column, p.value) == ("Materials", 2, "end_value", 55)
    assert p.expected == ("an end_value below 55.00, the cheapest delivered price of M in "
                          "the last period (2027)")


def test_end_value_close_to_the_price_warns(tmp_path: Path) -> None:
    d = end_value_data()
    d["Materials"][0]["end_value"] = 46
    path = tmp_path / "in.xlsx"
    write_workbook(path, d)
    plan = api.load(path)
    assert any("end_value 46.00 of M is 92% of its cheapest delivered price in 2027 "
               "(50.00)" in w for w in plan.warnings)


def test_negative_end_value_is_refused(tmp_path: Path) -> None:
    d = end_value_data()
    d["Materials"][0]["end_value"] = -1
    path = tmp_path / "in.xlsx"
    write_workbook(path, d)
    with pytest.raises(InputError) as exc:
        api.load(path)
    (p,) = exc.value.problems
    assert (p.sheet, p.column, p.value) == ("Materials", "end_value", -1)


@pytest.mark.parametrize(("column", "value"), [("take_or_pay", -0.5), ("applies_to", "usage")])
def test_new_columns_are_validated(tmp_path: Path, column: str, value: Any) -> None:
    d = two_offer(1)
    d["Rules"] = [{"rule": "B", "kind": "ban", "country": "CHN", "active": False}]
    if column == "take_or_pay":
        d["Offers"][0][column] = value
        sheet = "Offers"
    else:
        d["Rules"][0][column] = value
        sheet = "Rules"
    path = tmp_path / "in.xlsx"
    write_workbook(path, d)
    with pytest.raises(InputError) as exc:
        api.load(path)
    (p,) = exc.value.problems
    assert (p.sheet, p.column, p.value) == (sheet, column, value)


# --- 4. things that silently did nothing ------------------------------------------------

def test_capacity_cut_on_unlimited_facility_warns_naming_the_row(tmp_path: Path) -> None:
    d = two_offer(1)
    d["Scenarios"] = [{"scenario": "half", "action": "capacity", "target": "CHN",
                       "value": 0.5}]
    path = tmp_path / "in.xlsx"
    write_workbook(path, d)
    plan = api.load(path)
    assert ("Scenarios row 2: capacity x 0.5 on 'CHN' leaves facilities without a capacity "
            "(F_CN) unlimited, so it only scales their offers' min_volume (force majeure). "
            "Give those facilities a capacity on the Facilities sheet to model a partial "
            "cut.") in plan.warnings


def test_sub_year_periods_note_where_a_yearly_limit_is_crossed(tmp_path: Path) -> None:
    """Four periods of 100 days; the only offer sells at most 365 t/yr, i.e. 100 t per
    period; demand 100 t in each.  The four periods start on days 0, 100, 200 and 300,
    all in the horizon's first year: 400 t bought there against 365 t/yr, noted."""
    d = two_offer(1)
    d["Periods"] = [{"period": f"P{i}", "days": 100} for i in range(1, 5)]
    d["Demand"] = [{"material": "M", "period": f"P{i}", "demand": 100} for i in range(1, 5)]
    d["Offers"] = [{"offer": "O", "supplier": "S", "material": "M", "route": "R_AU",
                    "unit_cost": 10, "max_volume": 365}]
    path = tmp_path / "in.xlsx"
    write_workbook(path, d)
    plan = api.load(path)
    assert any(w.startswith("Periods: some periods are shorter than a year.")
               for w in plan.warnings)
    (r,) = api.solve_all(plan)
    assert r.summary["unmet_demand"] == pytest.approx(0)
    assert r.notes == ["Offer O (Offers row 2): 400.0 t bought in the periods starting in "
                       "year 1 of the horizon (P1, P2, P3, P4), above its max_volume of "
                       "365.0 t/yr: rates apply per period x days/365, so periods straddling "
                       "a year can exceed a yearly limit."]


def test_policy_cost_says_how_much_is_stock_left_at_the_end(tmp_path: Path) -> None:
    """One year, demand 100 t at 50/t, minimum stock 20 t, holding 5: the minimum adds
    20 x 50 + 20 x 5 = 1,100, of which 20 t x 50 = 1,000 is stock left at the end."""
    d = end_value_data()
    path = tmp_path / "in.xlsx"
    write_workbook(path, d)
    plan = api.load(path)
    results = api.solve_all(plan)
    (pc,) = api.policy_costs(plan, results)
    assert pc.policy == "stockpile minimums"
    assert pc.cost_added == pytest.approx(1_100)
    assert pc.end_stock_value == pytest.approx(1_000)
    assert pc.note.startswith("it leaves 20.0 t more stock at the end of the horizon, worth "
                              "1,000 USD at the plan's purchase prices (91% of the cost added)")


# --- ties: steady volumes ---------------------------------------------------------------

def test_equal_prices_give_steady_volumes_at_the_same_cost(tmp_path: Path) -> None:
    """Two offers at 50/t, each at most 8 t/yr; demand 10 t in each of five years.  Any
    split with a + b = 10 costs 2,500; starting from a zig-zag optimum (8/2, 2/8, ...)
    the tie-break returns a plan whose volumes do not change from year to year, at the
    same cost."""
    import pyomo.environ as pyo

    from planner.model.build import build_model
    from planner.scenario.cases import Index, build_case
    from planner.solve import solver as solve_mod

    d = two_offer(5)
    d["Demand"] = [{"material": "M", "period": 2027 + i, "demand": 10} for i in range(5)]
    d["Offers"][1]["unit_cost"] = 50
    d["Materials"][0]["holding_cost"] = 1
    for o in d["Offers"]:
        o["max_volume"] = 8
    path = tmp_path / "in.xlsx"
    write_workbook(path, d)
    plan = api.load(path)
    ix = Index.build(plan)
    m, _ = build_model(plan, ix, build_case(plan, ix))
    assert solve_mod.solve(m).status == "optimal"
    for t in range(5):  # a zig-zag plan of the same cost
        a = 8.0 if t % 2 == 0 else 2.0
        m.x["CN", t].set_value(a)
        m.x["AU", t].set_value(10.0 - a)
        m.s["M", t].set_value(0.0)
    assert pyo.value(m.total_cost) == pytest.approx(2_500)
    solve_mod._lexicographic(m, None)
    assert pyo.value(m.total_cost) == pytest.approx(2_500)
    for o in ("CN", "AU"):
        vols = [m.x[o, t].value for t in range(5)]
        assert vols == [pytest.approx(vols[0])] * 5, vols
    assert not hasattr(m, "steady") and m.total_cost.active


def test_solved_plans_with_equal_prices_are_steady(tmp_path: Path) -> None:
    d = two_offer(5)
    d["Demand"] = [{"material": "M", "period": 2027 + i, "demand": 10 + 3 * (i % 2)}
                   for i in range(5)]
    d["Offers"][1]["unit_cost"] = 50
    for o in d["Offers"]:
        o["max_volume"] = 8
    r = solve(tmp_path, d)["base"]
    assert r.total_cost == pytest.approx(50 * (10 * 3 + 13 * 2) + 0)
    by_offer: dict[str, list[float]] = {}
    for p in r.plan:
        by_offer.setdefault(p["offer"], []).append(p["volume"])
    moves = sum(abs(v[i] - v[i - 1]) for v in by_offer.values() for i in range(1, len(v)))
    assert moves == pytest.approx(3 * 4)  # only the 3 t demand swings move, once a year
