"""Warnings: input that is valid but probably not what the analyst meant.

They never stop a run (exit 0); they are printed and listed in the report's
Notes.  Each names the sheet and Excel row, says what is odd and why it
matters, and suggests what to change.  All are about the base case.
"""

from __future__ import annotations

from planner.inputs.data import Cap, Offer, PlanData
from planner.inputs.problems import Problem
from planner.scenario.cases import Case, Index, available, build_case, in_window, target_facilities
from planner.scenario.groups import Groups, group

#: an end_value at or above this fraction of the cheapest delivered price warns
END_VALUE_CLOSE = 0.9


def end_value_problems(plan: PlanData) -> tuple[list[Problem], list[str]]:
    """Materials.end_value at or above the material's cheapest delivered price in
    the last period (base case: unit_cost x (1 + tariffs), offers available then)
    is refused: the plan would buy to hold.  Close to it (>= 90%) warns.

    A material with no offer available in the last period has no such price and
    is not checked here.
    """
    problems: list[Problem] = []
    warned: list[str] = []
    valued = [m for m in plan.materials.values() if m.end_value > 0]
    if not valued or not plan.periods:
        return problems, warned
    ix = Index.build(plan)
    avail = available(plan, ix, build_case(plan, ix))
    last = len(plan.periods) - 1
    cheapest: dict[str, float] = {}
    for oid, o in plan.offers.items():
        if avail[oid][last]:
            price = o.unit_cost * (1.0 + ix.tariff[oid][last])
            cheapest[o.material] = min(price, cheapest.get(o.material, price))
    label = plan.periods[last].label
    for m in valued:
        if m.id not in cheapest:
            continue
        price = cheapest[m.id]
        if m.end_value >= price * (1 - 1e-9):  # 50 x 1.1 is 55.000000000000007
            problems.append(Problem(
                "Materials", m.row, "end_value", m.end_value,
                f"an end_value below {price:,.2f}, the cheapest delivered price of "
                f"{m.id} in the last period ({label})",
                "At or above that price the plan would buy stock only to hold it; value "
                "end stock at what it would fetch or save, below the purchase price."))
        elif m.end_value >= END_VALUE_CLOSE * price:
            warned.append(
                f"Materials row {m.row}: end_value {m.end_value:,.2f} of {m.id} is "
                f"{m.end_value / price:.0%} of its cheapest delivered price in {label} "
                f"({price:,.2f}); the plan may buy stock mainly to hold it at the end.")
    return problems, warned


def warnings_for(plan: PlanData) -> list[str]:
    """Warnings about the base case of a validated plan, in sheet order."""
    out: list[str] = []
    if not plan.periods:
        out.append("Periods: the sheet lists no periods, so there is nothing to plan. "
                   "Add one row per period, e.g. 2027.")
    elif not any(q > 0 for q in plan.demand.values()):
        out.append("Demand: no material has any demand, so the plan buys nothing. "
                   "Add rows material, period, demand (t).")
    ix = Index.build(plan)
    case = build_case(plan, ix)
    avail = available(plan, ix, case)
    offered = {o.material for o in plan.offers.values()}
    needs: dict[str, float] = {}  # one pass over Demand (per material it was quadratic)
    for (mm, _), q in plan.demand.items():
        needs[mm] = needs.get(mm, 0) + q
    for mat, m in plan.materials.items():
        need = needs.get(mat, 0)
        if mat not in offered and need > 0:
            out.append(f"Materials row {m.row}: material {mat!r} has demand ({need:g} t in "
                       "all) but no offer; all of it will be unmet. Add an offer of it on "
                       "the Offers sheet.")
    used = {f for r in plan.routes.values() for f in r.facilities.values()}
    for fid, f in plan.facilities.items():
        if fid not in used:
            out.append(f"Facilities row {f.row}: facility {fid!r} is on no route, so it "
                       f"plays no part in the plan. Put it in the {f.stage} column of a "
                       "route, or delete the row.")
    for oid, o in plan.offers.items():
        if plan.periods and not any(avail[oid]):
            out.append(f"Offers row {o.row}: offer {oid!r} is never available in the base "
                       f"case: {_why_unavailable(plan, ix, case, o)}. It will never be "
                       "bought (nor its min_volume committed).")
    for rid, rule in plan.rules.items():
        if not ix.rule_offers[rid]:
            out.append(f"Rules row {rule.row}: rule {rid!r} matches no offer, so it never "
                       "restricts anything. Check its country, company, stage and material.")
    g = group(plan, ix, case)  # one grouping for every check that needs one
    out.extend(_cap_warnings(plan, case, g))
    out.extend(_floor_warnings(plan, case, g))
    out.extend(_price_outliers(plan))
    out.extend(_unlimited_capacity_cuts(plan))
    if plan.periods and any(p.days < SUB_YEAR_DAYS for p in plan.periods):
        out.append(
            "Periods: some periods are shorter than a year. Per-year rates (capacity, "
            "min_volume, max_volume, holding_cost, quota limits) apply to each period "
            "x days/365, so periods that straddle a calendar year can together exceed a "
            "yearly limit within it; the report's Notes say where the plan does.")
    return out


#: a unit_cost this many times below (or above) the median of the material's other
#: offers is probably in the wrong unit (per kg instead of per t)
PRICE_RATIO = 100.0


def _price_outliers(plan: PlanData) -> list[str]:
    """Offers priced far from the material's other offers (a per-kg price, say)."""
    out: list[str] = []
    by_material: dict[str, list[Offer]] = {}
    for o in plan.offers.values():
        by_material.setdefault(o.material, []).append(o)
    for mat, offers in by_material.items():
        for o in offers:
            others = sorted(x.unit_cost for x in offers if x.id != o.id and x.unit_cost > 0)
            if not others or o.unit_cost <= 0:
                continue
            median = others[len(others) // 2] if len(others) % 2 else (
                others[len(others) // 2 - 1] + others[len(others) // 2]) / 2
            ratio = median / o.unit_cost
            if ratio >= PRICE_RATIO or ratio <= 1 / PRICE_RATIO:
                side = (f"{ratio:,.0f}x below" if ratio >= 1 else f"{1 / ratio:,.0f}x above")
                out.append(
                    f"Offers row {o.row}: unit_cost {o.unit_cost:,.2f} of offer {o.id!r} is "
                    f"{side} the other offers of {mat!r} (median {median:,.2f}). Prices are "
                    "per t: a price per kg is 1,000x too low. Check the unit.")
    return out


def _floor_warnings(plan: PlanData, case: Case, g: Groups) -> list[str]:
    """Floors (min_share) that limit purchases below demand in the base case.

    A floor caps the material's purchases at (what its target can supply) /
    min_share; where every offer in the target has a max_volume, that can be less
    than the demand, which then goes unmet (or, with commitments, is infeasible).
    Also a floor above a cap's max_share on the same scope.  Both are typical of a
    min_share typed where max_share was meant.
    """
    labels = [p.label for p in plan.periods]
    y = [p.years for p in plan.periods]
    out: list[str] = []
    for cid, cap in plan.caps.items():
        if not cap.min_share or cap.applies_to != "purchase":
            continue
        mats = [cap.material] if cap.material else list(plan.materials)
        stages = [cap.stage] if cap.stage else plan.stages
        members = [{c} for c in plan.countries] if cap.country is None else [
            plan.members(cap.country)]
        short: dict[str, list[str]] = {}
        for t in range(cap.window[0], cap.window[1] + 1):
            if not case.cap_on[cid][t]:
                continue
            for mat in mats:
                need = case.demand.get((mat, t), 0.0)
                if need <= 0 or not g.by_material.get((mat, t)):
                    continue
                for stage in stages:
                    by_c = g.by_stage_country.get((mat, stage, t), {})
                    for group_ in members:
                        flows = [k for c in group_ for k in by_c.get(c, ())]
                        highs = [plan.offers[o].max_volume for o, _ in flows]
                        if not flows or any(h is None for h in highs):
                            continue
                        supply = sum(h * y[t] for h in highs if h is not None)
                        if supply < cap.min_share * need - 1e-9:
                            short.setdefault(mat, []).append(labels[t])
        for mat, periods in short.items():
            out.append(f"Caps row {cap.row}: floor {cid!r} (min_share {cap.min_share:.0%}) "
                       f"can only be met if purchases of {mat!r} stay below its demand in "
                       f"{', '.join(dict.fromkeys(periods))}: its target cannot supply "
                       f"{cap.min_share:.0%} of the demand within the offers' max_volume. "
                       "The rest goes unmet. Did you mean max_share?")
        for other_id, other in plan.caps.items():
            if other_id == cid or other.max_share is None or other.applies_to != "purchase":
                continue
            same = (other.material in (None, cap.material) and other.stage in (None, cap.stage)
                    and cap.country is not None and other.country is not None
                    and plan.members(cap.country) <= plan.members(other.country))
            if same and cap.min_share > other.max_share:
                out.append(f"Caps row {cap.row}: floor {cid!r} asks for at least "
                           f"{cap.min_share:.0%} from {cap.country!r}, above cap "
                           f"{other_id!r} (Caps row {other.row}) allowing at most "
                           f"{other.max_share:.0%}: together they force purchases to zero "
                           "wherever both apply. Did you mean max_share?")
    return out


#: periods shorter than this are sub-year periods (a 366-day leap year is a year)
SUB_YEAR_DAYS = 360


def _unlimited_capacity_cuts(plan: PlanData) -> list[str]:
    """A capacity factor below 1 (not 0) on facilities of unlimited capacity changes
    nothing but the force-majeure scaling of min_volume: say so, row by row."""
    out: list[str] = []
    groups = plan.groups()
    for rows in plan.scenarios.values():
        for row in rows:
            if row.action != "capacity" or row.value is None or not 0 < row.value < 1:
                continue
            assert row.target is not None
            blank = [f for f in target_facilities(plan, row.target, groups)
                     if plan.facilities[f].capacity is None]
            if blank:
                names = ", ".join(blank[:5]) + (f" and {len(blank) - 5} more"
                                                if len(blank) > 5 else "")
                out.append(
                    f"Scenarios row {row.row}: capacity x {row.value:g} on {row.target!r} "
                    f"leaves facilities without a capacity ({names}) unlimited, so it only "
                    "scales their offers' min_volume (force majeure). Give those facilities "
                    "a capacity on the Facilities sheet to model a partial cut.")
    return out


def _why_unavailable(plan: PlanData, ix: Index, case: Case, o: Offer) -> str:
    """The reasons an offer is unavailable in every period, in plain words."""
    labels = [p.label for p in plan.periods]
    n = len(labels)
    reasons: list[str] = []
    if not any(in_window(t, o.window) for t in range(n)):
        reasons.append("its own from_period/to_period window is empty")
    for fid in ix.route_facilities[o.id]:
        f = plan.facilities[fid]
        outside = [t for t in range(n) if not in_window(t, f.window)]
        zero = [t for t in range(n) if case.capacity[fid][t] == 0]
        if len(outside) == n:
            reasons.append(f"facility {fid!r} on its route never operates (window)")
        elif zero:
            reasons.append(f"facility {fid!r} on its route has zero capacity in "
                           + ", ".join(labels[t] for t in zero))
        elif outside:
            reasons.append(f"facility {fid!r} on its route is closed in "
                           + ", ".join(labels[t] for t in outside))
    for rid, rule in plan.rules.items():
        if rule.excludes_offers and o.id in ix.rule_offers[rid] and any(case.rule_on[rid]):
            reasons.append(f"ban rule {rid!r} (Rules row {rule.row}) excludes it")
    return "; ".join(reasons) or "its window, its route's facilities and the bans never overlap"


def _cap_warnings(plan: PlanData, case: Case, g: Groups) -> list[str]:
    """Caps or floors that force a material's purchases to zero in some period of the base case.

    A floor does so when its target has no available offer while others exist; a cap
    below 100% does so when every available offer of the material lies in its target.
    """
    labels = [p.label for p in plan.periods]
    out: list[str] = []
    for cid, cap in plan.caps.items():
        hits: dict[str, list[str]] = {}
        for t in range(cap.window[0], cap.window[1] + 1):
            if not case.cap_on[cid][t]:
                continue
            for mat in _forced_zero(plan, g, cap, t):
                hits.setdefault(mat, []).append(labels[t])
        for mat, periods in hits.items():
            what = (f"min_share {cap.min_share:.0%}" if cap.min_share else "") + (
                " and " if cap.min_share and cap.max_share is not None else "") + (
                f"max_share {cap.max_share:.0%}" if cap.max_share is not None else "")
            out.append(f"Caps row {cap.row}: cap {cid!r} ({what}) cannot be met by the "
                       f"available offers of {mat!r} in {', '.join(periods)}, so it forces "
                       f"purchases of {mat!r} there to zero (the demand goes unmet). Add "
                       "offers that satisfy it, relax the share, or set active to FALSE.")
    return out


def _forced_zero(plan: PlanData, g: Groups, cap: Cap, t: int) -> list[str]:
    """Materials whose every purchase in period ``t`` would break ``cap``."""
    mats = [cap.material] if cap.material else list(plan.materials)
    stages = [cap.stage] if cap.stage else plan.stages
    targets = ([{c} for c in plan.countries] if cap.country is None
               else [plan.members(cap.country)])
    out = []
    for mat in mats:
        total = g.by_material.get((mat, t))
        if not total:
            continue
        hit = False
        for stage in stages:
            by_c = g.by_stage_country.get((mat, stage, t), {})
            for members in targets:
                inside = sum(len(by_c.get(c, ())) for c in members)
                hit |= bool(cap.min_share) and inside == 0
                hit |= (cap.max_share is not None and cap.max_share < 1
                        and inside == len(total))
        if hit:
            out.append(mat)
    return out
