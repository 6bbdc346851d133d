"""The groupings the model's families sum over: pure Python, no Pyomo.

:func:`group` makes one pass over the available offers of a case and returns every
index set and grouping the constraint families need (flows, prices, commitments,
flows by material, by facility and by stage and country, stockpile bounds, and the
consumption keys of origin-tracked stock); :func:`quota_terms` and :func:`cap_terms`
say which flows each quota and cap row sums.  The model (:mod:`planner.model.build`)
only turns them into rows, and the validator's warnings (:mod:`planner.scenario.checks`)
read them without loading Pyomo.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

from planner.inputs.data import PlanData
from planner.scenario.cases import Case, Index, available, in_window

Key = tuple[str, int]


@dataclass
class Groups:
    """Everything the constraint families sum over, computed in one pass."""

    #: available (offer, period) pairs, the flow variables
    flows: list[Key] = field(default_factory=list)
    #: offer -> its flow keys, in period order (offers with a flow only)
    by_offer: dict[str, list[Key]] = field(default_factory=dict)
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


def group(plan: PlanData, ix: Index, case: Case,
          avail: dict[str, list[bool]] | None = None, like: Groups | None = None) -> Groups:
    """One pass over the available offers builds every grouping the model needs.

    ``avail`` overrides which offer-periods have a flow (default: the case's own,
    :func:`planner.scenario.cases.available`); the superset of many cases uses it.
    ``like``: groups made for the same availability (another case's): its index sets
    and groupings are shared, and only this case's numbers (prices, commitments,
    stock bounds, use bans) are worked out.
    """
    if like is not None:
        g = replace(like, price={}, lower={}, commit={}, top_price={}, min_stock={},
                    max_stock={}, cons_banned=set())
    else:
        g = Groups()
        _group_structure(plan, ix, available(plan, ix, case) if avail is None else avail, g)
    _group_numbers(plan, ix, case, g)
    return g


def _group_structure(plan: PlanData, ix: Index, avail: dict[str, list[bool]],
                     g: Groups) -> None:
    """The flows, and the flows by material, facility and stage country."""
    # Loop invariants hoisted, one list of keys per offer: this pass is a large
    # part of the build at a million flows (docs/benchmarks.md).
    flows, by_offer = g.flows, g.by_offer
    by_material, by_facility, by_sc = g.by_material, g.by_facility, g.by_stage_country
    for oid, o in plan.offers.items():
        ts = [t for t, ok in enumerate(avail[oid]) if ok]
        if not ts:
            continue
        keys = [(oid, t) for t in ts]
        by_offer[oid] = keys
        flows.extend(keys)
        mat = o.material
        for key in keys:
            by_material[(mat, key[1])].append(key)
        for f in ix.route_facilities[oid]:
            for key in keys:
                by_facility[(f, key[1])].append(key)
        sc = list(ix.stage_country[oid].items())
        for key in keys:
            t = key[1]
            for stage, country in sc:
                by_sc[(mat, stage, t)][country].append(key)
    if plan.uses_origin:
        _origin_structure(plan, ix, g)


def _group_numbers(plan: PlanData, ix: Index, case: Case, g: Groups) -> None:
    """The case's prices, commitments and lower bounds of the flows, stock bounds and
    use bans."""
    y = _years(plan)
    price = g.price
    for oid, keys in g.by_offer.items():
        o = plan.offers[oid]
        factor = case.cost_factor.get(oid)
        tariff = ix.tariff[oid]
        cost = o.unit_cost
        if factor:
            price.update(zip(keys, [cost * factor[t] * (1.0 + tariff[t]) for _, t in keys],
                             strict=True))
        else:
            price.update(zip(keys, [cost * 1.0 * (1.0 + tariff[t]) for _, t in keys],
                             strict=True))
        if o.min_volume > 0:
            chain = ix.route_facilities[oid]
            for key in keys:
                t = key[1]
                need = o.min_volume * case.force_majeure(chain, t) * y[t]
                if need <= 0:
                    continue
                if o.take_or_pay is None:
                    g.lower[key] = need
                else:
                    g.commit[key] = need
                    g.top_price[key] = o.take_or_pay * cost * (factor[t] if factor else 1.0)
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
        _use_bans(plan, ix, case, g)


def use_materials(plan: PlanData) -> list[str]:
    """Materials some ``use`` rule or cap can act on (blank material: every one)."""
    scopes = [r.material for r in plan.rules.values() if r.applies_to == "use"]
    scopes += [c.material for c in plan.caps.values() if c.applies_to == "use"]
    if any(m is None for m in scopes):
        return list(plan.materials)
    return [m for m in plan.materials if m in set(scopes)]


def _origin_structure(plan: PlanData, ix: Index, g: Groups) -> None:
    """Consumption keys c(o,t) of the materials in use scope.

    Stock bought from an offer stays in q(o,t) after the offer's window ends, so
    its keys run from its first available period to the end of the horizon.
    """
    n = len(plan.periods)
    g.use_materials = use_materials(plan)
    scope = set(g.use_materials)
    for oid, flows in g.by_offer.items():
        o = plan.offers[oid]
        if o.material not in scope:
            continue
        sc = list(ix.stage_country[oid].items())
        for t in range(flows[0][1], n):
            key = (oid, t)
            g.cons.append(key)
            g.cons_by_material[(o.material, t)].append(key)
            for stage, country in sc:
                g.cons_by_stage_country[(o.material, stage, t)][country].append(key)


def _use_bans(plan: PlanData, ix: Index, case: Case, g: Groups) -> None:
    """The consumption keys a use ban in force forbids."""
    n = len(plan.periods)
    keys = set(g.cons)
    for rid, rule in plan.rules.items():
        if rule.kind != "ban" or rule.applies_to != "use":
            continue
        for t in range(n):
            if case.rule_on[rid][t] and in_window(t, rule.window):
                g.cons_banned.update(k for o in ix.rule_offers[rid] if (k := (o, t)) in keys)


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


def _years(plan: PlanData) -> list[float]:
    return [p.years for p in plan.periods]
