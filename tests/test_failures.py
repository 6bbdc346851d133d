"""Loud failures: the typed solver boundary, exit codes 3 and 130, thread counts,
the HiGHS banner, declared runtime dependencies, and the user's files kept safe.

Each test here failed before its fix (issue "Loud failures, safe files").
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pyomo.environ as pyo
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from planner import api, cli
from planner.cli import main
from planner.inputs.data import Settings
from planner.model.build import build_model
from planner.scenario.cases import Index, build_case
from planner.solve import arrays
from planner.solve import solver as solve
from planner.solve.solver import Status, solver_options
from tests import wb

ROOT = Path(__file__).resolve().parents[1]


def _run(args: list[str]) -> Any:
    return CliRunner().invoke(main, args)


# --- threads: HiGHS's one scheduler per process ---------------------------------

def test_thread_count_may_change_between_solves(tmp_path: Path) -> None:
    """A default solve, then threads=1, then 2, then default again: all optimal.

    HiGHS sizes one global scheduler per process at the first solve; before the fix
    a later solve with another ``threads`` ended as ``unknown`` with no cause."""
    plan = api.load(wb.write(tmp_path, wb.valid_data()))
    for threads in (None, 1, 2, None, 1):
        for translator in ("pyomo", "direct"):
            r = api.solve_case(plan, "base", options={"threads": threads,
                                                      "translator": translator})
            assert r.status is Status.OPTIMAL, (threads, translator, r.message)
            assert r.total_cost == pytest.approx(11_000)


def test_cli_method_and_threads_after_a_default_solve(tmp_path: Path) -> None:
    src = wb.write(tmp_path, wb.valid_data())
    assert _run(["run", str(src), "-o", str(tmp_path / "a.xlsx")]).exit_code == 0
    res = _run(["run", str(src), "-o", str(tmp_path / "b.xlsx"), "--threads", "2",
                "--method", "ipm"])
    assert res.exit_code == 0, res.output
    assert "unknown" not in res.output


# --- the banner never reaches stdout -----------------------------------------

def test_highs_banner_not_on_stdout() -> None:
    code = ("from planner.solve.runtime import new_highs, version\n"
            "new_highs(); version(); print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout == "ok\n"


def test_run_json_stdout_has_no_banner(tmp_path: Path) -> None:
    src = wb.write(tmp_path, wb.valid_data())
    out = subprocess.run([sys.executable, "-m", "planner.cli", "run", str(src), "-o",
                          str(tmp_path / "r.xlsx"), "--no-policy"],
                         capture_output=True, text=True, cwd=ROOT, check=False)
    assert out.returncode == 0, out.stderr
    assert "Running HiGHS" not in out.stdout
    assert "Copyright" not in out.stdout


# --- a solver failure is exit 3 with its cause, never silent ---------------------

def _failing_highs(*_: Any, **__: Any) -> Any:
    raise RuntimeError("scheduler exploded")


def test_solver_error_exits_3_with_cause_on_console_and_in_report(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = wb.write(tmp_path, wb.valid_data())
    out = tmp_path / "r.xlsx"
    monkeypatch.setattr(solve, "_highs", _failing_highs)
    monkeypatch.setattr(arrays, "run", _failing_highs)  # the shared model's solves
    res = _run(["run", str(src), "-o", str(out), "--no-policy"])
    assert res.exit_code == 3, res.output
    assert "cause: HiGHS reported an error and returned no result: RuntimeError: " \
           "scheduler exploded" in res.output
    book = load_workbook(out)
    summary = list(book["Summary"].iter_rows(values_only=True))
    assert summary[1][:2] == ("base", "error")
    run_items = {r[0]: r for r in book["Run"].iter_rows(values_only=True)}
    assert "scheduler exploded" in run_items["not solved: base"][3]
    notes = [r for r in book["Notes"].iter_rows(values_only=True) if r[0] == "error"]
    assert notes and "scheduler exploded" in notes[0][2]


def test_plans_solve_without_scipy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SciPy is not a runtime dependency: with it unimportable every path still solves
    (before, a large model on a plain install ended ``error``, exit 1, no cause)."""
    plan = api.load(wb.write(tmp_path, wb.valid_data()))
    monkeypatch.setitem(sys.modules, "scipy", None)  # import raises ImportError
    monkeypatch.setitem(sys.modules, "scipy.sparse", None)
    r = api.solve_case(plan, "base", options={"translator": "direct"})
    assert r.status is Status.OPTIMAL
    assert [r.status for r in api.solve_all(plan)] == [Status.OPTIMAL] * 2


def test_a_missing_solver_library_is_solver_missing_with_its_cause(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An ImportError inside a solve is ``solver_missing``, exit 3, with the library named,
    on the single-case path and on the shared model of a run."""
    plan = api.load(wb.write(tmp_path, wb.valid_data()))

    def gone(*_: Any, **__: Any) -> Any:
        raise ImportError("No module named 'highspy._core'")

    monkeypatch.setattr(solve, "_highs", gone)
    monkeypatch.setattr(arrays, "run", gone)
    r = api.solve_case(plan, "base")
    assert r.status is Status.SOLVER_MISSING and "highspy" in r.message
    assert api.exit_code([r]) == 3
    results = api.solve_all(plan)
    assert [r.status for r in results] == [Status.SOLVER_MISSING] * len(results)
    assert all("highspy" in r.message for r in results)
    monkeypatch.setattr(arrays, "compile_model", gone)  # the shared model cannot be built
    results = api.solve_all(plan)
    assert [r.status for r in results] == [Status.SOLVER_MISSING] * len(results)


def test_exit_codes_rank_failure_over_infeasible() -> None:
    def case(status: Status) -> Any:
        return api.CaseResult("c", status, 0.0, {})
    assert api.exit_code([case(Status.OPTIMAL)]) == 0
    assert api.exit_code([case(Status.OPTIMAL), case(Status.INFEASIBLE)]) == 1
    assert api.exit_code([case(Status.TIME_LIMIT)]) == 1
    assert api.exit_code([case(Status.INFEASIBLE), case(Status.ERROR)]) == 3
    assert api.exit_code([case(Status.UNKNOWN)]) == 3
    assert Status.of("no-such-word") is Status.UNKNOWN


# --- the tie-break re-solve leaves the caller's objectives as they were -----------

def test_tie_break_does_not_reactivate_a_deactivated_objective(tmp_path: Path) -> None:
    data = wb.valid_data()
    data["Offers"] = data["Offers"][:1]
    data["Offers"][0]["max_volume"] = 50  # 50 t short each year: the tie-break runs
    plan = api.load(wb.write(tmp_path, data))
    ix = Index.build(plan)
    model, _ = build_model(plan, ix, build_case(plan, ix))
    model.total_cost.deactivate()
    model.other = pyo.Objective(expr=model.total_cost.expr)
    assert solve.solve(model).status is Status.OPTIMAL
    active = list(model.component_data_objects(pyo.Objective, active=True))
    assert active == [model.other]
    assert not model.total_cost.active


# --- Ctrl-C is exit 130 with one line ----------------------------------------------

def test_interrupt_exits_130_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    src = wb.write(tmp_path, wb.valid_data())

    def interrupted(*_: Any, **__: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "solve_all", interrupted)
    monkeypatch.setattr(sys, "argv", ["planner", "run", str(src), "-o",
                                      str(tmp_path / "r.xlsx")])
    with pytest.raises(SystemExit) as exc:
        cli.entry()
    assert exc.value.code == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "planner: interrupted; nothing more was written."
    assert "Traceback" not in "\n".join(err)
    assert not (tmp_path / "r.xlsx").exists()


def test_entry_usage_error_is_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["planner", "run"])
    with pytest.raises(SystemExit) as exc:
        cli.entry()
    assert exc.value.code == 2


# --- solver options are checked as usage ------------------------------------------

@pytest.mark.parametrize("args", [["--time-limit", "-1"], ["--time-limit", "0"],
                                  ["--threads", "-3"], ["--threads", "0"]])
def test_bad_solver_options_are_usage_errors(tmp_path: Path, args: list[str]) -> None:
    src = wb.write(tmp_path, wb.valid_data())
    res = _run(["run", str(src), "-o", str(tmp_path / "r.xlsx"), *args])
    assert res.exit_code == 2, res.output
    assert not (tmp_path / "r.xlsx").exists()


@pytest.mark.parametrize("threads", ["1000", "100000"])
def test_absurd_threads_are_clamped_with_a_warning(tmp_path: Path, threads: str) -> None:
    src = wb.write(tmp_path, wb.valid_data())
    res = _run(["run", str(src), "-o", str(tmp_path / "r.xlsx"), "--threads", threads,
                "--no-policy"])
    assert res.exit_code == 0, res.output
    assert f"{threads} solver threads asked for" in res.output
    assert solver_options(Settings("p", "USD", 1.0, 1.0), {"threads": int(threads)})[
        "threads"] == solve.MAX_THREADS


def test_command_line_method_choose_overrides_settings() -> None:
    settings = Settings("p", "USD", 1.0, 1.0, method="ipm")
    assert solver_options(settings)["solver"] == "ipm"
    assert solver_options(settings, {"solver": "choose"})["solver"] == "choose"
    assert "solver" not in solver_options(Settings("p", "USD", 1.0, 1.0))


def test_stress_unreachable_dask_scheduler_is_exit_2(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    src = wb.write(tmp_path, wb.valid_data())
    res = _run(["stress", str(src), "-o", str(tmp_path / "r.xlsx"), "--no-sizing",
                "--dask-scheduler", "tcp://127.0.0.1:9"])
    assert res.exit_code == 2, res.output
    assert "Cannot reach the Dask scheduler tcp://127.0.0.1:9" in res.output


# --- template never replaces a file silently ----------------------------------------

def test_template_refuses_an_existing_file_without_force(tmp_path: Path) -> None:
    target = wb.write(tmp_path, wb.valid_data(), "filled.xlsx")
    before = target.read_bytes()
    res = _run(["template", str(target)])
    assert res.exit_code == 2
    assert "exists; nothing was written" in res.output
    assert target.read_bytes() == before
    res = _run(["template", str(target), "--force"])
    assert res.exit_code == 0, res.output
    assert target.read_bytes() != before


# --- runtime dependencies are declared exactly --------------------------------------

def _third_party_imports() -> set[str]:
    stdlib = set(sys.stdlib_module_names)
    found: set[str] = set()
    for path in (ROOT / "planner").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            found.update(n.split(".")[0] for n in names)
    return {n for n in found if n not in stdlib and n not in ("planner", "__future__")}


def test_every_runtime_import_is_a_declared_dependency() -> None:
    """numpy and scipy were once imported but not declared, so a plain install failed on
    large plans.  Dask is the one optional import (planner[dask], asked for by flag)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = {d.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip().lower()
                for d in project["dependencies"]}
    aliases = {"pyomo": "pyomo", "highspy": "highspy", "openpyxl": "openpyxl",
               "numpy": "numpy", "scipy": "scipy", "pandas": "pandas", "click": "click",
               "tqdm": "tqdm"}
    optional = {"dask", "distributed"}
    for module in _third_party_imports() - optional:
        assert aliases.get(module, module) in declared, f"{module} is imported, not declared"
    for dep in declared:
        assert all(b in d for d in project["dependencies"] if d.lower().startswith(dep)
                   for b in ("<",)), f"{dep} has no upper bound"


def test_lock_pins_every_runtime_dependency() -> None:
    lock = {line.split("==")[0].lower() for line in
            (ROOT / "requirements.lock").read_text().splitlines()
            if "==" in line and not line.startswith("#")}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for d in project["dependencies"]:
        name = d.split(">")[0].split("<")[0].split("=")[0].split("[")[0].strip().lower()
        assert name in lock, f"{name} is not in requirements.lock"


# --- LP export -----------------------------------------------------------------------

def test_export_lp_writes_each_case_and_highs_reads_back_the_optimum(tmp_path: Path) -> None:
    import highspy

    src = wb.write(tmp_path, wb.valid_data())
    lp_dir = tmp_path / "lp"
    res = _run(["run", str(src), "-o", str(tmp_path / "r.xlsx"), "--export-lp", str(lp_dir)])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in lp_dir.iterdir()) == ["ban_covered.mps", "base.mps"]
    from planner.solve.runtime import new_highs

    for name, cost in (("base", 11_000), ("ban_covered", 16_000)):
        h = new_highs()
        assert h.readModel(str(lp_dir / f"{name}.mps")) != highspy.HighsStatus.kError
        h.run()
        assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
        assert h.getInfo().objective_function_value == pytest.approx(cost)


def test_validate_does_not_load_the_solver_stack(tmp_path: Path) -> None:
    """planner validate reads and checks the workbook without importing Pyomo or HiGHS
    (they are a large part of a small run's time)."""
    src = wb.write(tmp_path, wb.valid_data())
    code = ("import sys\nfrom planner import cli\n"
            "try:\n    cli.main(['validate', sys.argv[1]], standalone_mode=False)\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in ('pyomo', 'highspy') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code, str(src)], capture_output=True,
                         text=True, cwd=ROOT, check=True)
    assert "valid" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "[]"


# --- the user's files are safe -----------------------------------------------------------

@pytest.mark.parametrize("how", ["same", "dotted"])
def test_run_refuses_to_write_the_report_over_its_input(tmp_path: Path, how: str) -> None:
    src = wb.write(tmp_path, wb.valid_data(), "in.xlsx")
    (tmp_path / "sub").mkdir()
    out = src if how == "same" else tmp_path / "sub" / ".." / "in.xlsx"
    before = src.read_bytes()
    res = _run(["run", str(src), "-o", str(out)])
    assert res.exit_code == 2, res.output
    assert "expected an output path other than the input workbook" in res.output
    assert src.read_bytes() == before


def test_api_run_refuses_to_write_over_its_input(tmp_path: Path) -> None:
    from planner.inputs.problems import InputError

    src = wb.write(tmp_path, wb.valid_data(), "in.xlsx")
    with pytest.raises(InputError):
        api.run(src, out=src)


def test_run_json_carries_each_cause(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """planner run --json prints one JSON document: statuses, causes, exit code, report."""
    import json

    src = wb.write(tmp_path, wb.valid_data())
    out = tmp_path / "r.xlsx"
    res = _run(["run", str(src), "-o", str(out), "--json", "--no-policy"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["ok"] is True and doc["exit_code"] == 0 and doc["report"] == str(out)
    assert [(c["scenario"], c["status"], c["total_cost"]) for c in doc["cases"]] == [
        ("base", "optimal", pytest.approx(11_000)), ("ban_covered", "optimal",
                                                     pytest.approx(16_000))]
    monkeypatch.setattr(solve, "_highs", _failing_highs)
    monkeypatch.setattr(arrays, "run", _failing_highs)
    res = _run(["run", str(src), "-o", str(out), "--json", "--no-policy"])
    assert res.exit_code == 3
    doc = json.loads(res.stdout)
    assert doc["ok"] is False and doc["exit_code"] == 3
    assert "scheduler exploded" in doc["cases"][0]["cause"]


def test_report_never_rereads_the_input(tmp_path: Path) -> None:
    """The Supply risk sheet's risk scores come from the plan as loaded: the report is
    written the same after the input file is gone."""
    data = wb.valid_data()
    for c, score in zip(data["Countries"], (7.0, 2.0, 4.0), strict=True):
        c["risk_score"] = score
    src = wb.write(tmp_path, data)
    plan = api.load(src)
    results = api.solve_all(plan)
    src.rename(tmp_path / "moved.xlsx")
    out = api.write(plan, results, tmp_path / "r.xlsx")
    rows = list(load_workbook(out)["Supply risk"].iter_rows(values_only=True))
    col = rows[0].index("hhi_governance")
    assert any(r[col] not in (None, "") for r in rows[1:])
