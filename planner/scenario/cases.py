"""Cases: the base case and each scenario, as effective per-period parameters.

A :class:`Case` holds what a scenario changes (demand, facility capacity and
offer cost factors, which rules and caps are in force in each period).
:class:`Index` holds what never changes between cases: which rules, tariffs
and scenario targets each offer matches, computed in one pass over the offers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from planner.inputs.data import Offer, PlanData, Rule, Window


def in_window(t: int, w: Window) -> bool:
    return w[0] <= t <= w[1]


@dataclass
class Index:
    """Static groupings of the offers, built once per workbook."""

    plan: PlanData
    #: offer -> facilities on its route, in stage order
    route_facilities: dict[str, list[str]] = field(default_factory=dict)
    #: offer -> (stage -> country of the facility at that stage)
    stage_country: dict[str, dict[str, str]] = field(default_factory=dict)
    #: facility -> offers whose route uses it
    offers_by_facility: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    #: material -> offers of it
    offers_by_material: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    #: rule -> offers it matches
    rule_offers: dict[str, list[str]] = field(default_factory=dict)
    #: offer -> per-period summed tariff rate
    tariff: dict[str, list[float]] = field(default_factory=dict)

    @classmethod
    def build(cls, plan: PlanData) -> Index:
        ix = cls(plan)
        groups = plan.groups()
        n = len(plan.periods)
        fac = plan.facilities
        for oid, o in plan.offers.items():
            chain = plan.routes[o.route].facilities
            ix.route_facilities[oid] = list(chain.values())
            ix.stage_country[oid] = {k: fac[f].country for k, f in chain.items()}
            for f in chain.values():
                ix.offers_by_facility[f].append(oid)
            ix.offers_by_material[o.material].append(oid)
        for rid, rule in plan.rules.items():
            members = _members(rule.country, plan, groups)
            ix.rule_offers[rid] = [oid for oid, o in plan.offers.items()
                                   if ix.matches(rule, o, members)]
        for oid, o in plan.offers.items():
            last_country = fac[plan.routes[o.route].last_facility].country
            rates = [0.0] * n
            for tr in plan.tariffs:
                if (tr.material is None or tr.material == o.material) and \
                        last_country in _members(tr.country, plan, groups):
                    for t in range(tr.window[0], tr.window[1] + 1):
                        rates[t] += tr.rate
            ix.tariff[oid] = rates
        return ix

    def matches(self, rule: Rule, o: Offer, members: set[str] | None) -> bool:
        """The contract's matching of an offer by a ban or quota rule."""
        if rule.material is not None and rule.material != o.material:
            return False
        chain = self.plan.routes[o.route].facilities
        at = [f for k, f in chain.items() if rule.stage is None or k == rule.stage]
        fac = self.plan.facilities
        if rule.country is not None:
            assert members is not None
            if not any(fac[f].country in members for f in at):
                return False
        if rule.company is not None:
            if o.supplier != rule.company and not any(fac[f].company == rule.company
                                                      for f in at):
                return False
        return True


def _members(code: str | None, plan: PlanData, groups: dict[str, set[str]]) -> set[str]:
    if code is None:
        return set()
    if code in plan.countries:
        return {code}
    return groups.get(code, set())


@dataclass
class Case:
    """Effective parameters of one case (``base`` or a scenario)."""

    name: str
    #: (material, period) -> demand after scenario factors
    demand: dict[tuple[str, int], float]
    #: facility -> per-period capacity in t/yr after factors (None: unlimited)
    capacity: dict[str, list[float | None]]
    #: offer -> per-period cost factor (absent: 1 everywhere)
    cost_factor: dict[str, list[float]]
    #: rule -> per-period in force
    rule_on: dict[str, list[bool]]
    #: cap -> per-period in force
    cap_on: dict[str, list[bool]]
    #: facility -> per-period product of the scenario's capacity factors (absent: 1),
    #: also for facilities of unlimited capacity: force majeure scales min_volume by it
    cap_factor: dict[str, list[float]] = field(default_factory=dict)

    def force_majeure(self, facilities: list[str], t: int) -> float:
        """k(o,t): the smallest capacity factor below 1 on the route in t, else 1."""
        k = 1.0
        for f in facilities:
            factors = self.cap_factor.get(f)
            if factors is not None and factors[t] < k:
                k = factors[t]
        return k


def scale_capacity(capacity: float | None, factor: float) -> float | None:
    """A capacity times a scenario factor.  Unlimited capacity scaled by 0 is an
    outage (0); by any other factor it stays unlimited (None)."""
    if capacity is None:
        return 0.0 if factor == 0 else None
    return capacity * factor


def build_case(plan: PlanData, ix: Index, name: str = "base") -> Case:
    """Apply the rows of scenario ``name`` (none for ``base``) to the base data."""
    n = len(plan.periods)
    demand = dict(plan.demand)
    capacity: dict[str, list[float | None]] = {
        f.id: [f.capacity] * n for f in plan.facilities.values()}
    cost: dict[str, list[float]] = {}
    rule_on = {r.id: [r.active] * n for r in plan.rules.values()}
    cap_on = {c.id: [c.active] * n for c in plan.caps.values()}
    cap_factor: dict[str, list[float]] = {}
    rows = plan.scenarios.get(name, []) if name != "base" else []
    groups = plan.groups()
    for row in rows:
        window = range(row.window[0], row.window[1] + 1)
        if row.action in ("rule_on", "rule_off", "cap_on", "cap_off"):
            table = rule_on if row.action.startswith("rule") else cap_on
            assert row.target is not None
            for t in window:
                table[row.target][t] = row.action.endswith("_on")
        elif row.action == "demand":
            assert row.value is not None
            for (m, t), q in list(demand.items()):
                if (row.target is None or m == row.target) and t in window:
                    demand[(m, t)] = q * row.value
        elif row.action == "capacity":
            assert row.value is not None and row.target is not None
            for fid in target_facilities(plan, row.target, groups):
                caps = capacity[fid]
                factors = cap_factor.setdefault(fid, [1.0] * n)
                for t in window:
                    caps[t] = scale_capacity(caps[t], row.value)
                    factors[t] *= row.value
        elif row.action == "cost":
            assert row.value is not None and row.target is not None
            for oid in _target_offers(plan, ix, row.target, row.material, groups):
                f = cost.setdefault(oid, [1.0] * n)
                for t in window:
                    f[t] *= row.value
    return Case(name, demand, capacity, cost, rule_on, cap_on, cap_factor)


def target_facilities(plan: PlanData, target: str, groups: dict[str, set[str]]) -> list[str]:
    if target in plan.facilities:
        return [target]
    if target in plan.countries or target in groups:
        members = _members(target, plan, groups)
        return [f.id for f in plan.facilities.values() if f.country in members]
    return [f.id for f in plan.facilities.values() if f.company == target]


def _target_offers(plan: PlanData, ix: Index, target: str, material: str | None,
                   groups: dict[str, set[str]]) -> list[str]:
    if target in plan.offers:
        found = [target]
    elif target in plan.countries or target in groups:
        members = _members(target, plan, groups)
        found = [o for o, cs in ix.stage_country.items() if members & set(cs.values())]
    else:
        fac = plan.facilities
        found = [oid for oid, o in plan.offers.items()
                 if o.supplier == target
                 or any(fac[f].company == target for f in ix.route_facilities[oid])]
    return [o for o in found if material is None or plan.offers[o].material == material]


def available(plan: PlanData, ix: Index, case: Case) -> dict[str, list[bool]]:
    """Offer -> per-period availability: window, facilities up, no ban in force.

    Worked out once per route (whether all its facilities are up) and once per
    (route, offer window); offers with the same route and window and no ban share one
    list, which callers only read.
    """
    n = len(plan.periods)
    banned: dict[str, list[bool]] = {}
    for rid, rule in plan.rules.items():
        if not rule.excludes_offers:
            continue
        on = [case.rule_on[rid][t] and in_window(t, rule.window) for t in range(n)]
        if not any(on):
            continue
        for oid in ix.rule_offers[rid]:
            b = banned.setdefault(oid, [False] * n)
            for t in range(n):
                b[t] = b[t] or on[t]
    fac_up: dict[str, list[bool]] = {}
    for fid, f in plan.facilities.items():
        caps = case.capacity[fid]
        fac_up[fid] = [in_window(t, f.window) and caps[t] != 0 for t in range(n)]
    route_up = {rid: [all(fac_up[f][t] for f in r.facilities.values()) for t in range(n)]
                for rid, r in plan.routes.items()}
    shared: dict[tuple[str, Window], list[bool]] = {}
    out: dict[str, list[bool]] = {}
    for oid, o in plan.offers.items():
        key = (o.route, o.window)
        flags = shared.get(key)
        if flags is None:
            up = route_up[o.route]
            flags = shared[key] = [in_window(t, o.window) and up[t] for t in range(n)]
        ban = banned.get(oid)
        out[oid] = flags if ban is None else [f and not b for f, b in zip(flags, ban,
                                                                          strict=True)]
    return out


def case_names(plan: PlanData, only: list[str] | None = None) -> list[str]:
    """``base`` then the scenarios, in sheet order (or only those asked for; [] = base only)."""
    names = list(plan.scenarios)
    if only is not None:
        names = [s for s in names if s in only]
    return ["base", *names]


def superset(plan: PlanData, ix: Index, cases: list[Case]
             ) -> tuple[Case, dict[str, list[bool]]]:
    """A case whose model holds every column and row any of ``cases`` has, and its
    offer availability (an offer-period is available when it is in some case).

    Every rule and cap is in force wherever one of the cases has it in force (bans
    only decide availability, given here); a facility has a capacity row wherever
    one of the cases limits it; force majeure is left out (k = 1), so every
    commitment any case has exists.  The numbers (demand, capacities, prices,
    commitments) are the first case's or placeholders: the engine of
    :mod:`planner.run.batch` sets every case's own before solving it.
    """
    n = len(plan.periods)
    avail: dict[str, list[bool]] = {}
    for case in cases:
        for oid, flags in available(plan, ix, case).items():
            have = avail.setdefault(oid, [False] * n)
            for t, ok in enumerate(flags):
                have[t] = have[t] or ok

    def union(tables: list[dict[str, list[bool]]]) -> dict[str, list[bool]]:
        return {key: [any(tb[key][t] for tb in tables) for t in range(n)]
                for key in tables[0]}

    capacity: dict[str, list[float | None]] = {}
    for fid in plan.facilities:
        per = [[c.capacity[fid][t] for c in cases] for t in range(n)]
        capacity[fid] = [next((v for v in vs if v is not None), None) for vs in per]
    first = cases[0]
    return (Case("superset", dict(first.demand), capacity, {},
                 union([c.rule_on for c in cases]), union([c.cap_on for c in cases])),
            avail)
