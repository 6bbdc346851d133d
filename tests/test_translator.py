"""The array translator (planner.solve.arrays, which reads Pyomo's expression objects
directly for speed) checked against Pyomo's own maintained standard-form compiler
(pyomo.repn.plugins.standard_form), row by row, on a model using every family."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pyomo.environ as pyo
from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

from planner import api
from planner.model.build import build_model
from planner.scenario.cases import Index, build_case
from planner.solve.arrays import compile_model
from tests import wb


def _model(tmp_path: Path) -> pyo.ConcreteModel:
    d = wb.valid_data()
    d["Caps"][0]["active"] = True
    d["Caps"].append({"cap": "USE", "country": "CHN", "max_share": 0.7, "applies_to": "use"})
    d["Rules"].append({"rule": "Q", "kind": "quota", "country": "AUS", "limit": 500})
    d["Offers"][1].update({"min_volume": 50, "take_or_pay": 0.5})
    d["Stockpile"][0].update({"min_tonnes": 10})
    plan = api.load(wb.write(tmp_path, d))
    ix = Index.build(plan)
    m, _ = build_model(plan, ix, build_case(plan, ix))
    return m


def test_array_rows_equal_the_standard_form_rows(tmp_path: Path) -> None:
    """For random values of every variable, each row's activity measured from its
    bound is the same in both translations (the standard form may flip a row's
    sign, so magnitudes are compared), and the objective's coefficients agree."""
    m = _model(tmp_path)
    rng = random.Random(7)
    for v in m.component_data_objects(pyo.Var):
        v.set_value(rng.uniform(0, 100))
    ours = compile_model(m)
    x = np.array([v.value for v in ours.columns])
    activity = np.zeros(len(ours.rows))
    for j in range(len(ours.columns)):
        for k in range(ours.start[j], ours.start[j + 1]):
            activity[ours.index[k]] += ours.value[k] * x[j]
    body = {id(c): pyo.value(c.body) for c in ours.rows}
    for i, con in enumerate(ours.rows):
        lb, ub = con.lb, con.ub
        if lb is not None:
            assert abs(activity[i] - ours.row_lower[i] - (body[id(con)] - lb)) < 1e-7, con.name
        if ub is not None:
            assert abs(activity[i] - ours.row_upper[i] - (body[id(con)] - ub)) < 1e-7, con.name

    ref = LinearStandardFormCompiler().write(m, mixed_form=True)
    xr = np.array([v.value for v in ref.columns])
    act = ref.A @ xr
    gaps = {}
    for r, (con, _sense) in enumerate(ref.rows):
        gaps.setdefault(id(con), []).append(abs(act[r] - ref.rhs[r]))
    for i, con in enumerate(ours.rows):
        ours_gaps = []
        if con.lb is not None:
            ours_gaps.append(abs(activity[i] - ours.row_lower[i]))
        if con.ub is not None and not con.equality:
            ours_gaps.append(abs(activity[i] - ours.row_upper[i]))
        assert sorted(round(g, 6) for g in gaps[id(con)]) == sorted(
            round(g, 6) for g in ours_gaps), con.name
    assert len(gaps) == len(ours.rows)
    cost = dict(zip(map(id, ours.columns), ours.cost, strict=True))
    ref_cost = np.asarray(ref.c.todense()).ravel()
    for v, c in zip(ref.columns, ref_cost, strict=True):
        assert abs(cost.get(id(v), 0.0) - c) < 1e-9, v.name
