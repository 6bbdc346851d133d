"""Warnings: input that is valid but probably not what the analyst meant.

They never stop a run (exit 0); they are printed and listed in the report's
Notes.  Each names the sheet and Excel row, says what is odd and why it
matters, and suggests what to change.  All are about the base case.
"""

from __future__ import annotations

from planner.cases import Case, Index, available, build_case, in_window
from planner.data import Cap, Offer, PlanData
from planner.model import Groups, group


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
    out.extend(_cap_warnings(plan, ix, case))
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
        if rule.kind == "ban" and o.id in ix.rule_offers[rid] and any(case.rule_on[rid]):
            reasons.append(f"ban rule {rid!r} (Rules row {rule.row}) excludes it")
    return "; ".join(reasons) or "its window, its route's facilities and the bans never overlap"


def _cap_warnings(plan: PlanData, ix: Index, case: Case) -> list[str]:
    """Caps or floors that force a material's purchases to zero in some period of the base case.

    A floor does so when its target has no available offer while others exist; a cap
    below 100% does so when every available offer of the material lies in its target.
    """
    g = group(plan, ix, case)
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
