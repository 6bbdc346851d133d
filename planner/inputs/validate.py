"""Turn raw tables into :class:`PlanData`, reporting every problem at once.

Each cell is parsed by the kind its schema column declares; references are
then checked across sheets.  Nothing here raises on bad input: problems are
collected and :func:`load_plan` raises one :class:`InputError` carrying all
of them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from planner.inputs import data as d
from planner.inputs.excel import RawTable, is_blank, no_cache, read_workbook
from planner.inputs.problems import InputError, Problem
from planner.inputs.schema import (
    CAPS,
    COUNTRIES,
    DEMAND,
    FACILITIES,
    MATERIALS,
    OFFERS,
    PERIODS,
    PROBABILITIES,
    RISKS,
    ROUTES,
    RULES,
    SCENARIOS,
    SETTING_KEYS,
    SETTINGS,
    SHEETS,
    STAGES,
    STOCKPILE,
    TARIFFS,
    Column,
    Sheet,
    norm_name,
)

EXCEL_ERRORS = {"#N/A", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!",
                "#GETTING_DATA", "#SPILL!", "#CALC!"}


#: the Probabilities sheet must sum to 1 within this
PROBABILITY_TOL = 1e-6
#: the Settings of planner hedge, validated by :meth:`Validator.hedge_setting`
HEDGE_SETTINGS = ("commit_through", "risk_weight", "cvar_level")

#: Larger numbers are refused: HiGHS reads 1e20 and above as infinite.
MAX_NUMBER = 1e15


class _Bad:
    """Marker for a cell that failed to parse (its problem is already recorded)."""


BAD = _Bad()


def label(v: Any) -> str | None:
    """Normalise a period label or id: 2027, 2027.0 and "2027" are all "2027"."""
    if is_blank(v):
        return None
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, datetime):
        return v.date().isoformat() if v.time() == datetime.min.time() else v.isoformat()
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


class _Row:
    """A data row being parsed, bound to its table and to the problem list."""

    def __init__(self, v: Validator, sheet: Sheet, table: RawTable, excel_row: int,
                 values: tuple[Any, ...]) -> None:
        self.v, self.sheet, self.table, self.row, self.values = v, sheet, table, excel_row, values

    def raw(self, column: str) -> Any:
        return self.table.get(self.values, column)

    def cell(self, column: str) -> str:
        """The cell reference (e.g. E7) of ``column`` in this row."""
        from openpyxl.utils import get_column_letter

        j = self.table.col_index(column)
        return f"{get_column_letter(j)}{self.row}" if j else f"row {self.row}"

    def problem(self, column: str, value: Any, expected: str, hint: str = "") -> None:
        self.v.problems.append(Problem(self.table.title, self.row, column, value, expected,
                                       hint, self.table.col_index(column)))

    def __getitem__(self, column: str) -> Any:
        """The parsed value of a schema column: None when blank, BAD when invalid."""
        col = self.sheet.fields[column]
        if col.required and self.table.col_index(column) is None:
            return BAD  # the missing column is reported once, by check_shape
        raw = self.raw(column)
        if no_cache(raw):
            return BAD
        if is_blank(raw):
            if col.cell_required:
                self.problem(column, None, f"a value ({col.help.rstrip('.')})",
                             "This cell must not be blank.")
                return BAD
            return col.default
        if isinstance(raw, str) and raw.strip() in EXCEL_ERRORS:
            self.problem(column, raw, _expect(col), "The cell holds an Excel error value; "
                         "fix the formula or type the value.")
            return BAD
        return _PARSERS[col.kind](self, col, raw)


def _expect(col: Column) -> str:
    return {
        "number": "a non-negative number" + (f" in {col.unit}" if col.unit else ""),
        "share": "a share between 0 and 1 (65% is 0.65)",
        "rate": "a non-negative number",
        "bool": "TRUE or FALSE",
        "choice": "one of " + ", ".join(col.choices),
    }.get(col.kind, "text")


def _number(r: _Row, col: Column, raw: Any) -> Any:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        # A number stored as text ("100", as CSV imports leave it) is still that
        # number (docs/decisions.md); anything else is not a number.
        try:
            num = float(raw.strip()) if isinstance(raw, str) else math.nan
        except ValueError:
            num = math.nan
        if not math.isfinite(num):
            r.problem(col.name, raw, _expect(col), _text_number_hint(raw))
            return BAD
        x = num
        r.v.warnings.append(
            f"{r.table.title}!{r.cell(col.name)} ({col.name}): the number {raw!r} is stored "
            f"as text; it was read as {num:g}. Re-enter it as a number to be sure.")
    else:
        x = float(raw)
    if not math.isfinite(x) or x < 0:
        r.problem(col.name, raw, _expect(col))
        return BAD
    if x > MAX_NUMBER:
        r.problem(col.name, raw, f"{_expect(col)} no larger than {MAX_NUMBER:g}",
                  "The solver treats numbers this large as infinite; leave the cell blank "
                  "for 'unlimited' where the column allows it.")
        return BAD
    if col.kind == "share" and x > 1:
        hint = (f"Did you mean {x:g}% ({x / 100:g})?" if x <= 100
                else "Shares are fractions: 65% is 0.65.")
        r.problem(col.name, raw, _expect(col), hint)
        return BAD
    return x


#: "750,000", "1 200", "65%" and "12.5 %": numbers an analyst typed as text
_GROUPED = re.compile(r"^[+-]?\d{1,3}([,\s\u00a0\u202f']\d{3})+(\.\d+)?$")
_PERCENT = re.compile(r"^[+-]?\d+(\.\d+)?\s*%$")


def _text_number_hint(raw: Any) -> str:
    """How to type a number the cell holds as text, when it looks like one."""
    if not isinstance(raw, str):
        return ""
    text = raw.strip()
    if _GROUPED.match(text):
        digits = re.sub(r"[,\s\u00a0\u202f']", "", text)
        return (f"The cell holds the text {text!r}: type the number {digits} as a number "
                "(without thousands separators, or in a cell formatted as a number).")
    if _PERCENT.match(text):
        value = float(text.rstrip("%").strip()) / 100
        return (f"The cell holds the text {text!r}: type {value:g} (or {text} in a cell "
                "formatted as a percentage).")
    return ""


def _bool(r: _Row, col: Column, raw: Any) -> Any:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, (int, float)) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        s = raw.strip().casefold()
        if s in ("true", "yes", "y", "1"):
            return True
        if s in ("false", "no", "n", "0"):
            return False
    r.problem(col.name, raw, _expect(col))
    return BAD


def _choice(r: _Row, col: Column, raw: Any) -> Any:
    s = str(raw).strip().casefold()
    if s in col.choices:
        return s
    r.problem(col.name, raw, _expect(col))
    return BAD


def _id(r: _Row, col: Column, raw: Any) -> Any:
    return label(raw)


def _text(r: _Row, col: Column, raw: Any) -> Any:
    return str(raw).strip()


def _tags(r: _Row, col: Column, raw: Any) -> Any:
    return tuple(t.strip() for t in str(raw).split(",") if t.strip())


_PARSERS: dict[str, Callable[[_Row, Column, Any], Any]] = {
    "number": _number, "share": _number, "rate": _number, "bool": _bool,
    "choice": _choice, "id": _id, "label": _id, "text": _text, "tags": _tags,
}


def _suggest(value: str, known: list[str] | set[str] | dict[str, Any], what: str) -> str:
    """A hint for a reference that names nothing: case slips and stray spaces."""
    names = sorted(known) if isinstance(known, set) else list(known)
    if value.strip() in names and value.strip() != value:
        return f"Remove the surrounding spaces: {value.strip()!r}."
    spaced = [n for n in names if isinstance(n, str) and n.strip() == value.strip()]
    if spaced:
        return (f"The {what} is written {spaced[0]!r}, with surrounding spaces, where it is "
                "defined: remove them there.")
    folded = [n for n in names if n.casefold() == value.strip().casefold()]
    if folded:
        return f"Ids are case-sensitive: did you mean {folded[0]!r}?"
    if len(names) <= 12 and names:
        return f"Known {what}: " + ", ".join(map(str, names)) + "."
    return f"Add it to the {what} sheet or fix the spelling."


def _near_headers(table: RawTable, sheet: Sheet) -> dict[str, tuple[str, int, str]]:
    """Schema column -> (header as written, 1-based column, cell) for headers that are
    the column's name plus a unit or note, e.g. ``unit_cost (USD/t)`` or ``Unit Cost``."""
    from openpyxl.utils import get_column_letter

    wanted = {norm_name(c.name): c.name for c in sheet.columns}
    out: dict[str, tuple[str, int, str]] = {}
    for j, header in enumerate(table.headers):
        if not isinstance(header, str) or norm_name(header) in wanted:
            continue
        bare = re.sub(r"[\(\[].*?[\)\]]", "", header)
        bare = re.sub(r"[\s\-]+", "_", bare.strip()).strip("_")
        name = wanted.get(norm_name(bare))
        if name and name not in out and norm_name(name) not in table.columns:
            out[name] = (header, j + 1, f"{get_column_letter(j + 1)}1")
    return out


class Validator:
    """Collects problems while building :class:`PlanData` from raw tables."""

    def __init__(self, tables: dict[str, RawTable], source: str) -> None:
        self.tables = tables
        self.source = source
        self.problems: list[Problem] = []
        self.warnings: list[str] = []
        self.period_ix: dict[str, int] = {}
        self.stage_ids: list[str] = []
        #: sheets that are missing or lack their id column (reported once by check_shape);
        #: references into them are not reported again on every row
        self.absent: set[str] = set()

    # --- helpers ------------------------------------------------------------
    def declared(self, sheet: Sheet, column: str) -> set[str]:
        """Every id written in ``column`` of ``sheet``, whether or not its row is valid.

        References are checked against these, so a row with a problem of its own
        (reported once, on that row) does not turn every reference to it into another.
        """
        table = self.tables.get(norm_name(sheet.name))
        if table is None:
            return set()
        out: set[str] = set()
        for _, values in table.rows:
            v = table.get(values, column)
            if not no_cache(v) and not is_blank(v):
                out.add(str(label(v)))
        return out

    def rows(self, sheet: Sheet, extra: list[str] | None = None) -> Iterator[_Row]:
        table = self.tables.get(norm_name(sheet.name))
        if table is None:
            return
        known = [c.name for c in sheet.columns] + (extra or [])
        for excel_row, values in table.rows:
            if all(is_blank(table.get(values, c)) for c in known):
                continue
            yield _Row(self, sheet, table, excel_row, values)

    def check_shape(self) -> None:
        for sheet in SHEETS:
            table = self.tables.get(norm_name(sheet.name))
            if table is None or (sheet.key and norm_name(sheet.key) not in table.columns):
                self.absent.add(sheet.name)
            if table is None:
                if sheet.required:
                    self.problems.append(Problem(
                        sheet.name, None, None, None, f"a sheet named {sheet.name}",
                        f"Add the sheet '{sheet.name}' ({sheet.purpose.rstrip('.')})."))
                continue
            near = _near_headers(table, sheet)
            for col in sheet.columns:
                if norm_name(col.name) in table.columns:
                    continue
                if col.required:
                    hint = f"Add the column '{col.name}' ({col.help.rstrip('.')})."
                    if col.name in near:
                        hint = (f"Rename the header {near[col.name][0]!r} to {col.name!r}: "
                                "headers must match exactly (units belong in the help, not "
                                "in the header).")
                    self.problems.append(Problem(
                        table.title, 1, col.name, near.get(col.name, (None,))[0],
                        f"a column headed {col.name} in row 1", hint,
                        near.get(col.name, (None, None))[1]))
                elif col.name in near:
                    self.warnings.append(
                        f"{table.title}!{near[col.name][2]}: the header {near[col.name][0]!r} "
                        f"is not the column {col.name!r}, so the column is ignored (unknown "
                        f"columns are notes). Rename it to {col.name!r} if it holds "
                        f"{col.name}.")

    def unique(self, r: _Row, column: str, value: Any, seen: dict[str, int]) -> bool:
        if value is None or value is BAD:
            return False
        if value in seen:
            r.problem(column, value, f"a unique {column} id",
                      f"It is already used in row {seen[value]}.")
            return False
        seen[value] = r.row
        return True

    def ref(self, r: _Row, column: str, value: Any, known: dict[str, Any] | set[str],
            what: str) -> bool:
        """Check that ``value`` names a known id; record a problem if not."""
        if value is None or value is BAD:
            return False
        if value in known:
            return True
        sheet = {"material": "Materials", "country": "Countries", "stage": "Stages",
                 "route": "Routes", "facility": "Facilities"}.get(what, what.capitalize())
        if sheet in self.absent:
            return False
        r.problem(column, value, f"a {what} id from the {sheet} sheet",
                  _suggest(value, known, what))
        return False

    def period(self, r: _Row, column: str) -> int | None | _Bad:
        value = r[column]
        if value is None or value is BAD:
            return value
        if value in self.period_ix:
            return self.period_ix[value]
        if PERIODS.name in self.absent:
            return BAD
        labels = list(self.period_ix)
        hint = (f"The horizon runs {labels[0]} to {labels[-1]}."
                if labels else "The Periods sheet has no periods.")
        if value.strip() in self.period_ix:
            hint = f"Remove the surrounding spaces: {value.strip()!r}."
        r.problem(column, r.raw(column), "a period label from the Periods sheet", hint)
        return BAD

    def window(self, r: _Row) -> d.Window | None:
        lo = self.period(r, "from_period")
        hi = self.period(r, "to_period")
        if lo is BAD or hi is BAD:
            return None
        first = 0 if lo is None else lo
        last = len(self.period_ix) - 1 if hi is None else hi
        assert isinstance(first, int) and isinstance(last, int)
        if first > last and lo is not None and hi is not None:
            r.problem("to_period", r.raw("to_period"), "a period not before from_period",
                      "The window is reversed: swap from_period and to_period.")
            return None
        # With an open end a window can only be empty when there are no periods at all.
        return (first, last)

    # --- sheets -------------------------------------------------------------
    def periods(self) -> list[d.Period]:
        out: list[d.Period] = []
        seen: dict[str, int] = {}
        dated = False
        for r in self.rows(PERIODS):
            raw = r.raw("period")
            if isinstance(raw, (datetime, date)):
                r.problem("period", raw, "a period label such as 2027 or 2027-Q1 (text or a "
                          "whole number), not a date",
                          "Excel turned the label into a date: format the column as Text "
                          "and type the label again.")
                dated = True
                continue
            lab, days = r["period"], r["days"]
            if days is not BAD and days is not None and days <= 0:
                r.problem("days", r.raw("days"), "a positive number of days",
                          "A period must last at least one day.")
                days = BAD
            if self.unique(r, "period", lab, seen) and days is not BAD:
                out.append(d.Period(lab, float(days)))
        # Every label, in sheet order (also those with a bad days value, already
        # reported), so windows keep their order and references are not reported twice.
        self.period_ix = {lab: i for i, lab in enumerate(seen)}
        if dated:
            # References to periods are not checked against a horizon known to be wrong:
            # one problem per dated label, not one per row of every sheet.
            self.absent.add(PERIODS.name)
        return out

    def materials(self) -> dict[str, d.Material]:
        out: dict[str, d.Material] = {}
        seen: dict[str, int] = {}
        for r in self.rows(MATERIALS):
            vals = [r[c] for c in ("material", "description", "holding_cost",
                                   "shortage_penalty", "initial_stock", "end_value")]
            if self.unique(r, "material", vals[0], seen) and BAD not in vals:
                out[vals[0]] = d.Material(vals[0], vals[1] or "", vals[2], vals[3], vals[4],
                                          r.row, end_value=vals[5])
        return out

    def countries(self) -> dict[str, d.Country]:
        out: dict[str, d.Country] = {}
        seen: dict[str, int] = {}
        rows: list[tuple[_Row, tuple[str, ...]]] = []
        for r in self.rows(COUNTRIES):
            code, name, groups = r["country"], r["name"], r["groups"]
            if self.unique(r, "country", code, seen) and BAD not in (name, groups):
                out[code] = d.Country(code, name or "", groups or (), r.row)
                rows.append((r, groups or ()))
        for r, groups in rows:
            for g in groups:
                if g in seen:
                    r.problem("groups", g, "a group tag that is not also a country code",
                              f"Rename the tag: {g!r} is the country code in row {seen[g]}.")
        return out

    def stages(self) -> list[str]:
        seen: dict[str, int] = {}
        for r in self.rows(STAGES):
            self.unique(r, "stage", r["stage"], seen)
        self.stage_ids = list(seen)
        return self.stage_ids

    def facilities(self, countries: set[str], tags: set[str]) -> dict[str, d.Facility]:
        out: dict[str, d.Facility] = {}
        seen: dict[str, int] = {}
        for r in self.rows(FACILITIES):
            fid = r["facility"]
            ok = self.unique(r, "facility", fid, seen)
            country = r["country"]
            if country in tags:
                r.problem("country", country, "a country code from the Countries sheet",
                          f"{country!r} is a group tag; a facility lies in one country.")
                ok = False
            else:
                ok &= self.ref(r, "country", country, countries, "country")
            ok &= self.ref(r, "stage", r["stage"], set(self.stage_ids), "stage")
            win = self.window(r)
            vals = (r["name"], r["company"], r["capacity"])
            if ok and win is not None and BAD not in vals:
                out[fid] = d.Facility(fid, vals[0] or "", vals[1], country, r["stage"], vals[2],
                                      win, r.row)
        return out

    def routes(self, facilities: dict[str, d.Facility], all_facilities: set[str]
               ) -> dict[str, d.Route]:
        out: dict[str, d.Route] = {}
        seen: dict[str, int] = {}
        table = self.tables.get(norm_name(ROUTES.name))
        stage_cols = [s for s in self.stage_ids
                      if table is not None and norm_name(s) in table.columns]
        if table is not None:
            self._warn_stray_route_columns(table, all_facilities)
        for r in self.rows(ROUTES, extra=stage_cols):
            rid = r["route"]
            ok = self.unique(r, "route", rid, seen)
            chain: dict[str, str] = {}
            for stage in stage_cols:
                raw = r.raw(stage)
                if no_cache(raw):  # already reported by the loader
                    ok = False
                    continue
                fid = label(raw)
                if fid is None:
                    continue
                if fid.strip() in EXCEL_ERRORS:
                    r.problem(stage, raw, "a facility id from the Facilities sheet",
                              "The cell holds an Excel error value; fix the formula or type "
                              "the value.")
                    ok = False
                elif fid not in all_facilities:
                    if FACILITIES.name not in self.absent:
                        r.problem(stage, fid, "a facility id from the Facilities sheet",
                                  _suggest(fid, all_facilities, "facility"))
                    ok = False
                elif fid in facilities and facilities[fid].stage != stage:
                    r.problem(stage, fid, f"a facility whose stage is {stage}",
                              f"{fid!r} is a {facilities[fid].stage} facility: move it to the "
                              f"{facilities[fid].stage} column.")
                    ok = False
                else:
                    chain[stage] = fid
            if not chain and ok:
                if STAGES.name not in self.absent:
                    r.problem("route", rid, "at least one facility in the stage columns "
                              + ", ".join(self.stage_ids), "A route needs a facility.")
                ok = False
            if ok and rid is not None and all(f in facilities for f in chain.values()):
                out[rid] = d.Route(rid, chain, r.row)
        return out

    def _warn_stray_route_columns(self, table: RawTable, all_facilities: set[str]) -> None:
        """A Routes column that is no stage but holds facility ids is probably a misspelt
        stage: its cells are ignored (unknown columns are notes), so say so."""
        known = {norm_name(s) for s in self.stage_ids} | {"route"}
        for name, j in table.columns.items():
            if name in known:
                continue
            ids = {str(label(v[j])) for _, v in table.rows if j < len(v)} & all_facilities
            if ids:
                self.warnings.append(
                    f"Routes: column {table.headers[j]!r} is not a stage of the Stages sheet, "
                    f"so the facilities in it ({', '.join(sorted(ids))}) are ignored. "
                    "Rename it to the stage it stands for, or add that stage.")

    def offers(self, materials: set[str], routes: set[str]) -> dict[str, d.Offer]:
        out: dict[str, d.Offer] = {}
        seen: dict[str, int] = {}
        for r in self.rows(OFFERS):
            oid = r["offer"]
            ok = self.unique(r, "offer", oid, seen)
            ok &= self.ref(r, "material", r["material"], materials, "material")
            ok &= self.ref(r, "route", r["route"], routes, "route")
            cost, lo, hi, sup = r["unit_cost"], r["min_volume"], r["max_volume"], r["supplier"]
            if lo not in (None, BAD) and hi not in (None, BAD) and lo > hi:
                r.problem("min_volume", r.raw("min_volume"), f"at most max_volume ({hi:g})",
                          "min_volume is above max_volume.")
                ok = False
            win, top = self.window(r), r["take_or_pay"]
            if ok and win is not None and BAD not in (cost, lo, hi, sup, top):
                out[oid] = d.Offer(oid, sup, r["material"], r["route"], cost, lo, hi, win, r.row,
                                   take_or_pay=top)
        return out

    def country_or_tag(self, r: _Row, column: str, value: Any, countries: set[str],
                       tags: set[str]) -> bool:
        if value is None or value is BAD:
            return value is None
        if value in countries or value in tags:
            return True
        if COUNTRIES.name in self.absent:
            return False
        r.problem(column, value, "a country code or group tag from the Countries sheet",
                  _suggest(value, countries | tags, "country"))
        return False

    def tariffs(self, materials: set[str], countries: set[str], tags: set[str]
                ) -> list[d.Tariff]:
        out: list[d.Tariff] = []
        for r in self.rows(TARIFFS):
            ok = self.country_or_tag(r, "country", r["country"], countries, tags)
            mat = r["material"]
            ok &= mat is None or self.ref(r, "material", mat, materials, "material")
            rate, win = r["rate"], self.window(r)
            if ok and win is not None and rate is not BAD and r["country"] is not BAD:
                out.append(d.Tariff(r["country"], mat, rate, win, r.row))
        return out

    def scoped(self, r: _Row, key: str, seen: dict[str, int], materials: set[str],
               countries: set[str], tags: set[str]) -> bool:
        """A rule's or cap's id is unique and its scope (country or tag, stage,
        material; each blank for 'any') names things that exist."""
        ok = self.unique(r, key, r[key], seen)
        ok &= self.country_or_tag(r, "country", r["country"], countries, tags)
        stage, mat = r["stage"], r["material"]
        ok &= stage is None or self.ref(r, "stage", stage, set(self.stage_ids), "stage")
        ok &= mat is None or self.ref(r, "material", mat, materials, "material")
        return ok

    def rules(self, materials: set[str], countries: set[str], tags: set[str]
              ) -> dict[str, d.Rule]:
        out: dict[str, d.Rule] = {}
        seen: dict[str, int] = {}
        for r in self.rows(RULES):
            rid, kind, country, company = r["rule"], r["kind"], r["country"], r["company"]
            stage, mat, limit = r["stage"], r["material"], r["limit"]
            ok = self.scoped(r, "rule", seen, materials, countries, tags)
            if country is None and company is None:
                r.problem("country", None, "a country or tag, or a company (or both)",
                          "A rule must say whose supply it restricts.")
                ok = False
            if kind == "quota" and limit is None:
                r.problem("limit", None, "a quota limit in t/yr (0 bans by volume)",
                          "A quota needs a limit.")
                ok = False
            active, basis, win = r["active"], r["basis"], self.window(r)
            applies = r["applies_to"]
            if ok and win is not None and BAD not in (kind, company, limit, active, basis,
                                                     applies):
                out[rid] = d.Rule(rid, kind, country, company, stage, mat, limit, win,
                                  bool(active), basis or "", r.row, applies or "purchase")
        return out

    def caps(self, materials: set[str], countries: set[str], tags: set[str]
             ) -> dict[str, d.Cap]:
        out: dict[str, d.Cap] = {}
        seen: dict[str, int] = {}
        for r in self.rows(CAPS):
            cid, mat, stage, country = r["cap"], r["material"], r["stage"], r["country"]
            ok = self.scoped(r, "cap", seen, materials, countries, tags)
            hi, lo, active, basis = r["max_share"], r["min_share"], r["active"], r["basis"]
            win, applies = self.window(r), r["applies_to"]
            if ok and win is not None and BAD not in (hi, lo, active, basis, applies):
                out[cid] = d.Cap(cid, mat, stage, country, hi, lo, win, bool(active),
                                 basis or "", r.row, applies or "purchase")
                if hi is None and lo is None:
                    self.warnings.append(f"Caps row {r.row}: cap {cid!r} sets neither "
                                         "max_share nor min_share and has no effect.")
        return out

    def demand(self, materials: set[str]) -> dict[tuple[str, int], float]:
        out: dict[tuple[str, int], float] = {}
        seen: dict[tuple[str, str], int] = {}
        for r in self.rows(DEMAND):
            mat, qty = r["material"], r["demand"]
            ok = self.ref(r, "material", mat, materials, "material")
            t = self.period(r, "period")
            if t is None or t is BAD or not ok or qty is BAD:
                continue
            assert isinstance(t, int)
            key = (mat, self.periods_labels[t])
            if key in seen:
                r.problem("period", r.raw("period"), "one Demand row per material and period",
                          f"{mat!r} in {key[1]} is already given in row {seen[key]}.")
                continue
            seen[key] = r.row
            out[(mat, t)] = qty or 0.0
        return out

    def stockpile(self, materials: set[str]) -> list[d.StockpileRow]:
        out: list[d.StockpileRow] = []
        for r in self.rows(STOCKPILE):
            mat = r["material"]
            ok = self.ref(r, "material", mat, materials, "material")
            vals = (r["min_days"], r["min_tonnes"], r["max_tonnes"])
            win = self.window(r)
            if not ok or win is None or BAD in vals:
                continue
            for other in out:
                if other.material == mat and other.window[0] <= win[1] \
                        and win[0] <= other.window[1]:
                    r.problem("from_period", r.raw("from_period"),
                              "a window that does not overlap another row of the material",
                              f"Row {other.row} already sets {mat!r}'s stockpile for "
                              f"{self.periods_labels[max(win[0], other.window[0])]}.")
                    ok = False
                    break
            if ok:
                out.append(d.StockpileRow(mat, win, vals[0] or 0.0, vals[1] or 0.0, vals[2],
                                          r.row))
        return out

    def scenarios(self, materials: set[str], countries: set[str], tags: set[str],
                  rules: set[str], caps: set[str], facilities: set[str], offers: set[str],
                  companies: set[str]) -> dict[str, list[d.ScenarioRow]]:
        out: dict[str, list[d.ScenarioRow]] = {}
        where = {
            "rule_on": (rules, "a rule id from the Rules sheet"),
            "rule_off": (rules, "a rule id from the Rules sheet"),
            "cap_on": (caps, "a cap id from the Caps sheet"),
            "cap_off": (caps, "a cap id from the Caps sheet"),
            "capacity": (facilities | countries | tags | companies,
                         "a facility id, country code, group tag or company"),
            "cost": (offers | countries | tags | companies,
                     "an offer id, country code, group tag or company"),
            "demand": (materials, "a material id, or blank for all materials"),
        }
        for r in self.rows(SCENARIOS):
            name, action, target, mat, value = (r["scenario"], r["action"], r["target"],
                                                r["material"], r["value"])
            ok = name is not BAD and action is not BAD and target is not BAD
            if name == "base":
                r.problem("scenario", name, "a scenario name other than 'base'",
                          "'base' names the base case in the report; rename the scenario.")
                ok = False
            if action in where:
                known, expected = where[action]
                if target is None and action != "demand":
                    r.problem("target", None, expected, f"A {action} row needs a target.")
                    ok = False
                elif target is not None and target is not BAD and target not in known:
                    r.problem("target", target, expected, _suggest(target, known, "target"))
                    ok = False
                if mat is not None and mat is not BAD and action != "cost":
                    r.problem("material", mat, "a blank cell (material narrows cost rows only)",
                              "Clear the material, or use a cost row.")
                    ok = False
                elif mat is not None and mat is not BAD:
                    ok &= self.ref(r, "material", mat, materials, "material")
                if action in ("capacity", "cost", "demand") and value is None:
                    r.problem("value", None, "a non-negative factor (1 = unchanged, 0 = none)",
                              f"A {action} row needs a value.")
                    ok = False
            win = self.window(r)
            if ok and win is not None and value is not BAD and mat is not BAD:
                out.setdefault(name, []).append(
                    d.ScenarioRow(name, action, target, mat, win, value, r.row))
            elif name not in (None, BAD):
                out.setdefault(name, [])
        return out

    def settings(self, offers: dict[str, d.Offer]) -> d.Settings:
        raw: dict[str, Any] = {}
        for r in self.rows(SETTINGS):
            key = norm_name(r["setting"])
            if key not in SETTING_KEYS:
                self.warnings.append(f"Settings row {r.row}: unknown setting {r.raw('setting')!r}"
                                     " is ignored.")
                continue
            kind, help_text = SETTING_KEYS[key]
            value = r.raw("value")
            if is_blank(value) or no_cache(value):
                continue
            if isinstance(value, str) and value.strip() in EXCEL_ERRORS:
                r.problem("value", value, _expect(Column("value", kind, help_text)),
                          "The cell holds an Excel error value; fix the formula or type the "
                          "value.")
                continue
            if key in HEDGE_SETTINGS:
                value = self.hedge_setting(r, key, value)
                if value is BAD:
                    continue
            elif kind == "number":
                col = Column("value", "number", help_text)
                value = _number(r, col, value)
                if value is BAD:
                    continue
            else:
                value = str(value).strip()
            raw[key] = value
        highest = max((o.unit_cost for o in offers.values()), default=0.0)
        shortage = raw.get("shortage_penalty", 10.0 * highest)
        method = str(raw.get("method", "choose")).casefold()
        if method not in ("choose", "simplex", "ipm", "pdlp"):
            self.warnings.append(f"Settings: unknown method {method!r}; using 'choose'.")
            method = "choose"
        threads = raw.get("threads")
        return d.Settings(
            plan_name=str(raw.get("plan_name", Path(self.source).stem)),
            currency=str(raw.get("currency", "USD")),
            shortage_penalty=float(shortage),
            stockpile_penalty=(None if raw.get("stockpile_penalty") is None
                               else float(raw["stockpile_penalty"])),
            time_limit=raw.get("time_limit"),
            threads=None if threads is None else int(threads),
            method=method,
            gap=raw.get("gap"),
            commit_through=int(raw.get("commit_through", 0)),
            risk_weight=float(raw.get("risk_weight", 0.0)),
            cvar_level=float(raw.get("cvar_level", 0.9)),
        )

    def hedge_setting(self, r: _Row, key: str, raw: Any) -> Any:
        """commit_through (a period label, returned as its index), risk_weight in [0, 1]
        and cvar_level in [0, 1), the settings of planner hedge; BAD when invalid."""
        if key == "commit_through":
            lab = label(raw)
            if lab in self.period_ix:
                return self.period_ix[lab]
            labels = list(self.period_ix)
            hint = (f"Name a period of the Periods sheet; the horizon runs {labels[0]} to "
                    f"{labels[-1]}." if labels else "The Periods sheet has no periods.")
            if lab is not None and lab.strip() in self.period_ix:
                hint = f"Remove the surrounding spaces: {lab.strip()!r}."
            r.problem("value", raw, "a period label from the Periods sheet (commit_through: "
                      "the last period whose orders are signed now)", hint)
            return BAD
        x = math.nan
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            x = float(raw)
        elif isinstance(raw, str):
            try:
                x = float(raw.strip())
            except ValueError:
                x = math.nan
        top_ok = x <= 1 if key == "risk_weight" else x < 1
        if math.isfinite(x) and x >= 0 and top_ok:
            return x
        if key == "risk_weight":
            expected = ("risk_weight: a number between 0 and 1 (0: risk neutral, 1: CVaR "
                        "only)")
        else:
            expected = ("cvar_level: a number at least 0 and below 1 (0.9: CVaR is the "
                        "expected cost of the worst 10% of probability)")
        hint = ""
        if math.isfinite(x) and 1 < x <= 100:
            hint = f"Did you mean {x:g}% ({x / 100:g})?"
        elif key == "cvar_level" and x == 1:
            hint = "At 1 the tail holds no probability; use e.g. 0.95 or 0.99."
        r.problem("value", raw, expected, hint)
        return BAD

    def probability(self, r: _Row) -> Any:
        """A probability cell: a number between 0 and 1 (BAD, reported, when not)."""
        raw = r.raw("probability")
        if is_blank(raw) or no_cache(raw) or (isinstance(raw, str)
                                              and raw.strip() in EXCEL_ERRORS):
            return r["probability"]  # blank, uncached or an error value: reported as usual
        x = math.nan
        if isinstance(raw, (int, float)) and not isinstance(raw, bool):
            x = float(raw)
        elif isinstance(raw, str):
            try:
                x = float(raw.strip())
            except ValueError:
                x = math.nan
        if math.isfinite(x) and 0 <= x <= 1:
            return x
        hint = f"Did you mean {x:g}% ({x / 100:g})?" if math.isfinite(x) and 1 < x <= 100 \
            else ""
        r.problem("probability", raw, "a probability between 0 and 1 (10% is 0.1)", hint)
        return BAD

    def probabilities(self, scenarios: set[str]) -> dict[str, float]:
        """The Probabilities sheet: ``base`` and Scenarios names, >= 0, summing to 1."""
        out: dict[str, float] = {}
        seen: dict[str, int] = {}
        ok = True
        table = self.tables.get(norm_name(PROBABILITIES.name))
        for r in self.rows(PROBABILITIES):
            name, p = r["scenario"], self.probability(r)
            good = self.unique(r, "scenario", name, seen)
            if name is None or name is BAD:
                good = False
            elif name != "base" and name not in scenarios:
                r.problem("scenario", name, "base, or a scenario name from the Scenarios sheet",
                          _suggest(name, {"base", *scenarios}, "scenario"))
                good = False
            if p is None or p is BAD:
                good = False
            ok &= good
            if good:
                out[name] = float(p)
        if ok and out and abs(sum(out.values()) - 1.0) > PROBABILITY_TOL:
            title = table.title if table is not None else PROBABILITIES.name
            self.problems.append(Problem(
                title, None, "probability", round(sum(out.values()), 9),
                "probabilities summing to 1 (within 1e-6)",
                f"They sum to {sum(out.values()):.9g}: rescale them so that they add up to 1.",
                table.col_index("probability") if table is not None else None))
        return out

    @property
    def periods_labels(self) -> list[str]:
        return list(self.period_ix)

    def build(self) -> d.PlanData:
        self.check_shape()
        periods = self.periods()
        countries = self.countries()
        tags = {g for c in countries.values() for g in c.groups} - set(countries)
        stages = self.stages()
        materials = self.materials()
        # References are checked against every id declared (see ``declared``).
        mset = self.declared(MATERIALS, "material")
        cset = self.declared(COUNTRIES, "country")
        facilities = self.facilities(cset, tags)
        routes = self.routes(facilities, self.declared(FACILITIES, "facility"))
        offers = self.offers(mset, self.declared(ROUTES, "route"))
        # Offers whose route failed validation were reported on Routes; drop them quietly.
        offers = {k: o for k, o in offers.items() if o.route in routes}
        tariffs = self.tariffs(mset, cset, tags)
        rules = self.rules(mset, cset, tags)
        caps = self.caps(mset, cset, tags)
        demand = self.demand(mset)
        stockpile = self.stockpile(mset)
        companies = self.declared(OFFERS, "supplier") | self.declared(FACILITIES, "company")
        scenarios = self.scenarios(mset, cset, tags, self.declared(RULES, "rule"),
                                   self.declared(CAPS, "cap"),
                                   self.declared(FACILITIES, "facility"),
                                   self.declared(OFFERS, "offer"), companies)
        settings = self.settings(offers)
        probabilities = self.probabilities(self.declared(SCENARIOS, "scenario"))
        return d.PlanData(
            source=self.source, settings=settings, periods=periods, materials=materials,
            demand=demand, stockpile=stockpile, countries=countries, stages=stages,
            facilities=facilities, routes=routes, offers=offers, tariffs=tariffs, rules=rules,
            caps=caps, scenarios=scenarios, warnings=self.warnings,
            probabilities=probabilities,
        )


def read_plan(path: str | Path) -> d.PlanData:
    """Read and validate a workbook sheet by sheet; raise :class:`InputError` with every
    problem.  The checks that need the base case (end values, warnings) are added by
    :func:`planner.scenario.plan.load_plan`, which is what callers want."""
    tables, problems = read_workbook(path)
    if problems and not tables:
        raise InputError(problems)
    v = Validator(tables, str(path))
    v.problems.extend(problems)
    plan = v.build()
    if v.problems:
        raise InputError(v.problems, v.warnings)
    kept = (norm_name(COUNTRIES.name), norm_name(RISKS.name))
    plan.risk_tables = {k: tables[k] for k in kept if k in tables}
    return plan
