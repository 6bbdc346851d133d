"""Resilience analysis: stress tests, Monte Carlo shocks, supply risk and stockpile sizing.

:func:`analyse` runs the four analyses on a validated plan (what ``planner
stress`` does); :func:`add_resilience_sheet` writes them on one ``Resilience``
sheet of ranked tables and native charts (plus a ``Monte Carlo samples``
sheet), and :func:`write_resilience_report` saves the standard report of the
base case with that sheet in front.  The pieces live in :mod:`planner.resilience.stress`,
:mod:`planner.resilience.montecarlo`, :mod:`planner.resilience.sizing` and
:mod:`planner.analysis.risk`; ``docs/resilience.md`` explains the modelling.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from planner.analysis.results import CaseResult
from planner.analysis.risk import Risk, hhi_rows, read_risk_inputs
from planner.inputs.data import PlanData
from planner.inputs.problems import InputError, Problem
from planner.resilience.montecarlo import (
    MonteCarloResult,
    monte_carlo,
)
from planner.resilience.sizing import (
    SizingResult,
    SizingScenario,
    from_disruption,
    from_sheet,
    size_stockpile,
)
from planner.resilience.stress import (
    KINDS,
    Outcome,
    StressResult,
    disruptions,
    solve_baseline,
    stress,
    window_label,
)
from planner.scenario.cases import Index, build_case

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
    from planner.run.case import solve_case

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
