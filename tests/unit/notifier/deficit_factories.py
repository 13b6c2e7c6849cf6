"""Seat deficit events as the matcher publishes them, for the notifier's tests (unit and on the real broker)."""

from __future__ import annotations

import notifier_factories as f
from verbund_schemas import (
    DeficitSpan,
    SeatDeficitData,
    SeatDeficitDetected,
    SeatDeficitResolved,
    SeatDeficitResolvedData,
)

DEFICIT = f"{f.NETWORK}:{f.HOST}:M-CNC"


def detected(*spans: DeficitSpan, version: int = 1) -> SeatDeficitDetected:
    spans = spans or (
        DeficitSpan(first_week="2027-W10", last_week="2027-W12", minimum=3, planned=1),
        DeficitSpan(first_week="2027-W14", last_week="2027-W14", minimum=3, planned=2),
    )
    return SeatDeficitDetected(
        subject=f.NETWORK,
        data=SeatDeficitData(
            deficit_id=DEFICIT,
            firm_id=f.HOST,
            firm_name="Spritzguss Meier GmbH",
            module_id="M-CNC",
            module_name="CNC-Fräsen",
            spans=list(spans),
            missing_learner_weeks=sum(s.missing_learner_weeks for s in spans),
            message="Spritzguss Meier GmbH's offer for CNC-Fräsen is below its minimum.",
            plan_version=version,
        ),
    )


def resolved(version: int = 2) -> SeatDeficitResolved:
    return SeatDeficitResolved(
        subject=f.NETWORK,
        data=SeatDeficitResolvedData(
            deficit_id=DEFICIT,
            firm_id=f.HOST,
            firm_name="Spritzguss Meier GmbH",
            module_id="M-CNC",
            module_name="CNC-Fräsen",
            plan_version=version,
        ),
    )
