"""Small, valid inbound events for one network, built through the contracts, for the domain tests."""

from __future__ import annotations

from typing import Any

from verbund_schemas import (
    CapacityChanged,
    CapacityOffered,
    CapacityWithdrawn,
    CurriculumPublished,
    Envelope,
    FirmLeft,
    FirmRegistered,
    FirmUpdated,
    LearnerRegistered,
    LearnerUpdated,
    LearnerWithdrawn,
    NetworkConfigured,
    PlacementAnswered,
)

NETWORK = "net-1"


class Events:
    """Factory of events for network `net-1`; keyword arguments override fields of `data`."""

    def __init__(self, network: str = NETWORK) -> None:
        self.network = network

    def _make(self, cls: type[Envelope], data: dict[str, Any], subject: str | None = None) -> Envelope:
        self._count = getattr(self, "_count", 0) + 1
        stated = {"id": f"{self.network}-{self._count}", "time": "2027-01-04T08:00:00Z"}
        return cls.model_validate({**stated, "subject": subject or self.network, "data": data})

    def network_configured(self, **data: Any) -> Envelope:
        return self._make(NetworkConfigured, {"name": "Verbund Test"} | data)

    def curriculum(self, **data: Any) -> Envelope:
        base = {
            "curriculum_id": "cur",
            "name": "Verfahrensmechaniker",
            "modules": [
                {"module_id": "basics", "name": "Grundlagen", "duration_weeks": 2, "priority": 1},
                {"module_id": "moulding", "name": "Spritzgießen", "duration_weeks": 3},
                {"module_id": "extrusion", "name": "Extrusion", "duration_weeks": 2},
                {"module_id": "cnc", "name": "CNC", "duration_weeks": 1},
            ],
            "groups": [
                {"group_id": "core", "name": "Pflicht", "module_ids": ["basics", "moulding"], "required": 2},
                {"group_id": "elective", "name": "Wahl", "module_ids": ["extrusion", "cnc"], "required": 1},
            ],
            "precedence": [{"module_id": "moulding", "requires": "basics"}],
        }
        return self._make(CurriculumPublished, base | data)

    def firm(self, firm_id: str = "firm-a", cls: type[Envelope] = FirmRegistered, **data: Any) -> Envelope:
        base = {"firm_id": firm_id, "name": f"Firm {firm_id}", "location": {"city": "Aachen", "postcode": "52062"}}
        return self._make(cls, base | data)

    def firm_updated(self, firm_id: str = "firm-a", **data: Any) -> Envelope:
        return self.firm(firm_id, FirmUpdated, **data)

    def firm_left(self, firm_id: str = "firm-a") -> Envelope:
        return self._make(FirmLeft, {"firm_id": firm_id})

    def offer(self, offer_id: str = "o-1", **data: Any) -> Envelope:
        base = {
            "offer_id": offer_id,
            "firm_id": "firm-a",
            "module_id": "moulding",
            "first_week": "2027-W10",
            "last_week": "2027-W30",
            "max_seats": 2,
        }
        return self._make(CapacityOffered, base | data)

    def offer_changed(self, offer_id: str = "o-1", **data: Any) -> Envelope:
        return self._make(CapacityChanged, {"offer_id": offer_id} | data)

    def offer_withdrawn(self, offer_id: str = "o-1") -> Envelope:
        return self._make(CapacityWithdrawn, {"offer_id": offer_id})

    def learner(self, learner_id: str = "l-1", cls: type[Envelope] = LearnerRegistered, **data: Any) -> Envelope:
        base = {
            "learner_id": learner_id,
            "name": f"Learner {learner_id}",
            "contact": {"name": f"Learner {learner_id}", "email": f"{learner_id}@example.org"},
            "curriculum_id": "cur",
            "first_week": "2027-W12",
            "last_week": "2027-W40",
        }
        return self._make(cls, base | data)

    def learner_updated(self, learner_id: str = "l-1", **data: Any) -> Envelope:
        return self.learner(learner_id, LearnerUpdated, **data)

    def learner_withdrawn(self, learner_id: str = "l-1") -> Envelope:
        return self._make(LearnerWithdrawn, {"learner_id": learner_id})


def answer(answer: str, learner_id: str = "l-1", firm_id: str = "firm-a") -> PlacementAnswered:
    data = {
        "learner_id": learner_id,
        "module_id": "basics",
        "firm_id": firm_id,
        "start_week": "2027-W12",
        "answer": answer,
        "reason": "the workshop is closed" if answer == "declined" else "",
    }
    return PlacementAnswered.model_validate(
        {"id": f"answer-{answer}-{learner_id}", "time": "2027-01-04T08:00:00Z", "subject": NETWORK, "data": data}
    )
