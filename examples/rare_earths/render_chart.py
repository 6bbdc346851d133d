"""Render charts of a planner report to a PNG through LibreOffice.

``python examples/rare_earths/render_chart.py REPORT.xlsx OUT.png [TITLE ...]``
keeps the report's own native Dashboard charts whose titles contain one of the
given TITLE fragments (all charts when none is given), lays them out two per
row on one landscape page next to the report's chart data, and converts that
page with ``soffice`` (LibreOffice) and ``pdftoppm`` (poppler-utils).  The READMEs'
chart images are made this way, so they show exactly what the report shows.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

CHART_W_CM = 16.0
CHART_H_CM = 8.5
ROWS_PER_CHART = 18
COLS_PER_CHART = 10


def chart_title(chart: Any) -> str:
    """The plain text of a chart's title ('' when it has none)."""
    try:
        return "".join(r.t for p in chart.title.tx.rich.p for r in (p.r or []))
    except AttributeError:
        return ""


def charts_workbook(report: Path, out: Path, titles: list[str]) -> int:
    """Write ``out``: the chosen Dashboard charts on one sheet; returns how many."""
    wb = load_workbook(report)
    dash = wb["Dashboard"]
    assert isinstance(dash, Worksheet)
    native: list[Any] = dash._charts  # type: ignore[attr-defined]  # not in the stubs
    charts = [c for c in native
              if not titles or any(t in chart_title(c) for t in titles)]
    if titles:  # keep the order asked for
        charts.sort(key=lambda c: min(i for i, t in enumerate(titles) if t in chart_title(c)))
    sheet = wb.create_sheet("Charts", 0)
    for i, chart in enumerate(charts):
        row, col = divmod(i, 2)
        chart.width, chart.height = CHART_W_CM, CHART_H_CM
        sheet.add_chart(chart, f"{'AK'[col]}{1 + row * ROWS_PER_CHART}")
    sheet.page_setup.orientation = "landscape"
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 1
    for ws in list(wb):
        if ws.title == "Charts":
            continue
        if ws.title == "Chart data":
            ws.sheet_state = "hidden"
        else:
            wb.remove(ws)
    wb.save(out)
    return len(charts)


def render(report: Path, png: Path, titles: list[str], dpi: int = 110) -> Path:
    """Report charts -> PNG via LibreOffice (soffice) and pdftoppm."""
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        book = t / "charts.xlsx"
        if not charts_workbook(report, book, titles):
            raise SystemExit(f"no Dashboard chart in {report} matches {titles}")
        subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{t}/lo",
                        "--convert-to", "pdf", "--outdir", str(t), str(book)],
                       check=True, capture_output=True, timeout=300)
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1",
                        "-singlefile", str(t / "charts.pdf"), str(t / "page")],
                       check=True, capture_output=True, timeout=120)
        png.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(t / "page.png", png)
    return png


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    print(render(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]))
