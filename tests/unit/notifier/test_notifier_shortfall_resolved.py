"""A resolved shortfall is announced to the coordinators who were told of it: once, in their language."""

from __future__ import annotations

import notifier_factories as f
from notifier_harness import WebhookServer, deliveries, eventually
from verbund_notifier.app import NotifierApp
from verbund_notifier.domain.messages import Composer
from verbund_notifier.domain.names import Names
from verbund_notifier.domain.parties import Party
from verbund_notifier.domain.rendering import Renderer
from verbund_notifier.domain.shortfalls import AnnouncedShortfall
from verbund_notifier.store.tables import OpenShortfall
from verbund_schemas import Channel, Contact, Envelope, Language, encode_event, topic

from verbund.mailsink import MailSink, text_body

EN_COORDINATOR_EMAIL = "coord-en@example.org"


async def send(app: NotifierApp, role: str, event: Envelope) -> None:
    await app.broker.publish(encode_event(event), topic(role), key=f.NETWORK.encode())


def coordinators(webhook_url: str) -> list[Contact]:
    return [
        Contact(name="Clara Koordinatorin", email=f.COORDINATOR_EMAIL),
        Contact(name="Chris Coordinator", email=EN_COORDINATOR_EMAIL, language=Language.EN),
        Contact(name="Leitstelle", channel=Channel.WEBHOOK, webhook_url=webhook_url),
    ]


async def kinds(app: NotifierApp) -> list[str]:
    return sorted(d.kind for d in await deliveries(app))


async def test_resolved_shortfall_tells_each_coordinator_in_their_language_and_channel(
    running: NotifierApp, mail_sink: MailSink, webhook_server: WebhookServer
) -> None:
    await send(running, "inbound", f.network_of(*coordinators(webhook_server.url)))
    await send(running, "inbound", f.learner())
    await send(running, "shortfalls", f.shortfall())
    await mail_sink.until(2)
    resolved = f.resolved()
    await send(running, "shortfalls", resolved)
    messages = await mail_sink.until(4)

    async def two_webhooks() -> bool:
        return len(webhook_server.requests) == 2

    await eventually(two_webhooks, what="the detected and the resolved webhook")
    (de,) = [m for m in mail_sink.messages_to(f.COORDINATOR_EMAIL) if "gelöst" in str(m["Subject"])]
    assert str(de["Subject"]) == "Engpass gelöst: Lena Berger – M-LASER"
    body = text_body(de)
    assert "Guten Tag Clara Koordinatorin" in body
    assert "Grund war: Plätze belegt" in body
    assert "Die Plätze für M-LASER sind in den passenden Wochen von anderen Lernenden belegt." in body
    assert "Jetzt ist der Bedarf gedeckt." in body
    # The matcher's own sentences are not pasted into the coordinator's language.
    assert "Alle Plätze für Laserschweißen" not in body and "Spritzguss Meier bietet" not in body
    assert "Planversion 2" in body
    html = de.get_body(preferencelist=("html",))
    assert html is not None and "Engpass für Lena Berger" in html.get_content()
    (en,) = [m for m in mail_sink.messages_to(EN_COORDINATOR_EMAIL) if "resolved" in str(m["Subject"])]
    assert str(en["Subject"]) == "Shortfall resolved: Lena Berger – M-LASER"
    assert "The reason was: seats taken" in text_body(en) and "Plan version 2" in text_body(en)
    assert len(messages) == 4
    hook = webhook_server.bodies()[1]
    assert hook["kind"] == "shortfall_resolved"
    assert hook["subject"] == "Engpass gelöst: Lena Berger – M-LASER"
    assert hook["details"]["learner_name"] == "Lena Berger" and hook["details"]["plan_version"] == 2
    assert hook["source_event_id"] == resolved.id and "Lena Berger" in hook["text"]
    async with running.notifier.sessions() as session:
        assert await session.get(OpenShortfall, f.shortfall().data.shortfall_id) is None


async def test_resolved_again_by_redelivery_or_a_new_event_sends_nothing_more(
    running: NotifierApp, mail_sink: MailSink
) -> None:
    await send(running, "inbound", f.network())
    await send(running, "shortfalls", f.shortfall())
    first = f.resolved()
    await send(running, "shortfalls", first)
    await mail_sink.until(2)
    await send(running, "shortfalls", first)  # the same event delivered again
    await send(running, "shortfalls", f.resolved(version=3))  # a repeat under a new id
    await running.notifier.worker.run_once()
    assert [str(m["Subject"]).split(":")[0] for m in mail_sink.messages] == ["Engpass", "Engpass gelöst"]
    assert await kinds(running) == ["shortfall", "shortfall_resolved"]


async def test_resolved_shortfall_that_was_never_announced_sends_nothing(
    running: NotifierApp, mail_sink: MailSink
) -> None:
    await send(running, "inbound", f.network())
    await send(running, "shortfalls", f.resolved())
    await running.notifier.worker.run_once()
    assert mail_sink.messages == []
    assert await deliveries(running) == []


async def test_shortfall_detected_again_after_it_was_resolved_is_announced_and_resolved_again(
    running: NotifierApp, mail_sink: MailSink
) -> None:
    await send(running, "inbound", f.network())
    for event in (f.shortfall(), f.resolved(), f.shortfall(), f.resolved(version=3)):
        await send(running, "shortfalls", event)
    messages = await mail_sink.until(4)
    assert [str(m["Subject"]).split(":")[0] for m in messages] == [
        "Engpass",
        "Engpass gelöst",
        "Engpass",
        "Engpass gelöst",
    ]
    assert "Planversion 3" in text_body(messages[3])


def test_resolved_text_without_the_matchers_sentence_still_says_it_is_met_and_escapes_html() -> None:
    composer = Composer(Renderer(), "Verbund <verbund@example.org>", Language.DE)
    announced = AnnouncedShortfall(
        shortfall_id="S-1",
        network_id=f.NETWORK,
        learner_id=f.LEARNER,
        learner_name="<b>Lena</b> & Co",
        group_id="G-WAHL",
        module_id=None,
        reason="min_seats",
        message="",
        missing=2,
    )
    event = f.resolved("S-1")
    event = event.model_copy(update={"data": event.data.model_copy(update={"module_id": None, "message": ""})})
    coordinator = Party(
        network_id=f.NETWORK,
        role="coordinator",
        party_id=f"{f.NETWORK}.1",
        name="Chris",
        contact_name="Chris",
        email=EN_COORDINATOR_EMAIL,
        language="en",
        channel="email",
    )
    (message,) = composer.shortfall_resolved(event, announced, [coordinator], Names())
    assert message.subject == "Shortfall resolved: <b>Lena</b> & Co – G-WAHL"
    assert "2 phases of group G-WAHL were missing." in message.text
    assert "The reason was: minimum group not reached" in message.text
    assert "This is now met.\n\nPlan version 2" in message.text
    assert "&lt;b&gt;Lena&lt;/b&gt; &amp; Co" in message.html
    assert message.recipient == f"coordinator:{f.NETWORK}.1"
