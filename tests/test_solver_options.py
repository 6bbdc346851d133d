"""Solver options (Settings sheet and CLI) and the array translation to HiGHS.

The translation (:mod:`planner.solve.arrays`) must hand HiGHS exactly the LP
the Pyomo model states: small models with answers worked out by hand, every
expression form the planner's modules write (LinearExpression bodies, named
Expressions, sums, negations, products by constants, fixed variables,
maximisation), and agreement with Pyomo's own HiGHS interface on the worked
example (optimum and every dual).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyomo.environ as pyo
import pytest
import wb
from click.testing import CliRunner
from openpyxl import load_workbook
from pyomo.contrib.solver.common.factory import SolverFactory

from planner.api import load, solve_all
from planner.cli import main
from planner.inputs.template import write_template
from planner.model.build import build_model
from planner.scenario.cases import Index, build_case, case_names
from planner.solve import arrays as hd
from planner.solve.solver import gap_options, solve, solver_options


def _lp() -> pyo.ConcreteModel:
    """min 2a + 3b  s.t.  a + b >= 4,  a <= 3,  b in [0, 10]: a = 3, b = 1, cost 9.

    Duals (d cost / d rhs): the cover row 3 (b is the marginal buy), the cap on
    a -1 (one more unit of a saves 3 - 2).
    """
    m = pyo.ConcreteModel()
    m.a = pyo.Var(within=pyo.NonNegativeReals)
    m.b = pyo.Var(bounds=(0, 10))
    m.cost = pyo.Expression(expr=2 * m.a + 3 * m.b)
    m.obj = pyo.Objective(expr=m.cost)
    m.cover = pyo.Constraint(expr=m.a + m.b >= 4)
    m.cap = pyo.Constraint(expr=m.a <= 3)
    return m


def test_hand_worked_lp_values_and_duals() -> None:
    m = _lp()
    res = solve(m)
    assert res.status == "optimal"
    assert (pyo.value(m.a), pyo.value(m.b), pyo.value(m.obj)) == pytest.approx((3, 1, 9))
    assert res.duals[m.cover] == pytest.approx(3)
    assert res.duals[m.cap] == pytest.approx(-1)


def test_other_expression_forms_are_translated_exactly() -> None:
    """Products by constants, negation, nested sums, constants in bodies, fixed variables."""
    m = _lp()
    m.c = pyo.Var(bounds=(0, None))
    m.c.fix(0.5)                                   # a constant 0.5 wherever c appears
    m.cover.deactivate()
    # 2 * (a + b) - (-c) + 1 >= 9   <=>   a + b >= (9 - 1 - 0.5) / 2 = 3.75
    m.cover2 = pyo.Constraint(expr=2 * (m.a + m.b) - (-m.c) + 1 >= 9)
    res = solve(m)
    assert res.status == "optimal"
    # a = 3 (its cap), b = 0.75: cost 6 + 2.25 = 8.25
    assert (pyo.value(m.a), pyo.value(m.b)) == pytest.approx((3, 0.75))
    assert pyo.value(m.obj) == pytest.approx(8.25)
    assert res.duals[m.cover2] == pytest.approx(1.5)  # 3 per unit of (a + b), halved
    assert m.c.fixed and pyo.value(m.c) == 0.5


def test_constant_times_named_expression_is_scaled_on_the_fast_path() -> None:
    """The cap rows' form, numerator - share x purchases, with purchases a named expression.

    min 2a + 3b  s.t.  a - 0.5 (a + b) <= 0.5 (i.e. a - b <= 1),  a + b >= 3:
    a = 2, b = 1, cost 7.  Duals: the share row -1 (rhs r gives cost 7.5 - r),
    the cover 2.5.  Dropping the 0.5 would give a = 3, b = 0, cost 6.
    """
    from pyomo.core.expr.numeric_expr import LinearExpression, ProductExpression, SumExpression

    m = _lp()
    m.both = pyo.Expression(expr=LinearExpression([m.a, m.b]))
    m.cover.deactivate()
    m.share = pyo.Constraint(
        expr=SumExpression([LinearExpression([m.a]), ProductExpression((-0.5, m.both))]) <= 0.5)
    m.cover3 = pyo.Constraint(expr=m.both >= 3)
    for translator in ("direct", "pyomo"):
        res = solve(m, {"translator": translator})
        assert res.status == "optimal"
        assert (pyo.value(m.a), pyo.value(m.b), pyo.value(m.obj)) == pytest.approx((2, 1, 7))
        assert res.duals[m.share] == pytest.approx(-1)
        assert res.duals[m.cover3] == pytest.approx(2.5)


def test_evaluate_reads_linear_expressions_in_bulk() -> None:
    """evaluate() (used for slacks and cost parts) equals Pyomo's own evaluation."""
    from pyomo.core.expr.numeric_expr import LinearExpression, ProductExpression, SumExpression

    m = _lp()
    m.a.value, m.b.value = 3.0, 1.5
    m.c = pyo.Var()
    m.c.fix(0.5)
    m.d = pyo.Var()  # no value: counts as 0
    m.both = pyo.Expression(expr=LinearExpression([m.a, m.b]))
    exprs = [m.cost.expr, m.cover.body,
             SumExpression([LinearExpression([m.a]), ProductExpression((-0.5, m.both))]),
             2 * (m.a + m.b) - (-m.c) + 1, m.obj.expr, m.a + 4 * m.d]
    want = [2 * 3 + 3 * 1.5, 4.5, 3 - 0.5 * 4.5, 2 * 4.5 + 0.5 + 1, 10.5, 3.0]
    assert hd.evaluate(exprs).tolist() == pytest.approx(want)
    assert [pyo.value(e) for e in exprs[:5]] == pytest.approx(want[:5])
    assert hd.evaluate([]).tolist() == []


def test_addresses_read_in_bulk_equal_id() -> None:
    import numpy as np

    objs = [object(), 1.5, "s", pyo.ConcreteModel()]
    arr = np.fromiter(objs, dtype=object, count=len(objs))
    assert hd.addresses(arr).tolist() == [id(o) for o in objs]
    assert hd._addresses_by_id(arr).tolist() == [id(o) for o in objs]
    assert hd.addresses(arr[:0]).tolist() == []


def test_flow_bounds_are_the_offer_volumes_times_years(tmp_path: Path) -> None:
    """x(o,t) bounds are set in bulk: they must read back as min/max volume x years."""
    plan = load(write_template(tmp_path / "ex.xlsx", example=True))
    ix = Index.build(plan)
    m, g = build_model(plan, ix, build_case(plan, ix, "base"))
    checked = 0
    for (oid, t), v in m.x.items():
        o, y = plan.offers[oid], plan.periods[t].years
        assert v.lb == pytest.approx(o.min_volume * y)
        assert v.ub == (None if o.max_volume is None else pytest.approx(o.max_volume * y))
        checked += 1
    assert checked == len(g.flows) > 0


def test_maximise_and_infeasible() -> None:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(0, 7))
    m.obj = pyo.Objective(expr=5 * m.x + 1, sense=pyo.maximize)
    assert solve(m).status == "optimal"
    assert pyo.value(m.obj) == pytest.approx(36)
    m.bad = pyo.Constraint(expr=m.x >= 8)
    assert solve(m).status == "infeasible"


def test_nonlinear_model_is_an_error_status_not_a_crash() -> None:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(bounds=(1, 2))
    m.obj = pyo.Objective(expr=m.x * m.x)
    res = solve(m, {"translator": "direct"})
    assert res.status == "error" and not res.has_solution


def test_same_lp_as_pyomos_own_highs_interface(tmp_path: Path) -> None:
    """Worked example, every case: same optimum and the same dual on every row."""
    plan = load(write_template(tmp_path / "ex.xlsx", example=True))
    ix = Index.build(plan)
    for name in case_names(plan):
        case = build_case(plan, ix, name)
        m1, _ = build_model(plan, ix, case)
        ours = hd.solve(m1)
        ours.solution_loader.load_vars()
        m2, _ = build_model(plan, ix, case)
        theirs = SolverFactory("highs").solve(m2, load_solutions=True)
        assert pyo.value(m1.total_cost) == pytest.approx(pyo.value(m2.total_cost), rel=1e-12)
        d1 = ours.solution_loader.get_duals()
        d2 = theirs.solution_loader.get_duals()
        by_name = {c.name: v for c, v in d2.items()}
        assert {c.name: v for c, v in d1.items()} == pytest.approx(by_name, abs=1e-7)


def _settings_data(**settings: Any) -> dict[str, list[dict[str, Any]]]:
    data = wb.valid_data()
    data["Settings"] += [{"setting": k, "value": v} for k, v in settings.items()]
    return data


@pytest.mark.parametrize("method", ["simplex", "ipm", "pdlp"])
def test_every_method_finds_the_hand_worked_optimum(tmp_path: Path, method: str) -> None:
    """wb.valid_data(): base 11,000 and ban_covered 16,000 whatever the method."""
    plan = load(wb.write(tmp_path, _settings_data(method=method)))
    assert plan.settings.method == method
    assert solver_options(plan.settings)["solver"] == method
    results = solve_all(plan)
    assert [r.status for r in results] == ["optimal", "optimal"]
    assert [r.total_cost for r in results] == pytest.approx([11_000, 16_000], rel=1e-4)


def test_settings_time_limit_and_threads_reach_highs(tmp_path: Path) -> None:
    plan = load(wb.write(tmp_path, _settings_data(time_limit=30, threads=1)))
    opts = solver_options(plan.settings)
    assert opts["time_limit"] == 30.0 and opts["threads"] == 1
    m = _lp()
    res = hd.solve(m, opts)
    assert res.highs.getOptionValue("time_limit")[1] == 30.0
    assert res.highs.getOptionValue("threads")[1] == 1


def test_tiny_time_limit_reports_time_limit(tmp_path: Path) -> None:
    """A time limit of 0 seconds stops HiGHS before it can prove optimality."""
    plan = load(wb.write(tmp_path, wb.valid_data()))
    (r, _) = solve_all(plan, options={"time_limit": 1e-9})
    assert r.status == "time_limit"


def test_gap_option_sets_ipm_and_pdlp_tolerances() -> None:
    assert gap_options(None) == {}
    assert gap_options(1e-4) == {"ipm_optimality_tolerance": 1e-4, "pdlp_d_gap_tol": 1e-4}
    res = hd.solve(_lp(), {"solver": "ipm", **gap_options(1e-5)})
    assert res.highs.getOptionValue("ipm_optimality_tolerance")[1] == 1e-5
    assert res.highs.getOptionValue("solver")[1] == "ipm"


def test_cli_method_and_gap(tmp_path: Path) -> None:
    src = wb.write(tmp_path, wb.valid_data())
    out = tmp_path / "r.xlsx"
    res = CliRunner().invoke(main, ["run", str(src), "-o", str(out), "--method", "ipm",
                                    "--gap", "1e-7", "--threads", "1", "--time-limit", "60"])
    assert res.exit_code == 0, res.output
    ws = load_workbook(out, read_only=True)["Summary"]
    got = [row[:3] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert [(g[0], g[1]) for g in got] == [("base", "optimal"), ("ban_covered", "optimal")]
    assert [g[2] for g in got] == pytest.approx([11_000, 16_000], rel=1e-6)
    bad = CliRunner().invoke(main, ["run", str(src), "--gap", "-1"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_cli_warm_option(tmp_path: Path) -> None:
    """--warm on/off give the same totals (warm starts choose where simplex starts,
    not the optimum); a bad value is a usage error."""
    src = wb.write(tmp_path, wb.valid_data())
    totals = {}
    for mode in ("on", "off"):
        out = tmp_path / f"r-{mode}.xlsx"
        res = CliRunner().invoke(main, ["run", str(src), "-o", str(out), "--warm", mode,
                                        "--no-policy"])
        assert res.exit_code == 0, res.output
        ws = load_workbook(out, read_only=True)["Summary"]
        totals[mode] = [row[:3] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert totals["on"] == totals["off"]
    assert [t[2] for t in totals["on"]] == pytest.approx([11_000, 16_000], rel=1e-9)
    bad = CliRunner().invoke(main, ["run", str(src), "--warm", "sometimes"])
    assert bad.exit_code == 2 and "Traceback" not in bad.output


def test_integer_variables_are_refused_not_relaxed() -> None:
    m = pyo.ConcreteModel()
    m.x = pyo.Var(within=pyo.Binary)
    m.obj = pyo.Objective(expr=m.x, sense=pyo.maximize)
    res = solve(m, {"translator": "direct"})
    assert res.status == "error" and "integer" in res.message


def test_settings_gap_reaches_the_solver_options(tmp_path: Path) -> None:
    data = wb.valid_data()
    data.setdefault("Settings", []).append({"setting": "gap", "value": 1e-5})
    plan = load(wb.write(tmp_path, data))
    assert plan.settings.gap == 1e-5
    opts = solver_options(plan.settings)
    assert opts["ipm_optimality_tolerance"] == 1e-5 and opts["pdlp_d_gap_tol"] == 1e-5
