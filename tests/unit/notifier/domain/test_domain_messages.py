"""Who is told what, in which language: the composer on plain parties and events, without a database."""

from __future__ import annotations

from dataclasses import replace

import notifier_factories as f
import pytest
from deficit_factories import detected
from deficit_factories import resolved as deficit_resolved
from domain_parties import (
    LANGUAGES,
    STAMP,
    composer,
    coordinator,
    home,
    host,
    learner,
    other,
    phase,
)
from icalendar import Calendar
from verbund_notifier.domain.digest import digest_context
from verbund_notifier.domain.names import Names
from verbund_notifier.domain.outgoing import Source
from verbund_notifier.domain.shortfalls import AnnouncedDeficit, AnnouncedShortfall
from verbund_schemas import DeficitSpan, Language

SUBJECTS = {
    ("made", Language.DE): ("Ihr nächster Einsatz: CNC-Fräsen", "Lena Berger kommt zu Ihnen", "Ihr Auszubildender"),
    ("made", Language.EN): ("Your next phase: CNC-Fräsen", "Lena Berger is coming to you", "Your apprentice"),
    ("changed", Language.DE): ("Geändert: CNC-Fräsen", "Geändert: Lena Berger", "Geändert: Lena Berger"),
    ("changed", Language.EN): ("Changed: CNC-Fräsen", "Changed: Lena Berger", "Changed: Lena Berger"),
    ("cancelled", Language.DE): ("Abgesagt: CNC-Fräsen", "Abgesagt: Lena Berger", "Abgesagt: Lena Berger"),
    ("cancelled", Language.EN): ("Cancelled: CNC-Fräsen", "Cancelled: Lena Berger", "Cancelled: Lena Berger"),
}
EVENTS = {"made": f.made, "changed": f.changed, "cancelled": f.cancelled}
METHODS = {"made": "REQUEST", "changed": "REQUEST", "cancelled": "CANCEL"}


@pytest.mark.parametrize("language", LANGUAGES, ids=lambda language: language.value)
@pytest.mark.parametrize("change", ["made", "changed", "cancelled"])
def test_each_assignment_event_tells_learner_host_and_home_firm_in_their_language(
    change: str, language: Language
) -> None:
    event = EVENTS[change]()
    out = composer().assignment(event, phase(1), learner(language), host(language), home(language), None, STAMP)
    by_recipient = {m.recipient: m for m in out}
    assert set(by_recipient) == {f"learner:{f.LEARNER}", f"firm:{f.HOST}", f"firm:{f.HOME}"}
    to_learner, to_host, to_home = (
        by_recipient[f"learner:{f.LEARNER}"],
        by_recipient[f"firm:{f.HOST}"],
        by_recipient[f"firm:{f.HOME}"],
    )
    assert (to_learner.kind, to_host.kind, to_home.kind) == (f"assignment_{change}", f"host_{change}", f"home_{change}")
    for message, start in zip((to_learner, to_host, to_home), SUBJECTS[(change, language)], strict=True):
        assert message.language == language.value
        assert message.subject.startswith(start), message.subject
        assert message.source_event_id == event.id and message.network_id == f.NETWORK
    # The learner and the host attend the phase; the home firm is told without a calendar entry.
    for message in (to_learner, to_host):
        calendar = Calendar.from_ical(message.calendar or "")
        assert calendar["METHOD"] == METHODS[change]
        assert calendar.walk("VEVENT")[0]["SEQUENCE"] == 1
    assert to_home.calendar is None


@pytest.mark.parametrize("language", LANGUAGES, ids=lambda language: language.value)
def test_a_move_to_another_firm_cancels_at_the_old_host_and_is_an_arrival_at_the_new_one(language: Language) -> None:
    event = f.changed(firm_id=f.OTHER, firm_name="Extrusion Schulz AG", start="2027-W14", end="2027-W17")
    out = composer().assignment(
        event, phase(1), learner(language), other(language), home(language), host(language), STAMP
    )
    by_kind = {m.kind: m for m in out}
    assert set(by_kind) == {"assignment_changed", "host_left", "host_made", "home_changed"}
    assert by_kind["host_left"].recipient == f"firm:{f.HOST}"
    assert Calendar.from_ical(by_kind["host_left"].calendar or "")["METHOD"] == "CANCEL"
    assert by_kind["host_made"].recipient == f"firm:{f.OTHER}"


def shortfall_names() -> Names:
    return Names(
        modules={"M-LASER": "Laserschweißen"},
        groups={"G-WAHL": "Wahleinsätze"},
        firms={f.HOST: "Spritzguss Meier GmbH"},
        learners={"L-002": "Max Muster", "L-003": "Mia Beispiel"},
    )


@pytest.mark.parametrize(
    ("language", "subject", "sentence"),
    [
        (
            Language.DE,
            "Engpass: Lena Berger – Laserschweißen nicht planbar (Plätze belegt)",
            "Die Plätze für Laserschweißen sind in den passenden Wochen von anderen Lernenden belegt.",
        ),
        (
            Language.EN,
            "Shortfall: Lena Berger – Laserschweißen cannot be planned (seats taken)",
            "The seats for Laserschweißen in the weeks that fit are held by other learners.",
        ),
    ],
)
def test_a_shortfall_tells_each_coordinator_the_reason_in_their_language_with_names(
    language: Language, subject: str, sentence: str
) -> None:
    (message,) = composer().shortfall(f.shortfall(), [coordinator(language)], shortfall_names())
    assert message.subject == subject
    assert sentence in message.text
    assert "Max Muster" in message.text and "L-002" not in message.text
    assert f.shortfall().data.message not in message.text


@pytest.mark.parametrize(
    ("language", "subject"),
    [
        (Language.DE, "Engpass gelöst: Lena Berger – Laserschweißen"),
        (Language.EN, "Shortfall resolved: Lena Berger – Laserschweißen"),
    ],
)
def test_a_resolved_shortfall_is_told_from_the_shortfall_as_announced(language: Language, subject: str) -> None:
    announced = AnnouncedShortfall(
        shortfall_id=f.resolved().data.shortfall_id,
        network_id=f.NETWORK,
        learner_id=f.LEARNER,
        learner_name="Lena Berger",
        group_id="G-WAHL",
        module_id="M-LASER",
        reason="contention",
        missing=1,
    )
    (message,) = composer().shortfall_resolved(f.resolved(), announced, [coordinator(language)], shortfall_names())
    assert message.subject == subject
    assert message.kind == "shortfall_resolved"


SPAN = DeficitSpan(first_week="2027-W10", last_week="2027-W11", planned=1, minimum=3)


@pytest.mark.parametrize(
    ("language", "detected_subject", "resolved_subject"),
    [
        (Language.DE, "Mindestgruppe nicht erreicht: CNC-Fräsen bei", "Mindestgruppe erreicht: CNC-Fräsen bei"),
        (Language.EN, "Minimum group not reached: CNC-Fräsen at", "Minimum group reached: CNC-Fräsen at"),
    ],
)
def test_a_seat_deficit_and_its_resolution_are_told_in_the_coordinators_language(
    language: Language, detected_subject: str, resolved_subject: str
) -> None:
    event = detected(SPAN)
    (told,) = composer().seat_deficit(event, [coordinator(language)])
    assert told.subject.startswith(detected_subject)
    assert "2027-W10" in told.text
    announced = AnnouncedDeficit(
        deficit_id=event.data.deficit_id,
        network_id=f.NETWORK,
        firm_id=event.data.firm_id,
        firm_name=event.data.firm_name,
        module_id=event.data.module_id,
        module_name=event.data.module_name,
        spans=[s.model_dump(mode="json") for s in event.data.spans],
        missing_learner_weeks=event.data.missing_learner_weeks,
    )
    (resolution,) = composer().seat_deficit_resolved(deficit_resolved(), announced, [coordinator(language)])
    assert resolution.subject.startswith(resolved_subject)
    assert "2027-W10" in resolution.text


@pytest.mark.parametrize(
    ("language", "subject"),
    [
        (Language.DE, "Erinnerung: CNC-Fräsen bei Spritzguss Meier GmbH beginnt in 3 Tagen"),
        (Language.EN, "Reminder: CNC-Fräsen at Spritzguss Meier GmbH starts in 3 days"),
    ],
)
def test_a_reminder_tells_the_days_really_left_in_the_learners_language(language: Language, subject: str) -> None:
    message = composer().reminder(phase(2), 14, learner(language), host(language), days_left=3)
    assert message is not None
    assert message.subject == subject
    # Its identity is the scheduled reminder (14 days before version 2), whatever it tells.
    assert message.source_event_id == f"reminder:{phase().assignment_id}:2:14"


@pytest.mark.parametrize(
    ("language", "subject"),
    [
        (Language.DE, "Wochenübersicht Verbund Kunststoff, 2027-W10: 1 offene Engpässe, 1 Einsätze beginnen"),
        (Language.EN, "Weekly digest Verbund Kunststoff, 2027-W10: 1 open shortfalls, 1 phases starting"),
    ],
)
def test_the_digest_counts_learners_per_firm_and_lists_what_is_open(language: Language, subject: str) -> None:
    today = phase().start_date  # the Monday of 2027-W10
    starting = phase()
    later = phase(start="2027-W12", end="2027-W15", firm_id=f.OTHER, firm_name="Extrusion Schulz AG")
    shortfall = AnnouncedShortfall(
        shortfall_id="S-1",
        network_id=f.NETWORK,
        learner_id="L-002",
        learner_name="Max Muster",
        group_id="G-WAHL",
        module_id="M-LASER",
        reason="no_offer",
    )
    context = digest_context(
        network_id=f.NETWORK,
        network_name="Verbund Kunststoff",
        today=today,
        weeks_ahead=2,
        phases=[starting, later],
        shortfalls=[shortfall],
        deficits=[],
        names=shortfall_names(),
    )
    assert context["weeks"] == ["2027-W10", "2027-W11"]
    assert context["utilisation"] == [
        {"firm_id": f.OTHER, "firm_name": "Extrusion Schulz AG", "counts": [0, 0]},
        {"firm_id": f.HOST, "firm_name": "Spritzguss Meier GmbH", "counts": [1, 1]},
    ]
    assert [u["assignment_id"] for u in context["upcoming"]] == [starting.assignment_id]
    source = Source(f"digest:{f.NETWORK}:2027-W10", "Digest", f.NETWORK)
    (message,) = composer().digest(source, [coordinator(language)], context)
    assert message.subject == subject
    assert "Laserschweißen" in message.text and "M-LASER" not in message.text


def test_a_party_without_an_address_is_not_told_and_a_webhook_party_gets_its_url() -> None:
    silent = replace(host(Language.DE), channel=None)
    hooked = replace(learner(Language.EN), channel="webhook", webhook_url="https://hooks.example.org/l")
    (message,) = composer().assignment(f.made(), phase(), hooked, silent, None, None, STAMP)
    assert message.channel == "webhook" and message.address == "https://hooks.example.org/l"
