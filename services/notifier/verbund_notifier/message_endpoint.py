"""The notifier's machine endpoint: the messages it holds for a learner, for `verbund learner export`."""

from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .store.deliveries import messages_to
from .store.tables import Delivery

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")


def message_routes(sessions: async_sessionmaker[AsyncSession], token: str) -> list[BaseRoute]:
    """`GET /messages/{network}/{learner}`: every message held for the learner, with its text and calendar entry.

    Behind the machine token of the key endpoint (VERBUND_KEY_SERVICE_TOKEN): the answer holds the learner's
    address and the texts sent to them in clear text. After an erasure the notifier holds none, and says so.
    """

    async def messages(request: Request) -> Response:
        given = request.headers.get("authorization", "")
        if not secrets.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return JSONResponse({"error": "a valid key service token is required"}, status_code=401)
        network_id, learner_id = request.path_params["network_id"], request.path_params["learner_id"]
        if not (_ID.fullmatch(network_id) and _ID.fullmatch(learner_id)):
            return JSONResponse({"error": "network and learner ids are letters, digits, '.', '_', ':', '-'"}, 400)
        async with sessions() as session:
            held = await messages_to(session, network_id, f"learner:{learner_id}")
        return JSONResponse(
            {"network_id": network_id, "learner_id": learner_id, "messages": [message_of(d) for d in held]}
        )

    return [Route("/messages/{network_id}/{learner_id}", messages, methods=["GET"])]


def message_of(delivery: Delivery) -> dict[str, Any]:
    """One message as the learner received it (or will): what, when, how and whether it arrived."""
    return {
        "notification_id": delivery.notification_id,
        "kind": delivery.kind,
        "channel": delivery.channel,
        "language": delivery.language,
        "address": delivery.address,
        "subject": delivery.subject,
        "text": delivery.body_text,
        "html": delivery.body_html,
        "calendar": delivery.calendar,
        "webhook_payload": delivery.payload,
        "created_at": delivery.created_at.isoformat(),
        "sent_at": delivery.finished_at.isoformat() if delivery.finished_at and delivery.status == "sent" else None,
        "state": delivery.status,
        "attempts": delivery.attempts,
    }
