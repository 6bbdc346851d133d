"""What each policy costs, and shadow prices as sentences in the analyst's terms.

Policy costs: the base case is re-solved without one policy at a time (each
active rule, each active cap, and all stockpile minimums together), each on a
copy of the plan made with :func:`dataclasses.replace`; the cost a policy adds
is base total_cost minus total_cost without it.

Shadow prices: the Constraints rows' ``shadow_price`` is d total_cost / d rhs
(per t in the period).  Sentences rescale it to the unit the analyst changes:
t/yr for capacities and quotas (x days/365), one percentage point of share
for caps and floors (x the material's total flow), t for demand and stock.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from planner.analysis.results import CaseResult
from planner.inputs.data import PlanData
from planner.model.build import build_model
from planner.model.families import FAMILY, money, sentence
from planner.scenario.cases import Index, build_case
from planner.solve.solver import solve, solver_options

#: a shadow price (per unit the analyst changes) below this is "not binding"
TOL = 1e-6


@dataclass
class PolicyCost:
    """The base case re-solved without one policy."""

    policy: str
    kind: str
    sheet: str
    row: int | None
    basis: str
    status: str
    total_cost_without: float | None
    cost_added: float | None
    note: str = ""
    #: of cost_added, the value of the extra stock the policy leaves at the horizon's
    #: end (valued at the base plan's average purchase price of each material)
    end_stock_value: float | None = None

    def as_row(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


POLICY_COLUMNS = ["policy", "kind", "sheet", "row", "basis", "status", "total_cost_without",
                  "cost_added", "end_stock_value", "note"]


def _end_stock(plan: PlanData, result: CaseResult) -> dict[str, float]:
    """Material -> stock at the end of the last period in ``result``."""
    last = plan.periods[-1].label if plan.periods else None
    return {r["material"]: float(r["stock"] or 0.0) for r in result.stock
            if r["period"] == last}


def _average_price(result: CaseResult) -> dict[str, float]:
    """Material -> the plan's average delivered price (cost / volume)."""
    cost: dict[str, float] = {}
    volume: dict[str, float] = {}
    for r in result.plan:
        cost[r["material"]] = cost.get(r["material"], 0.0) + float(r["cost"])
        volume[r["material"]] = volume.get(r["material"], 0.0) + float(r["volume"])
    return {m: cost[m] / volume[m] for m in cost if volume[m] > 0}


def _without(plan: PlanData) -> list[tuple[str, str, str, int | None, str, PlanData]]:
    """(policy, kind, sheet, row, basis, plan copy without it) for each active policy."""
    out: list[tuple[str, str, str, int | None, str, PlanData]] = []
    for rid, r in plan.rules.items():
        if r.active:
            rules = {**plan.rules, rid: dataclasses.replace(r, active=False)}
            out.append((f"rule {rid} ({r.kind})", "rule", "Rules", r.row, r.basis,
                        dataclasses.replace(plan, rules=rules)))
    for cid, c in plan.caps.items():
        if c.active and (c.max_share is not None and c.max_share < 1 or c.min_share):
            caps = {**plan.caps, cid: dataclasses.replace(c, active=False)}
            out.append((f"cap {cid}", "cap", "Caps", c.row, c.basis,
                        dataclasses.replace(plan, caps=caps)))
    if any(s.min_days > 0 or s.min_tonnes > 0 for s in plan.stockpile):
        rows = [dataclasses.replace(s, min_days=0.0, min_tonnes=0.0) for s in plan.stockpile]
        out.append(("stockpile minimums", "stockpile", "Stockpile", None, "",
                    dataclasses.replace(plan, stockpile=rows)))
    return out


def policy_costs(plan: PlanData, base: CaseResult, ix: Index | None = None,
                 options: dict[str, Any] | None = None,
                 progress: Callable[[PolicyCost], None] | None = None) -> list[PolicyCost]:
    """Re-solve the base case without each active policy; largest cost added first.

    When the base case is infeasible, ``cost_added`` stays empty and the note
    says whether dropping the policy alone restores a plan.
    """
    ix = ix or Index.build(plan)
    opts = solver_options(plan.settings, options)
    out: list[PolicyCost] = []
    base_end = _end_stock(plan, base)
    price = _average_price(base)
    last = len(plan.periods) - 1
    for name, kind, sheet, row, basis, relaxed in _without(plan):
        # Matching of offers by rules does not depend on ``active``: the index is reused.
        case = build_case(relaxed, ix, "base")
        model, _ = build_model(relaxed, ix, case)
        res = solve(model, opts)
        total = float(model.total_cost()) if res.has_solution else None
        added = None
        note = ""
        held = None
        if base.status == "optimal" and res.status == "optimal" and total is not None \
                and base.total_cost is not None:
            added = base.total_cost - total
            extra = {mat: base_end.get(mat, 0.0) - float(model.s[mat, last].value or 0.0)
                     for mat in plan.materials} if last >= 0 else {}
            held = sum(max(0.0, q) * price.get(mat, 0.0) for mat, q in extra.items())
            if added < -TOL:
                note = ("dropping it makes the plan dearer (offers it excluded carry "
                        "min_volume commitments)")
            elif held > TOL and added > TOL:
                tonnes = sum(max(0.0, q) for q in extra.values())
                share = f" ({held / added:.0%} of the cost added)" if held <= added else ""
                note = (f"it leaves {tonnes:,.1f} t more stock at the end of the horizon, "
                        f"worth {money(held, plan.settings.currency)} at the plan's purchase "
                        f"prices{share} (Materials end_value credits stock left at the end)")
        elif base.status == "infeasible":
            note = ("without it the base case has a plan" if res.status == "optimal"
                    else "the base case stays infeasible without it")
        else:
            note = f"re-solve ended {res.status}"
        pc = PolicyCost(name, kind, sheet, row, basis, str(res.status), total, added, note,
                        held)
        out.append(pc)
        if progress:
            progress(pc)
    out.sort(key=lambda p: (p.cost_added is None, -(p.cost_added or 0.0)))
    return out


# --- shadow prices as sentences ---------------------------------------------

@dataclass
class ShadowPrice:
    """One binding constraint of a case, its price in the analyst's unit, and a sentence."""

    scenario: str
    kind: str
    constraint: str
    period: str
    unit: str
    change: float
    sentence: str

    def as_row(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


SHADOW_COLUMNS = ["scenario", "sentence", "kind", "constraint", "period", "unit", "change"]


def shadow_prices(plan: PlanData, result: CaseResult) -> list[ShadowPrice]:
    """Sentences for the binding constraints of ``result``: the most actionable
    families first (capacity, quota and cap before stock, stock before demand; see
    :attr:`planner.model.families.Family.rank`), largest effect first within each."""
    labels = [p.label for p in plan.periods]
    supplied = {(r["material"], r["period"]): float(r["supplied"] or 0.0) for r in result.stock}
    consumed = {(r["material"], r["period"]):
                float(r["demand"] or 0.0) - float(r["unmet_demand"] or 0.0)
                for r in result.stock}
    out: list[tuple[int, ShadowPrice]] = []
    for row in result.constraints:
        dual = row.get("shadow_price")
        fam = FAMILY.get(row.get("family", ""))
        if dual is None or abs(dual) <= TOL or fam is None:
            continue
        index = row["index"]
        period = labels[index[-1]]
        total = 0.0
        if fam.key.startswith("cap_"):
            totals = consumed if fam.applies_to == "use" else supplied
            total = totals.get((index[1], period), 0.0)
        said = sentence(fam, index, dual, plan, total)
        if said is not None and abs(said.change) > TOL:
            out.append((fam.rank, ShadowPrice(result.name, str(fam.kind), row["constraint"],
                                              period, said.unit, said.change, said.text)))
    out.sort(key=lambda rs: (rs[0], -abs(rs[1].change)))
    return [sp for _, sp in out]
