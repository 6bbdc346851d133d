"""Hedging under uncertainty: the two-stage plan of contract section 6 (``planner hedge``).

One linear program, built from the constraint families of :mod:`planner.model.build`
on sub-blocks of one ConcreteModel (as :mod:`planner.resilience.sizing` does; no second copy
of the formulation):

* one block per case listed in the Probabilities sheet (``base`` and Scenarios
  names), each the full model of section 3 under the case's changes, its own
  ``total_cost`` objective deactivated: cost_s is that expression;
* first stage: X(o,t) >= 0 for every offer-period with t <= ``commit_through``
  that some block has a flow for; non-anticipativity x_s(o,t) = X(o,t) in every
  block that has the flow; X(o,t) is held at 0 (an upper bound) where some block
  lacks it (the offer is unavailable in that scenario, so the shared order is 0;
  a must-take min_volume elsewhere may then make the hedge infeasible, which is
  the model's answer);
* the objective (1 - lambda) x E + lambda x CVaR, with E = sum_s p_s cost_s and
  CVaR = eta + 1/(1 - alpha) x sum_s p_s z_s, z_s >= cost_s - eta, z_s >= 0
  (Rockafellar-Uryasev).

Among optimal hedges the one of least expected cost is taken (a second solve
holding the objective at its optimum; with lambda = 0 the objective is already
E), so the commitments are well defined and every scenario's recourse is its
cheapest given them.  Each scenario's recourse is then re-solved alone with the
commitments fixed, which gives its tidy tables and per-scenario shadow prices.

Measures (all with the same lambda and alpha): expected_cost, cvar, objective;
evpi = objective minus the blend of each scenario's own section-3 optimum (the
foresight costs); vss = the blend when the base case's own optimal orders
through ``commit_through`` are imposed as the shared orders, minus objective.
CVaR of a cost vector is computed exactly (:func:`cvar`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyomo.environ as pyo

from planner.analysis.model_tables import extract
from planner.analysis.results import CaseResult
from planner.inputs.data import PlanData
from planner.inputs.problems import InputError, Problem
from planner.inputs.schema import PROBABILITIES
from planner.model.build import Groups, build_model
from planner.model.families import COST_PARTS
from planner.resilience.sizing import case_block
from planner.scenario.cases import Case, Index, build_case
from planner.solve.solver import Status, solve, solver_options

#: the risk weights of the Frontier sheet
LAMBDAS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
#: a commitment below this many t is no commitment
EPS = 1e-9
Row = dict[str, Any]


def cvar(costs: Sequence[float], probs: Sequence[float], alpha: float) -> float:
    """CVaR_alpha of a discrete cost distribution, exactly (Rockafellar-Uryasev):
    min over eta of eta + 1/(1 - alpha) x sum p_s max(c_s - eta, 0).

    The function of eta is convex and piecewise linear with its kinks at the
    costs, falling (or flat) left of the least and rising right of the greatest,
    so its minimum is at one of the costs.
    """
    if not costs:
        return 0.0
    k = 1.0 / (1.0 - alpha)
    return min(eta + k * sum(p * max(c - eta, 0.0) for c, p in zip(costs, probs, strict=True))
               for eta in costs)


def blend(costs: Sequence[float], probs: Sequence[float], lam: float, alpha: float) -> float:
    """(1 - lambda) x E + lambda x CVaR_alpha of a cost vector: the hedge's objective."""
    expected = sum(p * c for c, p in zip(costs, probs, strict=True))
    return (1.0 - lam) * expected + lam * cvar(costs, probs, alpha)


@dataclass
class Point:
    """One solve of the hedge at a risk weight: its status and each scenario's cost."""

    risk_weight: float
    status: Status
    message: str = ""
    costs: list[float] = field(default_factory=list)
    expected_cost: float | None = None
    cvar: float | None = None
    objective: float | None = None
    #: (offer, period index) -> shared order
    orders: dict[tuple[str, int], float] = field(default_factory=dict)


@dataclass
class HedgeResult:
    """The hedge, its measures, the frontier and each scenario's recourse."""

    status: Status
    risk_weight: float
    cvar_level: float
    commit_through: str
    scenarios: list[str]
    probabilities: list[float]
    message: str = ""
    #: rows offer, supplier, material, period, volume, expected_unit_cost, expected_cost
    commitments: list[Row] = field(default_factory=list)
    #: scenario -> total_cost of its recourse under the commitments
    costs: dict[str, float] = field(default_factory=dict)
    #: scenario -> its own section-3 optimum (None: not optimal alone)
    foresight: dict[str, float | None] = field(default_factory=dict)
    expected_cost: float | None = None
    cvar: float | None = None
    objective: float | None = None
    evpi: float | None = None
    vss: float | None = None
    vss_note: str = ""
    evpi_note: str = ""
    frontier: list[Point] = field(default_factory=list)
    #: each scenario's recourse, re-solved alone with the commitments fixed
    recourse: list[CaseResult] = field(default_factory=list)
    #: why the hedge is infeasible, in workbook terms
    explanation: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 optimal, 3 the solver could not answer, else 1 (as ``planner run``)."""
        statuses = [self.status, *(Status.of(str(r.status)) for r in self.recourse)]
        if any(s.is_failure for s in statuses):
            return 3
        return 0 if all(s is Status.OPTIMAL for s in statuses) else 1

    @property
    def neutral(self) -> Point | None:
        """The risk-neutral point of the frontier (lambda = 0), when it solved."""
        return next((p for p in self.frontier if p.risk_weight == 0.0
                     and p.status is Status.OPTIMAL), None)

    def measure_rows(self) -> list[Row]:
        """The Hedge sheet: measure, value, note."""
        a = f"{self.cvar_level:g}"
        return [
            {"measure": "expected_cost", "value": self.expected_cost,
             "note": "sum over scenarios of probability x total_cost"},
            {"measure": "cvar", "value": self.cvar,
             "note": f"CVaR at level {a}: the expected cost of the worst {1 - self.cvar_level:.0%}"
                     " of probability"},
            {"measure": "objective", "value": self.objective,
             "note": f"(1 - {self.risk_weight:g}) x expected_cost + {self.risk_weight:g} x cvar"},
            {"measure": "evpi", "value": self.evpi,
             "note": self.evpi_note or "objective minus the same objective on each scenario's "
                                       "own optimum (what perfect foresight is worth)"},
            {"measure": "vss", "value": self.vss,
             "note": self.vss_note or "objective with the base case's own orders through "
                                      f"{self.commit_through} imposed, minus objective"},
        ]

    def scenario_rows(self) -> list[Row]:
        """The Hedge scenarios sheet: probability, total_cost, money, penalties, foresight."""
        by_name = {r.name: r for r in self.recourse}
        out = []
        for name, p in zip(self.scenarios, self.probabilities, strict=True):
            r = by_name.get(name)
            s = r.summary if r is not None else {}
            money = sum(c.sign * float(s.get(c.column) or 0.0) for c in COST_PARTS
                        if c.kind == "money") if r is not None and r.total_cost is not None \
                else None
            penalties = sum(c.sign * float(s.get(c.column) or 0.0) for c in COST_PARTS
                            if c.kind == "penalty") if r is not None \
                and r.total_cost is not None else None
            out.append({"scenario": name, "probability": p, "total_cost": self.costs.get(name),
                        "money": money, "penalties": penalties,
                        "foresight_cost": self.foresight.get(name)})
        return out

    def frontier_rows(self) -> list[Row]:
        return [{"risk_weight": p.risk_weight, "status": str(p.status),
                 "expected_cost": p.expected_cost, "cvar": p.cvar, "objective": p.objective}
                for p in self.frontier]


# --- inputs -----------------------------------------------------------------------------

def listed(plan: PlanData) -> list[str]:
    """The cases of the Probabilities sheet, base first, then in Scenarios-sheet order.

    Raises :class:`InputError` when the workbook lists none (the sheet is needed).
    """
    if not plan.probabilities:
        raise InputError([Problem(
            PROBABILITIES.name, None, None, None,
            "a sheet named Probabilities with columns scenario and probability, listing "
            "base and the Scenarios-sheet scenarios the hedge covers",
            "planner hedge needs the Probabilities sheet: add it (planner template writes "
            "it) with one row per case and probabilities that sum to 1.")])
    order = ["base", *plan.scenarios]
    return [n for n in order if n in plan.probabilities]


# --- the model -----------------------------------------------------------------------------

class HedgeModel:
    """The two-stage LP of section 6 on one ConcreteModel, re-solvable at any lambda."""

    def __init__(self, plan: PlanData, ix: Index, names: list[str], probs: list[float],
                 through: int, alpha: float) -> None:
        self.plan, self.names, self.probs, self.alpha = plan, names, probs, alpha
        top = pyo.ConcreteModel(name="hedge")
        self.top = top
        self.cases: list[Case] = []
        self.groups: list[Groups] = []
        self.blocks: list[Any] = []
        for i, name in enumerate(names):
            case = build_case(plan, ix, name)
            b, g = case_block(top, f"scenario_{i}", plan, ix, case)
            self.cases.append(case)
            self.groups.append(g)
            self.blocks.append(b)
        row = {oid: o.row for oid, o in plan.offers.items()}
        shared = {k for g in self.groups for k in g.flows if k[1] <= through}
        self.keys: list[tuple[str, int]] = sorted(shared, key=lambda k: (k[1], row[k[0]], k[0]))
        top.X = pyo.Var(self.keys, within=pyo.NonNegativeReals)
        #: (offer, period) -> the scenarios where the offer is unavailable (X held at 0)
        self.missing: dict[tuple[str, int], list[str]] = {}
        for k in self.keys:
            absent = [n for n, b in zip(names, self.blocks, strict=True) if k not in b._flow_vars]
            if absent:
                self.missing[k] = absent
                top.X[k].setub(0.0)
        links = [(i, o, t) for i, b in enumerate(self.blocks) for (o, t) in self.keys
                 if (o, t) in b._flow_vars]
        top.nonant = pyo.Constraint(
            links, rule=lambda _, i, o, t: self.blocks[i]._flow_vars[(o, t)] == top.X[o, t])
        n = len(names)
        top.cost = pyo.Expression(range(n), rule=lambda _, i: self.blocks[i].total_cost.expr)
        top.eta = pyo.Var(within=pyo.Reals)
        top.z = pyo.Var(range(n), within=pyo.NonNegativeReals)
        top.tail = pyo.Constraint(range(n), rule=lambda _, i: top.z[i] >= top.cost[i] - top.eta)
        self.expected = pyo.quicksum(p * top.cost[i] for i, p in enumerate(probs))
        self.cvar_expr = top.eta + (1.0 / (1.0 - alpha)) * pyo.quicksum(
            p * top.z[i] for i, p in enumerate(probs))

    def objective(self, lam: float) -> Any:
        return (1.0 - lam) * self.expected + lam * self.cvar_expr

    def costs(self) -> list[float]:
        return [float(pyo.value(self.top.cost[i])) for i in range(len(self.names))]

    def fix_orders(self, orders: dict[tuple[str, int], float] | None) -> None:
        """Impose ``orders`` as the shared orders (missing keys: 0), or free them (None)."""
        for k in self.keys:
            var = self.top.X[k]
            if orders is None:
                var.setlb(0.0)
                var.setub(0.0 if k in self.missing else None)
            else:
                v = max(0.0, orders.get(k, 0.0))
                var.setlb(v)
                var.setub(v)

    def solve_at(self, lam: float, options: dict[str, Any]) -> Point:
        """Solve at risk weight ``lam``; among optima, the least expected cost."""
        top = self.top
        for name in ("goal", "tie_goal", "tie"):
            top.del_component(name)
        top.goal = pyo.Objective(expr=self.objective(lam), sense=pyo.minimize)
        res = solve(top, options)
        if res.status is not Status.OPTIMAL:
            return Point(lam, res.status, res.message)
        if lam > 0:
            self._least_expected(lam, options)
        costs = self.costs()
        orders = {k: _clean(top.X[k].value) for k in self.keys}
        return _point(lam, costs, self.probs, self.alpha, orders)


    def _least_expected(self, lam: float, options: dict[str, Any]) -> None:
        """Among plans within 1e-9 (relative) of the optimum, one of least expected cost.

        The tie-break is kept only when it lowers the expected cost by more than
        1e-7 relative: otherwise it would only trade the tolerance for noise, and
        the first (optimal) plan is loaded back.
        """
        top = self.top
        first = [(v, v.value) for v in top.component_data_objects(pyo.Var)]
        best = float(pyo.value(top.goal))
        expected = float(pyo.value(self.expected))
        top.goal.deactivate()
        top.tie = pyo.Constraint(expr=self.objective(lam) <= best + 1e-9 * max(1.0, abs(best)))
        top.tie_goal = pyo.Objective(expr=self.expected, sense=pyo.minimize)
        try:
            res = solve(top, options)
            better = (res.status is Status.OPTIMAL and float(pyo.value(self.expected))
                      < expected - 1e-7 * max(1.0, abs(expected)))
        finally:
            top.del_component("tie_goal")
            top.del_component("tie")
            top.goal.activate()
        if not better:
            for v, value in first:
                v.set_value(value, skip_validation=True)


def _clean(v: float | None) -> float:
    return 0.0 if v is None or abs(v) < EPS else float(v)


def _point(lam: float, costs: list[float], probs: list[float], alpha: float,
           orders: dict[tuple[str, int], float] | None = None) -> Point:
    expected = sum(p * c for c, p in zip(costs, probs, strict=True))
    tail = cvar(costs, probs, alpha)
    return Point(lam, Status.OPTIMAL, "", costs, expected, tail,
                 (1.0 - lam) * expected + lam * tail, orders or {})


# --- the analysis ---------------------------------------------------------------------------

def hedge(plan: PlanData, options: dict[str, Any] | None = None,
          frontier: Sequence[float] = LAMBDAS) -> HedgeResult:
    """Solve the hedge of section 6 and its measures, frontier and recourse tables.

    Raises :class:`InputError` when the workbook has no Probabilities sheet.
    """
    names = listed(plan)
    probs = [plan.probabilities[n] for n in names]
    s = plan.settings
    lam, alpha, through = s.risk_weight, s.cvar_level, s.commit_through
    labels = [p.label for p in plan.periods]
    out = HedgeResult(Status.OPTIMAL, lam, alpha, labels[through] if labels else "",
                      names, probs)
    skipped = [n for n in ["base", *plan.scenarios] if n not in plan.probabilities]
    if skipped:
        out.notes.append("Not in the Probabilities sheet, so no part of the hedge: "
                         + ", ".join(skipped) + ".")
    opts = solver_options(plan.settings, options)
    ix = Index.build(plan)

    # each case alone: the foresight costs (and the base case's own orders, for vss)
    alone: dict[str, tuple[Case, pyo.ConcreteModel, Groups]] = {}
    base_orders: dict[tuple[str, int], float] | None = None
    for name in dict.fromkeys([*names, "base"]):
        case = build_case(plan, ix, name)
        m, g = build_model(plan, ix, case)
        res = solve(m, opts)
        if name in plan.probabilities:
            alone[name] = (case, m, g)
            out.foresight[name] = (float(pyo.value(m.total_cost))
                                   if res.status is Status.OPTIMAL else None)
        if name == "base" and res.status is Status.OPTIMAL:
            base_orders = {k: _clean(v.value) for k, v in m._flow_vars.items()
                           if k[1] <= through}

    hm = HedgeModel(plan, ix, names, probs, through, alpha)
    main = hm.solve_at(lam, opts)
    if main.status is not Status.OPTIMAL:
        out.status, out.message = main.status, main.message
        if main.status is Status.INFEASIBLE:
            out.explanation = explain(hm, out)
        return out

    # commitments
    for (oid, t), vol in main.orders.items():
        if vol <= EPS:
            continue
        o = plan.offers[oid]
        price = sum(p * hm.groups[i].price[(oid, t)] for i, p in enumerate(probs)
                    if (oid, t) in hm.groups[i].price)
        out.commitments.append({"offer": oid, "supplier": o.supplier, "material": o.material,
                                "period": labels[t], "volume": vol,
                                "expected_unit_cost": price, "expected_cost": price * vol})

    # each scenario's recourse alone with the commitments fixed: tables and costs
    for name in names:
        case, m, g = alone[name]
        for k, var in m._flow_vars.items():
            if k[1] <= through:
                v = max(main.orders.get(k, 0.0), var.lb or 0.0)
                var.fix(v if var.ub is None else min(v, var.ub))
        res = solve(m, opts)
        r = extract(plan, case, m, g, res)
        out.recourse.append(r)
        if r.total_cost is not None:
            out.costs[name] = r.total_cost
    if len(out.costs) == len(names):
        costs = [out.costs[n] for n in names]
    else:
        costs = main.costs
        out.costs = dict(zip(names, costs, strict=True))
        out.notes.append("A scenario's recourse could not be re-solved alone; its cost is "
                         "the hedge model's.")
    measured = _point(lam, costs, probs, alpha)
    objective = measured.objective
    assert objective is not None
    out.expected_cost, out.cvar, out.objective = measured.expected_cost, measured.cvar, objective

    # evpi: the same objective on each scenario's own optimum
    seen = [out.foresight.get(n) for n in names]
    if all(c is not None for c in seen):
        out.evpi = objective - blend([float(c or 0.0) for c in seen], probs, lam, alpha)
    else:
        bad = [n for n, c in zip(names, seen, strict=True) if c is None]
        out.evpi_note = ("blank: " + ", ".join(bad) + " has no optimum on its own")

    # vss: the base case's own orders through commit_through imposed
    if base_orders is None:
        out.vss_note = "blank: the base case has no optimum on its own"
    else:
        hm.fix_orders(base_orders)
        fixed = hm.solve_at(lam, opts)
        hm.fix_orders(None)
        if fixed.status is Status.OPTIMAL and fixed.objective is not None:
            out.vss = fixed.objective - objective
        elif fixed.status is Status.INFEASIBLE:
            out.vss_note = ("blank: the base case's own orders through "
                            f"{out.commit_through} are infeasible in some scenario")
        else:
            out.vss_note = f"blank: the solve with the base case's orders ended {fixed.status}"

    # the frontier
    for w in frontier:
        out.frontier.append(main if w == lam else hm.solve_at(w, opts))
    return out


# --- infeasibility ----------------------------------------------------------------------------

def _block_of(top: Any, comp: Any) -> str | None:
    """The name of the scenario block holding ``comp`` (None: the hedge's own rows)."""
    blk = comp.parent_block()
    if blk is top or blk is None:
        return None
    while blk.parent_block() is not top:
        blk = blk.parent_block()
    return str(blk.local_name)


def explain(hm: HedgeModel, out: HedgeResult) -> list[str]:
    """Why the hedge is infeasible: the scenarios and committed orders in HiGHS's IIS,
    and each scenario's conflicting input rows (:mod:`planner.analysis.explain`)."""
    from planner.analysis.explain import compute_iis, conflicts

    plan = hm.plan
    labels = [p.label for p in plan.periods]
    lines = [f"The hedge is infeasible: no orders through {out.commit_through} can be shared "
             "by every scenario listed in Probabilities."]
    alone = [n for n, c in out.foresight.items() if c is None]
    if alone:
        lines.append("Infeasible even on its own (see planner run): " + ", ".join(alone) + ".")
    try:
        cons, vars_ = compute_iis(hm.top)
    except Exception as exc:  # noqa: BLE001 - the explanation is best effort
        lines.append(f"HiGHS could not compute an irreducible infeasible subset ({exc}).")
        return lines
    block_name = {f"scenario_{i}": n for i, n in enumerate(hm.names)}
    per: dict[str, tuple[list[Any], list[Any]]] = defaultdict(lambda: ([], []))
    committed: dict[tuple[str, int], set[str]] = defaultdict(set)
    for con, bound in cons:
        blk = _block_of(hm.top, con)
        if blk is None:
            if con.parent_component().local_name == "nonant":
                i, oid, t = con.index()
                committed[(oid, t)].add(hm.names[i])
            continue
        per[block_name[blk]][0].append((con, bound))
    for var, bound in vars_:
        blk = _block_of(hm.top, var)
        if blk is None:
            if var.parent_component().local_name == "X":
                oid, t = var.index()
                committed[(oid, t)].update(hm.missing.get((oid, t), []))
            continue
        per[block_name[blk]][1].append((var, bound))
    involved = [n for n in hm.names if n in per or any(n in v for v in committed.values())]
    lines.append("Scenarios involved (an irreducible infeasible subset from HiGHS): "
                 + (", ".join(involved) or "none found") + ".")
    for (oid, t), who in sorted(committed.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        o = plan.offers[oid]
        text = (f"- committed order {oid} ({o.supplier}, Offers row {o.row}) in {labels[t]}: "
                "shared by " + ", ".join(n for n in hm.names if n in who))
        gone = hm.missing.get((oid, t))
        if gone:
            text += f"; held at 0 because the offer is unavailable in {', '.join(gone)}"
        lines.append(text + ".")
    for i, name in enumerate(hm.names):
        if name not in per:
            continue
        c, v = per[name]
        for conflict in conflicts(plan, hm.cases[i], hm.groups[i], c, v):
            lines.append(f"- in scenario {name}: {conflict.sentence()}")
    return lines
