"""Reference only: the planner's model as first written (idiomatic Pyomo).

This is ``planner/model.py`` as of commit ebc4f63, before the build-speed work:
rules over sparse index sets, ``quicksum`` over ``m.x[k]``, bounds by rule,
translated to HiGHS by Pyomo's own persistent interface (its ``Groups`` record,
``cap_terms`` and ``quota_terms`` are the planner's own, unchanged since).  ``benchmarks/run.py
--idiomatic`` times it on the same instance so that docs/benchmarks.md can show
what the current technique gains.  Not used by the planner.
"""

from __future__ import annotations

from typing import Any

import pyomo.environ as pyo

from planner.inputs.data import PlanData
from planner.scenario.cases import Case, Index, available
from planner.scenario.groups import Groups, cap_terms, quota_terms

Key = tuple[str, int]


def group(plan: PlanData, ix: Index, case: Case) -> Groups:
    """One pass over the available offers builds every grouping the model needs."""
    g = Groups()
    avail = available(plan, ix, case)
    for oid, o in plan.offers.items():
        stage_country = ix.stage_country[oid]
        chain = ix.route_facilities[oid]
        factor = case.cost_factor.get(oid)
        tariff = ix.tariff[oid]
        for t, ok in enumerate(avail[oid]):
            if not ok:
                continue
            key = (oid, t)
            g.flows.append(key)
            g.price[key] = o.unit_cost * (factor[t] if factor else 1.0) * (1.0 + tariff[t])
            g.by_material[(o.material, t)].append(key)
            for f in chain:
                g.by_facility[(f, t)].append(key)
            for stage, country in stage_country.items():
                g.by_stage_country[(o.material, stage, t)][country].append(key)
    for row in plan.stockpile:
        for t in range(row.window[0], row.window[1] + 1):
            need = row.min_days * case.demand.get((row.material, t), 0.0) / plan.periods[t].days
            lo = max(row.min_tonnes, need)
            if lo > 0:
                g.min_stock[(row.material, t)] = lo
            if row.max_tonnes is not None:
                g.max_stock[(row.material, t)] = row.max_tonnes
    return g


def build_model(plan: PlanData, ix: Index, case: Case) -> tuple[pyo.ConcreteModel, Groups]:
    """The model of one case: variables, objective and every constraint family."""
    g = group(plan, ix, case)
    m = pyo.ConcreteModel(name=case.name)
    add_variables(m, plan, case, g)
    add_objective(m, plan, g)
    add_balance(m, plan, case, g)
    add_stockpile(m, plan, g)
    add_capacity(m, plan, case, g)
    add_quotas(m, plan, ix, case, g)
    add_caps(m, plan, case, g)
    return m, g


def _years(plan: PlanData) -> list[float]:
    return [p.years for p in plan.periods]


def add_variables(m: pyo.ConcreteModel, plan: PlanData, case: Case, g: Groups) -> None:
    """x(o,t) within the offer's volumes; s, u <= demand, and v where a minimum applies."""
    y = _years(plan)
    offers = plan.offers

    def x_bounds(_: pyo.ConcreteModel, oid: str, t: int) -> tuple[float, float | None]:
        o = offers[oid]
        hi = None if o.max_volume is None else o.max_volume * y[t]
        return (o.min_volume * y[t], hi)

    mt = [(mat, t) for mat in plan.materials for t in range(len(plan.periods))]
    m.x = pyo.Var(g.flows, bounds=x_bounds, within=pyo.NonNegativeReals)
    m.s = pyo.Var(mt, within=pyo.NonNegativeReals)
    m.u = pyo.Var(mt, within=pyo.NonNegativeReals,
                  bounds=lambda _, mat, t: (0.0, case.demand.get((mat, t), 0.0)))
    m.v = pyo.Var(list(g.min_stock), within=pyo.NonNegativeReals)


def add_objective(m: pyo.ConcreteModel, plan: PlanData, g: Groups) -> None:
    """Purchases with tariffs and cost factors, holding, shortage and stockpile penalties."""
    y = _years(plan)
    st = plan.settings
    m.procurement = pyo.Expression(expr=pyo.quicksum(
        g.price[k] * m.x[k] for k in g.flows))
    m.holding = pyo.Expression(expr=pyo.quicksum(
        (plan.materials[mat].holding_cost * y[t] * m.s[mat, t] for mat, t in m.s
         if plan.materials[mat].holding_cost)))
    m.shortage = pyo.Expression(expr=pyo.quicksum(
        (shortage_penalty(plan, mat) * m.u[mat, t] for mat, t in m.u)))
    m.shortfall = pyo.Expression(expr=pyo.quicksum(
        st.stockpile_penalty * m.v[k] for k in m.v))
    m.total_cost = pyo.Objective(expr=m.procurement + m.holding + m.shortage + m.shortfall,
                                 sense=pyo.minimize)


def shortage_penalty(plan: PlanData, material: str) -> float:
    """The material's own penalty, else the Settings value."""
    own = plan.materials[material].shortage_penalty
    return plan.settings.shortage_penalty if own is None else own


def add_balance(m: pyo.ConcreteModel, plan: PlanData, case: Case, g: Groups) -> None:
    """s(t-1) + purchases + u = demand + s(t), with s(0) = initial stock."""
    m.balance = pyo.Block()

    def rule(_: pyo.Block, mat: str, t: int) -> object:
        prev = m.s[mat, t - 1] if t > 0 else plan.materials[mat].initial_stock
        bought = pyo.quicksum(m.x[k] for k in g.by_material.get((mat, t), ()))
        return prev + bought + m.u[mat, t] - m.s[mat, t] == case.demand.get((mat, t), 0.0)

    m.balance.con = pyo.Constraint(list(m.s.index_set()), rule=rule)


def add_stockpile(m: pyo.ConcreteModel, plan: PlanData, g: Groups) -> None:
    """s + v >= minimum stock (soft through v); s <= max_tonnes (hard)."""
    m.stockpile = pyo.Block()
    m.stockpile.min = pyo.Constraint(
        list(g.min_stock), rule=lambda _, mat, t: m.s[mat, t] + m.v[mat, t]
        >= g.min_stock[(mat, t)])
    m.stockpile.max = pyo.Constraint(
        list(g.max_stock), rule=lambda _, mat, t: m.s[mat, t] <= g.max_stock[(mat, t)])


def add_capacity(m: pyo.ConcreteModel, plan: PlanData, case: Case, g: Groups) -> None:
    """Flows through a facility share its capacity x factor x y(t)."""
    y = _years(plan)
    keys = [(f, t) for (f, t) in g.by_facility if case.capacity[f][t] is not None]
    m.capacity = pyo.Block()

    def rule(_: pyo.Block, f: str, t: int) -> object:
        cap = case.capacity[f][t]
        assert cap is not None
        return pyo.quicksum(m.x[k] for k in g.by_facility[(f, t)]) \
            <= cap * y[t]

    m.capacity.con = pyo.Constraint(sorted(keys, key=lambda k: (k[1], k[0])), rule=rule)


def add_quotas(m: pyo.ConcreteModel, plan: PlanData, ix: Index, case: Case,
               g: Groups) -> None:
    """Matching flows of a quota rule in force are at most limit x y(t)."""
    y = _years(plan)
    terms = quota_terms(plan, ix, case, g)
    m.quota = pyo.Block()

    def con(_: pyo.Block, rid: str, t: int) -> object:
        limit = plan.rules[rid].limit
        assert limit is not None
        return pyo.quicksum(m.x[k] for k in terms[(rid, t)]) <= limit * y[t]

    m.quota.con = pyo.Constraint(list(terms), rule=con)


def add_caps(m: pyo.ConcreteModel, plan: PlanData, case: Case, g: Groups) -> None:
    """Share caps and floors, written linearly: numerator <= max_share x total."""
    terms, hi, lo = cap_terms(plan, case, g)
    m.caps = pyo.Block()

    def _sum(keys: list[Key]) -> Any:
        return pyo.quicksum(m.x[k] for k in keys)

    m.caps.max = pyo.Constraint(
        list(hi), rule=lambda _, *k: _sum(terms[k][0]) - hi[k] * _sum(terms[k][1]) <= 0)
    m.caps.min = pyo.Constraint(
        list(lo), rule=lambda _, *k: _sum(terms[k][0]) - lo[k] * _sum(terms[k][1]) >= 0)
