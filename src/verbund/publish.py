"""`verbund publish`: validate a file of inbound events completely, then send it to the inbound topic in order."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError, UnknownTopicOrPartitionError
from rich.console import Console
from rich.table import Table
from verbund_runtime.kafka import client_options
from verbund_runtime.keyring import KeyServiceUnavailable
from verbund_schemas import Envelope, Keyring, PersonalDataErased, topic

from verbund.event_file import EventFile, read_event_file
from verbund.kafka_access import (
    BOOTSTRAP_HELP,
    KafkaUnavailable,
    missing_topic_message,
    resolve_bootstrap,
    unreachable_message,
)
from verbund.sealing import carries_personal_data, keyring_from_environment, wire_value


@dataclass(frozen=True)
class Sent:
    """Where each event went: topic, and the partition/offset per event in file order."""

    topic: str
    positions: list[tuple[int, int]]


async def send_events(events: list[Envelope], bootstrap: str, topic_name: str, keyring: Keyring | None = None) -> Sent:
    """Produce the events in order, keyed by network id, with acks from all in-sync replicas and idempotence.

    Idempotence keeps retries from duplicating or reordering a network's events on its partition. With a
    `keyring`, names and contacts are sealed first, all of them before anything is sent.
    """
    values = [await wire_value(e, keyring) for e in events]
    producer = AIOKafkaProducer(
        **client_options(bootstrap),
        acks="all",
        enable_idempotence=True,
        client_id="verbund-cli",
        request_timeout_ms=15_000,
    )
    try:
        await producer.start()
    except KafkaConnectionError as exc:
        await producer.stop()
        raise KafkaUnavailable(unreachable_message(bootstrap, exc)) from exc
    try:
        try:
            await producer.partitions_for(topic_name)
        except UnknownTopicOrPartitionError as exc:
            raise KafkaUnavailable(missing_topic_message(topic_name, bootstrap)) from exc
        futures = [
            await producer.send(topic_name, value=value, key=e.subject.encode("utf-8"))
            for e, value in zip(events, values, strict=True)
        ]
        metadata = await asyncio.gather(*futures)
        return Sent(topic_name, [(m.partition, m.offset) for m in metadata])
    except KafkaError as exc:
        raise KafkaUnavailable(
            f"Kafka at {bootstrap} did not accept the events ({exc.__class__.__name__}: {exc}); "
            "some may have been written before the failure — check with `verbund watch --from-beginning`."
        ) from exc
    finally:
        await producer.stop()


def summary_table(events: list[Envelope], title: str) -> Table:
    """Counts per event type and per network, in the order they first appear in the file."""
    by_type = Counter(e.type for e in events)
    by_network = Counter(e.subject for e in events)
    table = Table(title=title, show_lines=False)
    table.add_column("")
    table.add_column("name")
    table.add_column("events", justify="right")
    for name, count in by_type.items():
        table.add_row("type", name, str(count))
    for name, count in by_network.items():
        table.add_row("network", name, str(count))
    table.add_row("total", "", str(len(events)), style="bold")
    return table


def report_problems(parsed: EventFile, file: Path, console: Console) -> None:
    count = len(parsed.problems)
    console.print(
        f"[bold red]{file}: {count} record{'s' if count != 1 else ''} cannot be sent; nothing was sent.[/]",
        highlight=False,
    )
    for problem in parsed.problems:
        console.print(problem.render(str(file)), highlight=False, markup=False)
    console.print("Fix these lines and run the command again.", highlight=False)


def publish_command(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="Inbound events: JSON Lines (.jsonl) or YAML (.yaml)"
        ),
    ],
    bootstrap: Annotated[str | None, typer.Option("--bootstrap", "-b", help=BOOTSTRAP_HELP)] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Validate and summarise; send nothing")] = False,
) -> None:
    """Validate every event in FILE, then send them in file order to the inbound topic (key = network id).

    Envelope fields a record leaves out are filled in: id (a new UUID), time (now) and source (verbund-cli).
    If any record is invalid, every problem is listed with its line number and nothing is sent.
    """
    out = Console(soft_wrap=True)
    err = Console(stderr=True, soft_wrap=True)
    parsed = read_event_file(file)
    if not parsed.ok:
        report_problems(parsed, file, err)
        raise typer.Exit(1)
    events = [event for _, event in parsed.events]
    topic_name = topic("inbound")
    if dry_run:
        out.print(summary_table(events, f"{file}: {len(events)} valid events (dry run, nothing sent)"))
        return
    address = resolve_bootstrap(bootstrap)

    async def send() -> Sent:
        keyring = keyring_from_environment()
        if keyring is None and carries_personal_data(events):
            err.print(
                "[yellow]note:[/] names and contacts are sent in clear text; set VERBUND_KEY_SERVICE_URL and "
                "VERBUND_KEY_SERVICE_TOKEN to seal them (docs/data-protection.md)",
                highlight=False,
            )
        try:
            return await send_events(events, address, topic_name, keyring)
        finally:
            if keyring is not None:
                await keyring.close()

    try:
        sent = asyncio.run(send())
    except (KafkaUnavailable, KeyServiceUnavailable, PersonalDataErased) as exc:
        err.print(f"[bold red]error:[/] {exc}; nothing was sent", highlight=False)
        raise typer.Exit(2) from exc
    out.print(summary_table(events, f"sent {len(events)} events to {sent.topic} at {address}"))
