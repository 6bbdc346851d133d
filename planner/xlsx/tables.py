"""Tidy tables into worksheets: safe cells, formats, widths, Excel tables, and
streaming for large tables.

Large tables (:data:`FAST_ROWS` rows or more) are streamed: openpyxl writes the sheet
with its header, widths, frozen pane, Excel table, filters and conditional
formatting, and :func:`planner.xlsx.save.save_atomic` then writes the data rows
straight into the sheet's XML (the same cells, number formats and styles openpyxl
would write), over ten times faster than openpyxl's per-cell objects.  The rows wait
in :data:`_STREAMS`, keyed by workbook; such a workbook refuses a plain ``save()``
(it would write the tables without their rows) and must be saved with
:func:`~planner.xlsx.save.save_atomic`.  Input text is always written as text, never
as a formula (an id beginning with ``=``, ``+``, ``-`` or ``@`` stays text).
"""

from __future__ import annotations

import os
import re
import tempfile
import weakref
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.exceptions import IllegalCharacterError
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet

from planner.limits import MAX_TEXT_CHARS

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
    rows = rows if isinstance(rows, Sequence) else list(rows)  # a Sequence: as it is
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
        for i, values in enumerate(_values(rows, columns), start=2):
            for j, v in enumerate(values, start=1):
                set_value(ws, i, j, v)
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
    rows: Sequence[dict[str, Any]]
    #: per column: the ``s`` attribute of a plain cell, of a quoted-text cell
    styles: list[tuple[str, str]]


#: workbook -> its streamed tables, in the order written
_STREAMS: weakref.WeakKeyDictionary[Workbook, list[_Stream]] = weakref.WeakKeyDictionary()


def _values(rows: Sequence[dict[str, Any]], columns: Sequence[str]
            ) -> Iterator[Sequence[Any]]:
    """Each row's values of ``columns`` (None where a row lacks one), in row order:
    straight from the columns of a column-wise table (one with ``tuples(columns)``, as
    planner.analysis.table.Table), else row dict by row dict."""
    tuples = getattr(rows, "tuples", None)
    if tuples is not None:
        return iter(tuples(columns))
    return ([r.get(c) for c in columns] for r in rows)


def _streamable(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> bool:
    """Whether every value is text, a number, a boolean or empty (anything else: openpyxl)."""
    return set(map(type, chain.from_iterable(_values(rows, columns)))) <= _PLAIN_TYPES


def _defer(ws: Worksheet, columns: Sequence[str], rows: Sequence[dict[str, Any]],
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
    # A plain save would write the Excel tables with no data rows: refuse it loudly.
    setattr(ws.parent, "save", _refuse_plain_save)  # noqa: B010 - shadows the method


def _refuse_plain_save(*_: Any, **__: Any) -> None:
    """Stands in for ``Workbook.save`` on a workbook with streamed tables."""
    raise RuntimeError("this workbook has streamed tables whose rows only "
                       "planner.xlsx.save.save_atomic writes; Workbook.save() would write "
                       "them empty")


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
    for i, values in enumerate(_values(st.rows, st.columns), start=2):
        attrs, more = extra.pop(i, ("", ""))
        r = str(i)
        out = [f'<row r="{r}"{attrs}>']
        for (_, pre, num, empty, boolean, plain, quoted), v in zip(cols, values, strict=True):
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


def write_split(wb: Workbook, name: str, columns: Sequence[str], rows: Sequence[dict[str, Any]],
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
