"""How a solve ended, as a type: the planner's side of the solver boundary.

No Pyomo or HiGHS import here, so the API, the CLI and the report can compare
statuses (and compute exit codes) without loading the solver stack.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """How a solve ended.  A ``str`` enum: it prints and compares as its word."""

    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time_limit"
    ITERATION_LIMIT = "iteration_limit"
    INTERRUPTED = "interrupted"
    OBJECTIVE_LIMIT = "objective_limit"
    ERROR = "error"
    UNKNOWN = "unknown"
    SOLVER_MISSING = "solver_missing"

    @property
    def is_failure(self) -> bool:
        """The solver could not answer (exit code 3): not a statement about the model."""
        return self in (Status.ERROR, Status.UNKNOWN, Status.SOLVER_MISSING)

    @classmethod
    def of(cls, word: str) -> Status:
        """The status named ``word``; an unknown word maps to UNKNOWN, explicitly."""
        try:
            return cls(word)
        except ValueError:
            return cls.UNKNOWN


#: what the planner says of each status that is not an optimum
CAUSES = {
    Status.INFEASIBLE: "no plan meets every hard constraint (see the explanation)",
    Status.UNBOUNDED: "the model is unbounded",
    Status.TIME_LIMIT: "the solver's time limit was reached before optimality",
    Status.ITERATION_LIMIT: "the solver's iteration limit was reached before optimality",
    Status.INTERRUPTED: "the solve was interrupted",
    Status.OBJECTIVE_LIMIT: "the solver stopped at an objective limit",
    Status.ERROR: "HiGHS reported an error and returned no result",
    Status.UNKNOWN: "HiGHS ended without saying why",
    Status.SOLVER_MISSING: "a component the solver needs could not be loaded",
}
