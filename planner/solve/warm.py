"""Warm starts of single cases on their own models: each from the base case's basis.

Runs and sweeps solve every case on one shared model (:mod:`planner.run.batch`), whose
cases all share the base's columns and rows; this module serves the single-case path
(:func:`planner.api.solve_case` with the :class:`WarmStart` of
:func:`planner.api.solve_base`), where each case has its own LP.

A scenario that only changes numbers (demand, cost or non-zero capacity
factors) has the base case's LP structure: the same columns, the same rows,
the same matrix sparsity.  Simplex then needs far fewer iterations when it
starts from the base case's optimal basis than from scratch (measured in
``benchmarks/warm.py``, recorded in ``docs/benchmarks.md``).

Determinism by design: every qualifying case starts from **the base case's**
basis (never from the case solved before it), in a fresh ``highspy.Highs``
holding the case's own LP.  A case's answer therefore depends only on (its LP,
the base basis), not on the order of cases or on which worker solves it, so a
sequential run, local processes and a Dask cluster give identical tables.

The Pyomo model stays the only statement of every number: each scenario is
still built and translated (:func:`planner.solve.arrays.compile_model`); the
basis only chooses where simplex starts.  Whatever basis is given, HiGHS ends
at an optimum of the case's own LP, so the identity check below guards speed,
not correctness.

Modes (solver option ``warm``): ``auto`` warm-starts models of more than
:data:`WARM_ABOVE` variables, ``on`` every model (tests use it on small workbooks),
``off`` never.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import highspy
import numpy as np
import pyomo.environ as pyo
from pyomo.common.gc_manager import PauseGC
from pyomo.core.base.component import ComponentData

from planner.solve import arrays as hd

MODES = ("auto", "on", "off")
#: mode when the options name none
DEFAULT_MODE = "auto"

#: ``auto`` warm-starts single-case solves (``api.solve_case`` with a warm start) of
#: models with more variables than this.  Measured end to end per case
#: (``python -m benchmarks.warm``, benchmarks/results/warm-100k.md and
#: warm-rare_earths.md): at 100k flows a scenario with the base's structure
#: takes 1.75-1.93 CPU s warm against 2.29-2.64 s cold; on the worked example
#: (186 variables) the basis gains nothing measurable.  Runs solve every case on the
#: shared model from the base basis (planner.run.batch) whatever the size.
WARM_ABOVE = 50_000

#: HiGHS methods that can start from a basis (interior point and PDLP cannot)
_SIMPLEX = (None, "choose", "simplex")
_STATUS = list(highspy.HighsBasisStatus.__members__.values())
_CODE = {s: int(s) for s in _STATUS}


def mode(options: dict[str, Any] | None) -> str:
    """The warm-start mode the options ask for (``auto`` unless given)."""
    m = (options or {}).get("warm") or DEFAULT_MODE
    if m not in MODES:
        raise ValueError(f"warm must be one of {', '.join(MODES)}, not {m!r}")
    return str(m)


def applies(model: pyo.ConcreteModel, options: dict[str, Any] | None) -> bool:
    """Whether ``model`` is solved from (or gives) a warm start under ``options``."""
    m = mode(options)
    if m == "off" or (options or {}).get("solver") not in _SIMPLEX:
        return False
    return m == "on" or model.nvariables() > WARM_ABOVE


#: identity of the rows or columns of an LP: each one's component name, and its index
Keys = tuple[tuple[str, ...], tuple[Any, ...]]
_REF_INDEX = attrgetter("_component", "_index")


def _keys(objs: list[Any]) -> Keys:
    """Identity of each row or column: (component name, index), stable across processes.

    Read from the data objects' slots (the public ``parent_component()`` and
    ``index()`` look each object up again, several times slower at 100k).
    """
    with PauseGC():
        if objs and all(hasattr(ComponentData, a) for a in ("_component", "_index")):
            refs, index = zip(*map(_REF_INDEX, objs), strict=True)
            names = {r: r().name for r in set(refs)}  # e.g. "balance.con": blocks too
            return tuple(map(names.__getitem__, refs)), index
        return (tuple(o.parent_component().name for o in objs),  # pragma: no cover
                tuple(o.index() for o in objs))


@dataclass(frozen=True)
class WarmStart:
    """The base case's optimal basis and the identity of the LP it belongs to.

    Plain arrays and tuples, so it pickles to worker processes and Dask workers.
    ``col_status``/``row_status`` hold HiGHS ``HighsBasisStatus`` codes.
    """

    col_status: np.ndarray
    row_status: np.ndarray
    columns: Keys
    rows: Keys
    start: np.ndarray
    index: np.ndarray

    def fits(self, c: hd.Compiled) -> bool:
        """Same columns, same rows (by identity, in order) and same sparsity pattern.

        Matrix values may differ: ``setBasis`` needs only the dimensions and a
        consistent basis, and simplex repairs a basis that turns out singular.
        """
        return (len(c.columns) == len(self.columns[1]) and len(c.rows) == len(self.rows[1])
                and np.array_equal(c.start, self.start)
                and np.array_equal(c.index, self.index)
                and _keys(c.columns) == self.columns and _keys(c.rows) == self.rows)

    def basis(self) -> highspy.HighsBasis:
        return highs_basis(self.col_status, self.row_status)


def highs_basis(col_status: np.ndarray, row_status: np.ndarray) -> highspy.HighsBasis:
    """A HiGHS basis from basis status codes (as :func:`basis_codes` gives them)."""
    b = highspy.HighsBasis()
    b.col_status = [_STATUS[s] for s in col_status.tolist()]
    b.row_status = [_STATUS[s] for s in row_status.tolist()]
    b.alien = False
    b.valid = True
    return b


def basis_codes(h: highspy.Highs) -> tuple[np.ndarray, np.ndarray] | None:
    """The basis ``h`` holds as status codes (plain arrays, they pickle), None if invalid."""
    b = h.getBasis()
    if not b.valid:
        return None

    def codes(xs: list[Any]) -> np.ndarray:
        return np.fromiter(map(_CODE.__getitem__, xs), dtype=np.int8, count=len(xs))

    return codes(b.col_status), codes(b.row_status)


def capture(res: hd.Results) -> WarmStart | None:
    """The optimal basis of a solve made through :func:`solve_compiled` (None if none)."""
    if res.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    got = basis_codes(res.highs)
    if got is None:
        return None
    c = res.compiled
    return WarmStart(got[0], got[1], _keys(c.columns), _keys(c.rows), c.start.copy(),
                     c.index.copy())


@dataclass
class Outcome:
    """A solve through the arrays, and whether it started from the warm basis."""

    results: hd.Results
    warm: bool


def solve_compiled(c: hd.Compiled, options: dict[str, Any] | None,
                   start: WarmStart | None) -> Outcome:
    """Solve compiled arrays in a fresh HiGHS; from ``start`` if given (the caller
    has checked that it :meth:`~WarmStart.fits`), else cold.

    ``options`` are HiGHS options (no ``translator`` or ``warm`` keys).
    """
    h = hd.to_highs(c)
    hd.set_options(h, options)
    warm = start is not None and h.setBasis(start.basis()) == highspy.HighsStatus.kOk
    return Outcome(hd.run(h, c), warm)


def compile_model(model: pyo.ConcreteModel) -> hd.Compiled:
    """:func:`planner.solve.arrays.compile_model` with the garbage collector paused."""
    with PauseGC():
        return hd.compile_model(model)
