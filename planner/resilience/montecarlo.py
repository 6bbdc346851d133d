"""Monte Carlo disruption shocks: sampled scenarios from the Risks sheet.

Each risk strikes its facilities at random: in every period of ``days`` days it
starts with probability ``1 - (1 - p) ** (days / 365)`` (``p`` the yearly
probability), then holds their capacity at ``capacity_factor`` for
``duration`` periods (cut at the horizon's end).  Overlapping strikes of one
risk are one disruption; strikes of different risks on one facility multiply,
as scenario factors do.  Disruptions under way before the horizon are not
modelled.

All draws come from one ``random.Random(seed)``, in a fixed order (sample,
risk, period), before anything is solved: the same seed gives the same
scenarios whatever the number of workers.  Each sample is solved as a
disruption of :mod:`planner.resilience.stress` (no foresight, the stockpile as buffer);
samples with no strike share the base plan's result, identical samples are
solved once.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from planner.analysis.risk import Risk
from planner.inputs.data import PlanData
from planner.resilience.stress import Baseline, Disruption, Outcome, run_disruptions, solve_baseline
from planner.scenario.cases import Index

PERCENTILES = (5, 50, 90, 95, 99)
DIST_COLUMNS = ["metric", "material", "mean", *[f"p{q}" for q in PERCENTILES], "max",
                "probability_positive", "samples"]
SAMPLE_COLUMNS = ["sample", "risks", "status", "total_cost", "cost_increase", "unmet_demand"]


def start_probability(yearly: float, days: float) -> float:
    """Probability that a disruption with yearly probability ``yearly`` starts in a period."""
    return 1.0 - (1.0 - yearly) ** (days / 365.0)


def sample(plan: PlanData, risks: Sequence[Risk], n: int, seed: int) -> list[Disruption]:
    """``n`` sampled disruption scenarios, reproducible from ``seed``."""
    rng = random.Random(seed)
    periods = plan.periods
    T = len(periods)
    start_p = {r.id: [start_probability(r.probability, p.days) for p in periods]
               for r in risks}
    out: list[Disruption] = []
    for i in range(n):
        factors: dict[str, list[float]] = {}
        struck: list[str] = []
        for r in risks:
            hit = [False] * T
            for t in range(T):
                if rng.random() < start_p[r.id][t]:
                    for k in range(t, min(T, t + r.duration)):
                        hit[k] = True
            if not any(hit):
                continue
            struck.append(r.id)
            for fid in r.facilities:
                f = factors.setdefault(fid, [1.0] * T)
                for t in range(T):
                    if hit[t]:
                        f[t] *= r.factor
        out.append(Disruption.make(f"sample {i + 1}", "sample", ", ".join(struck), None,
                                   factors))
    return out


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolation percentile (numpy's default), 0 <= q <= 100."""
    return float(np.percentile(np.asarray(values, dtype=float), q))


def describe(metric: str, material: str, values: Sequence[float]) -> dict[str, Any]:
    """Mean, percentiles, max and the share of samples above zero."""
    row: dict[str, Any] = {"metric": metric, "material": material, "samples": len(values)}
    if not values:
        return row
    row["mean"] = float(np.mean(values))
    for q in PERCENTILES:
        row[f"p{q}"] = percentile(values, q)
    row["max"] = float(max(values))
    row["probability_positive"] = sum(1 for v in values if v > 1e-6) / len(values)
    return row


@dataclass
class MonteCarloResult:
    """The sampled scenarios' outcomes and their distribution."""

    seed: int
    base: Baseline
    samples: list[dict[str, Any]] = field(default_factory=list)
    distribution: list[dict[str, Any]] = field(default_factory=list)
    failed: int = 0


def monte_carlo(plan: PlanData, risks: Sequence[Risk], n: int, seed: int = 1,
                options: dict[str, Any] | None = None, workers: int = 1,
                base: Baseline | None = None,
                progress: Callable[[Outcome], None] | None = None,
                scheduler: Any = None) -> MonteCarloResult:
    """Sample ``n`` scenarios, solve each, and summarise cost and unmet demand."""
    base = base or solve_baseline(plan, Index.build(plan), options=options)
    out = MonteCarloResult(seed, base)
    if base.total_cost is None:
        return out
    items = sample(plan, risks, n, seed)
    outcomes = run_disruptions(plan, base, items, options, workers, progress, scheduler)
    costs: list[float] = []
    increases: list[float] = []
    unmet_total: list[float] = []
    unmet: dict[str, list[float]] = {m: [] for m in plan.materials}
    for d, o in zip(items, outcomes, strict=True):
        row: dict[str, Any] = {"sample": d.name, "risks": d.target, "status": o.status,
                               "total_cost": o.total_cost, "cost_increase": None,
                               "unmet_demand": None}
        if o.total_cost is None:
            out.failed += 1
        else:
            row["cost_increase"] = o.total_cost - base.total_cost
            row["unmet_demand"] = sum(o.unmet.values())
            costs.append(o.total_cost)
            increases.append(row["cost_increase"])
            unmet_total.append(row["unmet_demand"])
            for m in plan.materials:
                unmet[m].append(o.unmet.get(m, 0.0))
        out.samples.append(row)
    out.distribution = [describe("total_cost", "", costs),
                        describe("cost_increase", "", increases),
                        describe("unmet_demand", "all", unmet_total)]
    out.distribution += [describe("unmet_demand", m, v) for m, v in unmet.items()]
    return out
