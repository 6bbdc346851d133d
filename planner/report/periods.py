"""Period labels in report tables: whole-number labels (2027) as numbers, so filters
and pivots sort them; other labels (2027-H1) as text."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from planner.analysis.table import Table
from planner.inputs.data import PlanData

_WHOLE = re.compile(r"-?(?:0|[1-9][0-9]{0,14})")


def period_value(label: str) -> str | int:
    """A period label as a cell value: a whole number (2027) as a number, so filters and
    pivots sort it as one; any other label (2027-H1, 01) stays text."""
    return int(label) if _WHOLE.fullmatch(label) else label


def number_periods(plan: PlanData, rows: Sequence[dict[str, Any]]
                   ) -> Sequence[dict[str, Any]]:
    """``rows`` with their ``period`` written by :func:`period_value` (copies; the rows
    themselves keep the text labels the rest of the planner works with)."""
    values = {p.label: period_value(p.label) for p in plan.periods}
    if all(isinstance(v, str) for v in values.values()) or not rows \
            or "period" not in rows[0]:
        return rows
    if isinstance(rows, Table):
        return rows.with_column("period", [values.get(p, p) for p in rows.column("period")])
    return [{**r, "period": values.get(r["period"], r["period"])} for r in rows]
