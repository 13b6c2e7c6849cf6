"""Events the console folds, built from the contracts, for the console's tests (unit and browser)."""

from __future__ import annotations

import datetime as dt
import uuid

from verbund_schemas import (
    AssignmentCancelled,
    AssignmentCancelledData,
    AssignmentChanged,
    AssignmentChangedData,
    AssignmentData,
    AssignmentMade,
    CapacityOffered,
    CapacityOfferedData,
    ChangeReason,
    Contact,
    CurriculumPublished,
    CurriculumPublishedData,
    EventRejected,
    LearnerData,
    LearnerRegistered,
    Module,
    PlanPublished,
    PlanPublishedData,
    PreviousAssignment,
    RequirementGroup,
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


def assignment_cancelled(
    made: AssignmentMade, version: int, reason_code: ChangeReason | None = ChangeReason.OFFER_WITHDRAWN
) -> AssignmentCancelled:
    values = made.data.model_dump() | {
        "plan_version": version,
        "reason": "Cancelled because the offer was withdrawn.",
        "reason_code": reason_code,
    }
    return AssignmentCancelled(id=_id(), subject=made.subject, data=AssignmentCancelledData(**values))


def assignment_changed(
    made: AssignmentMade,
    version: int,
    *,
    firm: str,
    start: str,
    end: str,
    reason_code: ChangeReason | None = ChangeReason.OFFER_CHANGED,
) -> AssignmentChanged:
    before = made.data
    values = before.model_dump() | {
        "firm_id": firm,
        "firm_name": f"Firm {firm}",
        "start_week": start,
        "end_week": end,
        "start_date": week_monday(start),
        "end_date": week_sunday(end),
        "plan_version": version,
        "previous": PreviousAssignment(
            firm_id=before.firm_id, firm_name=before.firm_name, start_week=before.start_week, end_week=before.end_week
        ),
        "reason": f"Replanned because offer o-{before.firm_id} changed.",
        "reason_code": reason_code,
    }
    return AssignmentChanged(id=_id(), subject=made.subject, data=AssignmentChangedData(**values))


def capacity_offered(
    network: str, offer: str, firm: str, module: str, first: str, last: str, max_seats: int, min_seats: int = 0
) -> CapacityOffered:
    return CapacityOffered(
        id=_id(),
        time=dt.datetime.now(dt.UTC),
        subject=network,
        data=CapacityOfferedData(
            offer_id=offer,
            firm_id=firm,
            module_id=module,
            first_week=first,
            last_week=last,
            max_seats=max_seats,
            min_seats=min_seats,
        ),
    )


def curriculum_published(network: str, names: dict[str, str], curriculum: str = "c1") -> CurriculumPublished:
    """A curriculum of the named modules (id: name), all of them compulsory."""
    return CurriculumPublished(
        id=_id(),
        time=dt.datetime.now(dt.UTC),
        subject=network,
        data=CurriculumPublishedData(
            curriculum_id=curriculum,
            name=f"Curriculum {curriculum}",
            modules=[Module(module_id=m, name=n, duration_weeks=4) for m, n in names.items()],
            groups=[RequirementGroup(group_id="g1", name="Pflicht", module_ids=list(names), required=len(names))],
        ),
    )


def plan_published(network: str, version: int, *, complete: bool = True, **counts: int) -> PlanPublished:
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
            **counts,
        ),
    )


def learner_registered(
    network: str, learner: str, name: str, first_week: str = "2027-W01", last_week: str = "2027-W52"
) -> LearnerRegistered:
    return LearnerRegistered(
        id=_id(),
        time=dt.datetime.now(dt.UTC),
        subject=network,
        data=LearnerData(
            learner_id=learner,
            name=name,
            contact=Contact(name=name, email=f"{learner}@example.org"),
            curriculum_id="c1",
            first_week=first_week,
            last_week=last_week,
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


def rejected(network: str, raw: bytes = b'{"type": "CapacityOffered"}', offset: int = 7) -> EventRejected:
    return EventRejected.of_record(
        service="matcher",
        topic="verbund.inbound",
        partition=0,
        offset=offset,
        key=network,
        raw=raw,
        reason="the event has no 'id'",
        network_id=network,
    )
