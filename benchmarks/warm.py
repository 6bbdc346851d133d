"""Warm start against cold solve, per case, end to end as the planner runs it.

Every case goes through :func:`planner.api.solve_case` (build the Pyomo model,
translate, solve, the tie-break solve, extract the tidy tables), three ways:

- ``cold``: solver option ``warm=off``, the translator picked by size (Pyomo's
  HiGHS interface up to ``planner.solve.arrays.DIRECT_ABOVE`` variables, arrays above);
- ``cold arrays``: ``warm=off`` with ``translator=direct`` (separates the
  translator's share from the basis's share on small models);
- ``warm``: ``warm=on``, starting from the base case's optimal basis
  (:func:`planner.api.solve_base`, captured once, not timed per case); cases
  whose structure differs from the base's solve cold.

Each figure is the best of ``--repeat`` runs, wall and CPU seconds. ``same
tables`` says whether the warm case's tidy tables equal the cold case's value
for value (a degenerate LP may end on another optimal vertex, at the same cost).

Usage: ``python -m benchmarks.warm --size 100k`` or ``--workbook
examples/rare_earths/rare_earths.xlsx``; writes ``benchmarks/results/warm-<label>.md``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import planner.api as api
from benchmarks.instances import make_plan
from benchmarks.run import RESULTS
from benchmarks.run import table as run_table
from planner.analysis.results import CaseResult
from planner.inputs.data import PlanData
from planner.scenario.cases import Index, case_names
from planner.solve.solver import SolveResult

#: the last solve's SolveResult (recorded by a wrapper around planner.api.solve)
_LAST: list[SolveResult] = []


def _recording(solve: Callable[..., SolveResult]) -> Callable[..., SolveResult]:
    def wrapped(*args: Any, **kwargs: Any) -> SolveResult:
        res = solve(*args, **kwargs)
        _LAST[:] = [res]
        return res
    return wrapped


def _tables(r: CaseResult) -> tuple[Any, ...]:
    return (r.status, r.summary, r.plan, r.stock, r.exposure, r.constraints)


def _best(repeat: int, fn: Callable[[], CaseResult]) -> tuple[float, float, CaseResult, bool]:
    """(least wall s, least CPU s, a result, whether it started warm) over ``repeat`` runs."""
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return min(wall), min(cpu), out, _LAST[0].warm


def measure(plan: PlanData, repeat: int) -> list[dict[str, Any]]:
    """One row per case: wall/CPU seconds cold, cold through arrays, and warm."""
    ix = Index.build(plan)
    starts = []

    def base() -> CaseResult:
        result, start = api.solve_base(plan, ix, {"warm": "on"})
        starts.append(start)
        return result

    rows: list[dict[str, Any]] = []
    for name in case_names(plan):
        cw, cc, cold, _ = _best(repeat, partial(api.solve_case, plan, name, ix,
                                                {"warm": "off"}))
        aw, ac, _, _ = _best(repeat, partial(api.solve_case, plan, name, ix,
                                             {"warm": "off", "translator": "direct"}))
        if name == "base":
            # The planner solves the base cold, through the arrays, keeping its basis.
            ww, wc, warm, _ = _best(repeat, base)
            used = "gives the basis"
        else:
            start = starts[-1]
            assert start is not None, "the base case gave no basis"
            ww, wc, warm, fits = _best(repeat, partial(api.solve_case, plan, name, ix,
                                                       {"warm": "on"}, start))
            used = "yes" if fits else "no (structure)"
        rows.append({"case": name, "warm start": used,
                     "cold": f"{cw:.3f} ({cc:.3f})", "cold arrays": f"{aw:.3f} ({ac:.3f})",
                     "warm": f"{ww:.3f} ({wc:.3f})", "warm - cold": f"{ww - cw:+.3f}",
                     "cost cold": cold.total_cost, "cost warm": warm.total_cost,
                     "same tables": "yes" if _tables(cold) == _tables(warm) else "no"})
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """The results table, two decimals."""
    return run_table(rows, ["case", "warm start", "cold", "cold arrays", "warm",
                            "warm - cold", "cost cold", "cost warm", "same tables"], digits=2)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="warm start vs cold solve through solve_case")
    src = ap.add_mutually_exclusive_group()
    src.add_argument("--size", help="synthetic instance (benchmarks.instances), e.g. 100k")
    src.add_argument("--workbook", help="an input workbook, e.g. the worked example")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs per case")
    args = ap.parse_args(argv)
    import highspy

    if args.workbook:
        plan = api.load(args.workbook)
        label = Path(args.workbook).stem
        cmd = f"--workbook {args.workbook}"
    else:
        size = args.size or "100k"
        plan = make_plan(size)
        label, cmd = size, f"--size {size}"
    api.solve = _recording(api.solve)  # type: ignore[assignment]
    rows = measure(plan, args.repeat)
    text = (f"Command: `python -m benchmarks.warm {cmd} --repeat {args.repeat}` "
            f"(HiGHS {highspy.Highs().version()})\n\n"
            "Per case through `planner.api.solve_case` (the base through "
            "`planner.api.solve_base` in the warm column): least wall seconds of "
            f"{args.repeat} runs (least CPU seconds in brackets).\n\n"
            + table(rows) + "\n")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"warm-{label}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
