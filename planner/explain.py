"""Explain an infeasible case in the workbook's own terms.

Only three things can make the model infeasible: offer commitments
(min_volume) and floors that force flow, against limits (capacity, quotas,
caps, stockpile maximums).  We relax one family at a time and report which
relaxations restore feasibility, naming the rows involved.
"""

from __future__ import annotations

import pyomo.environ as pyo

from planner.cases import Case, Index
from planner.data import PlanData
from planner.model import build_model
from planner.solve import solve

FAMILIES = {
    "min_volume": "offer commitments (Offers min_volume)",
    "capacity": "facility capacities (Facilities capacity)",
    "quota": "quota rules (Rules limit)",
    "caps.max": "concentration caps (Caps max_share)",
    "caps.min": "sourcing floors (Caps min_share)",
    "stockpile.max": "stockpile maximums (Stockpile max_tonnes)",
}


def _relax(m: pyo.ConcreteModel, family: str) -> None:
    if family == "min_volume":
        for var in m.x.values():
            var.setlb(0)
        return
    block, _, name = family.partition(".")
    getattr(getattr(m, block), name or "con").deactivate()


def explain_infeasible(plan: PlanData, ix: Index, case: Case) -> list[str]:
    """Sentences naming the families (and their rows) whose relaxation restores feasibility."""
    lines: list[str] = []
    culprits = []
    for family, text in FAMILIES.items():
        m, _ = build_model(plan, ix, case)
        _relax(m, family)
        if solve(m).status == "optimal":
            culprits.append((family, text))
    if not culprits:
        return [f"Case {case.name!r} is infeasible; no single family of constraints explains it "
                "alone: check offer commitments together with capacities, quotas, caps and "
                "stockpile maximums."]
    names = " or ".join(text for _, text in culprits)
    lines.append(f"Case {case.name!r} is infeasible. Relaxing any one of these restores a plan: "
                 f"{names}.")
    m, g = build_model(plan, ix, case)
    committed = [(o, t) for (o, t) in g.flows if plan.offers[o].min_volume > 0]
    if committed and any(f == "min_volume" for f, _ in culprits):
        rows = sorted({plan.offers[o].row for o, _ in committed})
        lines.append("Offers with a min_volume commitment while available: "
                     + ", ".join(f"{plan.offers[o].id} (Offers row {plan.offers[o].row})"
                                 for o in sorted({o for o, _ in committed},
                                                 key=lambda x: plan.offers[x].row))
                     + f" [{len(rows)} row(s)].")
    return lines
