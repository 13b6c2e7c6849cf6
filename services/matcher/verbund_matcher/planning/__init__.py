"""Pure planning core: problem in, plan out; no I/O, no framework, no database."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from . import explain as _explain
from . import validator as _validator
from .model import (
    Assignment,
    Curriculum,
    Firm,
    Group,
    Learner,
    Module,
    Offer,
    Plan,
    Problem,
    SeatDeficit,
    SeatSuggestion,
    Settings,
    Shortfall,
    ShortfallReason,
    Weights,
)
from .repair import repair
from .solve import STRATEGIES, solve
from .validator import Evaluation
from .weeks import week_label

__all__ = [
    "STRATEGIES",
    "Assignment",
    "Curriculum",
    "Evaluation",
    "Firm",
    "Group",
    "Learner",
    "Module",
    "Offer",
    "Plan",
    "Problem",
    "SeatDeficit",
    "SeatSuggestion",
    "Settings",
    "Shortfall",
    "ShortfallReason",
    "Weights",
    "check_problem",
    "evaluate",
    "explain",
    "missing_seats",
    "repair",
    "seat_deficits",
    "solve",
    "validate",
    "week_label",
]


def check_problem(problem: Problem) -> list[str]:
    """References in the problem that cannot be resolved; solve() and repair() refuse such a problem."""
    return _validator.problem_errors(problem)


def validate(problem: Problem, plan: Plan) -> list[str]:
    """Every hard-constraint violation of the plan, one readable line each; empty means valid."""
    return _validator.validate(problem, plan)


def evaluate(problem: Problem, assignments: Iterable[Assignment]) -> Evaluation:
    """sat(s) per learner and the design objective, computed straight from the formula."""
    return _validator.evaluate(problem, assignments)


def seat_deficits(problem: Problem, assignments: Sequence[Assignment]) -> tuple[SeatDeficit, ...]:
    """Every firm x module x week the assignments leave below its offers' min_seats."""
    return _explain.seat_deficits(problem, assignments)


def missing_seats(deficits: Iterable[SeatDeficit]) -> int:
    """Learner-weeks the deficits lack in total: how far a plan is from meeting every minimum."""
    return sum(d.required - d.assigned for d in deficits)


def explain(problem: Problem, assignments: Sequence[Assignment]) -> tuple[Shortfall, ...]:
    """A Shortfall with reason and seat suggestions for every unmet requirement."""
    return _explain.explain(problem, assignments)
