"""Broken, ambiguous, oversized and hostile files are refused with exit 2 and
problems naming the sheet (and cell), never a crash; reports are written safely.

Hostile workbooks are built here: a valid one from ``wb.valid_data()``, then one
sheet's XML edited inside the zip.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook
from wb import valid_data, write

from planner.cli import main
from planner.inputs import excel as load_mod
from planner.inputs.problems import InputError, refuse_overwriting_input
from planner.limits import MAX_TEXT_CHARS
from planner.scenario.plan import load_plan
from planner.xlsx import save as xsave
from planner.xlsx import tables as xl

ROOT = Path(__file__).resolve().parent.parent


def validate_json(path: Path | str) -> tuple[int, dict[str, Any]]:
    """``planner validate --json``: exit code and the JSON document (which must parse)."""
    result = CliRunner().invoke(main, ["validate", "--json", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    return result.exit_code, json.loads(result.stdout)


def member_of(path: Path, sheet: str) -> str:
    """The zip member holding ``sheet`` (openpyxl writes them in order, Instructions first)."""
    book = load_workbook(path, read_only=True)
    try:
        return f"xl/worksheets/sheet{book.sheetnames.index(sheet) + 1}.xml"
    finally:
        book.close()


def edited(tmp_path: Path, edits: dict[str, Callable[[str], str]],
           name: str = "hostile.xlsx") -> Path:
    """The valid workbook with each named sheet's XML passed through its edit."""
    src = write(tmp_path, valid_data(), "valid.xlsx")
    members = {member_of(src, sheet): fn for sheet, fn in edits.items()}
    out = tmp_path / name
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            fn = members.get(info.filename)
            if fn is not None:
                data = fn(data.decode()).encode()
            zout.writestr(info.filename, data)
    return out


def set_cell(ref: str, xml: str) -> Callable[[str], str]:
    """An edit replacing the cell ``ref`` with ``xml``."""
    def edit(s: str) -> str:
        new, n = re.subn(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)', xml, s, count=1)
        assert n == 1, ref
        return new
    return edit


def problems_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    assert doc["ok"] is False and doc["problems"]
    return list(doc["problems"])


# --- 1. broken files --------------------------------------------------------------------

@pytest.mark.parametrize("sheets", [["Offers"], ["Demand"], ["Settings"],
                                    ["Offers", "Demand"]])
def test_truncated_sheet_xml_is_refused_naming_each_sheet(tmp_path: Path,
                                                          sheets: list[str]) -> None:
    path = edited(tmp_path, {s: (lambda x: x[:len(x) // 2]) for s in sheets})
    code, doc = validate_json(path)
    assert code == 2
    found = problems_of(doc)
    assert {p["sheet"] for p in found} == set(sheets)
    for p in found:
        assert "well-formed" in p["expected"] and "broken" in p["hint"]
    if "Offers" in sheets:  # the cell where the XML breaks, with its column
        (offers,) = [p for p in found if p["sheet"] == "Offers"]
        assert offers["cell"] and offers["cell"].startswith("Offers!") and offers["column"]


def test_entity_bomb_is_refused_before_parsing(tmp_path: Path) -> None:
    bomb = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY a "aaaaaaaaaa">'
            + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">'
                      for i in range(9)) + "]>")
    path = edited(tmp_path, {"Offers": lambda s: bomb + s.replace("O_CN", "&j;")})
    code, doc = validate_json(path)
    assert code == 2
    (p,) = problems_of(doc)
    assert p["sheet"] == "Offers" and "DOCTYPE" in p["expected"]


@pytest.mark.parametrize("ref", ["&#1;", "&#xD800;"])
def test_invalid_character_reference_names_the_cell(tmp_path: Path, ref: str) -> None:
    path = edited(tmp_path, {"Offers": set_cell(
        "A2", f'<c r="A2" t="inlineStr"><is><t>O{ref}CN</t></is></c>')})
    code, doc = validate_json(path)
    assert code == 2
    (p,) = problems_of(doc)
    assert (p["sheet"], p["cell"], p["column"]) == ("Offers", "Offers!A2", "offer")
    assert "invalid character" in p["hint"]


@pytest.mark.parametrize("raw", ["NaN", "INF", "12abc", "-inf", "1e999"])
def test_numeric_cell_that_is_no_finite_number(tmp_path: Path, raw: str) -> None:
    path = edited(tmp_path, {"Offers": set_cell("E2", f'<c r="E2"><v>{raw}</v></c>')})
    code, doc = validate_json(path)
    assert code == 2
    (p,) = problems_of(doc)
    assert (p["sheet"], p["row"], p["column"], p["cell"]) == ("Offers", 2, "unit_cost",
                                                             "Offers!E2")
    assert p["expected"] == "a finite number"
    assert p["value"] == ("inf" if raw == "1e999" else raw)


# --- 2. ambiguous workbooks ----------------------------------------------------------------

def test_sheets_differing_only_in_case_or_spaces_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, valid_data())
    book = load_workbook(path)
    book.copy_worksheet(book["Offers"]).title = "offers "
    book.save(path)
    code, doc = validate_json(path)
    assert code == 2
    (p,) = problems_of(doc)
    assert p["sheet"] == "offers " and "'Offers'" in p["hint"] and "'offers '" in p["hint"]


def test_repeated_header_is_refused_naming_the_cell(tmp_path: Path) -> None:
    path = write(tmp_path, valid_data(), extra={"Offers": ["note", " Unit_Cost"]})
    book = load_workbook(path, read_only=True)
    header = [c.value for c in next(book["Offers"].iter_rows(max_row=1))]
    book.close()
    letter = "ABCDEFGHIJKLMNOP"[header.index(" Unit_Cost")]
    code, doc = validate_json(path)
    assert code == 2
    (p,) = problems_of(doc)
    assert p["cell"] == f"Offers!{letter}1" and p["column"] == " Unit_Cost"
    assert "E and " + letter in p["hint"]


def test_repeated_note_columns_are_still_fine(tmp_path: Path) -> None:
    path = write(tmp_path, valid_data(), extra={"Offers": ["note", "Note"]})
    assert validate_json(path)[0] == 0


# --- 3. unbounded resources ---------------------------------------------------------------

def run_validate(path: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "planner.cli", "validate", "--json", path],
                          capture_output=True, text=True, timeout=60, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_named_pipe_is_refused_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.xlsx"
    os.mkfifo(fifo)
    proc = run_validate(str(fifo))
    assert proc.returncode == 2, proc.stderr
    (p,) = json.loads(proc.stdout)["problems"]
    assert "regular file" in p["expected"] and "named pipe" in p["hint"]


def test_device_is_refused() -> None:
    proc = run_validate("/dev/zero")
    assert proc.returncode == 2, proc.stderr
    (p,) = json.loads(proc.stdout)["problems"]
    assert "regular file" in p["expected"] and "device" in p["hint"]


def test_text_over_excels_cell_limit_is_refused(tmp_path: Path) -> None:
    # openpyxl cuts text at Excel's limit when writing, so the cell is edited in
    path = edited(tmp_path, {"Offers": set_cell(
        "A3", '<c r="A3" t="inlineStr"><is><t>' + "O" * (MAX_TEXT_CHARS + 1) + "</t></is></c>")})
    code, doc = validate_json(path)
    assert code == 2
    (p,) = problems_of(doc)
    assert (p["cell"], p["column"]) == ("Offers!A3", "offer")
    assert p["expected"] == "text of at most 32,767 characters per cell (Excel's limit)"
    assert "32,768 characters" in p["value"] and len(p["value"]) < 100


def test_huge_text_is_refused_before_parsing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    path = edited(tmp_path, {"Offers": set_cell(
        "B2", '<c r="B2" t="inlineStr"><is><t>' + "x" * 400_000 + "</t></is></c>")})
    monkeypatch.setattr(load_mod, "load_workbook", _must_not_parse)
    with pytest.raises(InputError) as err:
        load_plan(path)
    (p,) = err.value.problems
    assert p.cell == "Offers!B2" and "32,767" in p.expected


def _must_not_parse(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("openpyxl parsed a workbook that crosses a limit")


def test_unpacked_size_is_checked_from_the_zip_directory(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    path = write(tmp_path, valid_data())
    monkeypatch.setattr(load_mod, "MAX_UNPACKED_BYTES", 10_000)
    monkeypatch.setattr(load_mod, "load_workbook", _must_not_parse)
    with pytest.raises(InputError) as err:
        load_plan(path)
    (p,) = err.value.problems
    assert "unpacks to at most 10,000 bytes" in p.expected and "bytes unpacked" in str(p.value)


def test_cells_are_counted_before_parsing(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A sheet spanning far more cells than the limit (here a small one) is refused
    from the scan of its XML, before openpyxl parses it."""
    wide = "".join(f'<c r="{c}{r}"><v>1</v></c>' for r in range(5, 65) for c in "JKLMNOP")
    path = edited(tmp_path, {"Demand": lambda s: s.replace("</sheetData>",
                                                           f'<row r="5">{wide}</row>'
                                                           "</sheetData>")})
    monkeypatch.setattr(load_mod, "MAX_CELLS", 300)
    monkeypatch.setattr(load_mod, "load_workbook", _must_not_parse)
    with pytest.raises(InputError) as err:
        load_plan(path)
    (p,) = err.value.problems
    assert p.sheet == "Demand" and "at most 300 cells" in p.expected


def test_reading_stops_at_the_cell_limit(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Empty cells left of a far cell count while reading: one cell in column XFD of
    each of 50 rows is 819,200 cells read, over a limit of 100,000."""
    far = "".join(f'<row r="{r}"><c r="XFD{r}"><v>1</v></c></row>' for r in range(10, 60))
    path = edited(tmp_path, {"Offers": lambda s: s.replace("</sheetData>",
                                                           far + "</sheetData>")})
    monkeypatch.setattr(load_mod, "MAX_CELLS", 100_000)
    started = time.perf_counter()
    with pytest.raises(InputError) as err:
        load_plan(path)
    assert time.perf_counter() - started < 10
    (p,) = err.value.problems
    assert p.sheet == "Offers" and "at most 100,000 cells" in p.expected


def test_a_large_legitimate_plan_loads(tmp_path: Path) -> None:
    """25,000 Offers rows and 200,000 Demand rows are far inside every limit: the
    workbook is read whole, without a problem (validating it is timed elsewhere)."""
    from planner.inputs.template import build_workbook

    n_materials, n_periods, n_offers = 2000, 100, 25_000
    base = build_workbook({"Stages": [{"stage": "mining"}]})
    book = Workbook(write_only=True)
    for ws in base.worksheets:  # the headers of every sheet, rows below
        if ws.title in ("Materials", "Periods", "Demand", "Offers", "Countries",
                        "Facilities", "Routes", "Stages", "Settings"):
            out = book.create_sheet(ws.title)
            out.append([c.value for c in ws[1]])
    sheets = {ws.title: ws for ws in book.worksheets}
    for t in range(n_periods):
        sheets["Periods"].append([2000 + t, 365])
    for m in range(n_materials):
        sheets["Materials"].append([f"M{m}", "", 0, 1000, 0])
        for t in range(n_periods):
            sheets["Demand"].append([f"M{m}", 2000 + t, 1])
    sheets["Countries"].append(["AUS", "Australia"])
    sheets["Stages"].append(["mining"])
    sheets["Facilities"].append(["F1", "Mine", "Co", "AUS", "mining", None])
    sheets["Routes"].append(["R1", "F1"])
    offers = sheets["Offers"]
    for o in range(n_offers):
        offers.append([f"O{o}", "Co", f"M{o % n_materials}", "R1", 10 + o % 7])
    path = tmp_path / "large.xlsx"
    book.save(path)
    tables, problems = load_mod.read_workbook(path)
    assert problems == []
    assert len(tables["offers"].rows) == n_offers
    assert len(tables["demand"].rows) == n_materials * n_periods


# --- 4. text reaching the output ---------------------------------------------------------

@pytest.mark.parametrize("stages", ["=PWN(),+X", "mining,@x", "-sep", "a\x01b"])
def test_template_refuses_formula_like_stage_names(tmp_path: Path, stages: str) -> None:
    out = tmp_path / "t.xlsx"
    result = CliRunner().invoke(main, ["template", str(out), "--stages", stages])
    assert result.exit_code == 2
    assert "stage name cannot start with" in result.output
    assert not out.exists()


def test_template_headers_are_never_formulas(tmp_path: Path) -> None:
    path = write(tmp_path, {"Stages": [{"stage": "=1+1"}]})
    cell = load_workbook(path)["Routes"]["B1"]
    assert cell.value == "=1+1" and cell.data_type == "s"


@pytest.mark.parametrize("stream", [False, True])
def test_report_writes_control_characters_safely(tmp_path: Path, stream: bool) -> None:
    values = ["\rO_CN", "\x01O_AU", "=1+1", "a\x1fb"]
    book = Workbook()
    ws = book.active
    assert ws is not None
    xl.write_table(ws, ["id"], [{"id": v} for v in values], stream=stream)
    out = xsave.save_atomic(book, tmp_path / "r.xlsx")
    with zipfile.ZipFile(out) as z:
        assert not any(b"\r" in z.read(n) for n in z.namelist())
    got = load_workbook(out)["Sheet"]
    assert [got.cell(row=i, column=1).value for i in range(2, 6)] == [
        "\rO_CN", "\u2401O_AU", "=1+1", "a\u241fb"]
    assert got["A4"].data_type == "s"


# --- 5. reports: signals and full disks ---------------------------------------------------

def _run_script(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "script.py"
    script.write_text(
        "import errno, gc, os, signal, sys, zipfile\n"
        "from openpyxl import Workbook\n"
        "from planner.xlsx import save as report\n"
        "book = Workbook()\n"
        "book.active.append(['x'] * 50)\n" + body)
    return subprocess.run([sys.executable, str(script), str(tmp_path / "out" / "r.xlsx")],
                          capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_sigterm_while_saving_leaves_no_temporary_file(tmp_path: Path) -> None:
    proc = _run_script(tmp_path, """
from openpyxl.writer.excel import ExcelWriter
real = ExcelWriter.write_data
def killed(self):
    real(self)
    os.kill(os.getpid(), signal.SIGTERM)
ExcelWriter.write_data = killed
before = signal.getsignal(signal.SIGTERM)
try:
    report.save_atomic(book, sys.argv[1])
except SystemExit as exc:
    assert signal.getsignal(signal.SIGTERM) is before
    print("exit", exc.code)
""")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "exit 143"
    assert list((tmp_path / "out").iterdir()) == []


def test_full_disk_prints_no_stray_traceback(tmp_path: Path) -> None:
    proc = _run_script(tmp_path, """
class Full:
    def __init__(self, fp):
        self.fp, self.n = fp, 0
    def write(self, b):
        self.n += len(b)
        if self.n > 200:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return self.fp.write(b)
    def __getattr__(self, name):
        return getattr(self.fp, name)
real_init = zipfile.ZipFile.__init__
def init(self, file, mode="r", *args, **kwargs):
    real_init(self, file, mode, *args, **kwargs)
    if mode == "w":
        self.fp = Full(self.fp)
zipfile.ZipFile.__init__ = init
try:
    report.save_atomic(book, sys.argv[1])
except OSError as exc:
    print("refused:", exc.strerror)
gc.collect()
""")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "refused: No space left on device"
    assert "Exception ignored" not in proc.stderr and proc.stderr == ""
    assert list((tmp_path / "out").iterdir()) == []


# --- 6. the report never replaces the input -----------------------------------------------

def test_refuse_overwriting_input(tmp_path: Path) -> None:
    src = write(tmp_path, valid_data(), "in.xlsx")
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.xlsx").symlink_to(src)
    os.link(src, tmp_path / "hard.xlsx")
    for out in [src, tmp_path / "sub" / ".." / "in.xlsx", tmp_path / "link.xlsx",
                tmp_path / "hard.xlsx"]:
        with pytest.raises(InputError) as err:
            refuse_overwriting_input(src, out)
        (p,) = err.value.problems
        assert p.expected == "an output path other than the input workbook"
    refuse_overwriting_input(src, tmp_path / "report.xlsx")  # fine


@pytest.mark.parametrize("output", ["in.xlsx", "./sub/../in.xlsx"])
def test_stress_refuses_to_write_over_its_input(tmp_path: Path, output: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    src = write(tmp_path, valid_data(), "in.xlsx")
    (tmp_path / "sub").mkdir()
    before = src.read_bytes()
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["stress", "in.xlsx", "-o", output, "--samples", "0",
                                       "--no-sizing"])
    assert result.exit_code == 2, result.output
    assert "an output path other than the input workbook" in result.output
    assert src.read_bytes() == before
