"""The real planner, except that it raises for the networks named broken (as a planner bug or a rejected model)."""

from __future__ import annotations

from typing import Any

from verbund_matcher import planning
from verbund_matcher.planning.model import Plan, Problem
from verbund_matcher.service.replan import Planner


class SolverRejectedModel(Exception):
    """What the broken planner raises; its message holds a learner's name, which no log line may repeat."""


class BreakablePlanner:
    """Hand `planner` to the matcher; add or remove network ids in `broken` to break or mend it."""

    def __init__(self, *broken: str) -> None:
        self.broken = set(broken)
        self.calls: list[str] = []
        # Stands for the network's data in an exception's message (a solver may quote the model it rejects).
        self.quoted = "Lea Lernende, lea@example.org"

    def _check(self, problem: Problem) -> None:
        self.calls.append(problem.network_id)
        if problem.network_id in self.broken:
            raise SolverRejectedModel(f"model rejected near learner {self.quoted}")

    def repair(self, problem: Problem, **options: Any) -> Plan:
        self._check(problem)
        return planning.repair(problem, **options)

    def solve(self, problem: Problem, **options: Any) -> Plan:
        self._check(problem)
        return planning.solve(problem, **options)

    @property
    def planner(self) -> Planner:
        return Planner(repair=self.repair, solve=self.solve)
