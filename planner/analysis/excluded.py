"""Offers a case cannot buy although they are inside their own window: the ban or the
facility responsible (the report's Excluded offers sheet), computed when the case is
solved so that the report reads results only."""

from __future__ import annotations

from typing import Any

from planner.analysis.results import CaseResult
from planner.analysis.table import Table
from planner.inputs.data import PlanData
from planner.scenario.cases import Case, Index, in_window

EXCLUDED_COLUMNS = ["scenario", "offer", "supplier", "material", "period", "excluded_by",
                    "kind", "basis"]


def excluded_offers(plan: PlanData, ix: Index, case: Case) -> list[dict[str, Any]]:
    """Offers inside their own window but unavailable in ``case``: the ban or the facility
    responsible.

    Walks each ban's matched offers and each down facility's offers (never all
    offers x all rules), then sorts by Offers row and period.
    """
    labels = [p.label for p in plan.periods]
    n = len(labels)
    out: list[tuple[tuple[int, int, int], dict[str, Any]]] = []

    def add(case: Case, oid: str, t: int, by: str, kind: str, basis: str, k: int) -> None:
        o = plan.offers[oid]
        if in_window(t, o.window):
            out.append(((o.row, t, k),
                        {"scenario": case.name, "offer": oid, "supplier": o.supplier,
                         "material": o.material, "period": labels[t], "excluded_by": by,
                         "kind": kind, "basis": basis}))

    for k, (rid, rule) in enumerate(plan.rules.items()):
        if not rule.excludes_offers:
            continue
        for t in range(n):
            if case.rule_on[rid][t] and in_window(t, rule.window):
                for oid in ix.rule_offers[rid]:
                    add(case, oid, t, rid, "ban rule", rule.basis, k)
    for k, (fid, f) in enumerate(plan.facilities.items(), start=len(plan.rules)):
        for t in range(n):
            if not in_window(t, f.window):
                why = "facility outside its window"
            elif case.capacity[fid][t] == 0:
                why = ("facility capacity 0" if f.capacity == 0
                       else "facility capacity 0 in this case")
            else:
                continue
            for oid in ix.offers_by_facility.get(fid, []):
                add(case, oid, t, fid, why, "", k)
    out.sort(key=lambda kv: kv[0])
    return [row for _, row in out]


def describe(result: CaseResult, plan: PlanData, ix: Index, case: Case) -> CaseResult:
    """Add to ``result`` what the report shows of its case besides the tables: the
    offers it excludes and the caps in force."""
    result.excluded = Table(EXCLUDED_COLUMNS, excluded_offers(plan, ix, case))
    result.caps_on = {k: list(v) for k, v in case.cap_on.items()}
    return result
