"""Benchmark: time writing the report workbook, without solving a large LP.

Cases (``--cases``):

* ``100k``: the synthetic 100k instance (benchmarks/instances.py) solved for
  real (base case only, a few seconds), then its report written;
* ``250k`` and ``1.2M``: the 100k instance's plan with synthetic but
  contract-shaped results (:func:`synthetic_results`): about 250,000 and
  1,200,000 Plan rows over several cases, with Stock, Exposure and
  Constraints rows in proportion.  ``1.2M`` is past Excel's 1,048,576 rows, so
  its Plan table continues on ``Plan (2)``.

Each (case, variant) runs in a fresh child process so that its peak memory
(``ru_maxrss``, less the memory held before writing) is its own.  Variants
(``--variants``):

* ``normal``: :func:`planner.report.workbook.write_report` with every sheet in a normal
  openpyxl workbook (``FAST_ROWS`` set past any table);
* ``fast``: the default writer (large tables streamed, see planner/report.py);
* ``writeonly``: for comparison, only the five tidy tables (no dashboard or
  other sheets) written by openpyxl in write-only mode, one ``WriteOnlyCell``
  per cell with its number format (:func:`write_only_tables`);

each with lxml importable, and with ``-nolxml`` appended, with lxml hidden
(``sys.modules["lxml"] = None`` before openpyxl is imported, so openpyxl falls
back to its pure-Python XML writer).

Example (the table in docs/benchmarks.md was made this way)::

    python -m benchmarks.report --cases 100k 250k 1.2M \
        --variants normal fast normal-nolxml fast-nolxml

The table (markdown, with the command that made it) goes to
``benchmarks/results/report-<name>.md``.  A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.run import RESULTS
from benchmarks.run import table as run_table

#: Plan rows wanted per synthetic case name
TARGET_ROWS = {"250k": 250_000, "1.2M": 1_200_000}


def synthetic_results(plan: Any, plan_rows: int, seed: int = 1) -> list[Any]:
    """Contract-shaped :class:`planner.analysis.results.CaseResult` items for ``plan``.

    Cases are ``base``, the plan's scenarios, then ``synthetic-<k>``; each buys
    a random share of every (offer, period) so that the cases together hold
    about ``plan_rows`` Plan rows.  Stock has every material x period, Exposure
    two to four countries per material x stage x period, Constraints a balance
    row per material x period and a capacity row per facility x period (a few
    with a shadow price).  Numbers are random and illustrative only.
    """
    from planner.analysis.results import CaseResult

    rng = random.Random(seed)
    labels = [p.label for p in plan.periods]
    keys = [(o, t) for o in plan.offers.values() for t in range(len(labels))]
    n_cases = max(1, -(-plan_rows // len(keys)))
    keep = plan_rows / (n_cases * len(keys))
    names = ["base", *plan.scenarios][:n_cases]
    names += [f"synthetic-{k}" for k in range(len(names) + 1, n_cases + 1)]
    countries = list(plan.countries)
    out: list[Any] = []
    for name in names:
        plan_rows_ = []
        for o, t in keys:
            if rng.random() < keep:
                vol = round(rng.uniform(1, 500), 3)
                price = o.unit_cost * rng.choice((1.0, 1.1, 1.25))
                plan_rows_.append({"scenario": name, "offer": o.id, "supplier": o.supplier,
                                   "material": o.material, "route": o.route,
                                   "period": labels[t], "volume": vol, "unit_cost": price,
                                   "cost": price * vol})
        stock = [{"scenario": name, "material": m, "period": p,
                  "demand": rng.uniform(100, 5000), "supplied": rng.uniform(100, 5000),
                  "stock": rng.uniform(0, 800), "min_stock": 200.0,
                  "stockpile_shortfall": 0.0, "unmet_demand": 0.0}
                 for m in plan.materials for p in labels]
        exposure = []
        for m in plan.materials:
            for s in plan.stages:
                for p in labels:
                    picked = rng.sample(countries, rng.randint(2, 4))
                    vols = [rng.uniform(1, 1000) for _ in picked]
                    total = sum(vols)
                    exposure.extend({"scenario": name, "material": m, "stage": s,
                                     "country": c, "period": p, "volume": v,
                                     "share": v / total} for c, v in zip(picked, vols,
                                                                          strict=True))
        constraints = [{"scenario": name, "constraint": f"balance {m}", "kind": "balance",
                        "period": p, "slack": 0.0,
                        "shadow_price": rng.uniform(50, 90) if rng.random() < 0.01 else 0.0}
                       for m in plan.materials for p in labels]
        constraints += [{"scenario": name, "constraint": f"capacity {f}", "kind": "capacity",
                         "period": p, "slack": rng.uniform(0, 100), "shadow_price": 0.0}
                        for f in plan.facilities for p in labels]
        procurement = sum(r["cost"] for r in plan_rows_)
        summary = {"scenario": name, "status": "optimal", "total_cost": procurement * 1.02,
                   "procurement_cost": procurement, "holding_cost": procurement * 0.02,
                   "shortage_cost": 0.0, "stockpile_shortfall_cost": 0.0, "unmet_demand": 0.0}
        out.append(CaseResult(name, "optimal", rng.uniform(1, 5), summary, plan_rows_, stock,
                              exposure, constraints))
    return out


def solved_results(plan: Any) -> list[Any]:
    """The base case of ``plan`` solved for real (what ``planner run`` would report)."""
    from planner.api import solve_all

    return solve_all(plan, ["base"])


def write_only_tables(plan: Any, results: list[Any], path: Path) -> None:
    """The tidy tables alone, openpyxl write-only mode: the alternative to streaming."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    from planner.analysis.results import TABLE_COLUMNS
    from planner.report.workbook import HEADER_FILL, HEADER_FONT, MAX_ROWS, _formats

    fmts = _formats(plan.settings.currency)
    wb = Workbook(write_only=True)
    for name, columns in TABLE_COLUMNS.items():
        attr = name.lower()
        rows = [r.summary for r in results] if name == "Summary" else [
            x for r in results for x in getattr(r, attr)]
        for k in range(0, max(len(rows), 1), MAX_ROWS):
            ws = wb.create_sheet(name if k == 0 else f"{name} ({k // MAX_ROWS + 1})")
            ws.freeze_panes = "A2"
            head = []
            for c in columns:
                cell = WriteOnlyCell(ws, c)
                cell.font, cell.fill = HEADER_FONT, HEADER_FILL
                head.append(cell)
            ws.append(head)
            for row in rows[k:k + MAX_ROWS]:
                out = []
                for c in columns:
                    cell = WriteOnlyCell(ws, row.get(c))
                    if fmts.get(c):
                        cell.number_format = fmts[c]
                    out.append(cell)
                ws.append(out)
    wb.save(path)


def _rss_gb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 1e9


def child(case: str, variant: str) -> dict[str, Any]:
    """One measured report write (in its own process); returns the row of the table."""
    if variant.endswith("-nolxml"):
        sys.modules["lxml"] = None  # type: ignore[assignment]  # openpyxl falls back
    import openpyxl.xml
    import psutil

    import planner.report.workbook as report
    from benchmarks.instances import make_plan

    plan = make_plan("100k")
    results = solved_results(plan) if case == "100k" else synthetic_results(
        plan, TARGET_ROWS[case])
    if variant.startswith("normal"):
        report.FAST_ROWS = sys.maxsize
    row: dict[str, Any] = {"case": case, "variant": variant, "lxml": openpyxl.xml.LXML,
                           "cases": len(results),
                           "plan_rows": sum(len(r.plan) for r in results),
                           "report_rows": sum(len(r.plan) + len(r.stock) + len(r.exposure)
                                              + len(r.constraints) for r in results)}
    proc = psutil.Process()
    before = _rss_gb()
    peak = [before]
    stop = [False]

    def sample() -> None:  # peak RSS while writing, sampled every 50 ms
        while not stop[0]:
            peak[0] = max(peak[0], proc.memory_info().rss / 1e9)
            time.sleep(0.05)

    import threading

    th = threading.Thread(target=sample, daemon=True)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "r.xlsx"
        th.start()
        t, c = time.perf_counter(), time.process_time()
        if variant.startswith("writeonly"):
            write_only_tables(plan, results, path)
        else:
            report.write_report(plan, results, path)
        row["write_s"] = round(time.perf_counter() - t, 2)
        row["write_cpu_s"] = round(time.process_time() - c, 2)
        stop[0] = True
        th.join()
        row["file_mb"] = round(path.stat().st_size / 1e6, 1)
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        row["sheets"] = ", ".join(s for s in book.sheetnames if s.startswith("Plan"))
        book.close()
    row["peak_extra_gb"] = round(max(peak[0], _rss_gb()) - before, 2)
    return row


def spawn(case: str, variant: str) -> dict[str, Any]:
    """Run :func:`child` in a fresh interpreter and read its JSON row."""
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-m", "benchmarks.report", "--child", case, variant],
                         cwd=root, capture_output=True, text=True,
                         env={**os.environ, "PYTHONHASHSEED": "0"})
    if out.returncode != 0:
        return {"case": case, "variant": variant, "error": out.stderr.strip()[-500:]}
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


COLUMNS = ["case", "variant", "lxml", "cases", "plan_rows", "report_rows", "sheets",
           "write_s", "write_cpu_s", "peak_extra_gb", "file_mb", "error"]


def table(rows: list[dict[str, Any]]) -> str:
    """The results table: :data:`COLUMNS`, two decimals."""
    return run_table(rows, COLUMNS, digits=2)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", nargs="+", default=["100k", "250k"],
                    choices=["100k", *TARGET_ROWS])
    ap.add_argument("--variants", nargs="+", default=["normal", "fast"],
                    choices=[f"{v}{x}" for x in ("", "-nolxml")
                             for v in ("normal", "fast", "writeonly")])
    ap.add_argument("--repeat", type=int, default=1, help="runs per (case, variant)")
    ap.add_argument("--name", default=None, help="results file name (default from options)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(*args.child)))
        return 0
    rows: list[dict[str, Any]] = []
    for case in args.cases:
        for _ in range(args.repeat):
            for variant in args.variants:
                r = spawn(case, variant)
                rows.append(r)
                print(json.dumps(r), file=sys.stderr, flush=True)
    cmd = "python -m benchmarks.report " + " ".join(argv if argv is not None else sys.argv[1:])
    text = (f"Command: `{cmd}`\n\nMachine: {os.cpu_count()} cores; "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; write_s is wall-clock "
            "seconds of planner.report.workbook.write_report (build and atomic save), "
            "write_cpu_s the CPU seconds of the process (robust to other load on the "
            "machine); peak_extra_gb "
            "is the peak resident memory while writing less the memory held before (the "
            "plan and results), sampled every 50 ms.\n\n" + table(rows) + "\n")
    RESULTS.mkdir(exist_ok=True)
    name = args.name or "-".join(args.cases)
    (RESULTS / f"report-{name}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
