"""A German coordinator reads German throughout: reasons rendered from the shortfall's fields, names instead of ids."""

from __future__ import annotations

import datetime as dt

import notifier_factories as f
from notifier_harness import START, notifier_on_test_broker
from verbund_notifier.app import NotifierApp
from verbund_notifier.clock import Clock
from verbund_notifier.settings import NotifierSettings
from verbund_schemas import (
    CurriculumPublished,
    CurriculumPublishedData,
    Envelope,
    Module,
    RequirementGroup,
    ShortfallReason,
    encode_event,
    topic,
)

from verbund.mailsink import MailSink, text_body

# What the matcher writes into `message`: English, with ids. None of it may reach a German text.
MATCHERS_SENTENCE = (
    "Lena Berger misses 1 module(s) of group G-WAHL. The seats for Laserschweißen at Spritzguss Meier GmbH "
    "in 2027-W20 to 2027-W24 are held by other learners; 1 more seat(s) there would resolve it."
)
IDS = ("G-WAHL", "M-LASER", f.HOST, "L-002", "L-003")
ENGLISH = ("misses", "module(s)", "group", "seat(s)", "held by", "would resolve")


async def send(app: NotifierApp, role: str, event: Envelope) -> None:
    await app.broker.publish(encode_event(event), topic(role), key=f.NETWORK.encode())


def curriculum() -> CurriculumPublished:
    return CurriculumPublished(
        **f.stated(),
        subject=f.NETWORK,
        data=CurriculumPublishedData(
            curriculum_id="C-1",
            name="Verfahrensmechaniker/in",
            modules=[
                Module(module_id="M-CNC", name="CNC-Fräsen", duration_weeks=4),
                Module(module_id="M-LASER", name="Laserschweißen", duration_weeks=5),
            ],
            groups=[RequirementGroup(group_id="G-WAHL", name="Wahleinsätze", module_ids=["M-LASER"], required=1)],
        ),
    )


async def network_with_names(app: NotifierApp) -> None:
    """Directory and curriculum: the learners competing, the host firm, the module and the group have names."""
    for event in f.directory():
        await send(app, "inbound", event)
    await send(app, "inbound", f.learner(learner_id="L-002", name="Max Muster"))
    await send(app, "inbound", f.learner(learner_id="L-003", name="Mia Beispiel"))
    await send(app, "inbound", curriculum())


def shortfall_from_the_matcher() -> f.ShortfallDetected:
    event = f.shortfall()
    return event.model_copy(update={"data": event.data.model_copy(update={"message": MATCHERS_SENTENCE})})


def assert_german_with_names(text: str) -> None:
    assert MATCHERS_SENTENCE not in text
    for word in ENGLISH:
        assert word not in text, f"English {word!r} in: {text}"
    for raw in IDS:
        assert raw not in text, f"id {raw!r} shown although its name is known: {text}"


async def test_german_shortfall_mail_renders_the_reason_itself_and_names_instead_of_ids(
    running: NotifierApp, mail_sink: MailSink
) -> None:
    await network_with_names(running)
    await send(running, "shortfalls", shortfall_from_the_matcher())

    (message,) = await mail_sink.until(1)

    subject, body = str(message["Subject"]), text_body(message)
    assert subject == "Engpass: Lena Berger – Laserschweißen nicht planbar (Plätze belegt)"
    assert "fehlt 1 Abschnitt der Gruppe Wahleinsätze (Abschnitt Laserschweißen)." in body
    assert "Die Plätze für Laserschweißen sind in den passenden Wochen von anderen Lernenden belegt." in body
    assert "Konkurrierende Lernende: Max Muster, Mia Beispiel" in body
    assert "1 Platz für Laserschweißen bei Spritzguss Meier GmbH, 2027-W20 bis 2027-W24" in body
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    for text in (subject, body, html.get_content()):
        assert_german_with_names(text)


async def test_german_digest_lists_open_shortfalls_in_german_with_names(
    settings: NotifierSettings, mail_sink: MailSink
) -> None:
    clock = Clock(START)
    async with notifier_on_test_broker(settings, clock) as app:
        await network_with_names(app)
        await send(app, "shortfalls", shortfall_from_the_matcher())
        await mail_sink.until(1)
        mail_sink.clear()
        clock.set(dt.datetime(2027, 3, 1, 6, 30, tzinfo=dt.UTC))  # Monday 07:30 in Berlin
        assert await app.notifier.scheduling.run_due("digest") == 1
        (digest,) = await mail_sink.until(1)

    body = text_body(digest)
    assert "Lena Berger: Laserschweißen – Plätze belegt. Die Plätze für Laserschweißen sind" in body
    assert_german_with_names(str(digest["Subject"]) + body)


async def test_a_group_the_learner_may_not_fill_is_explained_in_german_by_its_name(
    running: NotifierApp, mail_sink: MailSink
) -> None:
    await network_with_names(running)
    event = f.shortfall()
    data = event.data.model_copy(
        update={
            "module_id": None,
            "reason": ShortfallReason.ELIGIBILITY,
            "message": "Lena Berger needs 1 module(s) from group G-WAHL but is allowed only 0 of them.",
            "competing_learners": [],
            "suggestions": [],
        }
    )
    await send(running, "shortfalls", event.model_copy(update={"data": data}))

    (message,) = await mail_sink.until(1)

    assert str(message["Subject"]) == "Engpass: Lena Berger – Wahleinsätze nicht planbar (nicht zugelassen)"
    assert "Lena Berger ist für zu wenige Abschnitte der Gruppe Wahleinsätze zugelassen" in text_body(message)
    assert_german_with_names(text_body(message))


async def test_a_shortfall_resolved_because_the_learner_withdrew_says_so_not_that_it_is_met(
    running: NotifierApp, mail_sink: MailSink
) -> None:
    await network_with_names(running)
    await send(running, "assignments", f.made())  # a phase not cancelled yet keeps her in the directory
    await send(running, "shortfalls", shortfall_from_the_matcher())
    await mail_sink.until(4)
    mail_sink.clear()
    await send(running, "inbound", f.withdrawn())
    await send(running, "shortfalls", f.resolved())

    (message,) = await mail_sink.until(1)

    body = text_body(message)
    assert str(message["Subject"]) == "Engpass gelöst: Lena Berger – Laserschweißen"
    assert "Lena Berger ist nicht mehr im Verbund; der Bedarf entfällt." in body
    assert "Jetzt ist der Bedarf gedeckt." not in body
    assert_german_with_names(body)


async def test_a_shortfall_resolved_for_a_learner_no_longer_known_claims_neither_met_nor_left(
    running: NotifierApp, mail_sink: MailSink
) -> None:
    await network_with_names(running)
    await send(running, "shortfalls", shortfall_from_the_matcher())
    await mail_sink.until(1)
    await send(running, "inbound", f.withdrawn())  # nothing pending: her contact is deleted at once
    await send(running, "shortfalls", f.resolved())

    messages = await mail_sink.until(2)

    body = text_body(messages[1])
    assert "Im aktuellen Plan besteht der Engpass nicht mehr." in body
    assert "Jetzt ist der Bedarf gedeckt." not in body
