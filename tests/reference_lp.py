"""An independent implementation of contract section 3, for cross-checking the planner.

Written from the contract text alone (workbook-contract.md, sections 2 and 3),
sharing nothing with planner.scenario.cases or planner.model.build: scenario factors,
availability, force majeure, rule matching, tariffs, penalties and caps are
recomputed here and the LP is solved with scipy's HiGHS (``linprog``).
It is slow and dense on purpose: clarity over speed.

Where the model tracks stock by origin (some rule or cap has applies_to = use)
this file builds c(o,t), q(o,t), c0(m,t), q0(m,t) for EVERY offer and material,
whether or not a use rule or cap can reach it (the planner builds them only
where they matter; both must give the same optimum).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import linprog

from planner.inputs.data import PlanData


def _in(t: int, w: tuple[int, int]) -> bool:
    return w[0] <= t <= w[1]


def _members(plan: PlanData, code: str) -> set[str]:
    if code in plan.countries:
        return {code}
    return {c.code for c in plan.countries.values() if code in c.groups}


def _route(plan: PlanData, oid: str) -> list[tuple[str, str]]:
    """(stage, facility) along the offer's route in stage order."""
    chain = plan.routes[plan.offers[oid].route].facilities
    return [(k, chain[k]) for k in plan.stages if k in chain]


def _matches(plan: PlanData, rule: Any, oid: str) -> bool:
    o = plan.offers[oid]
    if rule.material is not None and rule.material != o.material:
        return False
    at = [f for k, f in _route(plan, oid) if rule.stage is None or k == rule.stage]
    if rule.country is not None:
        mem = _members(plan, rule.country)
        if not any(plan.facilities[f].country in mem for f in at):
            return False
    if rule.company is not None:
        if o.supplier != rule.company and not any(
                plan.facilities[f].company == rule.company for f in at):
            return False
    return True


def _is_tag(plan: PlanData, code: str) -> bool:
    return code in plan.countries or any(code in c.groups for c in plan.countries.values())


def _case(plan: PlanData, scenario: str) -> dict[str, Any]:
    """The scenario's parameters: demand, capacity and cost factors, rule and cap switches."""
    T = range(len(plan.periods))
    mats, offers = list(plan.materials), list(plan.offers)
    dem = {(m, t): plan.demand.get((m, t), 0.0) for m in mats for t in T}
    capf = {(f, t): 1.0 for f in plan.facilities for t in T}
    costf = {(o, t): 1.0 for o in offers for t in T}
    rule_on = {(r, t): plan.rules[r].active for r in plan.rules for t in T}
    cap_on = {(c, t): plan.caps[c].active for c in plan.caps for t in T}
    rows = plan.scenarios.get(scenario, []) if scenario != "base" else []
    companies = {o.supplier for o in plan.offers.values()} | {
        f.company for f in plan.facilities.values() if f.company}
    for r in rows:
        tg = r.target or ""  # blank only for a demand row: every material
        val = 1.0 if r.value is None else r.value
        for t in T:
            if not _in(t, r.window):
                continue
            if r.action in ("rule_on", "rule_off"):
                rule_on[(tg, t)] = r.action == "rule_on"
            elif r.action in ("cap_on", "cap_off"):
                cap_on[(tg, t)] = r.action == "cap_on"
            elif r.action == "demand":
                for m in mats:
                    if r.target is None or r.target == m:
                        dem[(m, t)] *= val
            elif r.action == "capacity":
                for f, fac in plan.facilities.items():
                    if tg in plan.facilities:
                        hit = f == tg
                    elif _is_tag(plan, tg):
                        hit = fac.country in _members(plan, tg)
                    else:
                        assert tg in companies
                        hit = fac.company == tg
                    if hit:
                        capf[(f, t)] *= val
            elif r.action == "cost":
                for o in offers:
                    route = [f for _, f in _route(plan, o)]
                    if tg in plan.offers:
                        hit = o == tg
                    elif _is_tag(plan, tg):
                        hit = any(plan.facilities[f].country in _members(plan, tg)
                                  for f in route)
                    else:
                        hit = plan.offers[o].supplier == tg or any(
                            plan.facilities[f].company == tg for f in route)
                    if hit and (r.material is None or plan.offers[o].material == r.material):
                        costf[(o, t)] *= val
    return {"dem": dem, "capf": capf, "costf": costf, "rule_on": rule_on, "cap_on": cap_on}


class _LP:
    """A dense LP built row by row over named columns."""

    def __init__(self) -> None:
        self.cols: dict[tuple[Any, ...], int] = {}
        self.cost: list[float] = []
        self.ub: list[float] = []
        self.a_ub: list[dict[int, float]] = []
        self.b_ub: list[float] = []
        self.a_eq: list[dict[int, float]] = []
        self.b_eq: list[float] = []

    def var(self, key: tuple[Any, ...], cost: float = 0.0, ub: float = np.inf) -> int:
        self.cols[key] = len(self.cols)
        self.cost.append(cost)
        self.ub.append(ub)
        return self.cols[key]

    def le(self, terms: dict[int, float], rhs: float) -> None:
        self.a_ub.append(terms)
        self.b_ub.append(rhs)

    def eq(self, terms: dict[int, float], rhs: float) -> None:
        self.a_eq.append(terms)
        self.b_eq.append(rhs)

    @staticmethod
    def _dense(rows: list[dict[int, float]], n: int) -> np.ndarray | None:
        if not rows:
            return None
        a = np.zeros((len(rows), n))
        for i, r in enumerate(rows):
            for j, v in r.items():
                a[i, j] += v
        return a

    def solve(self, objective: list[float] | np.ndarray,
              extra_le: tuple[list[float], float] | None = None) -> Any:
        n = len(self.cols)
        a_ub, b_ub = list(self.a_ub), list(self.b_ub)
        if extra_le is not None:
            a_ub.append(dict(enumerate(extra_le[0])))
            b_ub.append(extra_le[1])
        return linprog(np.asarray(objective, dtype=float), A_ub=self._dense(a_ub, n),
                       b_ub=b_ub or None, A_eq=self._dense(self.a_eq, n),
                       b_eq=self.b_eq or None, bounds=[(0, u) for u in self.ub],
                       method="highs")


def reference(plan: PlanData, scenario: str = "base",
              force_origin: bool = False) -> dict[str, Any]:
    """Status, total_cost and unmet_demand of one case, from first principles.

    ``force_origin`` tracks stock by origin (c, q, c0, q0) even when no rule or
    cap applies to use: the optimum must not change.
    """
    T = list(range(len(plan.periods)))
    last = T[-1]
    y = [p.days / 365 for p in plan.periods]
    mats, offers = list(plan.materials), list(plan.offers)
    case = _case(plan, scenario)
    dem, capf, costf = case["dem"], case["capf"], case["costf"]
    rule_on, cap_on = case["rule_on"], case["cap_on"]

    def cap_of(f: str, t: int) -> float | None:
        base = plan.facilities[f].capacity
        if base is None:
            return None if capf[(f, t)] != 0 else 0.0
        return base * capf[(f, t)]

    def rule_live(rid: str, t: int) -> bool:
        return rule_on[(rid, t)] and _in(t, plan.rules[rid].window)

    def available(o: str, t: int) -> bool:
        if not _in(t, plan.offers[o].window):
            return False
        for _, f in _route(plan, o):
            if not _in(t, plan.facilities[f].window) or cap_of(f, t) == 0:
                return False
        # only a purchase ban makes an offer unavailable
        return not any(r.kind == "ban" and r.applies_to == "purchase" and rule_live(rid, t)
                       and _matches(plan, r, o) for rid, r in plan.rules.items())

    def force_majeure(o: str, t: int) -> float:
        """The smallest capacity factor k < 1 among the route's facilities in t (else 1),
        also for facilities with unlimited capacity."""
        return min([1.0] + [capf[(f, t)] for _, f in _route(plan, o) if capf[(f, t)] < 1])

    def tariff(o: str, t: int) -> float:
        off, lastf = plan.offers[o], _route(plan, o)[-1][1]
        return sum(tr.rate for tr in plan.tariffs
                   if _in(t, tr.window) and tr.material in (None, off.material)
                   and plan.facilities[lastf].country in _members(plan, tr.country))

    def shortage_pen(m: str) -> float:
        own = plan.materials[m].shortage_penalty
        return plan.settings.shortage_penalty if own is None else own

    horizon = sum(y)

    def stockpile_pen(m: str) -> float:  # per t per year
        sp = plan.settings.stockpile_penalty
        return shortage_pen(m) / (2 * horizon) if sp is None else sp

    lp = _LP()
    X: dict[tuple[str, int], int] = {}
    for o in offers:
        off = plan.offers[o]
        for t in T:
            if not available(o, t):
                continue
            X[(o, t)] = lp.var(("x", o, t), off.unit_cost * costf[(o, t)] * (1 + tariff(o, t)),
                               np.inf if off.max_volume is None else off.max_volume * y[t])
            commit = off.min_volume * force_majeure(o, t) * y[t]
            terms = {X[(o, t)]: -1.0}
            if off.take_or_pay is not None:
                w = lp.var(("w", o, t), off.take_or_pay * off.unit_cost * costf[(o, t)])
                terms[w] = -1.0
            lp.le(terms, -commit)  # x + w >= min_volume x k x y
    S, U, V = {}, {}, {}
    for m in mats:
        mat = plan.materials[m]
        for t in T:
            S[(m, t)] = lp.var(("s", m, t), mat.holding_cost * y[t]
                               - (mat.end_value if t == last else 0.0))
            U[(m, t)] = lp.var(("u", m, t), shortage_pen(m), dem[(m, t)])
            V[(m, t)] = lp.var(("v", m, t), stockpile_pen(m) * y[t])

    def offers_of(m: str, t: int) -> list[str]:
        return [o for o in offers if (o, t) in X and plan.offers[o].material == m]

    origin = force_origin or any(r.applies_to == "use" for r in plan.rules.values()) or any(
        c.applies_to == "use" for c in plan.caps.values())
    C: dict[tuple[str, int], int] = {}
    C0: dict[tuple[str, int], int] = {}
    if origin:
        Q: dict[tuple[str, int], int] = {}
        Q0: dict[tuple[str, int], int] = {}
        for m in mats:
            for t in T:
                C0[(m, t)], Q0[(m, t)] = lp.var(("c0", m, t)), lp.var(("q0", m, t))
                # q0(m,t) = q0(m,t-1) - c0(m,t), q0(m,0) = initial_stock
                terms = {Q0[(m, t)]: 1.0, C0[(m, t)]: 1.0}
                if t > 0:
                    terms[Q0[(m, t - 1)]] = -1.0
                lp.eq(terms, plan.materials[m].initial_stock if t == 0 else 0.0)
        for o in offers:
            for t in T:
                C[(o, t)], Q[(o, t)] = lp.var(("c", o, t)), lp.var(("q", o, t))
                # q(o,t) = q(o,t-1) + x(o,t) - c(o,t), q(o,0) = 0
                terms = {Q[(o, t)]: 1.0, C[(o, t)]: 1.0}
                if t > 0:
                    terms[Q[(o, t - 1)]] = -1.0
                if (o, t) in X:
                    terms[X[(o, t)]] = -1.0
                lp.eq(terms, 0.0)
        for m in mats:
            mine = [o for o in offers if plan.offers[o].material == m]
            for t in T:
                # sum c + c0 + u = demand
                terms = {C[(o, t)]: 1.0 for o in mine}
                terms[C0[(m, t)]] = 1.0
                terms[U[(m, t)]] = 1.0
                lp.eq(terms, dem[(m, t)])
                # s = sum q + q0
                terms = {Q[(o, t)]: -1.0 for o in mine}
                terms[Q0[(m, t)]] = -1.0
                terms[S[(m, t)]] = 1.0
                lp.eq(terms, 0.0)
    else:
        for m in mats:
            for t in T:
                # s(t-1) + sum x + u = demand + s(t)
                terms = {X[(o, t)]: 1.0 for o in offers_of(m, t)}
                terms[U[(m, t)]] = 1.0
                terms[S[(m, t)]] = -1.0
                if t > 0:
                    terms[S[(m, t - 1)]] = 1.0
                lp.eq(terms, dem[(m, t)] - (plan.materials[m].initial_stock if t == 0 else 0))
    for m in mats:
        for t in T:
            lo, hi = 0.0, None
            for sp in plan.stockpile:
                if sp.material == m and _in(t, sp.window):
                    # days of cover on the BASE case's demand, also in scenarios
                    base_dem = plan.demand.get((m, t), 0.0)
                    lo = max(sp.min_tonnes, sp.min_days * base_dem / plan.periods[t].days)
                    hi = sp.max_tonnes
            lp.le({S[(m, t)]: -1.0, V[(m, t)]: -1.0}, -lo)
            if hi is not None:
                lp.le({S[(m, t)]: 1.0}, hi)
    for f in plan.facilities:
        for t in T:
            capacity = cap_of(f, t)
            if capacity is not None:
                lp.le({X[(o, t)]: 1.0 for o in offers if (o, t) in X
                       and f in [ff for _, ff in _route(plan, o)]}, capacity * y[t])
    for rid, rule in plan.rules.items():
        for t in T:
            if not rule_live(rid, t):
                continue
            hit = [o for o in offers if _matches(plan, rule, o)]
            limit = (rule.limit or 0.0) * y[t]
            if rule.applies_to == "use":
                if rule.kind == "ban":
                    for o in hit:
                        lp.eq({C[(o, t)]: 1.0}, 0.0)
                else:
                    lp.le({C[(o, t)]: 1.0 for o in hit}, limit)
            elif rule.kind == "quota":
                lp.le({X[(o, t)]: 1.0 for o in hit if (o, t) in X}, limit)
    for cid, cap in plan.caps.items():
        use = cap.applies_to == "use"
        cmats = [cap.material] if cap.material else mats
        cstages = [cap.stage] if cap.stage else plan.stages
        targets = [{cc} for cc in plan.countries] if cap.country is None \
            else [_members(plan, cap.country)]
        for t in T:
            if not (cap_on[(cid, t)] and _in(t, cap.window)):
                continue
            for m in cmats:
                mine = [o for o in offers if plan.offers[o].material == m]
                flow = {o: (C if use else X)[(o, t)] for o in mine if (o, t) in (C if use else X)}
                for k in cstages:
                    for tgt in targets:
                        tot = dict.fromkeys(flow.values(), 1.0)
                        if use:  # initial stock counts in the total and in no target
                            tot[C0[(m, t)]] = 1.0
                        num = {j: 1.0 for o, j in flow.items()
                               if k in dict(_route(plan, o))
                               and plan.facilities[dict(_route(plan, o))[k]].country in tgt}
                        for share, sign in ((cap.max_share, 1.0), (cap.min_share, -1.0)):
                            if share is None:
                                continue
                            row = {j: -sign * share * v for j, v in tot.items()}
                            for j, v in num.items():
                                row[j] = row.get(j, 0.0) + sign * v
                            lp.le(row, 0.0)
    res = lp.solve(lp.cost)
    if res.status == 2:
        return {"status": "infeasible", "total_cost": None, "unmet_demand": None}
    if res.status == 3:
        return {"status": "unbounded", "total_cost": None, "unmet_demand": None}
    assert res.status == 0, res.message
    u_idx = list(U.values())
    unmet = sum(res.x[j] for j in u_idx)
    if unmet > 1e-7:
        # Ties: among cost-optimal plans the planner reports the least unmet demand.
        least_unmet = np.zeros(len(lp.cols))
        least_unmet[u_idx] = 1
        res2 = lp.solve(least_unmet, (lp.cost, res.fun + 1e-9 * max(1.0, abs(res.fun))))
        if res2.status == 0:
            unmet = float(res2.fun)
    return {"status": "optimal", "total_cost": float(res.fun), "unmet_demand": float(unmet)}
