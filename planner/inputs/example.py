"""A small worked example, used by ``planner template --example``.

A European magnet maker buying NdPr oxide, 2026-2028.  Figures carry their
source tags from ``shared/data/rare-earth-facts.md`` in the ``source``
column ([S] sourced, [D] derived, [I] illustrative); the full worked
examples live in ``examples/``.
"""

from __future__ import annotations

from typing import Any


def example_rows() -> dict[str, list[dict[str, Any]]]:
    """Sheet name -> rows (column -> value) of the small worked example."""
    return {
        "Settings": [
            {"setting": "plan_name", "value": "NdPr oxide sourcing 2026-2028 (small example)"},
            {"setting": "currency", "value": "USD"},
        ],
        "Periods": [{"period": 2026, "days": 365}, {"period": 2027, "days": 365},
                    {"period": 2028, "days": 366}],
        "Materials": [{"material": "NdPr_oxide", "description": "NdPr oxide [I]",
                       "holding_cost": 2000, "shortage_penalty": 1_100_000,
                       "initial_stock": 40}],
        "Demand": [{"material": "NdPr_oxide", "period": 2026, "demand": 380},
                   {"material": "NdPr_oxide", "period": 2027, "demand": 570},
                   {"material": "NdPr_oxide", "period": 2028, "demand": 760}],
        "Stockpile": [{"material": "NdPr_oxide", "min_days": 60}],
        "Countries": [
            {"country": "CHN", "name": "China", "groups": "covered"},
            {"country": "AUS", "name": "Australia", "groups": "allied"},
            {"country": "MYS", "name": "Malaysia", "groups": ""},
            {"country": "USA", "name": "United States", "groups": "allied"},
            {"country": "EST", "name": "Estonia", "groups": "EU, allied"},
        ],
        "Stages": [{"stage": "mining"}, {"stage": "separation"}],
        "Facilities": [
            {"facility": "Bayan_Obo", "name": "Bayan Obo", "company": "Baotou Steel",
             "country": "CHN", "stage": "mining"},
            {"facility": "Baotou_sep", "name": "Baotou separation", "company": "China Northern RE",
             "country": "CHN", "stage": "separation"},
            {"facility": "Mt_Weld", "name": "Mt Weld", "company": "Lynas", "country": "AUS",
             "stage": "mining", "capacity": 12000},
            {"facility": "Kuantan", "name": "Lynas Malaysia", "company": "Lynas",
             "country": "MYS", "stage": "separation", "capacity": 10500},
            {"facility": "Mountain_Pass", "name": "Mountain Pass", "company": "MP Materials",
             "country": "USA", "stage": "mining"},
            {"facility": "MP_sep", "name": "Mountain Pass separation", "company": "MP Materials",
             "country": "USA", "stage": "separation", "capacity": 1294},
            {"facility": "Silmet", "name": "Neo Silmet", "company": "Neo Performance",
             "country": "EST", "stage": "separation", "capacity": 3000},
        ],
        "Routes": [
            {"route": "CN_domestic", "mining": "Bayan_Obo", "separation": "Baotou_sep"},
            {"route": "Lynas", "mining": "Mt_Weld", "separation": "Kuantan"},
            {"route": "MP", "mining": "Mountain_Pass", "separation": "MP_sep"},
            {"route": "MP_to_Silmet", "mining": "Mountain_Pass", "separation": "Silmet"},
        ],
        "Offers": [
            {"offer": "CN_spot", "supplier": "China Northern RE", "material": "NdPr_oxide",
             "route": "CN_domestic", "unit_cost": 70_000},
            {"offer": "Lynas_LTA", "supplier": "Lynas", "material": "NdPr_oxide",
             "route": "Lynas", "unit_cost": 95_000, "min_volume": 100, "max_volume": 400},
            {"offer": "MP_floor", "supplier": "MP Materials", "material": "NdPr_oxide",
             "route": "MP", "unit_cost": 110_000, "max_volume": 300},
            {"offer": "Silmet", "supplier": "Neo Performance", "material": "NdPr_oxide",
             "route": "MP_to_Silmet", "unit_cost": 115_000, "max_volume": 250},
        ],
        "Tariffs": [{"country": "CHN", "material": "NdPr_oxide", "rate": 0.0}],
        "Rules": [],
        "Caps": [{"cap": "CRMA_65", "stage": None, "max_share": 0.65,
                  "basis": "EU CRMA Art. 5 65% benchmark [S]"}],
        "Scenarios": [
            {"scenario": "China_stops", "action": "capacity", "target": "CHN",
             "from_period": 2027, "value": 0},
            {"scenario": "Kuantan_outage", "action": "capacity", "target": "Kuantan",
             "from_period": 2028, "to_period": 2028, "value": 0},
        ],
    }


def example_sweep_rows(n: int = 200) -> dict[str, list[dict[str, Any]]]:
    """The worked example (``planner template --example``) with ``n`` scenarios.

    The scenarios vary demand, capacity and cost factors and switch the cap,
    so that the cases differ from each other (a sweep's typical shape).
    """
    rows = example_rows()
    scen: list[dict[str, Any]] = []
    for i in range(n):
        name = f"S{i:03d}"
        scen.append({"scenario": name, "action": "demand", "value": round(0.6 + 0.01 * i, 2)})
        kind = i % 4
        if kind == 0:
            scen.append({"scenario": name, "action": "capacity", "target": "CHN",
                         "from_period": 2027, "value": round(0.5 * (i % 3), 2)})
        elif kind == 1:
            scen.append({"scenario": name, "action": "cost", "target": "Lynas",
                         "value": round(0.8 + 0.005 * i, 3)})
        elif kind == 2:
            scen.append({"scenario": name, "action": "capacity", "target": "Kuantan",
                         "from_period": 2028, "value": round(0.1 * (i % 10), 2)})
        else:
            scen.append({"scenario": name, "action": "cap_off", "target": "CRMA_65"})
    rows["Scenarios"] = scen
    return rows
