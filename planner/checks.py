"""Warnings: input that is valid but probably not what the analyst meant.

They never stop a run; they are printed and listed in the report.
"""

from __future__ import annotations

from planner.cases import Case, Index, available, build_case
from planner.data import PlanData
from planner.model import group


def warnings_for(plan: PlanData) -> list[str]:
    """Warnings about the base case of a validated plan."""
    out: list[str] = []
    ix = Index.build(plan)
    case = build_case(plan, ix)
    avail = available(plan, ix, case)
    for oid, o in plan.offers.items():
        if not any(avail[oid]):
            out.append(f"Offers row {o.row}: offer {oid!r} is never available in the base case "
                       "(its window, a facility's window or outage, or a ban rules it out).")
    offered = {o.material for o in plan.offers.values()}
    for mat in plan.materials:
        if mat not in offered and any(q > 0 for (m, _), q in plan.demand.items() if m == mat):
            out.append(f"Materials: {mat!r} has demand but no offer; all of it will be unmet.")
    used = {f for r in plan.routes.values() for f in r.facilities.values()}
    for fid, f in plan.facilities.items():
        if fid not in used:
            out.append(f"Facilities row {f.row}: facility {fid!r} is on no route.")
    for rid, rule in plan.rules.items():
        if not ix.rule_offers[rid]:
            out.append(f"Rules row {rule.row}: rule {rid!r} matches no offer.")
    out.extend(_cap_warnings(plan, ix, case))
    return out


def _cap_warnings(plan: PlanData, ix: Index, case: Case) -> list[str]:
    """Caps or floors that force a material's purchases to zero in some period of the base case.

    A floor does so when its target has no available offer; a cap below 100% does so
    when every available offer of the material lies in its target.
    """
    g = group(plan, ix, case)
    out: list[str] = []
    for cid, cap in plan.caps.items():
        if not cap.active:
            continue
        mats = [cap.material] if cap.material else list(plan.materials)
        stages = [cap.stage] if cap.stage else plan.stages
        targets = ([{c} for c in plan.countries] if cap.country is None
                   else [plan.members(cap.country)])
        hit = False
        for t in range(cap.window[0], cap.window[1] + 1):
            for mat in mats:
                total = g.by_material.get((mat, t))
                if not total:
                    continue
                for stage in stages:
                    by_c = g.by_stage_country.get((mat, stage, t), {})
                    for members in targets:
                        inside = sum(len(by_c.get(c, ())) for c in members)
                        hit |= bool(cap.min_share) and inside == 0
                        hit |= (cap.max_share is not None and cap.max_share < 1
                                and inside == len(total))
        if hit:
            out.append(f"Caps row {cap.row}: cap {cid!r} cannot be met by any available offer "
                       "in some period; it forces the material's purchases there to zero.")
    return out
