"""Scenario sweeps: local processes and Dask give exactly the sequential results.

Hand-worked cases on ``wb.valid_data()`` (two periods of 365 days, demand
100 t each, O_CN at 50 + 10% tariff = 55 per t, O_AU at 80 per t, both
routes' facilities 1,000 t/yr):

- base: 100 t from O_CN per period, 2 x 100 x 55 = 11,000
- ban_covered: CHN banned, all from O_AU, 2 x 100 x 80 = 16,000
- demand_up (demand x 1.5): 150 t from O_CN per period, 2 x 150 x 55 = 16,500
- cn_outage (SEP_CN capacity x 0): all from O_AU, 16,000
- cn_small (SEP_CN capacity x 0.05 = 50 t/yr): 50 t at 55 + 50 t at 80 per
  period, 2 x (2,750 + 4,000) = 13,500
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import wb
from click.testing import CliRunner
from openpyxl import load_workbook

from planner.analysis.results import CaseResult
from planner.api import load, plan_from_rows
from planner.cli import main
from planner.inputs.example import example_sweep_rows
from planner.run import sweep
from planner.scenario.cases import case_names

distributed = pytest.importorskip("distributed")

EXPECTED = {"base": 11_000.0, "ban_covered": 16_000.0, "demand_up": 16_500.0,
            "cn_outage": 16_000.0, "cn_small": 13_500.0}


def _data() -> dict[str, list[dict[str, Any]]]:
    data = wb.valid_data()
    data["Scenarios"] += [
        {"scenario": "demand_up", "action": "demand", "value": 1.5},
        {"scenario": "cn_outage", "action": "capacity", "target": "SEP_CN", "value": 0},
        {"scenario": "cn_small", "action": "capacity", "target": "SEP_CN", "value": 0.05},
    ]
    return data


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A local Dask cluster in this process (one single-threaded worker, fast to start)."""
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                       dashboard_address=None)
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _tables(r: CaseResult) -> tuple[Any, ...]:
    """Everything a case reports except its wall time."""
    return (r.name, r.status, r.summary, r.plan, r.stock, r.exposure, r.constraints,
            r.explanation)


def test_hand_worked_cases_on_every_backend(tmp_path: Path, client: Any) -> None:
    plan = load(wb.write(tmp_path / "in.xlsx", _data()))
    names = case_names(plan)
    assert names == list(EXPECTED)
    for kwargs in ({}, {"workers": 2}, {"scheduler": client}):
        results = sweep.run_sweep(plan, names, **kwargs)
        assert [r.name for r in results] == names
        assert all(r.status == "optimal" for r in results)
        got = {r.name: r.total_cost for r in results}
        assert got == pytest.approx(EXPECTED, rel=1e-9), kwargs


def test_200_scenarios_identical_sequential_processes_dask(client: Any) -> None:
    plan = plan_from_rows(example_sweep_rows(200))
    names = case_names(plan)
    assert len(names) == 201
    seq = sweep.run_sweep(plan, names)
    par = sweep.run_sweep(plan, names, workers=2)
    dsk = sweep.run_sweep(plan, names, scheduler=client, chunk=25)
    assert [_tables(r) for r in par] == [_tables(r) for r in seq]
    assert [_tables(r) for r in dsk] == [_tables(r) for r in seq]
    # The sweep really varies the plan: many distinct optima.
    assert len({round(r.total_cost or 0.0) for r in seq}) > 150


def test_warm_on_identical_sequential_processes_dask(client: Any) -> None:
    """Every backend starts each scenario from the base case's basis on the shared
    model, after setting every bound and cost afresh, so all give the tables of solving
    each case alone, from that basis, in a shared model of its own (the answer does not
    depend on the order of cases or on what the instance solved before)."""
    from planner.run.batch import Batch, scenario_variants
    from planner.scenario.cases import Index

    plan = plan_from_rows(example_sweep_rows(40))
    names = case_names(plan)
    on = {"warm": "on"}
    ix = Index.build(plan)

    def fresh() -> Batch:
        return Batch(plan, scenario_variants(plan, ix, names), ix, on)

    base, start = fresh().solve("base", capture=True)
    assert start is not None
    alone = [_tables(base)] + [_tables(fresh().solve(n, start)[0]) for n in names[1:]]
    backwards = fresh()
    reverse = {n: _tables(backwards.solve(n, start)[0]) for n in reversed(names[1:])}
    seq = sweep.run_sweep(plan, names, on)
    par = sweep.run_sweep(plan, names, on, workers=2, chunk=3)
    dsk = sweep.run_sweep(plan, names, on, scheduler=client, chunk=7)
    assert [_tables(r) for r in seq] == alone
    assert [_tables(r) for r in par] == alone
    assert [_tables(r) for r in dsk] == alone
    assert [reverse[n] for n in names[1:]] == alone[1:]


def test_progress_called_in_case_order_and_bar_drawn(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]
                                                     ) -> None:
    plan = load(wb.write(tmp_path / "in.xlsx", _data()))
    seen: list[str] = []
    sweep.run_sweep(plan, case_names(plan), workers=2, chunk=1,
                    progress=lambda r: seen.append(r.name), bar=True)
    assert seen == list(EXPECTED)
    err = capsys.readouterr().err
    assert "cases" in err and "5/5" in err


def test_cli_run_with_workers_writes_the_same_report(tmp_path: Path) -> None:
    src = wb.write(tmp_path / "in.xlsx", _data())
    runner = CliRunner()
    outs = []
    for extra in ([], ["--workers", "2"]):
        out = tmp_path / f"r{len(extra)}.xlsx"
        res = runner.invoke(main, ["run", str(src), "-o", str(out), *extra])
        assert res.exit_code == 0, res.output
        ws = load_workbook(out, read_only=True)["Summary"]
        outs.append([row[:3] for row in ws.iter_rows(min_row=2, values_only=True)])
    assert outs[0] == outs[1]
    assert [(r[0], r[1]) for r in outs[0]] == [(n, "optimal") for n in EXPECTED]
    assert [r[2] for r in outs[0]] == pytest.approx(list(EXPECTED.values()))


def test_cli_unreachable_scheduler_is_a_clear_error(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from planner.run import engine

    monkeypatch.setattr(engine, "CONNECT_TIMEOUT", 1.0)
    src = wb.write(tmp_path / "in.xlsx", _data())
    res = CliRunner().invoke(main, ["run", str(src), "-o", str(tmp_path / "r.xlsx"),
                                    "--dask-scheduler", "tcp://127.0.0.1:9"])
    assert res.exit_code == 2
    assert "Cannot reach the Dask scheduler tcp://127.0.0.1:9" in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "r.xlsx").exists()
