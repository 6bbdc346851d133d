"""Stockpile sizing: the least-cost days-of-cover policy that covers named disruptions.

One two-stage linear program, built from the constraint families of
:mod:`planner.model.build` on sub-blocks (no second copy of the formulation):

* first stage: ``d[m] >= 0``, days of cover of material ``m`` (continuous);
* block ``base``: the base case, its Stockpile-sheet minimums replaced by the
  policy: stock at the end of every period >= d[m] x demand(m, t) / days(t)
  (the contract's ``min_days``, so the policy can be entered in the Stockpile
  sheet as it is), from the period before the first disruption on;
* one block per disruption scenario: the disrupted case from its first
  disrupted period ``t0`` on (recourse sourcing), entering with at most the
  policy's stock, ``s(m, t0-1) <= d[m] x demand(m, t0-1) / days(t0-1)``
  (only the stock the policy guarantees is counted on), stockpile minimums
  released, and unmet demand held at zero.

It is solved lexicographically, each step keeping the optimum of the last:
(0) least unmet demand over the scenarios (zero unless no policy can reach it:
a disruption in the first period, or a material without any supply); (1) least
base-case cost (the cost of holding the policy in normal times); (2) the least
days of cover at that cost (a tie-break when stock is free); (3) with the
policy fixed, the least recourse cost of each scenario, for the report.
The policy is then checked independently: each scenario is re-solved by
:mod:`planner.resilience.stress` from the plan with the policy typed into its Stockpile
sheet (:func:`with_policy`) and from the unprotected plan (no strategic stock:
Stockpile minimums dropped, maximums kept), so the report shows what the
policy buys.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pyomo.environ as pyo

from planner.inputs.data import PlanData, StockpileRow
from planner.model.build import SIGN, Groups, add_families, cost_items, group
from planner.model.families import COST_PARTS
from planner.resilience.stress import (
    Baseline,
    Disruption,
    apply,
    period_of,
    solve_baseline,
    solve_disrupted,
)
from planner.scenario.cases import Case, Index, build_case
from planner.solve.solver import solve, solver_options

TOL = 1e-6


@dataclass
class SizingScenario:
    """A named disruption the policy must cover: its case and disrupted periods."""

    name: str
    case: Case
    periods: list[int]


def from_disruption(base_case: Case, d: Disruption) -> SizingScenario:
    return SizingScenario(d.name, apply(base_case, d), d.periods())


def from_sheet(plan: PlanData, ix: Index, name: str) -> SizingScenario:
    """A Scenarios-sheet scenario; its disrupted periods are those where it differs."""
    base, case = build_case(plan, ix), build_case(plan, ix, name)
    n = len(plan.periods)
    changed = [t for t in range(n)
               if any(case.capacity[f][t] != base.capacity[f][t] for f in base.capacity)
               or any(case.demand.get((m, t)) != q for (m, tt), q in base.demand.items()
                      if tt == t)
               or any(f[t] != 1 for f in case.cost_factor.values())
               or any(case.rule_on[r][t] != base.rule_on[r][t] for r in base.rule_on)
               or any(case.cap_on[c][t] != base.cap_on[c][t] for c in base.cap_on)]
    return SizingScenario(name, case, changed)


@dataclass
class SizingResult:
    """The policy, its cost against the unprotected plan, and each scenario's check."""

    status: str
    days: dict[str, float] = field(default_factory=dict)
    #: the policy is held from the end of this period on (the one before the first disruption)
    held_from: str = ""
    #: material -> policy stock (t) at the end of each period
    tonnes: dict[str, list[float]] = field(default_factory=dict)
    protected_cost: float | None = None
    unprotected_cost: float | None = None
    current_cost: float | None = None
    residual_unmet: float = 0.0
    scenarios: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: the plan with the policy typed into its Stockpile sheet, and its solved base case
    policy_plan: PlanData | None = field(default=None, repr=False)
    protected: Baseline | None = field(default=None, repr=False)

    @property
    def premium(self) -> float | None:
        """What the policy costs in normal times over the plan without strategic stock."""
        if self.protected_cost is None or self.unprotected_cost is None:
            return None
        return self.protected_cost - self.unprotected_cost


def case_block(top: Any, name: str, plan: PlanData, ix: Index, case: Case) -> tuple[Any, Groups]:
    """The model of ``case`` as a sub-block of ``top``: every family of planner.model.build."""
    g = group(plan, ix, case)
    top.add_component(name, pyo.Block())
    b = getattr(top, name)
    add_families(b, plan, ix, case, g)
    b.total_cost.deactivate()
    return b, g


def _cover(plan: PlanData, case: Case, mat: str, t: int) -> float:
    """Tonnes per day of cover of ``mat`` in period ``t``."""
    return case.demand.get((mat, t), 0.0) / plan.periods[t].days


def _release(b: Any) -> None:
    for c in b.stockpile.min.values():
        c.deactivate()
    for v in b.v.values():
        v.fix(0.0)


def _recourse_only(b: Any, g: Groups, plan: PlanData, start: int) -> Any:
    """Keep periods >= start; the block enters with stock s(start-1); returns the cost of
    those periods.  Earlier variables are fixed (flows at their lower bound, which no
    constraint or cost sees any more) and their constraints dropped, except the row that
    splits the entering stock by origin (s(start-1) = sum of q + q0, where stock
    remembers origin): without it the entering stock by origin would be free."""
    entry = getattr(getattr(b, "origin", None), "total", None)
    for con in b.component_data_objects(pyo.Constraint, active=True):
        if period_of(con.index()) < start and not (
                entry is not None and con.parent_component() is entry
                and con.index()[-1] == start - 1):
            con.deactivate()
    for var in (b.x, b.u, b.v, b.w, *(getattr(b, n) for n in ("c", "c0") if hasattr(b, n))):
        for k in var:
            if k[-1] < start:
                var[k].fix(var[k].lb or 0.0)
    for var in (b.s, *(getattr(b, n) for n in ("q", "q0") if hasattr(b, n))):
        for k in var:
            if k[-1] < start - 1:
                var[k].fix(0.0)
    return pyo.quicksum(SIGN[part] * coef * var for part, _, t, coef, var
                        in cost_items(b, plan, g) if t >= start)


def size_stockpile(plan: PlanData, scenarios: Sequence[SizingScenario],
                   options: dict[str, Any] | None = None) -> SizingResult:
    """The least-cost days of cover per material with zero unmet demand in ``scenarios``."""
    ix = Index.build(plan)
    base_case = build_case(plan, ix)
    opts = solver_options(plan.settings, options)
    top = pyo.ConcreteModel(name="stockpile_sizing")
    mats = list(plan.materials)
    n = len(plan.periods)
    top.d = pyo.Var(mats, within=pyo.NonNegativeReals)
    b0, _ = case_block(top, "base", plan, ix, base_case)
    _release(b0)
    scen = [s for s in scenarios if s.periods]
    notes = [f"Scenario {s.name!r} changes nothing and is skipped." for s in scenarios
             if not s.periods]
    # the policy is held from the end of the period before the first disruption on
    first = max(0, min((s.periods[0] for s in scen), default=1) - 1)
    top.policy = pyo.Constraint(
        [(m, t) for m in mats for t in range(first, n) if _cover(plan, base_case, m, t) > 0],
        rule=lambda _, m, t: b0.s[m, t] >= top.d[m] * _cover(plan, base_case, m, t))
    base_cost = pyo.quicksum(p.sign * b0.component(p.component) for p in COST_PARTS
                             if p.component != "shortfall")
    unmet: list[Any] = []
    recourse: list[Any] = []
    blocks = []
    for i, s in enumerate(scen):
        b, g = case_block(top, f"scenario_{i}", plan, ix, s.case)
        _release(b)
        start = s.periods[0]
        recourse.append(_recourse_only(b, g, plan, start))
        unmet.append(pyo.quicksum(b.u[m, t] for m, t in b.u if t >= start))
        if start > 0:
            b.entry = pyo.Constraint(mats, rule=lambda _, m, b=b, c=s.case, t=start - 1:
                                     b.s[m, t] <= top.d[m] * _cover(plan, c, m, t))
        else:
            notes.append(f"Scenario {s.name!r} starts in the first period: no stock policy "
                         "can be built before it; only the initial stock helps.")
        blocks.append(b)

    def step(expr: Any) -> str:
        for obj in top.component_data_objects(pyo.Objective, active=True):
            obj.deactivate()
        top.del_component("goal")
        top.goal = pyo.Objective(expr=expr, sense=pyo.minimize)
        return solve(top, opts).status

    out = SizingResult("optimal", notes=notes)
    if blocks:
        status = step(pyo.quicksum(unmet))
        if status != "optimal":
            out.status = status
            return out
        least = [float(pyo.value(u)) for u in unmet]
        out.residual_unmet = sum(least)
        if out.residual_unmet > TOL:
            top.unmet_cap = pyo.Constraint(expr=pyo.quicksum(unmet)
                                           <= out.residual_unmet + TOL * (1 + out.residual_unmet))
            for s, q in zip(scen, least, strict=True):
                if q > TOL:
                    out.notes.append(f"Scenario {s.name!r}: {q:,.3f} t stay unmet under any "
                                     "days-of-cover policy (too little supply to build or "
                                     "replace the stock in time, or Stockpile maximums cap "
                                     "the policy in some period).")
        else:
            for b in blocks:
                for k in b.u:
                    b.u[k].fix(0.0)
    status = step(base_cost)
    if status != "optimal":
        out.status = status
        return out
    z = float(pyo.value(base_cost))
    top.cost_cap = pyo.Constraint(expr=base_cost <= z + TOL * (1 + abs(z)))
    status = step(pyo.quicksum(top.d[m] for m in mats))
    if status != "optimal":
        out.status = status
        return out
    for m in mats:
        top.d[m].fix(float(pyo.value(top.d[m])))
    status = step(base_cost + pyo.quicksum(recourse))
    if status != "optimal":
        out.status = status
        return out
    out.days = {m: max(0.0, float(pyo.value(top.d[m]))) for m in mats}
    out.held_from = plan.periods[first].label
    out.tonnes = {m: [out.days[m] * _cover(plan, base_case, m, t) if t >= first else 0.0
                      for t in range(n)] for m in mats}
    out.protected_cost = float(pyo.value(base_cost))
    _check(plan, ix, base_case, first, scen, blocks, recourse, out, options)
    return out


def without_minimums(plan: PlanData) -> PlanData:
    """The plan without strategic stock: Stockpile minimums dropped, maximums kept."""
    return replace(plan, stockpile=[replace(r, min_days=0.0, min_tonnes=0.0)
                                    for r in plan.stockpile if r.max_tonnes is not None])


def with_policy(plan: PlanData, days: dict[str, float], first: int) -> PlanData:
    """The plan with the policy typed into its Stockpile sheet: ``min_days`` = the days
    of cover from period ``first`` on, the sheet's ``max_tonnes`` kept (one row per
    material and period, so windows never overlap)."""
    rows = []
    for mat in plan.materials:
        for t in range(len(plan.periods)):
            given = [r for r in plan.stockpile if r.material == mat
                     and r.window[0] <= t <= r.window[1]]
            cap = given[0].max_tonnes if given else None
            need = days.get(mat, 0.0) if t >= first else 0.0
            if need > 0 or cap is not None:
                rows.append(StockpileRow(mat, (t, t), need, 0.0, cap))
    return replace(plan, stockpile=rows)


def _check(plan: PlanData, ix: Index, base_case: Case, first: int,
           scen: Sequence[SizingScenario], blocks: list[Any], recourse: list[Any],
           out: SizingResult, options: dict[str, Any] | None) -> None:
    """Re-solve every scenario as a stress case (planner.resilience.stress) from the plan with the
    policy typed into the Stockpile sheet, and from the plan without strategic stock."""
    bare = without_minimums(plan)
    unprotected = solve_baseline(bare, ix, base_case, options)
    current = solve_baseline(plan, ix, base_case, options)
    out.unprotected_cost, out.current_cost = unprotected.total_cost, current.total_cost
    out.policy_plan = with_policy(plan, out.days, first)
    protected = solve_baseline(out.policy_plan, ix, base_case, options)
    if protected.total_cost is None:
        out.notes.append(f"The plan with the policy in its Stockpile sheet is "
                         f"{protected.status}; the scenarios were not re-solved.")
        return
    out.protected = protected
    labels = [p.label for p in plan.periods]
    for s, b, cost in zip(scen, blocks, recourse, strict=True):
        start = s.periods[0]
        with_pol = solve_disrupted(out.policy_plan, ix, protected, s.case, s.periods, options)
        without = (solve_disrupted(bare, ix, unprotected, s.case, s.periods, options)
                   if unprotected.total_cost is not None else None)
        out.scenarios.append({
            "scenario": s.name, "first_period": labels[start],
            "entry_stock": sum(float(pyo.value(b.s[m, start - 1])) for m in plan.materials)
            if start > 0 else sum(m.initial_stock for m in plan.materials.values()),
            "unmet_in_model": sum(float(pyo.value(b.u[k])) for k in b.u if k[-1] >= start),
            "recourse_cost": float(pyo.value(cost)),
            "unmet_with_policy": sum(with_pol.unmet.values())
            if with_pol.total_cost is not None else None,
            "unmet_without_policy": sum(without.unmet.values())
            if without is not None and without.total_cost is not None else None,
        })
