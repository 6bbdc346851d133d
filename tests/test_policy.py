"""Policy costs and shadow-price sentences on tiny cases worked out by hand.

The network: material M, one period 2027; offer O1 costs 10/t through plant
FA ("Plant A", country A), offer O2 costs 20/t through FC (country C).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from planner import api
from planner.analysis.policy import shadow_prices
from planner.inputs.template import write_workbook
from planner.model.families import money

Data = dict[str, list[dict[str, Any]]]


def network(demand: float = 100, days: int = 365) -> Data:
    return copy.deepcopy({
        "Periods": [{"period": 2027, "days": days}],
        "Materials": [{"material": "M"}],
        "Demand": [{"material": "M", "period": 2027, "demand": demand}],
        "Countries": [{"country": "A"}, {"country": "C"}],
        "Stages": [{"stage": "sep"}],
        "Facilities": [{"facility": "FA", "name": "Plant A", "country": "A", "stage": "sep"},
                       {"facility": "FC", "country": "C", "stage": "sep"}],
        "Routes": [{"route": "R1", "sep": "FA"}, {"route": "R2", "sep": "FC"}],
        "Offers": [
            {"offer": "O1", "supplier": "S1", "material": "M", "route": "R1", "unit_cost": 10},
            {"offer": "O2", "supplier": "S2", "material": "M", "route": "R2", "unit_cost": 20}],
    })


def load(tmp_path: Path, d: Data) -> Any:
    path = tmp_path / "in.xlsx"
    write_workbook(path, d)
    return api.load(path)


def test_policy_costs_largest_first(tmp_path: Path) -> None:
    """Stock minimum 10 t, quota Q: at most 40 t/yr through A, cap K: A at most 50%.

    Base: buy 110 t (100 demand + 10 stock); Q holds O1 at 40, so O2 = 70:
    400 + 1,400 = 1,800.
    Without the stock minimum: 40 x 10 + 60 x 20 = 1,600, so it adds 200.
    Without Q: K allows 55 of 110 through A: 550 + 1,100 = 1,650, Q adds 150.
    Without K: Q still holds O1 at 40: 1,800, K adds 0.
    """
    d = network()
    d["Rules"] = [{"rule": "Q", "kind": "quota", "country": "A", "limit": 40, "basis": "law Q"}]
    d["Caps"] = [{"cap": "K", "stage": "sep", "country": "A", "max_share": 0.5}]
    d["Stockpile"] = [{"material": "M", "min_tonnes": 10}]
    plan = load(tmp_path, d)
    base = api.solve_all(plan)[0]
    assert base.total_cost == pytest.approx(1800)
    costs = api.policy_costs(plan, [base])
    assert [p.policy for p in costs] == ["stockpile minimums", "rule Q (quota)", "cap K"]
    assert [p.cost_added for p in costs] == pytest.approx([200, 150, 0], abs=1e-6)
    assert [p.total_cost_without for p in costs] == pytest.approx([1600, 1650, 1800])
    q = costs[1]
    assert (q.sheet, q.row, q.basis, q.status) == ("Rules", 2, "law Q", "optimal")
    # the plan itself is not changed by the re-solves
    assert plan.rules["Q"].active and plan.stockpile[0].min_tonnes == 10


def test_a_run_solves_its_policies_on_the_scenarios_shared_model(tmp_path: Path) -> None:
    """solve_all(with_policy=True) builds one shared model for the cases and the policy
    re-solves and keeps it; policy_costs reuses it (no second build) and forgets it."""
    from planner.run import batch, sweep

    d = network()
    d["Rules"] = [{"rule": "Q", "kind": "quota", "country": "A", "limit": 40, "basis": "law Q"}]
    d["Caps"] = [{"cap": "K", "stage": "sep", "country": "A", "max_share": 0.5}]
    d["Stockpile"] = [{"material": "M", "min_tonnes": 10}]
    plan = load(tmp_path, d)
    built: list[int] = []
    real = batch.Batch.__init__

    def counting(self: batch.Batch, *a: object, **k: object) -> None:
        built.append(1)
        real(self, *a, **k)  # type: ignore[arg-type]

    batch.Batch.__init__ = counting  # type: ignore[method-assign]
    try:
        results = api.solve_all(plan, with_policy=True)
        assert sweep._kept is not None
        costs = api.policy_costs(plan, results)
    finally:
        batch.Batch.__init__ = real  # type: ignore[method-assign]
    assert len(built) == 1 and sweep._kept is None
    assert [p.cost_added for p in costs] == pytest.approx([200, 150, 0], abs=1e-6)
    assert costs == api.policy_costs(plan, api.solve_all(plan))


def test_inactive_policies_are_not_priced(tmp_path: Path) -> None:
    d = network()
    d["Rules"] = [{"rule": "Q", "kind": "quota", "country": "A", "limit": 40, "active": False}]
    plan = load(tmp_path, d)
    assert api.policy_costs(plan, api.solve_all(plan)) == []


def test_capacity_sentence_per_t_per_year(tmp_path: Path) -> None:
    """A 730-day period: FA's 60 t/yr allow 120 t, so O1 = 120, O2 = 80 (cost 2,800).

    The capacity row's shadow price is d cost / d rhs = -10 per t in the
    period; one more t/yr is 2 t in this period, so it saves 20.
    """
    d = network(demand=200, days=730)
    d["Facilities"][0]["capacity"] = 60
    plan = load(tmp_path, d)
    base = api.solve_all(plan)[0]
    assert base.total_cost == pytest.approx(2800)
    row = next(r for r in base.constraints if r["constraint"] == "capacity FA")
    assert row["shadow_price"] == pytest.approx(-10)
    sentences = {s.kind: s for s in shadow_prices(plan, base)}
    cap = sentences["capacity"]
    assert cap.change == pytest.approx(-20)
    assert cap.sentence == ("One more t/yr of capacity at FA (Plant A) in 2027 would lower "
                            "total cost by 20.00 USD.")
    bal = sentences["balance"]
    assert bal.change == pytest.approx(20)
    assert bal.sentence.startswith("One more t of M demand in 2027 would raise total cost by "
                                   "20.00 USD")

    # the sign, checked by re-solving with one more t/yr of capacity
    d["Facilities"][0]["capacity"] = 61
    again = api.solve_all(load(tmp_path, d))[0]
    assert again.total_cost - base.total_cost == pytest.approx(cap.change)


def test_quota_and_cap_sentences(tmp_path: Path) -> None:
    """Quota Q (30 t/yr through A) and cap K (A at most 50%): Q binds first.

    O1 = 30, O2 = 70: 300 + 1,400 = 1,700.  Q's shadow price is -10.
    Then with Q gone, K binds: O1 = 50 of 100; one percentage point more is
    1 t more through A, saving 10.
    """
    d = network()
    d["Rules"] = [{"rule": "Q", "kind": "quota", "country": "A", "limit": 30}]
    plan = load(tmp_path, d)
    base = api.solve_all(plan)[0]
    assert base.total_cost == pytest.approx(1700)
    q = next(s for s in shadow_prices(plan, base) if s.kind == "quota")
    assert q.sentence == ("Raising the limit of quota rule Q by one t/yr in 2027 would lower "
                          "total cost by 10.00 USD.")

    d = network()
    d["Caps"] = [{"cap": "K", "stage": "sep", "country": "A", "max_share": 0.5}]
    plan = load(tmp_path, d)
    base = api.solve_all(plan)[0]
    assert base.total_cost == pytest.approx(1500)
    k = next(s for s in shadow_prices(plan, base) if s.kind == "cap")
    assert k.change == pytest.approx(-10)
    assert k.sentence == ("Raising cap K (share of M at sep in A) by one percentage point in "
                          "2027 would lower total cost by 10.00 USD.")
    d["Caps"][0]["max_share"] = 0.51
    again = api.solve_all(load(tmp_path, d))[0]
    assert again.total_cost - base.total_cost == pytest.approx(k.change)


def test_infeasible_base_says_which_policy_restores_a_plan(tmp_path: Path) -> None:
    """O1 must take 80 t/yr but quota Q allows 50 through A.

    Without Q there is a plan: O1 (no max_volume) covers all 100 t at 10/t = 1,000.
    """
    d = network()
    d["Offers"][0]["min_volume"] = 80
    d["Rules"] = [{"rule": "Q", "kind": "quota", "country": "A", "limit": 50}]
    plan = load(tmp_path, d)
    base = api.solve_all(plan)[0]
    assert base.status == "infeasible"
    (q,) = api.policy_costs(plan, [base])
    assert q.status == "optimal" and q.cost_added is None
    assert q.note == "without it the base case has a plan"
    assert q.total_cost_without == pytest.approx(1000)


def test_money_reads_like_an_analyst() -> None:
    assert money(1_234_567, "USD") == "1.23 M USD"
    assert money(-12_345.4, "EUR") == "12,345 EUR"
    assert money(20, "USD") == "20.00 USD"
