"""What each policy costs, and shadow prices as sentences in the analyst's terms.

Policy costs: the base case is re-solved without one policy at a time (each
active rule, each active cap, and all stockpile minimums together), each on a
copy of the plan made with :func:`dataclasses.replace`, solved as one more case of
the run's shared model (:mod:`planner.run.batch`); the cost a policy adds is base
total_cost minus total_cost without it.

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
from planner.analysis.table import values
from planner.inputs.data import PlanData
from planner.model.families import FAMILY, money, sentence

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
    for mat, c, v in values(result.plan, "material", "cost", "volume"):
        cost[mat] = cost.get(mat, 0.0) + float(c)
        volume[mat] = volume.get(mat, 0.0) + float(v)
    return {m: cost[m] / volume[m] for m in cost if volume[m] > 0}


#: prefix of the case name of a policy re-solve (never a scenario name: the Scenarios
#: sheet's names are printable text)
POLICY_CASE = "\x00without "


@dataclass(frozen=True)
class Policy:
    """One active policy (a rule, a cap, or all stockpile minimums) whose cost the base
    case is re-solved to measure."""

    policy: str
    kind: str
    sheet: str
    row: int | None
    basis: str
    #: the rule or cap id (empty for the stockpile minimums)
    target: str = ""

    @property
    def case(self) -> str:
        """The name of its re-solve among the cases of a run."""
        return POLICY_CASE + self.policy


def policies(plan: PlanData) -> list[Policy]:
    """Every active policy of ``plan``, in sheet order: rules, caps, stockpile minimums."""
    out: list[Policy] = []
    for rid, r in plan.rules.items():
        if r.active:
            out.append(Policy(f"rule {rid} ({r.kind})", "rule", "Rules", r.row, r.basis, rid))
    for cid, c in plan.caps.items():
        if c.active and (c.max_share is not None and c.max_share < 1 or c.min_share):
            out.append(Policy(f"cap {cid}", "cap", "Caps", c.row, c.basis, cid))
    if any(s.min_days > 0 or s.min_tonnes > 0 for s in plan.stockpile):
        out.append(Policy("stockpile minimums", "stockpile", "Stockpile", None, ""))
    return out


def without(plan: PlanData, policy: Policy) -> PlanData:
    """A copy of ``plan`` without ``policy`` (the rule or cap inactive, or every stockpile
    minimum at 0); the offers, routes and penalties are the same objects."""
    if policy.kind == "rule":
        r = plan.rules[policy.target]
        return dataclasses.replace(
            plan, rules={**plan.rules, r.id: dataclasses.replace(r, active=False)})
    if policy.kind == "cap":
        c = plan.caps[policy.target]
        return dataclasses.replace(
            plan, caps={**plan.caps, c.id: dataclasses.replace(c, active=False)})
    rows = [dataclasses.replace(s, min_days=0.0, min_tonnes=0.0) for s in plan.stockpile]
    return dataclasses.replace(plan, stockpile=rows)


def policy_case(plan: PlanData, name: str) -> PlanData | None:
    """The plan of the policy re-solve called ``name`` (None: not a policy re-solve)."""
    if not name.startswith(POLICY_CASE):
        return None
    for p in policies(plan):
        if p.case == name:
            return without(plan, p)
    raise KeyError(name)


def policy_costs(plan: PlanData, base: CaseResult, solved: dict[str, CaseResult],
                 progress: Callable[[PolicyCost], None] | None = None) -> list[PolicyCost]:
    """What each active policy costs: base total_cost minus the total_cost of the base
    case re-solved without it (``solved``: the re-solves by case name, see
    :attr:`Policy.case`); largest cost added first.

    When the base case is infeasible, ``cost_added`` stays empty and the note
    says whether dropping the policy alone restores a plan.
    """
    out: list[PolicyCost] = []
    base_end = _end_stock(plan, base)
    price = _average_price(base)
    for pol in policies(plan):
        res = solved[pol.case]
        total = res.total_cost
        added = None
        note = ""
        held = None
        if base.status == "optimal" and res.status == "optimal" and total is not None \
                and base.total_cost is not None:
            added = base.total_cost - total
            end = _end_stock(plan, res)
            extra = {mat: base_end.get(mat, 0.0) - end.get(mat, 0.0) for mat in plan.materials}
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
        pc = PolicyCost(pol.policy, pol.kind, pol.sheet, pol.row, pol.basis, str(res.status),
                        total, added, note, held)
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
    for dual, family, index, name in values(result.constraints, "shadow_price", "family",
                                            "index", "constraint"):
        fam = FAMILY.get(family or "")
        if dual is None or abs(dual) <= TOL or fam is None:
            continue
        period = labels[index[-1]]
        total = 0.0
        if fam.key.startswith("cap_"):
            totals = consumed if fam.applies_to == "use" else supplied
            total = totals.get((index[1], period), 0.0)
        said = sentence(fam, index, dual, plan, total)
        if said is not None and abs(said.change) > TOL:
            out.append((fam.rank, ShadowPrice(result.name, str(fam.kind), name,
                                              period, said.unit, said.change, said.text)))
    out.sort(key=lambda rs: (rs[0], -abs(rs[1].change)))
    return [sp for _, sp in out]
