"""Command line: ``planner template | validate | run | hedge | stress``.

Exit codes follow the contract: 0 solved, 1 a case is infeasible (or stopped
at a limit), 2 bad input (and bad usage), 3 a case could not be solved for
another reason (solver error, solver missing; the cause is printed), 130
interrupted.  No traceback reaches the user: input problems are listed,
anything unexpected is one line on stderr.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from planner import api
from planner.inputs.problems import InputError, refuse_overwriting_input

if TYPE_CHECKING:
    from planner.analysis.results import CaseResult
    from planner.resilience.hedge import HedgeResult


def dask_failed(exc: Exception, scheduler: str | None) -> NoReturn:
    """Exit 2 with one line when the Dask cluster asked for cannot be used; any such
    error without a scheduler is not Dask's and goes on (an internal error)."""
    if scheduler is None:
        raise exc
    if isinstance(exc, ImportError):
        click.echo("--dask-scheduler needs Dask: pip install 'planner[dask]'", err=True)
    else:
        click.echo(f"Cannot reach the Dask scheduler {scheduler}: {exc}", err=True)
    sys.exit(2)


def _problems(err: InputError, as_json: bool = False) -> None:
    if as_json:
        click.echo(json.dumps({"ok": False, "problems": [p.as_dict() for p in err.problems],
                               "warnings": err.warnings}, indent=2))
        return
    # The list of problems is the command's answer, so it goes to stdout (as linters do).
    click.echo(f"{len(err.problems)} problem(s) found; nothing was written:")
    for p in err.problems:
        click.echo(f"  - {p}")


class LazyGroup(click.Group):
    """A click group whose heavier commands are imported when used (click's documented
    lazy-loading pattern), so ``planner validate`` does not load the solver stack."""

    #: command name -> "module:factory" returning the click command
    lazy = {"stress": "planner.cli.stress:stress_command"}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            import importlib

            module, factory = self.lazy[cmd_name].split(":")
            command: Any = getattr(importlib.import_module(module), factory)()
            return command  # type: ignore[no-any-return]
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="planner")
def main() -> None:
    """Optimisation-based sourcing planner for critical minerals."""


@main.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--example", is_flag=True, help="Prefill with the worked example.")
@click.option("--stages", default=None, help="Comma-separated processing stages, in order.")
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
def template(path: str, example: bool, stages: str | None, force: bool) -> None:
    """Write a blank input workbook (or the worked example) to PATH.

    An existing file is never replaced without ``--force``: it may be a
    filled-in workbook.
    """
    from planner.inputs.template import TemplateError, write_template

    if Path(path).exists() and not force:
        click.echo(f"{path} exists; nothing was written. Give --force to replace it, "
                   "or another path.", err=True)
        sys.exit(2)
    stage_list = [s.strip() for s in stages.split(",") if s.strip()] if stages else None
    try:
        out = write_template(path, example=example, stages=stage_list)
    except TemplateError as exc:
        click.echo(f"Cannot write the template: {exc}.", err=True)
        sys.exit(2)
    except OSError as exc:
        click.echo(f"Cannot write {path}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    click.echo(f"Wrote {out}")


@main.command()
@click.argument("path", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def validate(path: str, as_json: bool) -> None:
    """Check the workbook at PATH; exit 0 when clean, 2 when not."""
    try:
        plan = api.load(path)
        api.check_risks(plan)  # the optional Risks sheet and Countries.risk_score
    except InputError as err:
        _problems(err, as_json)
        sys.exit(2)
    if as_json:
        click.echo(json.dumps({"ok": True, "problems": [], "warnings": plan.warnings},
                              indent=2))
        return
    for w in plan.warnings:
        click.echo(f"warning: {w}")
    click.echo(f"{path}: valid ({len(plan.materials)} materials, {len(plan.periods)} periods, "
               f"{len(plan.offers)} offers, {len(plan.scenarios)} scenarios).")


def _progress(r: CaseResult) -> None:
    cost = "" if r.total_cost is None else f"  total_cost {r.total_cost:,.2f}"
    unmet = r.summary.get("unmet_demand")
    extra = "" if unmet is None else f"  unmet {unmet:,.3f} t"
    click.echo(f"  {r.name:<24} {r.status!s:<12}{cost}{extra}  ({r.seconds:.2f} s)")
    if r.message and r.status != "infeasible":
        click.echo(f"    cause: {r.message}")
    for line in r.explanation:
        click.echo(f"    {line}")
    for note in r.notes:
        click.echo(f"    note: {note}")


def _policy_progress(p: api.PolicyCost) -> None:
    added = "" if p.cost_added is None else f"  adds {p.cost_added + 0.0:,.2f}"
    if p.cost_added is not None and abs(p.cost_added) < 0.005:
        added = "  adds 0.00"
    click.echo(f"  {p.policy:<36} {p.status:<12}{added}  {p.note}".rstrip())


@main.command()
@click.argument("path", type=click.Path())
@click.option("-o", "--output", "output", default=None, help="Report path.")
@click.option("--scenario", "scenarios", multiple=True, help="Only these scenarios.")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds per case (> 0).")
@click.option("--threads", type=click.IntRange(min=1), default=None,
              help="Solver threads (at most this machine's processors).")
@click.option("--method", type=click.Choice(["choose", "simplex", "ipm", "pdlp"]),
              default=None, help="HiGHS method.")
@click.option("--gap", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Relative optimality (duality) gap for ipm and pdlp, e.g. 1e-6.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Solve cases in this many local processes.")
@click.option("--dask-scheduler", "dask_scheduler", default=None, metavar="ADDRESS",
              help="Solve cases on the Dask cluster at ADDRESS (e.g. tcp://host:8786).")
@click.option("--warm", type=click.Choice(["auto", "on", "off"]), default=None,
              help="Start each case from the base case's optimal basis on the run's shared "
                   "model: auto and on (the default), or off (every case cold).")
@click.option("--no-policy", "no_policy", is_flag=True,
              help="Skip re-solving the base case without each rule, cap and stockpile "
                   "minimum (the report's Policy costs).")
@click.option("--export-lp", "export_lp", default=None, metavar="DIR",
              type=click.Path(file_okay=False),
              help="Write each case's LP as DIR/<case>.mps (any LP solver reads it).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON document (cases, statuses, causes, report) instead of "
                   "progress text.")
def run(path: str, output: str | None, scenarios: tuple[str, ...], time_limit: float | None,
        threads: int | None, method: str | None, gap: float | None, workers: int,
        dask_scheduler: str | None, warm: str | None, no_policy: bool,
        export_lp: str | None, as_json: bool) -> None:
    """Validate PATH, solve the base case and scenarios, write the report."""
    import time

    say = (lambda *_a, **_k: None) if as_json else click.echo

    from planner.report.workbook import RunInfo
    from planner.solve.solver import clamp_threads, gap_options

    if threads is not None:
        threads, cut = clamp_threads(threads)
        if cut:
            click.echo(f"warning: {cut}", err=True)
    options = {"time_limit": time_limit, "threads": threads, "solver": method,
               **gap_options(gap)}
    if warm:
        options["warm"] = warm
    info = RunInfo(path, options=dict(options))
    target = Path(output) if output else api.default_report_path(path)
    try:
        refuse_overwriting_input(path, target)
    except InputError as err:
        _problems(err, as_json)
        sys.exit(2)
    if export_lp:
        try:
            Path(export_lp).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            click.echo(f"Cannot create {export_lp}: {exc.strerror or exc}", err=True)
            sys.exit(2)
        options["export_lp"] = str(Path(export_lp).resolve())
    try:
        plan = api.load(path)
        for w in plan.warnings:
            say(f"warning: {w}")
        say(f"Solving {plan.settings.plan_name}:")
        results = api.solve_all(plan, list(scenarios) or None, options,
                                None if as_json else _progress,
                                workers=workers, scheduler=dask_scheduler,
                                with_policy=not no_policy)
    except InputError as err:
        _problems(err, as_json)
        sys.exit(2)
    except (ImportError, OSError, TimeoutError, ValueError) as exc:
        dask_failed(exc, dask_scheduler)
    policy = None
    if not no_policy and any(r.name == "base" for r in results):
        say("What each policy costs (base case re-solved without it):")
        started = time.perf_counter()
        policy = api.policy_costs(plan, results, options,
                                  None if as_json else _policy_progress)
        info.policy_seconds = time.perf_counter() - started
    try:
        report = api.write(plan, results, target, info, policy)
    except OSError as exc:
        click.echo(f"Cannot write the report to {target}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    say(f"Report: {report}")
    code = api.exit_code(results)
    if as_json:
        click.echo(json.dumps({
            "ok": code == 0, "exit_code": code, "report": str(report),
            "warnings": plan.warnings,
            "cases": [{"scenario": r.name, "status": str(r.status),
                       "total_cost": r.total_cost,
                       "unmet_demand": r.summary.get("unmet_demand"),
                       "cause": r.message, "explanation": r.explanation, "notes": r.notes}
                      for r in results]}, indent=2))
    if code == 3:
        click.echo("planner: a case could not be solved; its cause is above and in the "
                   "report's Run sheet.", err=True)
    sys.exit(code)


@main.command("hedge")
@click.argument("path", type=click.Path())
@click.option("-o", "--output", "output", default=None,
              help="Report path (default reports/<input>-hedge.xlsx).")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Seconds per solve (> 0).")
def hedge(path: str, output: str | None, time_limit: float | None) -> None:
    """Two-stage hedge: orders through Settings commit_through shared by every scenario of
    the Probabilities sheet, minimising (1 - risk_weight) x expected cost + risk_weight x
    CVaR; writes the report.  Exit 0 solved, 1 infeasible, 2 bad input, 3 solver failure."""
    target = Path(output) if output else api.default_hedge_path(path)
    try:
        refuse_overwriting_input(path, target)
        plan = api.load(path)
        for w in plan.warnings:
            click.echo(f"warning: {w}")
        click.echo(f"Hedging {plan.settings.plan_name}:")
        result = api.hedge(plan, {"time_limit": time_limit})
    except InputError as err:
        _problems(err)
        sys.exit(2)
    _print_hedge(result)
    try:
        report = api.write_hedge(plan, result, target)
    except OSError as exc:
        click.echo(f"Cannot write the report to {target}: {exc.strerror or exc}", err=True)
        sys.exit(2)
    click.echo(f"Report: {report}")
    code = result.exit_code
    if code == 3:
        click.echo(f"planner: the hedge could not be solved: {result.message}", err=True)
    sys.exit(code)


def _print_hedge(result: HedgeResult) -> None:
    click.echo(f"  status {result.status}")
    for line in result.explanation:
        click.echo(f"    {line}")
    if result.message and not result.explanation:
        click.echo(f"    cause: {result.message}")
    if result.status != "optimal":
        return
    for row in result.measure_rows():
        v = row["value"]
        shown = "" if v is None else f"{v:,.2f}"
        click.echo(f"  {row['measure']:<14} {shown:>16}" + ("" if v is not None
                                                           else f"  ({row['note']})"))
    for c in result.commitments:
        click.echo(f"  sign: {c['offer']} ({c['supplier']}) {c['material']} {c['period']}: "
                   f"{c['volume']:,.3f} t")


def entry() -> None:
    """Console entry point: never let a traceback reach the user.

    Click's standalone mode would turn Ctrl-C into "Aborted!" and exit 1, the code
    for "a case infeasible"; here it is one line and exit 130, as shells expect.
    """
    try:
        rv = main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, click.exceptions.Abort):
        click.echo("planner: interrupted; nothing more was written.", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001
        click.echo(f"planner: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(3)
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    entry()
