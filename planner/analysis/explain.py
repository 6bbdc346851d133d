"""Explain an infeasible case in the workbook's own terms.

The case's model is handed to HiGHS as LP arrays by the planner's one translator
(:func:`planner.solve.arrays.compile_model`) and HiGHS computes an irreducible
infeasible subset (IIS): a set of constraints and variable bounds that cannot
hold together, while dropping any one of them removes the conflict.  Each
member is mapped back to the input row it comes from (offer ``min_volume`` to
its Offers row, capacity to its Facilities row, caps and floors to their Caps
row, quotas to their Rules row, stockpile maximums to their Stockpile row,
demand to its Demand row).

Should the IIS computation fail, the older family-level relaxation is used as
a fallback: relax one family of constraints at a time and report which
relaxations restore feasibility.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyomo.environ as pyo

from planner.inputs.data import PlanData
from planner.model.build import Groups, build_model
from planner.model.families import BY_COMPONENT
from planner.scenario.cases import Case, Index
from planner.solve.arrays import compile_model, to_highs
from planner.solve.solver import solve


@dataclass
class Conflict:
    """One member of the IIS, in workbook terms, with the periods it binds in."""

    sheet: str
    row: int | None
    item: str
    text: str
    periods: list[str] = field(default_factory=list)
    basis: str = ""

    def sentence(self) -> str:
        where = f"{self.sheet} row {self.row}" if self.row else f"{self.sheet} sheet"
        when = f" in {', '.join(self.periods)}" if self.periods else ""
        basis = f"; basis: {self.basis}" if self.basis else ""
        return f"{self.text}{when} ({where}{basis})"


# --- LP arrays and the IIS ---------------------------------------------------

def compute_iis(m: pyo.ConcreteModel) -> tuple[list[tuple[Any, str]], list[tuple[Any, str]]]:
    """HiGHS's IIS of ``m``: (constraint, "lower"/"upper") and (variable, bound) members.

    Raises ``RuntimeError`` when HiGHS does not find the model infeasible or
    cannot produce an IIS.
    """
    import highspy

    # The one LP translator of the planner (the same arrays the large solves use).
    lp = compile_model(m)
    h = to_highs(lp)
    # An irreducible subset, derived from the LP (not only a light check).
    h.setOptionValue("iis_strategy", 2 | 4)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kInfeasible:
        raise RuntimeError(f"HiGHS says {h.getModelStatus()}, not infeasible")
    status, iis = h.getIis()
    if status == highspy.HighsStatus.kError or not iis.valid_:
        raise RuntimeError("HiGHS could not compute an IIS")
    names = {2: "lower", 3: "upper", 4: "both", 1: "free"}
    cons = [(lp.rows[i], names.get(int(b), "both"))
            for i, b in zip(iis.row_index_, iis.row_bound_, strict=True)]
    vars_ = [(lp.columns[j], names.get(int(b), "both"))
             for j, b in zip(iis.col_index_, iis.col_bound_, strict=True)]
    if not cons and not vars_:
        raise RuntimeError("HiGHS returned an empty IIS")
    return cons, vars_


# --- mapping back to the workbook --------------------------------------------

def _fmt(x: float) -> str:
    return f"{x:,.6g}"


def _stockpile_row(plan: PlanData, material: str, t: int) -> int | None:
    for r in plan.stockpile:
        if r.material == material and r.window[0] <= t <= r.window[1]:
            return r.row
    return None


def conflicts(plan: PlanData, case: Case, g: Groups,
              cons: Iterable[tuple[Any, str]], vars_: Iterable[tuple[Any, str]]
              ) -> list[Conflict]:
    """Map IIS members to workbook rows, merging one item's periods into one conflict."""
    labels = [p.label for p in plan.periods]
    found: dict[tuple[str, str, str], Conflict] = {}

    def add(sheet: str, row: int | None, item: str, text: str, t: int | None,
            basis: str = "") -> None:
        c = found.setdefault((sheet, item, text), Conflict(sheet, row, item, text, basis=basis))
        if t is not None and labels[t] not in c.periods:
            c.periods.append(labels[t])

    for var, bound in vars_:
        comp = var.parent_component().local_name
        idx = var.index()
        if comp == "x":
            oid, t = idx
            o = plan.offers[oid]
            if bound in ("lower", "both") and o.min_volume > 0:
                add("Offers", o.row, oid, f"offer {oid} ({o.supplier}) must take its min_volume "
                    f"of {_fmt(o.min_volume)} t/yr", t)
            if bound in ("upper", "both") and o.max_volume is not None:
                add("Offers", o.row, oid, f"offer {oid} ({o.supplier}) may sell at most its "
                    f"max_volume of {_fmt(o.max_volume)} t/yr", t)
        elif comp == "c" and bound in ("upper", "both"):
            oid, t = idx
            for rid in _use_bans(plan, case, oid, t):
                r = plan.rules[rid]
                add("Rules", r.row, rid, f"use ban {rid}: what was bought from offer {oid} "
                    "may not be consumed", t, r.basis)
        elif comp == "u" and bound in ("upper", "both"):
            mat, t = idx
            add("Demand", None, mat,
                f"unmet demand of {mat} cannot exceed its demand of "
                f"{_fmt(case.demand.get((mat, t), 0.0))} t", t)
        # Lower bounds of 0 on stock, unmet demand and shortfall are not input rows.
    for con, _bound in cons:
        # The registry says which family a row belongs to and which input sheet it
        # comes from; only the words and the row number are said here.
        fam = BY_COMPONENT.get((con.parent_block().local_name,
                               con.parent_component().local_name))
        if fam is None:
            continue  # structural rows (stock by origin, commitments) are not input
        key, sheet, idx = fam.key, fam.sheet, con.index()
        t = idx[-1]
        if key == "balance":
            mat = idx[0]
            add(sheet, None, mat,
                f"the balance of {mat} (demand {_fmt(case.demand.get((mat, t), 0.0))} t, "
                "stock carried between periods)", t)
        elif key == "capacity":
            f = plan.facilities[idx[0]]
            cap = case.capacity[f.id][t]
            desc = ", ".join(x for x in (f.name, f.country, f.stage) if x)
            add(sheet, f.row, f.id, f"facility {f.id} ({desc}) capacity of "
                f"{_fmt(cap or 0.0)} t/yr", t)
        elif key.startswith("quota"):
            r = plan.rules[idx[0]]
            what = "use quota" if fam.applies_to == "use" else "quota rule"
            add(sheet, r.row, r.id, f"{what} {r.id} limit of {_fmt(r.limit or 0.0)} t/yr",
                t, r.basis)
        elif key == "origin_initial":
            m = plan.materials[idx[0]]
            add(sheet, m.row, m.id, f"initial stock of {m.id}: {_fmt(m.initial_stock)} t", t)
        elif key.startswith("cap_"):
            cid, mat, stage, target = idx[:4]
            cp = plan.caps[cid]
            if "_max" in key:
                what = f"cap {cid}: at most {cp.max_share or 0:.1%} of {mat} at {stage} in " \
                       f"{target}"
            else:
                what = f"floor {cid}: at least {cp.min_share or 0:.1%} of {mat} at {stage} " \
                       f"from {target}"
            add(sheet, cp.row, cid, what, t, cp.basis)
        elif key == "stockpile_max":
            mat = idx[0]
            add(sheet, _stockpile_row(plan, mat, t), mat,
                f"stockpile maximum of {mat}: max_tonnes "
                f"{_fmt(g.max_stock.get((mat, t), 0.0))} t", t)
        elif key == "stockpile_min":
            mat = idx[0]
            add(sheet, _stockpile_row(plan, mat, t), mat,
                f"stockpile minimum of {mat}: {_fmt(g.min_stock.get((mat, t), 0.0))} t", t)
    order = {"Offers": 0, "Facilities": 1, "Rules": 2, "Caps": 3, "Stockpile": 4,
             "Materials": 5, "Demand": 6}
    return sorted(found.values(), key=lambda c: (order.get(c.sheet, 9), c.row or 0, c.text))


def _use_bans(plan: PlanData, case: Case, oid: str, t: int) -> list[str]:
    """The use-ban rules in force in ``t`` that match offer ``oid``."""
    ix = Index.build(plan)
    return [rid for rid, r in plan.rules.items()
            if r.kind == "ban" and r.applies_to == "use" and case.rule_on[rid][t]
            and r.window[0] <= t <= r.window[1] and oid in ix.rule_offers[rid]]


def iis_conflicts(plan: PlanData, ix: Index, case: Case) -> list[Conflict]:
    """The IIS of ``case`` in workbook terms (raises ``RuntimeError`` if HiGHS cannot)."""
    m, g = build_model(plan, ix, case)
    cons, vars_ = compute_iis(m)
    return conflicts(plan, case, g, cons, vars_)


def explain_infeasible(plan: PlanData, ix: Index, case: Case) -> list[str]:
    """Sentences for the report and the console: the IIS, or the relaxation fallback."""
    try:
        found = iis_conflicts(plan, ix, case)
    except Exception:  # noqa: BLE001 - any IIS failure falls back to relaxation
        return relaxation_explanation(plan, ix, case)
    if not found:
        return relaxation_explanation(plan, ix, case)
    lines = [f"Case {case.name!r} is infeasible. These {len(found)} input item(s) conflict "
             "(an irreducible infeasible subset from HiGHS: change any one of them to remove "
             "this conflict):"]
    lines.extend(f"- {c.sentence()}" for c in found)
    return lines


# --- fallback: relax one family at a time -------------------------------------

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


def relaxation_explanation(plan: PlanData, ix: Index, case: Case) -> list[str]:
    """Fallback: the families (and their rows) whose relaxation restores feasibility."""
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
