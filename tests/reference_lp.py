"""An independent implementation of contract section 3, for cross-checking the planner.

Written from the contract text alone, sharing nothing with planner.cases or
planner.model: scenario factors, availability, rule matching, tariffs and caps
are recomputed here and the LP is solved with scipy's HiGHS (``linprog``).
It is slow and dense on purpose: clarity over speed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import linprog

from planner.data import PlanData


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


def reference(plan: PlanData, scenario: str = "base") -> dict[str, Any]:
    """Status, total_cost and unmet_demand of one case, from first principles."""
    T = range(len(plan.periods))
    y = [p.days / 365 for p in plan.periods]
    mats = list(plan.materials)
    offers = list(plan.offers)
    # --- scenario parameters
    dem = {(m, t): plan.demand.get((m, t), 0.0) for m in mats for t in T}
    capf = {(f, t): 1.0 for f in plan.facilities for t in T}
    costf = {(o, t): 1.0 for o in offers for t in T}
    rule_on = {(r, t): plan.rules[r].active for r in plan.rules for t in T}
    cap_on = {(c, t): plan.caps[c].active for c in plan.caps for t in T}
    rows = plan.scenarios.get(scenario, []) if scenario != "base" else []
    companies = {o.supplier for o in plan.offers.values()} | {
        f.company for f in plan.facilities.values() if f.company}
    for r in rows:
        for t in T:
            if not _in(t, r.window):
                continue
            if r.action in ("rule_on", "rule_off"):
                rule_on[(r.target, t)] = r.action == "rule_on"
            elif r.action in ("cap_on", "cap_off"):
                cap_on[(r.target, t)] = r.action == "cap_on"
            elif r.action == "demand":
                for m in mats:
                    if r.target is None or r.target == m:
                        dem[(m, t)] *= r.value
            elif r.action == "capacity":
                tg = r.target
                for f, fac in plan.facilities.items():
                    if tg in plan.facilities:
                        hit = f == tg
                    elif tg in plan.countries or any(tg in c.groups
                                                     for c in plan.countries.values()):
                        hit = fac.country in _members(plan, tg)
                    else:
                        assert tg in companies
                        hit = fac.company == tg
                    if hit:
                        capf[(f, t)] *= r.value
            elif r.action == "cost":
                tg = r.target
                for o in offers:
                    route = [f for _, f in _route(plan, o)]
                    if tg in plan.offers:
                        hit = o == tg
                    elif tg in plan.countries or any(tg in c.groups
                                                     for c in plan.countries.values()):
                        hit = any(plan.facilities[f].country in _members(plan, tg)
                                  for f in route)
                    else:
                        hit = plan.offers[o].supplier == tg or any(
                            plan.facilities[f].company == tg for f in route)
                    if hit and (r.material is None or plan.offers[o].material == r.material):
                        costf[(o, t)] *= r.value

    def cap_of(f: str, t: int) -> float | None:
        base = plan.facilities[f].capacity
        if base is None:
            return None if capf[(f, t)] != 0 else 0.0
        return base * capf[(f, t)]

    def available(o: str, t: int) -> bool:
        off = plan.offers[o]
        if not _in(t, off.window):
            return False
        for _, f in _route(plan, o):
            if not _in(t, plan.facilities[f].window) or cap_of(f, t) == 0:
                return False
        for rid, rule in plan.rules.items():
            if rule.kind == "ban" and rule_on[(rid, t)] and _in(t, rule.window) \
                    and _matches(plan, rule, o):
                return False
        return True

    # --- variables
    xs = [(o, t) for o in offers for t in T if available(o, t)]
    cols: dict[tuple[str, Any, Any], int] = {}
    for k in xs:
        cols[("x", *k)] = len(cols)
    for m in mats:
        for t in T:
            for v in ("s", "u", "v"):
                cols[(v, m, t)] = len(cols)
    n = len(cols)
    c = np.zeros(n)
    lb = np.zeros(n)
    ub = np.full(n, np.inf)
    for (o, t) in xs:
        off = plan.offers[o]
        rate = 0.0
        last = _route(plan, o)[-1][1]
        for tr in plan.tariffs:
            if _in(t, tr.window) and (tr.material is None or tr.material == off.material) \
                    and plan.facilities[last].country in _members(plan, tr.country):
                rate += tr.rate
        j = cols[("x", o, t)]
        c[j] = off.unit_cost * costf[(o, t)] * (1 + rate)
        lb[j] = off.min_volume * y[t]
        ub[j] = np.inf if off.max_volume is None else off.max_volume * y[t]
    st = plan.settings
    for m in mats:
        pen = plan.materials[m].shortage_penalty
        pen = st.shortage_penalty if pen is None else pen
        for t in T:
            c[cols[("s", m, t)]] = plan.materials[m].holding_cost * y[t]
            c[cols[("u", m, t)]] = pen
            ub[cols[("u", m, t)]] = dem[(m, t)]
            c[cols[("v", m, t)]] = st.stockpile_penalty
    a_eq: list[np.ndarray] = []
    b_eq: list[float] = []
    a_ub: list[np.ndarray] = []
    b_ub: list[float] = []

    def row() -> np.ndarray:
        return np.zeros(n)

    for m in mats:
        for t in T:
            r = row()
            for (o, tt) in xs:
                if tt == t and plan.offers[o].material == m:
                    r[cols[("x", o, t)]] = 1
            r[cols[("u", m, t)]] = 1
            r[cols[("s", m, t)]] = -1
            rhs = dem[(m, t)]
            if t > 0:
                r[cols[("s", m, t - 1)]] = 1
            else:
                rhs -= plan.materials[m].initial_stock
            a_eq.append(r)
            b_eq.append(rhs)
            lo, hi = 0.0, None
            for sp in plan.stockpile:
                if sp.material == m and _in(t, sp.window):
                    lo = max(sp.min_tonnes, sp.min_days * dem[(m, t)] / plan.periods[t].days)
                    hi = sp.max_tonnes
            r = row()
            r[cols[("s", m, t)]] = -1
            r[cols[("v", m, t)]] = -1
            a_ub.append(r)
            b_ub.append(-lo)
            if hi is not None:
                r = row()
                r[cols[("s", m, t)]] = 1
                a_ub.append(r)
                b_ub.append(hi)
    for f in plan.facilities:
        for t in T:
            cap = cap_of(f, t)
            if cap is None:
                continue
            r = row()
            for (o, tt) in xs:
                if tt == t and f in [ff for _, ff in _route(plan, o)]:
                    r[cols[("x", o, t)]] = 1
            a_ub.append(r)
            b_ub.append(cap * y[t])
    for rid, rule in plan.rules.items():
        if rule.kind != "quota":
            continue
        for t in T:
            if rule_on[(rid, t)] and _in(t, rule.window):
                r = row()
                for (o, tt) in xs:
                    if tt == t and _matches(plan, rule, o):
                        r[cols[("x", o, t)]] = 1
                a_ub.append(r)
                b_ub.append(rule.limit * y[t])
    for cid, cap in plan.caps.items():
        cmats = [cap.material] if cap.material else mats
        cstages = [cap.stage] if cap.stage else plan.stages
        targets = [{cc} for cc in plan.countries] if cap.country is None \
            else [_members(plan, cap.country)]
        for t in T:
            if not (cap_on[(cid, t)] and _in(t, cap.window)):
                continue
            for m in cmats:
                for k in cstages:
                    for tgt in targets:
                        num, tot = row(), row()
                        for (o, tt) in xs:
                            if tt != t or plan.offers[o].material != m:
                                continue
                            tot[cols[("x", o, t)]] = 1
                            chain = dict(_route(plan, o))
                            if k in chain and plan.facilities[chain[k]].country in tgt:
                                num[cols[("x", o, t)]] = 1
                        if cap.max_share is not None:
                            a_ub.append(num - cap.max_share * tot)
                            b_ub.append(0.0)
                        if cap.min_share is not None:
                            a_ub.append(cap.min_share * tot - num)
                            b_ub.append(0.0)
    res = linprog(c, A_ub=np.array(a_ub) if a_ub else None, b_ub=b_ub or None,
                  A_eq=np.array(a_eq) if a_eq else None, b_eq=b_eq or None,
                  bounds=list(zip(lb, ub, strict=True)), method="highs")
    if res.status == 2:
        return {"status": "infeasible", "total_cost": None, "unmet_demand": None}
    assert res.status == 0, res.message
    u_idx = [cols[("u", m, t)] for m in mats for t in T]
    unmet = sum(res.x[j] for j in u_idx)
    if unmet > 1e-7:
        # Ties: among cost-optimal plans the planner reports the least unmet demand.
        w = np.zeros(n)
        w[u_idx] = 1
        a2 = [*a_ub, c]
        b2 = [*b_ub, res.fun + 1e-9 * max(1.0, abs(res.fun))]
        res2 = linprog(w, A_ub=np.array(a2), b_ub=b2,
                       A_eq=np.array(a_eq) if a_eq else None, b_eq=b_eq or None,
                       bounds=list(zip(lb, ub, strict=True)), method="highs")
        if res2.status == 0:
            unmet = float(res2.fun)
    return {"status": "optimal", "total_cost": float(res.fun), "unmet_demand": float(unmet)}
