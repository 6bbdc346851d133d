"""Write the report workbook atomically: temporary file, then rename.

Sheets, in order: Dashboard (key figures and native charts), the contract's
tidy tables (Summary, Plan, Stock, Exposure, Constraints: exactly section
4's sheet and column names, base case first, each a filterable Excel table),
then Policy costs, Shadow prices, Infeasibility (when a case is infeasible),
Excluded offers, Run (audit trail), Notes and Chart data.

A table longer than Excel's 1,048,576 rows continues on ``<name> (2)``,
``<name> (3)`` ... and the Notes sheet says so.

Large tables (:data:`FAST_ROWS` rows or more) are streamed: openpyxl writes
the sheet with its header, widths, frozen pane, Excel table, filters and
conditional formatting, and :func:`save_atomic` then writes the data rows
straight into the sheet's XML (same cells, number formats and styles as
openpyxl would write), over ten times faster than openpyxl's per-cell
objects, normal or write-only.  A workbook from :func:`build_workbook` must
therefore be saved with :func:`save_atomic`.  Input text is always written
as text, never as a formula (an id beginning with ``=``, ``+``, ``-`` or ``@``
stays text).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import signal
import tempfile
import threading
import weakref
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from planner.cases import Case, Index, build_case, in_window
from planner.data import PlanData
from planner.limits import MAX_TEXT_CHARS
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
#: tables with at least this many rows are streamed into the sheet's XML on save
FAST_ROWS = 5_000

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


def safe_text(value: str) -> str:
    """``value`` with each control character XML cannot hold (openpyxl's
    ILLEGAL_CHARACTERS_RE, which would otherwise stop the save) shown as its visible
    Unicode symbol (U+2400 block: U+0001 becomes U+2401).  Tab, line feed and
    carriage return are kept (a carriage return is written escaped, see
    :func:`save_atomic`)."""
    return ILLEGAL_CHARACTERS_RE.sub(lambda m: chr(0x2400 + ord(m[0])), value)


def set_value(ws: Worksheet, row: int, col: int, value: Any) -> None:
    """Write a cell; text that looks like a formula stays text, control characters
    that XML cannot hold are made visible (:func:`safe_text`)."""
    cell = ws.cell(row=row, column=col)
    if isinstance(value, str):
        value = safe_text(value)
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
                formats: dict[str, str] | None = None, table: str | None = None,
                stream: bool | None = None, headers: dict[str, str] | None = None) -> int:
    """A tidy table: styled header in row 1, one row per item, a filterable Excel table.

    Returns the row count.  ``table`` names the Excel table (no table when no rows).
    ``headers`` gives a header text for a column key (default: the key itself).
    ``stream`` (default: :data:`FAST_ROWS` rows or more) leaves the data rows to
    :func:`save_atomic`, which writes them straight into the sheet's XML; the
    sheet must then get no other cells in the table's columns.
    """
    rows = list(rows)
    formats = FORMATS if formats is None else formats
    heads = [(headers or {}).get(name, name) for name in columns]
    for j, (name, head) in enumerate(zip(columns, heads, strict=True), start=1):
        set_value(ws, 1, j, head)
        ws.cell(row=1, column=j).font = HEADER_FONT
        ws.cell(row=1, column=j).fill = HEADER_FILL
        w = _width(name, rows)
        ws.column_dimensions[get_column_letter(j)].width = max(w, min(60.0, len(head) + 3))
    fmts = [formats.get(name) for name in columns]
    if stream is None:
        stream = len(rows) >= FAST_ROWS
    if stream and rows and _streamable(rows, columns):
        _defer(ws, columns, rows, fmts)
    else:
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
        # columns named here, as openpyxl would on saving, which otherwise reads the
        # header through ws[ref]: a cell object for every cell of the table
        t = Table(displayName=table, ref=ref, autoFilter=AutoFilter(ref=ref),
                  tableColumns=[TableColumn(id=j, name=str(head))
                                for j, head in enumerate(heads, start=1)])
        t.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
        ws.add_table(t)
    elif n:
        ws.auto_filter.ref = ref
    return n


# --- streamed tables -------------------------------------------------------------

#: value types :func:`_rows_xml` writes exactly as openpyxl would (bool is an int)
_PLAIN_TYPES = frozenset({str, float, int, bool, type(None)})
#: characters needing care in cell text: illegal in XML, or escaped
_SPECIAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f&<>\r]")
#: text beginning so is written as text with a quote prefix, never as a formula
_FORMULA_START = ("=", "+", "-", "@")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


@dataclass
class _Stream:
    """Data rows of one sheet, written by :func:`save_atomic` after openpyxl saves."""

    ws: Worksheet
    columns: list[str]
    rows: list[dict[str, Any]]
    #: per column: the ``s`` attribute of a plain cell, of a quoted-text cell
    styles: list[tuple[str, str]]


#: workbook -> its streamed tables, in the order written
_STREAMS: weakref.WeakKeyDictionary[Workbook, list[_Stream]] = weakref.WeakKeyDictionary()


def _streamable(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> bool:
    """Whether every value is text, a number, a boolean or empty (anything else: openpyxl)."""
    return {type(r.get(c)) for r in rows for c in columns} <= _PLAIN_TYPES


def _defer(ws: Worksheet, columns: Sequence[str], rows: list[dict[str, Any]],
           fmts: Sequence[str | None]) -> None:
    """Register the cell styles the rows need and leave the rows for :func:`save_atomic`."""
    styles = []
    for fmt in fmts:
        plain = Cell(ws, row=1, column=1)  # never placed: it only registers the style
        quoted = Cell(ws, row=1, column=1)
        quoted.quotePrefix = True
        if fmt:
            plain.number_format = quoted.number_format = fmt
        styles.append((f' s="{plain.style_id}"' if plain.has_style else "",
                       f' s="{quoted.style_id}"'))
    assert ws.parent is not None
    _STREAMS.setdefault(ws.parent, []).append(_Stream(ws, list(columns), rows, styles))


def _text_xml(value: str) -> str:
    """``value`` as an inline string, escaped as openpyxl (lxml) writes it."""
    value = safe_text(value)[:MAX_TEXT_CHARS]
    if not value:
        return ' t="inlineStr"/>'
    if _SPECIAL.search(value):
        if ILLEGAL_CHARACTERS_RE.search(value):  # cannot happen after safe_text
            raise IllegalCharacterError(f"{value} cannot be used in worksheets.")
        text = value.translate(_ESCAPES)
    else:
        text = value
    space = ' xml:space="preserve"' if value != value.strip() else ""
    return f' t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _rows_xml(st: _Stream, extra: dict[int, tuple[str, str]]) -> Iterable[str]:
    """The ``<row>`` elements of the data rows, in chunks; ``extra`` holds other cells
    openpyxl wrote on the sheet (row -> attributes, cells), to the right of the table."""
    # per column: name, '<c r="G', then what follows the row number for a number,
    # an empty cell (None when not written), a boolean, plain text, quoted text
    cols = [(name, f'<c r="{get_column_letter(j)}', f'"{plain} t="n"><v>',
             f'"{plain} t="n"/>' if plain else None, f'"{plain} t="b"><v>',
             f'"{plain}', f'"{quoted}')
            for j, (name, (plain, quoted)) in enumerate(zip(st.columns, st.styles,
                                                            strict=True), start=1)]
    inf = float("inf")
    texts: dict[str, str] = {}
    chunk: list[str] = []
    for i, row in enumerate(st.rows, start=2):
        attrs, more = extra.pop(i, ("", ""))
        r = str(i)
        out = [f'<row r="{r}"{attrs}>']
        for name, pre, num, empty, boolean, plain, quoted in cols:
            v = row.get(name)
            t = type(v)
            if t is float or t is int:
                if v != v or v == inf or v == -inf:  # as openpyxl: NaN and inf left empty
                    out.append(f"{pre}{r}{num}</v></c>")
                else:
                    out.append(f"{pre}{r}{num}{v:.16g}</v></c>")
            elif isinstance(v, str):
                xml = texts.get(v)
                if xml is None:
                    xml = texts[v] = _text_xml(v)
                out.append(f"{pre}{r}{quoted if v[:1] in _FORMULA_START else plain}{xml}")
            elif v is None:
                if empty:
                    out.append(f"{pre}{r}{empty}")
            else:  # bool
                out.append(f"{pre}{r}{boolean}{v:d}</v></c>")
        out.append(more)
        out.append("</row>")
        chunk.append("".join(out))
        if len(chunk) >= 2000:
            yield "".join(chunk)
            chunk = []
    for i in sorted(extra):
        attrs, more = extra[i]
        chunk.append(f'<row r="{i}"{attrs}>{more}</row>')
    yield "".join(chunk)


_ROW = re.compile(r'<row r="(\d+)"([^>]*?)(?:/>|>(.*?)</row>)', re.S)
_CELL_COL = re.compile(r'<c r="([A-Z]+)\d+"')


def _write_stream(xml: str, st: _Stream, out: Any) -> None:
    """Write sheet ``xml`` (as openpyxl saved it) to ``out`` with the streamed rows added."""
    xml = re.sub(r"<sheetData\s*/>", "<sheetData></sheetData>", xml, count=1)
    head, rest = xml.split("<sheetData>", 1)
    body, tail = rest.split("</sheetData>", 1)
    rows = {int(m[1]): (m[2].rstrip(" "), m[3] or "") for m in _ROW.finditer(body)}
    header = rows.pop(1, ("", ""))
    ncols = len(st.columns)
    width = ncols
    for _, cells in rows.values():
        for letter in _CELL_COL.findall(cells):
            col = column_index_from_string(letter)
            if col <= ncols:
                raise ValueError(f"sheet {st.ws.title!r}: cell {letter} written over "
                                 "a streamed table")
            width = max(width, col)
    for letter in _CELL_COL.findall(header[1]):
        width = max(width, column_index_from_string(letter))
    last = max([len(st.rows) + 1, *rows])
    head = re.sub(r'<dimension ref="[^"]*"', f'<dimension ref="A1:{get_column_letter(width)}'
                  f'{last}"', head, count=1)
    out.write(f'{head}<sheetData><row r="1"{header[0]}>{header[1]}</row>'.encode())
    for chunk in _rows_xml(st, rows):
        out.write(chunk.encode())
    out.write(f"</sheetData>{tail}".encode())


def _finish(path: str, streams: Sequence[_Stream]) -> None:
    """Add the streamed rows and escape carriage returns in the workbook openpyxl saved
    at ``path``; left untouched when it needs neither."""
    if not streams:
        with zipfile.ZipFile(path) as src:
            if not any(b"\r" in src.read(info) for info in src.infolist()
                       if info.filename.endswith(".xml")):
                return
    _inject_streams(path, streams)


def _inject_streams(path: str, streams: Sequence[_Stream]) -> None:
    """Rewrite the saved workbook at ``path`` with the streamed tables' rows, and every
    raw carriage return of its XML escaped as ``&#13;``.

    openpyxl without lxml writes a carriage return in cell text as it is, and XML
    readers then turn it into a line feed; escaped, it reads back as written (openpyxl
    writes no carriage return of its own, so each one comes from a cell's text).
    """
    by_member = {st.ws.path.lstrip("/"): st for st in streams}
    fd, tmp = tempfile.mkstemp(prefix=f".{Path(path).stem}-", suffix=".xlsx",
                               dir=Path(path).parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(path) as src, \
                zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
            for info in src.infolist():
                data = src.read(info.filename)
                if info.filename.endswith(".xml") and b"\r" in data:
                    data = data.replace(b"\r", b"&#13;")
                st = by_member.get(info.filename)
                if st is None:
                    dst.writestr(info, data)
                    continue
                with dst.open(info.filename, "w", force_zip64=True) as out:
                    _write_stream(data.decode("utf-8"), st, out)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _fit_width(ws: Worksheet) -> None:
    """Print (and render to PDF) one page wide, landscape, header repeated on each page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_title_rows = "1:1"


def write_split(wb: Workbook, name: str, columns: Sequence[str], rows: list[dict[str, Any]],
                formats: dict[str, str] | None = None, notes: list[str] | None = None,
                stream: bool | None = None, headers: dict[str, str] | None = None
                ) -> list[Worksheet]:
    """``name`` and, past Excel's row limit, ``name (2)``, ``name (3)`` ... in order.

    ``stream`` and ``headers`` as :func:`write_table`.
    """
    chunks = [rows[i:i + MAX_ROWS] for i in range(0, len(rows), MAX_ROWS)] or [[]]
    sheets = []
    for k, chunk in enumerate(chunks, start=1):
        title = name if k == 1 else f"{name} ({k})"
        ws = wb.create_sheet(title)
        tname = "t" + "".join(ch for ch in name if ch.isalnum()) + ("" if k == 1 else f"_{k}")
        write_table(ws, columns, chunk, formats, tname, stream, headers)
        sheets.append(ws)
    if len(chunks) > 1 and notes is not None:
        notes.append(f"{name} has {len(rows):,} rows, more than one sheet holds: it continues "
                     f"on {', '.join(repr(s.title) for s in sheets[1:])}.")
    return sheets


_WHOLE = re.compile(r"-?(?:0|[1-9][0-9]{0,14})")


def period_value(label: str) -> str | int:
    """A period label as a cell value: a whole number (2027) as a number, so filters and
    pivots sort it as one; any other label (2027-H1, 01) stays text."""
    return int(label) if _WHOLE.fullmatch(label) else label


def number_periods(plan: PlanData, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` with their ``period`` written by :func:`period_value` (copies; the rows
    themselves keep the text labels the rest of the planner works with)."""
    values = {p.label: period_value(p.label) for p in plan.periods}
    if all(isinstance(v, str) for v in values.values()) or not rows \
            or "period" not in rows[0]:
        return rows
    return [{**r, "period": values.get(r["period"], r["period"])} for r in rows]


@dataclass
class RunInfo:
    """Facts for the Run sheet that the report cannot see for itself."""

    input_path: str | None = None
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
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


def _now() -> datetime:
    """The time the report is written (UTC); one place, so tests can hold it still."""
    return datetime.now(UTC)


def run_rows(plan: PlanData, results: Sequence[CaseResult], info: RunInfo) -> list[dict[str, Any]]:
    """The Run sheet: input file and hash, versions, solver options and times."""
    try:
        from planner.highs_runtime import version

        highs = version()
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
         "value": _now().strftime("%Y-%m-%d %H:%M:%S")},
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
                 "unit": "s", "note": f"{r.status}: {r.message}" if r.message else str(r.status)}
                for r in results)
    rows.extend({"item": f"not solved: {r.name}", "value": str(r.status), "note": r.message}
                for r in results if r.message and r.status != "infeasible")
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
            if not rule.excludes_offers:
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
        sheets = write_split(wb, name, columns, number_periods(plan, tables[name]), fmts, notes)
        if name == "Constraints":
            _highlight_binding_caps(sheets, len(tables[name]))

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
                number_periods(plan, excluded_offers(plan, ix, list(cases.values()))), fmts,
                notes)
    # concentration per material x stage x period; its notes go to the Notes sheet
    risk_notes = add_supply_risk_sheet(wb, plan, results, fmts)
    ws = write_split(wb, "Run", ["item", "value", "unit", "note"],
                     run_rows(plan, results, info), fmts, notes, stream=False)[0]
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 70
    for row in ws.iter_rows(min_row=2, min_col=2, max_col=2):
        row[0].alignment = Alignment(horizontal="left")

    note_rows: list[dict[str, Any]] = [{"kind": "warning", "case": "", "note": w}
                                       for w in plan.warnings]
    note_rows.extend({"kind": "report", "case": "", "note": n} for n in notes)
    note_rows.extend({"kind": "supply risk", "case": "", "note": n} for n in risk_notes)
    note_rows.extend({"kind": str(r.status), "case": r.name, "note": r.message}
                     for r in results if r.message)
    note_rows.extend({"kind": "plan", "case": r.name, "note": n}
                     for r in results for n in r.notes)
    ws = write_split(wb, "Notes", ["kind", "case", "note"], note_rows, fmts)[0]
    ws.column_dimensions["C"].width = 120

    header = [("Input", Path(info.input_path or plan.source).name),
              ("Run (UTC)", info.started.strftime("%Y-%m-%d %H:%M"))]
    bad = [r.name for r in results if r.explanation]
    if bad:
        header.append(("Infeasible", f"{', '.join(bad)}: see the Infeasibility sheet"))
    failed = [r for r in results if r.message and not r.explanation]
    for r in failed:
        header.append((f"Not solved: {r.name}", f"{r.status}: {r.message}"))
    base_shadows = [s.sentence for s in shadows if s.scenario == (names[0] if names else "")]
    add_dashboard(wb, plan, results, cases, header, policy_rows, base_shadows)
    wb.active = 0
    return wb


def _highlight_binding_caps(sheets: Sequence[Worksheet], n_rows: int) -> None:
    """Conditional formatting: cap rows with (near) zero slack are binding.

    ``n_rows`` is the table's length over all ``sheets`` (streamed rows are not
    in the sheet yet, so ``max_row`` cannot tell).
    """
    for k, ws in enumerate(sheets):
        last = min(MAX_ROWS, n_rows - k * MAX_ROWS) + 1
        if last < 2:
            continue
        ws.conditional_formatting.add(
            f"A2:F{last}",
            FormulaRule(formula=['AND($C2="cap",ABS($E2)<=0.000001)'], fill=BINDING_FILL))


def _file_mode(target: Path) -> int:
    """The permissions a plain ``open(target, "w")`` would give: the existing file's,
    else 0o666 less the umask (a temporary file is created private, 0o600)."""
    try:
        return target.stat().st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


class Terminated(SystemExit):
    """SIGTERM arrived while a file was being saved; exits with status 143 (128 + 15)
    after the temporary file is removed."""

    def __init__(self) -> None:
        super().__init__(128 + signal.SIGTERM)


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """While saving, SIGTERM raises :class:`Terminated` (as SIGINT raises
    KeyboardInterrupt) so the cleanup runs; the previous handler is restored after.
    Signal handlers can only be set from the main thread: elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _save_zip(wb: Workbook, path: str) -> None:
    """``wb.save(path)``, but the zip file is closed on failure too: openpyxl leaves it
    open, and its finaliser then fails again (on a full disk) and prints
    "Exception ignored in ZipFile.__del__" after the real message."""
    if wb.write_only and not wb.worksheets:
        wb.create_sheet()
    archive = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    try:
        wb.properties.modified = datetime.now(tz=UTC).replace(tzinfo=None)
        ExcelWriter(wb, archive).write_data()
    except BaseException:
        _discard(archive)
        raise
    archive.close()


def _discard(archive: zipfile.ZipFile) -> None:
    """Close a zip being written after a failure, ignoring the errors of closing (the
    first error is the one to report); the file itself is deleted by the caller."""
    try:
        archive.close()
    except Exception:  # noqa: BLE001, S110 - the original failure is being raised
        pass
    fp = archive.fp
    archive.fp = None
    if fp is not None:
        try:
            fp.close()
        except Exception:  # noqa: BLE001, S110
            pass


def save_atomic(wb: Workbook, path: str | Path) -> Path:
    """Save to a temporary file beside ``path`` and rename it into place.

    Streamed tables (see :func:`write_table`) get their rows in the temporary
    file before the rename.  Whatever stops the save (an error, Ctrl-C, SIGTERM),
    the temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _sigterm_raises():
        fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}-", suffix=".xlsx",
                                   dir=target.parent)
        os.close(fd)
        try:
            _save_zip(wb, tmp)
            _finish(tmp, [st for st in _STREAMS.get(wb, []) if st.ws in wb.worksheets])
            os.chmod(tmp, _file_mode(target))
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return target


def write_report(plan: PlanData, results: list[CaseResult], path: str | Path,
                 info: RunInfo | None = None, policy: Sequence[Any] | None = None) -> Path:
    """Build the report and write it atomically."""
    return save_atomic(build_workbook(plan, results, info, policy), path)
