"""The Dashboard sheet: key figures per case and native Excel charts.

:func:`key_figures` computes the figures from the tidy tables (so tests can
check them without Excel); :func:`add_dashboard` writes them and the charts.
Chart series live on a ``Chart data`` sheet so that every chart is a native
``openpyxl.chart`` object over cells an analyst can inspect.
"""

from __future__ import annotations

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

from planner.cases import Case, in_window
from planner.data import PlanData
from planner.results import CaseResult

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
        for p in r.plan:
            cost[p["material"]] += float(p["cost"])
            vol[p["material"]] += float(p["volume"])
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


def _cap_for(plan: PlanData, case: Case | None, material: str, stage: str, country: str,
             t: int) -> float | None:
    """The tightest single-country max_share in force for this material, stage, country."""
    found: list[float] = []
    for cid, c in plan.caps.items():
        on = case.cap_on[cid][t] if case else c.active
        if not on or not in_window(t, c.window) or c.max_share is None:
            continue
        if c.material not in (None, material) or c.stage not in (None, stage):
            continue
        if c.country not in (None, country):
            continue
        found.append(c.max_share)
    return min(found) if found else None


def concentration(plan: PlanData, results: Sequence[CaseResult],
                  cases: dict[str, Case]) -> list[Row]:
    """Per case, material and stage: the period with the highest single-country share.

    HHI (Herfindahl-Hirschman, 0-10,000) is over countries' shares in percent;
    the row shows the highest HHI over the periods.
    """
    pidx = plan.period_index()
    out: list[Row] = []
    for r in results:
        cells: dict[tuple[str, str], dict[str, list[Row]]] = defaultdict(
            lambda: defaultdict(list))
        for e in r.exposure:
            cells[(e["material"], e["stage"])][e["period"]].append(e)
        for (mat, stage), periods in cells.items():
            top: Row | None = None
            hhi = 0.0
            for rows in periods.values():
                hhi = max(hhi, sum((100 * float(e["share"])) ** 2 for e in rows))
                lead = max(rows, key=lambda e: float(e["share"]))
                if top is None or float(lead["share"]) > float(top["share"]):
                    top = lead
            if top is None:
                continue
            t = pidx[top["period"]]
            out.append({"case": r.name, "material": mat, "stage": stage,
                        "period": top["period"], "top_country": top["country"],
                        "top_share": float(top["share"]),
                        "cap": _cap_for(plan, cases.get(r.name), mat, stage, top["country"], t),
                        "hhi": hhi})
    return out


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


def key_figures(plan: PlanData, results: Sequence[CaseResult],
                cases: dict[str, Case]) -> dict[str, list[Row]]:
    """Every dashboard table, as rows."""
    return {
        "cases": [{"case": r.name, "status": r.status,
                   "total_cost": r.summary.get("total_cost"),
                   "procurement_cost": r.summary.get("procurement_cost"),
                   "unmet_demand": r.summary.get("unmet_demand"), "seconds": r.seconds}
                  for r in results],
        "cost_per_t": cost_per_t(results),
        "cover": cover(plan, results),
        "concentration": concentration(plan, results, cases),
    }


# --- writing -------------------------------------------------------------------

Column = tuple[str, str, str | None, float]  # key, header, number format, width


def _write_block(ws: Worksheet, top: int, title: str, columns: Sequence[Column],
                 rows: Sequence[Row], more: str = "",
                 put: Callable[[Worksheet, int, int, Any], None] | None = None) -> int:
    """A titled small table at ``top``; returns the first free row after it."""
    from planner.report import set_value

    put = put or set_value
    put(ws, top, 1, title)
    ws.cell(row=top, column=1).font = SECTION_FONT
    for j, (_, head, _, _) in enumerate(columns, start=1):
        put(ws, top + 1, j, head)
        c = ws.cell(row=top + 1, column=j)
        c.font, c.fill = HEAD_FONT, HEAD_FILL
        c.alignment = Alignment(vertical="center")
    shown = rows[:MAX_DASHBOARD_ROWS]
    for i, row in enumerate(shown, start=top + 2):
        for j, (key, _, fmt, _) in enumerate(columns, start=1):
            put(ws, i, j, row.get(key))
            if fmt:
                ws.cell(row=i, column=j).number_format = fmt
    end = top + 2 + len(shown)
    if len(rows) > len(shown) or not rows:
        note = more if rows else "(none)"
        ws.cell(row=end, column=1, value=note).font = Font(italic=True, color="666666")
        end += 1
    return end + 1


def add_dashboard(wb: Workbook, plan: PlanData, results: Sequence[CaseResult],
                  cases: dict[str, Case], header: Sequence[tuple[str, str]],
                  policy: Sequence[Row] = (), sentences: Sequence[str] = ()) -> Worksheet:
    """The first sheet: title, run facts, key figures, policy costs, shadow prices, charts."""
    ws = wb.create_sheet("Dashboard", 0)
    cur = plan.settings.currency
    money = f'#,##0 "{cur}"'
    from planner.report import set_value

    set_value(ws, 1, 1, plan.settings.plan_name)
    ws["A1"].font = TITLE_FONT
    for i, (k, v) in enumerate(header, start=2):
        ws.cell(row=i, column=1, value=k).font = Font(bold=True)
        set_value(ws, i, 2, v)
    figures = key_figures(plan, results, cases)
    row = len(header) + 3
    start_cases = row
    row = _write_block(ws, row, "Cases", [
        ("case", "case", None, 16), ("status", "status", None, 12),
        ("total_cost", "total cost", money, 16),
        ("procurement_cost", "procurement cost", money, 16),
        ("unmet_demand", "unmet demand", '#,##0.0 "t"', 13),
        ("seconds", "solve time", '0.00 "s"', 11)], figures["cases"])
    n_cases = min(len(figures["cases"]), MAX_DASHBOARD_ROWS)
    if n_cases:
        rng = f"A{start_cases + 2}:F{start_cases + 1 + n_cases}"
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
    if len(mats) <= 7:
        # one row per case, one column per material: comparable at a glance
        by_case: dict[str, Row] = {}
        for f in figures["cost_per_t"]:
            by_case.setdefault(f["case"], {"case": f["case"]})[f["material"]] = f["cost_per_t"]
        row = _write_block(ws, row, f"Cost per t bought ({cur}, with tariffs)",
                           [("case", "case", None, 16)]
                           + [(m, m, "#,##0", 0) for m in mats], list(by_case.values()))
    else:
        row = _write_block(ws, row, f"Cost per t bought ({cur}, with tariffs)", [
            ("case", "case", None, 16), ("material", "material", None, 12),
            ("bought", "bought", '#,##0.0 "t"', 16),
            ("procurement_cost", "procurement cost", money, 16),
            ("cost_per_t", "cost per t", "#,##0", 16)], figures["cost_per_t"],
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
    row = _write_block(ws, row, "Concentration: highest single-country share per stage", [
        ("case", "case", None, 16), ("material", "material", None, 12),
        ("stage", "stage", None, 16), ("period", "period", None, 16),
        ("top_country", "top country", None, 11), ("top_share", "share", "0.0%", 11),
        ("cap", "cap", "0.0%", 10), ("hhi", "HHI (max)", "#,##0", 10)],
        figures["concentration"], "More rows than shown: see the Exposure sheet.")
    n_conc = min(len(figures["concentration"]), MAX_DASHBOARD_ROWS)
    if n_conc:
        first, last = start_conc + 2, start_conc + 1 + n_conc
        ws.conditional_formatting.add(f"F{first}:G{last}", FormulaRule(
            formula=[f"AND(ISNUMBER($G{first}),$F{first}>=$G{first}-{BINDING})"],
            fill=ALERT_FILL))
        ws.conditional_formatting.add(f"H{first}:H{last}", FormulaRule(
            formula=[f"$H{first}>=2500"], fill=ALERT_FILL))
    row = _write_block(ws, row, "What each policy costs (base case re-solved without it)", [
        ("policy", "policy", None, 0), ("status", "status without", None, 0),
        ("cost_added", "cost it adds", money, 0), ("note", "note", None, 0)],
        list(policy), "More rows than shown: see the Policy costs sheet.")
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
    note = ws.cell(row=row, column=1, value=(
        "Red: a case not solved to optimality, cover below target, a share at its cap, or "
        "HHI of 2,500 or more (highly concentrated)."))
    note.font = Font(italic=True, color="666666")
    for j, w in enumerate([20, 17, 17, 17, 17, 17, 17, 17], start=1):
        ws.column_dimensions[get_column_letter(j)].width = w
    ws.freeze_panes = "A2"
    add_charts(wb, ws, plan, results)
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
        from planner.report import set_value

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
               results: Sequence[CaseResult]) -> int:
    """Native charts on the dashboard; returns how many were added."""
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
            col = CHART_COL + j * CHART_STEP
            ws.add_chart(chart, f"{get_column_letter(col)}{2 + i * ROWS_PER_CHART}")
    return sum(len(line) for line in grid)


def _material_charts(plan: PlanData, base: CaseResult, mat: str, labels: list[str],
                     last_country: dict[str, str], data: _Data) -> list[Any]:
    out: list[Any] = []
    case = base.name
    # 1. supplier mix by country of the delivering (last) facility, stacked columns
    vol: dict[tuple[str, str], float] = defaultdict(float)
    for p in base.plan:
        if p["material"] == mat:
            vol[(last_country[p["offer"]], p["period"])] += float(p["volume"])
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
        _style(ch, f"{mat}: supplier mix by country, {case}", "t bought")
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
        _style(lc, f"{mat}: end-of-period stock vs minimum, {case}", "t")
        out.append(lc)
    # 3. country exposure per stage over the horizon, bars
    ex_vol: dict[tuple[str, str], float] = defaultdict(float)
    total = sum(float(s["supplied"]) for s in stock)
    for e in base.exposure:
        if e["material"] == mat:
            ex_vol[(e["country"], e["stage"])] += float(e["volume"])
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
    if not results:
        return []
    more = len(results) > MAX_CHART_CASES
    results = results[:MAX_CHART_CASES]
    names = [r.name for r in results]
    h, first, last = data.block("Scenario comparison", ["case", f"total cost ({cur})",
                                                         "unmet demand (t)"], names,
                                [[r.summary.get("total_cost"), r.summary.get("unmet_demand")]
                                 for r in results])
    out: list[Any] = []
    suffix = f" (first {MAX_CHART_CASES})" if more else ""
    for col, title, unit, fmt in ((2, "Total cost by case" + suffix, f"M {cur}", '#,##0.0,,'),
                                  (3, "Unmet demand by case" + suffix, "t", "#,##0")):
        ch = BarChart()
        ch.type = "col"
        ch.add_data(Reference(data.ws, min_col=col, min_row=h, max_row=last),
                    titles_from_data=True)
        ch.set_categories(Reference(data.ws, min_col=1, min_row=first, max_row=last))
        _style(ch, title, unit, y_format=fmt)
        ch.legend = None
        out.append(ch)
    return out
