"""Where the build and translation time goes: each model family timed on its own.

Builds one synthetic instance's base case family by family (the order of
:func:`planner.model.build.add_families`), then compiles it to arrays and passes it
to HiGHS, printing wall and CPU seconds per part.  A benchmark, not a test.

Usage: ``python -m benchmarks.profile_build --size 1M``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import highspy  # noqa: F401  (imported before any clock starts)
import pyomo.environ as pyo
import scipy.sparse  # noqa: F401
from pyomo.common.gc_manager import PauseGC

from benchmarks.instances import make_plan
from planner.model import build as mdl
from planner.scenario.cases import Index, build_case
from planner.solve import arrays as hd


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="time each part of build + translate")
    ap.add_argument("--size", default="1M")
    args = ap.parse_args(argv)
    plan = make_plan(args.size)
    ix = Index.build(plan)
    case = build_case(plan, ix, "base")
    rows: list[tuple[str, float, float]] = []

    def part(name: str, fn: Callable[[], Any]) -> Any:
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        rows.append((name, time.perf_counter() - t, time.process_time() - c))
        return out

    with PauseGC():
        g = part("group() (shared with linopy)", lambda: mdl.group(plan, ix, case))
        m = pyo.ConcreteModel()
        part("x, s, u, v variables and bounds", lambda: mdl.add_variables(m, plan, case, g))
        part("purchases expressions", lambda: mdl.add_purchases(m, g))
        part("objective", lambda: mdl.add_objective(m, plan, g))
        part("balance rows", lambda: mdl.add_balance(m, plan, case, g))
        part("stockpile rows", lambda: mdl.add_stockpile(m, plan, g))
        part("capacity rows", lambda: mdl.add_capacity(m, plan, case, g))
        part("quota rows", lambda: mdl.add_quotas(m, plan, ix, case, g))
        part("cap rows", lambda: mdl.add_caps(m, plan, case, g))
        c = part("translation to arrays", lambda: hd.compile_model(m))
        part("passModel", lambda: hd.to_highs(c))
    print(f"size {args.size}: {len(c.rows):,} rows, {len(c.columns):,} columns, "
          f"{len(c.value):,} nonzeros\n")
    print("| part | wall s | CPU s |\n|---|---|---|")
    for name, wall, cpu in rows:
        print(f"| {name} | {wall:.2f} | {cpu:.2f} |")
    print(f"| total | {sum(r[1] for r in rows):.2f} | {sum(r[2] for r in rows):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
