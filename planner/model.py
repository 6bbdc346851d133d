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

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.core.expr.numeric_expr import (
    LinearExpression,
    MonomialTermExpression,
    ProductExpression,
    SumExpression,
)

from planner.cases import Case, Index, available, in_window
from planner.data import PlanData
from planner.families import COST_PARTS, FAMILY
from planner.schema import APPLIES_TO

Key = tuple[str, int]


@dataclass
class Groups:
    """Everything the constraint families sum over, computed in one pass."""

    #: available (offer, period) pairs, the flow variables
    flows: list[Key] = field(default_factory=list)
    #: (offer, period) -> unit cost with cost factor and tariffs
    price: dict[Key, float] = field(default_factory=dict)
    #: (offer, period) -> lower bound of x: min_volume x k(o,t) x y(t) (must-take offers)
    lower: dict[Key, float] = field(default_factory=dict)
    #: (offer, period) -> min_volume x k(o,t) x y(t) of take-or-pay offers (the w rows)
    commit: dict[Key, float] = field(default_factory=dict)
    #: (offer, period) -> take_or_pay x unit_cost x cost factor, per t not taken
    top_price: dict[Key, float] = field(default_factory=dict)
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
    #: use rules and caps only: materials whose stock remembers its origin
    use_materials: list[str] = field(default_factory=list)
    #: (offer, period) consumption c and origin-stock q keys, from the offer's first
    #: available period on
    cons: list[Key] = field(default_factory=list)
    #: (material, period) -> consumption keys of the material
    cons_by_material: dict[Key, list[Key]] = field(default_factory=lambda: defaultdict(list))
    #: (material, stage, period) -> country -> consumption keys, as by_stage_country
    cons_by_stage_country: dict[tuple[str, str, int], dict[str, list[Key]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    #: consumption keys a use ban in force forbids (c = 0)
    cons_banned: set[Key] = field(default_factory=set)


def group(plan: PlanData, ix: Index, case: Case) -> Groups:
    """One pass over the available offers builds every grouping the model needs."""
    g = Groups()
    avail = available(plan, ix, case)
    y = _years(plan)
    # Loop invariants hoisted, one list of keys per offer: this pass is a large
    # part of the build at a million flows (docs/benchmarks.md).
    flows, price = g.flows, g.price
    by_material, by_facility, by_sc = g.by_material, g.by_facility, g.by_stage_country
    first: dict[str, int] = {}
    for oid, o in plan.offers.items():
        ts = [t for t, ok in enumerate(avail[oid]) if ok]
        if not ts:
            continue
        first[oid] = ts[0]
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
        if o.min_volume > 0:
            chain = ix.route_facilities[oid]
            for t, key in zip(ts, keys, strict=True):
                need = o.min_volume * case.force_majeure(chain, t) * y[t]
                if need <= 0:
                    continue
                if o.take_or_pay is None:
                    g.lower[key] = need
                else:
                    g.commit[key] = need
                    g.top_price[key] = o.take_or_pay * cost * (factor[t] if factor else 1.0)
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
            # Days of cover are on the base case's demand, in every case: the target is
            # set in advance, and a demand shock does not move it.
            need = row.min_days * plan.demand.get((row.material, t), 0.0) / plan.periods[t].days
            lo = max(row.min_tonnes, need)
            if lo > 0:
                g.min_stock[(row.material, t)] = lo
            if row.max_tonnes is not None:
                g.max_stock[(row.material, t)] = row.max_tonnes
    if plan.uses_origin:
        _group_origin(plan, ix, case, g, first)
    return g


def use_materials(plan: PlanData) -> list[str]:
    """Materials some ``use`` rule or cap can act on (blank material: every one)."""
    scopes = [r.material for r in plan.rules.values() if r.applies_to == "use"]
    scopes += [c.material for c in plan.caps.values() if c.applies_to == "use"]
    if any(m is None for m in scopes):
        return list(plan.materials)
    return [m for m in plan.materials if m in set(scopes)]


def _group_origin(plan: PlanData, ix: Index, case: Case, g: Groups,
                  first: dict[str, int]) -> None:
    """Consumption keys c(o,t) of the materials in use scope, and the use bans on them.

    Stock bought from an offer stays in q(o,t) after the offer's window ends, so
    its keys run from its first available period to the end of the horizon.
    """
    n = len(plan.periods)
    g.use_materials = use_materials(plan)
    scope = set(g.use_materials)
    for oid in plan.offers:
        o = plan.offers[oid]
        if o.material not in scope or oid not in first:
            continue
        sc = list(ix.stage_country[oid].items())
        for t in range(first[oid], n):
            key = (oid, t)
            g.cons.append(key)
            g.cons_by_material[(o.material, t)].append(key)
            for stage, country in sc:
                g.cons_by_stage_country[(o.material, stage, t)][country].append(key)
    keys = set(g.cons)
    for rid, rule in plan.rules.items():
        if rule.kind != "ban" or rule.applies_to != "use":
            continue
        for t in range(n):
            if case.rule_on[rid][t] and in_window(t, rule.window):
                g.cons_banned.update(k for o in ix.rule_offers[rid] if (k := (o, t)) in keys)


def build_model(plan: PlanData, ix: Index, case: Case) -> tuple[pyo.ConcreteModel, Groups]:
    """The model of one case: variables, objective and every constraint family."""
    # Millions of small objects are created and none is garbage: pausing the
    # cyclic collector (as Pyomo's own writers do) saves repeated full scans.
    with PauseGC():
        g = group(plan, ix, case)
        m = pyo.ConcreteModel(name=case.name)
        add_families(m, plan, ix, case, g)
    m.tie_breaks = TIE_BREAKS
    return m, g


def add_families(b: pyo.Block, plan: PlanData, ix: Index, case: Case, g: Groups) -> None:
    """Variables, objective and every constraint family of one case, on block ``b``.

    The table of contents of the model (each family is an entry of
    :data:`planner.families.FAMILIES`); also used for the sub-blocks of the
    two-stage stockpile-sizing model (planner.sizing) and of the hedge.
    """
    add_variables(b, plan, case, g)
    add_purchases(b, g)
    add_objective(b, plan, g)
    add_balance(b, plan, case, g)
    add_origin(b, plan, g)
    add_stockpile(b, plan, g)
    add_commitments(b, g)
    add_capacity(b, plan, case, g)
    add_quotas(b, plan, ix, case, g)
    add_caps(b, plan, case, g)


def _years(plan: PlanData) -> list[float]:
    return [p.years for p in plan.periods]


def add_variables(m: pyo.ConcreteModel, plan: PlanData, case: Case, g: Groups) -> None:
    """x(o,t) within the offer's volumes; w(o,t) for take-or-pay commitments; s, u <=
    demand, and v where a minimum applies; c, q, c0, q0 where stock remembers origin."""
    y = _years(plan)
    offers = plan.offers
    highs = {oid: o.max_volume for oid, o in offers.items()}
    lower = g.lower
    mt = [(mat, t) for mat in plan.materials for t in range(len(plan.periods))]
    # SetOf indexes x by the flow list as it is, without copying and re-checking a
    # million keys into a new Set (docs/benchmarks.md); the list is never changed.
    bounds = {k: (lower.get(k, 0.0), None if highs[k[0]] is None
                  else highs[k[0]] * y[k[1]])  # type: ignore[operator]
              for k in g.flows}
    m.x = pyo.Var(pyo.SetOf(g.flows), within=pyo.NonNegativeReals, dense=True, bounds=bounds)
    m._flow_vars = dict(zip(g.flows, m.x.values(), strict=True))
    m.w = pyo.Var(list(g.commit), within=pyo.NonNegativeReals, dense=True,
                  bounds={k: (0.0, q) for k, q in g.commit.items()})
    m.s = pyo.Var(mt, within=pyo.NonNegativeReals, dense=True)
    m.u = pyo.Var(mt, within=pyo.NonNegativeReals, dense=True,
                  bounds={k: (0.0, case.demand.get(k, 0.0)) for k in mt})
    m.v = pyo.Var(list(g.min_stock), within=pyo.NonNegativeReals, dense=True)
    if g.use_materials:
        umt = [(mat, t) for mat in g.use_materials for t in range(len(plan.periods))]
        m.c = pyo.Var(pyo.SetOf(g.cons), within=pyo.NonNegativeReals, dense=True,
                      bounds={k: (0.0, 0.0 if k in g.cons_banned else None) for k in g.cons})
        m.q = pyo.Var(pyo.SetOf(g.cons), within=pyo.NonNegativeReals, dense=True)
        m.c0 = pyo.Var(umt, within=pyo.NonNegativeReals, dense=True)
        m.q0 = pyo.Var(umt, within=pyo.NonNegativeReals, dense=True)


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


CostItem = tuple[str, str, int, float, Any]


def cost_items(m: pyo.Block, plan: PlanData, g: Groups) -> Iterator[CostItem]:
    """Every term of the objective as (part, material, period, coefficient, variable):
    the one statement of what each cost part charges (:data:`COST_PARTS`; a credit's
    coefficient is positive, its part's sign subtracts it).

    The objective, the per-material costs of the stress test and the recourse cost
    of the stockpile sizing all read these items.
    """
    y = _years(plan)
    offers, materials = plan.offers, plan.materials
    xv = _flows(m, g)
    for k, var in xv.items():
        yield "procurement", offers[k[0]].material, k[1], g.price[k], var
    for k, var in m.w.items():
        if g.top_price[k]:
            yield "take_or_pay", offers[k[0]].material, k[1], g.top_price[k], var
    last = len(plan.periods) - 1
    for (mat, t), var in m.s.items():
        hc = materials[mat].holding_cost
        if hc:
            yield "holding", mat, t, hc * y[t], var
        if t == last and materials[mat].end_value:
            yield "end_credit", mat, t, materials[mat].end_value, var
    for (mat, t), var in m.u.items():
        yield "shortage", mat, t, plan.shortage_penalty(mat), var
    for (mat, t), var in m.v.items():
        yield "shortfall", mat, t, plan.stockpile_penalty(mat) * y[t], var


SIGN = {p.component: p.sign for p in COST_PARTS}


def add_objective(m: pyo.ConcreteModel, plan: PlanData, g: Groups) -> None:
    """One named expression per cost part of :data:`planner.families.COST_PARTS`,
    built from :func:`cost_items`; total_cost is their signed sum."""
    terms: dict[str, list[Any]] = {p.component: [] for p in COST_PARTS}
    for name, _, _, coef, var in cost_items(m, plan, g):
        terms[name].append(MonomialTermExpression((coef, var)))
    for part in COST_PARTS:
        m.add_component(part.component, pyo.Expression(expr=LinearExpression(
            terms[part.component])))
    m.total_cost = pyo.Objective(
        expr=pyo.quicksum(part.sign * m.component(part.component) for part in COST_PARTS),
        sense=pyo.minimize)


def shortage_penalty(plan: PlanData, material: str) -> float:
    """The material's own penalty, else the Settings value."""
    return plan.shortage_penalty(material)


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
    """s(t-1) + purchases + u = demand + s(t), with s(0) = initial stock; for a
    material whose stock remembers its origin: sum of c + c0 + u = demand."""
    m.balance = pyo.Block()
    s, u, bought = m.s, m.u, m.purchases
    origin = set(g.use_materials)
    c: Any = getattr(m, "c", None)
    c0: Any = getattr(m, "c0", None)

    def rule(_: pyo.Block, mat: str, t: int) -> object:
        demand = case.demand.get((mat, t), 0.0)
        if mat in origin:
            used = [c[k] for k in g.cons_by_material.get((mat, t), ())]
            return SumExpression([*used, c0[mat, t], u[mat, t]]) == demand
        prev = s[mat, t - 1] if t > 0 else plan.materials[mat].initial_stock
        terms = [prev, u[mat, t], MonomialTermExpression((-1, s[mat, t]))]
        if (mat, t) in bought:
            terms.insert(1, bought[mat, t])
        return SumExpression(terms) == demand

    m.balance.con = pyo.Constraint(list(m.s.index_set()), rule=rule)


def add_origin(m: pyo.ConcreteModel, plan: PlanData, g: Groups) -> None:
    """Stock that remembers the offer it was bought from (only with use rules or caps):
    q(o,t) = q(o,t-1) + x(o,t) - c(o,t); q0(m,t) = q0(m,t-1) - c0(m,t) from the
    initial stock; s(m,t) = sum of q(o,t) + q0(m,t)."""
    m.origin = pyo.Block()
    if not g.use_materials:
        return
    xv = _flows(m, g)
    c, q, c0, q0, s = m.c, m.q, m.c0, m.q0, m.s
    cons = set(g.cons)

    def flow(_: pyo.Block, oid: str, t: int) -> object:
        terms: list[Any] = [q[oid, t], c[oid, t]]
        if (oid, t - 1) in cons:
            terms.append(MonomialTermExpression((-1, q[oid, t - 1])))
        if (oid, t) in xv:
            terms.append(MonomialTermExpression((-1, xv[(oid, t)])))
        return SumExpression(terms) == 0

    def initial(_: pyo.Block, mat: str, t: int) -> object:
        if t == 0:
            return q0[mat, 0] + c0[mat, 0] == plan.materials[mat].initial_stock
        return q0[mat, t] - q0[mat, t - 1] + c0[mat, t] == 0

    def total(_: pyo.Block, mat: str, t: int) -> object:
        held = [MonomialTermExpression((-1, q[k])) for k in g.cons_by_material.get((mat, t), ())]
        return SumExpression([s[mat, t], *held, MonomialTermExpression((-1, q0[mat, t]))]) == 0

    m.origin.flow = pyo.Constraint(pyo.SetOf(g.cons), rule=flow)
    keys = list(m.c0.index_set())
    m.origin.initial = pyo.Constraint(keys, rule=initial)
    m.origin.total = pyo.Constraint(keys, rule=total)


def add_stockpile(m: pyo.ConcreteModel, plan: PlanData, g: Groups) -> None:
    """s + v >= minimum stock (soft through v); s <= max_tonnes (hard)."""
    m.stockpile = pyo.Block()
    m.stockpile.min = pyo.Constraint(
        list(g.min_stock), rule=lambda _, mat, t: m.s[mat, t] + m.v[mat, t]
        >= g.min_stock[(mat, t)])
    m.stockpile.max = pyo.Constraint(
        list(g.max_stock), rule=lambda _, mat, t: m.s[mat, t] <= g.max_stock[(mat, t)])


def add_commitments(m: pyo.ConcreteModel, g: Groups) -> None:
    """Take-or-pay: x(o,t) + w(o,t) >= min_volume x k(o,t) x y(t); the w not taken is
    paid at take_or_pay x unit_cost (the objective's take_or_pay part)."""
    m.commitment = pyo.Block()
    xv = _flows(m, g)
    m.commitment.con = pyo.Constraint(
        list(g.commit), rule=lambda _, o, t: xv[(o, t)] + m.w[o, t] >= g.commit[(o, t)])


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


def quota_terms(plan: PlanData, ix: Index, case: Case, g: Groups,
                applies_to: str = "purchase") -> dict[Key, list[Key]]:
    """(quota rule, period) -> the flow keys it matches, for rules in force that act on
    ``applies_to``: purchases x(o,t), or consumption c(o,t) for ``use``."""
    keys = g.flows if applies_to == "purchase" else g.cons
    at: dict[int, set[Key]] = defaultdict(set)
    for k in keys:
        at[k[1]].add(k)
    terms: dict[Key, list[Key]] = {}
    for rid, rule in plan.rules.items():
        if rule.kind != "quota" or rule.applies_to != applies_to:
            continue
        for t in range(len(plan.periods)):
            if case.rule_on[rid][t] and in_window(t, rule.window):
                matched = [(o, t) for o in ix.rule_offers[rid] if (o, t) in at[t]]
                if matched:
                    terms[(rid, t)] = matched
    return terms


def add_quotas(m: pyo.ConcreteModel, plan: PlanData, ix: Index, case: Case,
               g: Groups) -> None:
    """Matching flows (or, for use rules, consumption) of a quota in force are at most
    limit x y(t)."""
    y = _years(plan)
    m.quota = pyo.Block()
    for applies_to in APPLIES_TO:
        terms = quota_terms(plan, ix, case, g, applies_to)
        fam = FAMILY["quota_use" if applies_to == "use" else "quota"]
        vars_ = _flows(m, g) if applies_to == "purchase" else _cons(m, g)

        def con(_: pyo.Block, rid: str, t: int, terms: Any = terms, vars_: Any = vars_) -> object:
            limit = plan.rules[rid].limit
            assert limit is not None
            return LinearExpression(linear(terms[(rid, t)], vars_)) <= limit * y[t]

        m.quota.add_component(fam.component[1], pyo.Constraint(list(terms), rule=con))


def _cons(m: pyo.ConcreteModel, g: Groups) -> dict[Key, Any]:
    """Consumption key -> its variable c(o,t) (empty without use rules or caps)."""
    cv = getattr(m, "_cons_vars", None)
    if cv is None:
        cv = dict(zip(g.cons, m.c.values(), strict=True)) if g.use_materials else {}
        m._cons_vars = cv
    return cv


CapKey = tuple[str, str, str, str, int]


def cap_terms(plan: PlanData, case: Case, g: Groups, applies_to: str = "purchase"
              ) -> tuple[dict[CapKey, tuple[list[Key], list[Key]]], dict[CapKey, float],
                         dict[CapKey, float]]:
    """(cap, material, stage, target, period) -> (numerator keys, total keys), and shares.

    For caps on purchases the keys are flows x(o,t); for ``use`` caps consumption
    c(o,t) (the total then also holds c0, added by the model).  A blank country
    means each single country of the Countries sheet; a blank material or stage
    means each one separately.  Periods without flow of the material satisfy
    every cap and get no constraint.
    """
    terms: dict[CapKey, tuple[list[Key], list[Key]]] = {}
    hi: dict[CapKey, float] = {}
    lo: dict[CapKey, float] = {}
    groups = plan.groups()
    use = applies_to == "use"
    by_material = g.cons_by_material if use else g.by_material
    by_stage_country = g.cons_by_stage_country if use else g.by_stage_country
    for cid, cap in plan.caps.items():
        if cap.applies_to != applies_to or (cap.max_share is None and not cap.min_share):
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
                total = by_material.get((mat, t))
                if not total and not (use and mat in g.use_materials):
                    continue
                total = total or []
                for stage in stages:
                    by_country = by_stage_country.get((mat, stage, t), {})
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
    """Share caps and floors, written linearly: numerator - share x total <= 0 (>= 0).

    On purchases the total is purchases(m,t); on use (``applies_to = use``) it is
    the consumption of the material, initial stock c0 included (which counts in
    no target).
    """
    m.caps = pyo.Block()
    for applies_to in APPLIES_TO:
        terms, hi, lo = cap_terms(plan, case, g, applies_to)
        use = applies_to == "use"
        for side, shares in (("max", hi), ("min", lo)):
            body = {k: _share_body(m, g, k, terms[k], share, use) for k, share in shares.items()}
            fam = FAMILY[f"cap_{side}" + ("_use" if use else "")]
            if side == "max":
                con = pyo.Constraint(list(body), rule=lambda _, *k, b=body: b[k] <= 0)
            else:
                con = pyo.Constraint(list(body), rule=lambda _, *k, b=body: b[k] >= 0)
            m.caps.add_component(fam.component[1], con)


def _share_body(m: pyo.ConcreteModel, g: Groups, k: CapKey,
                keys: tuple[list[Key], list[Key]], share: float, use: bool) -> SumExpression:
    """numerator - share x total of one cap row."""
    if use:
        cv = _cons(m, g)
        total = [MonomialTermExpression((-share, cv[j])) for j in keys[1]]
        total.append(MonomialTermExpression((-share, m.c0[k[1], k[4]])))
        return SumExpression([LinearExpression(linear(keys[0], cv)), *total])
    num = LinearExpression(linear(keys[0], _flows(m, g)))
    return SumExpression([num, ProductExpression((-share, m.purchases[k[1], k[4]]))])


# --- tie-breaks among cost-optimal plans (planner.solve solves them in turn) ---------

def least_unmet(m: pyo.ConcreteModel) -> Any:
    """Least unmet demand: with the default penalties a tonne short of demand and a
    tonne short of the stockpile minimum can cost the same, and a stockpile exists to
    be drawn down.  None when nothing is unmet."""
    unmet = sum(pyo.value(u, exception=False) or 0.0 for u in m.u.values())
    return pyo.quicksum(m.u.values()) if unmet > 1e-7 else None


#: the steady-volumes tie-break runs on models with at most this many flows (it adds
#: a variable and two rows per consecutive pair of flows, and a solve)
STEADY_MAX_FLOWS = 50_000


def steady_volumes(m: pyo.ConcreteModel) -> Any:
    """Least period-to-period change of each offer's volume: buyers want stable
    allocations, and offers at equal prices otherwise swing from year to year at the
    LP's whim.  Adds d(o,t) >= |x(o,t) - x(o,t-1)| in a block the solver removes after.
    None when the plan is already steady or the model is large."""
    xv = m._flow_vars
    if len(xv) > STEADY_MAX_FLOWS:
        return None
    pairs = [(xv[(o, t - 1)], v) for (o, t), v in xv.items() if (o, t - 1) in xv]
    moved = sum(abs((a.value or 0.0) - (b.value or 0.0)) for a, b in pairs)
    if not pairs or moved <= 1e-7:
        return None
    m.steady = pyo.Block()
    m.steady.d = pyo.Var(range(len(pairs)), within=pyo.NonNegativeReals)
    d = m.steady.d
    m.steady.up = pyo.Constraint(range(len(pairs)),
                                 rule=lambda _, i: d[i] >= pairs[i][1] - pairs[i][0])
    m.steady.down = pyo.Constraint(range(len(pairs)),
                                   rule=lambda _, i: d[i] >= pairs[i][0] - pairs[i][1])
    return pyo.quicksum(d.values())


#: in order: what a cost-optimal plan should also minimise (planner.solve)
TIE_BREAKS = (least_unmet, steady_volumes)
