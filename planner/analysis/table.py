"""A tidy table held column by column: the rows of a case's Plan, Stock, Exposure,
Constraints and Excluded offers tables.

A run of a million flows holds hundreds of thousands of rows per case; as one dict
per row they took 0.1 GB a case (docs/benchmarks.md, section 7).  A :class:`Table`
keeps one tuple per column (8 bytes a cell, the values themselves shared) and reads
like the list of row dicts it replaces: ``len``, indexing, slicing and iteration give
each row as a new dict with the table's columns as keys.  Rows cannot be changed in
place: a table is a result, and :meth:`Table.with_column` makes a changed copy.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import chain, repeat
from operator import itemgetter
from typing import Any, overload

Row = dict[str, Any]


def _compact(values: Sequence[Any]) -> Sequence[Any]:
    """A column of floats only as an array of doubles (8 bytes a value instead of a
    24-byte float object each; read back as the same floats), else as it is.  Besides
    the bytes, it leaves no float objects of the case scattered among the freed
    objects of its solve, which would keep their memory from going back."""
    if values and set(map(type, values)) == {float}:
        return array("d", values)
    return values


class Table(Sequence[Row]):
    """Rows with the same keys (``columns``), stored as one tuple per column."""

    def __init__(self, columns: Iterable[str], rows: Iterable[Mapping[str, Any]] = ()) -> None:
        self.columns: tuple[str, ...] = tuple(columns)
        got = rows if isinstance(rows, list) else list(rows)
        self._n = len(got)
        if not got:
            self._data: tuple[Sequence[Any], ...] = tuple(() for _ in self.columns)
        elif len(self.columns) == 1:
            self._data = (tuple(r[self.columns[0]] for r in got),)
        else:
            self._data = tuple(zip(*map(itemgetter(*self.columns), got), strict=True))
        self._data = tuple(map(_compact, self._data))

    @classmethod
    def of_columns(cls, columns: Mapping[str, Sequence[Any]]) -> Table:
        """A table from its columns (equally long)."""
        out = cls(())
        out.columns = tuple(columns)
        out._data = tuple(_compact(tuple(v)) for v in columns.values())
        lengths = {len(v) for v in out._data}
        if len(lengths) > 1:
            raise ValueError(f"columns of different lengths: {sorted(lengths)}")
        out._n = lengths.pop() if lengths else 0
        return out

    @classmethod
    def concat(cls, columns: Sequence[str], tables: Iterable[Sequence[Row]]) -> Table:
        """The rows of ``tables`` one after another, with ``columns`` (each table's
        other columns are left out)."""
        parts = [t if isinstance(t, Table) else Table(columns, t) for t in tables]
        return cls.of_columns({c: tuple(chain.from_iterable(t.column(c) for t in parts))
                               for c in columns})

    def column(self, name: str) -> Sequence[Any]:
        """The values of column ``name``, in row order."""
        return self._data[self.columns.index(name)]

    def tuples(self, columns: Sequence[str]) -> Iterator[tuple[Any, ...]]:
        """Each row's values of ``columns`` (None for a column the table lacks), in row
        order, without making a dict per row (the report writer's way in)."""
        n = self._n
        return zip(*(self.column(c) if c in self.columns else repeat(None, n)
                     for c in columns), strict=True)

    def with_column(self, name: str, values: Sequence[Any]) -> Table:
        """A copy with column ``name``'s values replaced."""
        return Table.of_columns({c: values if c == name else v
                                 for c, v in zip(self.columns, self._data, strict=True)})

    def __len__(self) -> int:
        return self._n

    @overload
    def __getitem__(self, i: int) -> Row: ...

    @overload
    def __getitem__(self, i: slice) -> Table: ...

    def __getitem__(self, i: int | slice) -> Row | Table:
        if isinstance(i, slice):
            return Table.of_columns({c: v[i] for c, v in
                                     zip(self.columns, self._data, strict=True)})
        if not -self._n <= i < self._n:
            raise IndexError("table row out of range")
        return {c: v[i] for c, v in zip(self.columns, self._data, strict=True)}

    def __iter__(self) -> Iterator[Row]:
        cols = self.columns
        for values in zip(*self._data, strict=True):
            yield dict(zip(cols, values, strict=True))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Table | list):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Table({self._n} rows; {', '.join(self.columns)})"


def values(rows: Iterable[Mapping[str, Any]], *columns: str) -> Iterator[tuple[Any, ...]]:
    """Each row's values of ``columns`` (None where a row lacks one), row by row:
    straight from a :class:`Table`'s columns, else from each row mapping.  The way for
    a loop over many rows that reads a few columns (no dict is made per row)."""
    if isinstance(rows, Table):
        return rows.tuples(columns)
    return (tuple(r.get(c) for c in columns) for r in rows)
