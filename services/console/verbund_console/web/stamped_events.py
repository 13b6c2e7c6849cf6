"""Inbound events the console's pages send for a signed-in firm user or learner: stamped, checked, produced."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

from verbund_schemas import INBOUND_TYPES, AuthContext, Envelope, encode_event, load_event

from .api import Produce

log = logging.getLogger(__name__)

SOURCE = "verbund-console"


def stamped_event(event_type: str, network_id: str, data: dict[str, Any], sender: AuthContext) -> Envelope:
    """The event with a new id, the time now and the signed-in sender as its authcontext; raises InvalidEvent with
    the contract's messages, which the pages show as they are."""
    body = {
        "type": event_type,
        "id": f"console-{uuid.uuid4()}",
        "time": dt.datetime.now(dt.UTC).isoformat(),
        "source": SOURCE,
        "subject": network_id,
        "data": data,
        "authcontext": sender.model_dump(mode="json"),
    }
    return load_event(body, INBOUND_TYPES)


async def produced(produce: Produce | None, event: Envelope, network_id: str) -> bool:
    """Whether the event reached the broker; a console without a producer, or a broker away, is told, not raised."""
    if produce is None:
        return False
    try:
        await produce(encode_event(event), network_id)
    except Exception as exc:
        # Neither the sender nor the data: the event may carry a learner's id.
        log.warning("could not produce %s for network %s: %s", event.type, network_id, type(exc).__name__)
        return False
    return True
