"""The Pyomo model of contract section 3, one function per constraint family.

:func:`build_model` reads as the model's table of contents: variables, the
objective, then each constraint family, each adding one named block.  Every
index set is sparse (only available offer-periods get a flow variable) and
every constraint sums over a grouping computed once in :class:`Groups`, never
by scanning all offers per constraint.

Build speed (see docs/benchmarks.md): variables get their bounds from a dict
instead of a rule, and every body is written directly as one
``LinearExpression`` of variables and (coefficient, variable) terms, looked up
in a plain dict of the flow variables, instead of being accumulated by
``quicksum`` through ``m.x[k]`` indexing; the expressions are the same.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.core.base.var import VarData
from pyomo.core.expr.numeric_expr import (
    LinearExpression,
    MonomialTermExpression,
    ProductExpression,
    SumExpression,
)

from planner.cases import Case, Index, available, in_window
from planner.data import PlanData

Key = tuple[str, int]


@dataclass
class Groups:
    """Everything the constraint families sum over, computed in one pass."""

    #: available (offer, period) pairs, the flow variables
    flows: list[Key] = field(default_factory=list)
    #: (offer, period) -> unit cost with cost factor and tariffs
    price: dict[Key, float] = field(default_factory=dict)
    #: (material, period) -> available flows of the material
    by_material: dict[Key, list[Key]] = field(default_factory=lambda: defaultdict(list))
    #: (facility, period) -> available flows through the facility
    by_facility: dict[Key, list[Key]] = field(default_factory=lambda: defaultdict(list))
    #: (material, stage, period) -> country -> flows whose facility at stage lies there
    by_stage_country: dict[tuple[str, str, int], dict[str, list[Key]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    #: (material, period) -> minimum stock; (material, period) -> maximum stock
    min_stock: dict[Key, float] = field(default_factory=dict)
    max_stock: dict[Key, float] = field(default_factory=dict)


def group(plan: PlanData, ix: Index, case: Case) -> Groups:
    """One pass over the available offers builds every grouping the model needs."""
    g = Groups()
    avail = available(plan, ix, case)
    # Loop invariants hoisted, one list of keys per offer: this pass is a large
    # part of the build at a million flows (docs/benchmarks.md).
    flows, price = g.flows, g.price
    by_material, by_facility, by_sc = g.by_material, g.by_facility, g.by_stage_country
    for oid, o in plan.offers.items():
        ts = [t for t, ok in enumerate(avail[oid]) if ok]
        if not ts:
            continue
        keys = [(oid, t) for t in ts]
        flows.extend(keys)
        factor = case.cost_factor.get(oid)
        tariff = ix.tariff[oid]
        cost = o.unit_cost
        if factor:
            price.update(zip(keys, [cost * factor[t] * (1.0 + tariff[t]) for t in ts],
                             strict=True))
        else:
            price.update(zip(keys, [cost * 1.0 * (1.0 + tariff[t]) for t in ts], strict=True))
        mat = o.material
        for t, key in zip(ts, keys, strict=True):
            by_material[(mat, t)].append(key)
        for f in ix.route_facilities[oid]:
            for t, key in zip(ts, keys, strict=True):
                by_facility[(f, t)].append(key)
        sc = list(ix.stage_country[oid].items())
        for t, key in zip(ts, keys, strict=True):
            for stage, country in sc:
                by_sc[(mat, stage, t)][country].append(key)
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
    # Millions of small objects are created and none is garbage: pausing the
    # cyclic collector (as Pyomo's own writers do) saves repeated full scans.
    with PauseGC():
        g = group(plan, ix, case)
        m = pyo.ConcreteModel(name=case.name)
        add_families(m, plan, ix, case, g)
    return m, g


def add_families(b: pyo.Block, plan: PlanData, ix: Index, case: Case, g: Groups) -> None:
    """Variables, objective and every constraint family of one case, on block ``b``.

    The table of contents of the model; also used for the sub-blocks of the
    two-stage stockpile-sizing model (planner.sizing).
    """
    add_variables(b, plan, case, g)
    add_purchases(b, g)
    add_objective(b, plan, g)
    add_balance(b, plan, case, g)
    add_stockpile(b, plan, g)
    add_capacity(b, plan, case, g)
    add_quotas(b, plan, ix, case, g)
    add_caps(b, plan, case, g)


def _years(plan: PlanData) -> list[float]:
    return [p.years for p in plan.periods]


def add_variables(m: pyo.ConcreteModel, plan: PlanData, case: Case, g: Groups) -> None:
    """x(o,t) within the offer's volumes; s, u <= demand, and v where a minimum applies."""
    y = _years(plan)
    offers = plan.offers
    lows = {oid: o.min_volume for oid, o in offers.items()}
    highs = {oid: o.max_volume for oid, o in offers.items()}
    lower = [lows[oid] * y[t] for oid, t in g.flows]
    upper = [None if highs[oid] is None else highs[oid] * y[t]  # type: ignore[operator]
             for oid, t in g.flows]
    mt = [(mat, t) for mat in plan.materials for t in range(len(plan.periods))]
    # SetOf indexes x by the flow list as it is, without copying and re-checking a
    # million keys into a new Set (docs/benchmarks.md); the list is never changed.
    m.x = pyo.Var(pyo.SetOf(g.flows), within=pyo.NonNegativeReals, dense=True)
    xs = list(m.x.values())
    m._flow_vars = dict(zip(g.flows, xs, strict=True))
    set_bounds(xs, lower, upper)
    m.s = pyo.Var(mt, within=pyo.NonNegativeReals, dense=True)
    m.u = pyo.Var(mt, within=pyo.NonNegativeReals, dense=True,
                  bounds={k: (0.0, case.demand.get(k, 0.0)) for k in mt})
    m.v = pyo.Var(list(g.min_stock), within=pyo.NonNegativeReals, dense=True)


#: VarData keeps its bounds in the ``_lb``/``_ub`` slots; Pyomo's own setter stores a
#: plain number there unchanged (``VarData._process_bound``)
_BOUND_SLOTS = all(hasattr(VarData, a) for a in ("_lb", "_ub", "_process_bound"))


def set_bounds(variables: list[Any], lower: list[float], upper: list[float | None]) -> None:
    """Give each variable its (numeric) bounds, in bulk.

    Equivalent to ``v.setlb(lo); v.setub(hi)`` for plain numbers, which Pyomo
    stores as they are; writing the slots with C-level ``map`` saves about a
    second per million variables over the property setters (docs/benchmarks.md).
    Other Pyomo versions go through the public setters.
    """
    if _BOUND_SLOTS:
        deque(map(setattr, variables, repeat("_lb"), lower), maxlen=0)
        deque(map(setattr, variables, repeat("_ub"), upper), maxlen=0)
        return
    for v, lo, hi in zip(variables, lower, upper, strict=True):  # pragma: no cover
        v.setlb(lo)
        v.setub(hi)


def _flows(m: pyo.ConcreteModel, g: Groups) -> dict[Key, Any]:
    """Flow key -> its variable, as a plain dict (much faster than indexing ``m.x``)."""
    xv = getattr(m, "_flow_vars", None)
    if xv is None:
        xv = dict(zip(g.flows, m.x.values(), strict=True))
        m._flow_vars = xv
    return xv


def linear(keys: Any, xv: dict[Key, Any], coef: float = 1.0) -> list[Any]:
    """The terms coef x x(k) for each flow k, ready to go into one LinearExpression."""
    if coef == 1.0:
        return list(map(xv.__getitem__, keys))
    return [MonomialTermExpression((coef, v)) for v in map(xv.__getitem__, keys)]


def add_objective(m: pyo.ConcreteModel, plan: PlanData, g: Groups) -> None:
    """Purchases with tariffs and cost factors, holding, shortage and stockpile penalties."""
    y = _years(plan)
    st = plan.settings
    xv = _flows(m, g)
    price = g.price
    if len(price) == len(xv) and list(price) == g.flows:
        # group() fills price in flow order: pair prices with variables directly
        terms = list(map(MonomialTermExpression, zip(price.values(), xv.values(), strict=True)))
    else:
        terms = [MonomialTermExpression((price[k], xv[k])) for k in g.flows]
    m.procurement = pyo.Expression(expr=LinearExpression(terms))
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


def add_purchases(m: pyo.ConcreteModel, g: Groups) -> None:
    """purchases(m,t): tonnes of the material bought in the period, a named expression.

    Written once and referenced by the balance and by every share cap of the
    material (the total a share is taken of), instead of being spelled out
    term by term in each of those rows.
    """
    xv = _flows(m, g)
    keys = [k for k, flows in g.by_material.items() if flows]
    m.purchases = pyo.Expression(
        keys, rule=lambda _, mat, t: LinearExpression(linear(g.by_material[(mat, t)], xv)))


def add_balance(m: pyo.ConcreteModel, plan: PlanData, case: Case, g: Groups) -> None:
    """s(t-1) + purchases + u = demand + s(t), with s(0) = initial stock."""
    m.balance = pyo.Block()
    s, u, bought = m.s, m.u, m.purchases

    def rule(_: pyo.Block, mat: str, t: int) -> object:
        prev = s[mat, t - 1] if t > 0 else plan.materials[mat].initial_stock
        terms = [prev, u[mat, t], MonomialTermExpression((-1, s[mat, t]))]
        if (mat, t) in bought:
            terms.insert(1, bought[mat, t])
        return SumExpression(terms) == case.demand.get((mat, t), 0.0)

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
    xv = _flows(m, g)

    def rule(_: pyo.Block, f: str, t: int) -> object:
        cap = case.capacity[f][t]
        assert cap is not None
        return LinearExpression(linear(g.by_facility[(f, t)], xv)) <= cap * y[t]

    m.capacity.con = pyo.Constraint(sorted(keys, key=lambda k: (k[1], k[0])), rule=rule)


def quota_terms(plan: PlanData, ix: Index, case: Case, g: Groups) -> dict[Key, list[Key]]:
    """(quota rule, period) -> the available flows it matches, for rules in force."""
    flows_at: dict[int, set[Key]] = defaultdict(set)
    for k in g.flows:
        flows_at[k[1]].add(k)
    terms: dict[Key, list[Key]] = {}
    for rid, rule in plan.rules.items():
        if rule.kind != "quota":
            continue
        for t in range(len(plan.periods)):
            if case.rule_on[rid][t] and in_window(t, rule.window):
                matched = [(o, t) for o in ix.rule_offers[rid] if (o, t) in flows_at[t]]
                if matched:
                    terms[(rid, t)] = matched
    return terms


def add_quotas(m: pyo.ConcreteModel, plan: PlanData, ix: Index, case: Case,
               g: Groups) -> None:
    """Matching flows of a quota rule in force are at most limit x y(t)."""
    y = _years(plan)
    terms = quota_terms(plan, ix, case, g)
    m.quota = pyo.Block()
    xv = _flows(m, g)

    def con(_: pyo.Block, rid: str, t: int) -> object:
        limit = plan.rules[rid].limit
        assert limit is not None
        return LinearExpression(linear(terms[(rid, t)], xv)) <= limit * y[t]

    m.quota.con = pyo.Constraint(list(terms), rule=con)


CapKey = tuple[str, str, str, str, int]


def cap_terms(plan: PlanData, case: Case, g: Groups
              ) -> tuple[dict[CapKey, tuple[list[Key], list[Key]]], dict[CapKey, float],
                         dict[CapKey, float]]:
    """(cap, material, stage, target, period) -> (numerator flows, total flows), and shares.

    A blank country means each single country of the Countries sheet; a blank
    material or stage means each one separately.  Periods without flow of the
    material satisfy every cap and get no constraint.
    """
    terms: dict[CapKey, tuple[list[Key], list[Key]]] = {}
    hi: dict[CapKey, float] = {}
    lo: dict[CapKey, float] = {}
    groups = plan.groups()
    for cid, cap in plan.caps.items():
        if cap.max_share is None and not cap.min_share:
            continue
        mats = [cap.material] if cap.material else list(plan.materials)
        stages = [cap.stage] if cap.stage else plan.stages
        if cap.country is None:
            targets = [(c, {c}) for c in plan.countries]
        elif cap.country in plan.countries:
            targets = [(cap.country, {cap.country})]
        else:
            targets = [(cap.country, groups.get(cap.country, set()))]
        for t in range(len(plan.periods)):
            if not (case.cap_on[cid][t] and in_window(t, cap.window)):
                continue
            for mat in mats:
                total = g.by_material.get((mat, t))
                if not total:
                    continue
                for stage in stages:
                    by_country = g.by_stage_country.get((mat, stage, t), {})
                    for name, members in targets:
                        num = [k for c in members for k in by_country.get(c, ())]
                        key = (cid, mat, stage, name, t)
                        if cap.max_share is not None and num and cap.max_share < 1:
                            terms[key] = (num, total)
                            hi[key] = cap.max_share
                        if cap.min_share:
                            terms[key] = (num, total)
                            lo[key] = cap.min_share
    return terms, hi, lo


def add_caps(m: pyo.ConcreteModel, plan: PlanData, case: Case, g: Groups) -> None:
    """Share caps and floors, written linearly: numerator - share x purchases <= 0."""
    terms, hi, lo = cap_terms(plan, case, g)
    m.caps = pyo.Block()
    xv = _flows(m, g)
    bought = m.purchases

    def body(k: CapKey, share: float) -> SumExpression:
        """numerator - share x purchases(material, period)."""
        num = terms[k][0]
        return SumExpression([LinearExpression(linear(num, xv)),
                              ProductExpression((-share, bought[k[1], k[4]]))])

    m.caps.max = pyo.Constraint(list(hi), rule=lambda _, *k: body(k, hi[k]) <= 0)
    m.caps.min = pyo.Constraint(list(lo), rule=lambda _, *k: body(k, lo[k]) >= 0)
