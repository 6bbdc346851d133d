"""Sweep benchmark: 200 scenarios of the worked example, three ways.

Sequentially, with ``--workers`` local processes and on a local Dask cluster
(``distributed.LocalCluster`` with two single-threaded worker processes,
reached by its scheduler address as ``planner run --dask-scheduler`` would).
Checks that all three give identical tidy tables and records wall times in
``benchmarks/results/sweep-<n>.md``.  Each backend runs with the default warm
mode (``auto``: the worked example is small, so cold) and with warm starts
forced on (every scenario with the base's structure from the base case's
basis, :mod:`planner.solve.warm`).

Usage: ``python -m benchmarks.sweep --scenarios 200 --workers 2``
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

from benchmarks.run import RESULTS
from planner.analysis.results import CaseResult
from planner.api import plan_from_rows
from planner.inputs.example import example_sweep_rows
from planner.run.sweep import run_sweep
from planner.scenario.cases import case_names


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
    runs: dict[str, list[tuple[float, float]]] = {}
    out: dict[str, list[CaseResult]] = {}
    seq: dict[str, str] = {}

    def timed(label: str, warm: str, **kw: Any) -> None:
        label = f"{label}, warm {warm}"
        seq.setdefault(warm, label)
        for _ in range(args.repeat):
            t, c = time.perf_counter(), time.process_time()
            out[label] = run_sweep(plan, names, {"warm": warm}, bar=False, **kw)
            runs.setdefault(label, []).append((time.perf_counter() - t,
                                               time.process_time() - c))

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        for warm in ("auto", "on"):
            timed("sequential", warm)  # also what --workers 1 does: one process, no pool
            timed(f"{args.workers} worker processes", warm, workers=args.workers)
            timed(f"Dask LocalCluster ({args.workers} processes)", warm,
                  scheduler=cluster.scheduler_address)
    cold, hot = out[seq["auto"]], out[seq["on"]]
    differ = sum(tables([a]) != tables([b]) for a, b in zip(cold, hot, strict=True))
    lines = [f"Command: `python -m benchmarks.sweep --scenarios {args.scenarios} "
             f"--workers {args.workers} --repeat {args.repeat}`", "",
             f"{len(names)} cases (base + {args.scenarios} scenarios) of the worked example; "
             f"wall seconds, best of {args.repeat} (all runs in brackets); CPU seconds of "
             "the calling process in that best run (worker processes not included).", "",
             "| how | seconds | CPU s | cases/s | identical to sequential (same warm mode) |",
             "|---|---|---|---|---|"]
    for label, secs in runs.items():
        ref = tables(out[seq[label.rsplit("warm ", 1)[1]]])
        same = tables(out[label]) == ref
        w, c = min(secs)
        lines.append(f"| {label} | {w:.2f} ({', '.join(f'{s:.2f}' for s, _ in secs)}) "
                     f"| {c:.2f} | {len(names) / w:.0f} | {'yes' if same else 'NO'} |")
    same_cost = all(math.isclose(a.total_cost or 0.0, b.total_cost or 0.0, rel_tol=1e-9,
                                 abs_tol=1e-6) for a, b in zip(cold, hot, strict=True))
    lines += ["", "Cases whose tables differ between warm auto (here: cold) and warm on: "
              f"{differ} of {len(names)} (another optimal vertex); total cost equal in all "
              f"(1e-9 relative): {'yes' if same_cost else 'NO'}."]
    text = "\n".join(lines) + "\n"
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"sweep-{args.scenarios}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
