"""Random valid contract workbooks that exercise every feature, from a seed."""

from __future__ import annotations

import random
from typing import Any

Data = dict[str, list[dict[str, Any]]]


def random_workbook(seed: int, size: int = 1) -> Data:
    """A small valid workbook: every sheet, rule kind, cap form and scenario action,
    take_or_pay, force majeure (capacity factors in (0, 1)), end_value, rules and caps
    that apply to use, and a stockpile_penalty set or blank (per-material default).

    ``size`` > 1 allows more periods, materials, countries, facilities, routes and offers.
    """
    rng = random.Random(seed)
    n_per = rng.randint(1, 3 * size)
    periods = [2026 + i for i in range(n_per)]
    labels: list[Any] = [p if rng.random() < 0.5 else str(p) for p in periods]

    def window() -> dict[str, Any]:
        a = rng.randint(0, n_per - 1)
        b = rng.randint(a, n_per - 1)
        out: dict[str, Any] = {}
        if rng.random() < 0.4:
            out["from_period"] = periods[a]
        if rng.random() < 0.4:
            out["to_period"] = periods[b]
        if "from_period" in out and "to_period" in out and periods.index(
                out["from_period"]) > periods.index(out["to_period"]):
            del out["to_period"]
        return out

    mats = [f"M{i}" for i in range(rng.randint(1, 2 * size))]
    countries = [f"C{i}" for i in range(rng.randint(2, 4 * size))]
    tags = ["G1", "G2"]
    stages = ["mine", "sep", "metal"][: rng.randint(1, 3)]
    companies = ["K1", "K2", "K3"]
    d: Data = {
        "Periods": [{"period": lab, "days": rng.choice([365, 366, 181, 90])} for lab in labels],
        "Materials": [{"material": m, "holding_cost": rng.choice([None, 0, 5, 50]),
                       "shortage_penalty": rng.choice([None, None, 300, 2000]),
                       "initial_stock": rng.choice([None, 0, 10, 40])} for m in mats],
        "Countries": [{"country": c, "groups": ", ".join(
            t for t in tags if rng.random() < 0.5)} for c in countries],
        "Stages": [{"stage": s} for s in stages],
    }
    d["Demand"] = [{"material": m, "period": p, "demand": rng.choice([0, 20, 50, 100])}
                   for m in mats for p in periods if rng.random() < 0.85]
    facs = []
    for i in range(rng.randint(2, 6 * size)):
        f = {"facility": f"F{i}", "country": rng.choice(countries), "stage": rng.choice(stages),
             "company": rng.choice([None, *companies]),
             "capacity": rng.choice([None, None, 0, 30, 80, 200]), **window()}
        facs.append(f)
    d["Facilities"] = facs
    by_stage = {s: [f["facility"] for f in facs if f["stage"] == s] for s in stages}
    routes = []
    for i in range(rng.randint(1, 5 * size)):
        r: dict[str, Any] = {"route": f"R{i}"}
        for s in stages:
            if by_stage[s] and rng.random() < 0.7:
                r[s] = rng.choice(by_stage[s])
        if len(r) == 1:
            s = rng.choice([s for s in stages if by_stage[s]])
            r[s] = rng.choice(by_stage[s])
        routes.append(r)
    d["Routes"] = routes
    offers = []
    for i in range(rng.randint(1, 8 * size)):
        lo = rng.choice([None, 0, 0, 5, 20])
        hi = rng.choice([None, None, 40, 100])
        if lo is not None and hi is not None and lo > hi:
            lo = hi
        top = rng.choice([None, None, 0, 0.3, 1]) if lo else None
        offers.append({"offer": f"O{i}", "supplier": rng.choice(["S1", "S2", *companies]),
                       "material": rng.choice(mats), "route": rng.choice(routes)["route"],
                       "unit_cost": rng.choice([5, 10, 12.5, 20, 40]), "min_volume": lo,
                       "max_volume": hi, "take_or_pay": top, **window()})
    d["Offers"] = offers
    for mrow in d["Materials"]:
        # end_value well below every price the material can be bought at, even after two
        # scenario cost factors of 0.5 (x 0.25): else the plan would buy to hold and the
        # LP could be unbounded (validation only checks the base case's last period).
        costs = [o["unit_cost"] for o in offers if o["material"] == mrow["material"]]
        if rng.random() < 0.4:
            mrow["end_value"] = rng.choice([0.1, 0.2]) * min(costs, default=5)
    d["Settings"] = []
    if rng.random() < 0.5:
        # blank: the per-material default shortage_penalty / (2 x horizon years)
        d["Settings"].append({"setting": "stockpile_penalty",
                              "value": rng.choice([None, 1, 30, 500])})
    if rng.random() < 0.25:
        d["Settings"].append({"setting": "shortage_penalty", "value": 250})
    d["Stockpile"] = []
    for m in mats:
        if rng.random() < 0.5:
            d["Stockpile"].append({"material": m, "min_days": rng.choice([None, 30, 90]),
                                   "min_tonnes": rng.choice([None, 5, 15]),
                                   "max_tonnes": rng.choice([None, None, 60, 400])})
    used_tags = sorted({t for c in d["Countries"] for t in str(c["groups"]).split(", ") if t})
    targets = countries + used_tags
    d["Tariffs"] = [{"country": rng.choice(targets), "material": rng.choice([None, *mats]),
                     "rate": rng.choice([0.1, 0.25, 1.5]), **window()}
                    for _ in range(rng.randint(0, 3))]
    rules = []
    for i in range(rng.randint(0, 3)):
        kind = rng.choice(["ban", "quota"])
        country = rng.choice([None, *targets])
        company = rng.choice([None, None, "S1", *companies]) if country else rng.choice(
            ["S1", *companies])
        rules.append({"rule": f"RU{i}", "kind": kind, "country": country, "company": company,
                      "stage": rng.choice([None, *stages]), "material": rng.choice([None, *mats]),
                      "limit": rng.choice([0, 10, 50]) if kind == "quota" else None,
                      "active": rng.choice([True, True, False]),
                      "applies_to": rng.choice([None, "purchase", "use"]), **window()})
    d["Rules"] = rules
    caps = []
    for i in range(rng.randint(0, 3)):
        hi_share = rng.choice([None, 0.5, 0.65, 0.9])
        lo_share = rng.choice([None, None, 0.1, 0.3]) if hi_share is None or rng.random() < .3 \
            else None
        if hi_share is None and lo_share is None:
            hi_share = 0.6
        caps.append({"cap": f"CA{i}", "material": rng.choice([None, *mats]),
                     "stage": rng.choice([None, *stages]),
                     "country": rng.choice([None, *targets]), "max_share": hi_share,
                     "min_share": lo_share, "active": rng.choice([True, True, False]),
                     "applies_to": rng.choice([None, "purchase", "use"]), **window()})
    d["Caps"] = caps
    scen = []
    for i in range(rng.randint(0, 3)):
        for _ in range(rng.randint(1, 2)):
            action = rng.choice(["rule_on", "rule_off", "cap_on", "cap_off", "capacity",
                                 "cost", "demand"])
            row: dict[str, Any] = {"scenario": f"SC{i}", "action": action, **window()}
            if action.startswith("rule"):
                if not rules:
                    continue
                row["target"] = rng.choice(rules)["rule"]
            elif action.startswith("cap_"):
                if not caps:
                    continue
                row["target"] = rng.choice(caps)["cap"]
            elif action == "capacity":
                row["target"] = rng.choice([f["facility"] for f in facs] + targets
                                           + [f["company"] for f in facs if f["company"]])
                # 0 < factor < 1 is force majeure, also on unlimited facilities
                row["value"] = rng.choice([0, 0.3, 0.5, 0.8, 2])
            elif action == "cost":
                row["target"] = rng.choice([o["offer"] for o in offers] + targets
                                           + [o["supplier"] for o in offers])
                row["material"] = rng.choice([None, *mats])
                row["value"] = rng.choice([0.5, 1.5, 3])
            else:
                row["target"] = rng.choice([None, *mats])
                row["value"] = rng.choice([0, 0.5, 1.5])
            scen.append(row)
    if rng.random() < 0.4:
        # force majeure: a capacity factor strictly between 0 and 1 on one facility (often
        # one with unlimited capacity), scaling the min_volume of offers routed through it
        f = rng.choice(facs)
        scen.append({"scenario": "FM", "action": "capacity", "target": f["facility"],
                     "value": rng.choice([0.3, 0.5, 0.8]), **window()})
    d["Scenarios"] = scen
    return d
