"""The notifier's FastStream app: one router per topic family, thin handlers, explicit acknowledgement."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker, KafkaMessage, KafkaRouter
from faststream.specification import AsyncAPI
from pydantic import WithJsonSchema
from verbund_runtime.asyncapi import payload_schema
from verbund_runtime.kafka import faststream_security
from verbund_schemas import (
    PARKED_RECORD_SCHEMA,
    AssignmentEvent,
    Envelope,
    InboundEvent,
    NotificationEvent,
    ShortfallEvent,
    encode_event,
    parked_topic_description,
    topic,
)
from verbund_schemas.topics import inbound_pattern

from .clock import Clock
from .runtime import Notifier
from .service.ingest import Origin
from .service.poison import ConsumeAttempts
from .settings import NotifierSettings

log = logging.getLogger(__name__)

# Readiness asks the cluster for its description; within the probe's 5 s, a broker gone answers nothing.
_BROKER_PING_SECONDS = 3.0


# Handlers must see raw bytes to reject invalid input with its original bytes, so the body parameter is
# not validated; these annotations give the AsyncAPI document the real payload schemas all the same.
AssignmentPayload = Annotated[Any, payload_schema(AssignmentEvent)]
ShortfallPayload = Annotated[Any, payload_schema(ShortfallEvent)]
InboundPayload = Annotated[Any, payload_schema(InboundEvent)]


def origin_of(msg: KafkaMessage) -> Origin:
    record = msg.raw_message
    if isinstance(record, tuple):  # batches are not used here, but the type allows them
        record = record[0]
    key = record.key
    return Origin(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=key.decode("utf-8", "replace") if isinstance(key, bytes) else key,
    )


@dataclass
class NotifierApp:
    app: FastStream
    broker: KafkaBroker
    notifier: Notifier
    log_publisher: Any


def build(settings: NotifierSettings | None = None, clock: Clock | None = None) -> NotifierApp:
    """Assemble broker, routers and notifier; nothing connects until the app (or a test broker) starts."""
    settings = settings or NotifierSettings()
    # FastStream's own messages go through the notifier's handlers (JSON lines when configured, no colours).
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        security=faststream_security(settings.kafka_security()),
        client_id="verbund-notifier",
        logger=logging.getLogger("verbund_notifier.broker"),
    )

    notifications = broker.publisher(
        topic("notifications"),
        title="notifier:notifications",
        description="Delivery log: NotificationDelivered or NotificationFailed per message (key: network id).",
        schema=Annotated[Any, payload_schema(NotificationEvent)],
    )

    async def publish(event: Envelope, publisher: Any) -> None:
        await publisher.publish(encode_event(event), key=event.subject.encode("utf-8"))

    async def publish_log(event: Envelope) -> None:
        await publish(event, notifications)

    # Messages it cannot read are counted and skipped, not published: the matcher, which owns the inbound topic,
    # publishes the one rejection of an inbound record (docs/matcher.md, "Rejected input").
    notifier = Notifier(settings, publish_log, clock=clock)
    service = notifier.service

    parked = broker.publisher(
        topic("parked"),
        title="notifier:parked",
        description=parked_topic_description("Consumed assignment, shortfall and directory events")
        + " The matcher parks its inbound records here too.",
        schema=Annotated[bytes, WithJsonSchema(PARKED_RECORD_SCHEMA)],
    )

    async def park(key: bytes | None, value: bytes, headers: dict[str, str]) -> None:
        await parked.publish(value, key=key, headers=headers)

    attempts = ConsumeAttempts(
        park,
        attempts=settings.notifier_consume_retry_attempts,
        backoff_seconds=settings.notifier_consume_retry_backoff_seconds,
        max_event_bytes=settings.max_event_bytes,
    )
    notifier.consume_attempts = attempts

    async def handled(family: str, msg: KafkaMessage) -> None:
        # Only when even parking fails (the broker away too) does this raise: the message is then read again.
        origin = origin_of(msg)
        await attempts.run(msg.body, origin, lambda: service.handle(family, msg.body, origin))

    group = settings.notifier_group_id

    def subscribe(
        router: KafkaRouter, role: str, title: str, description: str
    ) -> Callable[[Callable[..., Awaitable[None]]], object]:
        # Offsets are committed only after the handler returned, i.e. after the database commit, or after the
        # message was skipped or parked; an exception (database and broker away) rewinds to it.
        # The directory reads the firms' own inbound topics too: a firm updates its own contact there.
        pattern = inbound_pattern() if role == "inbound" else None
        decorator: Callable[[Callable[..., Awaitable[None]]], object] = router.subscriber(
            *(() if pattern else (topic(role),)),
            pattern=pattern,
            group_id=f"{group}.{role}",
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            title=title,
            description=description,
        )
        return decorator

    assignments = KafkaRouter()

    @subscribe(
        assignments,
        "assignments",
        "notifier:assignments",
        "Tells learners, host firms and home firms about made, changed and cancelled phases (.ics attached).",
    )
    async def on_assignment(body: AssignmentPayload, msg: KafkaMessage) -> None:
        await handled("assignments", msg)

    shortfalls = KafkaRouter()

    @subscribe(
        shortfalls,
        "shortfalls",
        "notifier:shortfalls",
        "Tells coordinators about shortfalls and weeks below a minimum group, and their resolution; keeps open "
        "ones for the digest.",
    )
    async def on_shortfall(body: ShortfallPayload, msg: KafkaMessage) -> None:
        await handled("shortfalls", msg)

    directory = KafkaRouter()

    @subscribe(
        directory,
        "inbound",
        "notifier:directory",
        "Keeps the contact directory: coordinators, firms' training contacts, learners (other types ignored); from "
        "a firm's own inbound topic only that firm's FirmUpdated.",
    )
    async def on_inbound(body: InboundPayload, msg: KafkaMessage) -> None:
        await handled("inbound", msg)

    for router in (assignments, shortfalls, directory):
        broker.include_router(router)

    async def kafka_problem() -> str | None:
        # A subscriber stops running when its consumer fails for good; then readiness must say so.
        subscribers = list(broker.subscribers)
        if not subscribers or not all(getattr(s, "running", False) for s in subscribers):
            return "consumers not running (not started yet, or stopping)"
        # The consumers keep "running" while they retry a lost broker: ask the cluster itself.
        if not await broker.ping(timeout=_BROKER_PING_SECONDS):
            return f"broker unreachable at {settings.kafka_bootstrap_servers}"
        return None

    notifier.kafka_problem = kafka_problem

    app = FastStream(
        broker,
        logger=logging.getLogger("verbund_notifier.app"),
        specification=AsyncAPI(
            broker,
            title="Verbund notifier",
            version="0.1.0",
            description="Messages people act on: emails with calendar entries, webhooks, reminders, digests.",
        ),
        on_startup=[notifier.prepare],
        after_startup=[notifier.start_worker],
        on_shutdown=[notifier.stop_worker],
        after_shutdown=[notifier.close],
    )
    return NotifierApp(app=app, broker=broker, notifier=notifier, log_publisher=notifications)


def asyncapi(settings: NotifierSettings | None = None) -> dict[str, Any]:
    """The AsyncAPI document of the notifier, as JSON-ready data."""
    document: dict[str, Any] = build(settings).app.schema.to_specification().to_jsonable()
    return document


def __getattr__(name: str) -> Any:
    # `faststream run verbund_notifier.app:app` and `faststream docs gen ...` look up `app`: built when looked
    # up, so importing this module reads no settings, resolves no topic names and keeps no app of its own.
    if name == "app":
        return build().app
    raise AttributeError(name)
