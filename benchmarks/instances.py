"""Synthetic, contract-shaped instances for benchmarks (and for sweep tests).

:func:`instance_rows` returns ``sheet -> rows`` exactly as an analyst's
workbook would hold them (every sheet of the contract is used: settings,
periods, materials, demand, stockpile, countries with group tags, stages,
facilities with capacities and windows, routes that skip stages, offers with
volumes and windows, tariffs, a quota and a ban rule, a group cap and
scenarios).  :func:`planner.api.plan_from_rows` validates those rows in memory through the
same :class:`planner.inputs.validate.Validator` the workbook loader uses, so a
benchmark instance is exactly what loading its workbook would give, without
the Excel round trip; :func:`write_instance` writes the workbook.

Sizes are named by their number of flow variables x(o, t), which is about
offers x periods (offer windows are full length, so the count is exact up to
periods where a facility is outside its window).  The numbers are random
(seeded) and illustrative only [I].
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.api import plan_from_rows
from planner.inputs.data import PlanData

Rows = dict[str, list[dict[str, Any]]]

STAGES = ["mining", "separation", "metal"]


@dataclass(frozen=True)
class Size:
    """Shape of one synthetic instance."""

    name: str
    materials: int
    periods: int
    offers: int
    countries: int = 24
    facilities_per_stage: int = 60
    scenarios: int = 4

    @property
    def flows(self) -> int:
        return self.offers * self.periods


#: ~10k, ~100k, ~1M and ~3M flow variables (monthly periods).
SIZES: dict[str, Size] = {
    "10k": Size("10k", materials=8, periods=12, offers=834),
    "100k": Size("100k", materials=20, periods=60, offers=1667),
    "1M": Size("1M", materials=50, periods=120, offers=8334, facilities_per_stage=200),
    "3M": Size("3M", materials=100, periods=120, offers=25000, facilities_per_stage=400),
}


def instance_rows(size: Size, seed: int = 1) -> Rows:
    """Rows of every input sheet of a random instance of ``size``."""
    rng = random.Random(seed)
    n_t = size.periods
    labels = [f"M{t + 1:03d}" for t in range(n_t)]
    days = [30.4 if t % 12 else 31.0 for t in range(n_t)]
    mats = [f"MAT{i:03d}" for i in range(size.materials)]
    countries = [f"C{i:02d}" for i in range(size.countries)]
    covered = set(countries[:3])
    rows: Rows = {
        "Settings": [{"setting": "plan_name", "value": f"Synthetic {size.name}"},
                     {"setting": "currency", "value": "USD"},
                     {"setting": "shortage_penalty", "value": 2_000_000}],
        "Periods": [{"period": lab, "days": d} for lab, d in zip(labels, days, strict=True)],
        "Countries": [{"country": c, "name": f"Country {c}",
                       "groups": "covered" if c in covered else "allied"}
                      for c in countries],
        "Stages": [{"stage": s} for s in STAGES],
    }
    rows["Materials"] = [{"material": m, "holding_cost": rng.choice([0, 500, 1500, 3000]),
                          "initial_stock": rng.randint(0, 50)} for m in mats]
    base = {m: rng.uniform(50, 600) for m in mats}
    rows["Demand"] = [{"material": m, "period": lab,
                       "demand": round(base[m] * rng.uniform(0.7, 1.3) * (1 + 0.004 * t), 1)}
                      for m in mats for t, lab in enumerate(labels)]
    rows["Stockpile"] = [{"material": m, "min_days": 30, "from_period": labels[min(6, n_t - 1)]}
                         for m in mats[::3]]
    fac: dict[str, list[str]] = {}
    rows["Facilities"] = []
    for k, stage in enumerate(STAGES):
        fac[stage] = []
        for j in range(size.facilities_per_stage):
            fid = f"F{k}{j:04d}"
            country = countries[j % len(countries)] if j % 3 else countries[j % 3]
            row: dict[str, Any] = {"facility": fid, "company": f"Co{j % 40:02d}",
                                   "country": country, "stage": stage}
            if rng.random() < 0.6:
                row["capacity"] = rng.randint(2_000, 20_000)
            if j % 17 == 5:
                row["from_period"] = labels[n_t // 4]
            fac[stage].append(fid)
            rows["Facilities"].append(row)
    n_routes = max(10, size.offers // 4)
    rows["Routes"] = []
    for r in range(n_routes):
        route: dict[str, Any] = {"route": f"R{r:05d}"}
        recycled = r % 10 == 9
        for stage in STAGES:
            if recycled and stage == "mining":
                continue
            route[stage] = rng.choice(fac[stage])
        rows["Routes"].append(route)
    rows["Offers"] = []
    for o in range(size.offers):
        mat = mats[o % len(mats)]
        offer: dict[str, Any] = {
            "offer": f"O{o:06d}", "supplier": f"S{o % 300:03d}", "material": mat,
            "route": f"R{rng.randrange(n_routes):05d}",
            "unit_cost": round(rng.uniform(20_000, 150_000), 0),
        }
        if rng.random() < 0.7:
            offer["max_volume"] = rng.randint(200, 3_000)
        if rng.random() < 0.05:
            offer["min_volume"] = rng.randint(10, 100)
        rows["Offers"].append(offer)
    rows["Tariffs"] = [{"country": "covered", "rate": 0.25, "from_period": labels[n_t // 2]},
                       {"country": countries[5], "material": mats[0], "rate": 0.1}]
    rows["Rules"] = [
        {"rule": "quota_C04", "kind": "quota", "country": countries[4], "stage": "separation",
         "limit": 5_000, "basis": "illustrative [I]"},
        {"rule": "ban_C01", "kind": "ban", "country": countries[1], "active": False,
         "from_period": labels[n_t // 3], "basis": "illustrative [I]"},
    ]
    rows["Caps"] = [{"cap": "covered_65", "stage": "separation", "country": "covered",
                     "max_share": 0.65, "basis": "EU CRMA Art. 5 65% benchmark [S]"}]
    scen = [
        {"scenario": "outage_C00", "action": "capacity", "target": countries[0],
         "from_period": labels[n_t // 2], "value": 0},
        {"scenario": "ban_C01", "action": "rule_on", "target": "ban_C01"},
        {"scenario": "demand_up", "action": "demand", "value": 1.2},
        {"scenario": "cost_covered", "action": "cost", "target": "covered", "value": 1.3},
    ]
    rows["Scenarios"] = scen[:size.scenarios]
    return rows


def make_plan(size: str | Size, seed: int = 1) -> PlanData:
    """A validated in-memory plan of the named size."""
    s = SIZES[size] if isinstance(size, str) else size
    return plan_from_rows(instance_rows(s, seed), f"synthetic-{s.name}")


def write_instance(size: str | Size, path: str | Path, seed: int = 1) -> Path:
    """Write the instance as an input workbook (offers stay far below Excel's row limit)."""
    from planner.inputs.template import write_workbook

    s = SIZES[size] if isinstance(size, str) else size
    return write_workbook(path, instance_rows(s, seed))
