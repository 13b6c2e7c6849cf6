"""The difference between a network's published plan and a new one: assignments made, moved and cancelled,
shortfalls and seat deficits opened and resolved. Plain data in, plain data out."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from verbund_schemas import (
    LearnerData,
    SeatSuggestion,
    ShortfallData,
    ShortfallReason,
    week_at,
    week_monday,
    week_of,
    week_sunday,
)

from ..domain.network import Change, ChangeKind
from ..domain.problem_builder import week_label
from ..planning.model import Assignment, Plan, Problem, Shortfall
from . import deficits as seat_deficits
from .identities import assignment_id, shortfall_id

if TYPE_CHECKING:
    from ..store.networks import PublishedAssignment

Payload = dict[str, Any]


@dataclass(frozen=True)
class Placed:
    """An assignment the new plan makes (`previous` None) or moves, with the data its event and row carry."""

    data: dict[str, Any]  # the fields of AssignmentData
    previous: PublishedAssignment | None

    @property
    def assignment_id(self) -> str:
        return str(self.data["assignment_id"])

    def row(self, network_id: str) -> dict[str, Any]:
        """Its row of published_assignments."""
        d = self.data
        return {
            "network_id": network_id,
            "assignment_id": d["assignment_id"],
            "learner_id": d["learner_id"],
            "learner_name": d["learner_name"],
            "module_id": d["module_id"],
            "module_name": d["module_name"],
            "firm_id": d["firm_id"],
            "firm_name": d["firm_name"],
            "start_week": d["start_week"],
            "end_week": d["end_week"],
            "frozen": d["frozen"],
            "plan_version": d["plan_version"],
        }


@dataclass(frozen=True)
class PlanDiff:
    """What publishing a plan as `plan_version` changes against the published one; every list in id order."""

    network_id: str
    plan_version: int
    placed: list[Placed]  # made or moved
    cancelled: list[PublishedAssignment]  # in the published plan, not in the new one
    shortfalls: dict[str, Shortfall]  # the plan's unmet requirements by shortfall id
    shortfall_payloads: dict[str, Payload]  # and their payloads as stored, by the same id
    shortfalls_detected: list[str]  # new, or their payload changed
    shortfalls_resolved: list[str]  # published before, met (or gone) now
    deficits: seat_deficits.DeficitChanges

    @property
    def made(self) -> int:
        return sum(1 for p in self.placed if p.previous is None)

    @property
    def changed(self) -> int:
        return len(self.placed) - self.made

    @property
    def empty(self) -> bool:
        """Nothing to announce: the published plan stays as it is."""
        return not (
            self.placed or self.cancelled or self.shortfalls_detected or self.shortfalls_resolved or self.deficits.any
        )


def diff_plan(
    problem: Problem,
    plan: Plan,
    *,
    learners: Mapping[str, LearnerData],
    published: Mapping[str, PublishedAssignment],
    stored_shortfalls: Mapping[str, Payload],
    stored_deficits: Mapping[str, Payload],
    plan_version: int,
) -> PlanDiff:
    """Compare `plan` with the published plan, shortfalls and seat deficits of the network `problem` describes.

    An assignment counts as moved when its firm or its start week differs; a rename alone is no change (see
    `renamed`). `learners` gives the names events carry (a learner the state no longer has keeps its id).
    """
    network_id = problem.network_id
    frozen = set(problem.frozen)
    notice_end = problem.settings.current_week + problem.settings.notice_period
    labels: dict[int, str] = {}

    def label(index: int) -> str:
        # Plans have thousands of assignments over a few dozen distinct weeks.
        found = labels.get(index)
        if found is None:
            found = labels[index] = week_label(problem, index)
        return found

    def data_of(aid: str, a: Assignment) -> dict[str, Any]:
        module = problem.modules[a.module_id]
        learner = learners.get(a.learner_id)
        firm = problem.firms.get(a.firm_id)
        start, end = label(a.start), label(a.start + module.duration - 1)
        return {
            "assignment_id": aid,
            "learner_id": a.learner_id,
            "learner_name": learner.name if learner else a.learner_id,
            "module_id": a.module_id,
            "module_name": module.name,
            "firm_id": a.firm_id,
            "firm_name": firm.name if firm else a.firm_id,
            "start_week": start,
            "end_week": end,
            "start_date": week_monday(start),
            "end_date": week_sunday(end),
            "plan_version": plan_version,
            "frozen": a in frozen or a.start < notice_end,
        }

    new = _differing(network_id, problem, plan, published)
    placed: list[Placed] = []
    for aid in sorted(new):
        a, old = new[aid], published.get(aid)
        if a is None:
            continue
        if old is not None and old.firm_id == a.firm_id and old.start_week == label(a.start):
            continue
        placed.append(Placed(data_of(aid, a), old))
    cancelled = [published[aid] for aid in sorted(aid for aid, a in new.items() if a is None)]

    shortfalls = {shortfall_id(network_id, s.learner_id, s.group_id, s.module_id): s for s in plan.shortfalls}
    payloads = {sid: _payload_of(sid, shortfalls[sid], problem, learners) for sid in sorted(shortfalls)}
    detected = [sid for sid, payload in payloads.items() if stored_shortfalls.get(sid) != payload]
    resolved = sorted(set(stored_shortfalls) - set(shortfalls))

    deficits = seat_deficits.changes(
        seat_deficits.deficit_payloads(
            network_id,
            plan.deficits,
            firm_name=lambda f: problem.firms[f].name if f in problem.firms else f,
            module_name=lambda m: problem.modules[m].name if m in problem.modules else m,
            label=label,
        ),
        stored_deficits,
    )
    return PlanDiff(
        network_id=network_id,
        plan_version=plan_version,
        placed=placed,
        cancelled=cancelled,
        shortfalls=shortfalls,
        shortfall_payloads=payloads,
        shortfalls_detected=detected,
        shortfalls_resolved=resolved,
        deficits=deficits,
    )


# Changes that can rename a learner, a module (curriculum) or a firm.
_RENAMING = frozenset({ChangeKind.FIRM, ChangeKind.LEARNER_CHANGED, ChangeKind.CURRICULUM})


def renamed(
    published: Mapping[str, PublishedAssignment],
    *,
    learners: Mapping[str, LearnerData],
    problem: Problem,
    changes: Sequence[Change],
) -> list[PublishedAssignment]:
    """Published rows whose learner, module or firm is called differently now, with the current names.

    No event goes out for a rename alone (nothing about the assignment changed); the stored names matter for
    what later events about these assignments say (a cancellation names the firm as it is called now).
    """
    if not any(c.kind in _RENAMING for c in changes):
        return []
    found: list[PublishedAssignment] = []
    for row in published.values():
        learner, module, firm = (
            learners.get(row.learner_id),
            problem.modules.get(row.module_id),
            problem.firms.get(row.firm_id),
        )
        now = dataclasses.replace(
            row,
            learner_name=learner.name if learner else row.learner_name,
            module_name=module.name if module else row.module_name,
            firm_name=firm.name if firm else row.firm_name,
        )
        if now != row:
            found.append(now)
    return found


def _differing(
    network_id: str, problem: Problem, plan: Plan, published: Mapping[str, PublishedAssignment]
) -> dict[str, Assignment | None]:
    """The plan's assignments that may differ from the published ones, by id; None for ids the plan drops.

    Problem.previous is the published plan (one Assignment per stored row, when every row's module is still
    in the curricula), so comparing the two sets finds the difference without visiting every assignment of a
    big network; otherwise every assignment is compared.
    """
    if len(problem.previous) != len(published):
        new: dict[str, Assignment | None] = {
            assignment_id(network_id, a.learner_id, a.module_id): a for a in plan.assignments
        }
        new.update((aid, None) for aid in published if aid not in new)
        return new
    moves = plan.moves
    added: Collection[Assignment]
    dropped: Collection[Assignment]
    if moves is not None and moves.base is problem.previous:
        # The planner started from the published plan itself and says what it changed.
        added, dropped = moves.added, moves.dropped
    else:
        before, after = set(problem.previous), set(plan.assignments)
        added, dropped = after - before, before - after
    new = {assignment_id(network_id, a.learner_id, a.module_id): a for a in added}
    for a in dropped:
        new.setdefault(assignment_id(network_id, a.learner_id, a.module_id), None)
    return new


def _payload_of(sid: str, s: Shortfall, problem: Problem, learners: Mapping[str, LearnerData]) -> Payload:
    """The shortfall's payload as published (the same dict as last time while nothing in it changed)."""
    learner = learners.get(s.learner_id)
    return _shortfall_payload(sid, s, learner.name if learner else s.learner_id, week_of(problem.origin))


def forget_shortfall_payloads() -> None:
    """Drops the kept payloads (they carry learners' names): called when a learner is erased."""
    _shortfall_payload.cache_clear()


# A network whose seats ran out has a shortfall open for every learner waiting, and each batch's diff compares
# them all with the published ones: most are as before, and building the payload is the cost. The payloads are
# never changed once built (the store keeps them as they are).
@functools.lru_cache(maxsize=32_768)
def _shortfall_payload(sid: str, s: Shortfall, learner_name: str, origin: str) -> Payload:
    data = ShortfallData(
        shortfall_id=sid,
        learner_id=s.learner_id,
        learner_name=learner_name,
        group_id=s.group_id,
        module_id=s.module_id,
        missing=max(1, s.missing),
        reason=ShortfallReason(str(s.reason)),
        message=s.message,
        competing_learners=list(s.competing_learners),
        suggestions=[
            SeatSuggestion(
                firm_id=g.firm_id,
                module_id=g.module_id,
                first_week=week_at(origin, g.first_week),
                last_week=week_at(origin, g.last_week),
                seats=max(1, g.seats),
            )
            for g in s.suggestions
        ],
        plan_version=1,
    )
    payload = data.model_dump(mode="json")
    payload.pop("plan_version")
    return payload
