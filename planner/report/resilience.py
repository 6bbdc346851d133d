"""The Resilience sheet and report of ``planner stress``: ranked disruptions, Monte
Carlo distribution, supply risk and the stockpile sizing, with native charts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from planner.analysis.concentration import HHI_LABEL
from planner.analysis.risk import HHI_COLUMNS, HHI_HEADERS
from planner.inputs.data import PlanData
from planner.report.workbook import build_workbook

#: Monte Carlo samples when the workbook has risks and none are asked for
from planner.resilience.analyse import ResilienceReport, distinct_worst
from planner.resilience.montecarlo import (
    DIST_COLUMNS,
    SAMPLE_COLUMNS,
)
from planner.resilience.stress import (
    STRESS_COLUMNS,
    STRESS_MATERIAL_COLUMNS,
)
from planner.xlsx.save import save_atomic
from planner.xlsx.tables import HEADER_FILL, HEADER_FONT, set_value

TITLE = Font(bold=True, size=14)
SECTION = Font(bold=True, size=12, color="1F4E78")
MONEY = "#,##0"
T = '#,##0.0" t"'
SHEET_FORMATS = {
    "total_cost": MONEY, "cost_increase": MONEY, "unmet_demand": T, "stock_drawn": T,
    "unmet_share": "0.0%", "mean": "#,##0.##", "max": "#,##0.##",
    "probability_positive": "0.0%", "days_of_cover": "0.0", "stock": T,
    "recourse_cost": MONEY, "unmet_in_model": T, "unmet_with_policy": T,
    "unmet_without_policy": T, "entry_stock": T, "value": "#,##0.##", "purchases": T,
    "through_stage": T,
    "total_cost_with_policy": MONEY, "unmet_demand_with_policy": T,
    "top_share": "0.0%", "hhi": "#,##0", "hhi_governance": "0.00",
    **{f"p{q}": "#,##0.##" for q in (5, 50, 90, 95, 99)},
}


def _table(ws: Worksheet, top: int, columns: Sequence[str], rows: Sequence[dict[str, Any]],
           left: int = 1, headers: dict[str, str] | None = None) -> int:
    """A styled table at (top, left); returns the last row written.  Each column is at
    least as wide as its header (column names such as ``unmet_without_policy`` have no
    space to wrap at, so they would be cut off)."""

    for j, name in enumerate(columns, start=left):
        head = (headers or {}).get(name, name)
        set_value(ws, top, j, head)
        cell = ws.cell(row=top, column=j)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        dim = ws.column_dimensions[get_column_letter(j)]
        dim.width = max(float(dim.width or 0), len(head) + 2.0)
    for i, row in enumerate(rows, start=top + 1):
        for j, name in enumerate(columns, start=left):
            set_value(ws, i, j, row.get(name))
            fmt = SHEET_FORMATS.get(name)
            if fmt:
                ws.cell(row=i, column=j).number_format = fmt
    return top + len(rows)


def _bar(title: str, y_title: str, ws: Worksheet, cats: tuple[int, int, int],
         series: Sequence[tuple[int, int, int]], anchor: str, horizontal: bool = True
         ) -> None:
    """A native bar chart: categories (col, first, last row), series with header rows."""
    chart = BarChart()
    chart.type = "bar" if horizontal else "col"
    chart.title = title
    chart.y_axis.title = y_title
    chart.height, chart.width = 9, 18
    for col, first, last in series:
        chart.add_data(Reference(ws, min_col=col, min_row=first - 1, max_row=last),
                       titles_from_data=True)
    chart.set_categories(Reference(ws, min_col=cats[0], min_row=cats[1], max_row=cats[2]))
    chart.x_axis.tickLblSkip = 1
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    if horizontal:
        chart.x_axis.scaling.orientation = "maxMin"
    if len(series) == 1:
        chart.legend = None
    else:
        chart.legend.position = "b"
    ws.add_chart(chart, anchor)


def _histogram(values: Sequence[float], bins: int = 10) -> list[dict[str, Any]]:
    """Equal-width bins of the values (one bin when all are equal)."""
    if not values:
        return []
    lo, hi = min(values), max(values)
    if hi - lo <= 1e-9 * max(1.0, abs(hi)):
        return [{"bin": f"{lo:,.0f}", "samples": len(values)}]
    width = (hi - lo) / bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((v - lo) / width))] += 1
    return [{"bin": f"{lo + i * width:,.0f} to {lo + (i + 1) * width:,.0f}",
             "samples": c} for i, c in enumerate(counts)]


def add_resilience_sheet(wb: Workbook, rep: ResilienceReport) -> Worksheet:
    """The ``Resilience`` sheet: ranked stress table, Monte Carlo distribution, stockpile
    policy and supply risk, with native charts; the per-material stress detail and the
    sampled outcomes go on their own sheets (``Stress by material``,
    ``Monte Carlo samples``)."""
    ws = wb.create_sheet("Resilience")
    ws["A1"] = f"Resilience: {rep.plan_name}"
    ws["A1"].font = TITLE
    st = rep.stress
    ws["A2"] = (f"Base total cost {st.base.total_cost or 0:,.0f} {rep.currency}; disruptions "
                f"over {rep.window_label}, no foresight, stockpile released as the buffer.")
    row = 4

    def section(text: str) -> None:
        nonlocal row
        ws.cell(row=row, column=1, value=text).font = SECTION
        row += 1

    section(f"Stress test: each supply removed over {rep.window_label}, ranked by cost "
            f"increase ({rep.currency})")
    last = _table(ws, row, STRESS_COLUMNS, st.ranking)
    worst = distinct_worst(st.ranking)
    left = len(STRESS_COLUMNS) + 2
    chart_col = get_column_letter(left + 4)
    if worst:
        ws.cell(row=row - 1, column=left, value="Worst distinct cases").font = Font(bold=True)
        wlast = _table(ws, row, ["case", "cost_increase", "unmet_demand"], worst, left)
        ws.column_dimensions[get_column_letter(left)].width = 34
        for j in (left + 1, left + 2):
            ws.column_dimensions[get_column_letter(j)].width = 16
        _bar("Cost increase, worst distinct disruptions", rep.currency, ws,
             (left, row + 1, wlast), [(left + 1, row + 1, wlast)], f"{chart_col}{row}")
        _bar("Unmet demand, worst distinct disruptions", "t", ws, (left, row + 1, wlast),
             [(left + 2, row + 1, wlast)], f"{chart_col}{row + 19}")
    row = max(last, row + 38) + 1
    ws.cell(row=row, column=1, value="Per material: the Stress by material sheet.")
    row += 2
    mws = wb.create_sheet("Stress by material")
    _table(mws, 1, STRESS_MATERIAL_COLUMNS, st.by_material)
    mws.freeze_panes = "A2"
    mws.column_dimensions["A"].width = 32
    mws.column_dimensions["B"].width = 22

    mc = rep.montecarlo
    if mc is not None:
        section(f"Monte Carlo: {len(mc.samples)} sampled scenarios from the Risks sheet "
                f"(seed {mc.seed}; {mc.failed} not solved)")
        row = _table(ws, row, DIST_COLUMNS, mc.distribution) + 2
        hist = _histogram([s["cost_increase"] for s in mc.samples
                           if s["cost_increase"] is not None])
        ws.cell(row=row, column=1, value="Cost increase distribution").font = Font(bold=True)
        row += 1
        hfirst = row + 1
        hlast = _table(ws, row, ["bin", "samples"], hist)
        if hist:
            _bar(f"Cost increase over {len(mc.samples)} samples ({rep.currency})",
                 "samples", ws, (1, hfirst, hlast), [(2, hfirst, hlast)], f"D{row}",
                 horizontal=False)
        row = max(hlast, row + 19) + 2
        samples = [dict(s) for s in mc.samples]
        columns = list(SAMPLE_COLUMNS)
        mp = rep.montecarlo_policy
        if mp is not None:
            section("Monte Carlo, the same samples from the plan holding the sized stockpile "
                    "policy (cost increase over that plan)")
            row = _table(ws, row, DIST_COLUMNS, mp.distribution) + 2
            columns += ["total_cost_with_policy", "unmet_demand_with_policy"]
            for s, p in zip(samples, mp.samples, strict=True):
                s["total_cost_with_policy"] = p["total_cost"]
                s["unmet_demand_with_policy"] = p["unmet_demand"]
        sws = wb.create_sheet("Monte Carlo samples")
        _table(sws, 1, columns, samples)
        sws.freeze_panes = "A2"

    sz = rep.sizing
    if sz is not None:
        section("Stockpile sizing: least-cost days of cover with zero unmet demand in "
                "the scenarios below")
        at = rep.periods.index(sz.held_from)
        policy = [{"material": m, "days_of_cover": d, "held_from": sz.held_from,
                   "stock": sz.tonnes[m][at]}
                  for m, d in sz.days.items()]
        section_top = row
        pfirst = row + 1
        plast = _table(ws, row, ["material", "days_of_cover", "held_from", "stock"], policy)
        if policy:
            _bar("Stockpile policy (days of cover)", "days", ws, (1, pfirst, plast),
                 [(2, pfirst, plast)], f"J{section_top}")
        row = plast + 2
        costs: list[dict[str, Any]] = [
            {"item": "status", "value": sz.status},
            {"item": f"cost without strategic stock ({rep.currency})",
             "value": sz.unprotected_cost},
            {"item": f"cost with the Stockpile sheet as given ({rep.currency})",
             "value": sz.current_cost},
            {"item": f"cost with the sized policy ({rep.currency})", "value": sz.protected_cost},
            {"item": f"premium of the policy ({rep.currency})", "value": sz.premium},
            {"item": "unmet demand no policy can avoid (t)", "value": sz.residual_unmet},
        ]
        last_item = _table(ws, row, ["item", "value"], costs)
        for i in range(row + 1, last_item + 1):  # long items wrap in column A (34 wide)
            cell = ws.cell(row=i, column=1)
            if len(str(cell.value)) > 32:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                ws.row_dimensions[i].height = 30.0
        row = last_item + 2
        scols = ["scenario", "first_period", "entry_stock", "unmet_in_model", "recourse_cost",
                 "unmet_with_policy", "unmet_without_policy"]
        sfirst = row + 1
        slast = _table(ws, row, scols, sz.scenarios)
        if sz.scenarios:
            _bar("Unmet demand without and with the policy", "t", ws, (1, sfirst, slast),
                 [(7, sfirst, slast), (6, sfirst, slast)], f"J{section_top + 20}")
        row = max(slast + 2, section_top + 40)
        for note in sz.notes:
            ws.cell(row=row, column=1, value=note)
            row += 1
        row += 1

    section(f"Supply risk of the base plan ({HHI_LABEL}, shares of all purchases of the "
            "material; see the Supply risk sheet)")
    worst = sorted(rep.supply_risk, key=lambda r: -r["hhi"])[:20]
    row = _table(ws, row, HHI_COLUMNS, worst, headers=HHI_HEADERS) + 2
    for note in rep.notes:
        ws.cell(row=row, column=1, value=note)
        row += 1
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 24
    for j in range(3, 14):
        dim = ws.column_dimensions[get_column_letter(j)]
        dim.width = max(float(dim.width or 0), 15.0)
    # the stress note ("cheaper: commitments on ... lapse") reads whole
    ws.column_dimensions[get_column_letter(STRESS_COLUMNS.index("note") + 1)].width = 44
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    return ws


def write_resilience_report(plan: PlanData, rep: ResilienceReport, path: str | Path) -> Path:
    """The base case's standard report with the Resilience sheet in front, atomically."""

    wb = build_workbook(plan, [rep.base_result] if rep.base_result else [])
    ws = add_resilience_sheet(wb, rep)
    wb.move_sheet(ws, offset=-wb.index(ws))
    wb.active = 0
    return save_atomic(wb, path)


def default_resilience_path(input_path: str | Path) -> Path:
    """reports/<input name>-resilience.xlsx, relative to the working directory."""
    return Path("reports") / f"{Path(input_path).stem}-resilience.xlsx"


# --- the command line: ``planner stress`` (registered in planner.cli) -------------
