"""Print the numbers the example READMEs quote, straight from the planner's API.

``python examples/rare_earths/analyse.py [WORKBOOK]`` (default: the rare-earth
example; pass ``examples/lithium/lithium.xlsx`` for the lithium one) solves the
base case and every scenario, then re-solves the base case without one policy
at a time (each active rule, each active cap and all caps together, the
stockpile minimums of each material) and prints Markdown tables: what the base plan buys, what each
scenario costs and leaves unmet, and what each policy costs.
"""

from __future__ import annotations

import dataclasses
import sys
from collections import defaultdict
from pathlib import Path

from planner.api import load, solve_all, solve_case
from planner.data import PlanData
from planner.results import CaseResult

DEFAULT = Path(__file__).resolve().parent / "rare_earths.xlsx"


def without_policies(plan: PlanData) -> list[tuple[str, PlanData]]:
    """(policy name, a copy of the plan without that policy), one per active policy."""
    out: list[tuple[str, PlanData]] = []
    for rid, rule in plan.rules.items():
        if rule.active:
            rules = {**plan.rules, rid: dataclasses.replace(rule, active=False)}
            out.append((f"rule {rid}", dataclasses.replace(plan, rules=rules)))
    active_caps = [cid for cid, cap in plan.caps.items() if cap.active]
    for cid in active_caps:
        caps = {**plan.caps, cid: dataclasses.replace(plan.caps[cid], active=False)}
        out.append((f"cap {cid}", dataclasses.replace(plan, caps=caps)))
    if len(active_caps) > 1:  # caps can back each other up: also drop them all at once
        caps = {cid: dataclasses.replace(c, active=False) if cid in active_caps else c
                for cid, c in plan.caps.items()}
        out.append(("all caps together", dataclasses.replace(plan, caps=caps)))
    for mat in dict.fromkeys(s.material for s in plan.stockpile):
        rows = [dataclasses.replace(s, min_days=0.0, min_tonnes=0.0) if s.material == mat
                else s for s in plan.stockpile]
        if rows != plan.stockpile:
            out.append((f"stockpile minimum {mat}", dataclasses.replace(plan, stockpile=rows)))
    return out


def money(x: float | None) -> str:
    return "-" if x is None else f"{x / 1e6:,.1f}"


def bought(result: CaseResult) -> dict[tuple[str, str], dict[str, float]]:
    """(material, offer) -> period -> t."""
    out: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for r in result.plan:
        out[(r["material"], r["offer"])][str(r["period"])] = r["volume"]
    return out


def main(path: Path) -> None:
    plan = load(path)
    results = solve_all(plan)
    base = results[0]
    labels = [p.label for p in plan.periods]
    cur = plan.settings.currency
    print(f"## {plan.settings.plan_name}\n")
    print("### Base plan, t bought\n")
    print("| material | offer | " + " | ".join(labels) + " |")
    print("|---|---|" + "---:|" * len(labels))
    for (mat, offer), vols in sorted(bought(base).items()):
        cells = " | ".join(f"{vols[lb]:,.1f}" if lb in vols else "" for lb in labels)
        print(f"| {mat} | {offer} | {cells} |")
    print(f"\n### Scenarios (million {cur})\n")
    print("| case | total cost | vs base | procurement | unmet demand (t) | "
          "stock below target (t-periods) |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in results:
        s = r.summary
        delta = None if r.total_cost is None or base.total_cost is None \
            else r.total_cost - base.total_cost
        short = sum(row["stockpile_shortfall"] for row in r.stock)
        print(f"| {r.name} | {money(r.total_cost)} | {money(delta)} | "
              f"{money(s['procurement_cost'])} | {s['unmet_demand'] or 0:,.1f} | {short:,.1f} |")
    print(f"\n### What each policy costs (base case re-solved without it, million {cur})\n")
    print("| policy dropped | total cost without it | the policy adds | procurement without |")
    print("|---|---:|---:|---:|")
    for name, variant in without_policies(plan):
        r = solve_case(variant)
        added = None if r.total_cost is None or base.total_cost is None \
            else base.total_cost - r.total_cost
        print(f"| {name} | {money(r.total_cost)} | {money(added)} | "
              f"{money(r.summary['procurement_cost'])} |")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)
