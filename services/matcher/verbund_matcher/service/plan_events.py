"""The events that announce a plan's difference to the published one, and why each assignment moved or went."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from verbund_schemas import (
    MAX_CAUSES,
    AssignmentCancelled,
    AssignmentCancelledData,
    AssignmentChanged,
    AssignmentChangedData,
    AssignmentData,
    AssignmentMade,
    ChangeReason,
    Envelope,
    InboundCause,
    LearnerData,
    PlanPublished,
    PlanPublishedData,
    PreviousAssignment,
    ShortfallData,
    ShortfallDetected,
    ShortfallResolved,
    ShortfallResolvedData,
    week_monday,
    week_sunday,
)

from ..domain.network import Change, ChangeKind
from ..planning.model import Plan, Problem, Shortfall
from . import deficits as seat_deficits
from .plan_diff import Payload, PlanDiff

if TYPE_CHECKING:
    from ..store.networks import PublishedAssignment

Mode = Literal["repair", "full"]


@dataclass(frozen=True)
class PlanEvents:
    """What one publication puts on each topic, in the order it goes out."""

    assignments: list[Envelope]  # made, changed, cancelled, then PlanPublished
    shortfalls: list[Envelope]  # shortfalls detected and resolved, then seat deficits detected and resolved

    def __bool__(self) -> bool:
        return bool(self.assignments or self.shortfalls)


def plan_events(
    diff: PlanDiff,
    problem: Problem,
    plan: Plan,
    *,
    changes: Sequence[Change],
    mode: Mode,
    learners: Mapping[str, LearnerData],
    stored_shortfalls: Mapping[str, Payload],
    stored_deficits: Mapping[str, Payload],
    source: str,
    causes: Sequence[InboundCause] = (),
) -> PlanEvents:
    """The events of `diff`, each assignment change and cancellation with its reason (a sentence and a code).

    `learners` are the network's current learners (by id): who is named, and who is still in the network when a
    shortfall is resolved. `stored_*` are the payloads published before, which resolved ones are described by.
    `causes` are the inbound events of the batch whose replan this is (PlanPublished names the first of them).
    """
    if diff.empty:
        return PlanEvents([], [])
    network_id, version = diff.network_id, diff.plan_version
    assignments: list[Envelope] = []
    for placed in diff.placed:
        data, old = placed.data, placed.previous
        if old is None:
            assignments.append(AssignmentMade(source=source, subject=network_id, data=AssignmentData(**data)))
            continue
        learner = learners.get(data["learner_id"])
        reason = change_reason(
            data["learner_id"],
            data["module_id"],
            {old.firm_id, data["firm_id"]},
            changes,
            mode,
            curriculum_id=learner.curriculum_id if learner else None,
        )
        previous = PreviousAssignment(
            firm_id=old.firm_id, firm_name=old.firm_name, start_week=old.start_week, end_week=old.end_week
        )
        assignments.append(
            AssignmentChanged(
                source=source,
                subject=network_id,
                data=AssignmentChangedData(**data, previous=previous, reason=reason.text, reason_code=reason.code),
            )
        )
    for old in diff.cancelled:
        learner = learners.get(old.learner_id)
        reason = cancel_reason(
            old, changes, diff.shortfalls.values(), mode, curriculum_id=learner.curriculum_id if learner else None
        )
        assignments.append(
            AssignmentCancelled(
                source=source,
                subject=network_id,
                data=AssignmentCancelledData(
                    assignment_id=old.assignment_id,
                    learner_id=old.learner_id,
                    learner_name=old.learner_name,
                    module_id=old.module_id,
                    module_name=old.module_name,
                    firm_id=old.firm_id,
                    firm_name=old.firm_name,
                    start_week=old.start_week,
                    end_week=old.end_week,
                    start_date=week_monday(old.start_week),
                    end_date=week_sunday(old.end_week),
                    plan_version=version,
                    frozen=old.frozen,
                    reason=reason.text,
                    reason_code=reason.code,
                ),
            )
        )
    deficits = diff.deficits
    assignments.append(
        PlanPublished(
            source=source,
            subject=network_id,
            data=PlanPublishedData(
                plan_version=version,
                objective=int(plan.objective),
                bound=None if plan.bound is None else int(plan.bound),
                learners=len(problem.learners),
                assignments=len(plan.assignments),
                shortfalls=len(diff.shortfalls),
                made=diff.made,
                changed=diff.changed,
                cancelled=len(diff.cancelled),
                solver=plan.solver or mode,
                solve_seconds=max(0.0, float(plan.seconds)),
                # Never presented as complete while a week is below a minimum or a requirement is unplaced.
                complete=not diff.shortfalls and not plan.deficits,
                deficits=len(deficits.current),
                deficit_weeks=len(plan.deficits),
                missing_learner_weeks=sum(p["missing_learner_weeks"] for p in deficits.current.values()),
                caused_by=list(causes[:MAX_CAUSES]),
                caused_by_count=len(causes),
            ),
        )
    )

    shortfalls: list[Envelope] = [
        ShortfallDetected(
            source=source,
            subject=network_id,
            data=ShortfallData(**diff.shortfall_payloads[sid], plan_version=version),
        )
        for sid in diff.shortfalls_detected
    ]
    for sid in diff.shortfalls_resolved:
        old_payload = stored_shortfalls[sid]
        shortfalls.append(
            ShortfallResolved(
                source=source,
                subject=network_id,
                data=ShortfallResolvedData(
                    shortfall_id=sid,
                    learner_id=old_payload["learner_id"],
                    group_id=old_payload["group_id"],
                    module_id=old_payload.get("module_id"),
                    plan_version=version,
                    message=_resolved_message(old_payload, learners.keys()),
                ),
            )
        )
    for did in deficits.detected:
        shortfalls.append(seat_deficits.detected_event(network_id, deficits.current[did], version, source))
    for did in deficits.resolved:
        shortfalls.append(seat_deficits.resolved_event(network_id, stored_deficits[did], version, source))
    return PlanEvents(assignments, shortfalls)


@dataclass(frozen=True)
class Reason:
    """Why an assignment changed or was cancelled: the English sentence, and the code a reader words itself."""

    text: str
    code: ChangeReason


# The code of a change that concerns the assignment itself (its learner, its firms, offers for its module).
REASON_OF_KIND: Mapping[ChangeKind, ChangeReason] = {
    ChangeKind.LEARNER_CHANGED: ChangeReason.LEARNER_CHANGED,
    ChangeKind.LEARNER_WITHDRAWN: ChangeReason.LEARNER_WITHDRAWN,
    ChangeKind.FIRM: ChangeReason.FIRM_CHANGED,
    ChangeKind.FIRM_LEFT: ChangeReason.FIRM_LEFT,
    ChangeKind.OFFER_ADDED: ChangeReason.OFFER_ADDED,
    ChangeKind.OFFER_CHANGED: ChangeReason.OFFER_CHANGED,
    ChangeKind.OFFER_WITHDRAWN: ChangeReason.OFFER_WITHDRAWN,
    ChangeKind.POLICY: ChangeReason.POLICY_CHANGED,
    ChangeKind.CURRICULUM: ChangeReason.CURRICULUM_CHANGED,
    # Another learner joined: this one moved to make room for them.
    ChangeKind.LEARNER_ADDED: ChangeReason.ROOM_FOR_OTHERS,
}


def change_reason(
    learner_id: str,
    module_id: str,
    firms: Collection[str],
    changes: Sequence[Change],
    mode: Mode,
    *,
    curriculum_id: str | None = None,
) -> Reason:
    """Why the learner's assignment of `module_id` (at one of `firms`, before or now) moved.

    The weightiest change that concerns it names the cause. Otherwise a re-optimisation did it, or changes
    elsewhere: the code says the network's rules or the learner's curriculum when those changed (they bind every
    learner, or every learner of the curriculum), else that the learner made room for others.
    """
    own = _relevant(changes, learner_id, module_id, firms)
    if own:
        first = own[0]
        # The learner's own registration (withdrawn and registered again in one batch) is not room for others.
        code = (
            ChangeReason.LEARNER_CHANGED
            if first.kind is ChangeKind.LEARNER_ADDED and first.subject_id == learner_id
            else REASON_OF_KIND[first.kind]
        )
        return Reason(f"Replanned because {_describe(own)}.", code)
    if mode == "full":
        return Reason(
            "A re-optimisation of the network found a better plan that outweighs the cost of this change.",
            ChangeReason.REOPTIMISED,
        )
    if changes:
        return Reason(
            f"Replanned to make room after these changes in the network: {_describe(changes)}.",
            _code_elsewhere(changes, curriculum_id),
        )
    return Reason("Replanned: the network's plan was revised.", ChangeReason.REVISED)


def cancel_reason(
    old: PublishedAssignment,
    changes: Sequence[Change],
    shortfalls: Iterable[Shortfall],
    mode: Mode,
    *,
    curriculum_id: str | None = None,
) -> Reason:
    """Why the published assignment `old` is no longer in the plan."""
    for c in changes:
        if c.kind is ChangeKind.LEARNER_WITHDRAWN and c.subject_id == old.learner_id:
            return Reason(f"Cancelled because {c.description}.", ChangeReason.LEARNER_WITHDRAWN)
        if c.kind is ChangeKind.FIRM_LEFT and c.subject_id == old.firm_id:
            return Reason(f"Cancelled because {c.description}.", ChangeReason.FIRM_LEFT)
    for s in shortfalls:
        if s.learner_id == old.learner_id and s.module_id == old.module_id:
            return Reason(f"Cancelled: {s.message}", ChangeReason.NO_LONGER_PLACEABLE)
    reason = change_reason(old.learner_id, old.module_id, {old.firm_id}, changes, mode, curriculum_id=curriculum_id)
    return Reason(reason.text.replace("Replanned", "Cancelled", 1), reason.code)


def _code_elsewhere(changes: Sequence[Change], curriculum_id: str | None) -> ChangeReason:
    if any(c.kind is ChangeKind.POLICY for c in changes):
        return ChangeReason.POLICY_CHANGED
    if curriculum_id is not None and any(
        c.kind is ChangeKind.CURRICULUM and c.subject_id == curriculum_id for c in changes
    ):
        return ChangeReason.CURRICULUM_CHANGED
    return ChangeReason.ROOM_FOR_OTHERS


def _describe(changes: Sequence[Change]) -> str:
    texts = list(dict.fromkeys(c.description for c in changes))
    if not texts:
        return ""
    shown = "; ".join(texts[:3]) + (f"; and {len(texts) - 3} more changes" if len(texts) > 3 else "")
    return shown


_WEIGHT = {
    ChangeKind.LEARNER_CHANGED: 0,
    ChangeKind.LEARNER_WITHDRAWN: 0,
    ChangeKind.FIRM_LEFT: 1,
    ChangeKind.OFFER_WITHDRAWN: 1,
    ChangeKind.OFFER_CHANGED: 2,
    ChangeKind.OFFER_ADDED: 3,
}


def _relevant(changes: Sequence[Change], learner_id: str, module_id: str, firms: Collection[str]) -> list[Change]:
    """The changes that concern this learner, these firms, or offers for this module; the weightiest first."""
    hits = [
        c
        for c in changes
        if c.subject_id == learner_id
        or (c.kind in (ChangeKind.FIRM, ChangeKind.FIRM_LEFT) and c.subject_id in firms)
        or (c.kind.name.startswith("OFFER") and f" for {module_id}" in c.description)
    ]
    return sorted(hits, key=lambda c: _WEIGHT.get(c.kind, 4))


def _resolved_message(payload: Payload, learner_ids: Collection[str]) -> str:
    # By id: ShortfallResolved is not sealed (it carries no name field), so a name here would sit in clear text
    # on the shortfalls topic, and outlive the learner's erasure (docs/data-protection.md).
    if payload["learner_id"] not in learner_ids:
        return f"Learner {payload['learner_id']} is no longer in the network."
    return f"Learner {payload['learner_id']}'s requirement in group {payload['group_id']} is now met."
