"""Where the memory of a run goes: resident memory after each step of a run on the
shared model, and the deep sizes of what stays (issue "One model, many cases").

Loads the synthetic workbook of the given size, builds the shared model of the base
case and the scenarios (:class:`planner.run.batch.Batch`), solves them one by one and
prints the resident memory after each step; then the deep size (``sys.getsizeof``
over dicts, lists, tuples, sets and instance attributes) of the cases' tidy tables,
of the groupings the cases share and of the maps from keys to columns and rows.

    python -m benchmarks.memory --size 1M
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.instances import write_instance
from benchmarks.run import record


def _resident_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * 4096 / 1024 ** 2


def deep_mb(obj: Any) -> float:
    """The size of ``obj`` and everything it holds (each object once), in MB."""
    seen: set[int] = set()
    stack = [obj]
    total = 0
    while stack:
        x = stack.pop()
        if id(x) in seen:
            continue
        seen.add(id(x))
        total += sys.getsizeof(x)
        if isinstance(x, dict):
            stack.extend(x.keys())
            stack.extend(x.values())
        elif isinstance(x, list | tuple | set | frozenset):
            stack.extend(x)
        elif hasattr(x, "__dict__") and not isinstance(x, type):
            stack.append(vars(x))
    return total / 1024 ** 2


def main(argv: list[str] | None = None) -> int:
    from planner import api
    from planner.run.batch import Batch, scenario_variants
    from planner.scenario.cases import Index, case_names

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="100k")
    ap.add_argument("--name", default=None)
    args = ap.parse_args(argv)
    steps: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        src = write_instance(args.size, Path(tmp) / f"{args.size}.xlsx")
        plan = api.load(src)
    steps.append({"step": "workbook loaded", "resident_mb": round(_resident_mb())})
    ix = Index.build(plan)
    names = case_names(plan)
    batch = Batch(plan, scenario_variants(plan, ix, names), ix)
    steps.append({"step": "shared model built", "resident_mb": round(_resident_mb())})
    base, start = batch.solve("base", capture=True)
    results = [base]
    steps.append({"step": "solved base", "resident_mb": round(_resident_mb())})
    for n in names[1:]:
        results.append(batch.solve(n, start)[0])
        steps.append({"step": f"solved {n}", "resident_mb": round(_resident_mb())})
    sizes = [{"what": f"tidy tables of {len(results)} cases", "mb": round(deep_mb(results), 1)}]
    sizes += [{"what": f"  {t} of the base case ({len(getattr(base, t)):,} rows)",
               "mb": round(deep_mb(getattr(base, t)), 1)}
              for t in ("plan", "stock", "exposure", "constraints", "excluded")]
    sizes += [{"what": "groupings the cases share", "mb": round(deep_mb(batch._structure), 1)},
              {"what": "variable -> column map", "mb": round(deep_mb(batch.col_of), 1)},
              {"what": "column keys and positions", "mb": round(
                  deep_mb(batch.cols), 1)},
              {"what": "row keys and positions", "mb": round(deep_mb(batch.rows), 1)}]
    record("memory", argv or sys.argv[1:], args.name or f"memory-{args.size}",
           "Resident memory (/proc/self/statm) after each step, in one process; deep sizes "
           "count each object once.", [steps, sizes])
    return 0


if __name__ == "__main__":
    sys.exit(main())
