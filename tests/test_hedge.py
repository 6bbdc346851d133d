"""``planner hedge`` (contract section 6): a hand-worked case, properties, validation, CLI.

The hand-worked case (:func:`hand`): one material M; two periods P1, P2 of 365 days;
demand 100 t in P2 only; offer O_CN (a China route) at 50/t and O_AU (Australia) at
80/t; holding 5/t/yr; shortage penalty 1,000/t (demand is always met); rule BAN_CN
bans China in P2, inactive in the base case and turned on by scenario ``deny``;
probabilities base 0.9, deny 0.1; commit_through = P1, so only P1 orders are shared.

If q t of O_CN are bought in P1 (and held, 5/t), the rest in P2:
base costs 50 q + 5 q + 50 (100 - q) = 5,000 + 5 q (O_CN in P2),
deny costs 55 q + 80 (100 - q) = 8,000 - 25 q (O_AU in P2: China is banned).
Own optima (foresight): base 5,000 (q = 0), deny 5,500 (q = 100).
"""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from planner import api
from planner.cli import main
from planner.inputs.problems import InputError
from planner.inputs.template import write_workbook
from planner.resilience.hedge import HedgeResult, blend, cvar, hedge
from planner.scenario.plan import load_plan

Data = dict[str, list[dict[str, Any]]]

HAND: Data = {
    "Settings": [{"setting": "commit_through", "value": "P1"},
                 {"setting": "shortage_penalty", "value": 1000}],
    "Periods": [{"period": "P1", "days": 365}, {"period": "P2", "days": 365}],
    "Materials": [{"material": "M", "holding_cost": 5}],
    "Demand": [{"material": "M", "period": "P2", "demand": 100}],
    "Countries": [{"country": "CHN"}, {"country": "AUS"}],
    "Stages": [{"stage": "mine"}],
    "Facilities": [{"facility": "F_CN", "country": "CHN", "stage": "mine"},
                   {"facility": "F_AU", "country": "AUS", "stage": "mine"}],
    "Routes": [{"route": "R_CN", "mine": "F_CN"}, {"route": "R_AU", "mine": "F_AU"}],
    "Offers": [{"offer": "O_CN", "supplier": "CNCo", "material": "M", "route": "R_CN",
                "unit_cost": 50},
               {"offer": "O_AU", "supplier": "AUCo", "material": "M", "route": "R_AU",
                "unit_cost": 80}],
    "Rules": [{"rule": "BAN_CN", "kind": "ban", "country": "CHN", "from_period": "P2",
               "to_period": "P2", "active": False}],
    "Scenarios": [{"scenario": "deny", "action": "rule_on", "target": "BAN_CN"}],
    "Probabilities": [{"scenario": "base", "probability": 0.9},
                      {"scenario": "deny", "probability": 0.1}],
}


def hand(**settings: Any) -> Data:
    d = copy.deepcopy(HAND)
    d["Settings"] += [{"setting": k, "value": v} for k, v in settings.items()]
    return d


def solved(tmp_path: Path, d: Data, name: str = "in.xlsx") -> HedgeResult:
    return hedge(api.load(write_workbook(tmp_path / name, d)))


def orders(r: HedgeResult) -> dict[tuple[str, str], float]:
    return {(c["offer"], str(c["period"])): c["volume"] for c in r.commitments}


# --- the hand-worked case -------------------------------------------------------------------

def test_risk_neutral_commits_nothing(tmp_path: Path) -> None:
    """lambda = 0: E(q) = 0.9 (5,000 + 5 q) + 0.1 (8,000 - 25 q) = 5,300 + 2 q, so q = 0.

    expected 5,300; CVaR(0.9) = the worst 10% = deny's 8,000; objective = E = 5,300;
    EVPI = 5,300 - (0.9 x 5,000 + 0.1 x 5,500 = 5,050) = 250; the base case's own P1
    orders are q = 0, the hedge's too: VSS = 0.
    """
    r = solved(tmp_path, hand())
    assert r.status == "optimal" and r.exit_code == 0
    assert orders(r) == {}
    assert r.expected_cost == pytest.approx(5300)
    assert r.cvar == pytest.approx(8000)
    assert r.objective == pytest.approx(5300)
    assert r.evpi == pytest.approx(250)
    assert r.vss == pytest.approx(0, abs=1e-6)
    rows = {s["scenario"]: s for s in r.scenario_rows()}
    assert rows["base"]["total_cost"] == pytest.approx(5000)
    assert rows["deny"]["total_cost"] == pytest.approx(8000)
    assert rows["deny"]["foresight_cost"] == pytest.approx(5500)
    assert rows["deny"]["money"] == pytest.approx(8000)
    assert rows["deny"]["penalties"] == pytest.approx(0)


def test_risk_averse_buys_china_early(tmp_path: Path) -> None:
    """lambda = 0.5: deny is the 10% tail for every q <= 100, so CVaR = 8,000 - 25 q and
    objective = 0.5 (5,300 + 2 q) + 0.5 (8,000 - 25 q) = 6,650 - 11.5 q: q = 100.

    expected = CVaR = objective = 5,500 (both scenarios cost 5,500); foresight objective
    0.5 x 5,050 + 0.5 x 5,500 = 5,275, EVPI = 225; the base case's orders (q = 0) give
    0.5 x 5,300 + 0.5 x 8,000 = 6,650, VSS = 1,150.
    """
    r = solved(tmp_path, hand(risk_weight=0.5))
    assert r.status == "optimal"
    assert orders(r) == {("O_CN", "P1"): pytest.approx(100)}
    assert r.expected_cost == pytest.approx(5500)
    assert r.cvar == pytest.approx(5500)
    assert r.objective == pytest.approx(5500)
    assert r.evpi == pytest.approx(225)
    assert r.vss == pytest.approx(1150)
    # the frontier: lambda 0 is the risk-neutral plan, every lambda > 0 buys q = 100
    front = {p.risk_weight: p for p in r.frontier}
    assert [front[w].expected_cost for w in (0, 0.25, 0.5, 0.75, 1)] == pytest.approx(
        [5300, 5500, 5500, 5500, 5500])
    assert [front[w].cvar for w in (0, 0.25, 0.5, 0.75, 1)] == pytest.approx(
        [8000, 5500, 5500, 5500, 5500])
    # each scenario's recourse: base holds 100 t through P1 (500) and buys nothing in P2
    plans = {rec.name: {(p["offer"], p["period"]): p["volume"] for p in rec.plan}
             for rec in r.recourse}
    assert plans == {"base": {("O_CN", "P1"): pytest.approx(100)},
                     "deny": {("O_CN", "P1"): pytest.approx(100)}}
    base = next(rec for rec in r.recourse if rec.name == "base")
    assert base.summary["holding_cost"] == pytest.approx(500)


def test_cvar_of_a_discrete_distribution() -> None:
    """Costs 5,000 (p 0.9) and 8,000 (p 0.1): CVaR(0.9) = 8,000 (the 10% tail is deny);
    CVaR(0.5) = (0.1 x 8,000 + 0.4 x 5,000) / 0.5 = 5,600; CVaR(0) = E = 5,300."""
    assert cvar([5000, 8000], [0.9, 0.1], 0.9) == pytest.approx(8000)
    assert cvar([5000, 8000], [0.9, 0.1], 0.5) == pytest.approx(5600)
    assert cvar([5000, 8000], [0.9, 0.1], 0.0) == pytest.approx(5300)
    assert blend([5000, 8000], [0.9, 0.1], 0.5, 0.9) == pytest.approx(6650)


def test_infeasible_hedge_names_the_scenario_and_the_order(tmp_path: Path) -> None:
    """O_CN must take 100 t/yr whenever available; the ban now covers P1 too, so deny has
    no O_CN in P1: the shared P1 order is held at 0, while base must take 100 t of it."""
    d = hand()
    d["Offers"][0]["min_volume"] = 100
    d["Rules"][0]["from_period"] = "P1"
    r = solved(tmp_path, d)
    assert r.status == "infeasible" and r.exit_code == 1
    text = "\n".join(r.explanation)
    assert "base" in text and "deny" in text
    assert "committed order O_CN" in text
    assert "min_volume" in text


# --- properties ------------------------------------------------------------------------------

def random_plan(seed: int) -> Data:
    """A small random workbook: 2-3 periods, three offers, up to three scenarios (a ban,
    a price rise, a demand rise), random probabilities, risk weight and CVaR level."""
    rnd = random.Random(seed)
    n = rnd.choice([2, 3])
    periods = [f"P{i + 1}" for i in range(n)]
    d: Data = {
        "Settings": [{"setting": "shortage_penalty", "value": 1000},
                     {"setting": "commit_through", "value": rnd.choice(periods)},
                     {"setting": "risk_weight", "value": rnd.choice([0, 0.3, 0.7, 1])},
                     {"setting": "cvar_level", "value": rnd.choice([0, 0.5, 0.8, 0.9])}],
        "Periods": [{"period": p, "days": 365} for p in periods],
        "Materials": [{"material": "M", "holding_cost": rnd.randint(0, 10)}],
        "Demand": [{"material": "M", "period": p, "demand": rnd.randint(0, 100)}
                   for p in periods],
        "Countries": [{"country": c} for c in ("A", "B", "C")],
        "Stages": [{"stage": "mine"}],
        "Facilities": [{"facility": f"F{c}", "country": c, "stage": "mine",
                        "capacity": rnd.choice([None, 80, 150])} for c in ("A", "B", "C")],
        "Routes": [{"route": f"R{c}", "mine": f"F{c}"} for c in ("A", "B", "C")],
        "Offers": [{"offer": f"O{c}", "supplier": f"S{c}", "material": "M",
                    "route": f"R{c}", "unit_cost": rnd.randint(lo, lo + 30),
                    "max_volume": rnd.choice([None, 60, 120])}
                   for c, lo in (("A", 40), ("B", 55), ("C", 70))],
        "Rules": [{"rule": "BAN_A", "kind": "ban", "country": "A",
                   "from_period": rnd.choice(periods[1:]), "active": False}],
        "Scenarios": [{"scenario": "ban", "action": "rule_on", "target": "BAN_A"},
                      {"scenario": "price", "action": "cost", "target": "B", "value": 1.5},
                      {"scenario": "surge", "action": "demand", "value": 1.3}],
    }
    names = ["base", *rnd.sample(["ban", "price", "surge"], rnd.randint(1, 3))]
    weights = [rnd.random() + 0.05 for _ in names]
    total = sum(weights)
    d["Probabilities"] = [{"scenario": s, "probability": w / total}
                          for s, w in zip(names, weights, strict=True)]
    return d


SEEDS = [1, 2, 3, 4, 5]
TOL = 1e-6


@pytest.mark.parametrize("seed", SEEDS)
def test_frontier_evpi_and_vss(tmp_path: Path, seed: int) -> None:
    """Expected cost never falls and CVaR never rises as lambda rises (optimality of each
    point against the other: (1 - l1) dE <= l1 dC and l2 dC <= (1 - l2) dE force dE <= 0
    for l1 < l2); EVPI >= 0 (each scenario's own optimum is at most its hedged cost, and
    the objective is monotone in every cost); VSS >= 0 (the base orders are one feasible
    choice of the shared orders)."""
    r = solved(tmp_path, random_plan(seed))
    assert r.status == "optimal", r.explanation
    pts = sorted(r.frontier, key=lambda p: p.risk_weight)
    assert all(p.status == "optimal" for p in pts)
    for a, b in zip(pts, pts[1:], strict=False):
        assert a.expected_cost is not None and b.expected_cost is not None
        assert a.cvar is not None and b.cvar is not None
        assert b.expected_cost >= a.expected_cost - TOL * max(1, a.expected_cost)
        assert b.cvar <= a.cvar + TOL * max(1, a.cvar)
    assert r.evpi is not None and r.evpi >= -TOL * max(1.0, abs(r.objective or 0))
    if r.vss is not None:
        assert r.vss >= -TOL * max(1.0, abs(r.objective or 0))
    for name, c in r.costs.items():
        own = r.foresight[name]
        assert own is not None and c >= own - TOL * max(1.0, own)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_one_scenario_with_probability_one_is_planner_run(tmp_path: Path, seed: int) -> None:
    """With one case of probability 1, E = CVaR = its cost, and nothing is shared with
    another scenario: the hedge is that case's section-3 optimum, EVPI = VSS = 0 when the
    case is base."""
    d = random_plan(seed)
    name = random.Random(seed).choice(["base", "ban", "price", "surge"])
    d["Probabilities"] = [{"scenario": name, "probability": 1}]
    path = write_workbook(tmp_path / "one.xlsx", d)
    plan = api.load(path)
    r = hedge(plan)
    own = api.solve_case(plan, name).total_cost
    assert own is not None
    assert r.objective == pytest.approx(own, rel=1e-7, abs=1e-6)
    assert r.expected_cost == pytest.approx(own, rel=1e-7, abs=1e-6)
    assert r.cvar == pytest.approx(own, rel=1e-7, abs=1e-6)
    assert r.evpi == pytest.approx(0, abs=1e-5)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_commit_through_the_last_period_is_one_plan_for_all(tmp_path: Path,
                                                           seed: int) -> None:
    """Every order shared: each scenario's recourse buys exactly the same volumes, and
    costs at least its own optimum."""
    d = random_plan(seed)
    d["Settings"][1]["value"] = d["Periods"][-1]["period"]
    r = solved(tmp_path, d)
    assert r.status == "optimal"
    plans = [{(p["offer"], p["period"]): p["volume"] for p in rec.plan if p["volume"] > 1e-6}
             for rec in r.recourse]
    for other in plans[1:]:
        assert other.keys() == plans[0].keys()
        for k, v in plans[0].items():
            assert other[k] == pytest.approx(v, rel=1e-6, abs=1e-6)
    for name, c in r.costs.items():
        own = r.foresight[name]
        assert own is not None and c >= own - 1e-6 * max(1.0, own)


# --- validation -------------------------------------------------------------------------------

def problems(tmp_path: Path, d: Data) -> list[str]:
    with pytest.raises(InputError) as info:
        load_plan(write_workbook(tmp_path / "bad.xlsx", d))
    return [str(p) for p in info.value.problems]


def test_probabilities_must_sum_to_one(tmp_path: Path) -> None:
    """0.5 + 0.4 = 0.9."""
    d = hand()
    d["Probabilities"] = [{"scenario": "base", "probability": 0.5},
                          {"scenario": "deny", "probability": 0.4}]
    assert problems(tmp_path, d) == [
        "Probabilities, column probability: value 0.9: expected probabilities summing to 1 "
        "(within 1e-6). They sum to 0.9: rescale them so that they add up to 1."]


def test_negative_probability_names_the_cell(tmp_path: Path) -> None:
    d = hand()
    d["Probabilities"][1]["probability"] = -0.1
    assert problems(tmp_path, d) == [
        "Probabilities, row 3, column probability (Probabilities!B3): value -0.1: expected "
        "a probability between 0 and 1 (10% is 0.1)."]


def test_unknown_and_duplicate_scenario_names_name_the_cell(tmp_path: Path) -> None:
    d = hand()
    d["Probabilities"] = [{"scenario": "base", "probability": 0.5},
                          {"scenario": "dney", "probability": 0.25},
                          {"scenario": "base", "probability": 0.25}]
    assert problems(tmp_path, d) == [
        "Probabilities, row 3, column scenario (Probabilities!A3): value 'dney': expected "
        "base, or a scenario name from the Scenarios sheet. Known scenario: base, deny.",
        "Probabilities, row 4, column scenario (Probabilities!A4): value 'base': expected "
        "a unique scenario id. It is already used in row 2."]


@pytest.mark.parametrize(("setting", "value", "expected"), [
    ("risk_weight", 1.5, "Settings, row 4, column value (Settings!B4): value 1.5: expected "
     "risk_weight: a number between 0 and 1 (0: risk neutral, 1: CVaR only). "
     "Did you mean 1.5% (0.015)?"),
    ("risk_weight", -0.2, "Settings, row 4, column value (Settings!B4): value -0.2: expected "
     "risk_weight: a number between 0 and 1 (0: risk neutral, 1: CVaR only)."),
    ("cvar_level", 1.0, "Settings, row 4, column value (Settings!B4): value 1: expected "
     "cvar_level: a number at least 0 and below 1 (0.9: CVaR is the expected cost of the "
     "worst 10% of probability). At 1 the tail holds no probability; use e.g. 0.95 or "
     "0.99."),
    ("commit_through", "P9", "Settings, row 4, column value (Settings!B4): value 'P9': "
     "expected a period label from the Periods sheet (commit_through: the last period "
     "whose orders are signed now). Name a period of the Periods sheet; the horizon runs "
     "P1 to P2."),
])
def test_bad_hedge_settings(tmp_path: Path, setting: str, value: Any, expected: str) -> None:
    assert problems(tmp_path, hand(**{setting: value})) == [expected]


def test_hedge_settings_default(tmp_path: Path) -> None:
    """Without the settings: commit through the first period, lambda 0, alpha 0.9; and a
    workbook without a Probabilities sheet loads with no probabilities."""
    d = hand()
    d["Settings"] = []
    del d["Probabilities"]
    plan = load_plan(write_workbook(tmp_path / "in.xlsx", d))
    s = plan.settings
    assert (s.commit_through, s.risk_weight, s.cvar_level) == (0, 0.0, 0.9)
    assert plan.probabilities == {}


# --- command line ------------------------------------------------------------------------------

def sheet(wb: openpyxl.Workbook, name: str) -> list[dict[str, Any]]:
    rows = list(wb[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_cli_writes_the_hedge_report(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "in.xlsx", hand(risk_weight=0.5))
    out = tmp_path / "hedge.xlsx"
    result = CliRunner().invoke(main, ["hedge", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:5] == ["Dashboard", "Hedge", "Commitments", "Hedge scenarios",
                                 "Frontier"]
    for name in ("Summary", "Plan", "Stock", "Exposure", "Constraints"):
        assert name in wb.sheetnames
    measures = {r["measure"]: r["value"] for r in sheet(wb, "Hedge")}
    assert measures == pytest.approx({"expected_cost": 5500, "cvar": 5500, "objective": 5500,
                                      "evpi": 225, "vss": 1150})
    assert [c.value for c in wb["Commitments"][1]][:5] == ["offer", "supplier", "material",
                                                           "period", "volume"]
    commit = sheet(wb, "Commitments")
    assert [(c["offer"], c["supplier"], c["material"], c["period"]) for c in commit] == [
        ("O_CN", "CNCo", "M", "P1")]
    assert commit[0]["volume"] == pytest.approx(100)
    scen = sheet(wb, "Hedge scenarios")
    assert [c.value for c in wb["Hedge scenarios"][1]] == [
        "scenario", "probability", "total_cost", "money", "penalties", "foresight_cost"]
    assert [s["scenario"] for s in scen] == ["base", "deny"]
    assert [s["foresight_cost"] for s in scen] == pytest.approx([5000, 5500])
    front = sheet(wb, "Frontier")
    assert [c.value for c in wb["Frontier"][1]][:4] == ["risk_weight", "expected_cost", "cvar",
                                                        "objective"]
    assert [f["risk_weight"] for f in front] == [0, 0.25, 0.5, 0.75, 1]
    assert len(wb["Frontier"]._charts) == 1
    dash = " ".join(str(c.value) for c in wb["Dashboard"]["A"] if c.value)
    assert "Sign with CNCo for P1: 100.0 t" in dash
    assert "200 USD more than the risk-neutral plan" in dash
    assert "saves 2,500 USD" in dash
    assert [s["scenario"] for s in sheet(wb, "Summary")] == ["base", "deny"]


def test_cli_needs_the_probabilities_sheet(tmp_path: Path) -> None:
    d = hand()
    del d["Probabilities"]
    path = write_workbook(tmp_path / "in.xlsx", d)
    book = openpyxl.load_workbook(path)
    del book["Probabilities"]
    book.save(path)
    result = CliRunner().invoke(main, ["hedge", str(path), "-o", str(tmp_path / "o.xlsx")])
    assert result.exit_code == 2
    assert "planner hedge needs the Probabilities sheet" in result.output
    assert not (tmp_path / "o.xlsx").exists()


def test_cli_refuses_to_write_over_the_input(tmp_path: Path) -> None:
    path = write_workbook(tmp_path / "in.xlsx", hand())
    result = CliRunner().invoke(main, ["hedge", str(path), "-o", str(path)])
    assert result.exit_code == 2
    assert "expected an output path other than the input workbook" in result.output
    load_plan(path)  # untouched
