"""Events the console folds, built from the contracts, for the console's tests (unit and browser)."""

from __future__ import annotations

import datetime as dt
import uuid

from verbund_schemas import (
    AssignmentCancelled,
    AssignmentCancelledData,
    AssignmentData,
    AssignmentMade,
    Contact,
    EventRejected,
    LearnerData,
    LearnerRegistered,
    PlanPublished,
    PlanPublishedData,
    SeatSuggestion,
    ShortfallData,
    ShortfallDetected,
    ShortfallReason,
    ShortfallResolved,
    ShortfallResolvedData,
    week_monday,
    week_sunday,
)


def _id() -> str:
    return str(uuid.uuid4())


def assignment_data(
    network: str, learner: str, module: str, firm: str, start: str, end: str, version: int = 1, **extra: object
) -> AssignmentData:
    return AssignmentData(
        assignment_id=f"{network}:{learner}:{module}",
        learner_id=learner,
        learner_name=extra.get("learner_name", learner.title()),
        module_id=module,
        module_name=extra.get("module_name", f"Module {module}"),
        firm_id=firm,
        firm_name=extra.get("firm_name", f"Firm {firm}"),
        start_week=start,
        end_week=end,
        start_date=week_monday(start),
        end_date=week_sunday(end),
        plan_version=version,
    )


def assignment_made(
    network: str, learner: str, module: str, firm: str, start: str, end: str, version: int = 1, **extra: object
) -> AssignmentMade:
    data = assignment_data(network, learner, module, firm, start, end, version, **extra)
    return AssignmentMade(id=_id(), subject=network, data=data)


def assignment_cancelled(made: AssignmentMade, version: int) -> AssignmentCancelled:
    values = made.data.model_dump() | {"plan_version": version, "reason": "Replanned because the offer was withdrawn."}
    return AssignmentCancelled(id=_id(), subject=made.subject, data=AssignmentCancelledData(**values))


def plan_published(network: str, version: int, *, complete: bool = True) -> PlanPublished:
    return PlanPublished(
        id=_id(),
        subject=network,
        data=PlanPublishedData(
            plan_version=version,
            objective=10,
            learners=1,
            assignments=1,
            shortfalls=0,
            solver="cpsat",
            solve_seconds=0.1,
            complete=complete,
        ),
    )


def learner_registered(network: str, learner: str, name: str) -> LearnerRegistered:
    return LearnerRegistered(
        id=_id(),
        time=dt.datetime.now(dt.UTC),
        subject=network,
        data=LearnerData(
            learner_id=learner,
            name=name,
            contact=Contact(name=name, email=f"{learner}@example.org"),
            curriculum_id="c1",
            first_week="2027-W01",
            last_week="2027-W52",
        ),
    )


def shortfall_detected(
    network: str, learner: str, module: str, version: int = 1, reason: ShortfallReason = ShortfallReason.NO_OFFER
) -> ShortfallDetected:
    return ShortfallDetected(
        id=_id(),
        subject=network,
        data=ShortfallData(
            shortfall_id=f"{network}:{learner}:g1:{module}",
            learner_id=learner,
            learner_name=learner.title(),
            group_id="g1",
            module_id=module,
            missing=1,
            reason=reason,
            message=f"No firm offers {module} between 2027-W01 and 2027-W52.",
            suggestions=[SeatSuggestion(module_id=module, first_week="2027-W10", last_week="2027-W20", seats=1)],
            plan_version=version,
        ),
    )


def shortfall_resolved(detected: ShortfallDetected, version: int) -> ShortfallResolved:
    gap = detected.data
    return ShortfallResolved(
        id=_id(),
        subject=detected.subject,
        data=ShortfallResolvedData(
            shortfall_id=gap.shortfall_id,
            learner_id=gap.learner_id,
            group_id=gap.group_id,
            module_id=gap.module_id,
            plan_version=version,
        ),
    )


def rejected(network: str) -> EventRejected:
    return EventRejected.of_record(
        service="matcher",
        topic="verbund.inbound",
        partition=0,
        offset=7,
        key=network,
        raw=b'{"type": "CapacityOffered"}',
        reason="the event has no 'id'",
        network_id=network,
    )
