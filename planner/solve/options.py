"""Solver options from the Settings sheet and the command line: pure Python, so the
report (which prints them in its Run sheet) loads no solver."""

from __future__ import annotations

import os
from typing import Any

from planner.inputs.data import Settings


def solver_options(settings: Settings, overrides: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
    """HiGHS options from Settings (time_limit, threads, method, gap), CLI overrides last.

    ``method`` ``choose`` is passed on as HiGHS's own ``solver=choose``, so a command
    line ``--method choose`` overrides a Settings ``method``.  ``threads`` above
    :data:`MAX_THREADS` is clamped to it (see :func:`clamp_threads`).
    """
    opts: dict[str, Any] = {}
    if settings.time_limit:
        opts["time_limit"] = float(settings.time_limit)
    if settings.threads:
        opts["threads"] = int(settings.threads)
    if settings.method and settings.method != "choose":
        opts["solver"] = settings.method
    opts.update(gap_options(settings.gap))
    opts.update({k: v for k, v in (overrides or {}).items()
                 if v is not None and k not in NOT_SOLVER_OPTIONS})
    if opts.get("threads"):
        opts["threads"] = clamp_threads(int(opts["threads"]))[0]
    return opts


#: run options that travel with the solver options but are not HiGHS's
NOT_SOLVER_OPTIONS = frozenset({"export_lp"})

#: the most solver threads the planner asks HiGHS for: this machine's processors
MAX_THREADS = max(1, os.cpu_count() or 1)


def clamp_threads(threads: int) -> tuple[int, str | None]:
    """``threads`` limited to :data:`MAX_THREADS`, and a warning when it was cut.

    HiGHS aborts or fails on absurd counts (1000, 100000); more threads than
    processors never helps an LP.
    """
    if threads > MAX_THREADS:
        return MAX_THREADS, (f"{threads} solver threads asked for, but this machine has "
                             f"{MAX_THREADS} processor(s); using {MAX_THREADS}.")
    return threads, None


def gap_options(gap: float | None) -> dict[str, Any]:
    """HiGHS options for a relative optimality gap: the duality-gap tolerances of the
    interior-point and PDLP methods (simplex always solves to optimality)."""
    if gap is None:
        return {}
    return {"ipm_optimality_tolerance": float(gap), "pdlp_d_gap_tol": float(gap)}
