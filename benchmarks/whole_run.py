"""The whole ``planner run`` against HiGHS alone on the same LPs (issue "One model,
many cases").

Writes the synthetic workbook of the given size (benchmarks/instances.py), runs
``planner run`` on it as a user would (a child process), runs it again with
``--export-lp`` (which writes each case's LP as MPS), then reads and solves each
exported MPS with highspy alone, and compares CPU seconds: the planner's whole run
(load, build, translate, solve, results, report) over HiGHS's own read + solve of the
same cases, with and without the export's writing.  Peak memory is the planner
child's maximum resident set (``ru_maxrss``).

On a shared machine one child's CPU can move by a third from one minute to the next.
``--repeat N`` runs the whole sequence (the run, the run with the export, HiGHS alone
on each file) N times, interleaved, so that both sides meet the same machine, and
takes each measure's minimum (as ``timeit`` does); every repeat's figures are
recorded too.

    python -m benchmarks.whole_run --size 100k [--policy] [--repeat 3] [--name whole-100k]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.instances import write_instance
from benchmarks.run import record


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def highs_alone(mps: Path) -> tuple[float, float, str]:
    """CPU and wall seconds for highspy to read and solve one MPS file, in a child
    process (so import and start-up of Python are not counted: the child times
    itself), and the model status."""
    code = (
        "import sys, time, resource, highspy\n"
        "from planner.solve.runtime import new_highs\n"
        "h = new_highs()\n"
        "t0 = time.process_time(); w0 = time.perf_counter()\n"
        "h.readModel(sys.argv[1]); h.run()\n"
        "print(time.process_time() - t0, time.perf_counter() - w0, "
        "h.modelStatusToString(h.getModelStatus()))\n")
    out = subprocess.run([sys.executable, "-c", code, str(mps)], capture_output=True,
                         text=True, check=True)
    cpu, wall, status = out.stdout.split()[-3:]
    return float(cpu), float(wall), status


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="100k")
    ap.add_argument("--policy", action="store_true", help="keep the policy re-solves")
    ap.add_argument("--name", default=None)
    ap.add_argument("--repeat", type=int, default=1,
                    help="run the sequence N times, interleaved, and take minima")
    args = ap.parse_args(argv)
    repeats: list[dict[str, float]] = []
    per_case: dict[str, tuple[float, float, str]] = {}  # fastest (cpu, wall, status)
    peak_gb = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        src = write_instance(args.size, Path(tmp) / f"{args.size}.xlsx")
        lp_dir = Path(tmp) / "lp"
        base_cmd = ["planner", "run", str(src), "-o", str(Path(tmp) / "report.xlsx"),
                    *([] if args.policy else ["--no-policy"])]
        for k in range(1, max(1, args.repeat) + 1):
            timed = []
            # the run as users run it, then the same with --export-lp (writing the MPS
            # files costs the planner CPU that HiGHS alone does not have to spend)
            for cmd in (base_cmd, [*base_cmd, "--export-lp", str(lp_dir)]):
                before = _children_cpu()
                wall0 = time.perf_counter()
                proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
                timed.append((_children_cpu() - before, time.perf_counter() - wall0))
                if proc.returncode != 0:
                    print(proc.stdout, proc.stderr, file=sys.stderr)
                    return proc.returncode
            (run_cpu, wall), (export_cpu, _) = timed
            peak_gb = max(peak_gb,
                          resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 ** 2)
            h_cpu = 0.0
            for mps in sorted(lp_dir.glob("*.mps")):
                cpu, w, status = highs_alone(mps)
                h_cpu += cpu
                if mps.stem not in per_case or cpu < per_case[mps.stem][0]:
                    per_case[mps.stem] = (cpu, w, status)
            repeats.append({"repeat": k, "planner_run_cpu_s": round(run_cpu, 2),
                            "planner_run_wall_s": round(wall, 2),
                            "run_with_export_cpu_s": round(export_cpu, 2),
                            "highs_cpu_s": round(h_cpu, 2),
                            "ratio_cpu": round(run_cpu / h_cpu, 2)})
    rows = [{"case": case, "highs_cpu_s": round(cpu, 2), "highs_wall_s": round(w, 2),
             "status": status} for case, (cpu, w, status) in sorted(per_case.items())]
    run_cpu = min(r["planner_run_cpu_s"] for r in repeats)
    export_cpu = min(r["run_with_export_cpu_s"] for r in repeats)
    h_cpu = min(r["highs_cpu_s"] for r in repeats)
    wall = min(r["planner_run_wall_s"] for r in repeats)
    summary = {"size": args.size, "cases": len(rows), "policy": args.policy,
               "repeats": len(repeats),
               "planner_run_cpu_s": round(run_cpu, 2), "planner_run_wall_s": round(wall, 2),
               "highs_cpu_s": round(h_cpu, 2), "ratio_cpu": round(run_cpu / h_cpu, 2),
               "run_with_export_cpu_s": round(export_cpu, 2),
               "ratio_with_export": round(export_cpu / h_cpu, 2),
               "peak_rss_gb": round(peak_gb, 2)}
    name = args.name or f"whole-{args.size}{'-policy' if args.policy else ''}"
    record("whole_run", argv or sys.argv[1:], name,
           "planner_run_cpu_s is the CPU of the whole `planner run` child (start-up, load, "
           "build, translate, solve, results, report), as users run it; "
           "run_with_export_cpu_s the same run with --export-lp (also writing the MPS "
           "files); highs_cpu_s is highspy reading and solving those MPS files alone, one "
           "child each, timed inside the child; peak_rss_gb the largest planner child's "
           "peak resident memory.  With repeats: each CPU figure is the minimum over the "
           "repeats (the ratios are of minima; the per-case table keeps each case's "
           "fastest HiGHS solve); the last table has every repeat.",
           [[summary], rows, repeats])
    return 0


if __name__ == "__main__":
    sys.exit(main())
