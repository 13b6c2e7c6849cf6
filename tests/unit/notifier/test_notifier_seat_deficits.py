"""Coordinators are told which weeks a firm's module falls below its minimum group, what it means and what helps."""

from __future__ import annotations

import notifier_factories as f
from deficit_factories import DEFICIT, detected, resolved
from notifier_harness import deliveries
from verbund_notifier.app import NotifierApp
from verbund_notifier.store.tables import OpenDeficit
from verbund_schemas import Contact, DeficitSpan, Envelope, Language, encode_event, topic

from verbund.mailsink import MailSink, text_body

EN_COORDINATOR_EMAIL = "coord-en@example.org"


async def send(app: NotifierApp, role: str, event: Envelope) -> None:
    await app.broker.publish(encode_event(event), topic(role), key=f.NETWORK.encode())


async def test_a_coordinator_is_told_in_german_which_weeks_are_below_the_minimum_and_what_to_do(
    running: NotifierApp, mail_sink: MailSink
) -> None:
    await send(
        running,
        "inbound",
        f.network_of(
            Contact(name="Clara Koordinatorin", email=f.COORDINATOR_EMAIL),
            Contact(name="Chris Coordinator", email=EN_COORDINATOR_EMAIL, language=Language.EN),
        ),
    )
    await send(running, "shortfalls", detected())
    await mail_sink.until(2)
    (de,) = mail_sink.messages_to(f.COORDINATOR_EMAIL)
    assert str(de["Subject"]) == "Mindestgruppe nicht erreicht: CNC-Fräsen bei Spritzguss Meier GmbH"
    body = text_body(de)
    assert "Guten Tag Clara Koordinatorin" in body
    assert "bei Spritzguss Meier GmbH für CNC-Fräsen" in body
    assert "2027-W10 bis 2027-W12: 1 von mindestens 3 Lernenden eingeplant, es fehlen 2 je Woche" in body
    assert "2027-W14: 2 von mindestens 3 Lernenden eingeplant, es fehlt 1 je Woche" in body
    assert "Insgesamt fehlen 7 Lernendenwochen." in body
    assert "käme die Gruppe bei Spritzguss Meier GmbH nicht zustande" in body
    assert "weitere Lernende für CNC-Fräsen" in body and "kleinere Mindestgruppe" in body
    assert "Planversion 1" in body
    # German throughout: none of the matcher's English sentence, no English words of the template.
    assert "offer" not in body and "minimum" not in body.lower()
    html = de.get_body(preferencelist=("html",))
    assert html is not None and "2027-W10 bis 2027-W12" in html.get_content()
    (en,) = mail_sink.messages_to(EN_COORDINATOR_EMAIL)
    assert str(en["Subject"]) == "Minimum group not reached: CNC-Fräsen at Spritzguss Meier GmbH"
    assert "2027-W10 to 2027-W12: 1 planned of a minimum of 3, 2 missing a week" in text_body(en)
    async with running.notifier.sessions() as session:
        stored = await session.get(OpenDeficit, DEFICIT)
    assert stored is not None and stored.missing_learner_weeks == 7 and len(stored.spans) == 2


async def test_a_deficit_is_told_once_per_event_then_again_when_its_weeks_change_and_resolved_once(
    running: NotifierApp, mail_sink: MailSink
) -> None:
    await send(running, "inbound", f.network())
    first = detected()
    await send(running, "shortfalls", first)
    await send(running, "shortfalls", first)  # redelivered: the same event id
    await mail_sink.until(1)
    narrower = detected(DeficitSpan(first_week="2027-W10", last_week="2027-W10", minimum=3, planned=2), version=2)
    await send(running, "shortfalls", narrower)
    done = resolved(version=3)
    await send(running, "shortfalls", done)
    await send(running, "shortfalls", done)  # redelivered
    await send(running, "shortfalls", resolved(version=4))  # a repeat under a new id: nothing left to resolve
    messages = await mail_sink.until(3)
    await running.notifier.worker.run_once()
    assert [str(m["Subject"]).split(":")[0] for m in mail_sink.messages] == [
        "Mindestgruppe nicht erreicht",
        "Mindestgruppe nicht erreicht",
        "Mindestgruppe erreicht",
    ]
    assert "2027-W10: 2 von mindestens 3" in text_body(messages[1]) and "2027-W12" not in text_body(messages[1])
    gone = text_body(messages[2])
    assert "in keiner Woche mehr unter der Mindestgruppe" in gone
    assert "2027-W10: 2 von mindestens 3 Lernenden" in gone and "Planversion 3" in gone
    assert sorted(d.kind for d in await deliveries(running)) == [
        "seat_deficit",
        "seat_deficit",
        "seat_deficit_resolved",
    ]
    async with running.notifier.sessions() as session:
        assert await session.get(OpenDeficit, DEFICIT) is None


async def test_the_weekly_digest_lists_open_deficits_and_drops_resolved_ones(
    running: NotifierApp, mail_sink: MailSink
) -> None:
    await send(running, "inbound", f.network())
    await send(running, "shortfalls", detected())
    await mail_sink.until(1)
    mail_sink.clear()
    assert await running.notifier.service.send_digest(f.NETWORK) == 1
    (digest,) = await mail_sink.until(1)
    assert "1 Mindestgruppe nicht erreicht" in str(digest["Subject"])
    body = text_body(digest)
    assert "Wochen unter der Mindestgruppe (1):" in body
    assert (
        "Spritzguss Meier GmbH, CNC-Fräsen: 2027-W10 bis 2027-W12 (1 von mindestens 3); 2027-W14 (2 von mindestens 3)"
        in body
    )

    await send(running, "shortfalls", resolved())
    async with running.notifier.sessions() as session:
        assert await session.get(OpenDeficit, DEFICIT) is None
