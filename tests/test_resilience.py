"""Resilience analysis on a tiny network whose answers are worked out by hand.

The network: one material M, three 365-day periods 2026-2028, demand 365 t in
each (1 t a day); holding costs 2 per t per year, unmet demand 1,000 per t.
Offer A (10 per t) runs through facility FA in CHN (1,000 t/yr); offer B
(20 per t) through FB in AUS (182.5 t/yr).  Without a stockpile the plan buys
365 t of A a year: 3 x 3,650 = 10,950.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from planner import api
from planner.analysis.risk import Risk, read_risk_inputs
from planner.cli import main
from planner.inputs.problems import InputError
from planner.inputs.template import write_workbook
from planner.resilience.montecarlo import describe, monte_carlo, sample, start_probability
from planner.resilience.sizing import from_disruption, from_sheet, size_stockpile
from planner.resilience.stress import disruptions, stress
from planner.scenario.cases import Index, build_case

Data = dict[str, list[dict[str, Any]]]
YEARS = (2026, 2027, 2028)


def network() -> Data:
    return copy.deepcopy({
        "Settings": [{"setting": "stockpile_penalty", "value": 500}],
        "Periods": [{"period": p, "days": 365} for p in YEARS],
        "Materials": [{"material": "M", "holding_cost": 2, "shortage_penalty": 1000}],
        "Demand": [{"material": "M", "period": p, "demand": 365} for p in YEARS],
        "Countries": [{"country": "CHN"}, {"country": "AUS"}],
        "Stages": [{"stage": "sep"}],
        "Facilities": [
            {"facility": "FA", "country": "CHN", "stage": "sep", "capacity": 1000},
            {"facility": "FB", "country": "AUS", "stage": "sep", "capacity": 182.5}],
        "Routes": [{"route": "RA", "sep": "FA"}, {"route": "RB", "sep": "FB"}],
        "Offers": [
            {"offer": "A", "supplier": "SA", "material": "M", "route": "RA", "unit_cost": 10},
            {"offer": "B", "supplier": "SB", "material": "M", "route": "RB", "unit_cost": 20}],
    })


def with_stockpile(d: Data, days: float = 100) -> Data:
    d["Stockpile"] = [{"material": "M", "min_days": days}]
    return d


def load(tmp_path: Path, d: Data, name: str = "in.xlsx") -> Any:
    write_workbook(tmp_path / name, d)
    return api.load(tmp_path / name)


# --- stress ---------------------------------------------------------------------------

def test_stress_ranks_the_outage_that_leaves_demand_unmet(tmp_path: Path) -> None:
    # Base with 100 days (100 t) of minimum stock: 2026 buys 465 t of A (4,650), 2027 and
    # 2028 buy 365 t (3,650 each), holding 3 x 100 t x 2 = 600: 12,550.
    # FA out in 2027, decided in 2026 without foresight: 2026 is unchanged; in 2027 B
    # gives 182.5 t, the released stock 100 t, and 82.5 t stay unmet (82,500); the
    # shortfall below the minimum costs the 200 of holding it saves; 2028 rebuilds the
    # stock (465 t of A, 4,650, holding 200).  Total 4,850 + 86,350 + 4,850 = 96,050.
    plan = load(tmp_path, with_stockpile(network()))
    r = stress(plan, (1, 1))
    assert r.base.total_cost == pytest.approx(12_550)
    top = r.ranking[:3]
    assert [row["disruption"] for row in top] == ["CHN x sep", "country CHN", "facility FA"]
    for row in top:
        assert row["total_cost"] == pytest.approx(96_050, rel=1e-6)
        assert row["cost_increase"] == pytest.approx(83_500, rel=1e-6)
        assert row["unmet_demand"] == pytest.approx(82.5)
        assert row["stock_drawn"] == pytest.approx(100)
        assert row["window"] == "2027"
    # B is not used in the base plan: losing AUS costs nothing and draws no stock.
    for row in r.ranking[3:]:
        assert row["cost_increase"] == pytest.approx(0, abs=1e-3)
        assert row["unmet_demand"] == pytest.approx(0)
        assert row["stock_drawn"] == pytest.approx(0)
    assert [row["rank"] for row in r.ranking] == [1, 2, 3, 4, 5, 6]
    detail = [d for d in r.by_material if d["disruption"] == "facility FA"]
    assert len(detail) == 1
    assert (detail[0]["disruption"], detail[0]["material"]) == ("facility FA", "M")
    numbers = {k: v for k, v in detail[0].items() if k not in ("disruption", "material")}
    assert numbers == pytest.approx({"cost_increase": 83_500, "unmet_demand": 82.5,
                                     "unmet_share": 82.5 / 365, "stock_drawn": 100},
                                    rel=1e-6)


def test_stock_not_rebuilt_by_the_horizon_is_charged_its_replacement_price(
        tmp_path: Path) -> None:
    # FA out in 2028, the last period: the 100 t drawn cannot be rebuilt, so they cost
    # the holding they save (200) plus the replacement price, the dearest offer B (20):
    # 2,000.  2026 4,850 + 2027 3,850 + 2028 (3,650 B + 82,500 unmet + 2,200) = 97,050.
    plan = load(tmp_path, with_stockpile(network()))
    row = stress(plan, (2, 2), kinds=["facility"]).ranking[0]
    assert row["disruption"] == "facility FA"
    assert row["total_cost"] == pytest.approx(97_050, rel=1e-6)
    assert row["unmet_demand"] == pytest.approx(82.5)


def test_disruptions_cover_countries_facilities_and_country_stages(tmp_path: Path) -> None:
    plan = load(tmp_path, network())
    ds = disruptions(plan, (1, 2))
    assert sorted(d.name for d in ds) == ["AUS x sep", "CHN x sep", "country AUS",
                                          "country CHN", "facility FA", "facility FB"]
    fa = next(d for d in ds if d.name == "facility FA")
    assert fa.periods() == [1, 2]
    assert dict(fa.factors) == {"FA": (1.0, 0.0, 0.0)}


# --- stockpile sizing -------------------------------------------------------------------

def test_sizing_finds_the_days_of_cover_that_bridge_an_outage(tmp_path: Path) -> None:
    # FA out in 2027: B covers 182.5 t, so 182.5 t must be in stock at the end of 2026:
    # 182.5 days of cover at 1 t a day.  Held in every period: 2026 buys 547.5 t (5,475),
    # 2027 and 2028 365 t (3,650 each), holding 3 x 182.5 x 2 = 1,095: 13,870, against
    # 10,950 without strategic stock (premium 2,920).  The recourse in 2027-2028: 182.5 t
    # of B (3,650) and 365 t of A in 2028 (3,650): 7,300.
    plan = load(tmp_path, network())
    ix = Index.build(plan)
    fa = next(d for d in disruptions(plan, (1, 1)) if d.name == "facility FA")
    r = size_stockpile(plan, [from_disruption(build_case(plan, ix), fa)])
    assert r.status == "optimal"
    assert r.days["M"] == pytest.approx(182.5)
    assert r.tonnes["M"] == pytest.approx([182.5, 182.5, 182.5])
    assert r.protected_cost == pytest.approx(13_870)
    assert r.unprotected_cost == pytest.approx(10_950)
    assert r.premium == pytest.approx(2_920)
    # typed into the Stockpile sheet as min_days, the policy gives the same plan and cost
    assert r.policy_plan is not None and r.protected is not None
    assert {(row.window, row.min_days) for row in r.policy_plan.stockpile} == {
        ((0, 0), 182.5), ((1, 1), 182.5), ((2, 2), 182.5)}
    assert r.protected.total_cost == pytest.approx(13_870)
    assert r.residual_unmet == pytest.approx(0)
    (s,) = r.scenarios
    assert s["first_period"] == "2027"
    assert s["entry_stock"] == pytest.approx(182.5)
    assert s["recourse_cost"] == pytest.approx(7_300)
    assert s["unmet_in_model"] == pytest.approx(0)
    # checked by re-solving the outage as a stress case from each plan
    assert s["unmet_with_policy"] == pytest.approx(0, abs=1e-6)
    assert s["unmet_without_policy"] == pytest.approx(182.5)


def test_sizing_covers_the_worst_of_several_scenarios(tmp_path: Path) -> None:
    # A sheet scenario takes FA out in 2027 and 2028: 2 x 182.5 = 365 t must be in stock at
    # the end of 2026, 365 days; the one-year outage alone needs 182.5.  Policy: 365 days.
    # 2026 buys 730 t (7,300), then 3,650 twice, holding 3 x 365 x 2 = 2,190: 16,790.
    d = network()
    d["Scenarios"] = [{"scenario": "long", "action": "capacity", "target": "FA",
                       "from_period": 2027, "value": 0}]
    plan = load(tmp_path, d)
    ix = Index.build(plan)
    fa = next(x for x in disruptions(plan, (1, 1)) if x.name == "facility FA")
    long = from_sheet(plan, ix, "long")
    assert long.periods == [1, 2]
    r = size_stockpile(plan, [from_disruption(build_case(plan, ix), fa), long])
    assert r.days["M"] == pytest.approx(365)
    assert r.protected_cost == pytest.approx(16_790)
    assert [s["unmet_with_policy"] for s in r.scenarios] == pytest.approx([0, 0], abs=1e-6)
    assert [s["unmet_without_policy"] for s in r.scenarios] == pytest.approx([182.5, 365])


def test_sizing_reports_what_no_policy_can_cover(tmp_path: Path) -> None:
    # FA out in 2026, the first period: nothing can be stocked before it, 182.5 t unmet.
    plan = load(tmp_path, network())
    ix = Index.build(plan)
    fa = next(d for d in disruptions(plan, (0, 0)) if d.name == "facility FA")
    r = size_stockpile(plan, [from_disruption(build_case(plan, ix), fa)])
    assert r.status == "optimal"
    assert r.residual_unmet == pytest.approx(182.5)
    assert r.days["M"] == pytest.approx(0)
    assert any("first period" in n for n in r.notes)


# --- Monte Carlo ----------------------------------------------------------------------

def risk(p: float, duration: int = 1, factor: float = 0.0) -> Risk:
    return Risk("R", "FA", None, p, duration, factor, ("FA",))


def test_start_probability_scales_a_yearly_probability_to_the_period() -> None:
    assert start_probability(0.5, 365) == pytest.approx(0.5)
    assert start_probability(0.19, 182.5) == pytest.approx(0.1)  # 1 - sqrt(0.81)
    assert start_probability(1.0, 30) == 1.0
    assert start_probability(0.0, 365) == 0.0


def test_sampling_is_reproducible_and_follows_duration(tmp_path: Path) -> None:
    plan = load(tmp_path, network())
    a = sample(plan, [risk(0.5, duration=2)], 50, seed=7)
    assert a == sample(plan, [risk(0.5, duration=2)], 50, seed=7)
    assert a != sample(plan, [risk(0.5, duration=2)], 50, seed=8)
    rng = random.Random(7)  # the same draws, in the documented order
    for d in a:
        hit = [False] * 3
        for t in range(3):
            if rng.random() < 0.5:
                hit[t] = True
                if t + 1 < 3:
                    hit[t + 1] = True
        assert d.periods() == [t for t in range(3) if hit[t]]
        assert d.target == ("R" if any(hit) else "")
    many = sample(plan, [risk(0.5)], 2000, seed=1)
    share = sum(1 for d in many if 0 in d.periods()) / 2000
    assert share == pytest.approx(0.5, abs=0.04)


def test_monte_carlo_of_a_certain_and_an_impossible_outage(tmp_path: Path) -> None:
    # Certain: FA is out in every period of every sample.  Each year B gives 182.5 t and
    # 182.5 t stay unmet: 3 x (3,650 + 182,500) = 558,450, i.e. 547,500 over the base.
    plan = load(tmp_path, network())
    mc = monte_carlo(plan, [risk(1.0)], 5, seed=3)
    assert [s["total_cost"] for s in mc.samples] == pytest.approx([558_450] * 5)
    by = {(d["metric"], d["material"]): d for d in mc.distribution}
    inc = by[("cost_increase", "")]
    assert inc["mean"] == pytest.approx(547_500)
    assert inc["p5"] == inc["p95"] == inc["max"] == pytest.approx(547_500)
    assert by[("unmet_demand", "M")]["mean"] == pytest.approx(547.5)
    assert by[("unmet_demand", "M")]["probability_positive"] == 1.0
    never = monte_carlo(plan, [risk(0.0)], 5, seed=3)
    assert [s["cost_increase"] for s in never.samples] == pytest.approx([0.0] * 5)
    assert {(d["metric"], d["material"]): d for d in never.distribution}[
        ("unmet_demand", "all")]["probability_positive"] == 0.0


def test_describe_uses_linear_percentiles() -> None:
    row = describe("x", "", [1.0, 2.0, 3.0, 4.0])
    assert row["mean"] == 2.5
    assert row["p50"] == 2.5
    assert row["p5"] == pytest.approx(1.15)  # 1 + 0.05 x 3
    assert row["max"] == 4.0
    assert row["probability_positive"] == 1.0


# --- inputs: Risks sheet and risk scores -------------------------------------------------

def test_bad_risks_rows_are_all_reported_with_sheet_row_and_column(tmp_path: Path) -> None:
    d = network()
    d["Risks"] = [
        {"risk": "ok", "target": "CHN", "probability": 0.1, "duration": 2},
        {"risk": "bad_target", "target": "Atlantis", "probability": 0.1},
        {"risk": "bad_p", "target": "FA", "probability": 1.5},
        {"risk": "bad_duration", "target": "FA", "probability": 0.1, "duration": 1.5},
    ]
    plan = load(tmp_path, d)
    with pytest.raises(InputError) as err:
        read_risk_inputs(plan)
    where = {(p.sheet, p.row, p.column) for p in err.value.problems}
    assert where == {("Risks", 3, "target"), ("Risks", 4, "probability"),
                     ("Risks", 5, "duration")}
    out = CliRunner().invoke(main, ["validate", str(tmp_path / "in.xlsx")])
    assert out.exit_code == 2
    assert "Risks, row 3, column target" in out.output


def test_risks_resolve_targets_to_facilities(tmp_path: Path) -> None:
    d = network()
    d["Countries"][0]["risk_score"] = 6.5
    d["Risks"] = [{"risk": "cn", "target": "CHN", "probability": 0.1, "duration": 2,
                   "capacity_factor": 0.25, "basis": "test"},
                  {"risk": "sb", "target": "SB", "stage": "sep", "probability": 0.2}]
    # SB is a supplier, not an operator: it names no facility
    plan = load(tmp_path, d)
    with pytest.raises(InputError):
        read_risk_inputs(plan)
    d["Facilities"][1]["company"] = "SB"
    plan = load(tmp_path, d, "in2.xlsx")
    inputs = read_risk_inputs(plan)
    assert inputs.scores == {"CHN": 6.5}
    assert inputs.risks == [Risk("cn", "CHN", None, 0.1, 2, 0.25, ("FA",), "test", 2),
                            Risk("sb", "SB", "sep", 0.2, 1, 0.0, ("FB",), "", 3)]


def test_every_report_has_hhi_and_its_governance_weighted_variant(tmp_path: Path) -> None:
    # A is capped at 219 t/yr (60% of 365), B gives the other 146 t (40%) from FB,
    # raised to 1,000 t/yr: HHI = 60^2 + 40^2 = 5,200 (0-10,000); with scores CHN 8 and
    # AUS 2, 0.36 x 8 + 0.16 x 2 = 3.2.  One header row (pandas reads the table as is),
    # its notes on the Notes sheet, whole-number periods written as numbers.
    import pandas as pd

    d = network()
    d["Offers"][0]["max_volume"] = 219
    d["Facilities"][1]["capacity"] = 1000
    d["Countries"][0]["risk_score"] = 8
    d["Countries"][1]["risk_score"] = 2
    # a bad Risks row matters to planner stress, not to the scores of this report
    d["Risks"] = [{"risk": "r", "target": "FA", "probability": 2}]
    write_workbook(tmp_path / "in.xlsx", d)
    out = CliRunner().invoke(main, ["run", str(tmp_path / "in.xlsx"), "-o",
                                    str(tmp_path / "rep.xlsx"), "--no-policy"])
    assert out.exit_code == 0, out.output
    frame = pd.read_excel(tmp_path / "rep.xlsx", sheet_name="Supply risk")
    assert list(frame.columns) == ["scenario", "material", "stage", "period", "purchases",
                                   "through_stage", "countries", "top_country", "top_share",
                                   "HHI (0-10,000)", "hhi_governance"]
    body = frame.to_dict("records")
    assert [r["period"] for r in body] == [2026, 2027, 2028]
    for r in body:
        assert r["top_country"] == "CHN"
        assert r["purchases"] == pytest.approx(365)
        assert r["through_stage"] == pytest.approx(365)
        assert r["top_share"] == pytest.approx(0.6)
        assert r["HHI (0-10,000)"] == pytest.approx(5200)
        assert r["hhi_governance"] == pytest.approx(3.2)
    notes = pd.read_excel(tmp_path / "rep.xlsx", sheet_name="Notes")
    said = notes.loc[notes["kind"] == "supply risk", "note"].tolist()
    assert said[0].startswith("Supply risk HHI (0-10,000): sum of squared country shares")
    assert said[1].startswith("Supply risk hhi_governance:")


def test_concentration_is_one_figure_on_dashboard_supply_risk_and_stress(
        tmp_path: Path) -> None:
    # A stage "mine" that only route RA passes (FM in CHN): 60% of the 365 t bought pass
    # it in CHN, the 40% of B skip it.  Shares are of all purchases (as caps count
    # them): mine CHN 60%, HHI 60^2 = 3,600; sep CHN 60% + AUS 40%, HHI 5,200.  The
    # Dashboard, the Supply risk sheet and the stress console and sheet all say so.
    import pandas as pd

    d = network()
    d["Offers"][0]["max_volume"] = 219
    d["Facilities"][1]["capacity"] = 1000
    d["Stages"] = [{"stage": "mine"}, {"stage": "sep"}]
    d["Facilities"].append({"facility": "FM", "country": "CHN", "stage": "mine"})
    d["Routes"][0]["mine"] = "FM"
    write_workbook(tmp_path / "in.xlsx", d)
    rep = tmp_path / "rep.xlsx"
    out = CliRunner().invoke(main, ["run", str(tmp_path / "in.xlsx"), "-o", str(rep),
                                    "--no-policy"])
    assert out.exit_code == 0, out.output
    risk = pd.read_excel(rep, sheet_name="Supply risk")
    by_stage = {r["stage"]: r for r in risk.to_dict("records") if r["period"] == 2027}
    assert (by_stage["mine"]["top_country"], by_stage["mine"]["top_share"],
            by_stage["mine"]["HHI (0-10,000)"], by_stage["mine"]["through_stage"]) == (
        "CHN", pytest.approx(0.6), pytest.approx(3600), pytest.approx(219))
    assert by_stage["sep"]["HHI (0-10,000)"] == pytest.approx(5200)
    cells = list(load_workbook(rep)["Dashboard"].iter_rows(values_only=True))
    top = next(i for i, r in enumerate(cells) if str(r[0]).startswith("Concentration"))
    assert cells[top + 1][7] == "HHI (0-10,000), highest"
    dash = {r[2]: r for r in cells[top + 2:top + 4]}
    assert (dash["mine"][4], dash["mine"][5], dash["mine"][7]) == (
        "CHN", pytest.approx(0.6), pytest.approx(3600))
    assert dash["sep"][7] == pytest.approx(5200)
    res = tmp_path / "res.xlsx"
    out = CliRunner().invoke(main, ["stress", str(tmp_path / "in.xlsx"), "-o", str(res),
                                    "--no-sizing"])
    assert out.exit_code == 0, out.output
    assert "M x sep                              HHI (0-10,000) 5,200 in 2026 (top CHN 60%)" \
        in out.output
    assert "M x mine                             HHI (0-10,000) 3,600 in 2026 (top CHN 60%)" \
        in out.output
    cells = list(load_workbook(res)["Resilience"].iter_rows(values_only=True))
    head = next(i for i, r in enumerate(cells) if "HHI (0-10,000)" in r)
    hhi = cells[head].index("HHI (0-10,000)")
    assert sorted(r[hhi] for r in cells[head + 1:head + 7]) == pytest.approx(
        [3600] * 3 + [5200] * 3)


# --- the command -------------------------------------------------------------------------

def test_planner_stress_writes_the_resilience_sheet(tmp_path: Path) -> None:
    d = with_stockpile(network())
    d["Risks"] = [{"risk": "cn_outage", "target": "CHN", "probability": 0.3, "duration": 1}]
    write_workbook(tmp_path / "in.xlsx", d)
    args = ["stress", str(tmp_path / "in.xlsx"), "-o", str(tmp_path / "res.xlsx"),
            "--samples", "12", "--seed", "5"]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    assert "1  CHN x sep" in out.output
    wb = load_workbook(tmp_path / "res.xlsx")
    assert wb.sheetnames[0] == "Resilience"
    ws = wb["Resilience"]
    cells = [r for r in ws.iter_rows(values_only=True)]
    head = next(i for i, r in enumerate(cells) if r[0] == "rank")
    ranked = [dict(zip(cells[head], r, strict=False)) for r in cells[head + 1:head + 7]]
    assert [r["disruption"] for r in ranked[:3]] == ["CHN x sep", "country CHN",
                                                     "facility FA"]
    assert ranked[0]["cost_increase"] == pytest.approx(83_500, rel=1e-6)
    assert ranked[0]["unmet_demand"] == pytest.approx(82.5)
    assert len(ws._charts) >= 4  # stress (2), Monte Carlo, policy, scenarios
    # the policy that covers the CHN outage: 182.5 days, with zero unmet demand
    policy = next(i for i, r in enumerate(cells) if r[0] == "material")
    assert cells[policy + 1][:2] == ("M", pytest.approx(182.5))
    scen = next(i for i, r in enumerate(cells) if r[0] == "scenario")
    assert cells[scen + 1][0] == "CHN x sep"
    assert cells[scen + 1][5] == pytest.approx(0, abs=1e-6)
    assert cells[scen + 1][6] == pytest.approx(182.5)
    samples = list(wb["Monte Carlo samples"].iter_rows(values_only=True))
    assert len(samples) == 13
    again = CliRunner().invoke(main, [*args[:3], str(tmp_path / "res2.xlsx"), *args[4:]])
    assert again.exit_code == 0
    assert samples == list(load_workbook(tmp_path / "res2.xlsx")["Monte Carlo samples"]
                           .iter_rows(values_only=True))


def test_planner_stress_bad_window_is_an_input_problem(tmp_path: Path) -> None:
    write_workbook(tmp_path / "in.xlsx", network())
    out = CliRunner().invoke(main, ["stress", str(tmp_path / "in.xlsx"),
                                    "--from-period", "2031"])
    assert out.exit_code == 2
    assert "2031" in out.output and "Traceback" not in out.output


def test_parallel_workers_give_the_sequential_ranking(tmp_path: Path) -> None:
    plan = load(tmp_path, with_stockpile(network()))
    one = stress(plan, (1, 1))
    two = stress(plan, (1, 1), workers=2)
    assert two.ranking == one.ranking
    assert two.by_material == one.by_material
    # identical cases are named: CHN has one facility, so three names are one case
    same = {r["disruption"]: r["same_as"] for r in one.ranking}
    assert same == {"CHN x sep": None, "country CHN": "CHN x sep",
                    "facility FA": "CHN x sep", "AUS x sep": None,
                    "country AUS": "AUS x sep", "facility FB": "AUS x sep"}


def test_a_country_without_risk_score_counts_with_the_highest_score(tmp_path: Path) -> None:
    # Shares 0.6 (CHN, score 8) and 0.4 (AUS, no score: counted as 8):
    # 0.36 x 8 + 0.16 x 8 = 4.16.
    from planner.analysis.risk import hhi_rows

    d = network()
    d["Offers"][0]["max_volume"] = 219
    d["Facilities"][1]["capacity"] = 1000
    d["Countries"][0]["risk_score"] = 8
    plan = load(tmp_path, d)
    scores = read_risk_inputs(plan).scores
    assert scores == {"CHN": 8.0}
    rows = hhi_rows(plan, [api.solve_case(plan)], scores)
    assert [r["hhi_governance"] for r in rows] == pytest.approx([4.16] * 3)
    assert [r["hhi_governance"] for r in hhi_rows(plan, [api.solve_case(plan)], {})] \
        == [None] * 3


def test_window_options(tmp_path: Path) -> None:
    from planner.resilience.analyse import parse_window

    plan = load(tmp_path, network())
    assert parse_window(plan, None, None) == (1, 1)
    assert parse_window(plan, "2027", "2028") == (1, 2)
    assert parse_window(plan, "2028", None) == (2, 2)
    assert parse_window(plan, None, "2028") == (1, 2)
    assert parse_window(plan, None, "2026") == (0, 0)
    with pytest.raises(InputError):
        parse_window(plan, "2028", "2027")


def test_rare_earth_example_ranks_the_worst_and_sizes_a_covering_stockpile() -> None:
    # The acceptance: one command on the worked example, window 2029.
    from planner.resilience.analyse import analyse

    path = Path(__file__).parent.parent / "examples" / "rare_earths" / "rare_earths.xlsx"
    plan = api.load(path)
    rep = analyse(plan, (3, 3), samples=0)
    ranking = rep.stress.ranking
    assert ranking[0]["unmet_demand"] > 0
    assert ranking[0]["cost_increase"] == max(r["cost_increase"] for r in ranking)
    sz = rep.sizing
    assert sz is not None and sz.status == "optimal"
    assert sz.residual_unmet == pytest.approx(0, abs=1e-6)
    assert len(sz.scenarios) >= 3
    for s in sz.scenarios:
        assert s["unmet_without_policy"] > 0.1
        assert s["unmet_with_policy"] == pytest.approx(0, abs=1e-4)
    assert sz.premium is not None and sz.premium > 0


def test_monte_carlo_from_the_sized_policy_covers_the_shocks_it_was_sized_for(
        tmp_path: Path) -> None:
    # CHN (FA) fails with probability 0.3 a year for one year.  The stress window 2027
    # sizes 182.5 days of cover.  A sample struck in 2027 only: from the plan as given
    # (100 t of stock) 82.5 t stay unmet (as in the stress test); from the plan holding
    # the policy (182.5 t) none.  No sample is worse with the policy.
    from planner.resilience.analyse import analyse

    d = with_stockpile(network())
    d["Risks"] = [{"risk": "cn", "target": "CHN", "probability": 0.3}]
    plan = load(tmp_path, d)
    rep = analyse(plan, (1, 1), samples=40, seed=11)
    assert rep.sizing is not None and rep.sizing.days["M"] == pytest.approx(182.5)
    mc, mp = rep.montecarlo, rep.montecarlo_policy
    assert mc is not None and mp is not None
    drawn = sample(plan, read_risk_inputs(plan).risks, 40, 11)
    only_2027 = [i for i, s in enumerate(drawn) if s.periods() == [1]]
    assert only_2027
    for i in only_2027:
        assert mc.samples[i]["unmet_demand"] == pytest.approx(82.5)
        assert mp.samples[i]["unmet_demand"] == pytest.approx(0, abs=1e-6)
    for a, b in zip(mc.samples, mp.samples, strict=True):
        assert b["unmet_demand"] <= a["unmet_demand"] + 1e-6


def test_stress_counts_only_the_unmet_demand_a_disruption_adds(tmp_path: Path) -> None:
    # Demand 1,200 t in 2026 exceeds FA (1,000) + FB (182.5): the base plan already
    # leaves 17.5 t unmet.  FA out in 2027 (no stockpile) adds 365 - 182.5 = 182.5 t;
    # losing FB in 2027 adds nothing.
    d = network()
    d["Demand"][0]["demand"] = 1200
    plan = load(tmp_path, d)
    r = stress(plan, (1, 1), kinds=["facility"])
    assert sum(r.base.u.values()) == pytest.approx(17.5)
    unmet = {row["disruption"]: row["unmet_demand"] for row in r.ranking}
    assert unmet == pytest.approx({"facility FA": 182.5, "facility FB": 0.0})


def test_dask_gives_the_sequential_ranking(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    plan = load(tmp_path, with_stockpile(network()))
    one = stress(plan, (1, 1))
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1,
                            dashboard_address=None) as client:
        via_dask = stress(plan, (1, 1), scheduler=client)
    assert via_dask.ranking == one.ranking


def test_planner_stress_on_an_infeasible_base_explains_and_exits_1(tmp_path: Path) -> None:
    d = network()
    d["Offers"][0]["min_volume"] = 2000  # more than FA's 1,000 t/yr
    write_workbook(tmp_path / "in.xlsx", d)
    out = CliRunner().invoke(main, ["stress", str(tmp_path / "in.xlsx"), "-o",
                                    str(tmp_path / "res.xlsx")])
    assert out.exit_code == 1
    assert "infeasible" in out.output and "Offers row 2" in out.output
    assert "Infeasibility" in load_workbook(tmp_path / "res.xlsx").sheetnames


def test_unknown_size_scenario_is_bad_input_before_any_solve(tmp_path: Path) -> None:
    write_workbook(tmp_path / "in.xlsx", network())
    out = CliRunner().invoke(main, ["stress", str(tmp_path / "in.xlsx"), "--size-scenario",
                                    "country XXX"])
    assert out.exit_code == 2
    assert "country XXX" in out.output and "country CHN" in out.output
    assert "Base case" not in out.output  # rejected before solving


def test_a_disruption_that_changes_nothing_draws_no_stock(tmp_path: Path) -> None:
    # 730 t on hand: the base plan uses 365 t in 2026 and the other 365 t in 2027 and
    # buys 365 t of A in 2028, so its own stock falls from 365 t to 0 over 2027.  No
    # outage in 2027 changes that plan (nothing is bought in 2027): nothing is drawn
    # beyond what the base plan draws, whatever the stock entering the window.
    d = network()
    d["Materials"][0]["initial_stock"] = 730
    plan = load(tmp_path, d)
    r = stress(plan, (1, 1))
    assert len(r.ranking) == 6
    for row in r.ranking:
        assert row["cost_increase"] == pytest.approx(0, abs=1e-3)
        assert row["stock_drawn"] == 0
        assert row["note"] == ""
    assert all(m["stock_drawn"] == 0 for m in r.by_material)


def test_a_cheaper_disruption_names_the_commitments_that_lapse(tmp_path: Path) -> None:
    # B (20/t, AUS) carries a must-take commitment of 100 t/yr: the base plan buys 100 t
    # of B and 265 t of A a year (4,650).  Losing AUS in 2027 makes B unavailable, its
    # commitment lapses and 2027 buys 365 t of A: 1,000 cheaper.  The ranking, its sheet
    # and the console say why.
    d = network()
    d["Offers"][1]["min_volume"] = 100
    write_workbook(tmp_path / "in.xlsx", d)
    plan = api.load(tmp_path / "in.xlsx")
    r = stress(plan, (1, 1))
    by_name = {row["disruption"]: row for row in r.ranking}
    for name in ("country AUS", "AUS x sep", "facility FB"):
        assert by_name[name]["cost_increase"] == pytest.approx(-1000, rel=1e-6)
        assert by_name[name]["note"] == "cheaper: commitments on B lapse"
        assert by_name[name]["stock_drawn"] == 0
    assert by_name["country CHN"]["note"] == ""
    out = CliRunner().invoke(main, ["stress", str(tmp_path / "in.xlsx"), "-o",
                                    str(tmp_path / "res.xlsx"), "--no-sizing", "--top", "1"])
    assert out.exit_code == 0, out.output
    assert "cheaper: commitments on B lapse" in out.output   # ranked last, still said
    cells = list(load_workbook(tmp_path / "res.xlsx")["Resilience"].iter_rows(values_only=True))
    head = next(i for i, r in enumerate(cells) if r[0] == "rank")
    ranked = [dict(zip(cells[head], r, strict=False)) for r in cells[head + 1:head + 7]]
    assert [r["note"] for r in ranked if r["note"]] == ["cheaper: commitments on B lapse"] * 3
