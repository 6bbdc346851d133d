"""One model, many cases: build and translate the LP once, then solve each case as
changes of its bounds, right-hand sides and costs.

The cases of a run (the base case, the scenarios, the policy re-solves) differ
only in numbers and in which offer-periods, rules and caps they have, never in
the matrix.  So the engine builds one Pyomo model, the superset of every case
(:func:`planner.scenario.cases.superset`: every flow any case has, every row any
case has), compiles it to arrays once (:func:`planner.solve.arrays.compile_model`)
and passes the arrays to HiGHS (a fresh instance for each case, see ``_solve``).
Each case is then given by its own
:class:`planner.model.build.CaseSpec`, the same spec its own model is built from:

- a column the case does not have (an unavailable flow, a commitment it lacks):
  lower and upper bound 0; the others take the case's bounds;
- a row the case does not have (a rule or cap switched off, an unlimited
  capacity): bounds -inf, +inf; the others take the case's right-hand sides;
- costs: the case's objective coefficients, from
  :func:`planner.model.build.cost_items` with the case's groupings.

Fixing a column at 0 and relaxing a row leaves exactly the case's own LP plus
columns at 0 and rows that bind nothing, so each case's optimum is that of its
own model (tested on random workbooks against building each case's own model,
tests/test_batch.py).  Pyomo stays the single statement of the model: the
engine only reads the spec and the compiled superset.

Determinism: every case but the first starts from the same basis (the base case's
optimal one, or none), on a fresh HiGHS instance holding the model (a solve leaves
HiGHS holding its working memory), with every bound and cost set afresh from the
pristine arrays; a case's answer therefore does not depend on the order of cases or
on which worker solved it.  Tie-breaks (least unmet demand,
steady volumes) run on the same instance (:func:`planner.solve.solver.tie_break_arrays`)
and their rows and columns are removed after.

Results come straight from HiGHS's arrays (column values, row activities, row
duals), mapped to keys through the spec and to Constraints rows through the
family registry (:func:`planner.analysis.results.tables_of`), never through Pyomo
objects.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from itertools import compress, repeat
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC

from planner import collector
from planner.analysis.excluded import describe
from planner.analysis.results import CaseResult, RowValues, family_rows, start_result, tables_of
from planner.inputs.data import PlanData
from planner.model.build import (
    TIE_BREAKS,
    CaseSpec,
    add_families,
    case_spec,
    cost_terms,
    group,
    release_flows,
)
from planner.model.families import COST_PARTS, FAMILIES
from planner.scenario.cases import Case, Index, available, superset
from planner.solve import arrays as hd
from planner.solve.solver import failure, solver_options, status_of, tie_break_arrays
from planner.solve.status import Status
from planner.solve.warm import basis_codes, highs_basis

INF = hd.INF
#: bounds of a column the case does not have
_ABSENT = (0.0, 0.0)
_FREE = (None, None)
_PART = {p.component: i for i, p in enumerate(COST_PARTS)}
_SIGN = np.array([p.sign for p in COST_PARTS], dtype=float)
#: columns from which the shared model's deleted Pyomo rows are collected at once: a
#: full collection costs time in proportion to every live object (0.2 s at 100k flows,
#: more in a long-lived process), and below this the garbage is a few MB
COLLECT_ABOVE = 20_000
#: the variable components the objective charges (planner.model.build.cost_terms)
_COSTED = ("x", "w", "s", "u", "v")


@dataclass
class Variant:
    """One case to solve on the shared model: its name, the plan it is read from (a
    policy re-solve's copy of the plan differs only in rules, caps and stockpile
    minimums) and its effective parameters."""

    name: str
    plan: PlanData
    case: Case
    #: only the Summary and Stock tables are read (a policy re-solve)
    brief: bool = False


@dataclass(frozen=True)
class Basis:
    """An optimal basis of the shared model (HiGHS basis status codes): plain arrays,
    so it pickles to worker processes and Dask workers."""

    col_status: np.ndarray
    row_status: np.ndarray

    def highs(self) -> highspy.HighsBasis:
        return highs_basis(self.col_status, self.row_status)


def _basis(h: highspy.Highs) -> Basis | None:
    got = basis_codes(h)
    return None if got is None else Basis(*got)


def _bounds(keys: list[Any], given: dict[Any, Any], default: tuple[Any, Any]
            ) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of ``keys`` from ``given`` (``default`` where absent),
    None as -inf / +inf."""
    pairs = list(map(given.get, keys, [default] * len(keys)))
    lo = np.array([p[0] for p in pairs], dtype=float)  # None -> nan
    hi = np.array([p[1] for p in pairs], dtype=float)
    lo[np.isnan(lo)] = -INF
    hi[np.isnan(hi)] = INF
    return lo, hi


def _availability(avail: dict[str, list[bool]]) -> tuple[tuple[bool, ...], ...]:
    """Offer availability as one hashable, comparable value."""
    return tuple(map(tuple, avail.values()))


class Batch:
    """The shared model of a set of cases, and the HiGHS instance that solves them."""

    def __init__(self, plan: PlanData, variants: list[Variant], ix: Index | None = None,
                 options: dict[str, Any] | None = None) -> None:
        self.ix = ix = ix or Index.build(plan)
        self.options = dict(options or {})
        self.export = self.options.pop("export_lp", None)
        self.variants = {v.name: v for v in variants}
        with PauseGC():
            case, avail = superset(plan, ix, [v.case for v in variants])
            g = group(plan, ix, case, avail)
            self._structure, self._availability = g, _availability(avail)
            m = pyo.ConcreteModel(name="cases")
            spec = add_families(m, plan, ix, case, g)
            m.tie_breaks = TIE_BREAKS
            c = hd.compile_model(m)
            self.model, self.compiled = m, c
            col_of = dict(zip(map(id, c.columns), range(len(c.columns)), strict=True))
            row_of = dict(zip(map(id, c.rows), range(len(c.rows)), strict=True))
            # columns: variable component -> (keys, positions; -1: in no row or cost)
            self.cols: dict[str, tuple[list[Any], np.ndarray]] = {}
            for name, bounds in spec.columns.items():
                keys = list(bounds)
                pos = np.fromiter((col_of.get(id(v), -1) for v in
                                   m.component(name).values()), dtype=np.int64,
                                  count=len(keys))
                self.cols[name] = (keys, pos)
            del col_of
            # rows: family key -> (keys, positions), and each row's constant (declared
            # bound - compiled bound: the constant of its body, e.g. initial stock)
            self.rows: dict[str, tuple[list[Any], dict[Any, int]]] = {}
            self.constant = np.zeros(len(c.rows))
            for fam in FAMILIES:
                if fam.key not in spec.rows:
                    continue
                con = getattr(getattr(m, fam.component[0]), fam.component[1])
                keys = list(spec.rows[fam.key])
                where = [row_of[id(r)] for r in con.values()]
                self.rows[fam.key] = (keys, dict(zip(keys, where, strict=True)))
                lo, hi = _bounds(keys, spec.rows[fam.key], _FREE)
                at = np.asarray(where, dtype=np.int64)
                with np.errstate(invalid="ignore"):
                    self.constant[at] = np.where(np.isfinite(lo), lo - c.row_lower[at],
                                                 hi - c.row_upper[at])
            del row_of
            # each cost item's column, in the order cost_terms yields them
            items = list(cost_terms({name: zip(keys, pos.tolist(), strict=True)
                                     for name in _COSTED
                                     for keys, pos in (self.cols[name],)}, plan, g))
            self.cost_pos = np.fromiter((it[4] for it in items), dtype=np.int64,
                                        count=len(items))
            self.cost_part = np.fromiter((_PART[it[0]] for it in items), dtype=np.int64,
                                         count=len(items))
            del items
        self.n, self.m = len(c.columns), len(c.rows)
        self._highs_options = solver_options(plan.settings, self.options)
        self.h = self._new_highs()
        # Every row is now HiGHS's: the constraints and expressions (most of the model's
        # memory) go, and the flow variables where no tie-break reads them; the other
        # variables stay, for the tie-breaks.
        for comp in list(m.component_objects((pyo.Constraint, pyo.Block, pyo.Expression,
                                              pyo.Objective), descend_into=False)):
            m.del_component(comp)
        release_flows(m)
        c.rows, c.columns = [], []
        self.col_of = {id(v): int(j) for name, (_, pos) in self.cols.items()
                       if (var := m.component(name)) is not None
                       for v, j in zip(var.values(), pos, strict=True) if j >= 0}
        self._all_cols = np.arange(self.n, dtype=np.int32)
        self._all_rows = np.arange(self.m, dtype=np.int32)
        # Pyomo's components and their data refer to each other: what was deleted is
        # cyclic garbage only a full collection frees (0.4 GB at 1M flows; the
        # collector, paused through each case, would otherwise keep it for the run).
        if self.n >= COLLECT_ABOVE:
            gc.collect()
        collector.trim()

    def _new_highs(self) -> highspy.Highs:
        """A HiGHS instance holding the shared model, with the run's options."""
        h = hd.to_highs(self.compiled)
        hd.set_options(h, self._highs_options)
        return h

    # --- one case ---------------------------------------------------------------------

    def _group(self, plan: PlanData, case: Case) -> Any:
        """The case's groupings.  When the case has the superset's availability (every
        case whose scenario only changes numbers, or only bans what another case bans
        too), the superset's index sets and groupings are shared and only the case's
        numbers are worked out."""
        avail = available(plan, self.ix, case)
        like = self._structure if _availability(avail) == self._availability else None
        return group(plan, self.ix, case, avail, like)

    def _arrays(self, variant: Variant, spec: CaseSpec, g: Any
                ) -> tuple[np.ndarray, ...] | None:
        """The case's column bounds, costs, row bounds, which columns it has, and each
        cost item's coefficient; None if a column or row of the case is not in the
        shared model (never, for the cases it was built from: checked so that a slip
        can never give a wrong LP)."""
        if any(bounds and name not in self.cols for name, bounds in spec.columns.items()) \
                or any(bounds and key not in self.rows for key, bounds in spec.rows.items()):
            return None
        col_lo = np.zeros(self.n)
        col_hi = np.zeros(self.n)
        present = np.zeros(self.n, dtype=bool)
        for name, (keys, pos) in self.cols.items():
            have = spec.columns.get(name, {})
            lo, hi = _bounds(keys, have, _ABSENT)
            mine = np.fromiter(map(have.__contains__, keys), dtype=bool, count=len(keys))
            if int(mine.sum()) != len(have):  # keys are distinct: all of the case's there
                return None
            ok = pos >= 0
            col_lo[pos[ok]], col_hi[pos[ok]] = lo[ok], hi[ok]
            present[pos[ok]] = mine[ok]
        row_lo = np.full(self.m, -INF)
        row_hi = np.full(self.m, INF)
        for key, (keys, at) in self.rows.items():
            given = spec.rows.get(key, {})
            mine_rows = [k for k in keys if k in given]
            if len(mine_rows) != len(given):
                return None
            pos = np.fromiter(map(at.__getitem__, mine_rows), dtype=np.int64,
                              count=len(mine_rows))
            lo, hi = _bounds(mine_rows, given, _FREE)
            row_lo[pos] = lo - self.constant[pos]
            row_hi[pos] = hi - self.constant[pos]
        items = cost_terms({name: zip(self.cols[name][0], repeat(None))  # noqa: B905
                            for name in _COSTED}, variant.plan, g)
        coef = np.fromiter((it[3] for it in items), dtype=float, count=len(self.cost_pos))
        cost = np.zeros(self.n)
        ok = self.cost_pos >= 0
        np.add.at(cost, self.cost_pos[ok], (_SIGN[self.cost_part] * coef)[ok])
        return col_lo, col_hi, cost, row_lo, row_hi, present, coef

    def solve(self, name: str, start: Basis | None = None, capture: bool = False
              ) -> tuple[CaseResult, Basis | None]:
        """Solve case ``name`` from ``start`` (or cold); with ``capture``, also return
        its optimal basis (the warm start of the others).  The collector stays off
        throughout: a case makes hundreds of thousands of objects and no garbage, and
        each collection would walk the whole shared model.  Once the case's groupings,
        spec and arrays are gone, the freed memory goes back to the system."""
        with collector.paused():
            out = self._solve(name, start, capture)
        collector.trim()
        return out

    def _solve(self, name: str, start: Basis | None, capture: bool
               ) -> tuple[CaseResult, Basis | None]:
        began = time.perf_counter()
        variant = self.variants[name]
        plan, case = variant.plan, variant.case
        g = self._group(plan, case)
        spec = case_spec(plan, self.ix, case, g)
        arrays = self._arrays(variant, spec, g)
        if arrays is None:  # pragma: no cover - a superset always fits
            from planner.run.case import solve_case

            return solve_case(plan, name, self.ix, self.options), None
        col_lo, col_hi, cost, row_lo, row_hi, present, coef = arrays
        h = self.h
        h.changeColsBounds(self.n, self._all_cols, col_lo, col_hi)
        h.changeColsCost(self.n, self._all_cols, cost)
        h.changeRowsBounds(self.m, self._all_rows, row_lo, row_hi)
        if self.export:
            from planner.run.case import lp_path

            if h.writeModel(str(lp_path(self.export, name))) == highspy.HighsStatus.kError:
                raise OSError(f"HiGHS could not write {lp_path(self.export, name)}")
        if start is not None:
            h.setBasis(start.highs())  # a basis HiGHS refuses leaves the solve cold
        if self.n == 0:
            status, has, message = Status.OPTIMAL, True, ""
            values: np.ndarray | None = np.zeros(0)
        else:
            try:
                status, has, message = status_of(hd.run(h, self.compiled))
            except Exception as exc:  # noqa: BLE001 - a solver failure is a status
                (status, message), has = failure(exc), False
            values = np.asarray(h.getSolution().col_value, dtype=float) if has else None
        basis = _basis(h) if capture and status is Status.OPTIMAL and self.n else None
        duals = None
        if status is Status.OPTIMAL and self.n:
            duals = np.asarray(h.getSolution().row_dual, dtype=float)
            values = tie_break_arrays(h, self.model, self.col_of, values, present, cost)
        if self.n:
            # A solve leaves HiGHS holding its presolve and factorisation work (0.6 GB
            # after a cold solve at 1M flows, 0.2-0.3 GB after a warm one; clearSolver
            # keeps it): the next case gets a fresh instance holding the same model, for
            # one pass of the arrays (0.15 s at 1M flows).
            del h, self.h  # the old instance goes first
            self.h = self._new_highs()
            collector.trim()
        out = describe(start_result(name, status, 0.0, message), plan, self.ix, case)
        if has and values is not None:
            self._tables(variant, spec, g, out, values, coef, duals)
        out.seconds = time.perf_counter() - began
        if status is Status.INFEASIBLE:
            from planner.analysis.explain import explain_infeasible

            out.explanation = explain_infeasible(plan, self.ix, case)
        return out, basis

    def _tables(self, variant: Variant, spec: CaseSpec, g: Any, out: CaseResult,
                x: np.ndarray, coef: np.ndarray, duals: np.ndarray | None) -> None:
        """The case's tidy tables, read off the solution arrays."""
        def column(name: str) -> dict[Any, float]:
            have = spec.columns.get(name, {})
            keys, pos = self.cols.get(name, ([], np.zeros(0, dtype=np.int64)))
            vals = np.where(pos >= 0, x[np.maximum(pos, 0)] if len(x) else 0.0, 0.0)
            return dict(compress(zip(keys, vals.tolist(), strict=True),
                                 map(have.__contains__, keys)))

        values = {name: column(name) for name in ("x", "s", "u", "v")}
        ok = self.cost_pos >= 0
        at = np.where(ok, x[np.maximum(self.cost_pos, 0)] if len(x) else 0.0, 0.0)
        sums = np.bincount(self.cost_part, weights=coef * at, minlength=len(COST_PARTS))
        parts = {p.component: float(sums[i]) for i, p in enumerate(COST_PARTS)}
        activity = hd.activity(self.compiled, x)
        by_family: dict[str, list[RowValues]] = {}
        for fam in FAMILIES:
            given = spec.rows.get(fam.key)
            if not fam.reported or not given:
                continue
            at_row = self.rows[fam.key][1]
            rows: list[RowValues] = []
            for k, (lo, hi) in given.items():
                r = at_row[k]
                rows.append((k, lo, hi, float(activity[r] + self.constant[r]),
                             None if duals is None else float(duals[r])))
            by_family[fam.key] = rows
        tables_of(variant.plan, variant.case, g, out, values, parts,
                  family_rows(variant.plan, by_family, variant.name), brief=variant.brief)


def failed(names: list[str], exc: Exception) -> list[CaseResult]:
    """Results of cases whose shared model could not be built or passed to HiGHS."""
    status, message = failure(exc)
    return [start_result(n, status, 0.0, message) for n in names]


# --- many cases ------------------------------------------------------------------------


def scenario_variants(plan: PlanData, ix: Index, names: list[str]) -> list[Variant]:
    """The cases ``names`` as variants of the shared model: ``base``, scenarios, and
    policy re-solves (:attr:`planner.analysis.policy.Policy.case`), each the base case
    of a copy of the plan without the policy."""
    from planner.analysis.policy import policy_case
    from planner.scenario.cases import build_case

    out = []
    for n in names:
        relaxed = policy_case(plan, n)
        out.append(Variant(n, plan, build_case(plan, ix, n)) if relaxed is None
                   else Variant(n, relaxed, build_case(relaxed, ix, "base"), brief=True))
    return out
