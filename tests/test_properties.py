"""Property tests on random workbooks.

1. The planner's optimum equals an independent implementation of the
   contract (tests/reference_lp.py) for the base case and every scenario.
2. Every plan satisfies every cap, ban, quota and capacity when checked
   independently from the written Plan sheet.
3. Turning a cap off never raises cost.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from planner import api
from planner.data import PlanData
from planner.template import write_workbook
from tests.random_workbooks import random_workbook
from tests.reference_lp import _matches, _members, _route, reference

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _load(tmp_path: Path, seed: int, size: int = 1) -> tuple[Path, PlanData]:
    path = tmp_path / f"r{seed}.xlsx"
    write_workbook(path, random_workbook(seed, size))
    return path, api.load(path)


@SETTINGS
@given(st.integers(0, 10**9))
def test_optimum_matches_independent_implementation(tmp_path: Path, seed: int) -> None:
    _, plan = _load(tmp_path, seed)
    for r in api.solve_all(plan):
        ref = reference(plan, r.name)
        assert r.status == ref["status"], (seed, r.name)
        if ref["status"] == "optimal":
            assert r.total_cost == pytest.approx(ref["total_cost"], rel=1e-6, abs=1e-6), \
                (seed, r.name)
            assert r.summary["unmet_demand"] == pytest.approx(ref["unmet_demand"], abs=1e-5)


@pytest.mark.parametrize("seed,size", [(s, 1) for s in range(12)] + [(s, 3) for s in range(6)])
def test_fixed_seeds_match_independent_implementation(tmp_path: Path, seed: int,
                                                      size: int) -> None:
    _, plan = _load(tmp_path, seed, size)
    for r in api.solve_all(plan):
        ref = reference(plan, r.name)
        assert r.status == ref["status"], (seed, r.name)
        if ref["status"] == "optimal":
            assert r.total_cost == pytest.approx(ref["total_cost"], rel=1e-6, abs=1e-6)
            assert r.summary["unmet_demand"] == pytest.approx(ref["unmet_demand"], abs=1e-5)


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
            if rule.kind == "ban" and rule.active and rule.window[0] <= t <= rule.window[1]:
                assert not _matches(plan, rule, o), (seed, rid, o)
    for t, p in enumerate(plan.periods):
        y = p.days / 365
        for rule in plan.rules.values():
            if rule.kind == "quota" and rule.active and rule.window[0] <= t <= rule.window[1]:
                used = sum(v for (o, tt), v in flow.items() if tt == t and _matches(plan, rule, o))
                assert rule.limit is not None and used <= rule.limit * y + tol
        for f, fac in plan.facilities.items():
            if fac.capacity is not None:
                used = sum(v for (o, tt), v in flow.items()
                           if tt == t and f in [ff for _, ff in _route(plan, o)])
                assert used <= fac.capacity * y + tol
        for cap in plan.caps.values():
            if not (cap.active and cap.window[0] <= t <= cap.window[1]):
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
    """Large models go to HiGHS as arrays (planner.highs_direct): same optimum as Pyomo's."""
    _, plan = _load(tmp_path, seed)
    direct = api.solve_all(plan, options={"translator": "direct"})
    pyomo = api.solve_all(plan, options={"translator": "pyomo"})
    for a, b in zip(direct, pyomo, strict=True):
        assert a.status == b.status, (seed, a.name)
        if a.status == "optimal":
            assert a.total_cost == pytest.approx(b.total_cost, rel=1e-9, abs=1e-9)
            assert a.summary["unmet_demand"] == pytest.approx(b.summary["unmet_demand"],
                                                              abs=1e-7)
