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

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
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
           "quota_terms", "use_materials", "cost_items", "cost_terms", "release_flows",
           "TIE_BREAKS"]

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


def add_families(b: pyo.Block, plan: PlanData, ix: Index, case: Case, g: Groups) -> CaseSpec:
    """Variables, objective and every constraint family of one case, on block ``b``.

    The table of contents of the model (each family is an entry of
    :data:`planner.model.families.FAMILIES`); also used for the sub-blocks of the
    two-stage stockpile-sizing model (planner.resilience.sizing) and of the hedge.
    Returns the case's :class:`CaseSpec`.
    """
    spec = case_spec(plan, ix, case, g)
    add_variables(b, plan, spec, g)
    add_purchases(b, g)
    add_objective(b, plan, g)
    add_balance(b, plan, spec, g)
    add_origin(b, plan, spec, g)
    add_stockpile(b, spec)
    add_commitments(b, spec, g)
    add_capacity(b, spec, g)
    add_quotas(b, spec, g)
    add_caps(b, spec, g)
    return spec


Bounds = tuple[float | None, float | None]
CapTerms = tuple[dict[CapKey, tuple[list[Key], list[Key]]], dict[CapKey, float],
                 dict[CapKey, float]]


@dataclass
class CaseSpec:
    """The numbers of one case's model: each variable's keys and bounds, each
    constraint family's row keys and bounds (declared, as written in the model), and
    the flows each quota and cap row sums.

    The builder writes its variables and rows from this, and nothing else decides
    a key or a right-hand side; the one-model-many-cases engine
    (:mod:`planner.run.batch`) reads the same spec of every case to set bounds, so the
    two cannot disagree.
    """

    #: variable component (``x``, ``w``, ``s``, ...) -> key -> (lower, upper)
    columns: dict[str, dict[Any, Bounds]]
    #: family key of :data:`planner.model.families.FAMILIES` -> row key -> (lower, upper)
    rows: dict[str, dict[Any, Bounds]]
    #: ``purchase``/``use`` -> (rule, t) -> keys a quota row sums
    quotas: dict[str, dict[Key, list[Key]]]
    #: ``purchase``/``use`` -> (cap row key -> (numerator keys, total keys), max shares,
    #: min shares), as :func:`planner.scenario.groups.cap_terms` gives them
    caps: dict[str, CapTerms]


def case_spec(plan: PlanData, ix: Index, case: Case, g: Groups) -> CaseSpec:
    """Keys and bounds of every variable and every row of ``case``'s model (:class:`CaseSpec`)."""
    y = _years(plan)
    n = len(plan.periods)
    offers = plan.offers
    mt = [(mat, t) for mat in plan.materials for t in range(n)]
    zero_up: Bounds = (0.0, None)
    lower = g.lower
    cols: dict[str, dict[Any, Bounds]] = {
        "x": {k: (lower.get(k, 0.0), None if (hi := offers[k[0]].max_volume) is None
                  else hi * y[k[1]]) for k in g.flows},
        "w": {k: (0.0, q) for k, q in g.commit.items()},
        "s": dict.fromkeys(mt, zero_up),
        "u": {k: (0.0, case.demand.get(k, 0.0)) for k in mt},
        "v": dict.fromkeys(g.min_stock, zero_up),
    }
    rows: dict[str, dict[Any, Bounds]] = {
        "balance": {k: (d, d) for k in mt for d in (case.demand.get(k, 0.0),)},
        "stockpile_min": {k: (lo, None) for k, lo in g.min_stock.items()},
        "stockpile_max": {k: (None, hi) for k, hi in g.max_stock.items()},
        "commitment": {k: (q, None) for k, q in g.commit.items()},
        "capacity": {(f, t): (None, cap * y[t]) for (f, t) in
                     sorted(g.by_facility, key=lambda k: (k[1], k[0]))
                     if (cap := case.capacity[f][t]) is not None},
    }
    if g.use_materials:
        umt = [(mat, t) for mat in g.use_materials for t in range(n)]
        cols["c"] = {k: (0.0, 0.0 if k in g.cons_banned else None) for k in g.cons}
        cols["q"] = dict.fromkeys(g.cons, zero_up)
        cols["c0"] = dict.fromkeys(umt, zero_up)
        cols["q0"] = dict.fromkeys(umt, zero_up)
        rows["origin_flow"] = dict.fromkeys(g.cons, (0.0, 0.0))
        rows["origin_initial"] = {
            (mat, t): (v, v) for mat, t in umt
            for v in (plan.materials[mat].initial_stock if t == 0 else 0.0,)}
        rows["origin_total"] = dict.fromkeys(umt, (0.0, 0.0))
    quotas: dict[str, dict[Key, list[Key]]] = {}
    caps: dict[str, CapTerms] = {}
    for applies_to in APPLIES_TO:
        use = applies_to == "use"
        terms = quota_terms(plan, ix, case, g, applies_to)
        quotas[applies_to] = terms
        rows["quota_use" if use else "quota"] = {
            (rid, t): (None, limit * y[t]) for (rid, t) in terms
            for limit in (plan.rules[rid].limit,) if limit is not None}
        caps[applies_to] = cap_terms(plan, case, g, applies_to)
        _, highs, lows = caps[applies_to]
        tail = "_use" if use else ""
        rows["cap_max" + tail] = {k: (None, 0.0) for k in highs}
        rows["cap_min" + tail] = {k: (0.0, None) for k in lows}
    return CaseSpec(cols, rows, quotas, caps)


def add_variables(m: pyo.ConcreteModel, plan: PlanData, spec: CaseSpec, g: Groups) -> None:
    """x(o,t) within the offer's volumes; w(o,t) for take-or-pay commitments; s, u <=
    demand, and v where a minimum applies; c, q, c0, q0 where stock remembers origin.
    Keys and bounds are the spec's (:func:`case_spec`)."""
    cols = spec.columns
    # SetOf indexes x by the flow list as it is, without copying and re-checking a
    # million keys into a new Set (docs/benchmarks.md); the list is never changed.
    m.x = pyo.Var(pyo.SetOf(g.flows), within=pyo.NonNegativeReals, dense=True,
                  bounds=cols["x"])
    m._flow_vars = dict(zip(g.flows, m.x.values(), strict=True))
    for name in ("w", "s", "u", "v"):
        m.add_component(name, pyo.Var(list(cols[name]), within=pyo.NonNegativeReals,
                                      dense=True, bounds=cols[name]))
    if g.use_materials:
        m.c = pyo.Var(pyo.SetOf(g.cons), within=pyo.NonNegativeReals, dense=True,
                      bounds=cols["c"])
        m.q = pyo.Var(pyo.SetOf(g.cons), within=pyo.NonNegativeReals, dense=True)
        m.c0 = pyo.Var(list(cols["c0"]), within=pyo.NonNegativeReals, dense=True)
        m.q0 = pyo.Var(list(cols["q0"]), within=pyo.NonNegativeReals, dense=True)


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
    """Every term of the objective of model ``m`` as (part, material, period,
    coefficient, variable): :func:`cost_terms` over the model's variables.

    The objective, the per-material costs of the stress test and the recourse cost
    of the stockpile sizing read these items.  ``g`` may be another case's groups
    than the model's (the engine's superset model): a flow or commitment that case
    does not have costs 0, and every variable yields the same items whatever ``g``
    is, in the same order.
    """
    return cost_terms({"x": _flows(m, g).items(), "w": m.w.items(), "s": m.s.items(),
                       "u": m.u.items(), "v": m.v.items()}, plan, g)


def cost_terms(columns: dict[str, Iterable[tuple[Any, Any]]], plan: PlanData, g: Groups
               ) -> Iterator[CostItem]:
    """Every term of the objective as (part, material, period, coefficient, column),
    for the (key, column) pairs of each variable component of ``columns`` (``x``,
    ``w``, ``s``, ``u``, ``v``): the one statement of what each cost part charges
    (:data:`COST_PARTS`; a credit's coefficient is positive, its part's sign subtracts
    it).  A column is whatever stands for the variable: a Pyomo variable for a model
    (:func:`cost_items`), nothing for the one-model-many-cases engine
    (:mod:`planner.run.batch`), which reads the coefficients of the keys it holds in
    an order it fixed once.
    """
    y = _years(plan)
    offers, materials = plan.offers, plan.materials
    price, top_price = g.price, g.top_price
    for k, var in columns["x"]:
        yield "procurement", offers[k[0]].material, k[1], price.get(k, 0.0), var
    for k, var in columns["w"]:
        yield "take_or_pay", offers[k[0]].material, k[1], top_price.get(k, 0.0), var
    last = len(plan.periods) - 1
    for (mat, t), var in columns["s"]:
        hc = materials[mat].holding_cost
        if hc:
            yield "holding", mat, t, hc * y[t], var
        if t == last and materials[mat].end_value:
            yield "end_credit", mat, t, materials[mat].end_value, var
    for (mat, t), var in columns["u"]:
        yield "shortage", mat, t, plan.shortage_penalty(mat), var
    for (mat, t), var in columns["v"]:
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


def _row(body: Any, bounds: Bounds) -> Any:
    """A row from its body and its declared (lower, upper) bounds of the spec."""
    lo, hi = bounds
    if lo is not None and lo == hi:
        return body == lo
    return (lo, body, hi)


def add_balance(m: pyo.ConcreteModel, plan: PlanData, spec: CaseSpec, g: Groups) -> None:
    """s(t-1) + purchases + u = demand + s(t), with s(0) = initial stock; for a
    material whose stock remembers its origin: sum of c + c0 + u = demand."""
    m.balance = pyo.Block()
    s, u, bought = m.s, m.u, m.purchases
    origin = set(g.use_materials)
    c: Any = getattr(m, "c", None)
    c0: Any = getattr(m, "c0", None)
    rows = spec.rows["balance"]

    def rule(_: pyo.Block, mat: str, t: int) -> object:
        if mat in origin:
            used = [c[k] for k in g.cons_by_material.get((mat, t), ())]
            return _row(SumExpression([*used, c0[mat, t], u[mat, t]]), rows[mat, t])
        prev = s[mat, t - 1] if t > 0 else plan.materials[mat].initial_stock
        terms = [prev, u[mat, t], MonomialTermExpression((-1, s[mat, t]))]
        if (mat, t) in bought:
            terms.insert(1, bought[mat, t])
        return _row(SumExpression(terms), rows[mat, t])

    m.balance.con = pyo.Constraint(list(rows), rule=rule)


def add_origin(m: pyo.ConcreteModel, plan: PlanData, spec: CaseSpec, g: Groups) -> None:
    """Stock that remembers the offer it was bought from (only with use rules or caps):
    q(o,t) = q(o,t-1) + x(o,t) - c(o,t); q0(m,t) = q0(m,t-1) - c0(m,t) from the
    initial stock; s(m,t) = sum of q(o,t) + q0(m,t)."""
    m.origin = pyo.Block()
    if not g.use_materials:
        return
    xv = _flows(m, g)
    c, q, c0, q0, s = m.c, m.q, m.c0, m.q0, m.s
    cons = set(g.cons)
    rows = spec.rows

    def flow(_: pyo.Block, oid: str, t: int) -> object:
        terms: list[Any] = [q[oid, t], c[oid, t]]
        if (oid, t - 1) in cons:
            terms.append(MonomialTermExpression((-1, q[oid, t - 1])))
        if (oid, t) in xv:
            terms.append(MonomialTermExpression((-1, xv[(oid, t)])))
        return _row(SumExpression(terms), rows["origin_flow"][oid, t])

    def initial(_: pyo.Block, mat: str, t: int) -> object:
        body = q0[mat, t] + c0[mat, t] if t == 0 else q0[mat, t] - q0[mat, t - 1] + c0[mat, t]
        return _row(body, rows["origin_initial"][mat, t])

    def total(_: pyo.Block, mat: str, t: int) -> object:
        held = [MonomialTermExpression((-1, q[k])) for k in g.cons_by_material.get((mat, t), ())]
        return _row(SumExpression([s[mat, t], *held, MonomialTermExpression((-1, q0[mat, t]))]),
                    rows["origin_total"][mat, t])

    m.origin.flow = pyo.Constraint(pyo.SetOf(g.cons), rule=flow)
    m.origin.initial = pyo.Constraint(list(rows["origin_initial"]), rule=initial)
    m.origin.total = pyo.Constraint(list(rows["origin_total"]), rule=total)


def add_stockpile(m: pyo.ConcreteModel, spec: CaseSpec) -> None:
    """s + v >= minimum stock (soft through v); s <= max_tonnes (hard)."""
    m.stockpile = pyo.Block()
    low, high = spec.rows["stockpile_min"], spec.rows["stockpile_max"]
    m.stockpile.min = pyo.Constraint(
        list(low), rule=lambda _, mat, t: _row(m.s[mat, t] + m.v[mat, t], low[mat, t]))
    m.stockpile.max = pyo.Constraint(
        list(high), rule=lambda _, mat, t: _row(m.s[mat, t], high[mat, t]))


def add_commitments(m: pyo.ConcreteModel, spec: CaseSpec, g: Groups) -> None:
    """Take-or-pay: x(o,t) + w(o,t) >= min_volume x k(o,t) x y(t); the w not taken is
    paid at take_or_pay x unit_cost (the objective's take_or_pay part)."""
    m.commitment = pyo.Block()
    xv = _flows(m, g)
    rows = spec.rows["commitment"]
    m.commitment.con = pyo.Constraint(
        list(rows), rule=lambda _, o, t: _row(xv[(o, t)] + m.w[o, t], rows[o, t]))


def add_capacity(m: pyo.ConcreteModel, spec: CaseSpec, g: Groups) -> None:
    """Flows through a facility share its capacity x factor x y(t)."""
    rows = spec.rows["capacity"]
    m.capacity = pyo.Block()
    xv = _flows(m, g)
    m.capacity.con = pyo.Constraint(
        list(rows), rule=lambda _, f, t: _row(
            LinearExpression(linear(g.by_facility[(f, t)], xv)), rows[f, t]))


def add_quotas(m: pyo.ConcreteModel, spec: CaseSpec, g: Groups) -> None:
    """Matching flows (or, for use rules, consumption) of a quota in force are at most
    limit x y(t)."""
    m.quota = pyo.Block()
    for applies_to in APPLIES_TO:
        terms = spec.quotas[applies_to]
        fam = FAMILY["quota_use" if applies_to == "use" else "quota"]
        rows = spec.rows[fam.key]
        vars_ = _flows(m, g) if applies_to == "purchase" else _cons(m, g)

        def con(_: pyo.Block, rid: str, t: int, terms: Any = terms, vars_: Any = vars_,
                rows: Any = rows) -> object:
            return _row(LinearExpression(linear(terms[(rid, t)], vars_)), rows[rid, t])

        m.quota.add_component(fam.component[1], pyo.Constraint(list(rows), rule=con))


def _cons(m: pyo.ConcreteModel, g: Groups) -> dict[Key, Any]:
    """Consumption key -> its variable c(o,t) (empty without use rules or caps)."""
    cv = getattr(m, "_cons_vars", None)
    if cv is None:
        cv = dict(zip(g.cons, m.c.values(), strict=True)) if g.use_materials else {}
        m._cons_vars = cv
    return cv


def add_caps(m: pyo.ConcreteModel, spec: CaseSpec, g: Groups) -> None:
    """Share caps and floors, written linearly: numerator - share x total <= 0 (>= 0).

    On purchases the total is purchases(m,t); on use (``applies_to = use``) it is
    the consumption of the material, initial stock c0 included (which counts in
    no target).
    """
    m.caps = pyo.Block()
    for applies_to in APPLIES_TO:
        terms, hi, lo = spec.caps[applies_to]
        use = applies_to == "use"
        for side, shares in (("max", hi), ("min", lo)):
            fam = FAMILY[f"cap_{side}" + ("_use" if use else "")]
            rows = spec.rows[fam.key]
            body = {k: _share_body(m, g, k, terms[k], shares[k], use) for k in rows}
            con = pyo.Constraint(list(rows), rule=lambda _, *k, b=body, r=rows: _row(b[k], r[k]))
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
#
# A tie-break is called with the model and ``value``: the value of a variable in the
# plan solved so far, or None when the variable is not part of the case being solved
# (a column the one-model-many-cases engine has fixed at 0 for this case).

Value = Callable[[Any], "float | None"]


def least_unmet(m: pyo.ConcreteModel, value: Value) -> Any:
    """Least unmet demand: with the default penalties a tonne short of demand and a
    tonne short of the stockpile minimum can cost the same, and a stockpile exists to
    be drawn down.  None when nothing is unmet."""
    unmet = sum(value(u) or 0.0 for u in m.u.values())
    return pyo.quicksum(m.u.values()) if unmet > 1e-7 else None


#: the steady-volumes tie-break runs on models with at most this many flows (it adds
#: a variable and two rows per consecutive pair of flows, and a solve)
STEADY_MAX_FLOWS = 50_000


def steady_volumes(m: pyo.ConcreteModel, value: Value) -> Any:
    """Least period-to-period change of each offer's volume: buyers want stable
    allocations, and offers at equal prices otherwise swing from year to year at the
    LP's whim.  Adds d(o,t) >= |x(o,t) - x(o,t-1)| in a block the solver removes after,
    over the consecutive flows the case has.  None when the plan is already steady or
    the model is large."""
    xv = m._flow_vars
    if xv is None or len(xv) > STEADY_MAX_FLOWS:
        return None
    pairs = [(a, b, va, vb) for (o, t), b in xv.items() if (o, t - 1) in xv
             for a in (xv[(o, t - 1)],)
             for va, vb in ((value(a), value(b)),) if va is not None and vb is not None]
    moved = sum(abs(va - vb) for _, _, va, vb in pairs)
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


def release_flows(m: pyo.ConcreteModel) -> bool:
    """Let go of the flow variables of a model a solver already holds, where no
    tie-break reads them (more than :data:`STEADY_MAX_FLOWS` flows): an engine that
    keeps the model for its tie-breaks (:mod:`planner.run.batch`) then does not keep a
    million variables (0.26 GB at 1M flows).  True if they went."""
    if m._flow_vars is None or len(m._flow_vars) <= STEADY_MAX_FLOWS:
        return False
    m.del_component("x")
    m._flow_vars = None
    return True


#: in order: what a cost-optimal plan should also minimise (planner.solve.solver)
TIE_BREAKS = (least_unmet, steady_volumes)
