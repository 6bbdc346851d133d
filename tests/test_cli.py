"""`planner run`: exit codes and the contract's tidy tables read back from the written file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from planner.analysis.results import TABLE_COLUMNS
from planner.cli import main
from planner.inputs.template import write_workbook
from tests.test_model import base


def _sheet(path: Path, name: str) -> list[dict[str, object]]:
    ws = load_workbook(path, read_only=True)[name]
    rows = list(ws.iter_rows(values_only=True))
    head = [str(h) for h in rows[0]]
    return [dict(zip(head, r, strict=True)) for r in rows[1:] if any(v is not None for v in r)]


def test_run_writes_contract_tables_to_default_path(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    d = base()
    d["Facilities"][1]["capacity"] = 60
    d["Scenarios"] = [{"scenario": "dear", "action": "cost", "target": "O1", "value": 3}]
    write_workbook(tmp_path / "plan.xlsx", d)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", "plan.xlsx"])
    assert result.exit_code == 0, result.output
    report = tmp_path / "reports" / "plan-report.xlsx"
    wb = load_workbook(report, read_only=True)
    for name, columns in TABLE_COLUMNS.items():
        header = next(wb[name].iter_rows(max_row=1, values_only=True))
        assert list(header)[: len(columns)] == columns, name
        assert all(h is None for h in list(header)[len(columns):])
    summary = _sheet(report, "Summary")
    assert [r["scenario"] for r in summary] == ["base", "dear"]
    assert summary[0]["status"] == "optimal"
    assert summary[0]["total_cost"] == pytest.approx(60 * 10 + 40 * 20)
    assert summary[1]["total_cost"] == pytest.approx(100 * 20)  # O1 at 30 loses to O2
    plan = _sheet(report, "Plan")
    assert {(r["scenario"], r["offer"]): r["volume"] for r in plan} == {
        ("base", "O1"): pytest.approx(60), ("base", "O2"): pytest.approx(40),
        ("dear", "O2"): pytest.approx(100)}
    stock = _sheet(report, "Stock")
    assert stock[0]["demand"] == 100 and stock[0]["supplied"] == pytest.approx(100)
    cons = _sheet(report, "Constraints")
    cap = [c for c in cons if c["scenario"] == "base" and c["kind"] == "capacity"]
    assert cap[0]["period"] == "P1" and cap[0]["shadow_price"] == pytest.approx(-10)


def test_run_exit_1_when_a_case_is_infeasible(tmp_path: Path) -> None:
    d = base()
    d["Facilities"][1]["capacity"] = 60
    d["Offers"][0]["min_volume"] = 80
    write_workbook(tmp_path / "bad.xlsx", d)
    out = tmp_path / "r.xlsx"
    result = CliRunner().invoke(main, ["run", str(tmp_path / "bad.xlsx"), "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert "infeasible" in result.output
    summary = _sheet(out, "Summary")
    assert summary[0]["status"] == "infeasible" and summary[0]["total_cost"] is None


def test_run_exit_2_on_bad_input_writes_nothing(tmp_path: Path) -> None:
    d = base()
    d["Offers"][0]["unit_cost"] = -5
    write_workbook(tmp_path / "neg.xlsx", d)
    out = tmp_path / "r.xlsx"
    result = CliRunner().invoke(main, ["run", str(tmp_path / "neg.xlsx"), "-o", str(out)])
    assert result.exit_code == 2
    assert "Offers, row 2, column unit_cost (Offers!E2): value -5" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_blank_template_runs(tmp_path: Path) -> None:
    path = tmp_path / "blank.xlsx"
    assert CliRunner().invoke(main, ["template", str(path)]).exit_code == 0
    out = tmp_path / "r.xlsx"
    result = CliRunner().invoke(main, ["run", str(path), "-o", str(out), "--no-policy"])
    assert result.exit_code == 0, result.output
    assert _sheet(out, "Summary")[0]["total_cost"] == 0


def test_scenario_option_selects_cases(tmp_path: Path) -> None:
    d = base()
    d["Scenarios"] = [{"scenario": "a", "action": "demand", "value": 2},
                      {"scenario": "b", "action": "demand", "value": 3}]
    write_workbook(tmp_path / "s.xlsx", d)
    out = tmp_path / "r.xlsx"
    result = CliRunner().invoke(main, ["run", str(tmp_path / "s.xlsx"), "-o", str(out),
                                       "--scenario", "b"])
    assert result.exit_code == 0, result.output
    summary = _sheet(out, "Summary")
    assert [r["scenario"] for r in summary] == ["base", "b"]
    assert summary[1]["total_cost"] == pytest.approx(3000)


def test_report_gets_ordinary_file_permissions(tmp_path: Path) -> None:
    """The atomic save goes through a private temporary file; the report itself must
    be readable as any file the user writes (umask applied), or keep an existing
    report's permissions."""
    import os

    src = tmp_path / "plan.xlsx"
    write_workbook(src, base())
    out = tmp_path / "r.xlsx"
    old = os.umask(0o022)
    try:
        assert CliRunner().invoke(main, ["run", str(src), "-o", str(out)]).exit_code == 0
        assert out.stat().st_mode & 0o777 == 0o644
        out.chmod(0o640)
        assert CliRunner().invoke(main, ["run", str(src), "-o", str(out)]).exit_code == 0
        assert out.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(old)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".r-")]
