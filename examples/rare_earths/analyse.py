"""Print the numbers the example READMEs quote, straight from the planner's API.

``python examples/rare_earths/analyse.py [WORKBOOK]`` (default: the rare-earth
example; pass ``examples/lithium/lithium.xlsx`` for the lithium one) solves the
base case and every scenario, then re-solves the base case without one policy
at a time (each active rule, each active cap and all caps together, the
stockpile minimums of each material) and prints Markdown tables: what the base plan buys, what each
scenario costs and leaves unmet, and what each policy costs.  For a workbook with a
DFARS defence slice (``*_DFARS`` materials, the rare-earth example) it also prints two
experiments: DFARS dropped altogether (:func:`without_dfars`) and the single-country
caps applied per element, civil and defence slice together, instead of per material
(:func:`per_element_caps`).
"""

from __future__ import annotations

import dataclasses
import sys
from collections import defaultdict
from pathlib import Path

import pyomo.environ as pyo

from planner.analysis.results import CaseResult
from planner.api import load, solve_all, solve_case
from planner.inputs.data import PlanData
from planner.model.build import build_model
from planner.scenario.cases import Index, build_case
from planner.solve.solver import solve

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


DFARS = "_DFARS"


def without_dfars(plan: PlanData) -> PlanData:
    """The plan as if DFARS did not exist: the defence slice's DFARS rules off, its
    covered-country offers open in every year, and its stock minimum from the first
    period instead of the 2026 no-carry guard."""
    last = len(plan.periods) - 1
    covered = plan.members("covered")
    ix = Index.build(plan)
    rules = {k: dataclasses.replace(r, active=False) if k.startswith("DFARS") else r
             for k, r in plan.rules.items()}
    offers = {k: dataclasses.replace(o, window=(0, last))
              if o.material.endswith(DFARS) and covered & set(ix.stage_country[k].values())
              else o for k, o in plan.offers.items()}
    stock = [dataclasses.replace(s, window=(0, s.window[1])) if s.material.endswith(DFARS)
             else s for s in plan.stockpile
             if not (s.material.endswith(DFARS) and s.max_tonnes == 0)]
    return dataclasses.replace(plan, rules=rules, offers=offers, stockpile=stock)


def per_element_caps(plan: PlanData) -> float:
    """Base-case total cost with every single-country cap applied to each element as a
    whole (``X`` and ``X_DFARS`` together) instead of to each material separately.

    The contract's caps act on one material (or each separately), so this builds the
    base case's model, deactivates its caps and adds the per-element rows directly."""
    ix = Index.build(plan)
    case = build_case(plan, ix, "base")
    m, _ = build_model(plan, ix, case)
    m.caps.deactivate()
    m.element_caps = pyo.ConstraintList()
    elements = sorted({mat.removesuffix(DFARS) for mat in plan.materials})
    for cap in plan.caps.values():
        if not cap.active or cap.max_share is None:
            continue
        targets = plan.members(cap.country) if cap.country else set(plan.countries)
        stages = [cap.stage] if cap.stage else plan.stages
        for el in elements:
            mats = {el, el + DFARS}
            for t in range(len(plan.periods)):
                if not cap.window[0] <= t <= cap.window[1]:
                    continue
                total = sum(m.purchases[mat, t] for mat in mats if (mat, t) in m.purchases)
                for stage in stages:
                    num = [m.x[o, tt] for (o, tt) in m.x if tt == t
                           and plan.offers[o].material in mats
                           and ix.stage_country[o].get(stage) in targets]
                    if num:
                        m.element_caps.add(sum(num) <= cap.max_share * total)
    res = solve(m)
    assert res.status == "optimal", res.status
    return float(pyo.value(m.total_cost))


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
    if base.total_cost is not None and any(m.endswith(DFARS) for m in plan.materials):
        print(f"\n### Experiments on the defence slice (million {cur})\n")
        print("| experiment | total cost | vs base |")
        print("|---|---:|---:|")
        r = solve_case(without_dfars(plan))
        assert r.total_cost is not None
        print(f"| DFARS dropped (rules, Chinese offers' window, no-carry guard) | "
              f"{money(r.total_cost)} | {money(r.total_cost - base.total_cost)} |")
        cost = per_element_caps(plan)
        print(f"| caps per element instead of per material | {money(cost)} | "
              f"{money(cost - base.total_cost)} |")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT)
