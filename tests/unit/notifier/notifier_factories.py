"""Events of one small network, for the notifier's tests: a coordinator, two firms, a learner, her phases."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from verbund_schemas import (
    AssignmentCancelled,
    AssignmentCancelledData,
    AssignmentChanged,
    AssignmentChangedData,
    AssignmentData,
    AssignmentMade,
    ChangeReason,
    Contact,
    FirmData,
    FirmRegistered,
    LearnerData,
    LearnerRegistered,
    LearnerWithdrawn,
    LearnerWithdrawnData,
    Location,
    NetworkConfigured,
    NetworkConfiguredData,
    PreviousAssignment,
    SeatSuggestion,
    ShortfallData,
    ShortfallDetected,
    ShortfallReason,
    ShortfallResolved,
    ShortfallResolvedData,
    week_monday,
    week_sunday,
)

NETWORK = "N-PLAST"
LEARNER = "L-001"
HOST = "F-HOST"
HOME = "F-HOME"
OTHER = "F-OTHER"
LEARNER_EMAIL = "lena@example.org"
HOST_EMAIL = "host@example.org"
HOME_EMAIL = "home@example.org"
OTHER_EMAIL = "other@example.org"
COORDINATOR_EMAIL = "coord@example.org"


def stated() -> dict[str, Any]:
    """What a firm's or coordinator's system states itself on every inbound event: its id and time."""
    return {"id": str(uuid.uuid4()), "time": dt.datetime(2027, 1, 4, 8, 0, tzinfo=dt.UTC)}


def network(coordinator: Contact | None = None) -> NetworkConfigured:
    contact = coordinator or Contact(name="Clara Koordinatorin", email=COORDINATOR_EMAIL)
    return NetworkConfigured(
        **stated(), subject=NETWORK, data=NetworkConfiguredData(name="Kunststoffverbund Süd", coordinators=[contact])
    )


def network_of(*coordinators: Contact) -> NetworkConfigured:
    """The network with several coordinators, e.g. one per language or channel."""
    return NetworkConfigured(
        **stated(),
        subject=NETWORK,
        data=NetworkConfiguredData(name="Kunststoffverbund Süd", coordinators=list(coordinators)),
    )


def firm(firm_id: str, name: str, contact: Contact | None, city: str = "Augsburg") -> FirmRegistered:
    return FirmRegistered(
        **stated(),
        subject=NETWORK,
        data=FirmData(
            firm_id=firm_id,
            name=name,
            location=Location(street="Werkstraße 1", postcode="86150", city=city),
            training_contact=contact,
        ),
    )


def host_firm(contact: Contact | None = None) -> FirmRegistered:
    return firm(HOST, "Spritzguss Meier GmbH", contact or Contact(name="Herr Meier", email=HOST_EMAIL))


def home_firm(contact: Contact | None = None) -> FirmRegistered:
    return firm(HOME, "Stammwerk Huber KG", contact or Contact(name="Frau Huber", email=HOME_EMAIL))


def other_firm() -> FirmRegistered:
    return firm(OTHER, "Extrusion Schulz AG", Contact(name="Herr Schulz", email=OTHER_EMAIL), city="Ulm")


def learner(contact: Contact | None = None, learner_id: str = LEARNER, name: str = "Lena Berger") -> LearnerRegistered:
    return LearnerRegistered(
        **stated(),
        subject=NETWORK,
        data=LearnerData(
            learner_id=learner_id,
            name=name,
            contact=contact or Contact(name=name, email=LEARNER_EMAIL),
            curriculum_id="C-1",
            home_firm_id=HOME,
            first_week="2027-W01",
            last_week="2029-W52",
        ),
    )


def withdrawn(learner_id: str = LEARNER) -> LearnerWithdrawn:
    return LearnerWithdrawn(**stated(), subject=NETWORK, data=LearnerWithdrawnData(learner_id=learner_id))


def directory() -> list[Any]:
    return [network(), host_firm(), home_firm(), other_firm(), learner()]


def phase(start: str = "2027-W10", end: str = "2027-W13", firm_id: str = HOST, firm_name: str = "Spritzguss Meier GmbH",
          version: int = 1) -> dict[str, Any]:  # fmt: skip
    return {
        "assignment_id": f"{NETWORK}.{LEARNER}.M-CNC",
        "learner_id": LEARNER,
        "learner_name": "Lena Berger",
        "module_id": "M-CNC",
        "module_name": "CNC-Fräsen",
        "firm_id": firm_id,
        "firm_name": firm_name,
        "start_week": start,
        "end_week": end,
        "start_date": week_monday(start),
        "end_date": week_sunday(end),
        "plan_version": version,
    }


def made(**kw: Any) -> AssignmentMade:
    return AssignmentMade(subject=NETWORK, data=AssignmentData(**phase(**kw)))


def changed(**kw: Any) -> AssignmentChanged:
    return AssignmentChanged(
        subject=NETWORK,
        data=AssignmentChangedData(
            **phase(**kw),
            previous=PreviousAssignment(
                firm_id=HOST, firm_name="Spritzguss Meier GmbH", start_week="2027-W10", end_week="2027-W13"
            ),
            # As the matcher writes it: an English sentence with ids, and the code a reader words in its language.
            reason=f"Replanned because offer O-1 for M-CNC at {HOST} changed.",
            reason_code=ChangeReason.OFFER_CHANGED,
        ),
    )


def cancelled(**kw: Any) -> AssignmentCancelled:
    return AssignmentCancelled(
        subject=NETWORK,
        data=AssignmentCancelledData(
            **phase(**kw),
            reason=f"Cancelled because learner {LEARNER} withdrew.",
            reason_code=ChangeReason.LEARNER_WITHDRAWN,
        ),
    )


def shortfall() -> ShortfallDetected:
    return ShortfallDetected(
        subject=NETWORK,
        data=ShortfallData(
            shortfall_id=f"{NETWORK}.{LEARNER}.G-WAHL",
            learner_id=LEARNER,
            learner_name="Lena Berger",
            group_id="G-WAHL",
            module_id="M-LASER",
            missing=1,
            reason=ShortfallReason.CONTENTION,
            message="Alle Plätze für Laserschweißen sind in 2027-W20 bis 2027-W24 belegt.",
            competing_learners=["L-002", "L-003"],
            suggestions=[
                SeatSuggestion(firm_id=HOST, module_id="M-LASER", first_week="2027-W20", last_week="2027-W24", seats=1)
            ],
            plan_version=1,
        ),
    )


def resolved(shortfall_id: str = f"{NETWORK}.{LEARNER}.G-WAHL", version: int = 2) -> ShortfallResolved:
    """The matcher's word that the factory's shortfall is met (a fresh event id each call)."""
    return ShortfallResolved(
        subject=NETWORK,
        data=ShortfallResolvedData(
            shortfall_id=shortfall_id,
            learner_id=LEARNER,
            group_id="G-WAHL",
            module_id="M-LASER",
            plan_version=version,
            message="Spritzguss Meier bietet in 2027-W20 bis 2027-W24 einen weiteren Platz für Laserschweißen.",
        ),
    )
