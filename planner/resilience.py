"""Resilience analysis: stress tests, Monte Carlo shocks, supply risk and stockpile sizing.

:func:`analyse` runs the four analyses on a validated plan (what ``planner
stress`` does); :func:`add_resilience_sheet` writes them on one ``Resilience``
sheet of ranked tables and native charts (plus a ``Monte Carlo samples``
sheet), and :func:`write_resilience_report` saves the standard report of the
base case with that sheet in front.  The pieces live in :mod:`planner.stress`,
:mod:`planner.montecarlo`, :mod:`planner.sizing` and
:mod:`planner.risk_metrics`; ``docs/resilience.md`` explains the modelling.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from planner.cases import Index, build_case
from planner.concentration import HHI_LABEL
from planner.data import PlanData
from planner.montecarlo import DIST_COLUMNS, SAMPLE_COLUMNS, MonteCarloResult, monte_carlo
from planner.problems import InputError, Problem
from planner.results import CaseResult
from planner.risk_metrics import HHI_COLUMNS, HHI_HEADERS, Risk, hhi_rows, read_risk_inputs
from planner.sizing import (
    SizingResult,
    SizingScenario,
    from_disruption,
    from_sheet,
    size_stockpile,
)
from planner.stress import (
    KINDS,
    STRESS_COLUMNS,
    STRESS_MATERIAL_COLUMNS,
    Outcome,
    StressResult,
    disruptions,
    solve_baseline,
    stress,
    window_label,
)

#: Monte Carlo samples when the workbook has risks and none are asked for
DEFAULT_SAMPLES = 200
UNMET_TOL = 1e-6


@dataclass
class ResilienceReport:
    """Everything ``planner stress`` computed, ready for the console and the workbook."""

    plan_name: str
    currency: str
    window: tuple[int, int]
    window_label: str
    stress: StressResult
    risks: list[Risk] = field(default_factory=list)
    montecarlo: MonteCarloResult | None = None
    #: the same samples, from the plan holding the sized stockpile policy
    montecarlo_policy: MonteCarloResult | None = None
    sizing: SizingResult | None = None
    sizing_scenarios: list[str] = field(default_factory=list)
    supply_risk: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: the base case's tidy tables, for the standard sheets of the report
    base_result: CaseResult | None = None
    #: period labels, in order
    periods: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """The base case and the sizing model solved to optimality."""
        return self.stress.base.status == "optimal" and (
            self.sizing is None or self.sizing.status == "optimal")


def default_window(plan: PlanData) -> tuple[int, int]:
    """The second period (the first is when stock can still be built), or the only one."""
    t = 1 if len(plan.periods) > 1 else 0
    return (t, t)


def parse_window(plan: PlanData, first: str | None, last: str | None) -> tuple[int, int]:
    """A window from period labels; InputError if bad.  Neither given: the default
    window; only the first: that period alone; only the last: from the second period
    (or the last, if earlier) to it."""
    ix = plan.period_index()
    problems = [Problem("Periods", None, "period", v, "a period label from the Periods sheet",
                        f"The horizon runs {plan.periods[0].label} to {plan.periods[-1].label}.")
                for v in (first, last) if v is not None and str(v) not in ix]
    if problems:
        raise InputError(problems)
    dflt = default_window(plan)
    if first is None and last is None:
        return dflt
    lo = ix[str(first)] if first is not None else min(dflt[0], ix[str(last)])
    hi = ix[str(last)] if last is not None else lo
    if lo > hi:
        raise InputError([Problem("Periods", None, "to_period", last,
                                  "a period not before the window's first period",
                                  "Swap --from-period and --to-period.")])
    return (lo, hi)


def check_size_names(plan: PlanData, window: tuple[int, int], names: Sequence[str]) -> None:
    """Every name is a Scenarios-sheet scenario or a stress disruption; else InputError."""
    known = list(plan.scenarios) + [d.name for d in disruptions(plan, window)]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise InputError([Problem("Scenarios", None, "scenario", n,
                                  "a Scenarios-sheet scenario or a stress disruption",
                                  "Known: " + ", ".join(known) + ".") for n in unknown])


def sizing_scenarios(plan: PlanData, result: StressResult, names: Sequence[str] | None
                     ) -> list[SizingScenario]:
    """The scenarios the policy must cover: those named (Scenarios-sheet names or stress
    disruption names), else every stress disruption that leaves demand unmet."""
    ix = Index.build(plan)
    base_case = result.base.case
    by_name = {d.name: d for d in disruptions(plan, result.window)}
    if names:
        check_size_names(plan, result.window, names)
        return [from_sheet(plan, ix, n) if n in plan.scenarios
                else from_disruption(base_case, by_name[n]) for n in names]
    seen: set[Any] = set()
    out: list[SizingScenario] = []
    for row in result.ranking:
        d = by_name.get(row["disruption"])
        if d is None or (row["unmet_demand"] or 0.0) <= UNMET_TOL or d.key in seen:
            continue
        seen.add(d.key)
        out.append(from_disruption(base_case, d))
    return out


def analyse(plan: PlanData, window: tuple[int, int] | None = None,
            kinds: Sequence[str] = KINDS, samples: int | None = None, seed: int = 1,
            size: bool = True, size_names: Sequence[str] | None = None,
            options: dict[str, Any] | None = None, workers: int = 1,
            progress: Callable[[str, Outcome], None] | None = None,
            scheduler: Any = None) -> ResilienceReport:
    """Stress test, Monte Carlo (when the workbook has risks), supply risk and sizing."""
    inputs = read_risk_inputs(plan)
    window = window or default_window(plan)
    if not 0 <= window[0] <= window[1] < len(plan.periods):
        raise InputError([Problem("Periods", None, "period", str(window),
                                  f"a window of period indices within 0..{len(plan.periods) - 1}")])
    if size and size_names:
        check_size_names(plan, window, size_names)
    ix = Index.build(plan)
    base = solve_baseline(plan, ix, build_case(plan, ix), options)

    def tell(stage: str) -> Callable[[Outcome], None] | None:
        return None if progress is None else (lambda o: progress(stage, o))

    st = stress(plan, window, kinds, options, workers, tell("stress"), base, scheduler)
    rep = ResilienceReport(plan.settings.plan_name, plan.settings.currency, window,
                           window_label(plan, window), st, inputs.risks,
                           periods=[p.label for p in plan.periods])
    from planner.api import solve_case

    rep.base_result = solve_case(plan, "base", ix, options)
    rep.supply_risk = hhi_rows(plan, [rep.base_result], inputs.scores)
    if base.total_cost is None:
        rep.notes.append(f"The base case is {base.status}: nothing to stress "
                         "(the report's Infeasibility sheet says why).")
        rep.notes.extend(rep.base_result.explanation)
        return rep
    n = DEFAULT_SAMPLES if samples is None else samples
    if inputs.risks and n > 0:
        rep.montecarlo = monte_carlo(plan, inputs.risks, n, seed, options, workers, base,
                                     tell("monte carlo"), scheduler)
    elif n > 0 and samples:
        rep.notes.append("Monte Carlo skipped: the workbook has no Risks sheet rows.")
    if size:
        scen = sizing_scenarios(plan, st, size_names)
        rep.sizing_scenarios = [s.name for s in scen]
        if scen:
            rep.sizing = size_stockpile(plan, scen, options)
        else:
            rep.notes.append("Stockpile sizing skipped: no disruption in the window leaves "
                             "demand unmet (name scenarios with --size-scenario).")
    sz = rep.sizing
    if rep.montecarlo is not None and sz is not None and sz.protected is not None \
            and sz.policy_plan is not None:
        rep.montecarlo_policy = monte_carlo(sz.policy_plan, inputs.risks, n, seed, options,
                                            workers, sz.protected, tell("monte carlo, policy"),
                                            scheduler)
    return rep


# --- the workbook ----------------------------------------------------------------

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
    from planner.report import HEADER_FILL, HEADER_FONT, set_value

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


def distinct_worst(ranking: Sequence[dict[str, Any]], n: int = 10) -> list[dict[str, Any]]:
    """The ``n`` worst distinct cases, each labelled by its first name (+ how many more)."""
    out: list[dict[str, Any]] = []
    extra: dict[str, int] = {}
    for r in ranking:
        if r.get("same_as"):
            extra[r["same_as"]] = extra.get(r["same_as"], 0) + 1
    for r in ranking:
        if r.get("same_as") or r["cost_increase"] is None:
            continue
        more = extra.get(r["disruption"], 0)
        out.append({"case": r["disruption"] + (f" (+{more} same)" if more else ""),
                    "cost_increase": r["cost_increase"], "unmet_demand": r["unmet_demand"]})
    return out[:n]


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
    from planner.report import build_workbook, save_atomic

    wb = build_workbook(plan, [rep.base_result] if rep.base_result else [])
    ws = add_resilience_sheet(wb, rep)
    wb.move_sheet(ws, offset=-wb.index(ws))
    wb.active = 0
    return save_atomic(wb, path)


def default_resilience_path(input_path: str | Path) -> Path:
    """reports/<input name>-resilience.xlsx, relative to the working directory."""
    return Path("reports") / f"{Path(input_path).stem}-resilience.xlsx"


# --- the command line: ``planner stress`` (registered in planner.cli) -------------

def _fmt(x: float | None, unit: str = "") -> str:
    return "-" if x is None else f"{x:,.1f}{unit}"


def print_report(rep: ResilienceReport, top: int, echo: Callable[[str], None]) -> None:
    """The console summary of :func:`analyse`."""
    st = rep.stress
    cur = rep.currency
    echo(f"Base case: {st.base.status}, total cost {_fmt(st.base.total_cost)} {cur}")
    distinct = [r for r in st.ranking if not r.get("same_as")]
    same: dict[str, int] = {}
    for r in st.ranking:
        if r.get("same_as"):
            same[r["same_as"]] = same.get(r["same_as"], 0) + 1
    echo(f"Stress test over {rep.window_label} ({len(st.ranking)} disruptions, "
         f"{len(distinct)} distinct), the {min(top, len(distinct))} worst:")
    echo(f"  {'rank':>4}  {'disruption':<40} {'cost increase':>18} {'unmet t':>12} "
         f"{'stock drawn t':>14}")
    for r in distinct[:top]:
        status = "" if r["status"] == "optimal" else f"  ({r['status']})"
        name = r["disruption"] + (f" (+{same[r['disruption']]} same)"
                                  if r["disruption"] in same else "")
        note = f"  {r['note']}" if r.get("note") else ""
        echo(f"  {r['rank']:>4}  {name:<40} {_fmt(r['cost_increase']):>18} "
             f"{_fmt(r['unmet_demand']):>12} {_fmt(r['stock_drawn']):>14}{status}{note}")
    # disruptions that lower the cost rank last: say so even when not printed above
    for r in [r for r in distinct[top:] if r.get("note")]:
        echo(f"  {r['rank']:>4}  {r['disruption']:<40} {_fmt(r['cost_increase']):>18}  "
             f"{r['note']}")
    mc = rep.montecarlo
    if mc is not None:
        echo(f"Monte Carlo: {len(mc.samples)} samples from {len(rep.risks)} risks "
             f"(seed {mc.seed}; {mc.failed} not solved):")
        for d in mc.distribution:
            if d.get("mean") is None:
                continue
            what = d["metric"] + (f" {d['material']}" if d["material"] else "")
            echo(f"  {what:<32} mean {_fmt(d['mean']):>16}  p50 {_fmt(d['p50']):>16}  "
                 f"p95 {_fmt(d['p95']):>16}  max {_fmt(d['max']):>16}  "
                 f"P(>0) {d['probability_positive']:.1%}")
    mp = rep.montecarlo_policy
    if mp is not None:
        for d in mp.distribution:
            if d["metric"] == "unmet_demand" and d["material"] == "all" and "mean" in d:
                echo(f"  with the sized stockpile policy, unmet demand: mean "
                     f"{_fmt(d['mean'])}  p95 {_fmt(d['p95'])}  max {_fmt(d['max'])}  "
                     f"P(>0) {d['probability_positive']:.1%}")
    sz = rep.sizing
    if sz is not None:
        echo(f"Stockpile sizing over {len(rep.sizing_scenarios)} scenarios: {sz.status}")
        for m, days in sz.days.items():
            at = rep.periods.index(sz.held_from)
            echo(f"  {m:<24} {days:>8.1f} days of cover "
                 f"({_fmt(sz.tonnes[m][at])} t at the end of {sz.held_from})")
        if sz.premium is not None:
            echo(f"  cost {_fmt(sz.protected_cost)} {cur} with the policy, "
                 f"{_fmt(sz.unprotected_cost)} without strategic stock: premium "
                 f"{_fmt(sz.premium)} {cur} (the Stockpile sheet as given: "
                 f"{_fmt(sz.current_cost)})")
        for s in sz.scenarios:
            echo(f"  {s['scenario']:<32} unmet without policy "
                 f"{_fmt(s['unmet_without_policy'])} t, with policy "
                 f"{_fmt(s['unmet_with_policy'])} t")
        for note in sz.notes:
            echo(f"  note: {note}")
    if rep.supply_risk:
        echo("Supply risk of the base plan, most concentrated material x stage "
             f"(highest {HHI_LABEL} over the periods; shares of all purchases of the "
             "material):")
        worst: dict[tuple[str, str], dict[str, Any]] = {}
        for r in rep.supply_risk:
            k = (r["material"], r["stage"])
            if k not in worst or r["hhi"] > worst[k]["hhi"]:
                worst[k] = r
        for r in sorted(worst.values(), key=lambda r: -r["hhi"])[:top]:
            gov = "" if r["hhi_governance"] is None else \
                f"  governance-weighted {r['hhi_governance']:.2f}"
            echo(f"  {r['material'] + ' x ' + r['stage']:<36} {HHI_LABEL} {r['hhi']:,.0f} "
                 f"in {r['period']} (top {r['top_country']} {r['top_share']:.0%}){gov}")
    for note in rep.notes:
        echo(f"note: {note}")


def stress_command() -> Any:
    """The ``planner stress`` click command (built lazily so click stays a CLI concern)."""
    import sys

    import click

    @click.command("stress")
    @click.argument("path", type=click.Path())
    @click.option("-o", "--output", default=None,
                  help="Report path (default reports/<input>-resilience.xlsx).")
    @click.option("--from-period", "first", default=None,
                  help="First period of the disruption window (default: the second period, "
                  "or the last period when only --to-period is given and is earlier).")
    @click.option("--to-period", "last", default=None,
                  help="Last period of the window (default: the first period of the window).")
    @click.option("--kind", "kinds", multiple=True, type=click.Choice(list(KINDS)),
                  help="Only these kinds of disruption (default: all).")
    @click.option("--samples", type=click.IntRange(min=0), default=None,
                  help=f"Monte Carlo samples (default {DEFAULT_SAMPLES} when the workbook "
                  "has a Risks sheet; 0 skips).")
    @click.option("--seed", type=int, default=1, show_default=True,
                  help="Monte Carlo random seed.")
    @click.option("--size-scenario", "size_names", multiple=True,
                  help="Scenarios the stockpile must cover (Scenarios-sheet names or stress "
                  "disruptions such as 'country CHN'; default: every stress disruption "
                  "that leaves demand unmet).")
    @click.option("--no-sizing", is_flag=True, help="Skip the stockpile sizing.")
    @click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
                  help="Local processes for the disruption solves.")
    @click.option("--dask-scheduler", "dask_scheduler", default=None, metavar="ADDRESS",
                  help="Solve the disruptions on this Dask scheduler (e.g. tcp://host:8786).")
    @click.option("--top", type=click.IntRange(min=1), default=10, show_default=True,
                  help="Disruptions printed.")
    @click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
                  help="Seconds per solve (> 0).")
    def stress_cmd(path: str, output: str | None, first: str | None, last: str | None,
                   kinds: tuple[str, ...], samples: int | None, seed: int,
                   size_names: tuple[str, ...], no_sizing: bool, workers: int,
                   dask_scheduler: str | None, top: int, time_limit: float | None) -> None:
        """Remove each country, facility and country x stage over a window and rank the
        damage; Monte Carlo shocks from the Risks sheet; size the stockpile that covers
        the damaging disruptions.  Exit 0 solved, 1 not solved, 2 bad input."""
        from tqdm import tqdm

        from planner import api
        from planner.cli import _problems

        bar = tqdm(unit="case", desc="solving", disable=not sys.stderr.isatty(),
                   file=sys.stderr, leave=False)

        def tick(stage: str, _: Outcome) -> None:
            bar.set_description(stage)
            bar.update(1)
        from planner.problems import refuse_overwriting_input

        target = Path(output) if output else default_resilience_path(path)
        try:
            refuse_overwriting_input(path, target)
            plan = api.load(path)
            window = parse_window(plan, first, last)
            click.echo(f"Resilience of {plan.settings.plan_name}:")
            rep = analyse(plan, window, kinds or KINDS, samples, seed, not no_sizing,
                          list(size_names) or None, {"time_limit": time_limit}, workers,
                          tick, dask_scheduler)
        except InputError as err:
            _problems(err)
            sys.exit(2)
        except ImportError:
            if dask_scheduler is None:
                raise
            click.echo("--dask-scheduler needs Dask: pip install 'planner[dask]'", err=True)
            sys.exit(2)
        except (OSError, TimeoutError, ValueError) as exc:
            if dask_scheduler is None:
                raise
            click.echo(f"Cannot reach the Dask scheduler {dask_scheduler}: {exc}", err=True)
            sys.exit(2)
        finally:
            bar.close()
        print_report(rep, top, click.echo)
        try:
            report = write_resilience_report(plan, rep, target)
        except OSError as exc:
            click.echo(f"Cannot write the report to {target}: {exc.strerror or exc}", err=True)
            sys.exit(2)
        click.echo(f"Report: {report}")
        sys.exit(0 if rep.ok else 1)

    return stress_cmd
