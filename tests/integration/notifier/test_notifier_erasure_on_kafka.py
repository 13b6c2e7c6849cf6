"""On the real broker and PostgreSQL: after LearnerErased the notifier's tables hold nothing of the learner but ids."""

from __future__ import annotations

import notifier_factories as f
import pytest
from database_rows import rows_of
from kafka_tools import produce
from notifier_harness import START, eventually, notifier_settings
from notifier_on_kafka import fresh_group, notifier_on_kafka, start_groups_at_end
from verbund_notifier.clock import Clock
from verbund_notifier.settings import NotifierSettings
from verbund_schemas import (
    AssignmentCancelled,
    AssignmentData,
    AssignmentMade,
    Contact,
    Envelope,
    LearnerErased,
    LearnerErasedData,
    encode_event,
    topic,
)

from verbund.mailsink import MailSink, text_body

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

NAME = "Quirina Vogelsang-Öztürk"
EMAIL = "quirina.vogelsang@example.org"


async def publish(bootstrap: str, role: str, *events: Envelope) -> None:
    for event in events:
        await produce(bootstrap, topic(role), event.network_id, encode_event(event))


def mentioning(tables: dict[str, list[str]], *needles: str) -> dict[str, int]:
    found = {
        name: sum(any(n.casefold() in row.casefold() for n in needles) for row in rows) for name, rows in tables.items()
    }
    return {name: count for name, count in found.items() if count}


async def notifier_from_the_end(kafka_bootstrap: str, database_url: str, mail_sink: MailSink) -> NotifierSettings:
    """A notifier of its own consumer group, which starts at the topics' end: earlier tests' events stay unread."""
    group = fresh_group()
    await start_groups_at_end(kafka_bootstrap, group)
    return notifier_settings(database_url, mail_sink, kafka_bootstrap_servers=kafka_bootstrap, notifier_group_id=group)


def learners_erasure() -> LearnerErased:
    return LearnerErased(id="erase:L-001", time=START, subject=f.NETWORK, data=LearnerErasedData(learner_id=f.LEARNER))


async def learner_placed_and_told(kafka_bootstrap: str, mail_sink: MailSink) -> None:
    """The learner with their contact, placed at the host firm; both are told by mail."""
    learner = f.learner(Contact(name=NAME, email=EMAIL), name=NAME)
    await publish(kafka_bootstrap, "inbound", *f.directory()[:-1], learner)
    made = AssignmentMade(subject=f.NETWORK, data=AssignmentData(**{**f.phase(), "learner_name": NAME}))
    await publish(kafka_bootstrap, "assignments", made)
    await mail_sink.until(2, within=60)


async def test_erasure_deletes_the_learners_contact_messages_phases_and_reminders_and_keeps_an_id_only_record(
    kafka_bootstrap: str, fresh_postgres_url: str, mail_sink: MailSink
) -> None:
    settings = await notifier_from_the_end(kafka_bootstrap, fresh_postgres_url, mail_sink)
    erasure = learners_erasure()
    async with notifier_on_kafka(settings, Clock(START)):
        await learner_placed_and_told(kafka_bootstrap, mail_sink)
        before = await rows_of(fresh_postgres_url)
        assert mentioning(before, NAME, EMAIL), "the test must see the learner's data before the erasure"
        assert any(f.LEARNER in row for row in before["notifier_jobs"]), "reminders were scheduled for the phase"

        await publish(kafka_bootstrap, "inbound", erasure, erasure)

        async def erased() -> bool:
            tables = await rows_of(fresh_postgres_url)
            return bool(tables["erasures"]) and not any(f.LEARNER in row for row in tables["notifier_jobs"])

        await eventually(erased, within=60, what="the erasure applied and the reminders dropped")
        # The matcher's cancellation that follows an erasure names nobody: the firm is told the learner's id.
        mail_sink.clear()
        data = {**f.phase(), "learner_name": "", "reason": "", "reason_code": "learner_withdrawn"}
        await publish(kafka_bootstrap, "assignments", AssignmentCancelled(subject=f.NETWORK, data=data))
        to_host = await mail_sink.until(1, within=60)
        after = await rows_of(fresh_postgres_url)

    assert mentioning(after, NAME, EMAIL, "Quirina", "Vogelsang") == {}
    assert [m["To"] for m in to_host] == [f.HOST_EMAIL] and f.LEARNER in text_body(to_host[0])
    assert len(after["erasures"]) == 1 and "L-001" in after["erasures"][0]
    assert any(f.LEARNER in row for row in after["departed_parties"])
    assert mentioning(after, f.HOST_EMAIL), "other people's data stays"


async def test_a_notifier_that_was_down_during_the_erasure_completes_it_when_it_starts_again(
    kafka_bootstrap: str, fresh_postgres_url: str, mail_sink: MailSink
) -> None:
    settings = await notifier_from_the_end(kafka_bootstrap, fresh_postgres_url, mail_sink)
    async with notifier_on_kafka(settings, Clock(START)):
        await learner_placed_and_told(kafka_bootstrap, mail_sink)
    # Down: the erasure waits on the topic at the notifier's committed offset.
    await publish(kafka_bootstrap, "inbound", learners_erasure())
    assert mentioning(await rows_of(fresh_postgres_url), NAME, EMAIL)

    async with notifier_on_kafka(settings, Clock(START)):

        async def erased() -> bool:
            return bool((await rows_of(fresh_postgres_url))["erasures"])

        await eventually(erased, within=60, what="the erasure applied after the restart")
        after = await rows_of(fresh_postgres_url)

    assert mentioning(after, NAME, EMAIL, "Quirina", "Vogelsang") == {}
    assert not any(f.LEARNER in row for row in after["notifier_jobs"])
