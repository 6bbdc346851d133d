"""Pass a linear Pyomo model to HiGHS as arrays, and read the answer back.

Pyomo's own HiGHS interface (``pyomo.contrib.solver`` 'highs') is persistent:
it registers every variable and constraint with observers and runs the
general ``generate_standard_repn`` on each constraint, which costs several
seconds per 100k variables.  The planner's models are linear and built from
``LinearExpression`` bodies, so this module walks each active constraint and
objective once, reads the (coefficient, variable) terms straight off the
expression (any other expression form falls back to Pyomo's
``generate_standard_repn``), assembles the constraint matrix column-wise with
NumPy and hands it to ``highspy`` in one ``passModel`` call.  It reproduces
the interface ``planner.solve.solver`` relied on: a results object with
``termination_condition``, ``solution_status`` and a ``solution_loader``
(``load_vars()``, ``get_duals()``: HiGHS row duals, d objective / d bound,
exactly as Pyomo's interface reports them).

The Pyomo model stays the only statement of the formulation; this is only the
translation step, measured in ``benchmarks/`` and recorded in
``docs/benchmarks.md``.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter, itemgetter
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.core.base.var import VarData
from pyomo.core.expr.numeric_expr import (
    LinearExpression,
    MonomialTermExpression,
    NegationExpression,
    ProductExpression,
    SumExpression,
)
from pyomo.core.expr.numvalue import native_numeric_types
from pyomo.repn import generate_standard_repn

from planner.solve.runtime import new_highs, prepare

INF = math.inf

_TERMINATION = {
    highspy.HighsModelStatus.kOptimal: TerminationCondition.convergenceCriteriaSatisfied,
    highspy.HighsModelStatus.kInfeasible: TerminationCondition.provenInfeasible,
    highspy.HighsModelStatus.kUnboundedOrInfeasible: TerminationCondition.infeasibleOrUnbounded,
    highspy.HighsModelStatus.kUnbounded: TerminationCondition.unbounded,
    highspy.HighsModelStatus.kTimeLimit: TerminationCondition.maxTimeLimit,
    highspy.HighsModelStatus.kIterationLimit: TerminationCondition.iterationLimit,
    highspy.HighsModelStatus.kObjectiveBound: TerminationCondition.objectiveLimit,
    highspy.HighsModelStatus.kObjectiveTarget: TerminationCondition.objectiveLimit,
    highspy.HighsModelStatus.kModelEmpty: TerminationCondition.unknown,
    highspy.HighsModelStatus.kLoadError: TerminationCondition.error,
    highspy.HighsModelStatus.kModelError: TerminationCondition.error,
    highspy.HighsModelStatus.kPresolveError: TerminationCondition.error,
    highspy.HighsModelStatus.kSolveError: TerminationCondition.error,
    highspy.HighsModelStatus.kPostsolveError: TerminationCondition.error,
}


class NotLinearError(ValueError):
    """The model has a term this linear interface cannot pass to HiGHS."""


def _terms(e: Any, mult: float, vs: list[Any], cs: list[float]) -> float:
    """Append e's linear terms (times ``mult``) to ``vs``/``cs``; return its constant."""
    tp = type(e)
    if tp in native_numeric_types:
        return mult * e
    if tp is LinearExpression or tp is SumExpression:
        const = 0.0
        for a in e.args:
            ta = type(a)
            if ta is VarData and not a.fixed:
                vs.append(a)
                cs.append(mult)
            elif ta is MonomialTermExpression:
                coef, v = a.args
                if type(coef) not in native_numeric_types:
                    coef = pyo.value(coef)
                if v.fixed:
                    const += mult * coef * v.value
                else:
                    vs.append(v)
                    cs.append(mult * coef)
            elif ta in native_numeric_types:
                const += mult * a
            else:
                const += _terms(a, mult, vs, cs)
        return const
    if tp is MonomialTermExpression:
        coef, v = e.args
        coef = coef if type(coef) in native_numeric_types else pyo.value(coef)
        if v.fixed:
            return mult * coef * v.value
        vs.append(v)
        cs.append(mult * coef)
        return 0.0
    if tp is NegationExpression:
        return _terms(e.args[0], -mult, vs, cs)
    if e.is_named_expression_type():
        return _terms(e.expr, mult, vs, cs)
    if e.is_variable_type():
        if e.fixed:
            return mult * e.value
        vs.append(e)
        cs.append(mult)
        return 0.0
    if not e.is_potentially_variable():
        return mult * pyo.value(e)
    repn = generate_standard_repn(e, compute_values=True, quadratic=False)
    if repn.nonlinear_expr is not None:
        raise NotLinearError(f"not a linear expression: {e}")
    for c, v in zip(repn.linear_coefs, repn.linear_vars, strict=True):
        vs.append(v)
        cs.append(mult * c)
    return mult * pyo.value(repn.constant)


@dataclass
class Compiled:
    """A linear model as HiGHS arrays, and the Pyomo objects behind rows and columns."""

    columns: list[Any]
    rows: list[Any]
    cost: np.ndarray
    offset: float
    maximise: bool
    col_lower: np.ndarray
    col_upper: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray


class _Flat:
    """Terms of many rows gathered as flat lists; sorted out with NumPy afterwards.

    Each ``LinearExpression`` contributes its argument list as is (a C-level
    ``extend``); only afterwards are the arguments told apart by type
    (variable, (coefficient, variable) term, number), in bulk.  Bodies of any
    other form go through :func:`_terms` one term at a time.
    """

    def __init__(self) -> None:
        self.args: list[Any] = []
        self.arg_row: list[int] = []
        self.arg_len: list[int] = []
        self.arg_mult: list[float] = []
        self.vars: list[Any] = []
        self.coefs: list[float] = []
        self.rows: list[int] = []

    def add(self, e: Any, row: int, mult: float = 1.0) -> float:
        """Add ``mult`` x e to ``row``; return the constant part not yet counted."""
        tp = type(e)
        if tp is LinearExpression:
            args = e.args
            self.args.extend(args)
            self.arg_row.append(row)
            self.arg_len.append(len(args))
            self.arg_mult.append(mult)
            return 0.0
        if tp is ProductExpression and type(e.args[0]) in native_numeric_types:
            # constant x expression, e.g. share x purchases(m, t): scale the inner terms
            return self.add(e.args[1], row, mult * e.args[0])
        if tp is SumExpression or e.is_named_expression_type():
            const = 0.0
            for a in (e.args if tp is SumExpression else (e.expr,)):
                if type(a) in native_numeric_types:
                    const += mult * a
                else:
                    const += self.add(a, row, mult)
            return const
        vs: list[Any] = []
        cs: list[float] = []
        const = _terms(e, mult, vs, cs)
        self.vars.extend(vs)
        self.coefs.extend(cs)
        self.rows.extend([row] * len(vs))
        return const

    def arrays(self, n_rows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(variables as an object array, coefficients, row of each term,
        constant of each row + 1)."""
        const = np.zeros(n_rows + 1)
        args = self.args
        n = len(args)
        lens = np.asarray(self.arg_len, dtype=np.int64)
        row = np.repeat(np.asarray(self.arg_row, dtype=np.int64), lens)
        mult = np.repeat(np.asarray(self.arg_mult, dtype=float), lens)
        terms = np.fromiter(args, dtype=object, count=n)
        # 0: variable, 1: (coefficient, variable) term, 2: anything else
        code = np.fromiter(map(_KIND.get, map(type, args), repeat(2)), dtype=np.int8, count=n)
        is_var = code == 0
        is_mono = code == 1
        monos = terms[is_mono]
        pairs = list(map(_MONO_ARGS, monos))
        mono_v = np.fromiter(map(_FIRST_SECOND[1], pairs), dtype=object, count=len(pairs))
        mono_c: Any = list(map(_FIRST_SECOND[0], pairs))
        if not set(map(type, mono_c)) <= native_numeric_types:
            mono_c = [c if type(c) in native_numeric_types else pyo.value(c) for c in mono_c]
        mono_coef = np.fromiter(mono_c, dtype=float, count=len(mono_c))
        coef = np.concatenate((np.ones(int(is_var.sum())), mono_coef)) \
            * np.concatenate((mult[is_var], mult[is_mono]))
        rows = np.concatenate((row[is_var], row[is_mono]))
        extra_v: list[Any] = []
        extra_c: list[float] = []
        extra_r: list[int] = []
        for i in np.flatnonzero(code == 2).tolist():
            a = args[i]
            r = int(row[i])
            if type(a) in native_numeric_types:
                const[r] += mult[i] * a
                continue
            vs: list[Any] = []
            cs: list[float] = []
            const[r] += _terms(a, float(mult[i]), vs, cs)
            extra_v += vs
            extra_c += cs
            extra_r += [r] * len(vs)
        extra_v += self.vars
        vars_ = np.concatenate((terms[is_var], mono_v,
                                np.fromiter(extra_v, dtype=object, count=len(extra_v))))
        coef = np.concatenate((coef, np.asarray(extra_c + self.coefs, dtype=float)))
        rows = np.concatenate((rows, np.asarray(extra_r + self.rows, dtype=np.int64)))
        return vars_, coef, rows, const


#: kind code of a term's type (see :meth:`_Flat.arrays`)
_KIND: dict[type, int] = {VarData: 0, MonomialTermExpression: 1}
_FIRST_SECOND = (itemgetter(0), itemgetter(1))


def _addresses_by_id(objs: np.ndarray) -> np.ndarray:
    return np.fromiter(map(id, objs), dtype=np.int64, count=len(objs))


def _addresses_in_place(objs: np.ndarray) -> np.ndarray:
    """The object pointers an object array holds, copied out as integers.

    In CPython ``id(obj)`` is the object's address, which is what an object
    array stores; reading the pointers in one copy avoids making one Python
    integer per term (about a second per five million terms).
    """
    n = len(objs)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    objs = np.ascontiguousarray(objs)
    view = (ctypes.c_int64 * n).from_address(objs.ctypes.data)
    return np.ctypeslib.as_array(view).copy()


def _pick_addresses() -> Callable[[np.ndarray], np.ndarray]:
    """The in-place reader when it agrees with ``id()`` here, else ``id()`` itself."""
    probe = np.fromiter([object(), object(), 1.5], dtype=object, count=3)
    try:
        if _addresses_in_place(probe).tolist() == list(map(id, probe)):
            return _addresses_in_place
    except (TypeError, ValueError, AttributeError):  # pragma: no cover - other runtimes
        pass
    return _addresses_by_id  # pragma: no cover - other runtimes


addresses = _pick_addresses()


def _columns(vars_: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct variables in order of first appearance, and each term's column.

    One sort of the variables' ids groups equal variables; columns are then
    numbered by where each variable first appears, so the LP handed to
    HiGHS does not depend on memory addresses.
    """
    n = len(vars_)
    if n == 0:
        return vars_, np.zeros(0, dtype=np.int64)
    ids = addresses(vars_)
    # A stable sort (timsort here: the ids come in long ascending runs, as
    # variables are allocated in index order) keeps equal ids in term order.
    order = np.argsort(ids, kind="stable")
    sid = ids[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(sid[1:], sid[:-1], out=new[1:])
    group = np.cumsum(new) - 1                  # group of each sorted term
    # first position of each group: its first member, the sort being stable
    first = order[new]
    rank = np.empty(len(first), dtype=np.int64)
    by_first = np.argsort(first, kind="stable")
    rank[by_first] = np.arange(len(first))
    col = np.empty(n, dtype=np.int64)
    col[order] = rank[group]
    return vars_[first[by_first]], col


_SLOTS = ("_lb", "_ub", "_domain", "_fixed", "_value")
#: (coefficient, variable) of a MonomialTermExpression, read without the property call
_MONO_ARGS = attrgetter("_args_") if hasattr(MonomialTermExpression((1, None)), "_args_") \
    else attrgetter("args")


_LB, _UB, _DOMAIN, _FIXED = (attrgetter(a) for a in _SLOTS[:4])


def _numbers(bs: list[Any], none: float) -> np.ndarray:
    """Bounds as floats, ``none`` where there is none."""
    if not set(map(type, bs)) <= native_numeric_types | {type(None)}:
        bs = [None if b is None else pyo.value(b) for b in bs]
    out = np.array(bs, dtype=float)  # None -> nan
    out[np.isnan(out)] = none
    return out


def _col_bounds(cols: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Column bounds (domain and declared bounds; a fixed variable at its value),
    and which columns are fixed.  Read slot by slot in bulk."""
    n = len(cols)
    lower = np.empty(n)
    upper = np.empty(n)
    if n and all(hasattr(VarData, a) for a in _SLOTS):
        doms = np.fromiter(map(_DOMAIN, cols), dtype=object, count=n)
        _, first, inv = np.unique(addresses(doms), return_index=True, return_inverse=True)
        dom_lo = np.empty(len(first))
        dom_hi = np.empty(len(first))
        for k, i in enumerate(first.tolist()):
            dom = doms[i]
            if dom.isdiscrete():
                raise NotLinearError(f"integer variables are not supported ({dom})")
            dl, du = dom.bounds()
            dom_lo[k] = -INF if dl is None else dl
            dom_hi[k] = INF if du is None else du
        lower = np.maximum(_numbers(list(map(_LB, cols)), -INF), dom_lo[inv])
        upper = np.minimum(_numbers(list(map(_UB, cols)), INF), dom_hi[inv])
        fixed = np.fromiter(map(_FIXED, cols), dtype=bool, count=n)
        if fixed.any():
            fv = np.array([v.value for v in cols[fixed]], dtype=float)
            lower[fixed] = fv
            upper[fixed] = fv
        return lower, upper, fixed
    fixed = np.zeros(n, dtype=bool)
    for j, v in enumerate(cols):  # pragma: no cover - other Pyomo versions
        if v.fixed:
            lower[j] = upper[j] = v.value
            fixed[j] = True
            continue
        lb, ub = v.bounds
        lower[j] = -INF if lb is None else lb
        upper[j] = INF if ub is None else ub
    return lower, upper, fixed


def compressed(major: np.ndarray, minor: np.ndarray, value: np.ndarray, n_major: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, index, value) of a sparse matrix given as triplets, compressed along
    ``major`` (columns for HiGHS's column-wise form, rows for row-wise): entries
    sorted by (major, minor), duplicates summed, zeros dropped.

    Plain NumPy: importing SciPy next to Pyomo costs about a second (Pyomo's import
    hook then loads scipy.stats), more than the whole worked example's solve.
    """
    key = major.astype(np.int64) * (int(minor.max()) + 1 if len(minor) else 1) + minor
    order = np.argsort(key, kind="stable")
    key, value = key[order], value[order]
    if len(key):
        first = np.empty(len(key), dtype=bool)
        first[0] = True
        np.not_equal(key[1:], key[:-1], out=first[1:])
        at = np.flatnonzero(first)
        value = np.add.reduceat(value, at)
        order = order[at]
    keep = value != 0
    order, value = order[keep], value[keep]
    start = np.zeros(n_major + 1, dtype=np.int64)
    np.cumsum(np.bincount(major[order], minlength=n_major), out=start[1:])
    return start, minor[order], value


def compile_model(model: pyo.Block) -> Compiled:
    """Every active constraint and the active objective, as column-wise arrays."""
    flat = _Flat()
    rows: list[Any] = []
    lower: list[float] = []
    upper: list[float] = []
    const: list[float] = []
    for i, con in enumerate(model.component_data_objects(pyo.Constraint, active=True,
                                                         descend_into=True)):
        lb, body, ub = con.to_bounded_expression(evaluate_bounds=True)
        const.append(flat.add(body, i))
        rows.append(con)
        lower.append(-INF if lb is None else lb)
        upper.append(INF if ub is None else ub)
    n_rows = len(rows)
    objectives = list(model.component_data_objects(pyo.Objective, active=True,
                                                   descend_into=True))
    if len(objectives) > 1:
        raise ValueError("the model has more than one active objective")
    maximise = False
    obj_const = 0.0
    if objectives:
        # The objective is row n_rows of the same flat lists, split off below.
        obj_const = flat.add(objectives[0].expr, n_rows)
        maximise = objectives[0].sense == pyo.maximize
    vars_, coef, term_row, row_const = flat.arrays(n_rows)
    cols, term_col = _columns(vars_)
    n = len(cols)
    col_lower, col_upper, fixed = _col_bounds(cols)
    if fixed.any():
        # Fixed variables are constants, as in Pyomo's own interface.
        vals = np.where(fixed, col_lower, 0.0)
        hit = fixed[term_col]
        np.add.at(row_const, term_row[hit], coef[hit] * vals[term_col[hit]])
        coef = np.where(hit, 0.0, coef)
    in_obj = term_row == n_rows
    cost = np.zeros(n)
    np.add.at(cost, term_col[in_obj], coef[in_obj])
    keep = ~in_obj
    start, index, value = compressed(term_col[keep], term_row[keep], coef[keep], n)
    shift = row_const[:n_rows] + np.asarray(const, dtype=float)
    return Compiled(cols.tolist(), rows, cost, obj_const + float(row_const[n_rows]), maximise,
                    col_lower, col_upper,
                    np.asarray(lower, dtype=float) - shift, np.asarray(upper, dtype=float) - shift,
                    start.astype(np.int32), index.astype(np.int32), value.astype(float))


_VALUE = attrgetter("_value") if hasattr(VarData, "_value") else attrgetter("value")


def evaluate(exprs: Sequence[Any]) -> np.ndarray:
    """Values of linear expressions at the variables' current values, in bulk.

    The same flattening as :func:`compile_model`, then one weighted ``bincount``:
    reading a tidy table's slacks this way is far quicker than evaluating each
    constraint body through Pyomo's expression walker.  A variable without a
    value counts as 0.
    """
    n = len(exprs)
    if n == 0:
        return np.zeros(0)
    flat = _Flat()
    const = np.fromiter((flat.add(e, i) for i, e in enumerate(exprs)), dtype=float, count=n)
    with PauseGC():
        vars_, coef, rows, row_const = flat.arrays(n)
    vals = np.array(list(map(_VALUE, vars_)), dtype=float)  # None -> nan
    vals[np.isnan(vals)] = 0.0
    return np.bincount(rows, weights=coef * vals, minlength=n + 1)[:n] + row_const[:n] + const


def to_highs(c: Compiled) -> highspy.Highs:
    """A silent Highs instance holding the compiled model.

    The arrays go to ``passModel`` as they are: filling a ``HighsLp``'s fields from
    NumPy first converts every element in Python's binding (0.9 s at 1M flows against
    0.15 s), and the engine passes its model again for every case
    (:mod:`planner.run.batch`).  Counted from the arrays, not the Pyomo objects: an
    engine may let go of those once HiGHS has the model."""
    h = new_highs()
    n, m = len(c.col_lower), len(c.row_lower)
    sense = highspy.ObjSense.kMaximize if c.maximise else highspy.ObjSense.kMinimize
    status = h.passModel(
        n, m, len(c.value), int(highspy.MatrixFormat.kColwise), int(sense), float(c.offset),
        *(np.ascontiguousarray(a, dtype=np.float64) for a in
          (c.cost, c.col_lower, c.col_upper, c.row_lower, c.row_upper)),
        np.ascontiguousarray(c.start[:n], dtype=np.int32),
        np.ascontiguousarray(c.index, dtype=np.int32),
        np.ascontiguousarray(c.value, dtype=np.float64),
        np.zeros(n, dtype=np.int32))  # every column continuous
    if status == highspy.HighsStatus.kError:
        raise RuntimeError("HiGHS refused the model's arrays")
    return h


class Loader:
    """Loads HiGHS's primal values into the Pyomo variables; hands out row duals."""

    def __init__(self, c: Compiled, h: highspy.Highs) -> None:
        self.c = c
        self.sol = h.getSolution()

    def load_vars(self) -> None:
        for v, x in zip(self.c.columns, self.sol.col_value, strict=True):
            v.set_value(x, skip_validation=True)

    def get_duals(self) -> dict[Any, float]:
        if not self.sol.dual_valid:
            raise ValueError("HiGHS returned no duals")
        return dict(zip(self.c.rows, self.sol.row_dual, strict=True))


@dataclass
class Results:
    """The parts of Pyomo's solver results that ``planner.solve.solver`` reads."""

    termination_condition: TerminationCondition
    solution_status: SolutionStatus
    solution_loader: Loader
    incumbent_objective: float | None
    highs: highspy.Highs
    compiled: Compiled
    #: HiGHS's own model status, as it names it (e.g. ``kSolveError``)
    highs_status: str = ""


def set_options(h: highspy.Highs, options: dict[str, Any] | None) -> None:
    """HiGHS options by their HiGHS names (``time_limit``, ``threads``, ``solver``, ...).

    Also sizes HiGHS's process-wide thread scheduler for this solve
    (:func:`planner.solve.runtime.prepare`).
    """
    prepare((options or {}).get("threads"))
    for key, val in (options or {}).items():
        if val is None:
            continue
        if key == "time_limit":
            val = float(val)
        elif key == "threads":
            val = int(val)
        h.setOptionValue(key, val)


def run(h: highspy.Highs, c: Compiled) -> Results:
    """Run HiGHS on the model it holds and wrap the outcome."""
    h.run()
    status = h.getModelStatus()
    info = h.getInfo()
    has = info.primal_solution_status == 2
    if status == highspy.HighsModelStatus.kOptimal:
        sol = SolutionStatus.optimal
    elif has:
        sol = SolutionStatus.feasible
    else:
        sol = SolutionStatus.noSolution
    term = _TERMINATION.get(status, TerminationCondition.unknown)
    return Results(term, sol, Loader(c, h), info.objective_function_value if has else None,
                   h, c, h.modelStatusToString(status))


def write_mps(model: pyo.Block, path: str) -> None:
    """Write the model's active LP (constraints, bounds, objective) as an MPS file that
    any LP solver reads; HiGHS chooses the format from the extension."""
    with PauseGC():
        h = to_highs(compile_model(model))
    status = h.writeModel(str(path))
    if status == highspy.HighsStatus.kError:
        raise OSError(f"HiGHS could not write {path}")


def solve(model: pyo.Block, options: dict[str, Any] | None = None) -> Results:
    """Compile ``model``, pass it to HiGHS with ``options`` and solve it."""
    with PauseGC():
        c = compile_model(model)
        h = to_highs(c)
    set_options(h, options)
    return run(h, c)


def linear_of(expr: Any) -> tuple[np.ndarray, np.ndarray, float]:
    """A linear expression as (variables, coefficients, constant), the variables as an
    object array (repeated variables are not summed)."""
    flat = _Flat()
    const = flat.add(expr, 0)
    vars_, coef, _, row_const = flat.arrays(1)
    return vars_, coef, const + float(row_const[0])


def add_block(h: highspy.Highs, block: pyo.Block, col_of: dict[int, int]) -> list[Any]:
    """Append the active rows of ``block`` to the model ``h`` holds, with a new column
    for each of their variables ``col_of`` does not know (cost 0, the variable's
    bounds); returns the new columns' variables, which ``col_of`` now maps too."""
    c = compile_model(block)
    n = h.getNumCol()
    at = np.flatnonzero([id(v) not in col_of for v in c.columns])
    new = [c.columns[i] for i in at.tolist()]
    for j, v in enumerate(new):
        col_of[id(v)] = n + j
    if new:
        h.addCols(len(new), np.zeros(len(new)), c.col_lower[at], c.col_upper[at], 0,
                  np.zeros(len(new), dtype=np.int32), np.zeros(0, dtype=np.int32),
                  np.zeros(0))
    mapped = np.array([col_of[id(v)] for v in c.columns], dtype=np.int32)
    cols = np.repeat(np.arange(len(c.columns)), np.diff(c.start))
    start, index, value = compressed(c.index.astype(np.int64), cols, c.value, len(c.rows))
    h.addRows(len(c.rows), c.row_lower, c.row_upper, len(value), start.astype(np.int32),
              mapped[index].astype(np.int32), value)
    return new


def activity(c: Compiled, x: np.ndarray) -> np.ndarray:
    """Row activities A x of compiled arrays (without the rows' constants)."""
    cols = np.repeat(np.arange(len(c.start) - 1), np.diff(c.start))
    return np.bincount(c.index, weights=c.value * x[cols], minlength=len(c.row_lower))
