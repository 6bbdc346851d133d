"""Build ``rare_earths.xlsx``: a European NdFeB magnet maker's oxide plan, 2026-2030.

Every figure carries its source tag from the project's source notes on rare earths in a
``source`` column: [S] primary or reputable source, [S2] weaker source, [D]
arithmetic on sourced values, [I] illustrative assumption.  A ``Sources`` sheet
lists the references behind the tags.  Run ``python examples/rare_earths/build.py``
to rewrite the workbook next to this script; ``build.py --base-plan OUT.xlsx`` writes
the comparison workbook of the README's hedge section (all probability on the base
case, see :func:`build_base_plan`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from planner.inputs.template import SOURCE_TAGS, write_workbook

HERE = Path(__file__).resolve().parent
OUT = HERE / "rare_earths.xlsx"

Row = dict[str, Any]
YEARS = [2026, 2027, 2028, 2029, 2030]
#: The defence slice: share of the magnet output sold to US defence primes [I].
DFARS_SHARE = 0.10
#: Total oxide demand 2026 -> 2030 (t), linear growth between the facts file's ends [I].
TOTAL_DEMAND = {
    "NdPr_oxide": [380, 570, 760, 950, 1140],
    "Dy_oxide": [13, 19, 26, 32, 38],
    "Tb_oxide": [4, 6, 8, 10, 12],
}
#: Priority weight, not a price: serve demand first, then hold the strategic stock,
#: then minimise cost [I].  The stockpile penalty is left to the planner's default,
#: shortage / (2 x horizon years) = about 5,000,000 per t per year: above every offer
#: price (so the stock is held), yet a tonne drawn from the stock for the rest of the
#: horizon costs less than a tonne of unmet demand (so a crisis draws the stock).
SHORTAGE_PENALTY = 50_000_000
#: Stock left at the end of 2030 is credited at half the material's cheapest delivered
#: 2030 price [I]: it will replace purchases after the horizon, but at an unknown price
#: (USGS: Dy oxide fell from 330 to 260 USD/kg in 2024), and a value near the price
#: would let the plan buy to hold.
END_VALUE_SHARE = 0.5

SOURCES = [
    *SOURCE_TAGS,
    ("", ""),
    ("USGS", "USGS Mineral Commodity Summaries 2025, 'Rare Earths': mine production 2024 "
     "(China 270,000 t REO, Myanmar 31,000 t, United States 45,000 t, Russia 2,500 t), "
     "Dy oxide 260 USD/kg and Tb oxide 810 USD/kg (2024 averages)."),
    ("Lynas", "Lynas Rare Earths: Mt Weld sized for 12,000 t/yr NdPr product; Kuantan "
     "separation 10,500 t/yr NdPr nameplate; heavy rare earth circuit ~1,500 t/yr feed, "
     "first Dy oxide May 2025."),
    ("MP Materials", "Mountain Pass: Q3 2025 NdPr 721 t (x4 = 2,884 t/yr, [D]); US DoD NdPr "
     "price floor 110 USD/kg for 10 years from Oct 2025, a revenue guarantee to MP, not a "
     "price a buyer pays [S]; ~200 t/yr Dy+Tb from mid-2026 [S2], but Mountain Pass ore "
     "holds roughly 20 t/yr Dy+Tb at most [D, unverified]: the rest would need third-party "
     "feed of unstated origin, left out here [I]."),
    ("Neo Performance", "Silmet (Estonia): 3,000 t/yr light rare earth separation."),
    ("Solvay", "La Rochelle (France): NdPr since Apr 2025, potential 2,000-5,000 t/yr oxides."),
    ("Solikamsk", "Solikamsk (Russia, Rosatom): planned 2,500 t/yr separation from 2027."),
    ("SMM", "NdPr oxide China domestic ex-VAT 74.5 USD/kg (Dec 2025), derived from SMM quotes "
     "[D]."),
    ("Europe prices", "Dy oxide 700-1,000 and Tb oxide 2,000-4,000 USD/kg in Europe, May 2025, "
     "thin volumes [S2]. Under China's licensing, Chinese-origin Dy/Tb delivered to Europe "
     "trades near the European price, not China's domestic one (about 168-207 and 758-865 "
     "USD/kg [D]) [S2]."),
    ("DFARS", "DFARS 252.225-7052 (10 U.S.C. 4872): from 1 Jan 2027 NdFeB magnet inputs may "
     "not be mined, refined or separated in a covered country (China, Russia, Iran, North "
     "Korea) [S]."),
    ("MOFCOM", "China Announcement No. 18 (4 Apr 2025): export licences for Sm, Gd, Tb, Dy, "
     "Lu, Sc, Y [S]. The licensed volumes in this example are [I]."),
    ("CRMA", "EU Critical Raw Materials Act, Reg. (EU) 2024/1252 Art. 5: no more than 65% of "
     "a strategic raw material, at any relevant stage of processing, from a single third "
     "country [S]; applied here as a company policy [I]."),
    ("JOGMEC", "Japan's national stockpile: generally 60 days of consumption, up to 180 days "
     "for high-risk minerals [S]; the 60/180-day targets here follow it [I]."),
    ("Probabilities", "planner hedge's Probabilities sheet: no source gives the odds of "
     "these cases, so every probability is [I], with a one-line rationale naming the "
     "sourced facts it leans on ([S]/[D] as above)."),
    ("Source notes", "All figures come from the project's source notes on rare earths "
     "(public figures with the tags above), summarised on this sheet."),
]


def settings() -> list[Row]:
    return [
        {"setting": "plan_name", "value": "EU NdFeB magnet maker: rare earth oxides 2026-2030",
         "source": "[I]"},
        {"setting": "currency", "value": "USD", "source": "[I]"},
        {"setting": "shortage_penalty", "value": SHORTAGE_PENALTY,
         "source": "[I] priority weight: unmet demand stops the magnet line; the stockpile "
                   "penalty is the default, half of it spread over the horizon"},
        {"setting": "commit_through", "value": YEARS[0],
         "source": "[I] planner hedge: the 2026 orders are what the buyer signs now; from "
                   "2027 it buys knowing which case has come"},
        {"setting": "risk_weight", "value": 0,
         "source": "[I] planner hedge: risk neutral (least expected cost); the hedge "
                   "report's Frontier sheet shows what a higher weight would buy"},
        {"setting": "cvar_level", "value": 0.9,
         "source": "[I] planner hedge: CVaR is the expected cost of the worst 10% of "
                   "probability, the China denial case's share"},
    ]


def end_values() -> dict[str, float]:
    """Material -> END_VALUE_SHARE x its cheapest offer price (no tariffs apply) [I]."""
    cheapest: dict[str, float] = {}
    for o in offers():
        cheapest[o["material"]] = min(cheapest.get(o["material"], o["unit_cost"]),
                                      o["unit_cost"])
    return {m: round(END_VALUE_SHARE * p) for m, p in cheapest.items()}


def materials() -> list[Row]:
    """Holding cost ~8%/yr of the ex-China price [I]; small opening stocks [I]; stock
    left in 2030 credited at half the cheapest price [I]."""
    ends = end_values()

    def mat(mid: str, desc: str, hold: float, stock: float) -> Row:
        return {"material": mid, "description": desc, "holding_cost": hold,
                "initial_stock": stock, "end_value": ends[mid],
                "source": "[I] holding ~8%/yr of price; opening stock assumed; end value "
                          "half the cheapest price"}
    return [
        mat("NdPr_oxide", "NdPr oxide for EU-market magnets", 8_000, 40),
        mat("Dy_oxide", "Dy oxide (Dy2O3) for high-temperature grades", 60_000, 3),
        mat("Tb_oxide", "Tb oxide (Tb4O7) for high-temperature grades", 200_000, 1),
        mat("NdPr_oxide_DFARS", "NdPr oxide for magnets sold to US defence primes "
            "(DFARS 252.225-7052)", 8_800, 5),
        mat("Dy_oxide_DFARS", "Dy oxide for magnets sold to US defence primes", 66_000, 0.5),
        mat("Tb_oxide_DFARS", "Tb oxide for magnets sold to US defence primes", 220_000, 0.2),
    ]


def demand() -> list[Row]:
    rows: list[Row] = []
    for mat, series in TOTAL_DEMAND.items():
        for year, total in zip(YEARS, series, strict=True):
            rows.append({"material": mat, "period": year,
                         "demand": round(total * (1 - DFARS_SHARE), 1),
                         "source": "[I] facts file's user, 380->1,140 t NdPr, 13->38 t Dy, "
                                   "4->12 t Tb, less the 10% defence slice"})
    for mat, series in TOTAL_DEMAND.items():
        for year, total in zip(YEARS, series, strict=True):
            rows.append({"material": mat + "_DFARS", "period": year,
                         "demand": round(total * DFARS_SHARE, 1),
                         "source": "[I] 10% of output sold to US defence primes"})
    return rows


#: The DFARS use rules stop covered oxide bought in 2026 from being used from 2027, but a
#: stockpile minimum counts every tonne in store, usable or not: without a guard the
#: cheapest defence "strategic stock" would be Chinese 2026 oxide that can never be used.
#: So the defence slice carries no stock out of 2026 and builds its stock from 2027 [I].
NO_CARRY = "[I] no 2026 (possibly Chinese) stock carried into DFARS years: a stock minimum " \
           "would count covered oxide the DFARS use rule forbids using"


def stockpile() -> list[Row]:
    return [
        {"material": "NdPr_oxide", "min_days": 60, "max_tonnes": 500,
         "source": "[I] after JOGMEC 60 days [S]; [I] 500 t warehouse limit"},
        {"material": "NdPr_oxide_DFARS", "to_period": 2026, "max_tonnes": 0,
         "source": NO_CARRY},
        {"material": "NdPr_oxide_DFARS", "from_period": 2027, "min_days": 60,
         "max_tonnes": 150,
         "source": "[I] after JOGMEC 60 days [S]; [I] 150 t segregated-store limit"},
        {"material": "Dy_oxide", "min_days": 180, "max_tonnes": 60,
         "source": "[I] after JOGMEC 180 days [S]; [I] 60 t limit"},
        {"material": "Tb_oxide", "min_days": 180, "max_tonnes": 20,
         "source": "[I] after JOGMEC 180 days [S]; [I] 20 t limit"},
        {"material": "Dy_oxide_DFARS", "to_period": 2026, "max_tonnes": 0,
         "source": NO_CARRY},
        {"material": "Dy_oxide_DFARS", "from_period": 2027, "min_days": 180, "max_tonnes": 10,
         "source": "[I] after JOGMEC 180 days [S]; [I] 10 t limit"},
        {"material": "Tb_oxide_DFARS", "to_period": 2026, "max_tonnes": 0,
         "source": NO_CARRY},
        {"material": "Tb_oxide_DFARS", "from_period": 2027, "min_days": 180, "max_tonnes": 4,
         "source": "[I] after JOGMEC 180 days [S]; [I] 4 t limit"},
    ]


def countries() -> list[Row]:
    def c(code: str, name: str, groups: str, src: str) -> Row:
        return {"country": code, "name": name, "groups": groups, "source": src}
    return [
        c("CHN", "China", "covered", "[S] DFARS covered country"),
        c("RUS", "Russia", "covered", "[S] DFARS covered country"),
        c("IRN", "Iran", "covered", "[S] DFARS covered country"),
        c("PRK", "North Korea", "covered", "[S] DFARS covered country"),
        c("MMR", "Myanmar", "", "[I] no group"),
        c("MYS", "Malaysia", "", "[I] no group"),
        c("AUS", "Australia", "allied", "[I] grouping"),
        c("USA", "United States", "allied", "[I] grouping"),
        c("EST", "Estonia", "EU, allied", "[S] EU member"),
        c("FRA", "France", "EU, allied", "[S] EU member"),
    ]


def stages() -> list[Row]:
    return [
        {"stage": "mining", "description": "Mine and concentrate (the ore's origin)"},
        {"stage": "separation", "description": "Solvent-extraction separation to oxide"},
    ]


def facilities() -> list[Row]:
    """Capacities in t/yr of oxide product; blank where no single buyer could fill them."""
    def f(fid: str, name: str, company: str, country: str, stage: str,
          capacity: float | None, src: str, start: int | None = None) -> Row:
        return {"facility": fid, "name": name, "company": company, "country": country,
                "stage": stage, "capacity": capacity, "from_period": start, "source": src}
    return [
        f("Bayan_Obo", "Bayan Obo mine", "China Northern Rare Earth", "CHN", "mining", None,
          "[S] China 270,000 t REO mined 2024 (USGS); capacity left open"),
        f("Baotou_sep", "Baotou separation plants", "China Northern Rare Earth", "CHN",
          "separation", None, "[I] Chinese separators, capacity left open"),
        f("Ganzhou_clays", "Southern China ionic clays", "China Rare Earth Group", "CHN",
          "mining", None, "[I] Chinese heavy rare earth mining"),
        f("Ganzhou_sep", "Ganzhou heavy rare earth separators", "China Rare Earth Group",
          "CHN", "separation", None, "[I] Chinese separators, capacity left open"),
        f("Kachin_clays", "Kachin ionic clay mines", "Myanmar miners", "MMR", "mining", None,
          "[S] Myanmar 31,000 t REO mined 2024 (USGS); processed in China [I]"),
        f("Mt_Weld", "Mt Weld mine", "Lynas", "AUS", "mining", 12_000,
          "[S] sized for 12,000 t/yr NdPr product"),
        f("Kuantan", "Lynas Malaysia, Kuantan (light rare earths)", "Lynas", "MYS",
          "separation", 10_500, "[S] 10,500 t/yr NdPr nameplate"),
        f("Kuantan_HRE", "Lynas Malaysia, Kuantan heavy rare earth circuit", "Lynas", "MYS",
          "separation", 150, "[I] Dy+Tb oxide from the ~1,500 t/yr feed circuit [S]"),
        f("Mountain_Pass", "Mountain Pass mine", "MP Materials", "USA", "mining", None,
          "[S] 45,455 t REO in concentrate 2024; capacity left open"),
        f("MP_sep", "Mountain Pass separation", "MP Materials", "USA", "separation", 2_884,
          "[D] Q3 2025 NdPr 721 t x 4 [S]"),
        f("MP_HRE", "Mountain Pass heavy rare earth circuit, own ore", "MP Materials", "USA",
          "separation", 20, "[D, unverified] Mountain Pass ore holds ~20 t/yr Dy+Tb at most; "
          "the ~200 t/yr reported [S2] needs third-party feed, left out; from 2027 [I]",
          2027),
        f("Silmet", "Neo Performance Materials, Silmet (Sillamae)", "Neo Performance", "EST",
          "separation", 3_000, "[S] 3,000 t/yr light rare earth separation"),
        f("La_Rochelle", "Solvay La Rochelle", "Solvay", "FRA", "separation", 2_000,
          "[S] potential 2,000-5,000 t/yr oxides (low end)"),
        f("Lovozero", "Lovozero loparite mine", "Rosatom", "RUS", "mining", None,
          "[S] Russia 2,500 t REO mined 2024 (USGS)"),
        f("Solikamsk", "Solikamsk Magnesium Works", "Rosatom", "RUS", "separation", 2_500,
          "[S] planned 2,500 t/yr separation from 2027", 2027),
    ]


def routes() -> list[Row]:
    def r(rid: str, mining: str | None, separation: str, src: str) -> Row:
        return {"route": rid, "mining": mining, "separation": separation, "source": src}
    return [
        r("CN_light", "Bayan_Obo", "Baotou_sep", "[S] Bayan Obo feeds Baotou"),
        r("CN_heavy", "Ganzhou_clays", "Ganzhou_sep", "[I] southern Chinese clays"),
        r("MMR_via_CN", "Kachin_clays", "Ganzhou_sep", "[I] Myanmar clays separated in China"),
        r("Lynas_light", "Mt_Weld", "Kuantan", "[S] Lynas chain"),
        r("Lynas_heavy", "Mt_Weld", "Kuantan_HRE", "[S] Lynas heavy circuit"),
        r("MP_light", "Mountain_Pass", "MP_sep", "[S] MP chain"),
        r("MP_heavy", "Mountain_Pass", "MP_HRE", "[S2] MP heavy circuit, own ore only [I]"),
        r("MP_to_Silmet", "Mountain_Pass", "Silmet", "[I] Silmet fed with US concentrate"),
        r("Solvay_recycled", None, "La_Rochelle",
          "[I] recycled and third-party feed; mining stage skipped"),
        r("Russia", "Lovozero", "Solikamsk", "[S] Rosatom chain"),
    ]


def offers() -> list[Row]:
    """Prices in USD/t delivered (1 USD/kg = 1,000 USD/t); volumes are this buyer's."""
    def o(oid: str, supplier: str, material: str, route: str, cost: float, src: str,
          lo: float | None = None, hi: float | None = None, start: int | None = None,
          end: int | None = None, top: float | None = None) -> Row:
        return {"offer": oid, "supplier": supplier, "material": material, "route": route,
                "unit_cost": cost, "min_volume": lo, "max_volume": hi, "from_period": start,
                "to_period": end, "take_or_pay": top, "source": src}
    cn_dy = "[S2] Chinese-origin Dy delivered to Europe trades near the European price " \
            "(700-1,000 USD/kg, low end), not China's domestic ~168-207 [D]"
    cn_tb = "[S2] Chinese-origin Tb delivered to Europe trades near the European price " \
            "(2,000-4,000 USD/kg, low end), not China's domestic ~758-865 [D]"
    mp_ndpr = "[I] ex-China contract price, ~1/3 over China's domestic 74.5 USD/kg [D]; not " \
              "the DoD 110 USD/kg floor, a revenue guarantee to MP, not a buyer's price [S]"
    civil = [
        o("CN_NdPr", "China Northern Rare Earth", "NdPr_oxide", "CN_light", 75_000,
          "[D] 74.5 USD/kg China domestic Dec 2025 (SMM)"),
        o("Lynas_NdPr", "Lynas", "NdPr_oxide", "Lynas_light", 95_000,
          "[I] price; [I] take-or-pay 100 t (half the price paid on tonnes not taken), "
          "up to 400 t/yr", 100, 400, top=0.5),
        o("MP_NdPr", "MP Materials", "NdPr_oxide", "MP_light", 100_000,
          mp_ndpr + "; [I] 150 t/yr for this buyer", None, 150),
        o("Silmet_NdPr", "Neo Performance", "NdPr_oxide", "MP_to_Silmet", 105_000,
          "[I] price and 300 t/yr", None, 300),
        o("Solvay_NdPr", "Solvay", "NdPr_oxide", "Solvay_recycled", 115_000,
          "[I] price and 200 t/yr", None, 200),
        o("Solikamsk_NdPr", "Rosatom", "NdPr_oxide", "Russia", 70_000,
          "[I] price and 500 t/yr, from 2027 [S]", None, 500, 2027),
        o("CN_Dy", "China Rare Earth Group", "Dy_oxide", "CN_heavy", 700_000, cn_dy),
        o("MMR_Dy", "China Rare Earth Group", "Dy_oxide", "MMR_via_CN", 680_000,
          "[I] Myanmar feed 20 USD/kg cheaper"),
        o("Lynas_Dy", "Lynas", "Dy_oxide", "Lynas_heavy", 750_000,
          "[S2] Europe 700-1,000 USD/kg; [I] 10 t/yr", None, 10),
        o("MP_Dy", "MP Materials", "Dy_oxide", "MP_heavy", 800_000,
          "[S2] Europe 700-1,000 USD/kg; [I] 4 t/yr of MP's own-ore ~20 t Dy+Tb [D]",
          None, 4),
        o("CN_Tb", "China Rare Earth Group", "Tb_oxide", "CN_heavy", 2_000_000, cn_tb),
        o("MMR_Tb", "China Rare Earth Group", "Tb_oxide", "MMR_via_CN", 1_970_000,
          "[I] Myanmar feed 30 USD/kg cheaper"),
        o("Lynas_Tb", "Lynas", "Tb_oxide", "Lynas_heavy", 2_500_000,
          "[S2] Europe 2,000-4,000 USD/kg; [I] 3 t/yr", None, 3),
        o("MP_Tb", "MP Materials", "Tb_oxide", "MP_heavy", 3_000_000,
          "[S2] Europe 2,000-4,000 USD/kg; [I] 1 t/yr of MP's own-ore ~20 t Dy+Tb [D]",
          None, 1),
    ]
    defence = [
        o("CN_NdPr_DFARS", "China Northern Rare Earth", "NdPr_oxide_DFARS", "CN_light",
          75_000, "[D] as CN_NdPr; [I] 2026 only; not usable from 2027 (DFARS use rule)",
          end=2026),
        o("Lynas_NdPr_DFARS", "Lynas", "NdPr_oxide_DFARS", "Lynas_light", 95_000,
          "[I] separate certified contract, 80 t/yr", None, 80),
        o("MP_NdPr_DFARS", "MP Materials", "NdPr_oxide_DFARS", "MP_light", 100_000,
          "[I] as MP_NdPr; 80 t/yr", None, 80),
        o("Silmet_NdPr_DFARS", "Neo Performance", "NdPr_oxide_DFARS", "MP_to_Silmet", 105_000,
          "[I] 40 t/yr", None, 40),
        o("CN_Dy_DFARS", "China Rare Earth Group", "Dy_oxide_DFARS", "CN_heavy", 700_000,
          "[S2] as CN_Dy; [I] licensed 2 t/yr, 2026 only; not usable from 2027 (DFARS use "
          "rule)", None, 2, end=2026),
        o("CN_Tb_DFARS", "China Rare Earth Group", "Tb_oxide_DFARS", "CN_heavy", 2_000_000,
          "[S2] as CN_Tb; [I] licensed 1 t/yr, 2026 only; not usable from 2027 (DFARS use "
          "rule)", None, 1, end=2026),
        o("Lynas_Dy_DFARS", "Lynas", "Dy_oxide_DFARS", "Lynas_heavy", 750_000,
          "[S2] as Lynas_Dy; [I] 3 t/yr", None, 3),
        o("MP_Dy_DFARS", "MP Materials", "Dy_oxide_DFARS", "MP_heavy", 800_000,
          "[S2] as MP_Dy; [I] 2 t/yr of MP's own-ore output", None, 2),
        o("Lynas_Tb_DFARS", "Lynas", "Tb_oxide_DFARS", "Lynas_heavy", 2_500_000,
          "[S2] as Lynas_Tb; [I] 1 t/yr", None, 1),
        o("MP_Tb_DFARS", "MP Materials", "Tb_oxide_DFARS", "MP_heavy", 3_000_000,
          "[S2] as MP_Tb; [I] 1 t/yr of MP's own-ore output", None, 1),
    ]
    return civil + defence


def rules() -> list[Row]:
    def rule(rid: str, kind: str, country: str, basis: str, src: str, *,
             material: str | None = None, stage: str | None = None,
             limit: float | None = None, start: int | None = None,
             active: bool = True, applies_to: str = "purchase") -> Row:
        return {"rule": rid, "kind": kind, "country": country, "stage": stage,
                "material": material, "limit": limit, "from_period": start,
                "active": active, "basis": basis, "applies_to": applies_to, "source": src}
    return [
        rule("Russia_sanctions", "ban", "RUS",
             "EU sanctions on Russia; company policy: nothing mined or processed in Russia",
             "[I] policy reading of the sanctions regime"),
        *(rule(f"DFARS_{el}", "ban", "covered",
               "DFARS 252.225-7052: from 1 Jan 2027 nothing used in the magnet may be mined, "
               "refined or separated in a covered country (stock bought earlier included)",
               "[S]", material=f"{el}_oxide_DFARS", start=2027, applies_to="use")
          for el in ("NdPr", "Dy", "Tb")),
        rule("CN_licence_Dy", "quota", "CHN",
             "MOFCOM Announcement No. 18 (Apr 2025): Dy exports need a licence",
             "[S] licensing; [I] 20 t/yr licensed to this buyer",
             material="Dy_oxide", stage="separation", limit=20),
        rule("CN_licence_Tb", "quota", "CHN",
             "MOFCOM Announcement No. 18 (Apr 2025): Tb exports need a licence",
             "[S] licensing; [I] 6 t/yr licensed to this buyer",
             material="Tb_oxide", stage="separation", limit=6),
        rule("CN_deny_Dy", "ban", "CHN", "Scenario: China stops granting Dy licences",
             "[I] scenario only", material="Dy_oxide", active=False),
        rule("CN_deny_Tb", "ban", "CHN", "Scenario: China stops granting Tb licences",
             "[I] scenario only", material="Tb_oxide", active=False),
    ]


#: The third (non-EU) countries the benchmark applies to, one cap each: a blank cap
#: country would also cap EU members, which the CRMA does not.
THIRD_COUNTRIES = ("CHN", "MMR", "MYS", "AUS", "USA", "RUS")


def caps() -> list[Row]:
    return [{"cap": f"CRMA_65_{c}", "material": None, "stage": None, "country": c,
             "max_share": 0.65,
             "basis": "EU CRMA Art. 5: at most 65% from a single third country at any stage",
             "source": "[S] benchmark; [I] applied as company policy to every material"}
            for c in THIRD_COUNTRIES]


def scenarios() -> list[Row]:
    def s(name: str, action: str, target: str | None, value: float | None, src: str,
          start: int | None = None, end: int | None = None,
          material: str | None = None) -> Row:
        return {"scenario": name, "action": action, "target": target, "material": material,
                "from_period": start, "to_period": end, "value": value, "source": src}
    rows = [
        s("China_denies_HREE", "rule_on", "CN_deny_Dy", None, "[I] no Dy licences from 2027",
          2027),
        s("China_denies_HREE", "rule_on", "CN_deny_Tb", None, "[I] no Tb licences from 2027",
          2027),
        s("Kuantan_outage_2028", "capacity", "Kuantan", 0, "[I] year-long outage", 2028, 2028),
        s("Kuantan_outage_2028", "capacity", "Kuantan_HRE", 0, "[I] year-long outage", 2028,
          2028),
        s("Myanmar_stops", "capacity", "MMR", 0, "[I] Kachin supply stops from 2027", 2027),
    ]
    for mat in ("Dy_oxide", "Tb_oxide"):
        rows.append(s("Myanmar_stops", "cost", "CHN", 1.5,
                      "[I] Chinese heavy rare earths +50% without Myanmar feed", 2027,
                      material=mat))
    for mat in ("NdPr_oxide", "NdPr_oxide_DFARS"):
        rows.append(s("NdPr_price_spike", "cost", "CHN", 1.8,
                      "[I] market price +80% from 2027", 2027, material=mat))
        rows.append(s("NdPr_price_spike", "cost", "Lynas", 1.8,
                      "[I] Lynas sells at market-linked prices", 2027, material=mat))
    rows.append(s("EV_demand_surge", "demand", None, 1.3,
                  "[I] demand +30% from 2028 (all materials)", 2028))
    return rows


#: planner hedge: the probability of each case, 2026-2030 [I].  No source in the
#: project's notes gives one; each rationale names the sourced facts it leans on.
PROBABILITIES: list[tuple[str, float, str]] = [
    ("base", 0.50,
     "[I] the remainder: no listed shock in 2027-2030"),
    ("China_denies_HREE", 0.10,
     "[I] Dy/Tb export licences exist since Apr 2025 (MOFCOM No. 18) [S] and the Oct 2025 "
     "expansions are only suspended until 10 Nov 2026 [S]; a full denial to this buyer "
     "for four years is judged a 1-in-10 tail"),
    ("Kuantan_outage_2028", 0.05,
     "[I] a year-long outage of a single running plant is rare; no outage record in the "
     "source notes"),
    ("Myanmar_stops", 0.10,
     "[I] Myanmar mining fell from 43,000 to 31,000 t REO in 2023-2024 (USGS) [S], "
     "-28% [D]: Kachin supply is unstable"),
    ("NdPr_price_spike", 0.15,
     "[I] China's NdPr oxide price rose from 53.8 to 74.5 USD/kg, Mar-Dec 2025 (SMM) [D], "
     "+38% in nine months; a further +80% from 2027 is judged the likeliest shock"),
    ("EV_demand_surge", 0.10,
     "[I] +30% demand from 2028 is an upside case for the magnet maker's order book"),
]


def probabilities() -> list[Row]:
    return [{"scenario": name, "probability": p, "source": src}
            for name, p, src in PROBABILITIES]


def data() -> dict[str, list[Row]]:
    """Sheet name -> rows of the example workbook."""
    return {
        "Settings": settings(),
        "Periods": [{"period": y, "days": 366 if y == 2028 else 365} for y in YEARS],
        "Materials": materials(),
        "Demand": demand(),
        "Stockpile": stockpile(),
        "Countries": countries(),
        "Stages": stages(),
        "Facilities": facilities(),
        "Routes": routes(),
        "Offers": offers(),
        "Rules": rules(),
        "Caps": caps(),
        "Scenarios": scenarios(),
        "Probabilities": probabilities(),
    }


EXTRA: dict[str, Sequence[str]] = {name: ["source"] for name in
         ("Settings", "Materials", "Demand", "Stockpile", "Countries", "Facilities", "Routes",
          "Offers", "Rules", "Caps", "Scenarios", "Probabilities")}


def build(path: Path = OUT) -> Path:
    """Write the example workbook (and its Sources sheet) to ``path``."""
    return write_workbook(path, data(), extra=EXTRA, sources=SOURCES)


def build_base_plan(path: Path) -> Path:
    """Write the example with all probability on the base case, for comparison.

    ``planner hedge`` on it signs the base plan's own 2026 orders (the least cost of
    the base case alone) and re-solves every other case, at probability 0, from them:
    its Hedge scenarios and Summary sheets show what the base plan's commitments lead
    to in each case, next to the hedge report of the example itself.
    """
    rows = data()
    rows["Probabilities"] = [
        {"scenario": name, "probability": 1.0 if name == "base" else 0.0,
         "source": "[I] comparison only: the base plan's commitments, every other case "
                   "re-solved from them"}
        for name, _, _ in PROBABILITIES]
    return write_workbook(path, rows, extra=EXTRA, sources=SOURCES)


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--base-plan"] and len(sys.argv) == 3:
        print(build_base_plan(Path(sys.argv[2])))
    elif len(sys.argv) == 1:
        print(build())
    else:
        sys.exit("usage: build.py [--base-plan OUT.xlsx]")
