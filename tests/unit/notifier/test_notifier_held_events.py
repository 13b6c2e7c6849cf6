"""Assignments and shortfalls that overtake the registrations they follow are held, then told, in order."""

from __future__ import annotations

import notifier_factories as f
from notifier_harness import deliveries
from sqlalchemy import func, select
from verbund_notifier.app import NotifierApp
from verbund_notifier.store.tables import AssignmentRecord, DepartedParty, HeldEvent
from verbund_schemas import Envelope, encode_event, topic

from verbund.mailsink import MailSink, calendar_parts


async def send(app: NotifierApp, role: str, event: Envelope) -> None:
    await app.broker.publish(encode_event(event), topic(role), key=f.NETWORK.encode())


async def held(app: NotifierApp) -> int:
    async with app.notifier.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(HeldEvent)) or 0)


async def test_assignment_before_the_learner_registration_is_held_then_told_to_everyone(
    running: NotifierApp, mail_sink: MailSink
) -> None:
    for event in (f.network(), f.host_firm(), f.home_firm()):
        await send(running, "inbound", event)
    await send(running, "assignments", f.made())
    await send(running, "assignments", f.changed())
    assert await held(running) == 2
    assert await deliveries(running) == []
    async with running.notifier.sessions() as session:
        assert await session.get(AssignmentRecord, f.made().data.assignment_id) is None

    await send(running, "inbound", f.learner())

    assert await held(running) == 0
    recipients = sorted(d.recipient for d in await deliveries(running))
    assert recipients.count(f"learner:{f.LEARNER}") == 2  # made, then changed: both, in that order
    learner_mails = (await mail_sink.until(5)) and mail_sink.messages_to(f.LEARNER_EMAIL)
    sequences = sorted(int(calendar_parts(m)[0].walk("VEVENT")[0]["SEQUENCE"]) for m in learner_mails)
    assert sequences == [0, 1]
    async with running.notifier.sessions() as session:
        record = await session.get(AssignmentRecord, f.made().data.assignment_id)
    assert record is not None and record.sequence == 1


async def test_an_assignment_waits_for_the_home_firm_too(running: NotifierApp) -> None:
    for event in (f.network(), f.host_firm(), f.learner()):
        await send(running, "inbound", event)
    await send(running, "assignments", f.made())
    assert await held(running) == 1
    await send(running, "inbound", f.home_firm())
    assert await held(running) == 0
    assert {d.recipient for d in await deliveries(running)} == {
        f"learner:{f.LEARNER}",
        f"firm:{f.HOST}",
        f"firm:{f.HOME}",
    }


async def test_assignments_of_a_learner_who_withdrew_first_do_not_wait(running: NotifierApp) -> None:
    for event in f.directory():
        await send(running, "inbound", event)
    # The withdrawal is read before the assignments that the matcher made earlier: the contact goes at once.
    await send(running, "inbound", f.withdrawn())
    async with running.notifier.sessions() as session:
        assert await session.get(DepartedParty, (f.NETWORK, "learner", f.LEARNER)) is not None
    await send(running, "assignments", f.made())
    await send(running, "assignments", f.cancelled())
    assert await held(running) == 0
    recipients = [d.recipient for d in await deliveries(running)]
    assert f"learner:{f.LEARNER}" not in recipients
    assert recipients.count(f"firm:{f.HOST}") == 2


async def test_registering_again_after_withdrawal_makes_the_learner_reachable_again(running: NotifierApp) -> None:
    for event in f.directory():
        await send(running, "inbound", event)
    await send(running, "inbound", f.withdrawn())
    await send(running, "inbound", f.learner())
    async with running.notifier.sessions() as session:
        assert await session.get(DepartedParty, (f.NETWORK, "learner", f.LEARNER)) is None
    await send(running, "assignments", f.made())
    assert f"learner:{f.LEARNER}" in {d.recipient for d in await deliveries(running)}


async def test_shortfall_before_the_network_configuration_is_held_then_told(
    running: NotifierApp, mail_sink: MailSink
) -> None:
    await send(running, "shortfalls", f.shortfall())
    await send(running, "shortfalls", f.resolved())
    assert await held(running) == 2
    await send(running, "inbound", f.network())
    assert await held(running) == 0
    subjects = [str(m["Subject"]) for m in await mail_sink.until(2)]
    assert len(subjects) == 2, subjects


async def test_held_events_of_one_network_do_not_wait_for_another(running: NotifierApp) -> None:
    for event in (f.network(), f.host_firm(), f.home_firm()):
        await send(running, "inbound", event)
    await send(running, "assignments", f.made())
    other = f.learner()
    other = other.model_copy(update={"subject": "N-OTHER"})
    await send(running, "inbound", other)
    assert await held(running) == 1
