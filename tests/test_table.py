"""The column-wise tidy table (planner.analysis.table): it reads like the list of row
dicts it replaces, and results hold their tables in it."""

from __future__ import annotations

import pickle

import pytest

from planner.analysis.table import Table

ROWS = [{"a": 1, "b": "x", "c": None}, {"a": 2, "b": "y", "c": 0.5},
        {"a": 3, "b": "z", "c": 1.5}]


def test_reads_like_the_list_of_dicts() -> None:
    t = Table(["a", "b", "c"], ROWS)
    assert len(t) == 3 and bool(t)
    assert list(t) == ROWS
    assert t == ROWS and ROWS == t  # noqa: SIM300 - both sides on purpose
    assert t[0] == ROWS[0] and t[-1] == ROWS[-1]
    assert t[1:] == ROWS[1:] and isinstance(t[1:], Table)
    assert t[:0] == [] and not t[:0]
    assert t.column("c") == (None, 0.5, 1.5)
    assert ROWS[1] in t and t.index(ROWS[2]) == 2
    with pytest.raises(IndexError):
        t[3]
    with pytest.raises(IndexError):
        t[-4]


def test_rows_are_copies() -> None:
    """Changing a row read from a table leaves the table as it was."""
    t = Table(["a", "b", "c"], ROWS)
    row = t[0]
    row["a"] = 99
    assert t[0]["a"] == 1


def test_columns_not_named_are_left_out_and_a_missing_one_is_an_error() -> None:
    assert Table(["b"], ROWS) == [{"b": "x"}, {"b": "y"}, {"b": "z"}]
    with pytest.raises(KeyError):
        Table(["a", "d"], ROWS)


def test_concat_with_column_and_empty() -> None:
    t = Table(["a", "b", "c"], ROWS)
    both = Table.concat(["b", "a"], [t, [{"a": 4, "b": "w", "extra": 1}], Table(["a", "b"])])
    assert both == [{"b": "x", "a": 1}, {"b": "y", "a": 2}, {"b": "z", "a": 3},
                    {"b": "w", "a": 4}]
    assert t.with_column("a", [7, 8, 9]).column("a") == (7, 8, 9)
    assert t.column("a") == (1, 2, 3)
    empty = Table(["a"])
    assert len(empty) == 0 and list(empty) == [] and empty == []
    with pytest.raises(ValueError, match="different lengths"):
        Table.of_columns({"a": [1], "b": []})


def test_pickles() -> None:
    """Results travel to and from worker processes and Dask workers."""
    t = Table(["a", "b", "c"], ROWS)
    back = pickle.loads(pickle.dumps(t))
    assert back == t and back.columns == ("a", "b", "c")


def test_a_column_of_floats_is_held_as_doubles_and_reads_back_the_same() -> None:
    from array import array

    vals = [0.1, 1e300, -2.5, float("inf"), 1 / 3]
    t = Table(["v", "w"], [{"v": v, "w": None if i == 2 else v} for i, v in enumerate(vals)])
    assert isinstance(t.column("v"), array)
    assert not isinstance(t.column("w"), array)  # a None among them: kept as it is
    assert [r["v"] for r in t] == vals and all(type(r["v"]) is float for r in t)
    assert Table.concat(["v"], [t, t]).column("v") == array("d", vals + vals)


def test_tuples_in_any_column_order() -> None:
    t = Table(["a", "b", "c"], ROWS)
    assert list(t.tuples(["c", "a", "zz"])) == [(None, 1, None), (0.5, 2, None),
                                                (1.5, 3, None)]
    assert list(Table(["a"]).tuples(["a"])) == []


def test_values_of_a_table_and_of_a_list_of_dicts_agree() -> None:
    from planner.analysis.table import values

    t = Table(["a", "b", "c"], ROWS)
    assert list(values(t, "b", "a")) == list(values(ROWS, "b", "a")) == [
        ("x", 1), ("y", 2), ("z", 3)]
    assert list(values([{"a": 1}], "a", "missing")) == [(1, None)]
