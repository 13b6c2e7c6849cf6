"""Answers an operator's replay request for a parked outbox event by handing the row back to the relay."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_schemas import OPERATOR_TYPES, InvalidEvent, OutboxReplayRequested, ParkedHeader, decode_event

from ..store.parked_outbox import release_parked

log = logging.getLogger(__name__)


def replay_request(value: bytes | None, headers: Mapping[str, str]) -> OutboxReplayRequested | None:
    """The request a record on the parked topic carries, if it is one.

    Parked records and the markers of consumed records replayed are on the same topic; they are not requests.
    """
    if ParkedHeader.REPLAY_OF not in headers or not value:
        return None
    try:
        event = decode_event(value, OPERATOR_TYPES)
    except InvalidEvent as exc:
        log.warning("a replay marker on the parked topic is not a replay request the matcher reads: %s", exc.reason)
        return None
    return event if isinstance(event, OutboxReplayRequested) else None


async def answer(sessions: async_sessionmaker[AsyncSession], request: OutboxReplayRequested) -> bool:
    """Release the row the request names if it is still parked as the notice said; whether it was."""
    d = request.data
    released = await release_parked(sessions, seq=d.outbox_seq, event_id=d.event_id, parked_at=d.parked_at)
    fields = {"seq": d.outbox_seq, "event_id": d.event_id, "key": request.subject, "notice": d.parked_record}
    if released:
        log.info(
            "parked outbox row %d (%s) handed back to the relay on request", d.outbox_seq, d.event_id, extra=fields
        )
    else:
        log.info(
            "replay request for outbox row %d (%s) left alone: this database has no such row parked at %s "
            "(sent, parked again since, or another matcher's)",
            d.outbox_seq,
            d.event_id,
            d.parked_at.isoformat(),
            extra=fields,
        )
    return released
