"""Real files: workbooks saved by LibreOffice Calc, and formula cells.

- A workbook re-saved by LibreOffice (``soffice --convert-to xlsx``) loads to
  exactly the same data as the original.
- A formula written by a script and never calculated has no saved result: it is
  a problem naming the cell, never a silent blank.  Once a spreadsheet has
  saved the file, the formula's result is used.
- The template's drop-down sources (named ranges) evaluate, in LibreOffice, to
  exactly the ids typed on their sheets; the template renders to PDF.

LibreOffice runs headless with a private profile directory per process, so
parallel runs do not clash.  The LibreOffice tests skip only when ``soffice`` is
absent (install Debian's ``libreoffice-calc-nogui``); the formula tests that need
no spreadsheet always run.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from wb import Data, valid_data, write

from planner import api
from planner.inputs.data import PlanData
from planner.inputs.problems import InputError
from planner.inputs.schema import SHEETS
from planner.inputs.template import build_workbook, write_template

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
SMALL_EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "small" / \
    "small_example.xlsx"
needs_soffice = pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice is not installed (soffice not on PATH); "
    "install it with: apt-get install -y libreoffice-calc-nogui")


def convert(files: list[Path], outdir: Path, fmt: str = "xlsx") -> list[Path]:
    """Open and save ``files`` with LibreOffice headless, as ``fmt``, into ``outdir``."""
    assert SOFFICE is not None
    profile = f"file:///tmp/lo-{os.getpid()}"
    outdir.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [SOFFICE, f"-env:UserInstallation={profile}", "--headless", "--norestore",
         "--convert-to", fmt, "--outdir", str(outdir), *map(str, files)],
        capture_output=True, text=True, timeout=300)
    out = [outdir / f"{f.stem}.{fmt}" for f in files]
    missing = [p for p in out if not p.exists()]
    assert not missing, f"soffice did not write {missing}: {proc.stdout} {proc.stderr}"
    return out


def same_data(a: PlanData, b: PlanData) -> bool:
    """Equal plans apart from the file they came from."""
    return dataclasses.replace(a, source="") == dataclasses.replace(b, source="")


# --- formula workbooks ----------------------------------------------------------------------

def with_formulas(path: Path, cells: dict[tuple[str, str], str]) -> Path:
    """Put formulas into cells of an existing workbook, as a script would (no results)."""
    wb = openpyxl.load_workbook(path)
    for (sheet, cell), formula in cells.items():
        wb[sheet][cell] = formula
    wb.save(path)
    return path


#: Formulas in valid_data() whose results equal the typed values they replace:
#: demand 100 and 100, O_CN unit_cost 50, O_AU max_volume blank (an empty-text
#: result), BAN_CN active FALSE.  A formula in the notes column is ignored.
FORMULAS = {
    ("Demand", "C2"): "=40+60",
    ("Demand", "C3"): "=C2",
    ("Offers", "E2"): "=100/2",
    ("Offers", "G3"): '=IF(1=1,"",5)',
    ("Rules", "J2"): "=1=0",
    ("Offers", "K2"): "=1/0",  # notes column (after take_or_pay): never read
}


def formula_data() -> Data:
    data = valid_data()
    data["Offers"][1]["max_volume"] = None
    return data


def formula_workbook(tmp_path: Path) -> Path:
    path = write(tmp_path, formula_data(), "formulas.xlsx", extra={"Offers": ["note"]})
    return with_formulas(path, FORMULAS)


def test_formulas_never_calculated_are_problems_naming_each_cell(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        api.load(formula_workbook(tmp_path))
    problems = err.value.problems
    assert sorted(p.cell or "" for p in problems) == [
        "Demand!C2", "Demand!C3", "Offers!E2", "Offers!G3", "Rules!J2"]
    (c2,) = [p for p in problems if p.cell == "Demand!C2"]
    assert str(c2) == (
        "Demand, row 2, column demand (Demand!C2): value '=40+60': expected a value, but the "
        "formula has no calculated result saved in the file. The workbook was written by a "
        "program and never opened in a spreadsheet: open it in Excel or LibreOffice and "
        "save it, or type the value.")


def test_row_of_only_uncalculated_formulas_is_reported_not_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, valid_data())
    with_formulas(path, {("Demand", "A4"): '="NdPr"', ("Demand", "B4"): "=2026+1",
                         ("Demand", "C4"): "=5*2"})
    with pytest.raises(InputError) as err:
        api.load(path)
    assert sorted(p.cell or "" for p in err.value.problems) == [
        "Demand!A4", "Demand!B4", "Demand!C4"]


def test_formula_in_a_routes_stage_column_is_read(tmp_path: Path) -> None:
    path = with_formulas(write(tmp_path, valid_data()), {("Routes", "C2"): '="SEP_CN"'})
    with pytest.raises(InputError) as err:
        api.load(path)
    assert [(p.cell, p.column) for p in err.value.problems] == [("Routes!C2", "separation")]


# --- LibreOffice ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def saved_by_calc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Path]]:
    """Originals and their LibreOffice-saved copies, converted in one soffice run."""
    if SOFFICE is None:
        pytest.skip("LibreOffice is not installed (soffice not on PATH); install it with: "
                    "apt-get install -y libreoffice-calc-nogui")
    src = tmp_path_factory.mktemp("orig")
    originals = {
        "example": write_template(src / "example.xlsx", example=True),
        "blank": write_template(src / "blank.xlsx"),
        "small": Path(shutil.copy(SMALL_EXAMPLE, src / "small.xlsx")),
        "valid": write(src, valid_data(), "valid.xlsx", extra={"Offers": ["source"]}),
        "formulas": formula_workbook(src),
        "lists": _lists_workbook(src / "lists.xlsx"),
    }
    saved = convert(list(originals.values()), tmp_path_factory.mktemp("calc"))
    return {k: (originals[k], s) for k, s in zip(originals, saved, strict=True)}


@needs_soffice
@pytest.mark.parametrize("name", ["example", "valid", "small"])
def test_saved_by_libreoffice_loads_to_the_same_data(
        saved_by_calc: dict[str, tuple[Path, Path]], name: str) -> None:
    original, saved = saved_by_calc[name]
    a, b = api.load(original), api.load(saved)
    assert same_data(a, b)
    assert a.offers and a.periods and a.scenarios  # not trivially equal


@needs_soffice
def test_blank_template_saved_by_libreoffice_stays_blank(
        saved_by_calc: dict[str, tuple[Path, Path]]) -> None:
    original, saved = saved_by_calc["blank"]
    a, b = api.load(original), api.load(saved)
    assert same_data(a, b)
    assert b.stages == ["mining", "separation", "metal", "magnet"] and not b.offers


@needs_soffice
def test_cached_results_of_formulas_are_used(
        saved_by_calc: dict[str, tuple[Path, Path]], tmp_path: Path) -> None:
    """After Calc saved it, the formula workbook is the typed workbook: same data, and
    the hand-worked optimum of tests/wb.py (100 t of O_CN at 55 in each year: 11,000)."""
    _, saved = saved_by_calc["formulas"]
    plan = api.load(saved)
    typed = api.load(write(tmp_path, formula_data(), "typed.xlsx"))
    assert same_data(plan, typed)
    assert plan.demand == {("NdPr", 0): 100, ("NdPr", 1): 100}
    assert plan.offers["O_CN"].unit_cost == 50 and plan.offers["O_AU"].max_volume is None
    assert plan.rules["BAN_CN"].active is False
    (base, _) = api.solve_all(plan)
    assert base.total_cost == pytest.approx(11_000)


def _lists_workbook(path: Path) -> Path:
    """The template with three materials and two periods typed in, plus a sheet of
    formulas reading the drop-down named ranges."""
    data: Data = {"Stages": [{"stage": "mining"}],
                  "Materials": [{"material": m} for m in ("NdPr", "Dy", "Tb")],
                  "Periods": [{"period": 2027}, {"period": 2028}],
                  "Facilities": [{"facility": "F1", "company": "Lynas"},
                                 {"facility": "F2"}, {"facility": "F3", "company": "MP"}]}
    wb = build_workbook(data)
    ws = wb.create_sheet("Check")
    ws["A1"], ws["A2"] = "=ROWS(list_material)", "=INDEX(list_material,3)"
    ws["A3"], ws["A4"] = "=ROWS(list_period)", "=ROWS(list_route)"
    ws["A5"] = '=INDEX(list_company,2)&"|"&ROWS(list_company)'
    wb.save(path)
    return path


@needs_soffice
def test_drop_down_lists_follow_the_rows_typed(
        saved_by_calc: dict[str, tuple[Path, Path]]) -> None:
    _, saved = saved_by_calc["lists"]
    ws = openpyxl.load_workbook(saved, data_only=True)["Check"]
    got: list[Any] = [ws[c].value for c in ("A1", "A2", "A3", "A4", "A5")]
    # 3 materials, the third is Tb; 2 periods; an empty Routes sheet still gives a
    # (one blank cell) list rather than an error; the company list spans all three
    # facilities even though F2 names no operator.
    assert got == [3, "Tb", 2, 1, "|3"]


@needs_soffice
def test_template_renders_to_pdf(tmp_path: Path) -> None:
    path = write_template(tmp_path / "template.xlsx", example=True)
    (pdf,) = convert([path], tmp_path / "pdf", "pdf")
    body = pdf.read_bytes()
    assert body.startswith(b"%PDF")
    pages = body.count(b"/Type/Page") + body.count(b"/Type /Page") - body.count(
        b"/Type/Pages") - body.count(b"/Type /Pages")
    assert pages >= len(SHEETS) + 1  # Instructions and one page per table at least
