"""The registry of the model's constraint families and cost parts: each stated once.

A :class:`Family` entry is the one place that knows a family's algebra (as text),
the Pyomo component that holds it, its index, the contract's ``kind`` in the
Constraints table, the input sheet and row it comes from, the unit of its dual
and the sentence its shadow price becomes.  The model builder
(:mod:`planner.model.build`) creates each family's rows at the entry's ``component``;
the Constraints table (:mod:`planner.analysis.results`), the shadow-price sentences
(:mod:`planner.analysis.policy`), the infeasibility explanation (:mod:`planner.analysis.explain`)
and docs/workbook.md all read the entries, so a family is named, located and
explained in one place (after Calliope's math-as-data and PyPSA's
``Component-attribute`` naming).

Constraint rows carry their family key and index tuple end to end: no name is
formatted and parsed back.

:data:`COST_PARTS` does the same for the objective: each part is a named
expression on the model, a Summary column and a kind (money or penalty), read
by the objective, the Summary, the hedge and the stress models.

This module imports nothing from Pyomo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planner.inputs.data import PlanData

Index = tuple[Any, ...]


@dataclass(frozen=True)
class Sentence:
    """A shadow price in the analyst's unit: what one unit more would do."""

    unit: str
    change: float
    text: str


@dataclass(frozen=True)
class Family:
    """One family of constraints of the model."""

    key: str
    #: (block, component) where the model keeps the rows, e.g. ("caps", "max")
    component: tuple[str, str]
    #: the contract's Constraints ``kind``; None: not a contract family (not reported)
    kind: str | None
    #: the family's algebra, as the docs print it
    algebra: str
    #: the input sheet its rows come from
    sheet: str
    #: what the index tuple holds (period t is always last)
    index: tuple[str, ...]
    #: the unit of the dual: d total_cost / d right-hand side
    dual_unit: str
    #: the readable constraint name of one row
    name: Callable[[Index], str]
    #: how actionable a binding row is for the buyer (lower first on the Dashboard):
    #: 0 capacity, quota and cap (a licence, a plant, a policy to negotiate), 1 stock,
    #: 2 demand (a marginal cost)
    rank: int = 2
    #: ``applies_to`` of the rules or caps it states ("purchase" or "use")
    applies_to: str = "purchase"

    @property
    def reported(self) -> bool:
        return self.kind is not None


def _use(text: str, applies_to: str) -> str:
    return f"{text} (use)" if applies_to == "use" else text


def _quota(applies_to: str) -> Family:
    return Family(
        f"quota_{applies_to}" if applies_to == "use" else "quota",
        ("quota", "use" if applies_to == "use" else "con"), "quota",
        ("sum of matching " + ("c(o,t)" if applies_to == "use" else "x(o,t)")
         + " <= limit x y(t)"),
        "Rules", ("rule", "t"), "currency per t in the period",
        lambda k: _use(f"quota {k[0]}", applies_to), rank=0, applies_to=applies_to)


def _cap(side: str, applies_to: str) -> Family:
    flow = "c" if applies_to == "use" else "x"
    total = "(sum of c + c0)" if applies_to == "use" else "purchases(m,t)"
    op = "<=" if side == "max" else ">="
    share = "max_share" if side == "max" else "min_share"
    return Family(
        f"cap_{side}" + ("_use" if applies_to == "use" else ""),
        ("caps", f"use_{side}" if applies_to == "use" else side), "cap",
        f"sum of {flow}(o,t) at stage in target {op} {share} x {total}",
        "Caps", ("cap", "material", "stage", "target", "t"), "currency per t in the period",
        lambda k: _use(f"cap {k[0]} {share} {k[1]} {k[2]} {k[3]}", applies_to), rank=0,
        applies_to=applies_to)


FAMILIES: tuple[Family, ...] = (
    Family("balance", ("balance", "con"), "balance",
           "s(m,t-1) + purchases(m,t) + u(m,t) = demand(m,t) + s(m,t); with use rules: "
           "sum of c(o,t) + c0(m,t) + u(m,t) = demand(m,t)",
           "Demand", ("material", "t"), "currency per t of demand",
           lambda k: f"balance {k[0]}"),
    Family("stockpile_min", ("stockpile", "min"), "stockpile",
           "s(m,t) + v(m,t) >= min stock(m,t)", "Stockpile", ("material", "t"),
           "currency per t of required stock", lambda k: f"stockpile minimum {k[0]}", rank=1),
    Family("stockpile_max", ("stockpile", "max"), "stockpile",
           "s(m,t) <= max_tonnes", "Stockpile", ("material", "t"),
           "currency per t of allowed stock", lambda k: f"stockpile maximum {k[0]}", rank=1),
    Family("capacity", ("capacity", "con"), "capacity",
           "sum of x(o,t) over offers whose route uses f <= capacity(f) x factor x y(t)",
           "Facilities", ("facility", "t"), "currency per t in the period",
           lambda k: f"capacity {k[0]}", rank=0),
    _quota("purchase"),
    _quota("use"),
    _cap("max", "purchase"),
    _cap("min", "purchase"),
    _cap("max", "use"),
    _cap("min", "use"),
    Family("commitment", ("commitment", "con"), None,
           "x(o,t) + w(o,t) >= min_volume(o) x k(o,t) x y(t) (take-or-pay offers)",
           "Offers", ("offer", "t"), "currency per t committed",
           lambda k: f"commitment {k[0]}"),
    Family("origin_flow", ("origin", "flow"), None,
           "q(o,t) = q(o,t-1) + x(o,t) - c(o,t)", "Offers", ("offer", "t"),
           "currency per t", lambda k: f"stock from offer {k[0]}"),
    Family("origin_initial", ("origin", "initial"), None,
           "q0(m,t) = q0(m,t-1) - c0(m,t), q0(m,0) = initial_stock(m)", "Materials",
           ("material", "t"), "currency per t", lambda k: f"initial stock {k[0]}"),
    Family("origin_total", ("origin", "total"), None,
           "s(m,t) = sum of q(o,t) + q0(m,t)", "Materials", ("material", "t"),
           "currency per t", lambda k: f"stock by origin {k[0]}"),
)

FAMILY: dict[str, Family] = {f.key: f for f in FAMILIES}
BY_COMPONENT: dict[tuple[str, str], Family] = {f.component: f for f in FAMILIES}


# --- cost parts -----------------------------------------------------------------

@dataclass(frozen=True)
class CostPart:
    """One term of the objective: a named expression on the model."""

    #: the model's Expression component
    component: str
    #: the Summary column
    column: str
    #: "money" (real spend or credit) or "penalty" (a priority weight, not money)
    kind: str
    #: +1 a cost, -1 a credit subtracted from total_cost
    sign: float
    algebra: str


COST_PARTS: tuple[CostPart, ...] = (
    CostPart("procurement", "procurement_cost", "money", 1.0,
             "sum of unit_cost(o) x cost factor x (1 + tariff rate(o,t)) x x(o,t)"),
    CostPart("holding", "holding_cost", "money", 1.0,
             "sum of holding_cost(m) x y(t) x s(m,t)"),
    CostPart("take_or_pay", "take_or_pay_cost", "money", 1.0,
             "sum of take_or_pay(o) x unit_cost(o) x cost factor x w(o,t)"),
    CostPart("shortage", "shortage_cost", "penalty", 1.0,
             "sum of shortage_penalty(m) x u(m,t)"),
    CostPart("shortfall", "stockpile_shortfall_cost", "penalty", 1.0,
             "sum of stockpile_penalty(m) x y(t) x v(m,t)"),
    CostPart("end_credit", "end_value_credit", "money", -1.0,
             "sum of end_value(m) x s(m, last period)"),
)


# --- shadow prices as sentences -----------------------------------------------------

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


def sentence(family: Family, index: Index, dual: float, plan: PlanData,
             total: float = 0.0) -> Sentence | None:
    """The shadow price of one row in the unit the analyst changes, as a sentence.

    ``dual`` is d total_cost / d rhs per t in the period; capacities and quotas
    are rescaled to t/yr (x days/365); caps to one percentage point of share
    (x ``total``, the material's flow the share is taken of); demand and stock
    stay per t.
    """
    cur = plan.settings.currency
    t = index[-1]
    period = plan.periods[t].label
    years = plan.periods[t].years
    key = family.key
    if key == "capacity":
        f = plan.facilities[index[0]]
        change = dual * years
        where = f"{f.id} ({f.name})" if f.name and f.name != f.id else f.id
        return Sentence("t/yr", change, f"One more t/yr of capacity at {where} in {period} "
                                         f"{_effect(change, cur)}.")
    if key.startswith("quota"):
        change = dual * years
        what = "use quota" if family.applies_to == "use" else "quota rule"
        return Sentence("t/yr", change, f"Raising the limit of {what} {index[0]} by one t/yr "
                                         f"in {period} {_effect(change, cur)}.")
    if key == "balance":
        return Sentence("t", dual, f"One more t of {index[0]} demand in {period} "
                                   f"{_effect(dual, cur)} (its marginal cost of supply).")
    if key == "stockpile_min":
        return Sentence("t", dual, f"Requiring one more t of {index[0]} in stock at the end "
                                   f"of {period} {_effect(dual, cur)}.")
    if key == "stockpile_max":
        return Sentence("t", dual, f"Allowing one more t of {index[0]} in stock at the end "
                                   f"of {period} {_effect(dual, cur)}.")
    if key.startswith("cap_"):
        cid, mat, stage, target = index[0], index[1], index[2], index[3]
        flow = "consumption" if family.applies_to == "use" else "share"
        if "_max" in key:
            change = dual * 0.01 * total
            text = (f"Raising cap {cid} ({flow} of {mat} at {stage} in {target}) by one "
                    f"percentage point in {period} {_effect(change, cur)}.")
        else:
            change = -dual * 0.01 * total
            text = (f"Lowering floor {cid} ({flow} of {mat} at {stage} from {target}) by one "
                    f"percentage point in {period} {_effect(change, cur)}.")
        return Sentence("percentage point", change, text)
    return None
