"""Disruption stress tests: what breaks if a country, a facility or a country x stage stops?

A disruption is a modified :class:`~planner.scenario.cases.Case`: the capacity of some
facilities is multiplied by a remaining factor (0 = outage) in some periods,
with the contract's semantics for unlimited capacity (x 0 is an outage, x f > 0
stays unlimited).  Each disrupted case is solved with the model of
:mod:`planner.model.build`, with two changes that make it a *disruption* rather than a
what-if known in advance:

* **no foresight**: every decision before the first disrupted period is fixed
  to the base plan's (the plan did not see the disruption coming), so the stock
  entering the disruption is the stock the base plan holds;
* **the stockpile is the buffer**: in the disrupted periods the Stockpile
  minimums are released.  Stock drawn below the minimum is charged only what
  it saves in holding (so nothing is drawn for convenience), and stock still
  missing at the end of the horizon is charged its replacement price (the
  material's highest offer price in the base case); after the disruption the
  minimums apply again, so the plan pays to rebuild.  The stock is therefore
  drawn when the alternative is unmet demand or supply dearer than rebuilding.

The cost increase is the disrupted total cost minus the base total cost; it is
split per material (purchases, holding, shortage and shortfall penalties are all
per material), as are unmet demand and the stock drawn.  Stock drawn is how far
the disrupted plan's stock falls below the base plan's during the disruption (so a
disruption that changes nothing draws nothing, even where the base plan itself
runs its stock down).  A disruption can lower the cost: a ``min_volume`` (or
take-or-pay) commitment on an offer it makes unavailable lapses (force majeure),
and the ranking's ``note`` names those offers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pyomo.environ as pyo

from planner.inputs.data import PlanData
from planner.model.build import SIGN, Groups, build_model, cost_items, shortage_penalty
from planner.model.families import COST_PARTS
from planner.run.engine import Ordered, connect, map_chunks
from planner.scenario.cases import Case, Index, build_case, in_window, scale_capacity
from planner.solve.solver import solve, solver_options

Key = tuple[str, int]
#: facility -> per-period remaining capacity factor (1 = unchanged, 0 = outage)
Factors = dict[str, list[float]]

KINDS = ("country", "facility", "country_stage")


@dataclass(frozen=True)
class Disruption:
    """A named loss of supply: facility capacity factors over some periods."""

    name: str
    kind: str
    target: str
    stage: str | None
    factors: tuple[tuple[str, tuple[float, ...]], ...]

    @classmethod
    def make(cls, name: str, kind: str, target: str, stage: str | None,
             factors: Factors) -> Disruption:
        return cls(name, kind, target, stage,
                   tuple(sorted((f, tuple(v)) for f, v in factors.items())))

    @property
    def key(self) -> tuple[tuple[str, tuple[float, ...]], ...]:
        """Disruptions with the same key are the same case (solved once)."""
        return tuple((f, v) for f, v in self.factors if any(x != 1 for x in v))

    def periods(self) -> list[int]:
        """The disrupted periods: where some facility runs below its capacity."""
        n = max((len(v) for _, v in self.factors), default=0)
        return [t for t in range(n) if any(v[t] != 1 for _, v in self.factors)]


def apply(case: Case, d: Disruption) -> Case:
    """The case with the disruption's capacity factors applied (contract semantics)."""
    capacity = {f: list(c) for f, c in case.capacity.items()}
    cap_factor = {f: list(v) for f, v in case.cap_factor.items()}
    for fid, factors in d.factors:
        caps = capacity[fid]
        scaled = cap_factor.setdefault(fid, [1.0] * len(caps))
        for t, phi in enumerate(factors):
            if phi == 1:
                continue
            caps[t] = scale_capacity(caps[t], phi)
            scaled[t] *= phi
    return replace(case, name=d.name, capacity=capacity, cap_factor=cap_factor)


def disruptions(plan: PlanData, window: tuple[int, int],
                kinds: Sequence[str] = KINDS) -> list[Disruption]:
    """Every country, facility and country x stage with facilities, out over ``window``."""
    n = len(plan.periods)
    off = [0.0 if window[0] <= t <= window[1] else 1.0 for t in range(n)]

    def outage(fids: Iterable[str]) -> Factors:
        return {f: list(off) for f in fids}

    out: list[Disruption] = []
    fac = plan.facilities
    countries = [c for c in plan.countries if any(f.country == c for f in fac.values())]
    if "country" in kinds:
        for c in countries:
            out.append(Disruption.make(f"country {c}", "country", c, None,
                                       outage(f.id for f in fac.values() if f.country == c)))
    if "facility" in kinds:
        for f in fac.values():
            out.append(Disruption.make(f"facility {f.id}", "facility", f.id, None,
                                       outage([f.id])))
    if "country_stage" in kinds:
        for c in countries:
            for k in plan.stages:
                ids = [f.id for f in fac.values() if f.country == c and f.stage == k]
                if ids:
                    out.append(Disruption.make(f"{c} x {k}", "country_stage", c, k,
                                               outage(ids)))
    return out


@dataclass
class Baseline:
    """The solved plan the disruptions start from (its decisions before a disruption)."""

    case: Case
    status: str
    total_cost: float | None
    x: dict[Key, float] = field(default_factory=dict)
    s: dict[Key, float] = field(default_factory=dict)
    u: dict[Key, float] = field(default_factory=dict)
    v: dict[Key, float] = field(default_factory=dict)
    material_cost: dict[str, float] = field(default_factory=dict)
    #: material -> replacement price of stock drawn and not rebuilt in the horizon
    replacement: dict[str, float] = field(default_factory=dict)
    #: values of the other period-indexed variables (w, c, q, c0, q0), by component
    other: dict[str, dict[Key, float]] = field(default_factory=dict)


@dataclass
class Outcome:
    """One disrupted case: status, costs and per-material effects."""

    name: str
    status: str
    seconds: float
    total_cost: float | None = None
    material_cost: dict[str, float] = field(default_factory=dict)
    unmet: dict[str, float] = field(default_factory=dict)
    drawdown: dict[str, float] = field(default_factory=dict)
    periods: list[int] = field(default_factory=list)


def _val(v: Any) -> float:
    x = pyo.value(v, exception=False)
    return 0.0 if x is None else float(x)


def material_costs(plan: PlanData, m: Any, g: Groups,
                   v_cost: dict[Key, float] | None = None) -> dict[str, float]:
    """Total cost split per material, every cost part of :func:`planner.model.build.cost_items`
    (``v_cost`` overrides the shortfall price per (material, period))."""
    out = {mat: 0.0 for mat in plan.materials}
    for part, mat, t, coef, var in cost_items(m, plan, g):
        if part == "shortfall" and v_cost and (mat, t) in v_cost:
            coef = v_cost[(mat, t)]
        out[mat] += SIGN[part] * coef * _val(var)
    return out


def replacement_prices(plan: PlanData, g: Groups) -> dict[str, float]:
    """Per material, the highest price it is offered at in the case (else its penalty)."""
    out: dict[str, float] = {}
    for k in g.flows:
        mat = plan.offers[k[0]].material
        out[mat] = max(out.get(mat, 0.0), g.price[k])
    return {mat: out.get(mat, shortage_penalty(plan, mat)) for mat in plan.materials}


def solve_baseline(plan: PlanData, ix: Index, case: Case | None = None,
                   options: dict[str, Any] | None = None) -> Baseline:
    """Solve the base case (or ``case``) and keep every decision for the disruptions."""
    case = case or build_case(plan, ix)
    m, g = build_model(plan, ix, case)
    res = solve(m, solver_options(plan.settings, options))
    if not res.has_solution:
        return Baseline(case, res.status, None)
    other = {name: {k: _val(v) for k, v in getattr(m, name).items()}
             for name in OTHER_VARS if hasattr(m, name)}
    return Baseline(case, res.status, _val(m.total_cost),
                    {k: _val(m.x[k]) for k in m.x}, {k: _val(m.s[k]) for k in m.s},
                    {k: _val(m.u[k]) for k in m.u}, {k: _val(m.v[k]) for k in m.v},
                    material_costs(plan, m, g), replacement_prices(plan, g), other)


#: period-indexed variables besides x, s, u and v (take-or-pay, stock by origin)
OTHER_VARS = ("w", "c", "q", "c0", "q0")


def period_of(index: Any) -> float:
    """The period of a constraint of planner.model.build (the last index); +inf otherwise."""
    if isinstance(index, tuple) and index and isinstance(index[-1], int):
        return index[-1]
    return float("inf")


def fix_before(m: Any, base: Baseline, start: int) -> None:
    """No foresight: decisions before ``start`` are the base plan's; their constraints,
    all satisfied by the base plan, are dropped so fixed values meet no tolerance issue."""
    for con in m.component_data_objects(pyo.Constraint, active=True):
        if period_of(con.index()) < start:
            con.deactivate()
    pairs = [(m.x, base.x), (m.s, base.s), (m.u, base.u), (m.v, base.v)]
    pairs += [(getattr(m, n), base.other.get(n, {})) for n in OTHER_VARS if hasattr(m, n)]
    for var, vals in pairs:
        for k in var:
            if k[-1] < start:
                lb, ub = var[k].bounds
                value = vals.get(k, 0.0)  # within bounds despite solver tolerances
                value = max(value, lb) if lb is not None else value
                var[k].fix(min(value, ub) if ub is not None else value)


#: tie-break per t and period against drawing stock that is not needed
DRAW_EPS = 1e-6


def release_stockpile(m: Any, plan: PlanData, base: Baseline, periods: Iterable[int]
                      ) -> dict[Key, float]:
    """The strategic stock is the buffer in ``periods``: the shortfall below the minimum
    costs only the holding it saves (plus a tie-break), and at the horizon's end the
    replacement price.  Replaces the objective; returns the shortfall prices used."""
    during = set(periods)
    last = len(plan.periods) - 1
    y = [p.years for p in plan.periods]
    v_cost: dict[Key, float] = {}
    for mat, t in m.v:
        if t in during:
            price = plan.materials[mat].holding_cost * y[t] + DRAW_EPS
            if t == last:
                price += base.replacement.get(mat, shortage_penalty(plan, mat))
            v_cost[(mat, t)] = price
    m.total_cost.deactivate()
    m.shortfall_released = pyo.Expression(expr=pyo.quicksum(
        v_cost.get(k, plan.stockpile_penalty(k[0]) * y[k[1]]) * m.v[k] for k in m.v))
    kept = [p.sign * m.component(p.component) for p in COST_PARTS if p.component != "shortfall"]
    m.stress_cost = pyo.Objective(expr=pyo.quicksum(kept) + m.shortfall_released,
                                  sense=pyo.minimize)
    return v_cost


def solve_disrupted(plan: PlanData, ix: Index, base: Baseline, case: Case,
                    periods: Sequence[int], options: dict[str, Any] | None = None
                    ) -> Outcome:
    """Solve ``case`` disrupted in ``periods``, starting from the base plan's decisions."""
    start = time.perf_counter()
    periods = sorted(periods)
    if not periods:
        return Outcome(case.name, base.status, 0.0, base.total_cost, dict(base.material_cost),
                       {m: 0.0 for m in plan.materials}, {m: 0.0 for m in plan.materials}, [])
    m, g = build_model(plan, ix, case)
    fix_before(m, base, periods[0])
    v_cost = release_stockpile(m, plan, base, periods)
    res = solve(m, solver_options(plan.settings, options))
    out = Outcome(case.name, res.status, time.perf_counter() - start, periods=periods)
    if not res.has_solution:
        return out
    out.total_cost = _val(m.stress_cost)
    out.material_cost = material_costs(plan, m, g, v_cost)
    out.drawdown = drawdown(plan, base, {k: _val(m.s[k]) for k in m.s}, periods)
    for mat in plan.materials:
        out.unmet[mat] = sum(_val(m.u[mat, t]) for t in range(len(plan.periods)))
    return out


#: stock differences below this (t) are solver noise, not stock drawn
DRAWN_TOL = 1e-6
#: a cost change within this fraction of the base cost is solver noise
COST_TOL = 1e-6


def drawdown(plan: PlanData, base: Baseline, stock: dict[Key, float],
             periods: Sequence[int]) -> dict[str, float]:
    """Per material, the most the disrupted plan's end-of-period ``stock`` falls below
    the base plan's over the disrupted periods: the stock the disruption draws.

    Measured against the base plan, not against the stock entering the disruption,
    so a disruption that changes nothing draws nothing even when the base plan
    itself runs its stock down in those periods.
    """
    out: dict[str, float] = {}
    for mat in plan.materials:
        drop = max((base.s.get((mat, t), 0.0) - stock.get((mat, t), 0.0)
                    for t in range(periods[0], periods[-1] + 1)), default=0.0)
        out[mat] = drop if drop > DRAWN_TOL else 0.0
    return out


def lapsed_commitments(plan: PlanData, ix: Index, base: Case, d: Disruption) -> list[str]:
    """Offers whose min_volume commitment (take-or-pay or must-take) the disruption
    lowers in some disrupted period: force majeure k(o,t) falls with the capacity of a
    facility on the offer's route, so the commitment lapses."""
    case = apply(base, d)
    hit = {f for f, v in d.factors if any(x != 1 for x in v)}
    out: list[str] = []
    for oid, o in plan.offers.items():
        chain = ix.route_facilities[oid]
        if o.min_volume <= 0 or not hit.intersection(chain):
            continue
        if any(in_window(t, o.window) and base.force_majeure(chain, t) > 0
               and case.force_majeure(chain, t) < base.force_majeure(chain, t)
               for t in d.periods()):
            out.append(oid)
    return out


def cost_note(cost_increase: float | None, base_cost: float, lapsed: Sequence[str]) -> str:
    """Why a disruption lowers the cost, when it does (else empty)."""
    if cost_increase is None or cost_increase >= -COST_TOL * max(1.0, abs(base_cost)):
        return ""
    if lapsed:
        return f"cheaper: commitments on {', '.join(lapsed)} lapse"
    return "cheaper than base with no commitment lapsing: see Stress by material"


# --- running many disruptions: the run engine (sequential, processes or Dask) ----------

#: disruptions per Dask task
DASK_CHUNK = 8


def _context(plan: PlanData, base: Baseline, options: dict[str, Any] | None
             ) -> tuple[PlanData, Index, Baseline, dict[str, Any] | None]:
    """A worker's context (:func:`planner.run.engine.map_chunks`): built once per worker."""
    return plan, Index.build(plan), base, options


def _solve_chunk(context: tuple[PlanData, Index, Baseline, dict[str, Any] | None],
                 part: list[Disruption]) -> list[Outcome]:
    plan, ix, base, options = context
    return [solve_disrupted(plan, ix, base, apply(base.case, d), d.periods(), options)
            for d in part]


def run_disruptions(plan: PlanData, base: Baseline, items: Sequence[Disruption],
                    options: dict[str, Any] | None = None, workers: int = 1,
                    progress: Callable[[Outcome], None] | None = None,
                    scheduler: Any = None) -> list[Outcome]:
    """Solve each disruption (identical ones once) and return outcomes in the given order;
    ``progress`` is called once per distinct case solved, in order.

    ``workers`` > 1 spreads the solves over local processes, and ``scheduler`` (a
    Dask scheduler address or ``distributed.Client``) over a Dask cluster, through the
    same engine as scenario sweeps (:func:`planner.run.engine.map_chunks`): the plan and
    the base plan go to each worker once and only disruptions go out, so the results
    are those of the sequential run.
    """
    unique: dict[Any, Disruption] = {}
    for d in items:
        unique.setdefault(d.key, d)
    todo = list(unique.values())
    collect = Ordered(len(todo), progress)
    client, own = connect(scheduler) if scheduler is not None else (None, False)
    try:
        map_chunks(_context, (plan, base, options), _solve_chunk, todo, collect,
                   workers=workers, client=client,
                   chunk=DASK_CHUNK if client is not None else None)
    finally:
        if own and client is not None:
            client.close()
    by_key = {d.key: o for d, o in zip(todo, collect.results(), strict=True)}
    return [replace(by_key[d.key], name=d.name) for d in items]


# --- the stress table --------------------------------------------------------------

STRESS_COLUMNS = ["rank", "disruption", "kind", "target", "stage", "window", "status",
                  "total_cost", "cost_increase", "unmet_demand", "stock_drawn", "same_as",
                  "note"]
STRESS_MATERIAL_COLUMNS = ["disruption", "material", "cost_increase", "unmet_demand",
                           "unmet_share", "stock_drawn"]


@dataclass
class StressResult:
    """The ranked stress table and its per-material detail."""

    window: tuple[int, int]
    base: Baseline
    ranking: list[dict[str, Any]]
    by_material: list[dict[str, Any]]


def window_label(plan: PlanData, window: tuple[int, int]) -> str:
    a, b = plan.periods[window[0]].label, plan.periods[window[1]].label
    return a if a == b else f"{a}-{b}"


def stress(plan: PlanData, window: tuple[int, int], kinds: Sequence[str] = KINDS,
           options: dict[str, Any] | None = None, workers: int = 1,
           progress: Callable[[Outcome], None] | None = None,
           base: Baseline | None = None, scheduler: Any = None) -> StressResult:
    """Remove each country, facility and country x stage over ``window``; rank the damage.

    ``unmet_demand`` is the unmet demand the disruption adds to the base plan's.
    Ranked by cost increase (shortage penalties make unmet demand dominate), then
    unmet demand, then name.  A case that does not solve is ranked last.  Disruptions
    that take out the same facilities (a country with one facility, say) are one
    case: solved once, and ``same_as`` names the first of them in the ranking.
    """
    ix = Index.build(plan)
    base = base or solve_baseline(plan, ix, options=options)
    items = disruptions(plan, window, kinds)
    if base.total_cost is None:
        return StressResult(window, base, [], [])
    outcomes = run_disruptions(plan, base, items, options, workers, progress, scheduler)
    wlabel = window_label(plan, window)
    demand_in = {mat: sum(q for (m, t), q in base.case.demand.items()
                          if m == mat and window[0] <= t <= window[1])
                 for mat in plan.materials}
    base_unmet = {mat: sum(q for (m, _), q in base.u.items() if m == mat)
                  for mat in plan.materials}
    rows: list[dict[str, Any]] = []
    detail: list[dict[str, Any]] = []
    for d, o in zip(items, outcomes, strict=True):
        solved = o.total_cost is not None
        increase = (o.total_cost - base.total_cost) if o.total_cost is not None else None
        note = cost_note(increase, base.total_cost, lapsed_commitments(plan, ix, base.case, d)
                         if increase is not None and increase < 0 else [])
        rows.append({"key": d.key, "note": note,
            "disruption": d.name, "kind": d.kind, "target": d.target, "stage": d.stage,
            "window": wlabel, "status": o.status, "total_cost": o.total_cost,
            "cost_increase": increase,
            "unmet_demand": sum(max(0.0, o.unmet.get(mat, 0.0) - base_unmet[mat])
                                for mat in plan.materials) if solved else None,
            "stock_drawn": sum(o.drawdown.values()) if solved else None,
        })
        if solved:
            for mat in plan.materials:
                unmet = max(0.0, o.unmet.get(mat, 0.0) - base_unmet[mat])
                detail.append({
                    "disruption": d.name, "material": mat,
                    "cost_increase": o.material_cost.get(mat, 0.0)
                    - base.material_cost.get(mat, 0.0),
                    "unmet_demand": unmet,
                    "unmet_share": unmet / demand_in[mat] if demand_in[mat] > 0 else 0.0,
                    "stock_drawn": o.drawdown.get(mat, 0.0)})
    rows.sort(key=lambda r: (r["cost_increase"] is None, -(r["cost_increase"] or 0.0),
                             -(r["unmet_demand"] or 0.0), r["disruption"]))
    first: dict[Any, str] = {}
    for i, r in enumerate(rows, start=1):
        r["rank"] = i
        key = r.pop("key")
        # the same facilities out: the same case as a disruption ranked higher
        r["same_as"] = first.get(key)
        first.setdefault(key, r["disruption"])
    order = {r["disruption"]: r["rank"] for r in rows}
    detail.sort(key=lambda r: (order[r["disruption"]], r["material"]))
    return StressResult(window, base, rows, detail)
