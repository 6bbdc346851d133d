"""The docs stand alone: docs/workbook.md is what the code says, and no link leaves
the repository."""

from __future__ import annotations

import re
from pathlib import Path

from planner.workbook_doc import render

ROOT = Path(__file__).resolve().parents[1]


def test_workbook_doc_is_generated_from_the_code() -> None:
    """Regenerate with ``python -m planner.workbook_doc`` after changing the schema or
    the model's registry."""
    assert (ROOT / "docs" / "workbook.md").read_text(encoding="utf-8") == render()


def test_no_markdown_link_leaves_the_repository() -> None:
    link = re.compile(r"\]\(([^)#\s]+)")
    for md in [*ROOT.glob("*.md"), *ROOT.glob("docs/*.md"), *ROOT.glob("examples/*/*.md")]:
        for target in link.findall(md.read_text(encoding="utf-8")):
            if re.match(r"^[a-z]+://", target):
                continue
            resolved = (md.parent / target).resolve()
            assert resolved.is_relative_to(ROOT), f"{md.name} links outside: {target}"
            assert resolved.exists(), f"{md.name} links to a missing file: {target}"
