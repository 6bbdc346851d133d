"""``python -m planner.cli``: the command line."""

from planner.cli import entry

entry()
