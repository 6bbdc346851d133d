"""Mutated workbooks never crash the planner: they load, or fail with InputError.

Random valid workbooks (tests/random_workbooks.py) get one to three random
mutations: a cell set to junk (text, negative number, error value, blank, a
formula-looking id), a column or sheet removed, or a row duplicated.  Whatever
happens, ``api.load`` either returns a plan that solves, or raises
:class:`InputError` whose problems all name a sheet.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner import api
from planner.inputs.problems import InputError
from planner.inputs.template import write_workbook
from tests.random_workbooks import random_workbook

JUNK: list[Any] = ["abc", -1, "#N/A", None, " ", "=1+1", 1e308, "2027 ", True, 0, 65, "x,y"]


def mutate(d: dict[str, list[dict[str, Any]]], rng: random.Random) -> None:
    sheets = [s for s, rows in d.items() if rows]
    for _ in range(rng.randint(1, 3)):
        sheet = rng.choice(sheets)
        rows = d[sheet]
        if not rows or not rows[0]:
            continue
        what = rng.random()
        if what < 0.6:
            row = rng.choice(rows)
            if not row:
                continue
            col = rng.choice(list(row))
            row[col] = rng.choice(JUNK)
        elif what < 0.75:
            col = rng.choice(list(rows[0]))
            for row in rows:
                row.pop(col, None)
        elif what < 0.85:
            d[sheet] = []
        else:
            rows.append(dict(rng.choice(rows)))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, 10**9))
def test_mutated_workbooks_load_or_fail_cleanly(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    d = random_workbook(seed)
    mutate(d, rng)
    path = tmp_path / f"m{seed}.xlsx"
    write_workbook(path, d)
    try:
        plan = api.load(path)
    except InputError as err:
        assert err.problems
        for p in err.problems:
            assert str(p)
            assert p.sheet or p.row is None
        return
    for r in api.solve_all(plan):
        assert r.status in ("optimal", "infeasible")


def test_absurdly_large_numbers_are_refused(tmp_path: Path) -> None:
    d = random_workbook(1)
    d["Settings"] = [{"setting": "stockpile_penalty", "value": 1e308}]
    path = tmp_path / "big.xlsx"
    write_workbook(path, d)
    try:
        api.load(path)
    except InputError as err:
        assert [str(p) for p in err.problems] == [
            "Settings, row 2, column value (Settings!B2): value 1e+308: expected a "
            "non-negative number no larger than 1e+15. The solver treats numbers this large "
            "as infinite; leave the cell blank for 'unlimited' where the column allows it."]
    else:
        raise AssertionError("1e308 was accepted")


def test_number_stored_as_text_is_read_with_a_warning(tmp_path: Path) -> None:
    from tests.test_model import base

    d = base()
    d["Demand"][0]["demand"] = "100"
    path = tmp_path / "text.xlsx"
    write_workbook(path, d)
    plan = api.load(path)
    assert plan.demand[("M", 0)] == 100
    assert ("Demand!C2 (demand): the number '100' is stored as text; it was read as 100. "
            "Re-enter it as a number to be sure.") in plan.warnings


def test_misspelt_stage_column_in_routes_is_warned_about(tmp_path: Path) -> None:
    from tests.test_model import base

    d = base()
    d["Routes"] = [{"route": "R1", "mine": "FA", "seperation": "FB"},
                   {"route": "R2", "sep": "FC"}]
    path = tmp_path / "typo.xlsx"
    write_workbook(path, d, extra={"Routes": ["seperation"]})
    plan = api.load(path)
    assert plan.routes["R1"].facilities == {"mine": "FA"}
    assert ("Routes: column 'seperation' is not a stage of the Stages sheet, so the "
            "facilities in it (FB) are ignored. Rename it to the stage it stands for, or add "
            "that stage.") in plan.warnings
