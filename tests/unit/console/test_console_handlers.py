"""The console's topic handlers on FastStream's test broker: every consumed topic reaches the read model once."""

from __future__ import annotations

from pathlib import Path

from console_events import assignment_made, learner_registered, rejected, shortfall_detected
from faststream.kafka import TestKafkaBroker
from verbund_console.app import build
from verbund_console.settings import ConsoleSettings
from verbund_console.store.database import migrate
from verbund_schemas import encode_event, topic


async def test_each_consumed_topic_folds_into_the_read_model_and_junk_is_skipped(tmp_path: Path) -> None:
    settings = ConsoleSettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", consume=True)
    await migrate(settings.database_url)
    console = build(settings)
    made = assignment_made("n1", "anna", "M1", "f1", "2027-W10", "2027-W19")
    try:
        async with TestKafkaBroker(console.broker) as broker:
            await broker.publish(encode_event(learner_registered("n1", "anna", "Anna")), topic("inbound"), key=b"n1")
            await broker.publish(encode_event(made), topic("assignments"), key=b"n1")
            await broker.publish(encode_event(made), topic("assignments"), key=b"n1")  # redelivered
            await broker.publish(encode_event(shortfall_detected("n1", "ben", "M2")), topic("shortfalls"), key=b"n1")
            await broker.publish(encode_event(rejected("n1")), topic("rejected"), key=b"n1")
            await broker.publish(b"not json", topic("inbound"), key=b"n1")

        changes = await console.read_model.changes_since("n1", 0)
        rows = await console.read_model.overview_rows("n1")
    finally:
        await console.engine.dispose()

    assert [c.event_type for c in changes] == [
        "LearnerRegistered",
        "AssignmentMade",
        "ShortfallDetected",
        "EventRejected",
    ]
    assert [a.assignment_id for a in rows.assignments] == ["n1:anna:M1"]
    assert (len(rows.problems), rows.rejected_24h, console.ingest.skipped) == (1, 1, 1)


async def test_a_consumed_batch_folds_each_event_once_in_order_and_skips_its_junk(tmp_path: Path) -> None:
    settings = ConsoleSettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'c.db'}", consume=False)
    await migrate(settings.database_url)
    console = build(settings)
    made = encode_event(assignment_made("n1", "anna", "M1", "f1", "2027-W10", "2027-W19"))
    batch = [
        (encode_event(learner_registered("n1", "anna", "Anna Berg")), "verbund.inbound:0:1"),
        (made, "verbund.assignments:0:1"),
        (made, "verbund.assignments:0:2"),  # the same event twice in one batch
        (b"not json", "verbund.assignments:0:3"),
        (encode_event(shortfall_detected("n1", "ben", "M2")), "verbund.shortfalls:0:1"),
    ]
    try:
        first = await console.ingest.records(batch)
        again = await console.ingest.records(batch)  # the whole batch redelivered after a crash before the commit
        changes = await console.read_model.changes_since("n1", 0)
        rows = await console.read_model.overview_rows("n1")
    finally:
        await console.engine.dispose()

    assert (first, again) == (3, 0)
    assert [(c.seq, c.event_type) for c in changes] == [
        (1, "LearnerRegistered"),
        (2, "AssignmentMade"),
        (3, "ShortfallDetected"),
    ]
    # The learner's own registration names her, not the assignment that came after it in the batch.
    assert [learner.name for learner in rows.learners if learner.learner_id == "anna"] == ["Anna Berg"]
    assert console.ingest.skipped == 2
