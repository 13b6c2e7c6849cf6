"""How one event changes the read model, as plain write instructions the store carries out."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from verbund_schemas import (
    INBOUND_TYPES,
    AssignmentCancelled,
    AssignmentChanged,
    AssignmentData,
    AssignmentMade,
    CapacityChanged,
    CapacityOffered,
    CapacityWithdrawn,
    CurriculumPublished,
    Envelope,
    EventRejected,
    FirmLeft,
    FirmRegistered,
    FirmUpdated,
    LearnerErased,
    LearnerRegistered,
    LearnerUpdated,
    LearnerWithdrawn,
    NetworkConfigured,
    PlacementAnswered,
    PlanPublished,
    SeatDeficitDetected,
    SeatDeficitResolved,
    ShortfallDetected,
    ShortfallResolved,
)


@dataclass(frozen=True)
class Upsert:
    """Insert the row, or update it. With `version`, a row already at a newer plan version is left alone:
    a rebuild running beside the live consumers must not put an older state over a newer one."""

    table: str
    key: dict[str, Any]
    values: dict[str, Any]
    version: int | None = None


@dataclass(frozen=True)
class Patch:
    """Update the row if it exists (an event about something the console never saw changes nothing)."""

    table: str
    key: dict[str, Any]
    values: dict[str, Any]
    version: int | None = None


@dataclass(frozen=True)
class Ensure:
    """Insert the row only if it is missing: a learner known from an assignment before its registration arrives."""

    table: str
    key: dict[str, Any]
    values: dict[str, Any]
    version: None = None


@dataclass(frozen=True)
class Forget:
    """Erase a learner's name from every table of the network that holds it; their rows keep only the id."""

    network_id: str
    learner_id: str
    table: str = "learners"
    version: None = None


@dataclass(frozen=True)
class Undo:
    """The matcher rejected the inbound event `event_id` read at `origin` ("topic:partition:offset"): take its
    fold back out, or, when it was not folded yet, see that it never is (domain/rejected_inbound.py)."""

    network_id: str
    event_id: str
    origin: str
    table: str = "inbound_fates"
    version: None = None

    @property
    def key(self) -> dict[str, Any]:
        return {"network_id": self.network_id, "event_id": self.event_id}


@dataclass(frozen=True)
class Accepted:
    """The matcher applied these inbound events (a plan version names them as its cause): the values their folds
    replaced need not be kept for a rejection any more."""

    network_id: str
    event_ids: tuple[str, ...]
    table: str = "inbound_fates"
    version: None = None


Effect = Upsert | Patch | Ensure | Forget | Undo | Accepted


@dataclass(frozen=True)
class Fold:
    effects: list[Effect] = field(default_factory=list)
    subject: str = ""  # what the change is about, for the live pages' log line
    # An inbound event's fold is kept undoable until the matcher has decided on it; `origin` is where it was
    # read ("topic:partition:offset", empty when unknown), as the matcher's rejection names it.
    inbound: bool = False
    origin: str = ""


def _assignment_values(data: AssignmentData, *, cancelled: bool) -> dict[str, Any]:
    return {
        "learner_id": data.learner_id,
        "learner_name": data.learner_name,
        "module_id": data.module_id,
        "module_name": data.module_name,
        "firm_id": data.firm_id,
        "firm_name": data.firm_name,
        "start_week": data.start_week,
        "end_week": data.end_week,
        "start_date": data.start_date,
        "end_date": data.end_date,
        "plan_version": data.plan_version,
        "frozen": data.frozen,
        "cancelled": cancelled,
    }


def _history_values(event: AssignmentMade | AssignmentChanged | AssignmentCancelled) -> dict[str, Any]:
    """One line of the plan history: what happened to the assignment, where it was before, and why."""
    data = event.data
    values: dict[str, Any] = {
        "plan_version": data.plan_version,
        "at": event.time,
        "assignment_id": data.assignment_id,
        "learner_id": data.learner_id,
        "learner_name": data.learner_name,
        "module_id": data.module_id,
        "module_name": data.module_name,
        "firm_id": data.firm_id,
        "firm_name": data.firm_name,
        "start_week": data.start_week,
        "end_week": data.end_week,
        "previous_firm_id": None,
        "previous_firm_name": None,
        "previous_start_week": None,
        "previous_end_week": None,
        "reason": "",
        "reason_code": None,
    }
    match event:
        case AssignmentChanged():
            before = event.data.previous
            values |= {
                "kind": "changed",
                "previous_firm_id": before.firm_id,
                "previous_firm_name": before.firm_name,
                "previous_start_week": before.start_week,
                "previous_end_week": before.end_week,
                "reason": event.data.reason,
                "reason_code": event.data.reason_code.value if event.data.reason_code else None,
            }
        case AssignmentCancelled():
            code = event.data.reason_code
            values |= {"kind": "cancelled", "reason": event.data.reason, "reason_code": code.value if code else None}
        case _:
            values["kind"] = "made"
    return values


def fold(event: Envelope, origin: str = "") -> Fold:
    """The writes one event makes; an event type the console does not show folds to nothing. An inbound event's
    fold is marked so, with where it was read (`origin`)."""
    made = _fold(event)
    if isinstance(event, INBOUND_TYPES):
        return replace(made, inbound=True, origin=origin)
    return made


def _fold(event: Envelope) -> Fold:
    net = {"network_id": event.network_id}
    match event:
        case NetworkConfigured():
            return Fold([Upsert("networks", net, {"name": event.data.name})], event.data.name)
        case CurriculumPublished():
            curriculum = event.data
            named: list[Effect] = [
                Upsert("modules", {**net, "module_id": m.module_id}, {"name": m.name}) for m in curriculum.modules
            ]
            return Fold(named, curriculum.name)
        case FirmRegistered() | FirmUpdated():
            firm = event.data
            values = {"name": firm.name, "city": firm.location.city, "left": False}
            return Fold([Upsert("firms", {**net, "firm_id": firm.firm_id}, values)], firm.name)
        case FirmLeft():
            return Fold([Patch("firms", {**net, "firm_id": event.data.firm_id}, {"left": True})], event.data.firm_id)
        case CapacityOffered():
            offer = event.data
            values = {
                "firm_id": offer.firm_id,
                "module_id": offer.module_id,
                "first_week": offer.first_week,
                "last_week": offer.last_week,
                "max_seats": offer.max_seats,
                "min_seats": offer.min_seats or 0,
                "withdrawn": False,
            }
            return Fold([Upsert("offers", {**net, "offer_id": offer.offer_id}, values)], offer.offer_id)
        case CapacityChanged():
            changed = event.data
            values = {
                name: getattr(changed, name)
                for name in ("first_week", "last_week", "max_seats", "min_seats")
                if getattr(changed, name) is not None
            }
            return Fold([Patch("offers", {**net, "offer_id": changed.offer_id}, values)], changed.offer_id)
        case CapacityWithdrawn():
            key = {**net, "offer_id": event.data.offer_id}
            return Fold([Patch("offers", key, {"withdrawn": True})], event.data.offer_id)
        case LearnerRegistered() | LearnerUpdated():
            learner = event.data
            values = {
                "name": learner.name,
                "first_week": learner.first_week,
                "last_week": learner.last_week,
                "withdrawn": False,
            }
            return Fold([Upsert("learners", {**net, "learner_id": learner.learner_id}, values)], learner.name)
        case LearnerWithdrawn():
            key = {**net, "learner_id": event.data.learner_id}
            return Fold([Patch("learners", key, {"withdrawn": True})], event.data.learner_id)
        case LearnerErased():
            return Fold([Forget(event.network_id, event.data.learner_id)], event.data.learner_id)
        case PlacementAnswered():
            answer = event.data
            key = {
                **net,
                "learner_id": answer.learner_id,
                "module_id": answer.module_id,
                "firm_id": answer.firm_id,
                "start_week": answer.start_week,
            }
            sender = event.authcontext.principalid if event.authcontext else ""
            values = {
                "answer": answer.answer.value,
                "reason": answer.reason,
                "answered_by": sender,
                "answered_at": event.time,
            }
            return Fold([Upsert("placement_answers", key, values)], answer.learner_id)
        case AssignmentMade() | AssignmentChanged() | AssignmentCancelled():
            data = event.data
            key = {**net, "assignment_id": data.assignment_id}
            values = _assignment_values(data, cancelled=isinstance(event, AssignmentCancelled))
            effects: list[Effect] = [
                Upsert("assignments", key, values, version=data.plan_version),
                Ensure("learners", {**net, "learner_id": data.learner_id}, {"name": data.learner_name}),
                Ensure("firms", {**net, "firm_id": data.firm_id}, {"name": data.firm_name}),
                Ensure("plan_changes", {**net, "event_id": event.id}, _history_values(event)),
            ]
            return Fold(effects, data.learner_name)
        case PlanPublished():
            plan = event.data
            values = {
                "plan_version": plan.plan_version,
                "plan_time": event.time,
                "plan_complete": plan.complete,
                "plan_solver": plan.solver,
            }
            published = {
                "published_at": event.time,
                "complete": plan.complete,
                "solver": plan.solver,
                "objective": plan.objective,
                "learners": plan.learners,
                "assignments": plan.assignments,
                "shortfalls": plan.shortfalls,
                "deficits": plan.deficits,
                "made": plan.made,
                "changed": plan.changed,
                "cancelled": plan.cancelled,
                "caused_by": [cause.model_dump(mode="json") for cause in plan.caused_by],
                "caused_by_count": plan.caused_by_count,
            }
            effects = [
                Upsert("networks", net, values, version=plan.plan_version),
                Ensure("plans", {**net, "plan_version": plan.plan_version}, published),
            ]
            if plan.caused_by:
                effects.append(Accepted(event.network_id, tuple(cause.event_id for cause in plan.caused_by)))
            return Fold(effects, f"v{plan.plan_version}")
        case ShortfallDetected():
            gap = event.data
            values = {
                "kind": "shortfall",
                "reason": gap.reason.value,
                "message": gap.message,
                "learner_id": gap.learner_id,
                "learner_name": gap.learner_name,
                "firm_id": None,
                "firm_name": None,
                "module_id": gap.module_id,
                "module_name": None,
                "missing": gap.missing,
                "detail": {
                    "group_id": gap.group_id,
                    "competing_learners": list(gap.competing_learners),
                    "suggestions": [s.model_dump(mode="json") for s in gap.suggestions],
                },
                "plan_version": gap.plan_version,
                "detected_at": event.time,
                "resolved_at": None,
            }
            key = {**net, "problem_id": gap.shortfall_id}
            known = Ensure("learners", {**net, "learner_id": gap.learner_id}, {"name": gap.learner_name})
            return Fold([Upsert("problems", key, values, version=gap.plan_version), known], gap.learner_name)
        case ShortfallResolved():
            done = event.data
            key = {**net, "problem_id": done.shortfall_id}
            values = {"resolved_at": event.time, "plan_version": done.plan_version}
            return Fold([Patch("problems", key, values, version=done.plan_version)], done.learner_id)
        case SeatDeficitDetected():
            deficit = event.data
            values = {
                "kind": "deficit",
                "reason": "min_seats",
                "message": deficit.message,
                "learner_id": None,
                "learner_name": None,
                "firm_id": deficit.firm_id,
                "firm_name": deficit.firm_name,
                "module_id": deficit.module_id,
                "module_name": deficit.module_name,
                "missing": deficit.missing_learner_weeks,
                "detail": {
                    "spans": [s.model_dump(mode="json") for s in deficit.spans],
                    "spans_omitted": deficit.spans_omitted,
                },
                "plan_version": deficit.plan_version,
                "detected_at": event.time,
                "resolved_at": None,
            }
            key = {**net, "problem_id": deficit.deficit_id}
            return Fold([Upsert("problems", key, values, version=deficit.plan_version)], deficit.firm_name)
        case SeatDeficitResolved():
            done_deficit = event.data
            key = {**net, "problem_id": done_deficit.deficit_id}
            values = {"resolved_at": event.time, "plan_version": done_deficit.plan_version}
            return Fold([Patch("problems", key, values, version=done_deficit.plan_version)], done_deficit.firm_name)
        case EventRejected():
            rejected = event.data
            values = {
                "at": event.time,
                "topic": rejected.topic,
                "partition": rejected.partition,
                "offset": rejected.offset,
                "reason": rejected.reason,
                "original_type": rejected.original_type,
                "original_text": rejected.original_text,
                "service": rejected.service,
                "key": rejected.key,
                "original_size": rejected.original_size,
                "original_sha256": rejected.original_sha256,
                "original_truncated": rejected.original_truncated,
                "original_base64": rejected.original_base64,
                "errors": list(rejected.errors),
            }
            effects = [Upsert("rejected", {**net, "event_id": event.id}, values)]
            if rejected.service == "matcher" and rejected.original_event_id:
                # The matcher rejects only what it consumes: inbound records. Its rejection names where the record
                # was, so a copy of the event sent again elsewhere (which the matcher may apply) is told apart.
                origin = f"{rejected.topic}:{rejected.partition}:{rejected.offset}"
                effects.append(Undo(event.network_id, rejected.original_event_id, origin))
            return Fold(effects, rejected.original_type or "")
    return Fold()
