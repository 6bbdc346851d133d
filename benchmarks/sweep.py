"""Sweep benchmark: 200 scenarios of the worked example, three ways.

Sequentially, with ``--workers`` local processes and on a local Dask cluster
(``distributed.LocalCluster`` with two single-threaded worker processes,
reached by its scheduler address as ``planner run --dask-scheduler`` would).
Checks that all three give identical tidy tables and records wall times in
``benchmarks/results/sweep-<n>.md``.

Usage: ``python -m benchmarks.sweep --scenarios 200 --workers 2``
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from benchmarks.instances import example_sweep_rows, plan_from_rows
from benchmarks.run import RESULTS
from planner.cases import case_names
from planner.results import CaseResult
from planner.sweep import run_sweep


def tables(results: list[CaseResult]) -> list[tuple[Any, ...]]:
    """Everything a case reports except its wall time."""
    return [(r.name, r.status, r.summary, r.plan, r.stock, r.exposure, r.constraints,
             r.explanation) for r in results]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="sweep benchmark")
    ap.add_argument("--scenarios", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    args = ap.parse_args(argv)
    from distributed import LocalCluster

    plan = plan_from_rows(example_sweep_rows(args.scenarios))
    names = case_names(plan)
    runs: dict[str, list[float]] = {}
    out: dict[str, list[CaseResult]] = {}

    def timed(label: str, **kw: Any) -> None:
        for _ in range(args.repeat):
            t = time.perf_counter()
            out[label] = run_sweep(plan, names, bar=False, **kw)
            runs.setdefault(label, []).append(time.perf_counter() - t)

    timed("sequential")  # also what --workers 1 does: one process, no pool
    timed(f"{args.workers} worker processes", workers=args.workers)
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        timed(f"Dask LocalCluster ({args.workers} processes)",
              scheduler=cluster.scheduler_address)
    ref = tables(out["sequential"])
    lines = [f"Command: `python -m benchmarks.sweep --scenarios {args.scenarios} "
             f"--workers {args.workers} --repeat {args.repeat}`", "",
             f"{len(names)} cases (base + {args.scenarios} scenarios) of the worked example; "
             f"wall seconds, best of {args.repeat} (all runs in brackets).", "",
             "| how | seconds | cases/s | identical to sequential |", "|---|---|---|---|"]
    for label, secs in runs.items():
        same = tables(out[label]) == ref
        lines.append(f"| {label} | {min(secs):.2f} ({', '.join(f'{s:.2f}' for s in secs)}) "
                     f"| {len(names) / min(secs):.0f} | {'yes' if same else 'NO'} |")
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"sweep-{args.scenarios}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
