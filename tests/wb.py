"""Build small input workbooks for tests.

``valid_data()`` is a small workbook that follows the contract and uses every
sheet; tests copy it, break or change one thing, and ``write()`` it with
:func:`planner.inputs.template.write_workbook`.

Base case, worked by hand (the answer other tests may rely on):
two periods 2027 and 2028 of 365 days; NdPr demand 100 t in each; offer
``O_CN`` costs 50 plus the 10% CHN tariff = 55 per t, offer ``O_AU`` costs 80
per t (no tariff); both routes have ample capacity; no initial stock, no
holding cost; the rule and the cap are inactive and the stockpile row asks
for nothing. So the plan buys 100 t from O_CN in each period and
total_cost = 2 x 100 x 55 = 11,000.

Scenario ``ban_covered`` turns on rule ``BAN_CN`` (a ban on the ``covered``
group, i.e. CHN): everything then comes from O_AU, 2 x 100 x 80 = 16,000.

Excel rows: the first data row of every sheet is row 2, so row i of a list
(0-based) is Excel row i + 2.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from planner.inputs.template import write_workbook

Data = dict[str, list[dict[str, Any]]]

_VALID: Data = {
    "Settings": [
        {"setting": "plan_name", "value": "Test plan"},
        {"setting": "currency", "value": "USD"},
    ],
    "Periods": [{"period": 2027, "days": 365}, {"period": 2028, "days": 365}],
    "Materials": [{"material": "NdPr", "description": "NdPr oxide", "holding_cost": 0,
                   "shortage_penalty": 1000, "initial_stock": 0}],
    "Demand": [{"material": "NdPr", "period": 2027, "demand": 100},
               {"material": "NdPr", "period": 2028, "demand": 100}],
    "Stockpile": [{"material": "NdPr", "from_period": 2027, "to_period": 2028,
                   "min_days": 0, "min_tonnes": 0, "max_tonnes": 1000}],
    "Countries": [
        {"country": "CHN", "name": "China", "groups": "covered"},
        {"country": "AUS", "name": "Australia", "groups": "allied"},
        {"country": "MYS", "name": "Malaysia", "groups": ""},
    ],
    "Stages": [{"stage": "mining"}, {"stage": "separation"}],
    "Facilities": [
        {"facility": "MINE_CN", "name": "Mine CN", "company": "CNRE", "country": "CHN",
         "stage": "mining", "capacity": 1000},
        {"facility": "SEP_CN", "name": "Separation CN", "company": "CNRE", "country": "CHN",
         "stage": "separation", "capacity": 1000},
        {"facility": "MINE_AU", "name": "Mine AU", "company": "Lynas", "country": "AUS",
         "stage": "mining", "capacity": 1000},
        {"facility": "SEP_MY", "name": "Separation MY", "company": "Lynas", "country": "MYS",
         "stage": "separation", "capacity": 1000},
    ],
    "Routes": [
        {"route": "R_CN", "mining": "MINE_CN", "separation": "SEP_CN"},
        {"route": "R_AU", "mining": "MINE_AU", "separation": "SEP_MY"},
    ],
    "Offers": [
        {"offer": "O_CN", "supplier": "CNRE", "material": "NdPr", "route": "R_CN",
         "unit_cost": 50, "min_volume": 0, "max_volume": 1000},
        {"offer": "O_AU", "supplier": "Lynas", "material": "NdPr", "route": "R_AU",
         "unit_cost": 80, "min_volume": 0, "max_volume": 1000},
    ],
    "Tariffs": [{"country": "CHN", "material": "NdPr", "rate": 0.1}],
    "Rules": [{"rule": "BAN_CN", "kind": "ban", "country": "covered", "active": False,
               "basis": "test"}],
    "Caps": [{"cap": "CAP_CN", "material": "NdPr", "stage": "separation", "country": "CHN",
              "max_share": 0.5, "active": False, "basis": "test"}],
    "Scenarios": [{"scenario": "ban_covered", "action": "rule_on", "target": "BAN_CN"}],
}


def valid_data() -> Data:
    """A fresh deep copy of the small valid workbook (sheet -> list of row dicts)."""
    return copy.deepcopy(_VALID)


def write(tmp_path: Path, data: Data, name: str = "input.xlsx",
          extra: dict[str, list[str]] | None = None) -> Path:
    """Write ``data`` as an input workbook ``tmp_path / name`` and return its path."""
    return write_workbook(tmp_path / name, data, extra)
