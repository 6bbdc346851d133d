"""Problems found in an input workbook, and the error that carries them."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from openpyxl.utils import get_column_letter


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as an analyst would look for it."""

    sheet: str
    row: int | None
    column: str | None
    value: object
    expected: str
    hint: str = ""
    col_index: int | None = None  # 1-based, when the column exists in the sheet

    @property
    def cell(self) -> str | None:
        """The Excel cell reference, e.g. ``Offers!E7``."""
        if self.row is None or self.col_index is None:
            return None
        return f"{self.sheet}!{get_column_letter(self.col_index)}{self.row}"

    def __str__(self) -> str:
        parts = [self.sheet] if self.sheet else ["workbook"]
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column:
            parts.append(f"column {self.column}")
        where = ", ".join(parts)
        if self.cell:
            where += f" ({self.cell})"
        text = where
        if self.value is not None and self.value != "":
            text += f": value {_show(self.value)}"
        text += f": expected {self.expected}."
        if self.hint:
            text += f" {self.hint}"
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "cell": self.cell,
            "value": None if self.value is None else str(self.value),
            "expected": self.expected,
            "hint": self.hint,
            "message": str(self),
        }


def _show(value: object) -> str:
    """A cell value as the analyst typed it: text quoted, numbers plain, dates as dates."""
    if isinstance(value, datetime):
        shown = (value.date().isoformat() if value.time() == datetime.min.time()
                 else value.isoformat(sep=" "))
        return f"{shown} (a date)"
    if isinstance(value, date):
        return f"{value.isoformat()} (a date)"
    return repr(value)


class InputError(Exception):
    """Raised when a workbook cannot be turned into a plan; carries every problem."""

    def __init__(self, problems: list[Problem], warnings: list[str] | None = None) -> None:
        super().__init__(f"{len(problems)} problem(s) in the input workbook")
        self.problems = problems
        #: warnings gathered before the problems stopped the load
        self.warnings = list(warnings or [])

    def __str__(self) -> str:
        """Every problem, one a line: what an uncaught error shows in a notebook."""
        lines = [f"{len(self.problems)} problem(s) in the input workbook:"]
        lines.extend(f"  - {p}" for p in self.problems)
        return "\n".join(lines)


def refuse_overwriting_input(input_path: str | Path, output_path: str | Path) -> None:
    """Raise :class:`InputError` when ``output_path`` is the input workbook itself
    (same real path, or the same file through another link): writing a report there
    would replace the input."""
    same = os.path.realpath(input_path) == os.path.realpath(output_path)
    if not same and os.path.exists(output_path):
        try:
            same = os.path.samefile(input_path, output_path)
        except OSError:
            same = False
    if same:
        raise InputError([Problem(
            "", None, None, str(output_path), "an output path other than the input workbook",
            f"{output_path} is the input workbook {input_path}: writing the report there "
            "would replace it. Give another output path (-o).")])
