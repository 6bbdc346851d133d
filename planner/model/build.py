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

from collections.abc import Iterator
from typing import Any

import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.core.expr.numeric_expr import (
    LinearExpression,
    MonomialTermExpression,
    ProductExpression,
    SumExpression,
)

from planner.inputs.data import PlanData
from planner.inputs.schema import APPLIES_TO
from planner.model.families import COST_PARTS, FAMILY
from planner.scenario.cases import Case, Index
from planner.scenario.groups import (
    CapKey,
    Groups,
    Key,
    _years,
    cap_terms,
    group,
    quota_terms,
    use_materials,
)

__all__ = ["CapKey", "Groups", "Key", "build_model", "add_families", "cap_terms", "group",
           "quota_terms", "use_materials", "cost_items", "TIE_BREAKS"]

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
    :data:`planner.model.families.FAMILIES`); also used for the sub-blocks of the
    two-stage stockpile-sizing model (planner.resilience.sizing) and of the hedge.
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
    """One named expression per cost part of :data:`planner.model.families.COST_PARTS`,
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


# --- tie-breaks among cost-optimal plans (planner.solve.solver solves them in turn) ---------

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


#: in order: what a cost-optimal plan should also minimise (planner.solve.solver)
TIE_BREAKS = (least_unmet, steady_volumes)
