"""`verbund parked`: list what was set aside after its retries ran out, and replay it."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Annotated

import typer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaConnectionError
from rich.console import Console
from rich.table import Table
from verbund_matcher.store.parked_outbox import parked_outbox_events, release_parked
from verbund_runtime.kafka import client_options
from verbund_schemas import ParkedHeader, load_topics, topic

from verbund.kafka_access import (
    BOOTSTRAP_HELP,
    KafkaUnavailable,
    missing_topic_message,
    resolve_bootstrap,
    unreachable_message,
)

parked_app = typer.Typer(
    help="Records and outbox events set aside after their retries ran out: list them, replay them.",
    no_args_is_help=True,
)

DATABASE_HELP = (
    "The matcher's database, for its parked outbox events. Default: $VERBUND_DATABASE_URL; "
    "without either, only the parked topic is read."
)


@dataclass(frozen=True)
class ParkedEntry:
    """One parked thing: a record on the parked topic (`parked:<partition>:<offset>`) or an outbox row."""

    id: str
    parked_by: str
    origin: str
    key: str | None
    attempts: int
    last_failure: str
    reason: str
    replayed: bool = False
    truncated: bool = False
    # What a replay sends (records on the parked topic only).
    topic: str | None = None
    value: bytes | None = None
    raw_key: bytes | None = None


@dataclass
class Parked:
    entries: list[ParkedEntry] = field(default_factory=list)

    def by_id(self) -> dict[str, ParkedEntry]:
        return {e.id: e for e in self.entries}


def _headers(record: object) -> dict[str, str]:
    return {k: v.decode("utf-8", "replace") for k, v in (getattr(record, "headers", None) or ())}


async def read_parked_topic(bootstrap: str, timeout: float = 10.0) -> list[ParkedEntry]:  # noqa: ASYNC109
    """Every parked record on the topic, oldest first, each marked replayed once a replay marker names it."""
    consumer = AIOKafkaConsumer(
        **client_options(bootstrap), group_id=None, enable_auto_commit=False, client_id="verbund-parked"
    )
    try:
        await consumer.start()
    except KafkaConnectionError as exc:
        await consumer.stop()
        raise KafkaUnavailable(unreachable_message(bootstrap, exc)) from exc
    name = topic("parked")
    entries: list[ParkedEntry] = []
    replayed: set[str] = set()
    try:
        if name not in await consumer.topics():  # also loads the cluster's metadata
            raise KafkaUnavailable(missing_topic_message(name, bootstrap))
        tps = [TopicPartition(name, p) for p in range(load_topics()["parked"].partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        async with asyncio.timeout(timeout):
            while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    for r in records:
                        h = _headers(r)
                        if ParkedHeader.REPLAY_OF in h:
                            replayed.add(f"parked:{h[ParkedHeader.REPLAY_OF]}")
                            continue
                        entries.append(
                            ParkedEntry(
                                id=f"parked:{r.partition}:{r.offset}",
                                parked_by=h.get(ParkedHeader.BY, "?"),
                                origin=f"{h.get(ParkedHeader.TOPIC, '?')}[{h.get(ParkedHeader.PARTITION, '?')}]"
                                f"@{h.get(ParkedHeader.OFFSET, '?')}",
                                key=r.key.decode("utf-8", "replace") if r.key is not None else None,
                                attempts=int(h.get(ParkedHeader.ATTEMPTS, "0") or 0),
                                last_failure=h.get(ParkedHeader.LAST_FAILURE, ""),
                                reason=h.get(ParkedHeader.REASON, ""),
                                truncated=h.get(ParkedHeader.TRUNCATED) == "true",
                                topic=h.get(ParkedHeader.TOPIC),
                                value=r.value,
                                raw_key=r.key,
                            )
                        )
    finally:
        await consumer.stop()
    return [ParkedEntry(**{**e.__dict__, "replayed": e.id in replayed}) for e in entries]


async def read_parked_outbox(database_url: str) -> list[ParkedEntry]:
    """The matcher's outbox rows Kafka refused until they were parked."""
    return [
        ParkedEntry(
            id=f"outbox:{e.seq}",
            parked_by="matcher relay",
            origin=f"{e.event_type} {e.event_id} → {e.topic_role}",
            key=e.key,
            attempts=e.attempts,
            last_failure=e.parked_at.isoformat() if isinstance(e.parked_at, dt.datetime) else str(e.parked_at),
            reason=e.last_error,
        )
        for e in await parked_outbox_events(database_url)
    ]


async def find_parked(bootstrap: str, database_url: str | None) -> Parked:
    entries = await read_parked_topic(bootstrap)
    if database_url:
        entries += await read_parked_outbox(database_url)
    return Parked(entries)


@dataclass
class ReplayResult:
    replayed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


async def replay(bootstrap: str, database_url: str | None, ids: list[str], everything: bool) -> ReplayResult:
    """Send parked records to the topic they came from (the consumers' dedup makes a second replay harmless), and
    let the relay try parked outbox events again. `everything`: all not replayed yet."""
    parked = await find_parked(bootstrap, database_url)
    known = parked.by_id()
    chosen = [e for e in parked.entries if not e.replayed] if everything else []
    result = ReplayResult()
    for wanted in ids:
        if wanted in known:
            chosen.append(known[wanted])
        elif wanted.startswith("outbox:") and not database_url:
            result.skipped[wanted] = "outbox events need --database (or VERBUND_DATABASE_URL)"
        else:
            result.skipped[wanted] = "no such parked record (see `verbund parked list`)"
    records = [e for e in chosen if e.id.startswith("parked:")]
    rows = [e for e in chosen if e.id.startswith("outbox:")]
    if records:
        producer = AIOKafkaProducer(**client_options(bootstrap), acks="all", enable_idempotence=True)
        await producer.start()
        try:
            for e in records:
                if e.truncated or e.topic is None:
                    result.skipped[e.id] = (
                        "the parked copy is cut short (the original was larger than the event limit, so it would "
                        "only be rejected again); nothing to replay"
                    )
                    continue
                await producer.send_and_wait(
                    e.topic, value=e.value, key=e.raw_key, headers=[("verbund.replay_of", e.id.encode())]
                )
                now = dt.datetime.now(dt.UTC).isoformat()
                await producer.send_and_wait(
                    topic("parked"),
                    value=b"",
                    key=e.raw_key,
                    headers=[
                        (ParkedHeader.REPLAY_OF, e.id.removeprefix("parked:").encode()),
                        (ParkedHeader.REPLAYED_AT, now.encode()),
                    ],
                )
                result.replayed.append(e.id)
        finally:
            await producer.stop()
    if rows and database_url:
        await release_parked(database_url, [int(e.id.removeprefix("outbox:")) for e in rows])
        result.replayed.extend(e.id for e in rows)
    return result


def _database(given: str | None) -> str | None:
    return given or os.environ.get("VERBUND_DATABASE_URL") or None


@parked_app.command("list")
def list_command(
    bootstrap: Annotated[str | None, typer.Option(help=BOOTSTRAP_HELP)] = None,
    database: Annotated[str | None, typer.Option(help=DATABASE_HELP)] = None,
) -> None:
    """Show every parked record and outbox event: where it came from, why, how often it was tried."""
    server = resolve_bootstrap(bootstrap)
    try:
        parked = asyncio.run(find_parked(server, _database(database)))
    except KafkaUnavailable as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    console = Console(width=200)
    if not parked.entries:
        console.print("nothing is parked")
        return
    table = Table("id", "parked by", "from", "key", "tries", "last failure", "reason", "replayed")
    for e in parked.entries:
        table.add_row(
            e.id,
            e.parked_by,
            e.origin,
            e.key or "",
            str(e.attempts),
            e.last_failure,
            e.reason,
            "yes" if e.replayed else "",
        )
    console.print(table)
    waiting = sum(1 for e in parked.entries if not e.replayed)
    console.print(f"{waiting} waiting; replay with `verbund parked replay --id ID` or `--all`")


@parked_app.command("replay")
def replay_command(
    ids: Annotated[
        list[str] | None, typer.Option("--id", help="A parked id from `verbund parked list`; repeatable")
    ] = None,
    everything: Annotated[bool, typer.Option("--all", help="Every parked record not replayed yet")] = False,
    bootstrap: Annotated[str | None, typer.Option(help=BOOTSTRAP_HELP)] = None,
    database: Annotated[str | None, typer.Option(help=DATABASE_HELP)] = None,
) -> None:
    """Send parked records again to the topic they came from; let the relay try parked outbox events again.

    Safe to repeat: the services drop an event id they have already handled.
    """
    if not ids and not everything:
        typer.echo("say what to replay: --id ID (repeatable) or --all", err=True)
        raise typer.Exit(2)
    server = resolve_bootstrap(bootstrap)
    try:
        result = asyncio.run(replay(server, _database(database), list(ids or []), everything))
    except KafkaUnavailable as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    for entry in result.replayed:
        typer.echo(f"replayed {entry}")
    for entry, why in result.skipped.items():
        typer.echo(f"not replayed {entry}: {why}", err=True)
    if not result.replayed and not result.skipped:
        typer.echo("nothing to replay")
    if result.skipped:
        raise typer.Exit(1)
