"""What one learner may do: candidate modules, group counts, prerequisites and statically feasible starts."""

from __future__ import annotations

from dataclasses import dataclass, field

from .model import Learner, Problem
from .seats import SeatTable, week_runs


@dataclass(slots=True)
class LearnerScope:
    """Facts derived once per learner; `starts` is filled lazily per (module, firm)."""

    learner: Learner
    modules: tuple[str, ...]  # allowed ∩ curriculum ∩ some requirement group
    groups_of: dict[str, tuple[str, ...]]  # module -> the groups it counts for
    required: dict[str, int]  # group -> exact number of modules
    prereqs: dict[str, tuple[str, ...]]  # module -> modules it requires (which must end before it starts)
    available_runs: tuple[tuple[int, int], ...]  # maximal runs of available weeks inside the window
    _starts: dict[tuple[str, str], tuple[tuple[int, int], ...]] = field(default_factory=dict)

    def eligible(self, firm: str, module: str) -> bool:
        learner = self.learner
        return firm not in learner.excluded_firms and (firm, module) not in learner.excluded_firm_modules

    def firms(self, table: SeatTable, module: str) -> tuple[str, ...]:
        return tuple(f for f in table.firms_for.get(module, ()) if self.eligible(f, module))

    def start_ranges(self, table: SeatTable, module: str, firm: str, duration: int) -> tuple[tuple[int, int], ...]:
        """Starts (as inclusive ranges) that fit the window, avoid unavailable weeks and have an offer.

        Capacity used by other learners is not considered here; eligibility is.
        """
        key = (module, firm)
        cached = self._starts.get(key)
        if cached is not None:
            return cached
        ranges: list[tuple[int, int]] = []
        if self.eligible(firm, module):
            offered = table.offered_runs(firm, module)
            for a_lo, a_hi in self.available_runs:
                for o_lo, o_hi in offered:
                    lo, hi = max(a_lo, o_lo), min(a_hi, o_hi)
                    if hi - lo + 1 >= duration:
                        ranges.append((lo, hi - duration + 1))
        result = tuple(sorted(ranges))
        self._starts[key] = result
        return result


def learner_scope(problem: Problem, learner: Learner) -> LearnerScope:
    curriculum = problem.curricula.get(learner.curriculum_id)
    if curriculum is None:
        return LearnerScope(learner, (), {}, {}, {}, ())
    groups_of: dict[str, list[str]] = {}
    required: dict[str, int] = {}
    for group in curriculum.groups:
        required[group.id] = learner.required.get(group.id, group.default_required)
        for m in group.module_ids:
            groups_of.setdefault(m, []).append(group.id)
    modules = tuple(sorted(m for m in allowed_modules(problem, learner) if m in problem.modules))
    prereqs: dict[str, list[str]] = {}
    for module, requires in curriculum.precedence:
        prereqs.setdefault(module, []).append(requires)
    available = week_runs(w for w in range(learner.first_week, learner.last_week + 1) if w not in learner.unavailable)
    return LearnerScope(
        learner=learner,
        modules=modules,
        groups_of={m: tuple(gs) for m, gs in groups_of.items()},
        required=required,
        prereqs={m: tuple(rs) for m, rs in prereqs.items()},
        available_runs=tuple(available),
    )


def allowed_modules(problem: Problem, learner: Learner) -> frozenset[str]:
    """Modules the learner may be assigned: allowed, in the curriculum and counted by a group."""
    curriculum = problem.curricula.get(learner.curriculum_id)
    if curriculum is None:
        return frozenset()
    # A module no group counts could never be required, so the planner never assigns it.
    grouped = {m for g in curriculum.groups for m in g.module_ids}
    return frozenset(m for m in learner.allowed_modules if m in grouped)
