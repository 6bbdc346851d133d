"""The Dashboard sheet: key figures per case and native Excel charts.

:func:`key_figures` computes the figures from the tidy tables (so tests can
check them without Excel); :func:`add_dashboard` writes them and the charts.
Chart series live on a ``Chart data`` sheet so that every chart is a native
``openpyxl.chart`` object over cells an analyst can inspect.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.chart.text import RichText
from openpyxl.drawing.text import CharacterProperties, Paragraph, ParagraphProperties
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from planner.analysis.concentration import HHI_HIGH, HHI_LABEL, concentrations
from planner.analysis.results import CaseResult
from planner.analysis.table import values
from planner.inputs.data import PlanData
from planner.model.families import COST_PARTS
from planner.scenario.cases import in_window

Row = dict[str, Any]
TITLE_FONT = Font(bold=True, size=16, color="1F4E78")
SECTION_FONT = Font(bold=True, size=12, color="1F4E78")
HEAD_FONT = Font(bold=True, color="FFFFFF")
HEAD_FILL = PatternFill("solid", fgColor="1F4E78")
ALERT_FILL = PatternFill("solid", fgColor="F8CBAD")
OK_FILL = PatternFill("solid", fgColor="C6EFCE")
#: at most this many materials get their own charts (the rest are in the tables)
MAX_CHART_MATERIALS = 6
#: rows of one key-figure table shown on the dashboard before "see sheet X"
MAX_DASHBOARD_ROWS = 40
#: lines of each infeasible case's explanation shown on the dashboard
MAX_EXPLANATION_LINES = 8
#: at most this many cases in the scenario comparison charts
MAX_CHART_CASES = 30
#: a share within this of its cap counts as binding
BINDING = 5e-4


# --- figures -----------------------------------------------------------------

def cost_per_t(results: Sequence[CaseResult]) -> list[Row]:
    """Per case and material: tonnes bought, what they cost with tariffs, cost per t."""
    out: list[Row] = []
    for r in results:
        cost: dict[str, float] = defaultdict(float)
        vol: dict[str, float] = defaultdict(float)
        for mat, c, v in values(r.plan, "material", "cost", "volume"):
            cost[mat] += float(c)
            vol[mat] += float(v)
        for mat in dict.fromkeys(s["material"] for s in r.stock):
            out.append({"case": r.name, "material": mat, "bought": vol.get(mat, 0.0),
                        "procurement_cost": cost.get(mat, 0.0),
                        "cost_per_t": cost[mat] / vol[mat] if vol.get(mat) else None})
    return out


def cover(plan: PlanData, results: Sequence[CaseResult]) -> list[Row]:
    """Per case and material with a stockpile minimum: the lowest cover against its target.

    Cover = end-of-period stock / (demand / days), in days; the period shown is
    the one furthest below (or least above) its target.
    """
    days = {p.label: p.days for p in plan.periods}
    out: list[Row] = []
    for r in results:
        by_mat: dict[str, list[Row]] = defaultdict(list)
        for s in r.stock:
            by_mat[s["material"]].append(s)
        for mat, rows in by_mat.items():
            if not any(s["min_stock"] for s in rows):
                continue
            best: tuple[float, Row] | None = None
            for s in rows:
                daily = float(s["demand"]) / days[s["period"]]
                if daily <= 0 or not s["min_stock"]:
                    continue
                c = float(s["stock"]) / daily
                target = float(s["min_stock"]) / daily
                row = {"case": r.name, "material": mat, "period": s["period"],
                       "lowest_cover_days": c,
                       "target_days": target,
                       "shortfall_t": float(s["stockpile_shortfall"])}
                key = c - target
                if best is None or key < best[0]:
                    best = (key, row)
            if best is not None:
                out.append(best[1])
    return out


def _cap_for(plan: PlanData, result: CaseResult, material: str, stage: str, country: str,
             t: int) -> float | None:
    """The tightest single-country max_share in force for this material, stage, country."""
    found: list[float] = []
    for cid, c in plan.caps.items():
        on = result.caps_on[cid][t] if cid in result.caps_on else c.active
        if not on or not in_window(t, c.window) or c.max_share is None:
            continue
        if c.material not in (None, material) or c.stage not in (None, stage):
            continue
        if c.country not in (None, country):
            continue
        found.append(c.max_share)
    return min(found) if found else None


def concentration(plan: PlanData, results: Sequence[CaseResult]) -> list[Row]:
    """Per case, material and stage: the period with the highest single-country share.

    Shares and HHI are those of :mod:`planner.analysis.concentration` (of all purchases of
    the material in the period, HHI 0-10,000); the row shows the highest HHI over
    the periods.
    """
    pidx = plan.period_index()
    out: list[Row] = []
    for r in results:
        cells: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for c in concentrations(r.exposure, r.stock):
            cells[(c.material, c.stage)].append(c)
        for (mat, stage), items in cells.items():
            # the first period of the highest share (shares equal to 1e-9 tie)
            top = max(items, key=lambda c: (round(c.top_share, 9), -pidx[c.period]))
            out.append({"case": r.name, "material": mat, "stage": stage,
                        "period": top.period, "top_country": top.top_country,
                        "top_share": top.top_share,
                        "cap": _cap_for(plan, r, mat, stage, top.top_country,
                                        pidx[top.period]),
                        "hhi": max(c.hhi for c in items)})
    return out


def split_cost(summary: Row) -> tuple[float | None, float | None]:
    """(real spend, penalties) of a Summary row: the money cost parts (procurement,
    holding, take-or-pay, less the end-of-horizon stock credit) and the penalty parts
    (shortage, stockpile shortfall), per :data:`planner.model.families.COST_PARTS`."""
    if summary.get("total_cost") is None:
        return None, None
    money = sum(p.sign * float(summary.get(p.column) or 0.0)
                for p in COST_PARTS if p.kind == "money")
    penalty = sum(p.sign * float(summary.get(p.column) or 0.0)
                  for p in COST_PARTS if p.kind == "penalty")
    return money, penalty


def vs_base(value: float, base: float) -> float:
    """``value - base``, 0 within solver noise (1e-9 of the larger), never a "-0"."""
    diff = value - base
    return 0.0 if abs(diff) <= 1e-9 * max(1.0, abs(value), abs(base)) else diff


def base_of(results: Sequence[CaseResult]) -> CaseResult | None:
    """The case the others are compared with: ``base`` when solved, else None."""
    return next((r for r in results if r.name == "base" and r.total_cost is not None), None)


def case_rows(results: Sequence[CaseResult]) -> list[Row]:
    """The case comparison: total cost, vs base, real spend and penalties apart."""
    base = base_of(results)
    out: list[Row] = []
    for r in results:
        money, penalty = split_cost(r.summary)
        total = r.total_cost
        out.append({"case": r.name, "status": r.status, "total_cost": total,
                    "vs_base": None if base is None or total is None
                    else vs_base(total, float(base.total_cost or 0.0)),
                    "money": money, "penalties": penalty,
                    "unmet_demand": r.summary.get("unmet_demand"), "seconds": r.seconds})
    return out


def buy_list(plan: PlanData, result: CaseResult) -> list[Row]:
    """What the case buys from whom: one row per offer, tonnes per period (keyed by the
    period label) and the cost with tariffs; by material, then largest cost first."""
    rows: dict[str, Row] = {}
    for oid, supplier, mat, period, vol, cost in values(
            result.plan, "offer", "supplier", "material", "period", "volume", "cost"):
        row = rows.setdefault(oid, {"supplier": supplier, "offer": oid, "material": mat,
                                    "cost": 0.0})
        row[period] = row.get(period, 0.0) + float(vol)
        row["cost"] += float(cost)
    order = {m: i for i, m in enumerate(plan.materials)}
    return sorted(rows.values(), key=lambda r: (order.get(r["material"], len(order)),
                                                -r["cost"], r["offer"]))


def shortfall_sentences(results: Sequence[CaseResult]) -> list[str]:
    """Per case and material: demand left unmet and stock below its minimum, as sentences."""
    out: list[str] = []
    for r in results:
        unmet: dict[str, list[tuple[str, float]]] = defaultdict(list)
        short: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for s in r.stock:
            if float(s["unmet_demand"]) > 1e-6:
                unmet[s["material"]].append((s["period"], float(s["unmet_demand"])))
            if float(s["stockpile_shortfall"]) > 1e-6:
                short[s["material"]].append((s["period"], float(s["stockpile_shortfall"])))
        for mat, items in unmet.items():
            total = sum(v for _, v in items)
            when = ", ".join(f"{v:,.1f} t in {p}" for p, v in items)
            out.append(f"{r.name}: {total:,.1f} t of {mat} demand left unmet ({when}).")
        for mat, items in short.items():
            when = ", ".join(f"{v:,.1f} t in {p}" for p, v in items)
            out.append(f"{r.name}: {mat} stock below its stockpile minimum ({when}).")
    return out


def key_figures(plan: PlanData, results: Sequence[CaseResult]) -> dict[str, list[Row]]:
    """Every dashboard table, as rows."""
    base = _chart_case(results)
    per_t = cost_per_t(results)
    ref = {f["material"]: f["cost_per_t"] for f in per_t if f["case"] == "base"}
    for f in per_t:
        b = ref.get(f["material"])
        f["vs_base"] = None if b is None or f["cost_per_t"] is None \
            else vs_base(f["cost_per_t"], b)
    return {
        "buy": buy_list(plan, base) if base is not None else [],
        "cases": case_rows(results),
        "cost_per_t": per_t,
        "cover": cover(plan, results),
        "concentration": concentration(plan, results),
    }


# --- writing -------------------------------------------------------------------

Column = tuple[str, str, str | None, float]  # key, header, number format, width


def _lines(text: str, width: float) -> int:
    """Lines ``text`` wraps to in a column ``width`` characters wide (word by word)."""
    fit = max(1, int(width) - 1)
    lines, used = 1, 0
    for word in text.split():
        if used and used + 1 + len(word) > fit:
            lines, used = lines + 1, len(word)
        else:
            used += len(word) + (1 if used else 0)
    return lines


def _width_for(fmt: str | None, values: Sequence[Any]) -> float:
    """Characters a column needs to show ``values`` in number format ``fmt`` (0: no
    numbers): the digits with thousands separators, a sign, decimals and the quoted
    unit, plus a margin."""
    numbers = [abs(float(v)) for v in values
               if isinstance(v, int | float) and not isinstance(v, bool) and v == v]
    if not fmt or not numbers:
        return 0.0
    unit = re.search(r'"([^"]*)"', fmt)
    decimals = len(m.group(1)) + 1 if (m := re.search(r"\.(0+)", fmt)) else 0
    digits = max((len(f"{v:,.0f}") for v in numbers if v < 1e300), default=1)
    return digits + 1 + decimals + (len(unit.group(1)) + 1 if unit else 0) + 2


def _write_block(ws: Worksheet, top: int, title: str, columns: Sequence[Column],
                 rows: Sequence[Row], more: str = "",
                 put: Callable[[Worksheet, int, int, Any], None] | None = None) -> int:
    """A titled small table at ``top``; returns the first free row after it."""
    from planner.xlsx.tables import set_value

    put = put or set_value
    put(ws, top, 1, title)
    ws.cell(row=top, column=1).font = SECTION_FONT
    lines = 1
    for j, (_, head, _, _) in enumerate(columns, start=1):
        put(ws, top + 1, j, head)
        c = ws.cell(row=top + 1, column=j)
        c.font, c.fill = HEAD_FONT, HEAD_FILL
        # headers wrap inside their column rather than run into the next one
        c.alignment = Alignment(vertical="center", wrap_text=True)
        width = ws.column_dimensions[get_column_letter(j)].width or 13.0
        lines = max(lines, _lines(str(head), width))
    if lines > 1:
        ws.row_dimensions[top + 1].height = 15.0 * lines
    shown = rows[:MAX_DASHBOARD_ROWS]
    for i, row in enumerate(shown, start=top + 2):
        for j, (key, _, fmt, _) in enumerate(columns, start=1):
            put(ws, i, j, row.get(key))
            if fmt:
                ws.cell(row=i, column=j).number_format = fmt
    for j, (key, _, fmt, _) in enumerate(columns, start=1):
        need = _width_for(fmt, [row.get(key) for row in shown])
        dim = ws.column_dimensions[get_column_letter(j)]
        if need > (dim.width or 13.0):
            dim.width = need  # a number wider than its column shows as ### in Excel
    end = top + 2 + len(shown)
    if len(rows) > len(shown) or not rows:
        note = more if rows else "(none)"
        ws.cell(row=end, column=1, value=note).font = Font(italic=True, color="666666")
        end += 1
    return end + 1


def _signed(cur: str) -> str:
    """A difference in money: +1,234 USD / -1,234 USD / 0."""
    return f'+#,##0 "{cur}";-#,##0 "{cur}";0'


def _wrap_rows(ws: Worksheet, first: int, last: int, ncols: int, wide: dict[int, float]
               ) -> None:
    """Rows first..last of a block ``ncols`` wide: top-aligned, the columns in ``wide``
    (column -> characters it spans) wrapped, and each row as high as its wrapped text
    needs: written heights hold in Excel and LibreOffice alike (neither re-fits the rows
    of a generated file)."""
    for i in range(first, last + 1):
        lines = 1
        for j in range(1, ncols + 1):
            c = ws.cell(row=i, column=j)
            c.alignment = Alignment(wrap_text=j in wide, vertical="top")
            if j in wide:
                lines = max(lines, _lines(str(c.value or ""), wide[j]))
        if lines > 1:
            ws.row_dimensions[i].height = 15.0 * lines


def add_dashboard(wb: Workbook, plan: PlanData, results: Sequence[CaseResult],
                  header: Sequence[tuple[str, str]],
                  policy: Sequence[Row] = (), sentences: Sequence[str] = ()) -> Worksheet:
    """The first sheet: title, run facts, what to buy, key figures, policy costs, shadow
    prices, charts."""
    ws = wb.create_sheet("Dashboard", 0)
    cur = plan.settings.currency
    money = f'#,##0 "{cur}"'
    signed = _signed(cur)
    tonnes = '#,##0.0 "t"'
    from planner.xlsx.tables import set_value

    set_value(ws, 1, 1, plan.settings.plan_name)
    ws["A1"].font = TITLE_FONT
    for i, (k, v) in enumerate(header, start=2):
        ws.cell(row=i, column=1, value=k).font = Font(bold=True)
        set_value(ws, i, 2, v)
    figures = key_figures(plan, results)
    row = len(header) + 3
    base = _chart_case(results)
    # columns the tables use (the buy list: 4 + one per period); charts start to the right
    widest = max(8, 4 + len(plan.periods)) if base is not None else 8
    # column A holds case names and the buy list's suppliers: wide enough for them
    first = max([20, *(len(str(b["supplier"])) + 2 for b in figures["buy"]),
                 *(len(r.name) + 2 for r in results)])
    for j in range(1, widest + 1):
        ws.column_dimensions[get_column_letter(j)].width = min(36, first) if j == 1 else 17
    if base is not None:
        labels = [p.label for p in plan.periods]
        buy = [{**b, **{f"period {t}": b.get(t) for t in labels}} for b in figures["buy"]]
        if buy:
            buy.append({"supplier": "total", "cost": sum(b["cost"] for b in buy)})
        columns: list[Column] = [("supplier", "supplier", None, 0), ("offer", "offer", None, 0),
                                 ("material", "material", None, 0)]
        columns += [(f"period {t}", f"{t} (t)", tonnes, 0) for t in labels]
        columns.append(("cost", f"cost ({cur}, with tariffs)", money, 0))
        start_buy = row
        row = _write_block(ws, row, f"What to buy ({base.name} case): tonnes per period and "
                           "their cost", columns, buy,
                           "More offers than shown: see the Plan sheet.")
        n_buy = min(len(buy), MAX_DASHBOARD_ROWS)
        if buy and n_buy == len(buy):
            for j in range(1, len(columns) + 1):
                ws.cell(row=start_buy + 1 + n_buy, column=j).font = Font(bold=True)
    start_cases = row
    row = _write_block(ws, row, "Cases", [
        ("case", "case", None, 16), ("status", "status", None, 12),
        ("total_cost", "total cost", money, 16),
        ("vs_base", "vs base", signed, 20),
        ("money", "real spend", money, 16),
        ("penalties", "penalties (not money)", money, 16),
        ("unmet_demand", "unmet demand", '#,##0.0 "t"', 13),
        ("seconds", "solve time", '0.00 "s"', 11)], figures["cases"])
    n_cases = min(len(figures["cases"]), MAX_DASHBOARD_ROWS)
    if n_cases:
        rng = f"A{start_cases + 2}:H{start_cases + 1 + n_cases}"
        ws.conditional_formatting.add(rng, FormulaRule(
            formula=[f'$B{start_cases + 2}<>"optimal"'], fill=ALERT_FILL))
    shortfalls = shortfall_sentences(results)
    broken = [r for r in results if r.explanation]
    if broken or shortfalls:
        ws.cell(row=row, column=1, value="What breaks").font = SECTION_FONT
        row += 1
        for text in shortfalls[:MAX_DASHBOARD_ROWS]:
            set_value(ws, row, 1, text)
            row += 1
        for r in broken[:5]:
            for line in r.explanation[:MAX_EXPLANATION_LINES]:
                set_value(ws, row, 1, line)
                row += 1
            if len(r.explanation) > MAX_EXPLANATION_LINES:
                ws.cell(row=row, column=1, value="More in the Infeasibility sheet.").font = \
                    Font(italic=True, color="666666")
                row += 1
        row += 1
    mats = list(plan.materials)
    if len(mats) <= 3:
        # one row per case, per material its cost per t and the difference to base
        by_case: dict[str, Row] = {}
        for f in figures["cost_per_t"]:
            r_ = by_case.setdefault(f["case"], {"case": f["case"]})
            r_[f["material"]] = f["cost_per_t"]
            r_[f"{f['material']} vs base"] = f["vs_base"]
        per_t: list[Column] = [("case", "case", None, 16)]
        for m in mats:
            per_t += [(m, m, "#,##0", 0),
                      (f"{m} vs base", "vs base" if len(mats) == 1 else f"{m} vs base",
                       "+#,##0;-#,##0;0", 0)]
        row = _write_block(ws, row, f"Cost per t bought ({cur}, with tariffs)", per_t,
                           list(by_case.values()))
    else:
        row = _write_block(ws, row, f"Cost per t bought ({cur}, with tariffs)", [
            ("case", "case", None, 16), ("material", "material", None, 12),
            ("bought", "bought", '#,##0.0 "t"', 16),
            ("procurement_cost", "procurement cost", money, 16),
            ("cost_per_t", "cost per t", "#,##0", 16),
            ("vs_base", "vs base", "+#,##0;-#,##0;0", 16)], figures["cost_per_t"],
            "More rows than shown: see the Plan sheet.")
    start_cover = row
    row = _write_block(ws, row, "Lowest stock cover against the stockpile target", [
        ("case", "case", None, 16), ("material", "material", None, 12),
        ("period", "period", None, 16), ("lowest_cover_days", "cover reached", '#,##0.0 "d"', 16),
        ("target_days", "target", '#,##0.0 "d"', 16),
        ("shortfall_t", "below minimum", '#,##0.0 "t"', 11)], figures["cover"],
        "More rows than shown: see the Stock sheet.")
    n_cover = min(len(figures["cover"]), MAX_DASHBOARD_ROWS)
    if n_cover:
        rng = f"D{start_cover + 2}:D{start_cover + 1 + n_cover}"
        ws.conditional_formatting.add(rng, FormulaRule(
            formula=[f"AND(ISNUMBER($E{start_cover + 2}),$D{start_cover + 2}<$E{start_cover + 2}"
                     "-0.05)"], fill=ALERT_FILL))
    start_conc = row
    row = _write_block(ws, row, "Concentration: highest single-country share of purchases "
                       "per stage", [
        ("case", "case", None, 16), ("material", "material", None, 12),
        ("stage", "stage", None, 16), ("period", "period", None, 16),
        ("top_country", "top country", None, 11), ("top_share", "share", "0.0%", 11),
        ("cap", "cap", "0.0%", 10), ("hhi", f"{HHI_LABEL}, highest", "#,##0", 10)],
        figures["concentration"], "More rows than shown: see the Supply risk sheet.")
    n_conc = min(len(figures["concentration"]), MAX_DASHBOARD_ROWS)
    if n_conc:
        first, last = start_conc + 2, start_conc + 1 + n_conc
        ws.conditional_formatting.add(f"F{first}:G{last}", FormulaRule(
            formula=[f"AND(ISNUMBER($G{first}),$F{first}>=$G{first}-{BINDING})"],
            fill=ALERT_FILL))
        ws.conditional_formatting.add(f"H{first}:H{last}", FormulaRule(
            formula=[f"$H{first}>={HHI_HIGH:.0f}"], fill=ALERT_FILL))
    start_policy = row
    row = _write_block(ws, row, "What each policy costs (base case re-solved without it)", [
        ("policy", "policy", None, 0), ("status", "status without", None, 0),
        ("cost_added", "cost it adds", money, 0),
        ("end_stock_value", "of which stock left at the end", money, 0),
        ("note", "note", None, 0)],
        list(policy), "More rows than shown: see the Policy costs sheet.")
    n_policy = min(len(policy), MAX_DASHBOARD_ROWS)
    if n_policy:
        # the note spans E..H, wrapped; the policy name wraps in A
        for i in range(start_policy + 1, start_policy + 2 + n_policy):
            ws.merge_cells(start_row=i, start_column=5, end_row=i, end_column=8)
        _wrap_rows(ws, start_policy + 2, start_policy + 1 + n_policy, 5,
                   {1: float(ws.column_dimensions["A"].width or 20), 5: 17.0 * 4})
    ws.cell(row=row, column=1, value="What one more unit would be worth (base case)").font = \
        SECTION_FONT
    row += 1
    for text in list(sentences)[:12]:
        set_value(ws, row, 1, text)
        row += 1
    if not sentences:
        ws.cell(row=row, column=1, value="(no binding constraint)")
        row += 1
    elif len(sentences) > 12:
        ws.cell(row=row, column=1, value="More in the Shadow prices sheet.").font = \
            Font(italic=True, color="666666")
        row += 1
    row += 1
    for text in (
            "Red: a case not solved to optimality, cover below target, a share at its cap, or "
            f"{HHI_LABEL} of {HHI_HIGH:,.0f} or more (highly concentrated).",
            "Real spend = procurement + holding + take-or-pay - end value of stock left; "
            "penalties = shortage + stockpile shortfall (priority weights, not money); "
            "vs base = the case's total cost - the base case's.",
            "Share = t bought passing the stage in the country / all t of the material bought "
            f"in the period (as caps count it); {HHI_LABEL} = sum of squared shares in "
            "percent."):
        ws.cell(row=row, column=1, value=text).font = Font(italic=True, color="666666")
        row += 1
    ws.freeze_panes = "A2"
    add_charts(wb, ws, plan, results, max(CHART_COL, widest + 2))
    ws.sheet_view.zoomScale = 90
    # Printed (and rendered to PDF) one page wide, landscape, so the charts stay whole.
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    return ws


# --- charts --------------------------------------------------------------------

CHART_W, CHART_H = 13.0, 7.0  # cm
CHART_COL = 10  # charts start in column J
CHART_STEP = 7  # columns from one chart's left edge to the next
ROWS_PER_CHART = 15


def _chart_case(results: Sequence[CaseResult]) -> CaseResult | None:
    """The base case when it has a plan, else the first case that has one."""
    with_plan = [r for r in results if r.summary.get("total_cost") is not None]
    return with_plan[0] if with_plan else None


class _Data:
    """Blocks of chart series on the ``Chart data`` sheet, one below the other."""

    def __init__(self, ws: Worksheet) -> None:
        self.ws = ws
        self.row = 1

    def block(self, title: str, head: Sequence[str], cats: Sequence[Any],
              values: Sequence[Sequence[float | None]]) -> tuple[int, int, int]:
        """Write a title, a header and rows; returns (header row, first row, last row)."""
        from planner.xlsx.tables import set_value

        ws = self.ws
        set_value(ws, self.row, 1, title)
        ws.cell(row=self.row, column=1).font = Font(bold=True)
        h = self.row + 1
        for j, name in enumerate(head, start=1):
            set_value(ws, h, j, name)
            ws.cell(row=h, column=j).font = Font(bold=True)
        for i, (cat, vals) in enumerate(zip(cats, values, strict=True), start=h + 1):
            set_value(ws, i, 1, cat)
            for j, v in enumerate(vals, start=2):
                ws.cell(row=i, column=j, value=v).number_format = "#,##0.0##"
        last = h + len(cats)
        self.row = last + 3
        return h, h + 1, last


def _small_text(size: int) -> RichText:
    """Axis label text of ``size`` hundredths of a point."""
    props = CharacterProperties(sz=size)
    return RichText(p=[Paragraph(pPr=ParagraphProperties(defRPr=props), endParaRPr=props)])


def axis_format(peak: float) -> str:
    """A value axis format for values up to ``peak``: whole numbers, with decimals when
    the values are small (a whole-number axis over 0..1.5 t reads "0, 1, 1, 2")."""
    return "#,##0.0#" if peak < 10 else "#,##0"


def money_axis(peak: float, cur: str) -> tuple[str, str]:
    """(axis title, number format) for money up to ``peak``: millions when large."""
    if peak >= 1e6:
        return f"M {cur}", "#,##0.0,,"
    return cur, axis_format(peak)


def _style(chart: Any, title: str, y_title: str, x_title: str = "",
           y_format: str = "#,##0") -> None:
    chart.title = title
    chart.y_axis.title = y_title
    chart.y_axis.number_format = y_format
    chart.y_axis.scaling.min = 0
    if x_title:
        chart.x_axis.title = x_title
    chart.width, chart.height = CHART_W, CHART_H
    chart.legend.position = "b"
    # openpyxl >= 3.1 hides axes unless told otherwise
    chart.x_axis.delete = False
    chart.y_axis.delete = False


def add_charts(wb: Workbook, ws: Worksheet, plan: PlanData,
               results: Sequence[CaseResult], first_col: int = CHART_COL) -> int:
    """Native charts on the dashboard from column ``first_col``; returns how many."""
    base = _chart_case(results)
    data = _Data(wb.create_sheet("Chart data"))
    data.ws.column_dimensions["A"].width = 24
    labels = [p.label for p in plan.periods]
    cur = plan.settings.currency
    # one row of charts for the case comparison, then one row per material
    grid: list[list[Any]] = [_scenario_charts(results, data, cur)]
    if base is not None:
        mats = list(plan.materials)[:MAX_CHART_MATERIALS]
        last_country = {o.id: plan.facilities[plan.routes[o.route].last_facility].country
                        for o in plan.offers.values()}
        for mat in mats:
            grid.append(_material_charts(plan, base, mat, labels, last_country, data))
    grid = [line for line in grid if line]
    for i, line in enumerate(grid):
        for j, chart in enumerate(line):
            col = first_col + j * CHART_STEP
            ws.add_chart(chart, f"{get_column_letter(col)}{2 + i * ROWS_PER_CHART}")
    return sum(len(line) for line in grid)


def _material_charts(plan: PlanData, base: CaseResult, mat: str, labels: list[str],
                     last_country: dict[str, str], data: _Data) -> list[Any]:
    out: list[Any] = []
    case = base.name
    # 1. supplier mix by country of the delivering (last) facility, stacked columns
    vol: dict[tuple[str, str], float] = defaultdict(float)
    for material, oid, period, v in values(base.plan, "material", "offer", "period",
                                           "volume"):
        if material == mat:
            vol[(last_country[oid], period)] += float(v)
    countries = sorted({c for c, _ in vol}, key=lambda c: (-sum(
        v for (cc, _), v in vol.items() if cc == c), c))
    if countries:
        h, first, last = data.block(f"{mat}: purchases by supplier country (t), {case}",
                                    ["period", *countries], labels,
                                    [[vol.get((c, t), 0.0) for c in countries] for t in labels])
        ch = BarChart()
        ch.type, ch.grouping, ch.overlap = "col", "stacked", 100
        ch.add_data(Reference(data.ws, min_col=2, max_col=1 + len(countries), min_row=h,
                              max_row=last), titles_from_data=True)
        ch.set_categories(Reference(data.ws, min_col=1, min_row=first, max_row=last))
        peak = max((sum(vol.get((c, t), 0.0) for c in countries) for t in labels),
                   default=0.0)
        _style(ch, f"{mat}: supplier mix by country, {case}", "t bought",
               y_format=axis_format(peak))
        out.append(ch)
    # 2. stock against its minimum, lines
    stock = [s for s in base.stock if s["material"] == mat]
    if stock:
        h, first, last = data.block(f"{mat}: stock and minimum (t), {case}",
                                    ["period", "stock", "minimum"],
                                    [s["period"] for s in stock],
                                    [[float(s["stock"]), float(s["min_stock"])] for s in stock])
        lc = LineChart()
        lc.add_data(Reference(data.ws, min_col=2, max_col=3, min_row=h, max_row=last),
                    titles_from_data=True)
        lc.set_categories(Reference(data.ws, min_col=1, min_row=first, max_row=last))
        for s in lc.series:
            s.smooth = False
            s.marker.symbol = "circle"
        lc.series[0].graphicalProperties.line.width = 38100  # 3 pt: stock under its minimum
        if len(lc.series) > 1:
            lc.series[1].graphicalProperties.line.dashStyle = "dash"
        peak = max(max(float(s["stock"]), float(s["min_stock"])) for s in stock)
        _style(lc, f"{mat}: end-of-period stock vs minimum, {case}", "t",
               y_format=axis_format(peak))
        out.append(lc)
    # 3. country exposure per stage over the horizon, bars
    ex_vol: dict[tuple[str, str], float] = defaultdict(float)
    total = sum(float(s["supplied"]) for s in stock)
    for material, country, stage, v in values(base.exposure, "material", "country",
                                              "stage", "volume"):
        if material == mat:
            ex_vol[(country, stage)] += float(v)
    if ex_vol and total > 0:
        ctry = sorted({c for c, _ in ex_vol}, key=lambda c: (-max(
            v for (cc, _), v in ex_vol.items() if cc == c), c))
        stages = [s for s in plan.stages if any(k == s for _, k in ex_vol)]
        h, first, last = data.block(f"{mat}: share of the horizon's volume by country and "
                                    f"stage, {case}", ["country", *stages], ctry,
                                    [[ex_vol.get((c, s), 0.0) / total for s in stages]
                                     for c in ctry])
        for i in range(first, last + 1):
            for j in range(2, 2 + len(stages)):
                data.ws.cell(row=i, column=j).number_format = "0.0%"
        bc = BarChart()
        bc.type = "bar"
        bc.add_data(Reference(data.ws, min_col=2, max_col=1 + len(stages), min_row=h,
                              max_row=last), titles_from_data=True)
        bc.set_categories(Reference(data.ws, min_col=1, min_row=first, max_row=last))
        _style(bc, f"{mat}: country exposure per stage, {case}", "share of volume",
               y_format="0%")
        bc.y_axis.scaling.max = 1
        # every country labelled, even when bars are thin: small labels, legend aside
        bc.x_axis.tickLblSkip = 1
        bc.x_axis.txPr = _small_text(800)
        bc.legend.position = "r"
        bc.gapWidth = 40
        out.append(bc)
    return out


def _scenario_charts(results: Sequence[CaseResult], data: _Data, cur: str) -> list[Any]:
    """Total cost by case, real spend and penalties stacked; unmet demand by case."""
    if not results:
        return []
    more = len(results) > MAX_CHART_CASES
    results = results[:MAX_CHART_CASES]
    names = [r.name for r in results]
    parts = [split_cost(r.summary) for r in results]
    h, first, last = data.block("Scenario comparison",
                                ["case", f"real spend ({cur})", f"penalties ({cur})",
                                 "unmet demand (t)"], names,
                                [[m, p, r.summary.get("unmet_demand")]
                                 for r, (m, p) in zip(results, parts, strict=True)])
    suffix = f" (first {MAX_CHART_CASES})" if more else ""
    peak = max((abs(m or 0.0) + abs(p or 0.0) for m, p in parts), default=0.0)
    unit, fmt = money_axis(peak, cur)
    cost = BarChart()
    cost.type, cost.grouping, cost.overlap = "col", "stacked", 100
    cost.add_data(Reference(data.ws, min_col=2, max_col=3, min_row=h, max_row=last),
                  titles_from_data=True)
    cost.set_categories(Reference(data.ws, min_col=1, min_row=first, max_row=last))
    _style(cost, "Total cost by case: real spend and penalties" + suffix, unit, y_format=fmt)
    unmet = BarChart()
    unmet.type = "col"
    unmet.add_data(Reference(data.ws, min_col=4, min_row=h, max_row=last),
                   titles_from_data=True)
    unmet.set_categories(Reference(data.ws, min_col=1, min_row=first, max_row=last))
    peak_t = max((float(r.summary.get("unmet_demand") or 0.0) for r in results), default=0.0)
    _style(unmet, "Unmet demand by case" + suffix, "t", y_format=axis_format(peak_t))
    unmet.legend = None
    return [cost, unmet]
