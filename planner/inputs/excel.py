"""Read an input workbook into raw tables, keeping Excel row numbers.

Only the shape is handled here (sheet and column names matched
case-insensitively, empty rows dropped, formula cells without a cached value
caught); the meaning of each cell is checked in :mod:`planner.inputs.validate`.

A damaged or hostile file is refused with problems naming the sheet (and the
cell, where one can be found), never a crash: only regular files are opened;
the zip directory and every XML part are checked against
:mod:`planner.limits` (and for entity declarations) before openpyxl parses
anything; each sheet is then read with its own error handling, counting cells
as it goes and stopping at the first limit crossed.
"""

from __future__ import annotations

import math
import os
import posixpath
import re
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree import ElementTree

from openpyxl import load_workbook
from openpyxl.cell.read_only import EMPTY_CELL
from openpyxl.utils import coordinate_to_tuple, get_column_letter

from planner.inputs.problems import Problem
from planner.inputs.schema import SHEETS, STAGES, norm_name
from planner.limits import MAX_CELLS, MAX_TEXT_CHARS, MAX_UNPACKED_BYTES, MAX_XML_TEXT_BYTES


@dataclass
class RawTable:
    """One sheet as read: header positions and data rows with their Excel numbers."""

    title: str
    #: normalised column name -> 0-based position (the first, when a header repeats)
    columns: dict[str, int]
    #: header text as written, by position
    headers: list[str]
    rows: list[tuple[int, tuple[Any, ...]]] = field(default_factory=list)
    #: formula cells without a saved result: (Excel row, 0-based column, formula)
    uncached: list[tuple[int, int, str]] = field(default_factory=list)
    #: headers repeated after normalisation: (0-based first position, 0-based repeat)
    repeated: list[tuple[int, int]] = field(default_factory=list)

    def get(self, values: tuple[Any, ...], column: str) -> Any:
        i = self.columns.get(norm_name(column))
        if i is None or i >= len(values):
            return None
        return values[i]

    def col_index(self, column: str) -> int | None:
        i = self.columns.get(norm_name(column))
        return None if i is None else i + 1


def is_blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and v.strip() == "")


def read_workbook(path: str | Path) -> tuple[dict[str, RawTable], list[Problem]]:
    """Return the sheets of the workbook keyed by normalised name, and file problems.

    A file that cannot be read at all, or crosses a limit of :mod:`planner.limits`,
    gives problems and no tables.
    """
    p = Path(path)
    refused = _file_problem(p)
    if refused is not None:
        return {}, [refused]
    try:
        archive = zipfile.ZipFile(p)
    except (OSError, zipfile.BadZipFile, ValueError) as exc:
        return {}, [_unreadable(p, exc)]
    with archive:
        too_big = _size_problem(archive)
        if too_big is not None:
            return {}, [too_big]
        members = _sheet_members(archive)
        problems = _scan_archive(archive, members)
        if problems:
            return {}, problems
        return _read_tables(p, archive, members)


def _unreadable(p: Path, exc: BaseException) -> Problem:
    return Problem("", None, None, str(p), "a readable Excel workbook (.xlsx)",
                   f"The file could not be read: {exc}.")


def _file_problem(p: Path) -> Problem | None:
    """A problem when ``p`` is not a regular file holding a zip archive.

    Checked with ``os.stat`` before anything opens it: a named pipe would block the
    read forever and a device such as /dev/zero never ends.
    """
    try:
        st = os.stat(p)
    except FileNotFoundError:
        return Problem("", None, None, str(p), "an existing .xlsx file",
                       "Check the path: no such file.")
    except OSError as exc:
        return Problem("", None, None, str(p), "a readable .xlsx file",
                       f"The file cannot be opened: {exc.strerror or exc}.")
    not_xlsx = Problem("", None, None, str(p), "an Excel workbook (.xlsx)",
                       "The file is not an .xlsx workbook; save it from Excel as "
                       "'Excel Workbook (*.xlsx)'.")
    if stat.S_ISDIR(st.st_mode):
        return not_xlsx
    if not stat.S_ISREG(st.st_mode):
        kind = ("a named pipe" if stat.S_ISFIFO(st.st_mode)
                else "a device" if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
                else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
        return Problem("", None, None, str(p), "a regular file (an Excel workbook, .xlsx)",
                       f"The path is {kind}, which the planner does not read (it could "
                       "wait, or read, without end); save the workbook to a file and give "
                       "that file's path.")
    try:
        is_zip = zipfile.is_zipfile(p)
    except OSError as exc:
        return Problem("", None, None, str(p), "a readable .xlsx file",
                       f"The file cannot be opened: {exc.strerror or exc}.")
    return None if is_zip else not_xlsx


def _size_problem(archive: zipfile.ZipFile) -> Problem | None:
    """The unpacked size declared by the zip directory, against the limit (before
    anything is unpacked; reading a member stops at its declared size)."""
    total = sum(info.file_size for info in archive.infolist())
    if total <= MAX_UNPACKED_BYTES:
        return None
    return Problem("", None, None, f"{total:,} bytes unpacked",
                   f"a workbook that unpacks to at most {MAX_UNPACKED_BYTES:,} bytes "
                   f"({MAX_UNPACKED_BYTES / 2**30:g} GiB, the planner's limit)",
                   "The file is far larger than any plan needs (or is a zip bomb); remove "
                   "unused sheets, or split the plan.")


# --- sheet names of the zip members -------------------------------------------------------

_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_REL_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
#: parts larger than this are not parsed to find the sheet names (no real one is)
_MAX_INDEX_PART = 16 << 20


def _part(archive: zipfile.ZipFile, name: str) -> ElementTree.Element:
    if archive.getinfo(name).file_size > _MAX_INDEX_PART:
        raise ValueError(f"{name} is too large")
    return ElementTree.fromstring(archive.read(name))


def _rels(archive: zipfile.ZipFile, part: str) -> dict[str, str]:
    """Relationship id -> zip member name of the target, for ``part`` ("" = the package)."""
    folder = PurePosixPath(part).parent
    root = _part(archive, str(folder / "_rels" / (PurePosixPath(part).name + ".rels")))
    out: dict[str, str] = {}
    for rel in root.iter(_PKG_REL):
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External" or not target:
            continue
        resolved = target if target.startswith("/") else str(folder / target)
        out[rel.get("Id", "")] = posixpath.normpath(resolved).lstrip("/")
    return out


def _sheet_members(archive: zipfile.ZipFile) -> dict[str, str]:
    """Zip member of each worksheet -> sheet title, read from the workbook part and
    its relationships, so problems in a member can name the sheet.

    Empty when these parts cannot be read (openpyxl's own error is then reported).
    They are small; the standard library's parser refuses entity expansion bombs.
    """
    try:
        root = _rels(archive, "")
        office = [t for t in root.values() if t.endswith(".xml")]
        if not office:
            return {}
        book = office[0]
        rels = _rels(archive, book)
        out: dict[str, str] = {}
        for sheet in _part(archive, book).iter(f"{_MAIN}sheet"):
            member = rels.get(sheet.get(_REL_ID, ""))
            if member:
                out[member] = sheet.get("name", "")
        return out
    except Exception:  # noqa: BLE001 - a damaged index only costs the sheet names
        return {}


# --- scanning the XML before parsing --------------------------------------------------------

_CELL_REF = re.compile(rb'<c\b[^>]*?\sr="([A-Z]{1,3}[0-9]{1,7})"')
_SCAN_CHUNK = 1 << 20


@dataclass
class _Scan:
    """What scanning one XML member found."""

    cells: int = 0
    #: a DOCTYPE or ENTITY declaration (Excel never writes one)
    doctype: bool = False
    #: bytes of the longest run of XML text crossing :data:`MAX_XML_TEXT_BYTES`, and the
    #: cell it is in ("" when unknown)
    long_text: tuple[int, str] | None = None
    #: the member could not be unpacked
    error: str | None = None


def _scan_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cells: bool) -> _Scan:
    """Stream one XML member: entity declarations, overlong text, and (``cells``) the
    number of cells; stops at the first finding, or when cells cross the limit."""
    out = _Scan()
    last_cell = b""
    pending = b""
    try:
        with archive.open(info) as fh:
            while True:
                chunk = fh.read(_SCAN_CHUNK)
                data = pending + chunk
                if not chunk:
                    done, pending = data, b""
                else:
                    cut = data.rfind(b"<")
                    if cut <= 0:
                        if len(data) > MAX_XML_TEXT_BYTES:
                            out.long_text = (len(data), last_cell.decode())
                            return out
                        pending = data
                        continue
                    done, pending = data[:cut], data[cut:]
                if b"<!DOCTYPE" in done or b"<!ENTITY" in done:
                    out.doctype = True
                    return out
                if cells:
                    out.cells += done.count(b"<c ") + done.count(b"<c>") + done.count(b"<c/")
                    if out.cells > MAX_CELLS:
                        return out
                pieces = done.split(b"<")
                longest = max(map(len, pieces))
                if longest > MAX_XML_TEXT_BYTES:
                    at = next(i for i, s in enumerate(pieces) if len(s) == longest)
                    before = b"<".join(pieces[:at])
                    refs = _CELL_REF.findall(before[-4096:]) or ([last_cell] if last_cell
                                                                  else [])
                    out.long_text = (longest, refs[-1].decode() if refs else "")
                    return out
                refs = _CELL_REF.findall(done[done.rfind(b"<c ") if b"<c " in done else 0:])
                if refs:
                    last_cell = refs[-1]
                if not chunk:
                    return out
    except Exception as exc:  # noqa: BLE001 - damaged compression, bad CRC, ...
        out.error = f"{type(exc).__name__}: {exc}"
        return out


def _scan_archive(archive: zipfile.ZipFile, members: dict[str, str]) -> list[Problem]:
    """Scan every XML part before openpyxl parses any: problems for entity
    declarations, text over the cell limit, damage, and cells over :data:`MAX_CELLS`
    in the sheets the planner reads."""
    known = {norm_name(s.name) for s in SHEETS}
    problems: list[Problem] = []
    total = 0
    for info in archive.infolist():
        if info.is_dir() or not info.filename.lower().endswith((".xml", ".rels")):
            continue
        title = members.get(info.filename)
        read = title is not None and norm_name(title) in known
        scan = _scan_member(archive, info, cells=read)
        sheet = title or ""
        where = "" if title is not None else f" (part {info.filename})"
        if scan.error:
            problems.append(Problem(sheet, None, None, None, "an undamaged sheet" if title
                                    else "an undamaged workbook part",
                                    f"The file is damaged{where}: {scan.error}. Re-save it "
                                    "from Excel or LibreOffice."))
        elif scan.doctype:
            problems.append(Problem(
                sheet, None, None, None, "XML without a DOCTYPE or ENTITY declaration",
                f"The file declares XML entities{where}, which Excel never writes and which "
                "can expand to exhaust memory (an 'entity bomb'); re-save it from Excel."))
        elif scan.long_text:
            size, ref = scan.long_text
            row, col = coordinate_to_tuple(ref) if ref else (None, None)
            problems.append(Problem(
                sheet, row, None, f"text of {size:,} bytes{where}",
                f"text of at most {MAX_TEXT_CHARS:,} characters per cell (Excel's limit)",
                "Excel cannot hold such a cell, so the file was not saved by Excel; "
                "shorten the text.", col_index=col))
        total += scan.cells
        if total > MAX_CELLS:
            problems.append(Problem(
                sheet, None, None, f"more than {MAX_CELLS:,} cells",
                f"at most {MAX_CELLS:,} cells in the sheets the planner reads (its limit)",
                "The sheet holds far more cells than any plan needs; delete the unused "
                "rows and columns (select them, right-click, Delete)."))
        if problems:
            return problems
    return problems


# --- reading the sheets ---------------------------------------------------------------------

class _LimitCrossed(Exception):
    """Reading stopped at a limit; carries the problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class _Budget:
    """Cells left to read over all sheets (:data:`MAX_CELLS`)."""

    left: int = field(default_factory=lambda: MAX_CELLS)

    def take(self, n: int, title: str, row: int) -> None:
        self.left -= n
        if self.left < 0:
            raise _LimitCrossed(Problem(
                title, row, None, f"more than {MAX_CELLS:,} cells read",
                f"at most {MAX_CELLS:,} cells in the sheets the planner reads (its limit; "
                "empty cells inside a row and empty rows count)",
                "The sheet spans far more rows or columns than any plan needs; delete the "
                "unused rows and columns."))


def _read_tables(p: Path, archive: zipfile.ZipFile, members: dict[str, str]
                 ) -> tuple[dict[str, RawTable], list[Problem]]:
    """Open the workbook with openpyxl (read-only, values and formulas) and read each
    sheet the planner knows, each with its own error handling."""
    known = {norm_name(s.name) for s in SHEETS}
    try:
        wb_values = load_workbook(p, data_only=True, read_only=True)
    except Exception as exc:  # noqa: BLE001 - any reader failure is bad input
        found = [q for member, title in members.items() if norm_name(title) in known
                 for q in _diagnose(archive, member, title, ())]
        return {}, found or [_unreadable(p, exc)]
    problems = _duplicate_sheets([ws.title for ws in wb_values.worksheets], known)
    if problems:
        wb_values.close()
        return {}, problems
    by_title = {title: member for member, title in members.items()}
    tables: dict[str, RawTable] = {}
    budget = _Budget()
    damaged = False
    wb_formulas: Any = None
    try:
        for ws in wb_values.worksheets:
            key = norm_name(ws.title)
            if key not in known:
                continue
            rows: list[tuple[Any, ...]] = []
            try:
                # Some writers record a wrong sheet dimension; read what is really there.
                ws.reset_dimensions()  # type: ignore[union-attr]
                # The formulas are read (a second parse, of a second opening of the
                # workbook) only when a stored cell has no value: only then can it be a
                # formula without a saved result.
                formulas: list[tuple[Any, ...]] = []
                if _values(ws, budget, problems, rows):
                    if wb_formulas is None:
                        wb_formulas = load_workbook(p, data_only=False, read_only=True)
                    wf = wb_formulas[ws.title]
                    wf.reset_dimensions()  # type: ignore[union-attr]
                    formulas = _formulas(wf, len(rows))
            except _LimitCrossed as exc:
                problems.append(exc.problem)
                return {}, problems
            except Exception as exc:  # noqa: BLE001 - a damaged sheet is bad input
                header = rows[0] if rows else ()
                found = _diagnose(archive, by_title.get(ws.title), ws.title, header)
                problems.extend(found or [Problem(
                    ws.title, None, None, None, "a readable sheet",
                    f"The sheet could not be read ({type(exc).__name__}: {exc}); the file "
                    "is damaged or was not written by a spreadsheet. Re-save it from Excel "
                    "or LibreOffice.")])
                damaged = True
                continue
            tables[key] = _table(ws.title, rows, formulas)
    finally:
        wb_values.close()
        if wb_formulas is not None:
            wb_formulas.close()
    if damaged:  # validating the rest would only add problems caused by the damage
        return {}, problems
    problems.extend(_uncached_problems(tables))
    problems.extend(_repeated_header_problems(tables))
    return tables, problems


def _duplicate_sheets(titles: list[str], known: set[str]) -> list[Problem]:
    """Sheets the planner reads whose names differ only in case or surrounding spaces:
    it could not tell which one is meant."""
    first: dict[str, str] = {}
    out: list[Problem] = []
    for title in titles:
        key = norm_name(title)
        if key not in known:
            continue
        if key in first:
            out.append(Problem(
                title, None, None, title, f"one sheet named {first[key].strip()!r}",
                f"The sheets {first[key]!r} and {title!r} differ only in case or surrounding "
                "spaces, so the planner cannot tell which one to read; delete or rename "
                "one of them."))
        else:
            first[key] = title
    return out


def _values(ws: Any, budget: _Budget, problems: list[Problem],
            rows: list[tuple[Any, ...]]) -> bool:
    """Append the cached values of a read-only sheet to ``rows``, row by row, counted
    against the budget (the rows read so far stay there when reading fails); return
    whether a cell stored in the file has no value (a formula never calculated, or
    just a formatted empty cell).

    Text longer than Excel's cell limit and non-finite numbers become problems (and
    :data:`_REPORTED` markers); a formula whose saved result is the empty string is
    stored typed as text (``t="str"``) and reads as ``""``, a formula never
    calculated reads as ``None`` (then :func:`_table` marks it).
    """
    header: tuple[Any, ...] = ()
    valueless = False
    for r, row in enumerate(ws.iter_rows(), start=1):
        budget.take(max(1, len(row)), ws.title, r)
        values: list[Any] = []
        for cell in row:
            v = cell.value
            t = type(v)
            if v is None:
                kind = None if cell is EMPTY_CELL else getattr(cell, "data_type", None)
                if kind == "str":
                    v = ""
                elif kind == "n":  # a formula without result reads so (empty text: "s")
                    valueless = True
            elif t is str:
                if len(v) > MAX_TEXT_CHARS:
                    problems.append(_long_text(ws.title, r, len(values), header, v))
                    v = _REPORTED
            elif t is float and not math.isfinite(v):
                problems.append(_bad_number(ws.title, r, len(values) + 1, header, v))
                v = _REPORTED
            values.append(v)
        rows.append(tuple(values))
        if r == 1:
            header = rows[0]
    return valueless


def _formulas(ws: Any, n_rows: int) -> list[tuple[Any, ...]]:
    """The formulas of the same sheet (read again without cached values), no more rows
    than the values pass read."""
    out: list[tuple[Any, ...]] = []
    for row in ws.iter_rows(values_only=True):
        if len(out) >= n_rows:
            break
        out.append(row)
    return out


def _header_name(header: tuple[Any, ...], col: int) -> str | None:
    """The header text of 1-based column ``col``, if any."""
    h = header[col - 1] if 0 < col <= len(header) else None
    return None if h is None or h is _REPORTED else str(h)


def _long_text(title: str, row: int, i: int, header: tuple[Any, ...], v: str) -> Problem:
    return Problem(title, row, _header_name(header, i + 1), f"{v[:40]}... ({len(v):,} "
                   "characters)", f"text of at most {MAX_TEXT_CHARS:,} characters per cell "
                   "(Excel's limit)", "Excel cannot hold such a cell, so the file was not "
                   "saved by Excel (Excel would cut the text); shorten it.", col_index=i + 1)


def _bad_number(title: str, row: int, col: int, header: tuple[Any, ...], raw: object
                ) -> Problem:
    return Problem(title, row, _header_name(header, col), raw, "a finite number",
                   "The cell is stored as a number but holds no finite number, which no "
                   "spreadsheet writes: the file is damaged or was written by a program. "
                   "Type the number again.", col_index=col)


_C = f"{_MAIN}c"
_V = f"{_MAIN}v"
_ROW_TAG = f"{_MAIN}row"


def _diagnose(archive: zipfile.ZipFile, member: str | None, title: str,
              header: tuple[Any, ...]) -> list[Problem]:
    """Why a sheet could not be read: its numeric cells that hold no number, or where
    its XML breaks (the cell near the break).  Run only after a failure; the member
    has passed :func:`_scan_archive`, so parsing it is bounded."""
    if member is None:
        return []
    out: list[Problem] = []
    try:
        with archive.open(member) as fh:
            for _, el in ElementTree.iterparse(fh):
                if el.tag == _C:
                    v = el.findtext(_V)
                    if el.get("t", "n") == "n" and v is not None and not _finite(v):
                        r, c = coordinate_to_tuple(el.get("r", "A1"))
                        out.append(_bad_number(title, r, c, header, v))
                    el.clear()
                elif el.tag == _ROW_TAG:
                    el.clear()
    except ElementTree.ParseError as exc:
        line, column = exc.position
        ref = _locate(archive, member, line, column)
        row: int | None = None
        col: int | None = None
        if ref:
            row, col = coordinate_to_tuple(ref)
        near = f" near cell {ref}" if ref else ""
        out.append(Problem(
            title, row, _header_name(header, col) if col else None, None,
            "a sheet whose XML is complete and well-formed",
            f"The sheet's XML is broken at line {line}, column {column}{near} "
            f"({_reason(exc)}): the file is damaged or cut short, or was not written by a "
            "spreadsheet. Re-save it from Excel or LibreOffice.", col_index=col))
    except Exception:  # noqa: BLE001 - nothing more precise to say
        return out
    return out


def _reason(exc: ElementTree.ParseError) -> str:
    """The parser's message without its own position."""
    return re.sub(r":\s*line \d+, column \d+$", "", str(exc))


def _finite(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _locate(archive: zipfile.ZipFile, member: str, line: int, column: int) -> str | None:
    """The last cell reference opened before ``line``, ``column`` of the member's XML
    (the position counted in bytes: exact for the ASCII of sheet markup)."""
    tail = b""
    seen = 0          # bytes read before the current chunk
    at_line = 1
    line_start = 0    # offset where line ``at_line`` starts
    try:
        with archive.open(member) as fh:
            while chunk := fh.read(_SCAN_CHUNK):
                i = -1
                while at_line < line:
                    i = chunk.find(b"\n", i + 1)
                    if i < 0:
                        break
                    at_line += 1
                    line_start = seen + i + 1
                data = tail + chunk
                if at_line == line and line_start + column <= seen + len(chunk):
                    cut = line_start + column - (seen - len(tail))
                    refs = _CELL_REF.findall(data[:cut])
                    return refs[-1].decode() if refs else None
                tail = data[-65536:]
                seen += len(chunk)
    except Exception:  # noqa: BLE001 - the damage may be in the compression too
        pass
    refs = _CELL_REF.findall(tail)
    return refs[-1].decode() if refs else None


def _table(title: str, rows: list[tuple[Any, ...]], formulas: list[tuple[Any, ...]]
           ) -> RawTable:
    """Header positions and the non-empty data rows; uncached formulas become markers."""
    header = rows[0] if rows else ()
    columns: dict[str, int] = {}
    headers: list[str] = []
    repeated: list[tuple[int, int]] = []
    for i, h in enumerate(header):
        text = "" if h is None or no_cache(h) else str(h)
        headers.append(text)
        name = norm_name(text)
        if name in columns:
            repeated.append((columns[name], i))
        elif name:
            columns[name] = i
    table = RawTable(title, columns, headers, repeated=repeated)
    for r, values in enumerate(rows[1:], start=2):
        fr = formulas[r - 1] if r - 1 < len(formulas) else ()
        clean = list(values)
        for i, v in enumerate(values):
            f = fr[i] if i < len(fr) else None
            if v is None and isinstance(f, str) and f.startswith("="):
                clean[i] = _NO_CACHE
                table.uncached.append((r, i, f))
        if all(is_blank(v) for v in clean):
            continue
        table.rows.append((r, tuple(clean)))
    return table


def _read_columns(tables: dict[str, RawTable]) -> dict[str, set[str]]:
    """Normalised names of the columns the planner reads, by sheet key: the schema's,
    and on Routes one column per stage id listed on the Stages sheet."""
    stages: set[str] = set()
    st = tables.get(norm_name(STAGES.name))
    if st is not None:
        stages = {norm_name(v) for _, row in st.rows
                  if not is_blank(v := st.get(row, "stage")) and not no_cache(v)}
    return {norm_name(sheet.name): {norm_name(c.name) for c in sheet.columns}
            | (stages if sheet.stage_columns else set()) for sheet in SHEETS}


def _schema_tables(tables: dict[str, RawTable]) -> Iterator[tuple[RawTable, set[str]]]:
    """Each schema sheet present, with the (normalised) columns the planner reads in it."""
    reads = _read_columns(tables)
    for sheet in SHEETS:
        table = tables.get(norm_name(sheet.name))
        if table is not None:
            yield table, reads[norm_name(sheet.name)]


def _uncached_problems(tables: dict[str, RawTable]) -> list[Problem]:
    """One problem per formula without a result in a column the planner reads.

    Columns the planner ignores (analysts' notes) are left alone.
    """
    out: list[Problem] = []
    for table, read in _schema_tables(tables):
        for r, i, f in table.uncached:
            name = table.headers[i] if i < len(table.headers) else ""
            if norm_name(name) in read and table.columns.get(norm_name(name)) == i:
                out.append(Problem(
                    table.title, r, name, f, "a value, but the formula has no calculated "
                    "result saved in the file",
                    "The workbook was written by a program and never opened in a spreadsheet: "
                    "open it in Excel or LibreOffice and save it, or type the value.",
                    col_index=i + 1))
    return out


def _repeated_header_problems(tables: dict[str, RawTable]) -> list[Problem]:
    """One problem per repeat of a header the planner reads (the same name after
    ignoring case and surrounding spaces): it could not tell which column is meant.
    Repeated note columns, which the planner ignores, are left alone."""
    out: list[Problem] = []
    for table, read in _schema_tables(tables):
        for first, again in table.repeated:
            name = table.headers[again]
            if norm_name(name) not in read:
                continue
            out.append(Problem(
                table.title, 1, name, name, f"one column headed {name.strip()!r}",
                f"Columns {get_column_letter(first + 1)} and {get_column_letter(again + 1)} "
                "are both headed so (ignoring case and surrounding spaces), and the planner "
                "cannot tell which one to read; delete or rename one of them.",
                col_index=again + 1))
    return out


class _Marker:
    """Marker for a cell whose problem is already recorded: a formula without a
    cached value, text over Excel's limit, a number that is not finite."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


_NO_CACHE = _Marker("<formula without value>")
_REPORTED = _Marker("<cell already reported>")


def no_cache(v: Any) -> bool:
    """Whether ``v`` marks a cell already reported (see :class:`_Marker`)."""
    return isinstance(v, _Marker)
