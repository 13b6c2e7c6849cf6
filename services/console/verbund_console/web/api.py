"""The HTTP API for firms' systems that cannot speak Kafka: one inbound event per POST, stamped with its firm."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from faststream.kafka import KafkaBroker
from pydantic.json_schema import models_json_schema
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from verbund_schemas import (
    FIRM_EVENT_TYPES,
    INBOUND_TYPES,
    AuthContext,
    AuthType,
    CapacityChanged,
    CapacityOffered,
    CapacityWithdrawn,
    Envelope,
    FirmUpdated,
    InvalidEvent,
    Keyring,
    PlacementAnswered,
    Role,
    encode_event,
    load_event,
    seal_event,
    topic,
)

from ..store.api_tokens import ApiTokens, TokenHolder

log = logging.getLogger(__name__)

PREFIX = "/api/v1"

Produce = Callable[[bytes, str], Awaitable[None]]
"""Puts a record (value, key) on the inbound topic and returns once the broker has it."""


class ApiError(Exception):
    """An answer other than acceptance: its status and what the client should do."""

    def __init__(self, status: int, error: str, errors: list[str] | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.errors = errors or []


def inbound_producer(broker: KafkaBroker, keyring: Keyring | None = None) -> Produce:
    """Produce with the console's broker, connecting on first use (without consumers nothing else starts it).

    With a keyring, a firm's training contact is sealed before it leaves the console (ADR 0004).
    """

    async def produce(value: bytes, key: str) -> None:
        if keyring is not None:
            sealed = await seal_event(json.loads(value), keyring)
            value = json.dumps(sealed, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        await broker.connect()  # a no-op once connected
        await broker.publish(value, topic=topic("inbound"), key=key.encode("utf-8"))

    return produce


def api_app(tokens: ApiTokens, produce: Produce, max_event_bytes: int) -> Starlette:
    """The API, to be mounted at /api/v1 of the console."""

    async def post_event(request: Request) -> Response:
        try:
            holder = await _holder(tokens, request)
            raw = await _body(request, max_event_bytes)
            status, event_id = await _submit(tokens, produce, holder, raw)
        except ApiError as exc:
            headers = {"www-authenticate": "Bearer"} if exc.status == 401 else None
            return JSONResponse({"error": exc.error, "errors": exc.errors}, status_code=exc.status, headers=headers)
        return JSONResponse({"id": event_id}, status_code=status)

    async def openapi(_: Request) -> Response:
        return JSONResponse(openapi_document())

    return Starlette(
        routes=[Route("/events", post_event, methods=["POST"]), Route("/openapi.json", openapi, methods=["GET"])]
    )


async def _holder(tokens: ApiTokens, request: Request) -> TokenHolder:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "send the firm's API token as 'Authorization: Bearer <token>'")
    holder = await tokens.holder(token.strip())
    if holder is None:
        # One answer for unknown, expired and revoked tokens: which of them is none of a caller's business.
        raise ApiError(401, "the token is not valid (unknown, expired or revoked); ask the network's coordinators")
    return holder


async def _body(request: Request, max_event_bytes: int) -> bytes:
    """The body, read only as far as the limit: a client cannot make the console hold more than one event."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_event_bytes:
            raise ApiError(
                413,
                f"the body is more than {max_event_bytes} bytes; an event may have at most that many "
                "(VERBUND_MAX_EVENT_BYTES): send large lists as several events",
            )
        chunks.append(chunk)
    return b"".join(chunks)


async def _submit(tokens: ApiTokens, produce: Produce, holder: TokenHolder, raw: bytes) -> tuple[int, str]:
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(422, f"the body is not a JSON object: {exc}") from exc
    if not isinstance(body, dict):
        raise ApiError(422, f"the body must be one event, a JSON object, not {type(body).__name__}")
    # Whatever sender the body names is replaced: only the token says who sends.
    body.pop("authcontext", None)
    fingerprint = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    try:
        event = load_event({**body, "authcontext": _sender(holder)}, INBOUND_TYPES)
    except InvalidEvent as exc:
        raise ApiError(422, exc.reason, exc.errors) from exc
    await _authorise(tokens, holder, event)
    earlier = await tokens.accepted(event.subject, event.id)
    if earlier is not None:
        if earlier != fingerprint:
            raise ApiError(
                409,
                f"event id {event.id!r} was accepted before with another body; an id names one event for good: "
                "send the change as a new event under a new id",
            )
        return 200, event.id
    try:
        await produce(encode_event(event), event.subject)
    except Exception as exc:
        log.warning("could not produce event %s of network %s: %s", event.id, event.subject, type(exc).__name__)
        raise ApiError(503, "the event could not be passed on right now; send it again (same id) in a minute") from exc
    await tokens.remember(event.subject, event.id, fingerprint, holder.token_id)
    log.info("API token %s sent %s %s to network %s", holder.token_id, event.type, event.id, event.subject)
    return 202, event.id


def _sender(holder: TokenHolder) -> dict[str, Any]:
    return AuthContext(
        authtype=AuthType.SERVICE_ACCOUNT,
        principalid=f"token:{holder.token_id}",
        role=Role.FIRM,
        network_id=holder.network_id,
        firm_id=holder.firm_id,
    ).model_dump(mode="json")


async def _authorise(tokens: ApiTokens, holder: TokenHolder, event: Envelope) -> None:
    """The firm checks of the matcher, as far as the console knows the network; the matcher checks again."""
    firm = holder.firm_id
    if event.subject != holder.network_id:
        raise ApiError(403, f"this token is for network {holder.network_id!r}, not {event.subject!r}")
    if event.type not in FIRM_EVENT_TYPES:
        raise ApiError(
            403,
            f"a firm's token may not send {event.type}; it may send " + ", ".join(sorted(FIRM_EVENT_TYPES)),
        )
    match event:
        case CapacityOffered(data=data) if data.firm_id != firm:
            raise ApiError(403, f"this token acts for firm {firm!r} and may not offer capacity of {data.firm_id!r}")
        case FirmUpdated(data=data) if data.firm_id != firm:
            raise ApiError(403, f"this token acts for firm {firm!r} and may not update firm {data.firm_id!r}")
        case PlacementAnswered(data=data) if data.firm_id != firm:
            raise ApiError(403, f"this token acts for firm {firm!r} and may not answer a placement at {data.firm_id!r}")
        case CapacityChanged(data=data) | CapacityWithdrawn(data=data):
            owner = await tokens.offer_firm(event.subject, data.offer_id)
            if owner is not None and owner != firm:
                raise ApiError(403, f"this token acts for firm {firm!r}; offer {data.offer_id!r} is another firm's")


_ERROR = {
    "type": "object",
    "required": ["error", "errors"],
    "properties": {
        "error": {"type": "string", "description": "What was wrong and what to do"},
        "errors": {"type": "array", "items": {"type": "string"}, "description": "One line per invalid field"},
    },
}


def openapi_document() -> dict[str, Any]:
    """OpenAPI 3.1 of the API; the event schemas are the contracts' own JSON Schema."""
    firm_types = [t for t in INBOUND_TYPES if t.EVENT_TYPE in FIRM_EVENT_TYPES]
    _, definitions = models_json_schema(
        [(t, "validation") for t in firm_types], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = dict(definitions.get("$defs", {}))
    schemas["Error"] = _ERROR
    schemas["Accepted"] = {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}

    def error(description: str) -> dict[str, Any]:
        return {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }

    accepted = {"application/json": {"schema": {"$ref": "#/components/schemas/Accepted"}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Verbund API for firms' systems",
            "version": "1",
            "description": "One inbound event per request, as on the inbound topic (docs/events.md). The token names "
            "one firm of one network; the event is stamped with it as its authcontext (docs/security.md).",
        },
        "servers": [{"url": PREFIX}],
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "token": {"type": "http", "scheme": "bearer", "description": "verbund console issue-token"}
            },
        },
        "security": [{"token": []}],
        "paths": {
            "/events": {
                "post": {
                    "summary": "Send one inbound event of the token's firm",
                    "operationId": "postEvent",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [{"$ref": f"#/components/schemas/{t.__name__}"} for t in firm_types],
                                    "discriminator": {"propertyName": "type"},
                                }
                            }
                        },
                    },
                    "responses": {
                        "202": {"description": "Accepted and put on the inbound topic", "content": accepted},
                        "200": {
                            "description": "This event (same id, same body) was accepted before",
                            "content": accepted,
                        },
                        "401": error("No token, or an unknown, expired or revoked one"),
                        "403": error("An event for another network or firm, or of a type a firm may not send"),
                        "409": error("Another body under an id already accepted in this network"),
                        "413": error("Larger than VERBUND_MAX_EVENT_BYTES"),
                        "422": error("Not valid against the event's contract"),
                        "503": error("The broker could not take it now; send it again with the same id"),
                    },
                }
            }
        },
    }
