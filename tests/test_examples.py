"""The worked examples run, and the story their READMEs tell still holds.

Each example is solved through the API exactly as ``planner run`` does, its
report is read back from the written workbook, and the READMEs' claims are
recomputed from the report's tidy tables and the input's routes (not from the
Exposure sheet alone, which is checked against them).
"""

from __future__ import annotations

import importlib.util
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from openpyxl import load_workbook

from planner.api import RunOutcome, load, run, solve_case
from planner.inputs.data import PlanData

ROOT = Path(__file__).resolve().parents[1]
RARE = ROOT / "examples" / "rare_earths"
LITH = ROOT / "examples" / "lithium"
TOL = 1e-6

Rows = list[dict[str, Any]]


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.parent.name + "_" + path.stem, path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def read_tables(path: Path) -> dict[str, Rows]:
    """Every sheet of a written report as rows of header -> value."""
    wb = load_workbook(path, read_only=True, data_only=True)
    out: dict[str, Rows] = {}
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        if not rows or rows[0][0] is None:
            continue
        head = [str(h) for h in rows[0]]
        out[ws.title] = [dict(zip(head, r, strict=False)) for r in rows[1:]
                         if any(v is not None for v in r)]
    return out


@pytest.fixture(scope="module")
def rare(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunOutcome, dict[str, Rows]]:
    out = run(RARE / "rare_earths.xlsx", tmp_path_factory.mktemp("re") / "report.xlsx")
    return out, read_tables(out.report)


@pytest.fixture(scope="module")
def lith(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunOutcome, dict[str, Rows]]:
    out = run(LITH / "lithium.xlsx", tmp_path_factory.mktemp("li") / "report.xlsx")
    return out, read_tables(out.report)


def route_countries(plan: PlanData, offer: str) -> dict[str, str]:
    """stage -> country of the facility performing it on the offer's route."""
    route = plan.routes[plan.offers[offer].route]
    return {k: plan.facilities[f].country for k, f in route.facilities.items()}


def shares_from_plan(plan: PlanData, rows: Rows) -> dict[tuple[str, ...], float]:
    """(scenario, material, period, stage, country) -> share, recomputed from Plan rows."""
    total: dict[tuple[str, ...], float] = defaultdict(float)
    vol: dict[tuple[str, ...], float] = defaultdict(float)
    for r in rows:
        key = (r["scenario"], r["material"], str(r["period"]))
        total[key] += r["volume"]
        for stage, country in route_countries(plan, r["offer"]).items():
            vol[(*key, stage, country)] += r["volume"]
    return {k: v / total[k[:3]] for k, v in vol.items()}


# --- both examples -----------------------------------------------------------------


@pytest.mark.parametrize("folder,name", [(RARE, "rare_earths"), (LITH, "lithium")])
def test_committed_workbook_holds_what_build_defines(folder: Path, name: str) -> None:
    """Every row build.py defines is in the committed workbook, cell for cell.

    (Compared by column name, so template cosmetics such as new optional sheets or
    columns do not matter; rerun build.py when this fails.)
    """
    build = _module(folder / "build.py")
    kept = load_workbook(folder / f"{name}.xlsx", read_only=True)
    for sheet, rows in build.data().items():
        table = list(kept[sheet].iter_rows(values_only=True))
        head = [str(h) for h in table[0]]
        written = [dict(zip(head, r, strict=False)) for r in table[1:]
                   if any(v is not None for v in r)]
        assert len(written) == len(rows), sheet
        for want, got in zip(rows, written, strict=True):
            for col, value in want.items():
                if value in (None, ""):
                    assert got.get(col) in (None, ""), (sheet, col, want)
                else:
                    assert got.get(col) == value, (sheet, col, want)
    sources = [tuple(r[:2]) for r in kept["Sources"].iter_rows(min_row=2, values_only=True)]
    assert sources == [(a or None, b or None) for a, b in build.SOURCES]


@pytest.mark.parametrize("folder,name", [(RARE, "rare_earths"), (LITH, "lithium")])
def test_every_figure_carries_a_source_tag(folder: Path, name: str) -> None:
    wb = load_workbook(folder / f"{name}.xlsx", read_only=True)
    assert "Sources" in wb.sheetnames
    for sheet in ("Offers", "Facilities", "Demand", "Stockpile"):
        rows = list(wb[sheet].iter_rows(values_only=True))
        head = [str(h) for h in rows[0]]
        src = head.index("source")
        for r in rows[1:]:
            if r[0] is not None:
                assert any(t in str(r[src]) for t in ("[S]", "[S2]", "[D]", "[I]")), (sheet, r)


@pytest.mark.parametrize("fixture", ["rare", "lith"])
def test_every_case_solves_and_exposure_matches_plan(fixture: str,
                                                     request: pytest.FixtureRequest) -> None:
    out, t = request.getfixturevalue(fixture)
    assert out.exit_code == 0
    assert all(r["status"] == "optimal" for r in t["Summary"])
    shares = shares_from_plan(out.plan, t["Plan"])
    exposure: dict[tuple[str, ...], float] = {
        (r["scenario"], r["material"], str(r["period"]), r["stage"], r["country"]): r["share"]
        for r in t["Exposure"]}
    assert exposure.keys() == shares.keys()
    for k, share in shares.items():
        assert exposure[k] == pytest.approx(share, abs=1e-6)


# --- the rare-earth story ------------------------------------------------------------


def test_solikamsk_never_chosen(rare: tuple[RunOutcome, dict[str, Rows]]) -> None:
    out, t = rare
    for r in t["Plan"]:
        assert "Solikamsk" not in out.plan.routes[r["route"]].facilities.values()
        assert r["supplier"] != "Rosatom"
    # ... although it is the cheapest NdPr on offer: the sanctions rule is what keeps it out.
    prices = {o.id: o.unit_cost for o in out.plan.offers.values()
              if o.material == "NdPr_oxide"}
    assert min(prices, key=lambda k: prices[k]) == "Solikamsk_NdPr"


def consumption(plan: PlanData, name: str = "base") -> dict[tuple[str, int], float]:
    """(offer, period index) -> t consumed of what was bought from it (a use rule makes
    stock remember its origin; the report's tables show purchases, not this)."""
    import pyomo.environ as pyo

    from planner.model.build import build_model
    from planner.scenario.cases import Index, build_case
    from planner.solve.solver import solve

    ix = Index.build(plan)
    m, _ = build_model(plan, ix, build_case(plan, ix, name))
    assert solve(m).status == "optimal"
    return {k: float(pyo.value(v)) for k, v in m.c.items()}


def test_defence_slice_consumes_no_covered_country_stage_from_2027(
        rare: tuple[RunOutcome, dict[str, Rows]]) -> None:
    out, t = rare
    covered = out.plan.members("covered")
    assert covered == {"CHN", "RUS", "IRN", "PRK"}
    slice_ = {"NdPr_oxide_DFARS", "Dy_oxide_DFARS", "Tb_oxide_DFARS"}
    assert slice_ <= set(out.plan.materials)
    dfars = [r for r in out.plan.rules.values() if r.id.startswith("DFARS")]
    assert {r.material for r in dfars} == slice_
    assert all(r.applies_to == "use" and r.kind == "ban" and r.country == "covered"
               for r in dfars)
    rows = [r for r in t["Plan"] if r["material"] in slice_]
    for mat in slice_:
        assert {int(r["period"]) for r in rows if r["scenario"] == "base"
                and r["material"] == mat} == {2026, 2027, 2028, 2029, 2030}
    # In 2026 the rule is not yet in force and Chinese oxide is the cheapest, so it is used...
    for mat in slice_:
        assert any(str(r["period"]) == "2026" and r["scenario"] == "base"
                   and "CHN" in route_countries(out.plan, r["offer"]).values()
                   for r in rows if r["material"] == mat), mat
    # ... but nothing from an offer with a covered stage is consumed from 2027, in any case
    for name in ("base", "China_denies_HREE", "Kuantan_outage_2028"):
        used = consumption(out.plan, name)
        for (oid, ti), c in used.items():
            if out.plan.offers[oid].material in slice_ and ti >= 1 and c > TOL:
                assert not covered & set(route_countries(out.plan, oid).values()), (name, oid)
    # ... and no stock leaves 2026: a stock minimum would count covered oxide in store.
    for r in t["Stock"]:
        if r["material"] in slice_ and str(r["period"]) == "2026":
            assert r["stock"] == pytest.approx(0, abs=TOL)


def test_use_rule_stops_2026_covered_stock_being_used_later(
        rare: tuple[RunOutcome, dict[str, Rows]]) -> None:
    """Without the no-carry guard, the DFARS rule on purchases lets covered oxide bought
    in 2026 be used from 2027; the same rule on use does not."""
    import dataclasses

    out, _ = rare
    plan = out.plan
    stock = [s for s in plan.stockpile if not (s.material.endswith("_DFARS")
                                                 and s.max_tonnes == 0)]
    covered = plan.members("covered")
    unguarded = dataclasses.replace(plan, stockpile=stock)
    # as a use rule: nothing covered consumed in the defence slice from 2027
    for (oid, ti), c in consumption(unguarded).items():
        o = plan.offers[oid]
        if o.material.endswith("_DFARS") and ti >= 1 and c > TOL:
            assert not covered & set(route_countries(plan, oid).values()), oid
    # as a purchase rule: covered oxide bought in 2026 beyond 2026's need is carried on
    rules = {k: dataclasses.replace(r, applies_to="purchase") if k.startswith("DFARS") else r
             for k, r in plan.rules.items()}
    r = solve_case(dataclasses.replace(unguarded, rules=rules))
    carried = False
    for mat in ("Dy_oxide_DFARS", "Tb_oxide_DFARS"):
        cn = sum(p["volume"] for p in r.plan if p["material"] == mat
                 and str(p["period"]) == "2026"
                 and covered & set(route_countries(plan, p["offer"]).values()))
        need = next(s["demand"] for s in r.stock if s["material"] == mat
                    and str(s["period"]) == "2026")
        carried |= cn > need + plan.materials[mat].initial_stock + TOL
    assert carried


def test_every_crma_cap_holds(rare: tuple[RunOutcome, dict[str, Rows]]) -> None:
    out, t = rare
    shares = shares_from_plan(out.plan, t["Plan"])
    assert shares
    caps = [c for c in out.plan.caps.values() if c.id.startswith("CRMA_65")]
    third = {c.country for c in caps}
    assert third == {"CHN", "MMR", "MYS", "AUS", "USA", "RUS"}  # every non-EU country
    assert all(c.max_share == 0.65 and c.material is None and c.stage is None for c in caps)
    for k, share in shares.items():
        if k[4] in third:
            assert share <= 0.65 + 1e-6, k
    # The cap binds: China has exactly 65% of the base case's NdPr at both stages each year.
    for year in ("2026", "2027", "2028", "2029", "2030"):
        for stage in ("mining", "separation"):
            assert shares[("base", "NdPr_oxide", year, stage, "CHN")] == pytest.approx(0.65)


def test_stockpile_targets_met_in_base_case(rare: tuple[RunOutcome, dict[str, Rows]]) -> None:
    out, t = rare
    base = [r for r in t["Stock"] if r["scenario"] == "base"]
    assert len(base) == 6 * 5
    days = {p.label: p.days for p in out.plan.periods}
    target_days = {"NdPr_oxide": 60, "NdPr_oxide_DFARS": 60, "Dy_oxide": 180, "Tb_oxide": 180,
                   "Dy_oxide_DFARS": 180, "Tb_oxide_DFARS": 180}
    for r in base:
        year = str(r["period"])
        want = target_days[r["material"]] * r["demand"] / days[year]
        if r["material"].endswith("_DFARS") and year == "2026":
            want = 0.0  # the defence stock is built from compliant supply from 2027
        assert r["min_stock"] == pytest.approx(want)
        assert r["stock"] >= want - TOL
        assert r["stockpile_shortfall"] == pytest.approx(0, abs=TOL)
        assert r["unmet_demand"] == pytest.approx(0, abs=TOL)
    # e.g. civil NdPr 2030: 60 days of 1,026 t = 168.66 t
    nd30 = next(r for r in base if r["material"] == "NdPr_oxide" and str(r["period"]) == "2030")
    assert nd30["stock"] == pytest.approx(60 * 1026 / 365, abs=1e-3)


def test_licences_bind_and_heavy_rare_earth_denial_hurts_most(
        rare: tuple[RunOutcome, dict[str, Rows]]) -> None:
    out, t = rare
    base = [r for r in t["Plan"] if r["scenario"] == "base"]
    days = {p.label: p.days for p in out.plan.periods}
    # the licence quotas (t/yr, so x days/365) bind: Dy from 2029, Tb from 2028
    for mat, limit, years in (("Dy_oxide", 20, ("2029", "2030")),
                              ("Tb_oxide", 6, ("2028", "2029", "2030"))):
        for year in years:
            chinese = sum(r["volume"] for r in base if r["material"] == mat
                          and str(r["period"]) == year
                          and route_countries(out.plan, r["offer"])["separation"] == "CHN")
            assert chinese == pytest.approx(limit * days[year] / 365, abs=1e-4), (mat, year)
    unmet = {r["scenario"]: r["unmet_demand"] for r in t["Summary"]}
    assert max(unmet, key=lambda k: unmet[k]) == "China_denies_HREE"
    assert unmet["China_denies_HREE"] > 40
    # ... and only civil Dy and Tb go short: the defence slice never relied on China.
    short = {r["material"] for r in t["Stock"] if r["unmet_demand"] > TOL}
    assert short == {"Dy_oxide", "Tb_oxide"}
    assert all(v == pytest.approx(0, abs=TOL) for k, v in unmet.items()
               if k != "China_denies_HREE")


def test_heavy_rare_earth_denial_draws_the_strategic_stock(
        rare: tuple[RunOutcome, dict[str, Rows]]) -> None:
    """The stock is drawn in the crisis: by 2030 the civil Dy and Tb stocks are empty
    while demand goes unmet, rather than kept at target.

    It is drawn in the crisis's last year, not its first: with the whole denial known
    in advance (each case is solved with foresight) total unmet demand is the same
    whenever the stock is spent, and every year below target costs the per-year
    stockpile penalty, so the contract's optimum spends it last.  `planner hedge` and
    `planner stress` are the tools for decisions without that foresight."""
    _, t = rare
    rows = {(r["material"], str(r["period"])): r for r in t["Stock"]
            if r["scenario"] == "China_denies_HREE"}
    for mat in ("Dy_oxide", "Tb_oxide"):
        last = rows[(mat, "2030")]
        assert last["unmet_demand"] > 1
        assert last["stock"] == pytest.approx(0, abs=TOL)
        assert last["stockpile_shortfall"] == pytest.approx(last["min_stock"])


def _m(amount: float) -> str:
    """Millions with one decimal as the README writes them (a rounding -0.0 is 0.0)."""
    text = f"{amount / 1e6:,.1f}"
    return "0.0" if text == "-0.0" else text


def test_readme_numbers_match_the_report(rare: tuple[RunOutcome, dict[str, Rows]]) -> None:
    """The README quotes the base cost, scenario figures and policy costs as they are now."""
    out, t = rare
    text = (RARE / "README.md").read_text(encoding="utf-8")
    summary = {r["scenario"]: r for r in t["Summary"]}
    base = summary["base"]["total_cost"]
    assert f"{base / 1e6:,.1f} M USD" in text
    for name in ("Kuantan_outage_2028", "Myanmar_stops", "NdPr_price_spike",
                 "EV_demand_surge"):
        assert f"+{(summary[name]['total_cost'] - base) / 1e6:,.1f} M USD" in text, name
    assert f"{summary['China_denies_HREE']['unmet_demand']:,.1f} t" in text
    analyse = _module(RARE / "analyse.py")
    for policy, variant in analyse.without_policies(out.plan):
        r = solve_case(variant)
        assert r.total_cost is not None
        assert f"{_m(base - r.total_cost)} M USD" in text, policy
    # the two experiments: DFARS dropped altogether, and the caps per element
    r = solve_case(analyse.without_dfars(out.plan))
    assert r.total_cost is not None and r.total_cost < base
    assert f"adds **{(base - r.total_cost) / 1e6:,.1f} M USD**" in text
    per_element = analyse.per_element_caps(out.plan)
    assert per_element < base
    assert f"**{(base - per_element) / 1e6:,.1f} M USD** less" in text
    assert (RARE / "chart.png").stat().st_size > 10_000


# --- the lithium story ---------------------------------------------------------------


def test_lithium_story(lith: tuple[RunOutcome, dict[str, Rows]]) -> None:
    out, t = lith
    shares = shares_from_plan(out.plan, t["Plan"])
    cases = {r["scenario"] for r in t["Summary"]}
    for (case, _mat, year, stage, country), share in shares.items():
        limit = 0.50 if case == "Tighter_cap_50" else 0.65
        if stage == "conversion":
            assert share <= limit + 1e-6, (case, year, country)
    for year in ("2026", "2027", "2028", "2029", "2030"):
        # China converts exactly the capped 65%; the rest is brine (Chile, Argentina) and,
        # from 2028, the EU converter at its 1,000 t/yr take-or-pay minimum.
        assert shares[("base", "Li2CO3", year, "conversion", "CHN")] == pytest.approx(0.65)
        brine = sum(shares.get(("base", "Li2CO3", year, "mining", c), 0.0)
                    for c in ("CHL", "ARG"))
        assert brine > 0.25
    eu = {str(r["period"]): r["volume"] for r in t["Plan"]
          if r["scenario"] == "base" and r["offer"] == "EU_converter_offtake"}
    days = {p.label: p.days for p in out.plan.periods}
    assert eu == pytest.approx({y: 1000 * days[y] / 365 for y in ("2028", "2029", "2030")})
    # both minimums are take-or-pay commitments, and the plan always takes them
    assert {o.id: o.take_or_pay for o in out.plan.offers.values() if o.take_or_pay} == {
        "Chile_LTA": 0.5, "EU_converter_offtake": 0.5}
    assert all(not r["take_or_pay_cost"] for r in t["Summary"])
    summary = {r["scenario"]: r for r in t["Summary"]}
    assert cases == {"base", "China_export_licences", "Chile_supply_halt_2028",
                     "EV_demand_surge", "Tighter_cap_50", "Lithium_price_spike"}
    assert all(r["unmet_demand"] == pytest.approx(0, abs=TOL) for r in summary.values())
    base = summary["base"]["total_cost"]
    rise = {k: r["total_cost"] - base for k, r in summary.items()}
    assert max(rise, key=lambda k: rise[k]) == "Lithium_price_spike"
    assert rise["Tighter_cap_50"] > 0
    text = (LITH / "README.md").read_text(encoding="utf-8")
    assert f"{base / 1e6:,.1f} M USD" in text
    for name, r in rise.items():
        if name != "base":
            sign = "+" if r >= 0 else "-"
            assert f"{sign}{abs(r) / 1e6:,.1f} M USD" in text, name
    plan = load(LITH / "lithium.xlsx")
    analyse = _module(RARE / "analyse.py")
    for policy, variant in analyse.without_policies(plan):
        r2 = solve_case(variant)
        assert r2.total_cost is not None
        assert f"{_m(base - r2.total_cost)} M USD" in text, policy
    assert (LITH / "chart.png").stat().st_size > 10_000


# --- the rare-earth hedge ------------------------------------------------------------


def musd(x: float) -> str:
    return f"{x / 1e6:,.1f} M USD"


def tonnes(x: float) -> str:
    return f"{x:,.1f} t"


@pytest.fixture(scope="module")
def rare_hedge(tmp_path_factory: pytest.TempPathFactory
               ) -> tuple[dict[str, Rows], dict[str, Rows]]:
    """The example's hedge report and that of the base plan's commitments (all probability
    on the base case, ``build.py --base-plan``), each hedged afresh and read back."""
    from planner.api import hedge, write_hedge

    folder = tmp_path_factory.mktemp("re-hedge")
    build = _module(RARE / "build.py")
    out = []
    for path in (RARE / "rare_earths.xlsx", build.build_base_plan(folder / "base-plan.xlsx")):
        plan = load(path)
        result = hedge(plan)
        assert result.exit_code == 0
        out.append(read_tables(write_hedge(plan, result, folder / f"{path.stem}-hedge.xlsx")))
    return out[0], out[1]


def hedge_facts(t: dict[str, Rows], b: dict[str, Rows]) -> dict[str, Any]:
    """The figures the README's hedge section reads, from the two reports."""
    measure = {r["measure"]: r["value"] for r in t["Hedge"]}
    cases = {r["scenario"]: r for r in t["Hedge scenarios"]}
    base_cases = {r["scenario"]: r for r in b["Hedge scenarios"]}
    summary = {r["scenario"]: r for r in t["Summary"]}
    base_summary = {r["scenario"]: r for r in b["Summary"]}
    return {"measure": measure, "cases": cases, "base_cases": base_cases,
            "summary": summary, "base_summary": base_summary,
            "orders": {r["offer"]: r for r in t["Commitments"]},
            "base_orders": {r["offer"]: r for r in b["Commitments"]}}


def test_hedged_commitments_hold_in_every_case(
        rare_hedge: tuple[dict[str, Rows], dict[str, Rows]],
        rare: tuple[RunOutcome, dict[str, Rows]]) -> None:
    """Each case's recourse solves with the shared 2026 orders, buys exactly them in 2026,
    and the measures are as the contract says: EVPI >= 0, VSS >= 0, a frontier that
    never trades a lower CVaR for a lower expected cost."""
    t, b = rare_hedge
    plan = load(RARE / "rare_earths.xlsx")
    f = hedge_facts(t, b)
    names = ["base", *plan.scenarios]
    assert [r["scenario"] for r in t["Hedge scenarios"]] == names
    assert sum(r["probability"] for r in t["Hedge scenarios"]) == pytest.approx(1.0)
    assert [r["scenario"] for r in t["Summary"]] == names
    assert all(r["status"] == "optimal" for r in t["Summary"])
    orders = {o: r["volume"] for o, r in f["orders"].items()}
    assert orders and all(str(r["period"]) == "2026" for r in t["Commitments"])
    for name in names:
        bought = {r["offer"]: r["volume"] for r in t["Plan"]
                  if r["scenario"] == name and str(r["period"]) == "2026"}
        assert bought.keys() == orders.keys(), name
        for offer, vol in orders.items():
            assert bought[offer] == pytest.approx(vol, rel=1e-6, abs=1e-6), (name, offer)
            cap = plan.offers[offer].max_volume
            assert cap is None or vol <= cap + TOL
        assert f["cases"][name]["total_cost"] >= f["cases"][name]["foresight_cost"] - 1e-3
    m = f["measure"]
    assert m["evpi"] >= -1e-3 and m["vss"] >= -1e-3
    assert m["objective"] == pytest.approx(m["expected_cost"])  # risk_weight 0
    expected = sum(r["probability"] * r["total_cost"] for r in t["Hedge scenarios"])
    assert m["expected_cost"] == pytest.approx(expected)
    # VSS is the expected cost of the base plan's own 2026 orders, re-solved in every
    # case (the --base-plan report), minus the hedge's
    p = {r["scenario"]: r["probability"] for r in t["Hedge scenarios"]}
    with_base = sum(p[n] * r["total_cost"] for n, r in f["base_cases"].items())
    assert with_base - m["expected_cost"] == pytest.approx(m["vss"], rel=1e-6)
    assert b["Hedge"][0]["value"] == pytest.approx(f["cases"]["base"]["foresight_cost"])
    run_2026 = {r["offer"]: r["volume"] for r in rare[1]["Plan"]
                if r["scenario"] == "base" and str(r["period"]) == "2026"}
    assert run_2026 == pytest.approx({o: r["volume"] for o, r in f["base_orders"].items()})
    front = sorted(t["Frontier"], key=lambda r: r["risk_weight"])
    assert [r["risk_weight"] for r in front] == [0, 0.25, 0.5, 0.75, 1]
    for lo, hi in zip(front, front[1:], strict=False):
        assert hi["expected_cost"] >= lo["expected_cost"] - 1e-3
        assert hi["cvar"] <= lo["cvar"] + 1e-3


def test_readme_hedge_numbers_match_the_report(
        rare_hedge: tuple[dict[str, Rows], dict[str, Rows]]) -> None:
    """Every figure of the README's "What to sign now: the hedge" section, from the
    reports of a fresh hedge run."""
    t, b = rare_hedge
    text = (RARE / "README.md").read_text(encoding="utf-8")
    start = text.index("## What to sign now: the hedge")
    end = text.find("\n## ", start + 1)
    section = " ".join(text[start:end if end > 0 else None].split())  # lines rewrapped
    f = hedge_facts(t, b)
    m, cases, base_cases = f["measure"], f["cases"], f["base_cases"]
    summary, base_summary = f["summary"], f["base_summary"]
    orders, base_orders = f["orders"], f["base_orders"]

    def has(s: str) -> None:
        assert s in section, s

    # the probabilities
    for name, r in cases.items():
        has(f"| {name} | {r['probability']:.0%} |")
    # what to sign, per offer (hedge and base plan) and per supplier
    for offer, r in orders.items():
        base_vol = base_orders[offer]["volume"] if offer in base_orders else 0.0
        has(f"| {r['supplier']} | {offer} | {tonnes(r['volume'])} | {tonnes(base_vol)} |")
    assert base_orders.keys() <= orders.keys()
    suppliers: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in orders.values():
        suppliers[r["supplier"]][0] += r["volume"]
        suppliers[r["supplier"]][1] += r["expected_cost"]
    for name, (vol, cost) in suppliers.items():
        has(f"**{name}**: {tonnes(vol)}, {musd(cost)}")
    assert not {"MP Materials", "Neo Performance", "Solvay"} & suppliers.keys()
    plan = load(RARE / "rare_earths.xlsx")
    for offer in ("Lynas_Dy", "Lynas_Tb"):  # Lynas's whole yearly contracts
        assert orders[offer]["volume"] == pytest.approx(plan.offers[offer].max_volume)
    has(f"{musd(sum(r['expected_cost'] for r in orders.values()))} in all")
    has(f"{musd(sum(r['expected_cost'] for r in base_orders.values()))} for the base plan's")
    dy26 = {r["scenario"]: r for r in t["Stock"] if r["material"] == "Dy_oxide"
            and str(r["period"]) == "2026"}["base"]
    has(f"{tonnes(dy26['stock'])} of Dy")
    # 65% of 2026 Dy and Tb is separated in China, the CRMA cap
    for mat in ("Dy_oxide", "Tb_oxide"):
        share = next(r["share"] for r in t["Exposure"] if r["scenario"] == "base"
                     and r["material"] == mat and str(r["period"]) == "2026"
                     and r["stage"] == "separation" and r["country"] == "CHN")
        assert share == pytest.approx(0.65)
    # the cost, in the expected case and if nothing happens
    p = {n: r["probability"] for n, r in cases.items()}
    with_base = sum(p[n] * r["total_cost"] for n, r in base_cases.items())
    has(f"expected cost is **{musd(m['expected_cost'])}**")
    has(f"{musd(with_base)} with the base plan's")
    has(f"VSS, **{musd(m['vss'])}**")
    base = cases["base"]
    has(f"{musd(base['total_cost'])} instead of {musd(base['foresight_cost'])}")
    has(f"**{musd(base['total_cost'] - base['foresight_cost'])}** more")
    has(f"holding {musd(summary['base']['holding_cost'])} instead of "
        f"{musd(base_summary['base']['holding_cost'])}")
    assert base["total_cost"] - base["foresight_cost"] == pytest.approx(
        summary["base"]["holding_cost"] - base_summary["base"]["holding_cost"])
    # each case, with the hedge and with the base plan's commitments
    for name, r in cases.items():
        has(f"| {name} | {musd(r['total_cost'])} | {tonnes(summary[name]['unmet_demand'])} | "
            f"{musd(base_cases[name]['total_cost'])} | "
            f"{tonnes(base_summary[name]['unmet_demand'])} | {musd(r['foresight_cost'])} |")
    # the China denial
    deny, base_deny = "China_denies_HREE", base_summary["China_denies_HREE"]
    assert cases[deny]["total_cost"] == pytest.approx(cases[deny]["foresight_cost"])
    has(f"{tonnes(base_deny['unmet_demand'] - summary[deny]['unmet_demand'])} less")
    has(f"{musd(cases[deny]['money'])} against {musd(base_cases[deny]['money'])}")
    has(f"{musd(base_cases[deny]['total_cost'] - cases[deny]['total_cost'])} less")
    for name in ("Kuantan_outage_2028", "EV_demand_surge"):
        assert summary[name]["unmet_demand"] == pytest.approx(0, abs=TOL)
        has(f"{musd(base_summary[name]['stockpile_shortfall_cost'])} ({name})")
    has(f"against {musd(summary['Kuantan_outage_2028']['stockpile_shortfall_cost'])} and "
        f"{musd(summary['EV_demand_surge']['stockpile_shortfall_cost'])} with the hedge")
    assert p[deny] * (base_cases[deny]["total_cost"] - cases[deny]["total_cost"]) > m["vss"] / 2
    # EVPI
    has(f"EVPI is **{musd(m['evpi'])}**")
    spike = cases["NdPr_price_spike"]
    has(f"{musd(spike['total_cost'])} against {musd(spike['foresight_cost'])}")
    gap = {n: p[n] * (r["total_cost"] - r["foresight_cost"]) for n, r in cases.items()}
    assert gap["NdPr_price_spike"] > m["evpi"] / 2
    for name in (deny, "Myanmar_stops"):
        assert gap[name] == pytest.approx(0, abs=1e-3)
    # the frontier: flat, at the denial case's cost
    front = t["Frontier"]
    for r in front:
        assert r["expected_cost"] == pytest.approx(m["expected_cost"], rel=1e-9)
        assert r["cvar"] == pytest.approx(m["cvar"], rel=1e-9)
    assert m["cvar"] == pytest.approx(cases[deny]["total_cost"])
    has(f"expected cost {musd(m['expected_cost'])} and CVaR {musd(m['cvar'])}")
