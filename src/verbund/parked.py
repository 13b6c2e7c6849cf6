"""`verbund parked`: list what was set aside after its retries ran out, and replay it."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated

import typer
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaConnectionError
from aiokafka.structs import ConsumerRecord
from rich.console import Console
from rich.table import Table
from verbund_runtime.kafka import client_options
from verbund_schemas import (
    OUTBOX_ORIGIN,
    OutboxReplayRequested,
    OutboxReplayRequestedData,
    ParkedHeader,
    encode_event,
    load_topics,
    topic,
)

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


@dataclass(frozen=True)
class OutboxEvent:
    """What the notice of a parked outbox event names: the matcher answers a replay request with these."""

    seq: int
    event_id: str
    parked_at: dt.datetime


@dataclass(frozen=True)
class ParkedEntry:
    """One parked thing on the parked topic (`parked:<partition>:<offset>`): a consumed record, or the notice of
    an outbox event the matcher's relay parked (`outbox` set; the event itself stays in the matcher's outbox)."""

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
    outbox: OutboxEvent | None = None


@dataclass
class Parked:
    entries: list[ParkedEntry] = field(default_factory=list)

    def by_id(self) -> dict[str, ParkedEntry]:
        return {e.id: e for e in self.entries}


def _headers(record: object) -> dict[str, str]:
    return {k: v.decode("utf-8", "replace") for k, v in (getattr(record, "headers", None) or ())}


def _outbox_event(h: dict[str, str]) -> OutboxEvent | None:
    """The outbox event a notice names; None for a consumed record (or a notice too damaged to replay)."""
    if h.get(ParkedHeader.ORIGIN) != OUTBOX_ORIGIN:
        return None
    try:
        return OutboxEvent(
            seq=int(h[ParkedHeader.OUTBOX_SEQ]),
            event_id=h[ParkedHeader.EVENT_ID],
            parked_at=dt.datetime.fromisoformat(h[ParkedHeader.LAST_FAILURE]),
        )
    except (KeyError, ValueError):
        return None


def parked_entry(r: ConsumerRecord[bytes, bytes], h: dict[str, str]) -> ParkedEntry:
    key = r.key
    outbox = _outbox_event(h)
    if outbox is not None or h.get(ParkedHeader.ORIGIN) == OUTBOX_ORIGIN:
        parked_by = "matcher relay"
        origin = (
            f"outbox #{h.get(ParkedHeader.OUTBOX_SEQ, '?')} {h.get(ParkedHeader.EVENT_TYPE, '?')} "
            f"{h.get(ParkedHeader.EVENT_ID, '?')} → {h.get(ParkedHeader.TOPIC, '?')}"
        )
    else:
        parked_by = h.get(ParkedHeader.BY, "?")
        origin = (
            f"{h.get(ParkedHeader.TOPIC, '?')}[{h.get(ParkedHeader.PARTITION, '?')}]@{h.get(ParkedHeader.OFFSET, '?')}"
        )
    return ParkedEntry(
        id=f"parked:{r.partition}:{r.offset}",
        parked_by=parked_by,
        origin=origin,
        key=key.decode("utf-8", "replace") if key is not None else None,
        attempts=int(h.get(ParkedHeader.ATTEMPTS, "0") or 0),
        last_failure=h.get(ParkedHeader.LAST_FAILURE, ""),
        reason=h.get(ParkedHeader.REASON, ""),
        truncated=h.get(ParkedHeader.TRUNCATED) == "true",
        topic=h.get(ParkedHeader.TOPIC),
        value=r.value,
        raw_key=key,
        outbox=outbox,
    )


def _latest_notice_only(entries: list[ParkedEntry]) -> list[ParkedEntry]:
    """An outbox event parked again (after a replay, or after a crash between its notice and the commit) has a
    newer notice; only that one stands for it, as consumers downstream keep one event per id."""
    latest = {e.outbox.event_id: e.id for e in entries if e.outbox is not None}
    return [e for e in entries if e.outbox is None or latest[e.outbox.event_id] == e.id]


async def read_parked_topic(bootstrap: str, timeout: float = 10.0) -> list[ParkedEntry]:  # noqa: ASYNC109
    """Every parked record on the topic, oldest first, each marked replayed once a replay marker (or a replay
    request, for an outbox event) names it."""
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
                        entries.append(parked_entry(r, h))
    finally:
        await consumer.stop()
    return [ParkedEntry(**{**e.__dict__, "replayed": e.id in replayed}) for e in _latest_notice_only(entries)]


async def find_parked(bootstrap: str) -> Parked:
    return Parked(await read_parked_topic(bootstrap))


def replay_request(entry: ParkedEntry, outbox: OutboxEvent, now: dt.datetime) -> OutboxReplayRequested:
    """The request that asks the matcher to hand a parked outbox event back to its relay."""
    return OutboxReplayRequested(
        source="verbund-cli",
        subject=entry.key or "unknown",
        time=now,
        data=OutboxReplayRequestedData(
            outbox_seq=outbox.seq,
            event_id=outbox.event_id,
            parked_at=outbox.parked_at,
            parked_record=entry.id.removeprefix("parked:"),
        ),
    )


@dataclass
class ReplayResult:
    replayed: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


async def replay(bootstrap: str, ids: list[str], everything: bool) -> ReplayResult:
    """Send parked records to the topic they came from (the consumers' dedup makes a second replay harmless), and
    ask the matcher to let its relay try parked outbox events again. `everything`: all not replayed yet."""
    parked = await find_parked(bootstrap)
    known = parked.by_id()
    chosen = [e for e in parked.entries if not e.replayed] if everything else []
    result = ReplayResult()
    for wanted in ids:
        if wanted in known:
            chosen.append(known[wanted])
        else:
            result.skipped[wanted] = "no such parked record (see `verbund parked list`)"
    if chosen:
        producer = AIOKafkaProducer(**client_options(bootstrap), acks="all", enable_idempotence=True)
        await producer.start()
        try:
            for e in chosen:
                now = dt.datetime.now(dt.UTC)
                marker = [
                    (ParkedHeader.REPLAY_OF, e.id.removeprefix("parked:").encode()),
                    (ParkedHeader.REPLAYED_AT, now.isoformat().encode()),
                ]
                if e.outbox is not None:
                    # The event is in the matcher's outbox, not here: the request (which is also the marker) asks
                    # the matcher to hand it back to its relay, which publishes it under its own id.
                    request = encode_event(replay_request(e, e.outbox, now))
                    await producer.send_and_wait(topic("parked"), value=request, key=e.raw_key, headers=marker)
                    result.replayed.append(e.id)
                    continue
                if e.parked_by == "matcher relay":
                    result.skipped[e.id] = "the notice does not say which outbox event it is; nothing to replay"
                    continue
                if e.truncated or e.topic is None:
                    result.skipped[e.id] = (
                        "the parked copy is cut short (the original was larger than the event limit, so it would "
                        "only be rejected again); nothing to replay"
                    )
                    continue
                await producer.send_and_wait(
                    e.topic, value=e.value, key=e.raw_key, headers=[("verbund.replay_of", e.id.encode())]
                )
                await producer.send_and_wait(topic("parked"), value=b"", key=e.raw_key, headers=marker)
                result.replayed.append(e.id)
        finally:
            await producer.stop()
    return result


@parked_app.command("list")
def list_command(
    bootstrap: Annotated[str | None, typer.Option(help=BOOTSTRAP_HELP)] = None,
) -> None:
    """Show every parked record and outbox event: where it came from, why, how often it was tried."""
    server = resolve_bootstrap(bootstrap)
    try:
        parked = asyncio.run(find_parked(server))
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
) -> None:
    """Send parked records again to the topic they came from; ask the matcher to try parked outbox events again.

    Safe to repeat: the services drop an event id they have already handled.
    """
    if not ids and not everything:
        typer.echo("say what to replay: --id ID (repeatable) or --all", err=True)
        raise typer.Exit(2)
    server = resolve_bootstrap(bootstrap)
    try:
        result = asyncio.run(replay(server, list(ids or []), everything))
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
