"""A one-learner, one-firm network as inbound event records: the smallest input that yields an assignment."""

from __future__ import annotations

import uuid
from typing import Any

FIRM_ID = "F-AC"
LEARNER_ID = "L-01"
MODULE_ID = "M-SPRITZ"


def network_id(label: str) -> str:
    """A network id no other test uses, so a test reads only its own events from the shared topics."""
    return f"e2e-{label}-{uuid.uuid4().hex[:8]}"


def learner_email(network: str) -> str:
    """Each network's learner has an address of her own, so a test finds its message among all others."""
    return f"mara.keller.{network}@example.org"


def _event(network: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": kind,
        "subject": network,
        "id": f"{network}-{kind}-{uuid.uuid4().hex[:6]}",
        "time": "2027-01-04T08:00:00Z",
        "data": data,
    }


def setup_records(network: str) -> list[dict[str, Any]]:
    """Everything before capacity: network, curriculum, firm, learner (in the order the matcher needs)."""
    return [
        _event(network, "NetworkConfigured", {"name": f"Verbund {network}", "notice_period_weeks": 0}),
        _event(
            network,
            "CurriculumPublished",
            {
                "curriculum_id": "C-VM",
                "name": "Verfahrensmechaniker Kunststoff",
                "modules": [{"module_id": MODULE_ID, "name": "Spritzgießen", "duration_weeks": 4}],
                "groups": [{"group_id": "G-PF", "name": "Pflicht", "module_ids": [MODULE_ID], "required": 1}],
            },
        ),
        _event(
            network,
            "FirmRegistered",
            {"firm_id": FIRM_ID, "name": "Kunststofftechnik Aachen", "location": {"city": "Aachen"}},
        ),
        _event(
            network,
            "LearnerRegistered",
            {
                "learner_id": LEARNER_ID,
                "name": "Mara Keller",
                "contact": {"name": "Mara Keller", "email": learner_email(network)},
                "curriculum_id": "C-VM",
                "first_week": "2031-W02",
                "last_week": "2031-W20",
            },
        ),
    ]


def capacity_record(network: str) -> dict[str, Any]:
    return _event(
        network,
        "CapacityOffered",
        {
            "offer_id": "O-1",
            "firm_id": FIRM_ID,
            "module_id": MODULE_ID,
            "first_week": "2031-W02",
            "last_week": "2031-W20",
            "max_seats": 2,
        },
    )


def all_records(network: str) -> list[dict[str, Any]]:
    return [*setup_records(network), capacity_record(network)]
