"""Supply-risk metrics on every plan, and the resilience inputs they read.

Country concentration per material x stage x period is defined once, in
:mod:`planner.analysis.concentration`: shares of all purchases of the material in the
period (as caps count them), HHI on the 0-10,000 scale.

The governance-weighted variant follows the EU criticality methodology's
HHI_WGI (sum of squared shares, 0-1, x the country's governance score): with the
optional ``risk_score`` column of Countries on the EU's scaled-WGI 0-10 scale,
it equals the score of the single supplier when one country supplies
everything.  A country without a score counts with the highest score given
(unknown governance is not treated as good governance), and the Notes say so.

The inputs read here (``Countries.risk_score`` and the ``Risks`` sheet) are
optional extras of the contract; they are parsed with the validator's own
cell parsers, so a bad cell is reported like any other input problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl import load_workbook

from planner.analysis.concentration import HHI_LABEL, concentrations
from planner.inputs.data import PlanData
from planner.inputs.excel import RawTable, is_blank
from planner.inputs.problems import InputError, Problem
from planner.inputs.schema import COUNTRIES, RISKS, norm_name
from planner.inputs.validate import BAD, Validator, _suggest
from planner.scenario.cases import target_facilities

if TYPE_CHECKING:
    from planner.analysis.results import CaseResult

HHI_COLUMNS = ["scenario", "material", "stage", "period", "purchases", "through_stage",
               "countries", "top_country", "top_share", "hhi", "hhi_governance"]
#: headers that differ from the row keys: the one HHI label
HHI_HEADERS = {"hhi": HHI_LABEL}


@dataclass(frozen=True)
class Risk:
    """One row of the Risks sheet, its target resolved to facilities."""

    id: str
    target: str
    stage: str | None
    probability: float
    duration: int
    factor: float
    facilities: tuple[str, ...]
    basis: str = ""
    row: int = 0


@dataclass
class RiskInputs:
    """Country risk scores (only those given) and the disruption risks."""

    scores: dict[str, float] = field(default_factory=dict)
    #: problems found when not strict (the scores and risks above are the good rows)
    problems: list[Problem] = field(default_factory=list)
    risks: list[Risk] = field(default_factory=list)


def _read_sheets(path: Path, names: Sequence[str]) -> dict[str, RawTable]:
    """Only the named sheets, as raw tables (values only: the main load has already
    reported formulas without a saved result), so large Demand sheets are not re-read."""
    wanted = {norm_name(n) for n in names}
    wb = load_workbook(path, data_only=True, read_only=True)
    try:
        out: dict[str, RawTable] = {}
        for ws in wb.worksheets:
            key = norm_name(ws.title)
            if key not in wanted or key in out:
                continue
            ws.reset_dimensions()  # type: ignore[union-attr]
            rows = ws.iter_rows(values_only=True)
            header = next(rows, ())
            columns: dict[str, int] = {}
            for i, h in enumerate(header):
                if norm_name(h) and norm_name(h) not in columns:
                    columns[norm_name(h)] = i
            table = RawTable(ws.title, columns, ["" if h is None else str(h) for h in header])
            for r, values in enumerate(rows, start=2):
                if not all(is_blank(v) for v in values):
                    table.rows.append((r, tuple(values)))
            out[key] = table
        return out
    finally:
        wb.close()


def read_risk_inputs(plan: PlanData, path: str | Path | None = None,
                     strict: bool = True) -> RiskInputs:
    """Parse ``Countries.risk_score`` and the Risks sheet; raise InputError listing every
    bad cell (``strict``), or keep what parsed and list the problems in ``problems``.

    The sheets come from the plan as it was loaded (``plan.risk_tables``); the file is
    read only when ``path`` names another workbook or the plan was not loaded from one.
    """
    source = Path(path or plan.source)
    if path is None and plan.risk_tables:
        tables = plan.risk_tables
    elif not source.is_file():
        return RiskInputs()
    else:
        try:
            tables = _read_sheets(source, (COUNTRIES.name, RISKS.name))
        except Exception as exc:  # noqa: BLE001 - an unreadable file is bad input
            raise InputError([Problem("", None, None, str(source),
                                      "a readable Excel workbook",
                                      f"The file could not be read: {exc}.")]) from exc
    v = Validator(tables, str(source))
    v.period_ix = plan.period_index()
    v.stage_ids = list(plan.stages)
    out = RiskInputs()
    for r in v.rows(COUNTRIES):
        code, score = r["country"], r["risk_score"]
        if code in plan.countries and score not in (None, BAD):
            out.scores[code] = float(score)
    groups = plan.groups()
    known = set(plan.facilities) | set(plan.countries) | set(groups) | plan.companies()
    seen: dict[str, int] = {}
    for r in v.rows(RISKS):
        rid, target, stage = r["risk"], r["target"], r["stage"]
        prob, dur, factor, basis = (r["probability"], r["duration"], r["capacity_factor"],
                                    r["basis"])
        ok = v.unique(r, "risk", rid, seen)
        if target not in (None, BAD) and target not in known:
            r.problem("target", target, "a facility id, country code, group tag or company",
                      _suggest(target, known, "target"))
            ok = False
        ok &= stage is None or v.ref(r, "stage", stage, set(plan.stages), "stage")
        if dur not in (None, BAD) and (dur < 1 or dur != int(dur)):
            r.problem("duration", dur, "a whole number of periods, at least 1")
            ok = False
        if not ok or BAD in (target, prob, dur, factor, basis) or target is None:
            continue
        fids = [f for f in target_facilities(plan, target, groups)
                if stage is None or plan.facilities[f].stage == stage]
        if not fids:
            r.problem("stage" if stage else "target", stage or target,
                      "a target with at least one facility" + (f" at stage {stage}"
                                                               if stage else ""),
                      "The risk would disrupt nothing.")
            continue
        out.risks.append(Risk(rid, target, stage, float(prob), int(dur or 1),
                              float(0.0 if factor is None else factor), tuple(fids),
                              basis or "", r.row))
    if v.problems and strict:
        raise InputError(v.problems)
    out.problems = list(v.problems)
    return out


def hhi_rows(plan: PlanData, results: Sequence[CaseResult],
             scores: dict[str, float] | None = None) -> list[dict[str, Any]]:
    """Concentration (:mod:`planner.analysis.concentration`) and its governance-weighted variant
    per scenario x material x stage x period; ``hhi`` is on the 0-10,000 scale."""
    scores = scores or {}
    worst = max(scores.values(), default=None)
    out: list[dict[str, Any]] = []
    for r in results:
        for c in concentrations(r.exposure, r.stock):
            out.append({"scenario": r.name, "material": c.material, "stage": c.stage,
                        "period": c.period, "purchases": c.purchases,
                        "through_stage": c.through_stage, "countries": len(c.volumes),
                        "top_country": c.top_country, "top_share": c.top_share,
                        "hhi": c.hhi,
                        "hhi_governance": None if worst is None else c.weighted(scores, worst)})
    return out


def unscored(plan: PlanData, scores: dict[str, float]) -> list[str]:
    """Countries without a risk score, when some country has one."""
    if not scores:
        return []
    return sorted(c for c in plan.countries if c not in scores)
