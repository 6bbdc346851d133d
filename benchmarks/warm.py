"""Warm re-solve versus rebuild for scenarios, measured on a synthetic instance.

For each scenario whose LP has the same rows and columns as the base case
(demand and cost factors change numbers, not structure), two ways to solve it:

- rebuild: build the scenario's Pyomo model, translate it, solve from scratch
  (what ``planner.sweep`` does);
- warm: keep the solved base model in HiGHS, change only the numbers that
  differ (costs, column bounds, row bounds; found by building and translating
  the scenario too, since the Pyomo model is the one statement of the
  numbers), and re-solve from the base case's optimal basis.

Usage: ``python -m benchmarks.warm --size 100k``; writes
``benchmarks/results/warm-<size>.md``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from benchmarks.instances import make_plan
from benchmarks.run import RESULTS, table
from planner import highs_direct as hd
from planner.cases import Index, build_case, case_names
from planner.model import build_model

#: built models stay alive while their compiled arrays are compared
_KEEP: list[Any] = []


def compiled(plan: Any, ix: Index, name: str) -> tuple[Any, float]:
    t = time.perf_counter()
    model, _ = build_model(plan, ix, build_case(plan, ix, name))
    c = hd.compile_model(model)
    _KEEP.append(model)
    return c, time.perf_counter() - t


def same_structure(a: hd.Compiled, b: hd.Compiled) -> bool:
    return ([v.name for v in a.columns] == [v.name for v in b.columns]
            and [r.name for r in a.rows] == [r.name for r in b.rows]
            and np.array_equal(a.start, b.start) and np.array_equal(a.index, b.index)
            and np.array_equal(a.value, b.value))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="warm re-solve vs rebuild")
    ap.add_argument("--size", default="100k")
    ap.add_argument("--method", default="choose")
    args = ap.parse_args(argv)
    import highspy

    plan = make_plan(args.size)
    ix = Index.build(plan)
    base, build_base = compiled(plan, ix, "base")
    h = hd.to_highs(base)
    hd.set_options(h, {"solver": None if args.method == "choose" else args.method})
    t = time.perf_counter()
    h.run()
    base_solve = time.perf_counter() - t
    rows: list[dict[str, Any]] = [{"size": args.size, "case": "base", "structure": "",
                                   "build+translate": round(build_base, 3),
                                   "cold solve": round(base_solve, 3)}]
    for name in case_names(plan)[1:]:
        c, build_s = compiled(plan, ix, name)
        cold = hd.to_highs(c)
        hd.set_options(cold, {"solver": None if args.method == "choose" else args.method})
        t = time.perf_counter()
        cold.run()
        cold_s = time.perf_counter() - t
        row: dict[str, Any] = {"size": args.size, "case": name,
                               "build+translate": round(build_s, 3),
                               "cold solve": round(cold_s, 3),
                               "cold objective": cold.getInfo().objective_function_value}
        if same_structure(base, c):
            row["structure"] = "same"
            n, m = len(c.columns), len(c.rows)
            t = time.perf_counter()
            idx = np.arange(n, dtype=np.int32)
            h.changeColsCost(n, idx, c.cost)
            h.changeColsBounds(n, idx, c.col_lower, c.col_upper)
            h.changeRowsBounds(m, np.arange(m, dtype=np.int32), c.row_lower, c.row_upper)
            h.run()
            row["warm update+solve"] = round(time.perf_counter() - t, 3)
            row["warm objective"] = h.getInfo().objective_function_value
            row["warm status"] = h.modelStatusToString(h.getModelStatus())
            # back to the base case's numbers and basis for the next scenario
            h.changeColsCost(n, idx, base.cost)
            h.changeColsBounds(n, idx, base.col_lower, base.col_upper)
            h.changeRowsBounds(m, np.arange(m, dtype=np.int32), base.row_lower,
                               base.row_upper)
            h.run()
        else:
            row["structure"] = "differs"
        rows.append(row)
    text = (f"Command: `python -m benchmarks.warm --size {args.size} --method {args.method}`"
            f" (HiGHS {highspy.Highs().version()})\n\n" + table_warm(rows) + "\n")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"warm-{args.size}.md").write_text(text)
    print(text)
    return 0


def table_warm(rows: list[dict[str, Any]]) -> str:
    cols = ["size", "case", "structure", "build+translate", "cold solve", "warm update+solve",
            "cold objective", "warm objective", "warm status"]
    import benchmarks.run as br

    saved = br.COLUMNS
    br.COLUMNS = cols
    try:
        return table(rows)
    finally:
        br.COLUMNS = saved


if __name__ == "__main__":
    raise SystemExit(main())
