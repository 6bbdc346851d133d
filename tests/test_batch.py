"""One model, many cases (planner.run.batch): each case solved on the shared model has
the optimum of the case's own model, on random workbooks that exercise every feature
(bans and quotas in and out of force, caps on and off, outages, force majeure,
take-or-pay, use rules, end values), and so do the policy re-solves."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner import api
from planner.analysis.policy import POLICY_CASE, policies, without
from planner.inputs.data import PlanData
from planner.inputs.template import write_workbook
from planner.run.batch import Batch, scenario_variants
from planner.run.case import solve_case
from planner.scenario.cases import Index, case_names
from tests.random_workbooks import random_workbook

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


def _plan(tmp_path: Path, seed: int, size: int = 1) -> PlanData:
    path = tmp_path / f"b{seed}.xlsx"
    write_workbook(path, random_workbook(seed, size))
    return api.load(path)


def _rows(r: api.CaseResult) -> list[tuple[str, object]]:
    return [(c["family"], c["index"]) for c in r.constraints]


def _same_optimum(plan: PlanData, seed: int) -> None:
    ix = Index.build(plan)
    pols = policies(plan)
    names = case_names(plan) + [p.case for p in pols]
    batch = Batch(plan, scenario_variants(plan, ix, names), ix)
    base, start = batch.solve("base", capture=True)
    shared = {"base": base, **{n: batch.solve(n, start)[0] for n in names[1:]}}
    own = {n: solve_case(plan, n, ix) for n in case_names(plan)}
    own.update({p.case: solve_case(without(plan, p), "base") for p in pols})
    for n in names:
        a, b = shared[n], own[n]
        assert a.status == b.status, (seed, n, a.message, b.message)
        if b.status != "optimal":
            continue
        assert a.total_cost == pytest.approx(b.total_cost, rel=1e-7, abs=1e-6), (seed, n)
        assert a.summary["unmet_demand"] == pytest.approx(b.summary["unmet_demand"],
                                                          abs=1e-5), (seed, n)
        if n.startswith(POLICY_CASE):  # a policy re-solve reports Summary and Stock only
            assert a.plan == a.constraints == a.exposure == []
            continue
        # the same rows are reported, in the same order: the case's own
        assert _rows(a) == _rows(b), (seed, n)
        assert [r["demand"] for r in a.stock] == pytest.approx([r["demand"] for r in b.stock])


@SETTINGS
@given(st.integers(0, 10**9))
def test_each_case_on_the_shared_model_has_its_own_models_optimum(tmp_path: Path,
                                                                  seed: int) -> None:
    _same_optimum(_plan(tmp_path, seed), seed)


@pytest.mark.parametrize("seed", range(6))
def test_larger_workbooks_same_optimum(tmp_path: Path, seed: int) -> None:
    _same_optimum(_plan(tmp_path, seed, 3), seed)


def test_flow_variables_let_go_where_no_tie_break_reads_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above STEADY_MAX_FLOWS flows (here every model) the shared model drops its flow
    variables once HiGHS holds them; the costs, the tables and the least-unmet-demand
    tie-break do not need them, and each case keeps its own model's optimum."""
    import planner.model.build as build

    monkeypatch.setattr(build, "STEADY_MAX_FLOWS", 0)
    for seed in range(4):
        plan = _plan(tmp_path, seed)
        ix = Index.build(plan)
        batch = Batch(plan, scenario_variants(plan, ix, case_names(plan)), ix)
        assert batch.model.find_component("x") is None and batch.model.u
        assert batch.solve("base")[0].status in ("optimal", "infeasible")
        _same_optimum(plan, seed)


def test_results_hold_tables_column_by_column(tmp_path: Path) -> None:
    """A case's tables are Tables (a fourth of the memory of row dicts) reading as rows
    with the contract's columns, from the shared model and from a case's own model."""
    from planner.analysis.results import CONSTRAINT_KEYS, EXPOSURE_COLUMNS, PLAN_COLUMNS
    from planner.analysis.table import Table

    plan = _plan(tmp_path, 1)
    for r in (api.solve_all(plan)[0], solve_case(plan, "base")):
        assert r.status == "optimal"
        for table, cols in ((r.plan, PLAN_COLUMNS), (r.exposure, EXPOSURE_COLUMNS),
                            (r.constraints, CONSTRAINT_KEYS)):
            assert isinstance(table, Table) and list(table.columns) == cols
            assert all(list(row) == cols for row in table)
        assert isinstance(r.stock, Table) and isinstance(r.excluded, Table)


def test_the_superset_holds_every_cases_columns_and_rows(tmp_path: Path) -> None:
    for seed in range(10):
        plan = _plan(tmp_path, seed)
        ix = Index.build(plan)
        names = case_names(plan) + [p.case for p in policies(plan)]
        batch = Batch(plan, scenario_variants(plan, ix, names), ix)
        from planner.model.build import case_spec, group

        for v in batch.variants.values():
            g = group(v.plan, ix, v.case)
            spec = case_spec(v.plan, ix, v.case, g)
            assert batch._arrays(v, spec, g) is not None, (seed, v.name)
        # a column or a row the shared model lacks is caught (the case would then be
        # solved on its own model)
        v = batch.variants["base"]
        g = group(v.plan, ix, v.case)
        spec = case_spec(v.plan, ix, v.case, g)
        spec.columns["x"][("no such offer", 0)] = (0.0, None)
        assert batch._arrays(v, spec, g) is None
        spec = case_spec(v.plan, ix, v.case, g)
        spec.rows["balance"][("no such material", 0)] = (1.0, 1.0)
        assert batch._arrays(v, spec, g) is None


def test_export_of_a_case_is_the_lp_it_solved(tmp_path: Path) -> None:
    """--export-lp on the shared model writes the case's bounds and costs: HiGHS reads
    the file back to the case's optimum."""
    import highspy

    for seed in range(4):
        plan = _plan(tmp_path, seed)
        out = tmp_path / f"lp{seed}"
        out.mkdir()
        results = api.solve_all(plan, options={"export_lp": str(out)})
        for r in results:
            if r.status != "optimal":
                continue
            from planner.run.case import lp_path

            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            h.readModel(str(lp_path(out, r.name)))
            h.run()
            assert h.getInfo().objective_function_value == pytest.approx(
                r.total_cost, rel=1e-7, abs=1e-6), (seed, r.name)


def test_steady_volumes_pair_only_the_cases_own_flows(tmp_path: Path) -> None:
    """On the shared model a flow the case lacks is a column fixed at 0, and the
    tie-break's ``value`` says None for it: steady volumes then pairs only consecutive
    flows the case has (else the step from 0 up to the next period's volume would count
    as a move).  Two offers over five periods have eight pairs; without one offer's
    2027 flow, seven."""
    import pyomo.environ as pyo

    from planner.model.build import build_model, steady_volumes
    from planner.scenario.cases import build_case
    from tests.test_fidelity import two_offer

    d = two_offer(5)
    d["Demand"] = [{"material": "M", "period": 2027 + i, "demand": 10 + 3 * (i % 2)}
                   for i in range(5)]
    path = tmp_path / "steady.xlsx"
    write_workbook(path, d)
    plan = api.load(path)
    ix = Index.build(plan)
    m, _ = build_model(plan, ix, build_case(plan, ix))
    for i, v in enumerate(m.x.values()):
        v.set_value(float(i % 3))  # a plan that moves
    first_cn = m._flow_vars[("CN", 0)]

    def pairs(value: object) -> int:
        expr = steady_volumes(m, value)  # type: ignore[arg-type]
        assert expr is not None
        n = len(m.steady.d)
        m.del_component("steady")
        return n

    assert pairs(lambda v: pyo.value(v)) == 8
    assert pairs(lambda v: None if v is first_cn else pyo.value(v)) == 7


def test_a_large_shared_model_frees_its_deleted_rows_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Pyomo rows deleted once HiGHS holds them are freed when the model is built,
    not at some later full collection (the paused collector would keep them through
    the run); here every model counts as large."""
    import gc
    import weakref

    import planner.run.batch as batch_mod

    monkeypatch.setattr(batch_mod, "COLLECT_ABOVE", 0)
    refs: list[weakref.ref[object]] = []
    compile_model = batch_mod.hd.compile_model

    def spy(model: object) -> object:
        c = compile_model(model)
        refs.extend(weakref.ref(r) for r in c.rows[:3])
        return c

    monkeypatch.setattr(batch_mod.hd, "compile_model", spy)
    plan = _plan(tmp_path, 2)
    ix = Index.build(plan)
    was = gc.isenabled()
    gc.disable()
    try:
        Batch(plan, scenario_variants(plan, ix, case_names(plan)), ix)
        assert refs and all(r() is None for r in refs)
    finally:
        if was:
            gc.enable()
