"""Build ``lithium.xlsx``: a European cathode maker's lithium carbonate plan, 2026-2030.

Australian spodumene converted in China competes with Chilean and Argentine
brine carbonate, under a 65% single-country cap on conversion (the EU CRMA
benchmark applied to processing).  Every figure carries its source tag from
the project's source notes in a ``source`` column ([S] sourced, [S2]
weaker, [D] derived, [I] illustrative); a ``Sources`` sheet lists the references.
Run ``python examples/lithium/build.py`` to rewrite the workbook next to this script.
The figures come from the project's source notes (public figures, each tagged).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from planner.inputs.template import SOURCE_TAGS, write_workbook

HERE = Path(__file__).resolve().parent
OUT = HERE / "lithium.xlsx"

Row = dict[str, Any]
YEARS = [2026, 2027, 2028, 2029, 2030]
#: t lithium carbonate equivalent (LCE) per t lithium content (USGS) [S]
LCE_PER_LI = 5.323
#: Battery-grade Li2CO3 needed, t LCE per year [I]: a cathode plant ramping up.
DEMAND = [6_000, 9_000, 12_000, 15_000, 18_000]

SOURCES = [
    *SOURCE_TAGS,
    ("", ""),
    ("USGS", "USGS Mineral Commodity Summaries 2025, 'Lithium': 2024 production (t Li) "
     "Australia 88,000, Chile 49,000, China 41,000, Zimbabwe 22,000, Argentina 18,000; "
     "1 t Li = 5.323 t LCE; US battery-grade carbonate average 14.0 USD/kg (2024)."),
    ("China refining", "Lithium chemical refining: China about 65-70% [S2]."),
    ("China prices", "Battery-grade lithium carbonate in China 7.5-11.7 USD/kg in 2025 [D]."),
    ("CRMA", "EU Critical Raw Materials Act, Reg. (EU) 2024/1252 Art. 5: no more than 65% "
     "of a strategic raw material, at any relevant stage of processing, from a single "
     "third country [S]; applied here to conversion as a company policy [I]."),
    ("JOGMEC", "Japan's national stockpile: generally 60 days of consumption [S]; the "
     "60-day target here follows it [I]."),
    ("Source notes", "All figures come from the project's source notes (public figures "
     "with the tags above), summarised on this sheet."),
]


def lce(li_tonnes: float) -> float:
    """t Li content -> t LCE, rounded to whole tonnes [D]."""
    return float(round(li_tonnes * LCE_PER_LI))


def data() -> dict[str, list[Row]]:
    """Sheet name -> rows of the example workbook."""
    def fac(fid: str, name: str, company: str, country: str, stage: str,
            capacity: float | None, src: str, start: int | None = None) -> Row:
        return {"facility": fid, "name": name, "company": company, "country": country,
                "stage": stage, "capacity": capacity, "from_period": start, "source": src}

    def offer(oid: str, supplier: str, route: str, cost: float, src: str,
              lo: float | None = None, hi: float | None = None,
              start: int | None = None, top: float | None = None) -> Row:
        return {"offer": oid, "supplier": supplier, "material": "Li2CO3", "route": route,
                "unit_cost": cost, "min_volume": lo, "max_volume": hi, "from_period": start,
                "take_or_pay": top, "source": src}

    def scen(name: str, action: str, target: str | None, value: float | None, src: str,
             start: int | None = None, end: int | None = None) -> Row:
        return {"scenario": name, "action": action, "target": target, "from_period": start,
                "to_period": end, "value": value, "source": src}

    scenarios = [
        scen("China_export_licences", "cost", "CHN", 1.3,
             "[I] licensing friction: Chinese carbonate +30% from 2027", 2027),
        scen("Chile_supply_halt_2028", "capacity", "CHL", 0,
             "[I] no Chilean carbonate in 2028 (e.g. a contract or permit dispute)", 2028,
             2028),
        scen("EV_demand_surge", "demand", None, 1.3, "[I] demand +30% from 2028", 2028),
        scen("Tighter_cap_50", "cap_on", "Conversion_50", None,
             "[I] company tightens the single-country cap to 50%"),
    ]
    for country in ("AUS", "ZWE", "CHL", "ARG"):  # every offer has one mining country
        scenarios.append(scen("Lithium_price_spike", "cost", country, 1.8,
                              "[I] all lithium prices +80% from 2028", 2028))
    return {
        "Settings": [
            {"setting": "plan_name", "value": "EU cathode maker: lithium carbonate 2026-2030",
             "source": "[I]"},
            {"setting": "currency", "value": "USD", "source": "[I]"},
            {"setting": "shortage_penalty", "value": 200_000,
             "source": "[I] priority weight: unmet demand stops the cathode line; the "
                       "stockpile penalty is the default, half of it spread over the horizon"},
        ],
        "Periods": [{"period": y, "days": 366 if y == 2028 else 365} for y in YEARS],
        "Materials": [{"material": "Li2CO3",
                       "description": "Battery-grade lithium carbonate (t LCE)",
                       "holding_cost": 1_000, "initial_stock": 500, "end_value": 4_800,
                       "source": "[I] holding ~8%/yr of price; opening stock assumed; end "
                                 "value half the cheapest price"}],
        "Demand": [{"material": "Li2CO3", "period": y, "demand": d,
                    "source": "[I] cathode plant ramp-up"}
                   for y, d in zip(YEARS, DEMAND, strict=True)],
        "Stockpile": [{"material": "Li2CO3", "min_days": 60, "max_tonnes": 4_000,
                       "source": "[I] after JOGMEC 60 days [S]; [I] 4,000 t warehouse"}],
        "Countries": [
            {"country": "AUS", "name": "Australia", "groups": "", "source": ""},
            {"country": "ZWE", "name": "Zimbabwe", "groups": "", "source": ""},
            {"country": "CHL", "name": "Chile", "groups": "brine", "source": "[S] brine"},
            {"country": "ARG", "name": "Argentina", "groups": "brine", "source": "[S] brine"},
            {"country": "CHN", "name": "China", "groups": "", "source": ""},
            {"country": "DEU", "name": "Germany", "groups": "EU", "source": "[S] EU member"},
        ],
        "Stages": [{"stage": "mining", "description": "Spodumene mine or brine salar"},
                   {"stage": "conversion", "description": "Conversion to battery-grade "
                                                          "carbonate"}],
        "Facilities": [
            fac("WA_spodumene", "Western Australian spodumene mines (aggregate)", "WA miners",
                "AUS", "mining", lce(88_000), "[D] 88,000 t Li 2024 x 5.323 (USGS [S])"),
            fac("ZWE_spodumene", "Zimbabwean spodumene and petalite mines (aggregate)",
                "Zimbabwe miners", "ZWE", "mining", lce(22_000),
                "[D] 22,000 t Li 2024 x 5.323 (USGS [S])"),
            fac("Atacama_brine", "Salar de Atacama (aggregate)", "Atacama producers", "CHL",
                "mining", lce(49_000), "[D] 49,000 t Li 2024 x 5.323 (USGS [S])"),
            fac("Chile_carbonate", "Antofagasta carbonate plants", "Atacama producers", "CHL",
                "conversion", None, "[I] capacity follows the brine"),
            fac("Puna_brine", "Argentine Puna salars (aggregate)", "Puna producers", "ARG",
                "mining", lce(18_000), "[D] 18,000 t Li 2024 x 5.323 (USGS [S])"),
            fac("Puna_carbonate", "Puna on-site carbonate plants", "Puna producers", "ARG",
                "conversion", None, "[I] capacity follows the brine"),
            fac("China_converters", "Jiangxi and Sichuan converters", "Chinese converters",
                "CHN", "conversion", None, "[S2] China ~65-70% of refining; open capacity"),
            fac("EU_converter", "Planned EU spodumene converter (Germany)", "EU converter",
                "DEU", "conversion", 20_000, "[I] a 20,000 t/yr plant starting 2028", 2028),
        ],
        "Routes": [
            {"route": "AUS_to_CHN", "mining": "WA_spodumene", "conversion": "China_converters",
             "source": "[S] most Australian spodumene is converted in China"},
            {"route": "ZWE_to_CHN", "mining": "ZWE_spodumene",
             "conversion": "China_converters", "source": "[I] Zimbabwean concentrate to China"},
            {"route": "Chile_brine", "mining": "Atacama_brine", "conversion": "Chile_carbonate",
             "source": "[S] Atacama brine carbonate"},
            {"route": "Argentina_brine", "mining": "Puna_brine", "conversion": "Puna_carbonate",
             "source": "[S] Puna brine carbonate"},
            {"route": "AUS_to_EU", "mining": "WA_spodumene", "conversion": "EU_converter",
             "source": "[I] Australian spodumene converted in Germany"},
        ],
        "Offers": [
            offer("CN_converted_AUS", "Chinese converters", "AUS_to_CHN", 10_000,
                  "[D] China 7.5-11.7 USD/kg 2025, mid ~9.6, + freight [I]"),
            offer("CN_converted_ZWE", "Chinese converters", "ZWE_to_CHN", 9_600,
                  "[D] China 2025 mid ~9.6 USD/kg; [I] 4,000 t/yr", None, 4_000),
            offer("Chile_LTA", "Atacama producers", "Chile_brine", 11_500,
                  "[I] long-term contract, take-or-pay 2,000 t (half the price paid on "
                  "tonnes not taken), up to 6,000 t/yr", 2_000, 6_000, top=0.5),
            offer("Argentina_LTA", "Puna producers", "Argentina_brine", 11_000,
                  "[I] up to 5,000 t/yr", None, 5_000),
            offer("EU_converter_offtake", "EU converter", "AUS_to_EU", 14_000,
                  "[S] 14.0 USD/kg US average 2024 as ex-China proxy; [I] 1,000-5,000 "
                  "t/yr offtake from 2028, take-or-pay 1,000 t (half the price paid on "
                  "tonnes not taken)", 1_000, 5_000, 2028, top=0.5),
        ],
        "Caps": [
            {"cap": "Conversion_65", "stage": "conversion", "max_share": 0.65,
             "basis": "EU CRMA Art. 5 65% single-country benchmark, applied to conversion",
             "source": "[S] benchmark; [I] applied as company policy"},
            {"cap": "Conversion_50", "stage": "conversion", "max_share": 0.50, "active": False,
             "basis": "Scenario: a stricter 50% company limit",
             "source": "[I] scenario only"},
        ],
        "Scenarios": scenarios,
    }


EXTRA: dict[str, Sequence[str]] = {name: ["source"] for name in
                                   ("Settings", "Materials", "Demand", "Stockpile",
                                    "Countries", "Facilities", "Routes", "Offers", "Caps",
                                    "Scenarios")}


def build(path: Path = OUT) -> Path:
    """Write the example workbook (and its Sources sheet) to ``path``."""
    return write_workbook(path, data(), extra=EXTRA, sources=SOURCES)


if __name__ == "__main__":
    print(build())
