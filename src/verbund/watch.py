"""`verbund watch`: follow assignments, shortfalls (and deliveries) as they are published, as a live table."""

from __future__ import annotations

import asyncio
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import typer
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaConnectionError
from rich.console import Console
from rich.live import Live
from verbund_runtime.kafka import client_options
from verbund_schemas import InvalidEvent, PersonalDataErased, decode_event, decode_opened, topic

from verbund.kafka_access import BOOTSTRAP_HELP, KafkaUnavailable, missing_topic_message, resolve_bootstrap
from verbund.kafka_access import unreachable_message as _unreachable
from verbund.sealing import keyring_from_environment
from verbund.watch_view import WatchRow, row_for, rows_that_fit, table_of


@dataclass(frozen=True)
class WatchOptions:
    bootstrap: str
    topics: tuple[str, ...]
    network: str | None = None
    from_beginning: bool = False
    max_events: int | None = None
    timeout: float | None = None


@dataclass
class WatchResult:
    shown: int = 0
    undecodable: int = 0
    reached_max: bool = False


async def assigned_consumer(options: WatchOptions) -> AIOKafkaConsumer:
    """A consumer without a consumer group, assigned every partition of the watched topics.

    No group: watching must never take partitions away from the services or commit offsets for anyone.
    """
    consumer = AIOKafkaConsumer(
        **client_options(options.bootstrap),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest" if options.from_beginning else "latest",
        client_id="verbund-watch",
    )
    try:
        await consumer.start()
    except KafkaConnectionError as exc:
        await consumer.stop()
        raise KafkaUnavailable(_unreachable(options.bootstrap, exc)) from exc
    try:
        existing = await consumer.topics()
        for name in options.topics:
            if name not in existing:
                raise KafkaUnavailable(missing_topic_message(name, options.bootstrap))
        # Without a group, subscribing assigns this consumer every partition of the topics.
        consumer.subscribe(topics=list(options.topics))
        partitions = await _wait_for_assignment(consumer, set(options.topics))
        if options.from_beginning:
            await consumer.seek_to_beginning(*partitions)
        else:
            await consumer.seek_to_end(*partitions)
        # Resolve every position now, so that "watching" is printed only once nothing new can be missed.
        for tp in partitions:
            await consumer.position(tp)
    except BaseException:
        await consumer.stop()
        raise
    return consumer


async def _wait_for_assignment(consumer: AIOKafkaConsumer, topics: set[str]) -> list[TopicPartition]:
    for _ in range(300):
        assigned = consumer.assignment()
        if topics <= {tp.topic for tp in assigned}:
            return sorted(assigned)
        await asyncio.sleep(0.05)
    raise KafkaUnavailable(f"Kafka did not hand out the partitions of {', '.join(sorted(topics))} in time; try again.")


def _key_matches(record: ConsumerRecord[bytes, bytes], network: str | None) -> bool:
    if network is None or record.key is None:
        return True
    return bool(record.key == network.encode("utf-8"))


async def follow(
    options: WatchOptions,
    on_row: Callable[[WatchRow], None],
    on_problem: Callable[[str], None],
    on_ready: Callable[[], None] = lambda: None,
) -> WatchResult:
    """Consume until max_events rows were shown, the timeout passed, or the task is cancelled (Ctrl-C)."""
    consumer = await assigned_consumer(options)
    # Names sealed on the topics are shown opened where the key endpoint is configured (ADR 0004).
    keyring = keyring_from_environment()
    result = WatchResult()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + options.timeout if options.timeout is not None else None
    try:
        on_ready()
        while True:
            wait = 0.5 if deadline is None else max(0.0, min(0.5, deadline - loop.time()))
            batches = await consumer.getmany(timeout_ms=int(wait * 1000), max_records=500)
            for tp, records in batches.items():
                for record in records:
                    if not _key_matches(record, options.network):
                        continue
                    try:
                        if keyring is None:
                            event = decode_event(record.value or b"")
                        else:
                            event = await decode_opened(record.value or b"", keyring)
                    except PersonalDataErased:
                        on_problem(f"{tp.topic}[{tp.partition}]@{record.offset} is about an erased learner")
                        continue
                    except InvalidEvent as exc:
                        result.undecodable += 1
                        on_problem(f"{tp.topic}[{tp.partition}]@{record.offset} is not a Verbund event: {exc.reason}")
                        continue
                    if options.network is not None and event.subject != options.network:
                        continue
                    row = row_for(event)
                    if row is None:
                        continue
                    on_row(row)
                    result.shown += 1
                    if options.max_events is not None and result.shown >= options.max_events:
                        result.reached_max = True
                        return result
            if deadline is not None and loop.time() >= deadline:
                return result
    finally:
        await consumer.stop()
        if keyring is not None:
            await keyring.close()


def _plain_printer(row: WatchRow) -> None:
    # One line per event, flushed at once, so a pipe or a test sees it as it arrives.
    sys.stdout.write(row.plain() + "\n")
    sys.stdout.flush()


async def _run_live(options: WatchOptions, console: Console, err: Console, title: str) -> WatchResult:
    rows: deque[WatchRow] = deque(maxlen=rows_that_fit(console.width, console.height))
    with Live(table_of([], title, console.width), console=console, refresh_per_second=4, transient=False) as live:

        def show(row: WatchRow) -> None:
            rows.append(row)
            live.update(table_of(list(rows), title, console.width))

        return await follow(options, show, lambda text: err.print(f"[yellow]{text}[/]", highlight=False))


def watch_command(
    network: Annotated[str | None, typer.Option("--network", "-n", help="Only this network (its id)")] = None,
    notifications: Annotated[
        bool, typer.Option("--notifications", help="Also show messages delivered or failed (notifier's log)")
    ] = False,
    from_beginning: Annotated[
        bool, typer.Option("--from-beginning", help="Start with the oldest events kept, not only new ones")
    ] = False,
    bootstrap: Annotated[str | None, typer.Option("--bootstrap", "-b", help=BOOTSTRAP_HELP)] = None,
    max_events: Annotated[
        int | None, typer.Option("--max-events", min=1, help="Stop after showing this many events")
    ] = None,
    timeout: Annotated[float | None, typer.Option("--timeout", min=0.0, help="Stop after this many seconds")] = None,
) -> None:
    """Show assignments, shortfalls and weeks below a minimum as the matcher publishes them (Ctrl-C stops).

    On a terminal this is a live table; otherwise one plain line per event.
    With --max-events, the exit status is 1 when the timeout ends the watch first.
    """
    roles = ["assignments", "shortfalls"] + (["notifications"] if notifications else [])
    options = WatchOptions(
        bootstrap=resolve_bootstrap(bootstrap),
        topics=tuple(topic(role) for role in roles),
        network=network,
        from_beginning=from_beginning,
        max_events=max_events,
        timeout=timeout,
    )
    console = Console()
    err = Console(stderr=True, soft_wrap=True)
    scope = f"network {network}" if network else "all networks"
    title = f"{', '.join(options.topics)} at {options.bootstrap} — {scope}"
    try:
        if console.is_terminal:
            result = asyncio.run(_run_live(options, console, err, title))
        else:
            result = asyncio.run(
                follow(
                    options,
                    _plain_printer,
                    lambda text: err.print(text, highlight=False, markup=False),
                    lambda: err.print(f"watching {title}", highlight=False, markup=False),
                )
            )
    except KafkaUnavailable as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(2) from exc
    except KeyboardInterrupt:
        err.print("stopped.", highlight=False)
        return
    if max_events is not None and not result.reached_max:
        err.print(
            f"stopped after {timeout} s with {result.shown} of {max_events} events shown.",
            highlight=False,
        )
        raise typer.Exit(1)
