"""Write the report workbook atomically: temporary file, then rename.

Sheets, in order: Dashboard (key figures and native charts), the contract's
tidy tables (Summary, Plan, Stock, Exposure, Constraints: exactly section
4's sheet and column names, base case first, each a filterable Excel table),
then Policy costs, Shadow prices, Infeasibility (when a case is infeasible),
Excluded offers, Run (audit trail), Notes and Chart data.

A table longer than Excel's 1,048,576 rows continues on ``<name> (2)``,
``<name> (3)`` ... and the Notes sheet says so.  Input text is always written
as text, never as a formula (an id beginning with ``=``, ``+``, ``-`` or ``@``
stays text).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from planner.cases import Case, Index, build_case, in_window
from planner.data import PlanData
from planner.results import TABLE_COLUMNS, CaseResult
from planner.risk_metrics import add_supply_risk_sheet
from planner.solve import solver_options

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
BINDING_FILL = PatternFill("solid", fgColor="F8CBAD")
#: data rows per sheet: Excel's 1,048,576 rows less the header
MAX_ROWS = 1_048_575
#: rows sampled to size columns
WIDTH_SAMPLE = 300

TONNES = '#,##0.0" t"'
FORMATS = {
    "volume": TONNES, "demand": TONNES, "supplied": TONNES, "stock": TONNES,
    "min_stock": TONNES, "stockpile_shortfall": TONNES, "unmet_demand": TONNES,
    "share": "0.0%", "unit_cost": "#,##0.00", "cost": "#,##0", "total_cost": "#,##0",
    "procurement_cost": "#,##0", "holding_cost": "#,##0", "shortage_cost": "#,##0",
    "stockpile_shortfall_cost": "#,##0", "slack": "#,##0.###", "shadow_price": "#,##0.####",
    "total_cost_without": "#,##0", "cost_added": "#,##0", "change": "#,##0.00",
    "seconds": '0.00" s"',
}
#: columns holding money, shown with the currency
MONEY = {"unit_cost", "cost", "total_cost", "procurement_cost", "holding_cost",
         "shortage_cost", "stockpile_shortfall_cost", "total_cost_without", "cost_added",
         "change"}


def set_value(ws: Worksheet, row: int, col: int, value: Any) -> None:
    """Write a cell; text that looks like a formula stays text."""
    cell = ws.cell(row=row, column=col)
    cell.value = value
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        cell.data_type = "s"
        cell.quotePrefix = True


def _formats(currency: str) -> dict[str, str]:
    out = dict(FORMATS)
    for k in MONEY:
        out[k] = out[k] + f' "{currency}"'
    return out


def _width(name: str, rows: Sequence[dict[str, Any]]) -> float:
    """A readable width: the header or the longest sampled value, within 10..60."""
    longest = len(name) + 3
    for r in rows[:WIDTH_SAMPLE]:
        v = r.get(name)
        if isinstance(v, float):
            n = len(f"{v:,.1f}") + 5
        elif v is None:
            n = 0
        else:
            n = len(str(v)) + 2
        longest = max(longest, n)
    return float(min(60, max(10, longest)))


def write_table(ws: Worksheet, columns: Sequence[str], rows: Iterable[dict[str, Any]],
                formats: dict[str, str] | None = None, table: str | None = None) -> int:
    """A tidy table: styled header in row 1, one row per item, a filterable Excel table.

    Returns the row count.  ``table`` names the Excel table (no table when no rows).
    """
    rows = list(rows)
    formats = FORMATS if formats is None else formats
    for j, name in enumerate(columns, start=1):
        set_value(ws, 1, j, name)
        ws.cell(row=1, column=j).font = HEADER_FONT
        ws.cell(row=1, column=j).fill = HEADER_FILL
        ws.column_dimensions[get_column_letter(j)].width = _width(name, rows)
    fmts = [formats.get(name) for name in columns]
    for i, row in enumerate(rows, start=2):
        for j, name in enumerate(columns, start=1):
            set_value(ws, i, j, row.get(name))
            fmt = fmts[j - 1]
            if fmt:
                ws.cell(row=i, column=j).number_format = fmt
    ws.freeze_panes = "A2"
    _fit_width(ws)
    n = len(rows)
    ref = f"A1:{get_column_letter(len(columns))}{n + 1}"
    if n and table:
        t = Table(displayName=table, ref=ref)
        t.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
        ws.add_table(t)
    elif n:
        ws.auto_filter.ref = ref
    return n


def _fit_width(ws: Worksheet) -> None:
    """Print (and render to PDF) one page wide, landscape, header repeated on each page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_title_rows = "1:1"


def write_split(wb: Workbook, name: str, columns: Sequence[str], rows: list[dict[str, Any]],
                formats: dict[str, str] | None = None, notes: list[str] | None = None
                ) -> list[Worksheet]:
    """``name`` and, past Excel's row limit, ``name (2)``, ``name (3)`` ... in order."""
    chunks = [rows[i:i + MAX_ROWS] for i in range(0, len(rows), MAX_ROWS)] or [[]]
    sheets = []
    for k, chunk in enumerate(chunks, start=1):
        title = name if k == 1 else f"{name} ({k})"
        ws = wb.create_sheet(title)
        tname = "t" + "".join(ch for ch in name if ch.isalnum()) + ("" if k == 1 else f"_{k}")
        write_table(ws, columns, chunk, formats, tname)
        sheets.append(ws)
    if len(chunks) > 1 and notes is not None:
        notes.append(f"{name} has {len(rows):,} rows, more than one sheet holds: it continues "
                     f"on {', '.join(repr(s.title) for s in sheets[1:])}.")
    return sheets


@dataclass
class RunInfo:
    """Facts for the Run sheet that the report cannot see for itself."""

    input_path: str | None = None
    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    options: dict[str, Any] = field(default_factory=dict)
    policy_seconds: float | None = None


def sha256(path: str | Path) -> str | None:
    """The SHA-256 of a file, or None when it cannot be read."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


def run_rows(plan: PlanData, results: Sequence[CaseResult], info: RunInfo) -> list[dict[str, Any]]:
    """The Run sheet: input file and hash, versions, solver options and times."""
    try:
        import highspy

        highs = str(highspy.Highs().version())
    except Exception:  # noqa: BLE001 - a missing version is not worth failing a report
        highs = _version("highspy")
    src = info.input_path or plan.source
    rows: list[dict[str, Any]] = [
        {"item": "plan name", "value": plan.settings.plan_name},
        {"item": "input file", "value": Path(src).name if src else ""},
        {"item": "input path", "value": str(src or "")},
        {"item": "input SHA-256", "value": (sha256(src) if src else None) or "unreadable"},
        {"item": "run started (UTC)", "value": info.started.strftime("%Y-%m-%d %H:%M:%S")},
        {"item": "report written (UTC)",
         "value": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")},
        {"item": "planner version", "value": _version("planner")},
        {"item": "Pyomo version", "value": _version("pyomo")},
        {"item": "HiGHS version", "value": highs},
        {"item": "highspy version", "value": _version("highspy")},
        {"item": "Python version", "value": platform.python_version()},
        {"item": "solver options", "value": json.dumps(
            solver_options(plan.settings, info.options), sort_keys=True),
         "note": "Settings, then command-line overrides"},
    ]
    rows.extend({"item": f"solve time: {r.name}", "value": round(r.seconds, 3),
                 "unit": "s", "note": r.status} for r in results)
    rows.append({"item": "solve time: all cases",
                 "value": round(sum(r.seconds for r in results), 3), "unit": "s"})
    if info.policy_seconds is not None:
        rows.append({"item": "policy re-solves", "value": round(info.policy_seconds, 3),
                     "unit": "s"})
    return rows


EXCLUDED_COLUMNS = ["scenario", "offer", "supplier", "material", "period", "excluded_by",
                    "kind", "basis"]


def excluded_offers(plan: PlanData, ix: Index, cases: Sequence[Case]) -> list[dict[str, Any]]:
    """Offers inside their own window but unavailable: the ban or the facility responsible.

    Walks each ban's matched offers and each down facility's offers (never all
    offers x all rules), then sorts by case, Offers row and period.
    """
    labels = [p.label for p in plan.periods]
    n = len(labels)
    order = {c.name: i for i, c in enumerate(cases)}
    out: list[tuple[tuple[int, int, int, int], dict[str, Any]]] = []

    def add(case: Case, oid: str, t: int, by: str, kind: str, basis: str, k: int) -> None:
        o = plan.offers[oid]
        if in_window(t, o.window):
            out.append(((order[case.name], o.row, t, k),
                        {"scenario": case.name, "offer": oid, "supplier": o.supplier,
                         "material": o.material, "period": labels[t], "excluded_by": by,
                         "kind": kind, "basis": basis}))

    for case in cases:
        for k, (rid, rule) in enumerate(plan.rules.items()):
            if rule.kind != "ban":
                continue
            for t in range(n):
                if case.rule_on[rid][t] and in_window(t, rule.window):
                    for oid in ix.rule_offers[rid]:
                        add(case, oid, t, rid, "ban rule", rule.basis, k)
        for k, (fid, f) in enumerate(plan.facilities.items(), start=len(plan.rules)):
            for t in range(n):
                if not in_window(t, f.window):
                    why = "facility outside its window"
                elif case.capacity[fid][t] == 0:
                    why = ("facility capacity 0" if f.capacity == 0
                           else "facility capacity 0 in this case")
                else:
                    continue
                for oid in ix.offers_by_facility.get(fid, []):
                    add(case, oid, t, fid, why, "", k)
    out.sort(key=lambda kv: kv[0])
    return [row for _, row in out]


def build_workbook(plan: PlanData, results: list[CaseResult], info: RunInfo | None = None,
                   policy: Sequence[Any] | None = None) -> Workbook:
    """The whole report; ``policy`` holds :class:`planner.policy.PolicyCost` items."""
    from planner.dashboard import add_dashboard
    from planner.policy import POLICY_COLUMNS, SHADOW_COLUMNS, shadow_prices

    info = info or RunInfo(plan.source)
    wb = Workbook()
    assert wb.active is not None
    wb.remove(wb.active)
    cur = plan.settings.currency
    fmts = _formats(cur)
    notes: list[str] = []
    ix = Index.build(plan)
    names = [r.name for r in results]
    cases = {n: build_case(plan, ix, n) for n in dict.fromkeys(names)
             if n == "base" or n in plan.scenarios}

    # the contract's tidy tables
    tables: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLE_COLUMNS}
    for r in results:
        tables["Summary"].append(r.summary)
        tables["Plan"].extend(r.plan)
        tables["Stock"].extend(r.stock)
        tables["Exposure"].extend(r.exposure)
        tables["Constraints"].extend(r.constraints)
    for name, columns in TABLE_COLUMNS.items():
        sheets = write_split(wb, name, columns, tables[name], fmts, notes)
        if name == "Constraints":
            _highlight_binding_caps(sheets)

    # answers
    policy_rows = [p.as_row() for p in policy or []]
    ws = write_split(wb, "Policy costs", POLICY_COLUMNS, policy_rows, fmts, notes)[0]
    if not policy_rows:
        ws.cell(row=2, column=1, value="Policy costs were not computed for this run "
                "(or the base case has no active rule, cap or stockpile minimum).")
    shadows = [s for r in results if r.status == "optimal" for s in shadow_prices(plan, r)]
    ws = write_split(wb, "Shadow prices", SHADOW_COLUMNS, [s.as_row() for s in shadows],
                     fmts, notes)[0]
    ws.column_dimensions[get_column_letter(SHADOW_COLUMNS.index("sentence") + 1)].width = 100
    explained = [{"scenario": r.name, "explanation": line}
                 for r in results for line in r.explanation]
    if explained:
        ws = write_split(wb, "Infeasibility", ["scenario", "explanation"], explained, fmts,
                         notes)[0]
        ws.column_dimensions["B"].width = 130
    write_split(wb, "Excluded offers", EXCLUDED_COLUMNS,
                excluded_offers(plan, ix, list(cases.values())), fmts, notes)
    add_supply_risk_sheet(wb, plan, results, fmts)  # HHI per material x stage x period
    ws = write_split(wb, "Run", ["item", "value", "unit", "note"],
                     run_rows(plan, results, info), fmts, notes)[0]
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 70
    for row in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        row[0].alignment = Alignment(horizontal="left")

    note_rows: list[dict[str, Any]] = [{"kind": "warning", "case": "", "note": w}
                                       for w in plan.warnings]
    note_rows.extend({"kind": "report", "case": "", "note": n} for n in notes)
    ws = write_split(wb, "Notes", ["kind", "case", "note"], note_rows, fmts)[0]
    ws.column_dimensions["C"].width = 120

    header = [("Input", Path(info.input_path or plan.source).name),
              ("Run (UTC)", info.started.strftime("%Y-%m-%d %H:%M"))]
    bad = [r.name for r in results if r.explanation]
    if bad:
        header.append(("Infeasible", f"{', '.join(bad)}: see the Infeasibility sheet"))
    base_shadows = [s.sentence for s in shadows if s.scenario == (names[0] if names else "")]
    add_dashboard(wb, plan, results, cases, header, policy_rows, base_shadows)
    wb.active = 0
    return wb


def _highlight_binding_caps(sheets: Sequence[Worksheet]) -> None:
    """Conditional formatting: cap rows with (near) zero slack are binding."""
    for ws in sheets:
        if ws.max_row < 2:
            continue
        ws.conditional_formatting.add(
            f"A2:F{ws.max_row}",
            FormulaRule(formula=['AND($C2="cap",ABS($E2)<=0.000001)'], fill=BINDING_FILL))


def save_atomic(wb: Workbook, path: str | Path) -> Path:
    """Save to a temporary file beside ``path`` and rename it into place."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=".xlsx", dir=target.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def write_report(plan: PlanData, results: list[CaseResult], path: str | Path,
                 info: RunInfo | None = None, policy: Sequence[Any] | None = None) -> Path:
    """Build the report and write it atomically."""
    return save_atomic(build_workbook(plan, results, info, policy), path)
