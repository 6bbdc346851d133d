"""The hedge report (``planner hedge``), written atomically.

Sheets, in order: Dashboard (what to sign now and what the hedge costs and
saves, in sentences), Hedge (the measures), Commitments (the shared orders),
Hedge scenarios (each scenario's cost under the hedge and alone), Frontier
(the hedge re-solved for several risk weights, with a native chart of expected
cost against CVaR), then the contract's tidy tables (Summary, Plan, Stock,
Exposure, Constraints) of each scenario's recourse under the commitments, and
Infeasibility and Notes where there is something to say.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from planner.analysis.results import TABLE_COLUMNS, tidy_tables
from planner.inputs.data import PlanData
from planner.model.families import money
from planner.report.periods import number_periods
from planner.resilience.hedge import HedgeResult
from planner.xlsx.save import save_atomic
from planner.xlsx.tables import FORMATS, MONEY, write_split

HEDGE_COLUMNS = ["measure", "value", "note"]
COMMITMENT_COLUMNS = ["offer", "supplier", "material", "period", "volume",
                      "expected_unit_cost", "expected_cost"]
SCENARIO_COLUMNS = ["scenario", "probability", "total_cost", "money", "penalties",
                    "foresight_cost"]
FRONTIER_COLUMNS = ["risk_weight", "expected_cost", "cvar", "objective", "status"]

TITLE = Font(bold=True, size=16, color="1F4E78")
SECTION = Font(bold=True, size=12, color="1F4E78")


def _formats(currency: str) -> dict[str, str]:
    out = dict(FORMATS)
    for k in MONEY:
        out[k] = out[k] + f' "{currency}"'
    cash = f'#,##0 "{currency}"'
    out.update({"value": "#,##0.##", "expected_unit_cost": f'#,##0.00 "{currency}"',
                "expected_cost": cash, "money": cash, "penalties": cash,
                "foresight_cost": cash, "cvar": cash, "objective": cash,
                "probability": "0.0%", "risk_weight": "0.00"})
    return out


def sign_now(plan: PlanData, result: HedgeResult) -> list[str]:
    """One sentence per supplier and period: the tonnes and expected cost to sign."""
    cur = plan.settings.currency
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for c in result.commitments:
        grouped[(c["supplier"], str(c["period"]))].append(c)
    lines = []
    for (supplier, period), rows in grouped.items():
        tonnes = sum(r["volume"] for r in rows)
        cost = sum(r["expected_cost"] for r in rows)
        what = "; ".join(f"{r['offer']}: {r['volume']:,.1f} t of {r['material']}" for r in rows)
        lines.append(f"Sign with {supplier} for {period}: {tonnes:,.1f} t ({what}), about "
                     f"{money(cost, cur)}.")
    return lines


def dashboard_lines(plan: PlanData, result: HedgeResult) -> list[tuple[str, str]]:
    """(style, text) lines of the Dashboard: what to sign now, the premium and the saving."""
    cur = plan.settings.currency
    lam, through = result.risk_weight, result.commit_through
    out: list[tuple[str, str]] = [("title", f"Hedge: {plan.settings.plan_name}")]
    out.append(("text", f"Orders through {through} are signed now and shared by every "
                        f"scenario ({', '.join(result.scenarios)}); later orders wait until "
                        f"the scenario is known. Risk weight {lam:g}, CVaR level "
                        f"{result.cvar_level:g}."))
    if result.status != "optimal":
        out.append(("section", f"No hedge: the model is {result.status}"))
        out.extend(("text", line) for line in (result.explanation or [result.message]))
        return out
    out.append(("section", "What to sign now"))
    lines = sign_now(plan, result)
    if lines:
        out.extend(("text", line) for line in lines)
    else:
        out.append(("text", f"Nothing: no order through {through} is worth signing now at "
                            "this risk weight; every purchase can wait for the scenario."))
    out.append(("section", "What the hedge costs and saves"))
    neutral = result.neutral
    assert result.expected_cost is not None and result.cvar is not None
    worst = max(result.costs, key=lambda n: result.costs[n])
    if lam == 0 or neutral is None:
        out.append(("text", f"This plan is risk neutral (risk_weight {lam:g}): it has the "
                            f"least expected cost, {money(result.expected_cost, cur)}; its worst "
                            f"scenario, {worst}, costs {money(result.costs[worst], cur)}."))
    else:
        assert neutral.expected_cost is not None
        premium = result.expected_cost - neutral.expected_cost
        n_costs = dict(zip(result.scenarios, neutral.costs, strict=True))
        n_worst = max(n_costs, key=lambda n: n_costs[n])
        top = result.costs[worst]
        if result.costs.get(n_worst, -1.0) >= top - 1e-6 * max(1.0, abs(top)):
            worst = n_worst  # a tie: name the scenario the risk-neutral plan fears
        saving = n_costs[n_worst] - result.costs[worst]
        out.append(("text", f"In the expected case the hedge costs {money(premium, cur)} more "
                            f"than the risk-neutral plan ({money(result.expected_cost, cur)} "
                            f"against {money(neutral.expected_cost, cur)})."))
        where = (f"{worst}" if worst == n_worst
                 else f"{worst} under the hedge, {n_worst} under the risk-neutral plan")
        verb = "saves" if saving >= 0 else "costs"
        out.append(("text", f"In the worst scenario ({where}) it {verb} "
                            f"{money(saving, cur)}: {money(result.costs[worst], cur)} instead "
                            f"of {money(n_costs[n_worst], cur)}."))
    out.append(("text", f"CVaR at {result.cvar_level:g}: {money(result.cvar, cur)} (the "
                        f"expected cost of the worst {1 - result.cvar_level:.0%} of "
                        "probability)."))
    if result.evpi is not None:
        out.append(("text", f"Perfect foresight would be worth {money(result.evpi, cur)} "
                            "(EVPI)."))
    if result.vss is not None:
        out.append(("text", f"Signing the base case's own plan through {through} instead "
                            f"would cost {money(result.vss, cur)} more (VSS)."))
    elif result.vss_note:
        out.append(("text", f"VSS {result.vss_note}."))
    out.append(("text", "See the Frontier sheet for the trade-off between expected cost and "
                        "CVaR as the risk weight rises."))
    return out


def _dashboard(wb: Workbook, plan: PlanData, result: HedgeResult) -> None:
    ws = wb.create_sheet("Dashboard", 0)
    ws.column_dimensions["A"].width = 130
    fonts = {"title": TITLE, "section": SECTION}
    row = 1
    for style, text in dashboard_lines(plan, result):
        if style == "section":
            row += 1
        cell = ws.cell(row=row, column=1, value=text)
        if style in fonts:
            cell.font = fonts[style]
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if style not in fonts:
            # Spreadsheets do not grow a row for wrapped text on their own (LibreOffice
            # overlaps it): about 120 characters fit a line of the 130-wide column.
            ws.row_dimensions[row].height = 15 * max(1, -(-len(str(text)) // 120))
        row += 1


def _frontier_chart(ws: Worksheet, n: int) -> None:
    if n == 0:
        return
    chart = ScatterChart()
    chart.title = "Expected cost against CVaR as the risk weight rises"
    chart.style = 13
    chart.x_axis.title = "CVaR"
    chart.y_axis.title = "Expected cost"
    xs = Reference(ws, min_col=FRONTIER_COLUMNS.index("cvar") + 1, min_row=2, max_row=n + 1)
    ys = Reference(ws, min_col=FRONTIER_COLUMNS.index("expected_cost") + 1, min_row=1,
                   max_row=n + 1)
    series = Series(ys, xs, title_from_data=True)
    series.marker.symbol = "circle"
    chart.series.append(series)
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    chart.height, chart.width = 9, 16
    ws.add_chart(chart, "H2")


def build_hedge_workbook(plan: PlanData, result: HedgeResult) -> Workbook:
    """The whole hedge report."""
    wb = Workbook()
    assert wb.active is not None
    wb.remove(wb.active)
    fmts = _formats(plan.settings.currency)
    notes: list[str] = []
    write_split(wb, "Hedge", HEDGE_COLUMNS, result.measure_rows(), fmts, notes)
    wb["Hedge"].column_dimensions["C"].width = 90
    write_split(wb, "Commitments", COMMITMENT_COLUMNS, result.commitments, fmts, notes)
    write_split(wb, "Hedge scenarios", SCENARIO_COLUMNS, result.scenario_rows(), fmts, notes)
    frontier = result.frontier_rows()
    write_split(wb, "Frontier", FRONTIER_COLUMNS, frontier, fmts, notes, stream=False)
    _frontier_chart(wb["Frontier"], len(frontier))
    tables = tidy_tables(list(result.recourse))
    for name, columns in TABLE_COLUMNS.items():
        write_split(wb, name, columns, number_periods(plan, tables[name]), fmts, notes)
    if result.explanation:
        write_split(wb, "Infeasibility", ["explanation"],
                    [{"explanation": line} for line in result.explanation], fmts, notes)
        wb["Infeasibility"].column_dimensions["A"].width = 130
    note_rows = [{"kind": "warning", "note": w} for w in plan.warnings]
    note_rows += [{"kind": "hedge", "note": n} for n in result.notes]
    note_rows.append({"kind": "hedge", "note": "Summary, Plan, Stock, Exposure and "
                      "Constraints hold each scenario's recourse under the commitments, "
                      "re-solved alone: shadow prices are changes in that scenario's "
                      "total_cost."})
    if result.message:
        note_rows.append({"kind": str(result.status), "note": result.message})
    note_rows += [{"kind": "report", "note": n} for n in notes]
    write_split(wb, "Notes", ["kind", "note"], note_rows, fmts)
    wb["Notes"].column_dimensions["B"].width = 120
    _dashboard(wb, plan, result)
    wb.active = 0
    return wb


def write_hedge_report(plan: PlanData, result: HedgeResult, path: str | Path) -> Path:
    """Build the hedge report and write it atomically."""
    return save_atomic(build_hedge_workbook(plan, result), path)
