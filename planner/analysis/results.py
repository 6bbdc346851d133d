"""Tidy result tables of contract section 4, from a solved case.

Each table reads as a list of row dicts with exactly the contract's columns, so the
report writer, the tests and the API see the same thing; it is held column by column
(:class:`planner.analysis.table.Table`), a fourth of the memory of row dicts.  This
module imports no solver: the shared-model engine (:mod:`planner.run.batch`) fills the tables from
HiGHS's arrays and :mod:`planner.analysis.model_tables` from a solved Pyomo model,
both through :func:`tables_of` and :func:`family_rows`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from planner.analysis.table import Row, Table
from planner.inputs.data import PlanData
from planner.model.families import COST_PARTS, FAMILIES
from planner.scenario.cases import Case
from planner.scenario.groups import Groups
from planner.solve.status import Status

#: the contract's Summary columns, then the planner's own cost parts (take-or-pay
#: payments and the end-of-horizon stock credit; see planner.model.families.COST_PARTS)
SUMMARY_COLUMNS = ["scenario", "status", "total_cost", "procurement_cost", "holding_cost",
                   "shortage_cost", "stockpile_shortfall_cost", "unmet_demand",
                   "take_or_pay_cost", "end_value_credit"]
PLAN_COLUMNS = ["scenario", "offer", "supplier", "material", "route", "period", "volume",
                "unit_cost", "cost"]
STOCK_COLUMNS = ["scenario", "material", "period", "demand", "supplied", "stock", "min_stock",
                 "stockpile_shortfall", "unmet_demand"]
EXPOSURE_COLUMNS = ["scenario", "material", "stage", "country", "period", "volume", "share"]
CONSTRAINT_COLUMNS = ["scenario", "constraint", "kind", "period", "slack", "shadow_price"]
#: a Constraints row also carries its family key and index (not written to the sheet)
CONSTRAINT_KEYS = [*CONSTRAINT_COLUMNS, "family", "index"]

TABLE_COLUMNS = {"Summary": SUMMARY_COLUMNS, "Plan": PLAN_COLUMNS, "Stock": STOCK_COLUMNS,
                 "Exposure": EXPOSURE_COLUMNS, "Constraints": CONSTRAINT_COLUMNS}

EPS = 1e-9


@dataclass
class CaseResult:
    """One solved case and its tidy rows."""

    name: str
    status: str
    seconds: float
    summary: Row
    plan: Sequence[Row] = field(default_factory=list)
    stock: Sequence[Row] = field(default_factory=list)
    exposure: Sequence[Row] = field(default_factory=list)
    constraints: Sequence[Row] = field(default_factory=list)
    #: rows of the workbook explaining an infeasible case
    explanation: list[str] = field(default_factory=list)
    #: why the case has no optimum (empty when it has one): see planner.solve.solver.CAUSES
    message: str = ""
    #: remarks on the solved plan (e.g. a yearly limit crossed within a calendar year)
    notes: list[str] = field(default_factory=list)
    #: the Excluded offers rows of the case (planner.analysis.excluded)
    excluded: Sequence[Row] = field(default_factory=list)
    #: cap -> per period: in force in this case (the Dashboard's caps)
    caps_on: dict[str, list[bool]] = field(default_factory=dict)

    def tables(self) -> dict[str, Any]:
        """The contract's tidy tables of this case as pandas DataFrames, by sheet name."""
        import pandas as pd

        rows = {"Summary": [self.summary], "Plan": self.plan, "Stock": self.stock,
                "Exposure": self.exposure, "Constraints": self.constraints}
        out = {}
        for name, cols in TABLE_COLUMNS.items():
            t = Table.concat(cols, [rows[name]])
            out[name] = pd.DataFrame({c: list(t.column(c)) for c in cols} if len(t) else [],
                                     columns=cols)
        return out

    @property
    def total_cost(self) -> float | None:
        v = self.summary.get("total_cost")
        return None if v is None else float(v)


def tidy_tables(results: Sequence[CaseResult]) -> dict[str, Table]:
    """The contract's five tidy tables of several cases, base case first: each sheet's
    rows, case after case."""
    return {"Summary": Table(SUMMARY_COLUMNS, [r.summary for r in results]),
            "Plan": Table.concat(PLAN_COLUMNS, [r.plan for r in results]),
            "Stock": Table.concat(STOCK_COLUMNS, [r.stock for r in results]),
            "Exposure": Table.concat(EXPOSURE_COLUMNS, [r.exposure for r in results]),
            "Constraints": Table.concat(CONSTRAINT_COLUMNS, [r.constraints for r in results])}


def start_result(name: str, status: Status, seconds: float, message: str) -> CaseResult:
    """A result with only its Summary's name and status filled in."""
    summary: Row = dict.fromkeys(SUMMARY_COLUMNS)
    summary.update({"scenario": name, "status": str(status)})
    return CaseResult(name, status, seconds, summary, message=message)


def tables_of(plan: PlanData, case: Case, g: Groups, out: CaseResult,
              values: dict[str, dict[Any, float]], parts: dict[str, float],
              constraints: list[Row], brief: bool = False) -> CaseResult:
    """Fill ``out`` (a result with a solution) from the values of x, s, u and v by key,
    each cost part's value (by component name of
    :data:`planner.model.families.COST_PARTS`) and the Constraints rows: the one
    statement of the Summary, Plan, Stock and Exposure tables.  ``brief``: the Summary
    and Stock tables only (a policy re-solve)."""
    name = case.name
    summary = out.summary
    labels = [p.label for p in plan.periods]
    x = values["x"]
    summary["total_cost"] = sum(p.sign * parts[p.component] for p in COST_PARTS)
    for part in COST_PARTS:
        summary[part.column] = parts[part.component]
    u, s, v = values["u"], values["s"], values.get("v", {})
    summary["unmet_demand"] = sum(u.values())
    supplied = {mt: sum(x[k] for k in keys) for mt, keys in g.by_material.items()}
    stock: list[Row] = []
    for mat, t in s:
        stock.append({
            "scenario": name, "material": mat, "period": labels[t],
            "demand": case.demand.get((mat, t), 0.0), "supplied": supplied.get((mat, t), 0.0),
            "stock": s[mat, t], "min_stock": g.min_stock.get((mat, t), 0.0),
            "stockpile_shortfall": v.get((mat, t), 0.0), "unmet_demand": u[mat, t]})
    out.stock = Table(STOCK_COLUMNS, stock)
    if brief:
        return out
    plan_rows: list[Row] = []
    exposure: list[Row] = []
    for (oid, t), vol in x.items():
        if vol > EPS:
            o = plan.offers[oid]
            price = g.price[(oid, t)]
            plan_rows.append({"scenario": name, "offer": oid, "supplier": o.supplier,
                             "material": o.material, "route": o.route, "period": labels[t],
                             "volume": vol, "unit_cost": price, "cost": price * vol})
    for (mat, stage, t), by_country in g.by_stage_country.items():
        total = supplied.get((mat, t), 0.0)
        for country, keys in by_country.items():
            vol = sum(x[k] for k in keys)
            if vol > EPS:
                exposure.append({"scenario": name, "material": mat, "stage": stage,
                                     "country": country, "period": labels[t], "volume": vol,
                                     "share": vol / total if total > EPS else 0.0})
    exposure.sort(key=lambda r: (r["material"], plan.stages.index(r["stage"]),
                                 labels.index(r["period"]), -r["volume"]))
    out.plan = Table(PLAN_COLUMNS, plan_rows)
    out.exposure = Table(EXPOSURE_COLUMNS, exposure)
    out.constraints = Table(CONSTRAINT_KEYS, constraints)
    out.notes = calendar_year_notes(plan, x)
    return out


#: one row of a family as the Constraints table needs it: (index, declared lower,
#: declared upper, body value at the plan, dual or None)
RowValues = tuple[Any, "float | None", "float | None", float, "float | None"]


def family_rows(plan: PlanData, by_family: dict[str, list[RowValues]],
                scenario: str) -> list[Row]:
    """The Constraints rows of the families of :data:`planner.model.families.FAMILIES`
    with a contract ``kind``, in registry order.

    ``shadow_price`` is d(total_cost)/d(right-hand side): per one more
    t of demand (balance), of allowed flow or stock (capacity, quota, cap,
    stockpile max), or of required stock (stockpile min).  Each row also carries
    its ``family`` key and ``index`` tuple (not written to the sheet), so shadow
    prices are explained without parsing names.
    """
    labels = [p.label for p in plan.periods]
    rows: list[Row] = []
    for fam in FAMILIES:
        if not fam.reported:
            continue
        for k, lb, ub, body, dual in by_family.get(fam.key, ()):
            if lb is not None and lb == ub:
                slack = 0.0
            elif ub is not None:
                slack = ub - body
            else:
                slack = body - (lb or 0.0)
            rows.append({"scenario": scenario, "constraint": fam.name(k), "kind": fam.kind,
                         "period": labels[k[-1]], "slack": slack, "shadow_price": dual,
                         "family": fam.key, "index": k})
    return rows


def year_of_period(plan: PlanData) -> list[int]:
    """Each period's year of the horizon (0, 1, ...), by the day it starts on: periods
    are consecutive, the first starting on day 0, a year being 365 days."""
    out: list[int] = []
    start = 0.0
    for p in plan.periods:
        out.append(int(start // 365 + 1e-9))
        start += p.days
    return out


def calendar_year_notes(plan: PlanData, x: dict[tuple[str, int], float]) -> list[str]:
    """Offers bought above their max_volume within one year of the horizon.

    Per-year rates apply to each period x days/365 (the contract), so with periods
    that are not whole years the purchases of the periods starting in one year can
    add up to more than the yearly limit.  The plan is still the model's optimum;
    the note tells the analyst where a contract's yearly cap would be crossed.
    """
    if all(p.days == 365 for p in plan.periods):
        return []
    year = year_of_period(plan)
    labels = [p.label for p in plan.periods]
    bought: dict[tuple[str, int], float] = {}
    for (oid, t), vol in x.items():
        bought[(oid, year[t])] = bought.get((oid, year[t]), 0.0) + vol
    notes: list[str] = []
    for (oid, yr), vol in sorted(bought.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        cap = plan.offers[oid].max_volume
        if cap is not None and vol > cap * (1 + 1e-9) + 1e-6:
            periods = [labels[t] for t in range(len(labels)) if year[t] == yr]
            notes.append(
                f"Offer {oid} (Offers row {plan.offers[oid].row}): {vol:,.1f} t bought in the "
                f"periods starting in year {yr + 1} of the horizon ({', '.join(periods)}), "
                f"above its max_volume of {cap:,.1f} t/yr: rates apply per period x "
                "days/365, so periods straddling a year can exceed a yearly limit.")
    return notes
