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
