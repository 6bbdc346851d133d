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

from planner.cases import Index, build_case
from planner.data import PlanData
from planner.model import build_model
from planner.results import CaseResult
from planner.solve import solve, solver_options

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

    def as_row(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


POLICY_COLUMNS = ["policy", "kind", "sheet", "row", "basis", "status", "total_cost_without",
                  "cost_added", "note"]


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
    for name, kind, sheet, row, basis, relaxed in _without(plan):
        # Matching of offers by rules does not depend on ``active``: the index is reused.
        case = build_case(relaxed, ix, "base")
        model, _ = build_model(relaxed, ix, case)
        res = solve(model, opts)
        total = float(model.total_cost()) if res.has_solution else None
        added = None
        note = ""
        if base.status == "optimal" and res.status == "optimal" and total is not None \
                and base.total_cost is not None:
            added = base.total_cost - total
            if added < -TOL:
                note = ("dropping it makes the plan dearer (offers it excluded carry "
                        "min_volume commitments)")
        elif base.status == "infeasible":
            note = ("without it the base case has a plan" if res.status == "optimal"
                    else "the base case stays infeasible without it")
        else:
            note = f"re-solve ended {res.status}"
        pc = PolicyCost(name, kind, sheet, row, basis, res.status, total, added, note)
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


def money(value: float, currency: str) -> str:
    """Amounts as an analyst reads them: 1.23 M USD, 12,345 USD, 20.00 USD."""
    v = abs(value)
    if v >= 1e6:
        return f"{v / 1e6:,.2f} M {currency}"
    if v >= 100:
        return f"{v:,.0f} {currency}"
    return f"{v:,.2f} {currency}"


def _effect(change: float, currency: str) -> str:
    verb = "lower" if change < 0 else "raise"
    return f"would {verb} total cost by {money(change, currency)}"


def _after(text: str, prefix: str, ids: list[str]) -> tuple[str, str] | None:
    """Split ``prefix + id + rest`` for the longest known id (ids may hold spaces)."""
    if not text.startswith(prefix):
        return None
    rest = text[len(prefix):]
    for i in sorted(ids, key=len, reverse=True):
        if rest == i or rest.startswith(i + " "):
            return i, rest[len(i):].strip()
    return None


def shadow_prices(plan: PlanData, result: CaseResult) -> list[ShadowPrice]:
    """Sentences for the binding constraints of ``result``, largest effect first."""
    cur = plan.settings.currency
    pidx = plan.period_index()
    supplied = {(r["material"], r["period"]): float(r["supplied"] or 0.0) for r in result.stock}
    mats = list(plan.materials)
    out: list[ShadowPrice] = []
    for row in result.constraints:
        dual = row.get("shadow_price")
        if dual is None or abs(dual) <= TOL:
            continue
        name, kind, period = row["constraint"], row["kind"], str(row["period"])
        t = pidx.get(period, 0)
        years = plan.periods[t].years
        sp: ShadowPrice | None = None
        if kind == "capacity" and (hit := _after(name, "capacity ", list(plan.facilities))):
            f = plan.facilities[hit[0]]
            change = dual * years
            where = f"{f.id} ({f.name})" if f.name and f.name != f.id else f.id
            sp = ShadowPrice(result.name, kind, name, period, "t/yr", change,
                             f"One more t/yr of capacity at {where} in {period} "
                             f"{_effect(change, cur)}.")
        elif kind == "quota" and (hit := _after(name, "quota ", list(plan.rules))):
            change = dual * years
            sp = ShadowPrice(result.name, kind, name, period, "t/yr", change,
                             f"Raising the limit of quota rule {hit[0]} by one t/yr in {period} "
                             f"{_effect(change, cur)}.")
        elif kind == "balance" and (hit := _after(name, "balance ", mats)):
            sp = ShadowPrice(result.name, kind, name, period, "t", dual,
                             f"One more t of {hit[0]} demand in {period} "
                             f"{_effect(dual, cur)} (its marginal cost of supply).")
        elif kind == "stockpile" and (hit := _after(name, "stockpile minimum ", mats)):
            sp = ShadowPrice(result.name, kind, name, period, "t", dual,
                             f"Requiring one more t of {hit[0]} in stock at the end of {period} "
                             f"{_effect(dual, cur)}.")
        elif kind == "stockpile" and (hit := _after(name, "stockpile maximum ", mats)):
            sp = ShadowPrice(result.name, kind, name, period, "t", dual,
                             f"Allowing one more t of {hit[0]} in stock at the end of {period} "
                             f"{_effect(dual, cur)}.")
        elif kind == "cap":
            sp = _cap_sentence(plan, result.name, name, period, dual, supplied, cur)
        if sp is not None and abs(sp.change) > TOL:
            out.append(sp)
    out.sort(key=lambda s: -abs(s.change))
    return out


def _cap_sentence(plan: PlanData, scenario: str, name: str, period: str, dual: float,
                  supplied: dict[tuple[str, str], float], cur: str) -> ShadowPrice | None:
    """Caps: share x total flow is the rhs, so one percentage point is 0.01 x total."""
    hit = _after(name, "cap ", list(plan.caps))
    if hit is None:
        return None
    cid, rest = hit
    side, _, scope = rest.partition(" ")
    mat = next((m for m in sorted(plan.materials, key=len, reverse=True)
                if scope == m or scope.startswith(m + " ")), None)
    if mat is None:
        return None
    total = supplied.get((mat, period), 0.0)
    where = scope[len(mat):].strip()
    stage = next((s for s in sorted(plan.stages, key=len, reverse=True)
                  if where.startswith(s + " ")), None)
    target = where[len(stage):].strip() if stage else where
    if side == "max_share":
        change = dual * 0.01 * total
        text = (f"Raising cap {cid} (share of {mat} at {stage} in {target}) by one percentage "
                f"point in {period} {_effect(change, cur)}.")
    else:
        change = -dual * 0.01 * total
        text = (f"Lowering floor {cid} (share of {mat} at {stage} from {target}) by one "
                f"percentage point in {period} {_effect(change, cur)}.")
    return ShadowPrice(scenario, "cap", name, period, "percentage point", change, text)
