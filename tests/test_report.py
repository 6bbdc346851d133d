"""The report read back from the written file: tidy tables, formats, charts, audit trail.

Most tests use ``wb.valid_data()`` (worked by hand in tests/wb.py): base buys
100 t of O_CN at 55 (50 + 10% tariff) in 2027 and 2028, total 11,000;
scenario ``ban_covered`` turns on BAN_CN and buys O_AU at 80, total 16,000.
A holding cost of 1/t/yr (``valid()``) makes buying each year's need in that
year the unique optimum without changing these totals (no stock is held).
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
import wb as wbdata
from openpyxl import load_workbook

import planner.report.workbook as report
import planner.xlsx.save as xsave
import planner.xlsx.tables as xl
from planner import api
from planner.analysis.results import TABLE_COLUMNS
from planner.inputs.template import write_template


def valid() -> dict[str, Any]:
    data = wbdata.valid_data()
    data["Materials"][0]["holding_cost"] = 1
    return data


def run(tmp_path: Path, data: dict[str, Any] | None = None, name: str = "input.xlsx"
        ) -> tuple[Path, Path]:
    src = wbdata.write(tmp_path, data or valid(), name)
    out = tmp_path / "report.xlsx"
    api.run(src, out)
    return src, out


def rows(ws: Any) -> list[tuple[Any, ...]]:
    return list(ws.iter_rows(values_only=True))


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The worked example's report (planner template --example, then run)."""
    d = tmp_path_factory.mktemp("example")
    src = write_template(d / "example.xlsx", example=True)
    return api.run(src, d / "example-report.xlsx").report


def test_sheets_and_tidy_tables_keep_the_contract(tmp_path: Path) -> None:
    _, out = run(tmp_path)
    book = load_workbook(out)
    assert book.sheetnames[0] == "Dashboard"
    assert book.sheetnames[1:6] == list(TABLE_COLUMNS)
    for name, columns in TABLE_COLUMNS.items():
        ws = book[name]
        assert list(rows(ws)[0]) == columns
        assert ws.freeze_panes == "A2"
        (table,) = ws.tables.values()
        assert table.ref == f"A1:{chr(64 + len(columns))}{ws.max_row}"
    summary = rows(book["Summary"])
    assert [(r[0], r[1], r[2]) for r in summary[1:]] == [
        ("base", "optimal", pytest.approx(11000)), ("ban_covered", "optimal",
                                                    pytest.approx(16000))]
    plan = rows(book["Plan"])[1:]
    # period labels that are whole numbers are written as numbers (filters, pivots)
    assert [(r[0], r[1], r[5], r[6]) for r in plan] == [
        ("base", "O_CN", 2027, pytest.approx(100)), ("base", "O_CN", 2028, pytest.approx(100)),
        ("ban_covered", "O_AU", 2027, pytest.approx(100)),
        ("ban_covered", "O_AU", 2028, pytest.approx(100))]
    for name in ("Stock", "Exposure", "Constraints"):
        assert {r[list(TABLE_COLUMNS[name]).index("period")]
                for r in rows(book[name])[1:]} == {2027, 2028}, name


def test_number_formats_units_and_percentages(tmp_path: Path) -> None:
    _, out = run(tmp_path)
    book = load_workbook(out)
    plan = book["Plan"]
    assert plan["G2"].number_format == '#,##0.0" t"'      # volume
    assert plan["H2"].number_format == '#,##0.00 "USD"'   # unit_cost
    assert plan["I2"].number_format == '#,##0 "USD"'      # cost
    assert book["Exposure"]["G2"].number_format == "0.0%"
    assert book["Summary"]["C2"].number_format == '#,##0 "USD"'
    assert book["Plan"].column_dimensions["A"].width >= 12


def test_binding_caps_are_highlighted(tmp_path: Path) -> None:
    """CAP_CN on: at most 50% through CHN at separation, so 50 t of each offer a year:
    2 x (50 x 55 + 50 x 80) = 13,500; the cap adds 2,500 over the 11,000 without it."""
    data = valid()
    data["Caps"][0]["active"] = True
    _, out = run(tmp_path, data)
    book = load_workbook(out)
    ws = book["Constraints"]
    formulas = [(str(rng.sqref), r.formula) for rng in ws.conditional_formatting for r in rng.rules]
    assert formulas == [(f"A2:F{ws.max_row}", ['AND($C2="cap",ABS($E2)<=0.000001)'])]
    cap_rows = [r for r in rows(ws)[1:] if r[0] == "base" and r[2] == "cap"]
    assert cap_rows and all(abs(r[4]) <= 1e-6 for r in cap_rows)
    policy = rows(book["Policy costs"])
    assert policy[0][:3] == ("policy", "kind", "sheet")
    assert policy[1][0] == "cap CAP_CN" and policy[1][7] == pytest.approx(2500)
    dash = [c for r in rows(book["Dashboard"]) for c in r if c is not None]
    assert "cap CAP_CN" in dash


def test_input_text_never_becomes_a_formula(tmp_path: Path) -> None:
    data = valid()
    data["Offers"][0]["supplier"] = '=HYPERLINK("http://x","y")'
    data["Offers"][1]["supplier"] = "@SUM(1)"
    data["Materials"][0]["material"] = "=NdPr"
    for sheet in ("Demand", "Stockpile", "Offers", "Tariffs", "Caps"):
        for r in data[sheet]:
            r["material"] = "=NdPr"
    data["Rules"][0]["basis"] = "+1+2"
    _, out = run(tmp_path, data)
    book = load_workbook(out)
    plan = rows(book["Plan"])
    assert plan[1][2] == '=HYPERLINK("http://x","y")' and plan[1][3] == "=NdPr"
    assert plan[3][2] == "@SUM(1)"
    excluded = rows(book["Excluded offers"])
    assert excluded[1][7] == "+1+2"
    dash = [c for r in rows(book["Dashboard"]) for c in r if c is not None]
    assert "=NdPr" in dash                        # the cost-per-t column header
    with zipfile.ZipFile(out) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == len(book.sheetnames)
        for name in sheets:
            assert "<f>" not in z.read(name).decode(), name


def test_excluded_offers_and_run_sheet(tmp_path: Path) -> None:
    src, out = run(tmp_path)
    book = load_workbook(out)
    assert rows(book["Excluded offers"]) == [
        ("scenario", "offer", "supplier", "material", "period", "excluded_by", "kind", "basis"),
        ("ban_covered", "O_CN", "CNRE", "NdPr", 2027, "BAN_CN", "ban rule", "test"),
        ("ban_covered", "O_CN", "CNRE", "NdPr", 2028, "BAN_CN", "ban rule", "test")]
    run_rows = {r[0]: r[1] for r in rows(book["Run"])[1:]}
    assert run_rows["input file"] == "input.xlsx"
    assert run_rows["input SHA-256"] == hashlib.sha256(src.read_bytes()).hexdigest()
    for key in ("planner version", "Pyomo version", "HiGHS version", "run started (UTC)",
                "solver options", "solve time: base", "solve time: ban_covered"):
        assert run_rows[key] not in (None, "", "unknown"), key
    assert re.fullmatch(r"\d+\.\d+\.\d+", run_rows["HiGHS version"])


def test_run_sheet_records_settings_and_overrides(tmp_path: Path) -> None:
    data = valid()
    data["Settings"].append({"setting": "time_limit", "value": 30})
    src = wbdata.write(tmp_path, data)
    out = api.run(src, tmp_path / "r.xlsx", options={"threads": 1}, with_policy=False).report
    book = load_workbook(out)
    run_rows = {r[0]: r[1] for r in rows(book["Run"])[1:]}
    assert run_rows["solver options"] == '{"threads": 1, "time_limit": 30.0}'
    assert "policy re-solves" not in run_rows
    assert rows(book["Policy costs"])[1][0].startswith("Policy costs were not computed")


def test_dashboard_key_figures(tmp_path: Path) -> None:
    """Cost per t: 55 in base, 80 with the ban; one country per stage: share 100%, HHI 10,000."""
    _, out = run(tmp_path)
    ws = load_workbook(out)["Dashboard"]
    cells = rows(ws)
    assert cells[0][0] == "Test plan"

    def block(title: str) -> list[tuple[Any, ...]]:
        start = next(i for i, r in enumerate(cells) if r[0] == title and r[1] is None)
        out = []
        for r in cells[start + 2:]:
            if r[0] is None:
                break
            out.append(r)
        return out

    # what to buy, first: base buys 100 t of O_CN (CNRE) a year at 55
    assert cells[4][0].startswith("What to buy (base case)")
    buy = block(cells[4][0])
    assert cells[5][:6] == ("supplier", "offer", "material", "2027 (t)", "2028 (t)",
                            "cost (USD, with tariffs)")
    assert buy == [("CNRE", "O_CN", "NdPr", pytest.approx(100), pytest.approx(100),
                    pytest.approx(11000)) + (None,) * (len(buy[0]) - 6),
                   ("total", None, None, None, None, pytest.approx(11000))
                   + (None,) * (len(buy[0]) - 6)]
    cases = block("Cases")
    assert cells[cells.index(next(r for r in cells if r[0] == "Cases")) + 1][:6] == (
        "case", "status", "total cost", "vs base", "real spend", "penalties (not money)")
    assert [r[:6] for r in cases] == [
        ("base", "optimal", pytest.approx(11000), 0, pytest.approx(11000), 0),
        ("ban_covered", "optimal", pytest.approx(16000), pytest.approx(5000),
         pytest.approx(16000), 0)]
    cost = block("Cost per t bought (USD, with tariffs)")
    assert [r[:3] for r in cost] == [
        ("base", pytest.approx(55), 0), ("ban_covered", pytest.approx(80), pytest.approx(25))]
    # no stockpile minimum in this workbook: nothing to hold cover against
    assert [r[0] for r in block("Lowest stock cover against the stockpile target")] == [
        "(none)"]
    conc = block("Concentration: highest single-country share of purchases per stage")
    assert [(r[0], r[2], r[4], r[5], r[7]) for r in conc] == [
        ("base", "mining", "CHN", pytest.approx(1), pytest.approx(10000)),
        ("base", "separation", "CHN", pytest.approx(1), pytest.approx(10000)),
        ("ban_covered", "mining", "AUS", pytest.approx(1), pytest.approx(10000)),
        ("ban_covered", "separation", "MYS", pytest.approx(1), pytest.approx(10000))]
    assert ws.freeze_panes == "A2"


def test_dashboard_says_what_breaks(tmp_path: Path) -> None:
    """O_AU sells at most 80 t/yr: under the ban 20 t of NdPr go unmet each year
    (the shortage penalty of 1,000/t is far above any price)."""
    data = valid()
    data["Offers"][1]["max_volume"] = 80
    _, out = run(tmp_path, data)
    cells = [c for r in rows(load_workbook(out)["Dashboard"]) for c in r if c is not None]
    start = cells.index("What breaks")
    assert cells[start + 1] == ("ban_covered: 40.0 t of NdPr demand left unmet "
                                "(20.0 t in 2027, 20.0 t in 2028).")


def _charts(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return [z.read(n).decode() for n in sorted(z.namelist())
                if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]


def test_worked_example_dashboard_charts(example: Path) -> None:
    """Total cost and unmet demand by case (columns), then for the one material:
    supplier mix (stacked columns), stock vs minimum (lines), exposure per stage (bars)."""
    charts = _charts(example)
    assert len(charts) == 5
    cost, unmet, mix, stock, exposure = charts
    assert "<barChart>" in mix and '<grouping val="stacked" />' in mix
    assert '<barDir val="col" />' in mix and "supplier mix by country" in mix
    assert "<lineChart>" in stock and stock.count("<ser>") == 2
    assert '<barDir val="bar" />' in exposure and "country exposure per stage" in exposure
    assert "Total cost by case" in cost and "Unmet demand by case" in unmet
    for xml in charts:
        assert "'Chart data'!$" in xml
    with zipfile.ZipFile(example) as z:
        rels = z.read("xl/worksheets/_rels/sheet1.xml.rels").decode()
    assert "drawing" in rels                      # the charts sit on the first sheet
    book = load_workbook(example)
    data = rows(book["Chart data"])
    assert data[0][0] == "Scenario comparison"
    # real spend and penalties apart (stacked), then unmet demand
    assert data[1] == ("case", "real spend (USD)", "penalties (USD)", "unmet demand (t)")
    assert data[2][0] == "base" and data[2][1] + data[2][2] == pytest.approx(cells_total(book))
    mix_at = next(i for i, r in enumerate(data) if str(r[0]).startswith("NdPr_oxide: purch"))
    assert data[mix_at + 1][:3] == ("period", "CHN", "MYS")


def cells_total(book: Any) -> float:
    """The base case's total cost on the Summary sheet."""
    return float(rows(book["Summary"])[1][2])


def test_worked_example_key_figures(example: Path) -> None:
    """CRMA_65 holds China at 65% at both stages, Lynas (95,000/t) takes the other 35%:
    cost per t 0.65 x 70,000 + 0.35 x 95,000 = 78,750; HHI 65^2 + 35^2 = 5,450.
    The 60-day stockpile minimum is met exactly: cover 60 days against 60."""
    cells = rows(load_workbook(example)["Dashboard"])
    cost = next(i for i, r in enumerate(cells) if str(r[0]).startswith("Cost per t bought"))
    assert cells[cost + 1][:2] == ("case", "NdPr_oxide")
    assert cells[cost + 2][:2] == ("base", pytest.approx(78750))
    cov = next(i for i, r in enumerate(cells) if str(r[0]).startswith("Lowest stock cover"))
    assert cells[cov + 2][0:2] == ("base", "NdPr_oxide")
    assert cells[cov + 2][3:5] == (pytest.approx(60), pytest.approx(60))
    conc = next(i for i, r in enumerate(cells) if str(r[0]).startswith("Concentration"))
    assert cells[conc + 2][:8] == ("base", "NdPr_oxide", "mining", "2026", "CHN",
                                   pytest.approx(0.65), pytest.approx(0.65), pytest.approx(5450))


def test_worked_example_policy_and_shadow_sentences(example: Path) -> None:
    book = load_workbook(example)
    policy = rows(book["Policy costs"])[1:]
    assert [r[0] for r in policy] == ["stockpile minimums", "cap CRMA_65"]
    added = [r[7] for r in policy]
    assert added == sorted(added, reverse=True) and all(a > 0 for a in added)
    shadow = rows(book["Shadow prices"])
    assert shadow[0][:2] == ("scenario", "sentence")
    sentences = [r[1] for r in shadow[1:]]
    assert any(s.startswith("Raising cap CRMA_65") for s in sentences)


def test_tables_split_past_the_row_limit(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xl, "MAX_ROWS", 3)
    _, out = run(tmp_path)
    book = load_workbook(out)
    assert "Plan (2)" in book.sheetnames
    first, second = rows(book["Plan"]), rows(book["Plan (2)"])
    assert first[0] == second[0] == tuple(TABLE_COLUMNS["Plan"])
    assert len(first) - 1 == 3 and len(second) - 1 == 1
    assert list(book["Plan (2)"].tables) == ["tPlan_2"]
    notes = [r[2] for r in rows(book["Notes"])[1:]]
    assert any("Plan has 4 rows" in n and "'Plan (2)'" in n for n in notes)


# --- streamed tables (the fast path for large reports) ---------------------------

def _snapshot(path: Path) -> dict[str, Any]:
    """Everything a reader sees in a report, sheet by sheet (the write time left out)."""
    book = load_workbook(path)
    out: dict[str, Any] = {"sheets": book.sheetnames}
    for ws in book:
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is None and not c.has_style:
                    continue
                value = c.value
                if ws.title == "Run" and ws.cell(row=c.row, column=1).value == \
                        "report written (UTC)" and c.column == 2:
                    value = "(time)"
                cells[c.coordinate] = (value, c.data_type, c.number_format, c.quotePrefix,
                                       c.font.b, c.font.i, c.font.color and c.font.color.rgb,
                                       c.fill.fill_type, c.fill.fgColor.rgb,
                                       c.alignment.horizontal)
        out[ws.title] = {
            "dimensions": ws.dimensions, "cells": cells, "freeze": ws.freeze_panes,
            "widths": {k: d.width for k, d in ws.column_dimensions.items()},
            "tables": {t.displayName: (t.ref, [c.name for c in t.tableColumns],
                                       t.tableStyleInfo.name,
                                       t.autoFilter.ref if t.autoFilter else None)
                       for t in ws.tables.values()},
            "filter": ws.auto_filter.ref,
            "conditional": [(str(r.sqref), [(x.formula, x.dxf.fill.fgColor.rgb
                                             if x.dxf and x.dxf.fill else None)
                                            for x in r.rules])
                            for r in ws.conditional_formatting],
            "print": (ws.print_title_rows, ws.page_setup.orientation,
                      ws.page_setup.fitToWidth, ws.page_setup.fitToHeight,
                      ws.sheet_properties.pageSetUpPr.fitToPage
                      if ws.sheet_properties.pageSetUpPr else None),
            "charts": len(ws._charts)}
    with zipfile.ZipFile(path) as z:
        out["members"] = sorted(z.namelist())
    return out


def _both_ways(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: dict[str, Any]
               ) -> tuple[Path, Path]:
    """One solve, its report written without streaming and with every table streamed
    (at the same clock time, so the Run sheets' 'report written' cells agree)."""
    written = report._now()
    monkeypatch.setattr(report, "_now", lambda: written)
    src = wbdata.write(tmp_path, data)
    plan = api.load(src)
    results = api.solve_all(plan)
    info = report.RunInfo(str(src))
    normal = report.write_report(plan, results, tmp_path / "normal.xlsx", info)
    monkeypatch.setattr(xl, "FAST_ROWS", 1)
    fast = report.write_report(plan, results, tmp_path / "fast.xlsx", info)
    return normal, fast


def test_streamed_tables_read_back_as_the_normal_ones(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Every table streamed (FAST_ROWS = 1): same cells, values, types, number formats,
    styles, widths, frozen panes, Excel tables, filters and conditional formatting.
    The binding cap (CAP_CN on) and formula-like text exercise the special cases."""
    data = valid()
    data["Caps"][0]["active"] = True
    data["Offers"][0]["supplier"] = '=HYPERLINK("http://x","y")'
    data["Offers"][1]["supplier"] = " @lead & <trail> "
    streamed: list[str] = []
    write_stream = xl._write_stream

    def spy(xml: str, st: Any, out: Any) -> None:
        streamed.append(st.ws.title)
        write_stream(xml, st, out)

    monkeypatch.setattr(xl, "_write_stream", spy)
    normal, fast = _both_ways(tmp_path, monkeypatch, data)
    # every table with rows (no policy costs asked for; Notes holds the Supply risk notes)
    assert streamed == ["Summary", "Plan", "Stock", "Exposure", "Constraints", "Shadow prices",
                        "Excluded offers", "Supply risk", "Notes"]
    a, b = _snapshot(normal), _snapshot(fast)
    assert a["sheets"] == b["sheets"] and a["members"] == b["members"]
    for name in a["sheets"]:
        assert a[name] == b[name], name
    plan = b["Plan"]["cells"]
    assert plan["C2"][:4] == ('=HYPERLINK("http://x","y")', "s", "General", True)
    assert plan["C4"][0] == " @lead & <trail> " and plan["C4"][3] is False
    assert plan["G2"][2] == '#,##0.0" t"' and plan["I2"][2] == '#,##0 "USD"'
    assert b["Plan"]["tables"] == {"tPlan": ("A1:I7", list(TABLE_COLUMNS["Plan"]),
                                             "TableStyleLight9", "A1:I7")}
    assert b["Plan"]["freeze"] == "A2"
    (cf,) = b["Constraints"]["conditional"]
    assert cf[0] == f"A2:F{len(rows(load_workbook(fast)['Constraints']))}"
    # the Supply risk sheet has one header row and nothing beside its table
    risk = b["Supply risk"]["cells"]
    assert risk["J1"][0] == "HHI (0-10,000)" and "L1" not in risk and "L2" not in risk


def test_streamed_split_tables_keep_the_split_and_its_note(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """Split at 3 rows and streamed: Plan (4 rows) continues on Plan (2), noted, as normal."""
    monkeypatch.setattr(xl, "MAX_ROWS", 3)
    normal, fast = _both_ways(tmp_path, monkeypatch, valid())
    a, b = _snapshot(normal), _snapshot(fast)
    assert "Plan (2)" in b["sheets"] and a["sheets"] == b["sheets"]
    for name in a["sheets"]:
        assert a[name] == b[name], name
    book = load_workbook(fast)
    assert len(rows(book["Plan"])) == 4 and len(rows(book["Plan (2)"])) == 2
    assert list(book["Plan (2)"].tables) == ["tPlan_2"]
    notes = [r[2] for r in rows(book["Notes"])[1:]]
    assert any("Plan has 4 rows" in n and "'Plan (2)'" in n for n in notes)


def test_streamed_cells_match_openpyxl_for_every_kind_of_value(tmp_path: Path) -> None:
    """Text (empty, spaces, markup, formula-like), integers, floats (large, small, NaN),
    booleans and None: streamed and written by openpyxl, they read back the same."""
    from openpyxl import Workbook

    values: list[Any] = ["", "plain", "  padded ", "a & b < c > d", "line\nbreak", "=1+1",
                         "-minus", "+plus", "@at", 0, -7, 10**20, 1 / 3, 1e-12, 123456.789,
                         float("nan"), float("inf"), True, False, None, "ünïcode €"]
    table = [{"text": v, "number": v} for v in values]
    paths = []
    for stream in (False, True):
        wb = Workbook()
        ws = wb.active
        assert ws is not None
        n = xl.write_table(ws, ["text", "number"], table, {"number": "#,##0.00"}, "tT",
                               stream=stream)
        assert n == len(values)
        paths.append(xsave.save_atomic(wb, tmp_path / f"{stream}.xlsx"))
    a, b = _snapshot(paths[0]), _snapshot(paths[1])
    assert a["Sheet"] == b["Sheet"]
    got = [r[0] for r in rows(load_workbook(paths[1])["Sheet"])[1:]]
    assert got[:9] == [None, "plain", "  padded ", "a & b < c > d", "line\nbreak", "=1+1",
                       "-minus", "+plus", "@at"]
    # a carriage return is kept (escaped, as lxml does; pure-Python openpyxl drops it)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    xl.write_table(ws, ["text"], [{"text": "a\r\nb"}], stream=True)
    out = xsave.save_atomic(wb, tmp_path / "cr.xlsx")
    assert rows(load_workbook(out)["Sheet"])[1] == ("a\r\nb",)


def test_streamed_table_refuses_to_overwrite_its_own_cells(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    xl.write_table(ws, ["a"], [{"a": 1.0}, {"a": 2.0}], stream=True)
    ws["A2"] = "clash"
    with pytest.raises(ValueError, match="written over a streamed table"):
        xsave.save_atomic(wb, tmp_path / "r.xlsx")
    assert not (tmp_path / "r.xlsx").exists()
    assert list(tmp_path.iterdir()) == []          # no temporary file left behind


def test_worked_example_dashboard_policy_costs_show_the_stock_left(example: Path) -> None:
    """The Dashboard's policy table shows, beside the cost a policy adds, how much of it
    is stock left at the end (the Policy costs sheet's end_stock_value); its headers wrap
    in a row high enough for them, the note spans E:H."""
    book = load_workbook(example)
    sheet = rows(book["Policy costs"])
    col = sheet[0].index("end_stock_value")
    by_policy = {r[0]: r[col] for r in sheet[1:]}
    ws = book["Dashboard"]
    cells = rows(ws)
    title = next(i for i, r in enumerate(cells) if str(r[0]).startswith("What each policy"))
    head, first = title + 2, title + 3          # worksheet rows (1-based)
    assert cells[head - 1][:5] == ("policy", "status without", "cost it adds",
                                   "of which stock left at the end", "note")
    shown = cells[first - 1:first - 1 + len(by_policy)]
    assert {r[0]: r[3] for r in shown} == pytest.approx(by_policy)
    assert any(v > 0 for v in by_policy.values())
    assert ws.cell(row=first, column=4).number_format == '#,##0 "USD"'
    assert ws.cell(row=head, column=4).alignment.wrap_text
    assert (ws.row_dimensions[head].height or 0) >= 30      # two lines at width 17
    assert f"E{first}:H{first}" in {str(m) for m in ws.merged_cells.ranges}
    assert ws.cell(row=first, column=5).alignment.wrap_text


def _axis_formats(path: Path) -> list[list[str]]:
    """Per chart on the Dashboard, the number formats of its value axis."""
    return [re.findall(r'<c:valAx>.*?<c:numFmt formatCode="([^"]*)"', xml, re.S)
            or re.findall(r'<valAx>.*?<numFmt formatCode="([^"]*)"', xml, re.S)
            for xml in _charts(path)]


def test_chart_axes_show_decimals_for_small_tonnages(tmp_path: Path) -> None:
    """1.5 t a year: a whole-number axis would read 0, 1, 1, 2; the axes keep decimals.
    At 100 t they are whole numbers."""
    data = valid()
    for d in data["Demand"]:
        d["demand"] = 1.5
    (tmp_path / "small").mkdir()
    (tmp_path / "big").mkdir()
    small = _axis_formats(run(tmp_path / "small", data)[1])
    big = _axis_formats(run(tmp_path / "big", valid())[1])
    # cost by case (165 and 240 USD), unmet demand by case (none), supplier mix,
    # stock vs minimum (no stock held), exposure (shares)
    assert [f[0] for f in small] == ["#,##0", "#,##0.0#", "#,##0.0#", "#,##0.0#", "0%"]
    assert [f[0] for f in big] == ["#,##0", "#,##0.0#", "#,##0", "#,##0.0#", "0%"]


def test_text_period_labels_stay_text(tmp_path: Path) -> None:
    """Labels such as 2027-H1 are text in every table; only whole numbers become numbers."""
    data = valid()
    for sheet, rows_ in data.items():
        for r in rows_:
            for key in ("period", "from_period", "to_period"):
                if r.get(key) is not None and sheet != "Periods":
                    r[key] = f"{r[key]}-H1"
    for p in data["Periods"]:
        p["period"] = f"{p['period']}-H1"
    _, out = run(tmp_path, data)
    book = load_workbook(out)
    assert {r[5] for r in rows(book["Plan"])[1:]} == {"2027-H1", "2028-H1"}
    assert {r[3] for r in rows(book["Supply risk"])[1:]} == {"2027-H1", "2028-H1"}
