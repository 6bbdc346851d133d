"""The contract's model in linopy: the build-speed reference for benchmarks only.

This is a second statement of :mod:`planner.model.build` written the way linopy is
fast (every constraint family as one padded array of variable labels and
coefficients), from the same :class:`planner.model.build.Groups`.  It exists only to
measure the planner's Pyomo build against; ``benchmarks/run.py --check``
solves both and compares the optima, so the comparison is like for like.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from planner.inputs.data import PlanData
from planner.model.build import shortage_penalty
from planner.scenario.cases import Case, Index, in_window
from planner.scenario.groups import Groups, cap_terms


class Triplets:
    """Rows of one constraint family as flat (row, variable label, coefficient) lists."""

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.vars: list[int] = []
        self.coefs: list[float] = []

    def add(self, row: int, labels: Any, coef: float = 1.0) -> None:
        labels = list(labels)
        self.rows.extend([row] * len(labels))
        self.vars.extend(labels)
        self.coefs.extend([coef] * len(labels))

    def expression(self, model: Any, n_rows: int, dim: str) -> Any:
        """A linopy LinearExpression with one row per constraint (terms padded with -1)."""
        import linopy
        import xarray as xr

        rows = np.asarray(self.rows, dtype=np.int64)
        order = np.argsort(rows, kind="stable")
        rows = rows[order]
        labels = np.asarray(self.vars, dtype=np.int64)[order]
        coefs = np.asarray(self.coefs, dtype=float)[order]
        counts = np.bincount(rows, minlength=n_rows)
        width = max(1, int(counts.max()) if len(counts) else 1)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        pos = np.arange(len(rows)) - np.repeat(starts, counts)
        v = np.full((n_rows, width), -1, dtype=np.int64)
        c = np.zeros((n_rows, width))
        v[rows, pos] = labels
        c[rows, pos] = coefs
        data = xr.Dataset({"vars": ((dim, "_term"), v), "coeffs": ((dim, "_term"), c),
                           "const": ((dim,), np.zeros(n_rows))},
                          coords={dim: np.arange(n_rows)})
        return linopy.LinearExpression(data, model)


def build_linopy(plan: PlanData, ix: Index, case: Case, g: Groups) -> Any:
    """The same LP as :func:`planner.model.build.build_model`, as a linopy Model."""
    import linopy
    import pandas as pd

    y = [p.years for p in plan.periods]
    n_t = len(plan.periods)
    mats = list(plan.materials)
    m = linopy.Model()
    flows = g.flows
    pos = {k: i for i, k in enumerate(flows)}
    offers = plan.offers
    lo = np.array([offers[o].min_volume * y[t] for o, t in flows])
    hi = np.array([np.inf if offers[o].max_volume is None else offers[o].max_volume * y[t]
                   for o, t in flows])
    x = m.add_variables(lower=lo, upper=hi, coords=[pd.RangeIndex(len(flows), name="flow")],
                        name="x")
    mt = [(mat, t) for mat in mats for t in range(n_t)]
    mt_pos = {k: i for i, k in enumerate(mt)}
    demand = np.array([case.demand.get(k, 0.0) for k in mt])
    s = m.add_variables(lower=0.0, coords=[pd.RangeIndex(len(mt), name="mt")], name="s")
    u = m.add_variables(lower=0.0, upper=demand, coords=[pd.RangeIndex(len(mt), name="mt")],
                        name="u")
    vkeys = list(g.min_stock)
    v = m.add_variables(lower=0.0, coords=[pd.RangeIndex(max(1, len(vkeys)), name="vk")],
                        name="v")
    xl, sl, ul, vl = (a.labels.values for a in (x, s, u, v))

    # balance: s(t-1) + sum x + u - s(t) = demand - (initial stock at t = 0)
    bal = Triplets()
    rhs = demand.copy()
    for i, (mat, t) in enumerate(mt):
        if t > 0:
            bal.add(i, [sl[i - 1]])
        else:
            rhs[i] -= plan.materials[mat].initial_stock
        bal.add(i, [xl[pos[k]] for k in g.by_material.get((mat, t), ())])
        bal.add(i, [ul[i]])
        bal.add(i, [sl[i]], -1.0)
    m.add_constraints(bal.expression(m, len(mt), "balance"), "=", rhs, name="balance")

    # stockpile: s + v >= min; s <= max
    if vkeys:
        smin = Triplets()
        for i, k in enumerate(vkeys):
            smin.add(i, [sl[mt_pos[k]], vl[i]])
        m.add_constraints(smin.expression(m, len(vkeys), "smin"), ">=",
                          np.array([g.min_stock[k] for k in vkeys]), name="stockpile_min")
    mkeys = list(g.max_stock)
    if mkeys:
        smax = Triplets()
        for i, k in enumerate(mkeys):
            smax.add(i, [sl[mt_pos[k]]])
        m.add_constraints(smax.expression(m, len(mkeys), "smax"), "<=",
                          np.array([g.max_stock[k] for k in mkeys]), name="stockpile_max")

    # capacity
    ckeys = [(f, t) for (f, t) in g.by_facility if case.capacity[f][t] is not None]
    if ckeys:
        cap = Triplets()
        crhs = np.empty(len(ckeys))
        for i, (f, t) in enumerate(ckeys):
            cap.add(i, [xl[pos[k]] for k in g.by_facility[(f, t)]])
            crhs[i] = float(case.capacity[f][t] or 0.0) * y[t]
        m.add_constraints(cap.expression(m, len(ckeys), "capacity"), "<=", crhs,
                          name="capacity")

    # quotas
    flows_at: dict[int, set[tuple[str, int]]] = defaultdict(set)
    for k in flows:
        flows_at[k[1]].add(k)
    quota = Triplets()
    qrhs: list[float] = []
    for rid, rule in plan.rules.items():
        if rule.kind != "quota" or rule.limit is None:
            continue
        for t in range(n_t):
            if case.rule_on[rid][t] and in_window(t, rule.window):
                matched = [xl[pos[(o, t)]] for o in ix.rule_offers[rid]
                           if (o, t) in flows_at[t]]
                if matched:
                    quota.add(len(qrhs), matched)
                    qrhs.append(rule.limit * y[t])
    if qrhs:
        m.add_constraints(quota.expression(m, len(qrhs), "quota"), "<=", np.array(qrhs),
                          name="quota")

    # caps: numerator - share x total <= 0 (max) and >= 0 (min)
    terms, chi, clo = cap_terms(plan, case, g)
    for name, shares, sign in (("caps_max", chi, "<="), ("caps_min", clo, ">=")):
        if not shares:
            continue
        tr = Triplets()
        for i, (key, share) in enumerate(shares.items()):
            num, total = terms[key]
            tr.add(i, [xl[pos[k]] for k in num])
            tr.add(i, [xl[pos[k]] for k in total], -share)
        m.add_constraints(tr.expression(m, len(shares), name), sign, np.zeros(len(shares)),
                          name=name)

    # objective
    obj = Triplets()
    obj.vars = list(xl)
    obj.coefs = [g.price[k] for k in flows]
    for i, (mat, t) in enumerate(mt):
        hc = plan.materials[mat].holding_cost
        if hc:
            obj.vars.append(sl[i])
            obj.coefs.append(hc * y[t])
        obj.vars.append(ul[i])
        obj.coefs.append(shortage_penalty(plan, mat))
    for i in range(len(vkeys)):
        obj.vars.append(vl[i])
        obj.coefs.append(plan.settings.stockpile_penalty)
    obj.rows = [0] * len(obj.vars)
    m.add_objective(obj.expression(m, 1, "obj").sum())
    return m
