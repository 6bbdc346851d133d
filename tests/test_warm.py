"""Warm starts from the base case's basis (planner.solve.warm), forced on small workbooks.

Hand-worked cases on ``wb.valid_data()`` (two periods of 365 days, demand
100 t each, O_CN at 50 + 10% tariff = 55 per t, O_AU at 80 per t, every
facility 1,000 t/yr, shortage penalty 1,000 per t):

- base: 100 t from O_CN per period, 2 x 100 x 55 = 11,000
- demand_up (demand x 1.5): 150 t from O_CN per period, 2 x 150 x 55 = 16,500
  (same LP structure as the base: only row bounds change -> warm)
- cn_small (SEP_CN capacity x 0.05 = 50 t/yr): 50 t at 55 + 50 t at 80 per
  period, 2 x (2,750 + 4,000) = 13,500 (a bound changes -> warm)
- short (demand x 30 = 3,000 t): both routes full, 1,000 t at 55 + 1,000 t at
  80 + 1,000 t unmet at 1,000 per period, 2 x 1,135,000 = 2,270,000 with
  2,000 t unmet (warm, and the tie-break solve runs after it)
- ban_covered (BAN_CN on) and cn_outage (SEP_CN capacity x 0): O_CN drops
  out, so the LP has other columns -> cold; 2 x 100 x 80 = 16,000 each
"""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path
from typing import Any

import pytest
import wb

from planner import api
from planner.analysis.results import CaseResult
from planner.inputs.data import PlanData
from planner.model.build import build_model
from planner.run.sweep import run_sweep
from planner.scenario.cases import Index, build_case, case_names
from planner.solve import warm
from planner.solve.solver import solve, solver_options
from tests.random_workbooks import random_workbook
from tests.reference_lp import reference

ON = {"warm": "on"}
EXPECTED = {"base": (11_000.0, 0.0), "ban_covered": (16_000.0, 0.0),
            "demand_up": (16_500.0, 0.0), "cn_small": (13_500.0, 0.0),
            "short": (2_270_000.0, 2_000.0), "cn_outage": (16_000.0, 0.0)}
WARM = {"base", "demand_up", "cn_small", "short"}


def _plan(tmp_path: Path) -> PlanData:
    data = wb.valid_data()
    data["Scenarios"] += [
        {"scenario": "demand_up", "action": "demand", "value": 1.5},
        {"scenario": "cn_small", "action": "capacity", "target": "SEP_CN", "value": 0.05},
        {"scenario": "short", "action": "demand", "value": 30},
        {"scenario": "cn_outage", "action": "capacity", "target": "SEP_CN", "value": 0},
    ]
    return api.load(wb.write(tmp_path / "in.xlsx", data))


def _solve(plan: PlanData, name: str, options: dict[str, Any],
           start: warm.WarmStart | None = None) -> Any:
    """The case's SolveResult (to see whether it started warm)."""
    ix = Index.build(plan)
    model, _ = build_model(plan, ix, build_case(plan, ix, name))
    return solve(model, solver_options(plan.settings, options), warm=start)


def _tables(r: CaseResult) -> tuple[Any, ...]:
    return (r.name, r.status, r.summary, r.plan, r.stock, r.exposure, r.constraints,
            r.explanation)


def test_hand_worked_costs_warm_and_cold(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    assert case_names(plan) == list(EXPECTED)
    ix = Index.build(plan)
    base, start = api.solve_base(plan, ix, ON)
    assert start is not None and base.total_cost == pytest.approx(11_000)
    for name, (cost, unmet) in EXPECTED.items():
        res = _solve(plan, name, ON, start)
        assert res.status == "optimal"
        assert res.warm == (name in WARM), name
        hot = api.solve_case(plan, name, ix, ON, start)
        cold = api.solve_case(plan, name, ix, {"warm": "off"})
        for r in (hot, cold):
            assert r.total_cost == pytest.approx(cost, rel=1e-9), (name, r)
            assert r.summary["unmet_demand"] == pytest.approx(unmet, abs=1e-7), name


def test_duals_reported_after_a_warm_start(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    ix = Index.build(plan)
    _, start = api.solve_base(plan, ix, ON)
    res = _solve(plan, "demand_up", ON, start)
    assert res.warm and res.duals
    hot = api.solve_case(plan, "demand_up", ix, ON, start)
    cold = api.solve_case(plan, "demand_up", ix, {"warm": "off"})
    prices = {(r["constraint"], r["period"]): r["shadow_price"] for r in hot.constraints}
    assert prices and all(p is not None for p in prices.values())
    # Both routes have spare capacity, so a tonne more demand costs 55 (O_CN) each period.
    balance = {k: v for k, v in prices.items() if "balance" in str(k[0]).lower()
               or "demand" in str(k[0]).lower()}
    assert balance, prices
    assert [abs(v) for v in balance.values()] == pytest.approx([55.0] * len(balance))
    assert prices == {(r["constraint"], r["period"]): r["shadow_price"]
                      for r in cold.constraints}


def test_off_never_warm_and_auto_cold_on_small_models(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    ix = Index.build(plan)
    assert api.solve_base(plan, ix, {"warm": "off"})[1] is None
    assert api.solve_base(plan, ix, None)[1] is None  # auto: below WARM_ABOVE
    assert api.solve_base(plan, ix, {**ON, "translator": "pyomo"})[1] is None
    assert api.solve_base(plan, ix, {**ON, "solver": "ipm"})[1] is None
    _, start = api.solve_base(plan, ix, ON)
    assert not _solve(plan, "demand_up", {"warm": "off"}, start).warm
    with pytest.raises(ValueError, match="warm must be one of"):
        warm.mode({"warm": "sometimes"})


def test_auto_warm_above_the_threshold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                       ) -> None:
    monkeypatch.setattr(warm, "WARM_ABOVE", 0)
    plan = _plan(tmp_path)
    _, start = api.solve_base(plan, Index.build(plan), None)
    assert start is not None
    assert _solve(plan, "demand_up", {}, start).warm


def test_warm_start_pickles_and_checks_identity(tmp_path: Path) -> None:
    plan = _plan(tmp_path)
    ix = Index.build(plan)
    _, start = api.solve_base(plan, ix, ON)
    assert start is not None
    again = pickle.loads(pickle.dumps(start))
    assert isinstance(again, warm.WarmStart)
    model, _ = build_model(plan, ix, build_case(plan, ix, "demand_up"))
    c = warm.compile_model(model)
    assert again.fits(c) and start.fits(c)
    model, _ = build_model(plan, ix, build_case(plan, ix, "ban_covered"))
    assert not start.fits(warm.compile_model(model))
    # Same sizes and sparsity, other identities: no fit.
    names, index = start.columns
    renamed = dataclasses.replace(start, columns=(("other",) + names[1:], index))
    assert not renamed.fits(c)
    assert names[0] == "x"  # columns are named by component (and block) and index


def test_order_and_selection_do_not_change_answers(tmp_path: Path) -> None:
    """Each case starts from the base's basis, never the previous case's."""
    plan = _plan(tmp_path)
    names = case_names(plan)
    forward = {r.name: _tables(r) for r in run_sweep(plan, names, ON)}
    backward = {r.name: _tables(r) for r in run_sweep(plan, names[::-1], ON)}
    assert backward == forward
    # Without the base among the names, it is still solved for its basis.
    alone = run_sweep(plan, ["short"], ON)
    assert [_tables(r) for r in alone] == [forward["short"]]
    assert {r.name: _tables(r) for r in api.solve_all(plan, options=ON)} == forward


@pytest.mark.parametrize("seed,size", [(s, 1) for s in range(10)] + [(s, 3) for s in range(3)])
def test_random_workbooks_match_independent_lp_when_warm(tmp_path: Path, seed: int,
                                                         size: int) -> None:
    from planner.inputs.template import write_workbook

    path = tmp_path / f"r{seed}.xlsx"
    write_workbook(path, random_workbook(seed, size))
    plan = api.load(path)
    for r in api.solve_all(plan, options=ON):
        ref = reference(plan, r.name)
        assert r.status == ref["status"], (seed, r.name)
        if ref["status"] == "optimal":
            assert r.total_cost == pytest.approx(ref["total_cost"], rel=1e-6, abs=1e-6)
            assert r.summary["unmet_demand"] == pytest.approx(ref["unmet_demand"], abs=1e-5)
