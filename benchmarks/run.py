"""Benchmark: time every stage of a planner run on synthetic instances.

Stages, timed separately: instance generation, workbook write and load (or
in-memory validation), case set-up, model build, translation to HiGHS, solve,
results (tidy tables) and report; plus peak memory.  Each (size, engine) runs
in a fresh child process, so peak memory (``ru_maxrss``) belongs to that run
alone.  ``--linopy`` also builds the same LP with linopy and translates it to
highspy in the same run, the build-speed reference; ``--check`` solves both
and compares optima.

Examples (the tables in docs/benchmarks.md were made this way)::

    python -m benchmarks.run --sizes 10k 100k --linopy --solve --workbook
    python -m benchmarks.run --sizes 1M 3M --linopy
    python -m benchmarks.run --sizes 10k 100k --solve --methods simplex ipm pdlp

The table (markdown, with the command that made it) goes to
``benchmarks/results/<name>.md``.  A benchmark, not a test: timings depend on
the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
STAGES = ["generate", "workbook", "load", "case", "build", "translate", "solve", "results",
          "report"]


def _peak_gb() -> float:
    """Peak resident memory of this process so far, in GB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


class Timer:
    """Wall-clock seconds per named stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def __call__(self, name: str, fn: Callable[[], Any]) -> Any:
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        self.seconds[name] = time.perf_counter() - t
        self.cpu[name] = time.process_time() - c
        return out


def child(size: str, engine: str, opts: dict[str, Any]) -> dict[str, Any]:
    """One measured run (in its own process); returns the row of the table."""
    # Imports happen before any clock starts: neither engine is charged for them.
    import highspy  # noqa: F401
    import scipy.sparse  # noqa: F401
    from pyomo.common.gc_manager import PauseGC

    from benchmarks.instances import SIZES, instance_rows, plan_from_rows
    from planner.scenario.cases import Index, build_case

    if engine == "linopy":
        import linopy  # noqa: F401
        import xarray  # noqa: F401
    tm = Timer()
    s = SIZES[size]
    rows = tm("generate", lambda: instance_rows(s))
    row: dict[str, Any] = {"size": size, "engine": engine}
    if opts.get("workbook") and engine == "pyomo":
        from planner.inputs.template import write_workbook
        from planner.scenario.plan import load_plan

        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / f"synthetic-{size}.xlsx"
            tm("workbook", lambda: write_workbook(path, rows))
            row["workbook_mb"] = path.stat().st_size / 1e6
            plan = tm("load", lambda: load_plan(path))
    else:
        plan = tm("load", lambda: plan_from_rows(rows))
    ix, case = tm("case", lambda: (lambda i: (i, build_case(plan, i)))(Index.build(plan)))
    if engine == "idiomatic":
        from pyomo.contrib.solver.common.factory import SolverFactory

        from benchmarks.idiomatic_model import build_model as build_idiomatic

        model, _ = tm("build", lambda: build_idiomatic(plan, ix, case))
        solver = SolverFactory("highs")
        tm("translate", lambda: solver.set_instance(model))
        row["peak_gb_translate"] = _peak_gb()
        h = solver._solver_model
        row["rows"], row["columns"] = h.getNumRow(), h.getNumCol()
        row["nonzeros"] = h.getNumNz()
    elif engine == "linopy":
        from benchmarks.linopy_model import build_linopy
        from planner.model.build import group

        def build() -> Any:
            with PauseGC():
                return build_linopy(plan, ix, case, group(plan, ix, case))

        lm = tm("build", build)
        h = tm("translate", lambda: lm.to_highspy())
        h.setOptionValue("output_flag", False)
        row["peak_gb_translate"] = _peak_gb()
        row["rows"], row["columns"] = h.getNumRow(), h.getNumCol()
        row["nonzeros"] = h.getNumNz()
        if opts.get("check") or opts.get("solve"):
            _set(h, opts)
            tm("solve", h.run)
            row["status"] = h.modelStatusToString(h.getModelStatus())
            row["objective"] = h.getInfo().objective_function_value
    else:
        from planner.analysis.model_tables import extract
        from planner.model.build import build_model
        from planner.report.workbook import write_report
        from planner.solve import arrays as hd
        from planner.solve.solver import SolveResult

        model, g = tm("build", lambda: build_model(plan, ix, case))

        def translate() -> Any:
            with PauseGC():
                c = hd.compile_model(model)
                return c, hd.to_highs(c)

        c, h = tm("translate", translate)
        row["peak_gb_translate"] = _peak_gb()
        row["rows"], row["columns"] = h.getNumRow(), h.getNumCol()
        row["nonzeros"] = h.getNumNz()
        row["flows"] = len(g.flows)
        if opts.get("check") or opts.get("solve"):
            _set(h, opts)
            res = tm("solve", lambda: hd.run(h, c))
            row["status"] = h.modelStatusToString(h.getModelStatus())
            row["objective"] = res.incumbent_objective

            def results() -> Any:
                status = "optimal" if row["status"] == "Optimal" else "other"
                has = res.incumbent_objective is not None
                duals: dict[Any, float] = {}
                if has:
                    res.solution_loader.load_vars()
                    if status == "optimal":
                        duals = res.solution_loader.get_duals()
                return extract(plan, case, model, g,
                               SolveResult(status, tm.seconds["solve"], has, duals))

            result = tm("results", results)
            if opts.get("report"):
                with tempfile.TemporaryDirectory() as d:
                    tm("report", lambda: write_report(plan, [result], Path(d) / "r.xlsx"))
                row["report_rows"] = sum(len(t) for t in (result.plan, result.stock,
                                                          result.exposure,
                                                          result.constraints))
    row.update({k: round(v, 3) for k, v in tm.seconds.items()})
    row.update({f"{k}_cpu": round(v, 3) for k, v in tm.cpu.items()
                if k in ("build", "translate")})
    row["peak_gb"] = _peak_gb()
    return row


def _set(h: Any, opts: dict[str, Any]) -> None:
    if opts.get("method") and opts["method"] != "choose":
        h.setOptionValue("solver", opts["method"])
    if opts.get("time_limit"):
        h.setOptionValue("time_limit", float(opts["time_limit"]))
    if opts.get("threads"):
        h.setOptionValue("threads", int(opts["threads"]))


def spawn(size: str, engine: str, opts: dict[str, Any]) -> dict[str, Any]:
    """Run :func:`child` in a fresh interpreter and read its JSON row."""
    root = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, "-m", "benchmarks.run", "--child", size, engine,
           json.dumps(opts)]
    out = subprocess.run(cmd, cwd=root, capture_output=True, text=True,
                         env={**os.environ, "PYTHONHASHSEED": "0"})
    if out.returncode != 0:
        return {"size": size, "engine": engine, "error": out.stderr.strip()[-500:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


COLUMNS = ["size", "engine", "method", "flows", "rows", "columns", "nonzeros", "workbook_mb",
           *STAGES, "build+translate", "build_cpu", "translate_cpu", "build+translate_cpu",
           "peak_gb_translate", "peak_gb", "status", "objective",
           "report_rows", "error"]


def cell(v: Any, digits: int | None = None) -> str:
    """One markdown cell: thousands separators, ``digits`` decimals for floats (default:
    3 below 1e5, none above), yes/no for booleans, blank for None."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if digits is not None:
            return f"{v:,.{digits}f}"
        return f"{v:,.3f}" if abs(v) < 1e5 else f"{v:,.0f}"
    return str(v)


def table(rows: list[dict[str, Any]], columns: list[str] | None = None,
          digits: int | None = None) -> str:
    """A markdown table of ``columns`` (default :data:`COLUMNS`) that any row has."""
    cols = [c for c in (COLUMNS if columns is None else columns) if any(c in r for r in rows)]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r.get(c), digits) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def medians(rows: list[dict[str, Any]]) -> str:
    """Median build + translate (wall and CPU) per size and engine, and the ratio to linopy."""
    import statistics

    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        if "build+translate" in r:
            groups.setdefault((r["size"], r["engine"]), []).append(r)
    if not any(len(v) > 1 for v in groups.values()):
        return ""
    lines = ["", "Medians of build + translate over the runs above:", "",
             "| size | engine | runs | wall s | CPU s | CPU ratio to linopy |",
             "|---|---|---|---|---|---|"]
    for (size, engine), rs in groups.items():
        wall = statistics.median(r["build+translate"] for r in rs)
        cpu = statistics.median(r["build+translate_cpu"] for r in rs)
        ref = groups.get((size, "linopy"))
        ratio = ""
        if ref:
            ratio = f"{cpu / statistics.median(r['build+translate_cpu'] for r in ref):.2f}"
        lines.append(f"| {size} | {engine} | {len(rs)} | {wall:.2f} | {cpu:.2f} | {ratio} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", nargs="+", default=["10k", "100k"])
    ap.add_argument("--linopy", action="store_true", help="also build with linopy")
    ap.add_argument("--idiomatic", action="store_true",
                    help="also time the first, idiomatic Pyomo model (build + Pyomo's "
                         "own HiGHS translation)")
    ap.add_argument("--solve", action="store_true", help="solve, extract results, report")
    ap.add_argument("--check", action="store_true", help="solve both engines, compare optima")
    ap.add_argument("--workbook", action="store_true", help="write and load the workbook")
    ap.add_argument("--methods", nargs="+", default=["choose"],
                    help="HiGHS methods to solve with: choose simplex ipm pdlp")
    ap.add_argument("--time-limit", type=float, default=None)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs per (size, engine), interleaved; medians summarised")
    ap.add_argument("--name", default=None, help="results file name (default from options)")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        size, engine, opts = args.child
        print(json.dumps(child(size, engine, json.loads(opts))))
        return 0
    rows: list[dict[str, Any]] = []
    for size in args.sizes:
        for method in args.methods:
            opts = {"solve": args.solve, "check": args.check, "workbook": args.workbook,
                    "report": args.solve, "method": method, "time_limit": args.time_limit,
                    "threads": args.threads}
            engines = ["pyomo", *(["linopy"] if args.linopy else []),
                       *(["idiomatic"] if args.idiomatic else [])]
            for engine in [e for _ in range(args.repeat) for e in engines]:
                r = spawn(size, engine, opts)
                if args.solve or args.check:
                    r["method"] = method
                if "build" in r and "translate" in r:
                    r["build+translate"] = round(r["build"] + r["translate"], 3)
                    r["build+translate_cpu"] = round(r["build_cpu"] + r["translate_cpu"], 3)
                rows.append(r)
                print(json.dumps(r), file=sys.stderr, flush=True)
            opts["workbook"] = False
    cmd = "python -m benchmarks.run " + " ".join(argv if argv is not None else sys.argv[1:])
    text = (f"Command: `{cmd}`\n\nMachine: {os.cpu_count()} cores; "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
            "seconds are wall-clock (*_cpu: CPU seconds of the process, robust to other load "
            "on the machine); peak_gb is the child process's peak RSS.\n\n"
            + table(rows) + "\n" + medians(rows))
    RESULTS.mkdir(exist_ok=True)
    name = args.name or "-".join(["build", *args.sizes, *(["solve"] if args.solve else [])])
    (RESULTS / f"{name}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def record(module: str, argv: list[str], name: str, note: str,
           tables: list[list[dict[str, Any]]]) -> str:
    """Write benchmarks/results/<name>.md: the command that reproduces it, the machine
    and time, ``note``, then each table; print it and return the text."""
    import os
    import time

    text = (f"Command: `python -m benchmarks.{module} {' '.join(argv)}`\n\n"
            f"Machine: {os.cpu_count()} cores; "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. {note}\n\n"
            + "\n\n".join(table(rows, list(rows[0]) if rows else []) for rows in tables)
            + "\n")
    (RESULTS / f"{name}.md").write_text(text)
    print(text)
    return text
