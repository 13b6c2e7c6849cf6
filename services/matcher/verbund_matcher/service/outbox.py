"""Stages events for the outbox table, in the caller's transaction."""

from __future__ import annotations

import datetime as dt
import json

from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_schemas import Envelope, encode_event
from verbund_schemas.personal import holder_of, seal_with

from ..store.bulk import insert_at_commit
from ..store.keys import KeyTable
from ..store.tables import OutboxRow, table_of

SOURCE = "verbund-matcher"


def enqueue(session: AsyncSession, event: Envelope, role: str, payload: str | None = None) -> None:
    """Stage `event` for the relay; it is published only if the surrounding transaction commits.

    The rows are inserted together when the transaction commits, in the order staged (the relay's order).
    `payload` is the event's wire form when it differs from the contract's (its learner's name sealed).
    """
    insert_at_commit(
        session,
        table_of(OutboxRow),
        [
            {
                "event_id": event.id,
                "event_type": event.type,
                "topic_role": role,
                "key": event.subject,
                "payload": payload if payload is not None else encode_event(event).decode("utf-8"),
                "created_at": dt.datetime.now(dt.UTC),
                "sent_at": None,
            }
        ],
    )


async def sealed_payload(session: AsyncSession, event: Envelope, keys: KeyTable | None) -> str | None:
    """The wire form of an event with its learner's name sealed under the learner's key; None: as it is.

    A learner whose key is destroyed is erased: their name is left out rather than published in clear.
    """
    if keys is None:
        return None
    obj = json.loads(encode_event(event))
    holder = holder_of(obj)
    if holder is None:
        return None
    key = await keys.key_in(session, event.subject, holder)
    if key is None:
        obj["data"]["learner_name"] = ""  # required by the contract; empty says "erased", never the name
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(seal_with(obj, key), ensure_ascii=False, separators=(",", ":"))
