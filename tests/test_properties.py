"""Property tests on random workbooks.

1. The planner's optimum equals an independent implementation of the
   contract (tests/reference_lp.py) for the base case and every scenario.
2. Every plan satisfies every purchase cap, ban, quota and capacity when checked
   independently from the written Plan sheet.
3. Turning a cap off never raises cost.
4. take_or_pay never costs more than must-take; a use ban running to the end of
   the horizon never costs less than the same ban on purchases (a use quota can:
   see the worked counterexample); without the revision's new features the
   optimum is unchanged, also with stock tracked by origin.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from planner import api
from planner.inputs.data import PlanData
from planner.inputs.template import write_workbook
from tests.random_workbooks import Data, random_workbook
from tests.reference_lp import _matches, _members, _route, reference

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
FEW = settings(SETTINGS, max_examples=12)


def _load(tmp_path: Path, seed: int, size: int = 1,
          data: Data | None = None) -> tuple[Path, PlanData]:
    path = tmp_path / f"r{seed}.xlsx"
    write_workbook(path, random_workbook(seed, size) if data is None else data)
    return path, api.load(path)


def _same_as_reference(plan: PlanData, seed: int, **kw: Any) -> None:
    for r in api.solve_all(plan):
        ref = reference(plan, r.name, **kw)
        assert r.status == ref["status"], (seed, r.name)
        if ref["status"] == "optimal":
            assert r.total_cost == pytest.approx(ref["total_cost"], rel=1e-6, abs=1e-6), \
                (seed, r.name)
            assert r.summary["unmet_demand"] == pytest.approx(ref["unmet_demand"], abs=1e-5), \
                (seed, r.name)


def _use_costs_at_least_purchase(tmp_path: Path, seed: int, data: dict[str, Any],
                                 rule: dict[str, Any]) -> None:
    """Solve the base case with ``rule`` applied to use, then to purchases: when the use
    version has a plan, so has the purchase version, at no higher cost."""
    results = {}
    for applies in ("use", "purchase"):
        rule["applies_to"] = applies
        _, plan = _load(tmp_path, seed, data=data)
        results[applies] = api.solve_all(plan, [])[0]
    use, purchase = results["use"], results["purchase"]
    if use.status == "optimal":
        assert purchase.status == "optimal", seed
        assert use.total_cost is not None and purchase.total_cost is not None
        assert purchase.total_cost <= use.total_cost + 1e-6 * max(1.0, abs(use.total_cost)), \
            seed


@SETTINGS
@given(st.integers(0, 10**9))
def test_optimum_matches_independent_implementation(tmp_path: Path, seed: int) -> None:
    _, plan = _load(tmp_path, seed)
    _same_as_reference(plan, seed)


@pytest.mark.parametrize("seed,size", [(s, 1) for s in range(12)] + [(s, 3) for s in range(6)])
def test_fixed_seeds_match_independent_implementation(tmp_path: Path, seed: int,
                                                      size: int) -> None:
    _, plan = _load(tmp_path, seed, size)
    _same_as_reference(plan, seed)


def _plan_rows(report: Path) -> list[dict[str, object]]:
    ws = load_workbook(report, read_only=True)["Plan"]
    rows = list(ws.iter_rows(values_only=True))
    head = [str(h) for h in rows[0]]
    return [dict(zip(head, r, strict=True)) for r in rows[1:]]


@SETTINGS
@given(st.integers(0, 10**9))
def test_plan_sheet_respects_caps_bans_quotas_capacity(tmp_path: Path, seed: int) -> None:
    path, plan = _load(tmp_path, seed)
    report = tmp_path / f"r{seed}-report.xlsx"
    results = api.solve_all(plan, [])  # base case only
    api.write(plan, results, report)
    if results[0].status != "optimal":
        return
    ix = {p.label: i for i, p in enumerate(plan.periods)}
    flow: dict[tuple[str, int], float] = defaultdict(float)
    for row in _plan_rows(report):
        assert row["scenario"] == "base"
        flow[(str(row["offer"]), ix[str(row["period"])])] += float(row["volume"])  # type: ignore[arg-type]
    tol = 1e-6
    for (o, t), _vol in flow.items():
        for rid, rule in plan.rules.items():
            if rule.kind == "ban" and rule.active and rule.applies_to == "purchase" \
                    and rule.window[0] <= t <= rule.window[1]:
                assert not _matches(plan, rule, o), (seed, rid, o)
    for t, p in enumerate(plan.periods):
        y = p.days / 365
        for rule in plan.rules.values():
            if rule.kind == "quota" and rule.active and rule.applies_to == "purchase" \
                    and rule.window[0] <= t <= rule.window[1]:
                used = sum(v for (o, tt), v in flow.items() if tt == t and _matches(plan, rule, o))
                assert rule.limit is not None and used <= rule.limit * y + tol
        for f, fac in plan.facilities.items():
            if fac.capacity is not None:
                used = sum(v for (o, tt), v in flow.items()
                           if tt == t and f in [ff for _, ff in _route(plan, o)])
                assert used <= fac.capacity * y + tol
        for cap in plan.caps.values():
            if not (cap.active and cap.applies_to == "purchase"
                    and cap.window[0] <= t <= cap.window[1]):
                continue
            for m in [cap.material] if cap.material else plan.materials:
                total = sum(v for (o, tt), v in flow.items()
                            if tt == t and plan.offers[o].material == m)
                for k in [cap.stage] if cap.stage else plan.stages:
                    targets = [{c} for c in plan.countries] if cap.country is None \
                        else [_members(plan, cap.country)]
                    for tgt in targets:
                        num = sum(v for (o, tt), v in flow.items()
                                  if tt == t and plan.offers[o].material == m
                                  and k in dict(_route(plan, o))
                                  and plan.facilities[dict(_route(plan, o))[k]].country in tgt)
                        if cap.max_share is not None:
                            assert num <= cap.max_share * total + tol
                        if cap.min_share is not None:
                            assert num >= cap.min_share * total - tol


@SETTINGS
@given(st.integers(0, 10**9))
def test_turning_a_cap_off_never_raises_cost(tmp_path: Path, seed: int) -> None:
    _, plan = _load(tmp_path, seed)
    base = api.solve_all(plan, [])[0]
    for cid, cap in plan.caps.items():
        if not cap.active:
            continue
        relaxed = dataclasses.replace(plan, caps={
            k: (dataclasses.replace(c, active=False) if k == cid else c)
            for k, c in plan.caps.items()})
        r = api.solve_all(relaxed, [])[0]
        if base.status == "optimal":
            assert r.status == "optimal"
            assert r.total_cost is not None and base.total_cost is not None
            assert r.total_cost <= base.total_cost + 1e-6 * max(1.0, abs(base.total_cost))


@pytest.mark.parametrize("seed", range(12, 24))
def test_array_translation_and_pyomo_interface_agree(tmp_path: Path, seed: int) -> None:
    """Large models go to HiGHS as arrays (planner.solve.arrays): same optimum as Pyomo's."""
    _, plan = _load(tmp_path, seed)
    direct = api.solve_all(plan, options={"translator": "direct"})
    pyomo = api.solve_all(plan, options={"translator": "pyomo"})
    for a, b in zip(direct, pyomo, strict=True):
        assert a.status == b.status, (seed, a.name)
        if a.status == "optimal":
            assert a.total_cost == pytest.approx(b.total_cost, rel=1e-9, abs=1e-9)
            assert a.summary["unmet_demand"] == pytest.approx(b.summary["unmet_demand"],
                                                              abs=1e-7)


def _replace(plan: PlanData, **offer_changes: Any) -> PlanData:
    return dataclasses.replace(plan, offers={
        k: dataclasses.replace(o, **offer_changes) for k, o in plan.offers.items()})


@FEW
@given(st.integers(0, 10**9), st.sampled_from([None, 0.0, 0.5, 1.0, 2.0]))
def test_take_or_pay_never_costs_more_than_must_take(tmp_path: Path, seed: int,
                                                     top: float | None) -> None:
    """Paying for what is not taken only adds choices: with take_or_pay (the workbook's
    own when ``top`` is None, else ``top`` on every offer) every case costs at most what
    it costs when every commitment must be taken, and is feasible whenever that is."""
    _, plan = _load(tmp_path, seed)
    if top is not None:
        plan = _replace(plan, take_or_pay=top)
    must = _replace(plan, take_or_pay=None)
    for a, b in zip(api.solve_all(plan), api.solve_all(must), strict=True):
        if b.status == "optimal":
            assert a.status == "optimal", (seed, a.name)
            assert a.total_cost is not None and b.total_cost is not None
            assert a.total_cost <= b.total_cost + 1e-6 * max(1.0, abs(b.total_cost)), \
                (seed, a.name)


@FEW
@given(st.integers(0, 10**9), st.integers(0, 5), st.integers(0, 2))
def test_open_ended_use_ban_never_costs_less_than_purchase_ban(
        tmp_path: Path, seed: int, pick: int, start: int) -> None:
    """A ban whose window runs to the end of the horizon (to_period blank): applied to
    use it never costs less than applied to purchase (base case).

    Only open-ended windows: with a window that ends before the horizon, a use ban can
    be cheaper (buy inside the window, consume after it).  And only without stockpile
    minimums, end_value and purchase caps: stock bought under a use ban and never
    consumed still counts as stock (for the stockpile minimum and the end_value credit)
    and as flow in purchase caps, which a purchase ban forbids.  Under those
    conditions, dropping the never-consumed purchases of a use-ban plan gives a
    purchase-ban plan that is feasible and no dearer."""
    data = random_workbook(seed)
    if not data["Rules"]:
        return
    rule = data["Rules"][pick % len(data["Rules"])]
    n_per = len(data["Periods"])
    rule.update(kind="ban", limit=None, active=True, to_period=None,
                from_period=data["Periods"][min(start, n_per - 1)]["period"])
    data["Stockpile"], data["Scenarios"] = [], []  # base case only
    data["Caps"] = [c for c in data["Caps"] if c.get("applies_to") == "use"]
    for m in data["Materials"]:
        m["end_value"] = None
    _use_costs_at_least_purchase(tmp_path, seed, data, rule)


def _use_quota_buys_ahead() -> Data:
    """Two years, demand 10 t in each; offer A (country CA, 10/t) is offered in 2027
    only, offer B (CB, 100/t) in both.  Quota on CA: 10 t/yr over the whole horizon.

    Purchase quota: 10 t from A in 2027, 10 t from B in 2028: 100 + 1,000 = 1,100.
    Use quota: buy 20 t from A in 2027 (purchases are not limited) and consume 10 t of
    it in each year (within the quota): 200."""
    return {
        "Periods": [{"period": 2027}, {"period": 2028}],
        "Materials": [{"material": "M", "shortage_penalty": 5000}],
        "Demand": [{"material": "M", "period": 2027, "demand": 10},
                   {"material": "M", "period": 2028, "demand": 10}],
        "Countries": [{"country": "CA"}, {"country": "CB"}],
        "Stages": [{"stage": "sep"}],
        "Facilities": [{"facility": "FA", "country": "CA", "stage": "sep"},
                       {"facility": "FB", "country": "CB", "stage": "sep"}],
        "Routes": [{"route": "RA", "sep": "FA"}, {"route": "RB", "sep": "FB"}],
        "Offers": [{"offer": "A", "supplier": "SA", "material": "M", "route": "RA",
                    "unit_cost": 10, "to_period": 2027},
                   {"offer": "B", "supplier": "SB", "material": "M", "route": "RB",
                    "unit_cost": 100}],
        "Rules": [{"rule": "Q", "kind": "quota", "country": "CA", "limit": 10,
                   "applies_to": "purchase"}],
    }


@pytest.mark.parametrize(("applies", "cost"), [("purchase", 1100.0), ("use", 200.0)])
def test_open_ended_use_quota_can_cost_less_than_purchase_quota(
        tmp_path: Path, applies: str, cost: float) -> None:
    """Why the use-versus-purchase property is stated for bans only: a use quota limits
    consumption, not purchases, so buying ahead above the quota while the offer is
    cheap or available and consuming within it later is allowed, even with a window
    that runs to the end of the horizon."""
    data = _use_quota_buys_ahead()
    data["Rules"][0]["applies_to"] = applies
    _, plan = _load(tmp_path, 0, data=data)
    r = api.solve_all(plan, [])[0]
    assert r.total_cost == pytest.approx(cost)
    assert reference(plan)["total_cost"] == pytest.approx(cost)


@FEW
@given(st.integers(0, 10**9), st.integers(0, 5))
def test_one_period_use_quota_never_costs_less_than_purchase_quota(
        tmp_path: Path, seed: int, pick: int) -> None:
    """Within a single period there is no buying ahead: a use quota then never costs less
    than the same quota on purchases (base case), provided nothing rewards stock that is
    bought and not consumed (no stockpile minimums, no end_value, no purchase caps) and
    no commitment forces buying above the quota (min_volume blank)."""
    data = random_workbook(seed)
    if not data["Rules"]:
        return
    data["Periods"] = data["Periods"][:1]
    label = data["Periods"][0]["period"]
    rule = data["Rules"][pick % len(data["Rules"])]
    rule.update(kind="quota", limit=rule.get("limit") or 10, active=True)
    for sheet in ("Facilities", "Offers", "Rules", "Caps", "Tariffs"):
        for row in data[sheet]:
            row.pop("from_period", None)
            row.pop("to_period", None)
    data["Demand"] = [r for r in data["Demand"] if str(r["period"]) == str(label)]
    data["Stockpile"], data["Scenarios"] = [], []  # base case only
    data["Caps"] = [c for c in data["Caps"] if c.get("applies_to") == "use"]
    for m in data["Materials"]:
        m["end_value"] = None
    for o in data["Offers"]:
        o["min_volume"] = None
    _use_costs_at_least_purchase(tmp_path, seed, data, rule)


@FEW
@given(st.integers(0, 10**9))
def test_without_the_new_features_every_optimum_is_todays(tmp_path: Path, seed: int) -> None:
    """No rule or cap on use, no take_or_pay, every capacity factor 0 or >= 1 (no force
    majeure): the planner's optimum equals the reference's, and the reference's own
    optimum does not move when it tracks stock by origin anyway (c, q, c0, q0 for every
    offer and material) -- the origin formulation is the old balance, disaggregated."""
    data = random_workbook(seed)
    for row in data["Rules"] + data["Caps"]:
        row["applies_to"] = "purchase"
    for o in data["Offers"]:
        o["take_or_pay"] = None
    for row in data["Scenarios"]:
        if row["action"] == "capacity" and 0 < row["value"] < 1:
            row["value"] = 1
    _, plan = _load(tmp_path, seed, data=data)
    assert not plan.uses_origin
    _same_as_reference(plan, seed)
    for name in ["base", *plan.scenarios]:
        a, b = reference(plan, name), reference(plan, name, force_origin=True)
        assert a["status"] == b["status"], (seed, name)
        if a["status"] == "optimal":
            assert a["total_cost"] == pytest.approx(b["total_cost"], rel=1e-7, abs=1e-6)
