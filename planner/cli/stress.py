"""``planner stress``: the console ranking and the click command (loaded lazily by
:class:`planner.cli.LazyGroup`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from planner.analysis.concentration import HHI_LABEL
from planner.inputs.problems import InputError
from planner.report.resilience import default_resilience_path, write_resilience_report

#: Monte Carlo samples when the workbook has risks and none are asked for
from planner.resilience.analyse import (
    DEFAULT_SAMPLES,
    ResilienceReport,
    analyse,
    parse_window,
)
from planner.resilience.stress import (
    KINDS,
    Outcome,
)


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
        from planner.cli import _problems, dask_failed

        bar = tqdm(unit="case", desc="solving", disable=not sys.stderr.isatty(),
                   file=sys.stderr, leave=False)

        def tick(stage: str, _: Outcome) -> None:
            bar.set_description(stage)
            bar.update(1)
        from planner.inputs.problems import refuse_overwriting_input

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
        except (ImportError, OSError, TimeoutError, ValueError) as exc:
            dask_failed(exc, dask_scheduler)
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
