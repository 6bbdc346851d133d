"""planner: an optimisation-based sourcing planner for critical minerals.

The data flows one way through the subpackages (docs/architecture.md):
``inputs`` (the workbook: schema, reading, validation, template) -> ``scenario``
(cases and groupings, pure Python) -> ``model`` (the Pyomo model and the registry of
its families) and ``solve`` (HiGHS) -> ``analysis`` (tidy tables, policy costs,
explanations) -> ``run`` (cases over processes or Dask) -> ``resilience`` (stress,
sizing, hedge) -> ``report`` (workbooks) -> ``api`` (the facade) -> ``cli``.
``xlsx`` holds the openpyxl helpers every writer uses.  An import-linter contract in
CI keeps the direction.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("planner")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0+unknown"
