"""The console's composition root: `build(settings)` wires database, consumers and web pages; nothing at import."""

# No `from __future__ import annotations` here: FastStream reads each handler's annotations at run time, and
# the payload annotation below names a value of the enclosing function.
import logging
from dataclasses import dataclass
from typing import Annotated, Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from verbund_runtime.asyncapi import payload_schema
from verbund_runtime.kafka import faststream_security
from verbund_runtime.keyring import keyring_of
from verbund_schemas import AssignmentEvent, EventRejected, InboundEvent, ShortfallEvent, topic
from verbund_schemas.topics import inbound_pattern

from .service.ingest import Ingest
from .service.live import ChangeSignal
from .settings import ConsoleSettings
from .store.accounts import Accounts
from .store.api_tokens import ApiTokens
from .store.database import create_engine, session_factory
from .store.firm_desk import FirmDesk
from .store.learner_feeds import LearnerFeeds
from .store.readmodel import ReadModel
from .web.api import PREFIX, api_app, inbound_producer
from .web.app import build_web
from .web.contact_erasure import contact_erasure_routes
from .web.learner_data import learner_data_routes

log = logging.getLogger(__name__)

# Topic role -> the payloads it carries (for the AsyncAPI document; handlers decode the bytes themselves,
# so a record they cannot read is skipped instead of stopping the consumer).
CONSUMED = {
    "assignments": AssignmentEvent,
    "shortfalls": ShortfallEvent,
    "rejected": EventRejected,
    "inbound": InboundEvent,
}


@dataclass
class Console:
    settings: ConsoleSettings
    engine: AsyncEngine
    broker: KafkaBroker
    read_model: ReadModel
    accounts: Accounts
    ingest: Ingest
    signal: ChangeSignal
    web: Starlette | None  # None without a session secret (the command line needs no web app)


def build(settings: ConsoleSettings | None = None) -> Console:
    settings = settings or ConsoleSettings()
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    read_model = ReadModel(sessions)
    accounts = Accounts(sessions)
    signal = ChangeSignal()
    keyring = keyring_of(settings.key_service_url, settings.key_service_token)
    ingest = Ingest(read_model, signal, settings.max_event_bytes, keyring)
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        security=faststream_security(settings.kafka_security()),
        client_id="verbund-console",
        logger=logging.getLogger("verbund_console.broker"),
    )
    if settings.consume:
        for role, payload in CONSUMED.items():
            _subscribe(broker, ingest, settings.group_id, role, payload)
    produce = inbound_producer(broker, keyring)
    desk = FirmDesk(sessions)
    feeds = LearnerFeeds(sessions)
    web = build_web(settings, read_model, accounts, signal, desk, produce, feeds) if settings.session_secret else None
    if web is not None:
        web.router.routes.extend(learner_data_routes(settings, accounts, produce))
        web.router.routes.extend(contact_erasure_routes(accounts, produce))
        web.mount(PREFIX, api_app(ApiTokens(sessions), produce, settings.max_event_bytes))
    return Console(settings, engine, broker, read_model, accounts, ingest, signal, web)


# A batch is folded in one transaction. The live pages must show a change within a second, so a batch waits
# at most this long for more records; under load it fills up to BATCH_MAX_RECORDS instead (1,000 fold in about
# a third of a second; fewer, bigger transactions are what keep up with the matcher's bursts).
BATCH_MAX_RECORDS = 1000
BATCH_TIMEOUT_MS = 100


async def _raw_records(msg: KafkaMessage) -> list[bytes]:
    """Decoder: the records' bytes untouched (the handler decodes each itself, so a bad one is only skipped)."""
    return [r.value or b"" for r in _records_of(msg)]


def _records_of(msg: KafkaMessage) -> tuple[Any, ...]:
    raw = msg.raw_message
    return tuple(raw) if isinstance(raw, tuple | list) else (raw,)


def _subscribe(broker: KafkaBroker, ingest: Ingest, group: str, role: str, payload: Any) -> None:
    # Offsets are committed after the handler returned, i.e. after the read model's commit; an exception
    # (database away) rewinds to the batch, and the redelivery is deduplicated by event id.
    # Inbound is the shared topic and the firms' own ones; a firm's events are folded only where they are its own.
    pattern = inbound_pattern() if role == "inbound" else None

    @broker.subscriber(
        *(() if pattern else (topic(role),)),
        pattern=pattern,
        group_id=f"{group}.{role}",
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        batch=True,
        max_records=BATCH_MAX_RECORDS,
        batch_timeout_ms=BATCH_TIMEOUT_MS,
        decoder=_raw_records,
        title=f"console:{role}",
        description=f"Folds the {role} topic into the console's read model.",
    )
    async def on_records(body: Annotated[list[Any], payload_schema(list[payload])], msg: KafkaMessage) -> None:
        records = _records_of(msg)
        await ingest.records([(r.value or b"", f"{r.topic}:{r.partition}:{r.offset}") for r in records])
