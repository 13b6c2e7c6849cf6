"""The .ics invitation per RFC 5545/5546: ATTENDEE and ORGANIZER with CN and mailto, UID@domain, a safe file name."""

from __future__ import annotations

import datetime as dt
import re

import notifier_factories as f
import pytest
from icalendar import Calendar
from pydantic import ValidationError
from verbund_notifier.domain.ics import attachment_name
from verbund_notifier.domain.messages import Composer
from verbund_notifier.domain.outgoing import Outgoing
from verbund_notifier.domain.parties import Party
from verbund_notifier.domain.phases import Phase
from verbund_notifier.domain.rendering import Renderer
from verbund_notifier.settings import NotifierSettings
from verbund_schemas import Language

STAMP = dt.datetime(2027, 1, 4, 9, tzinfo=dt.UTC)
SENDER = "Verbund Kunststoff <verbund@verbund.example.org>"
# Assignment ids as the matcher makes them: network, learner and module joined by ':'.
ASSIGNMENT_ID = f"{f.NETWORK}:{f.LEARNER}:M-CNC"
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*\.ics$")


def learner(**kw: str) -> Party:
    values = {"name": "Lena Berger", "contact_name": "Lena Berger", "email": f.LEARNER_EMAIL, "channel": "email"}
    return Party(network_id=f.NETWORK, role="learner", party_id=f.LEARNER, **{**values, **kw})


def host(party_id: str = f.HOST, email: str = f.HOST_EMAIL, contact: str = "Max Meier") -> Party:
    return Party(
        network_id=f.NETWORK,
        role="firm",
        party_id=party_id,
        name="Spritzguss Meier GmbH",
        contact_name=contact,
        email=email,
        channel="email",
        address="Werkstraße 1, 86150 Augsburg",
    )


def record(sequence: int = 0) -> Phase:
    return Phase(network_id=f.NETWORK, sequence=sequence, **{**f.phase(), "assignment_id": ASSIGNMENT_ID})


def with_our_id(event: f.AssignmentMade) -> f.AssignmentMade:
    return event.model_copy(update={"data": event.data.model_copy(update={"assignment_id": ASSIGNMENT_ID})})


def invitations(messages: list[Outgoing]) -> dict[str, Calendar]:
    return {m.kind: Calendar.from_ical(m.calendar or "") for m in messages if m.calendar}


def attendees(cal: Calendar) -> dict[str, dict[str, str]]:
    (event,) = cal.walk("VEVENT")
    found = event.get("ATTENDEE", [])
    found = found if isinstance(found, list) else [found]
    return {str(a): dict(a.params) for a in found}


def test_invitation_names_learner_and_host_contact_as_attendees_and_the_sender_as_organizer() -> None:
    composer = Composer(Renderer(), SENDER, Language.DE)

    out = composer.assignment(with_our_id(f.made()), record(), learner(), host(), None, None, STAMP)

    calendars = invitations(out)
    assert set(calendars) == {"assignment_made", "host_made"}
    for cal in calendars.values():
        (event,) = cal.walk("VEVENT")
        assert cal["METHOD"] == "REQUEST"
        assert str(event["UID"]) == f"{ASSIGNMENT_ID}@verbund.example.org"
        assert str(event["ORGANIZER"]) == "mailto:verbund@verbund.example.org"
        assert event["ORGANIZER"].params["CN"] == "Verbund Kunststoff"
        found = attendees(cal)
        assert set(found) == {f"mailto:{f.LEARNER_EMAIL}", f"mailto:{f.HOST_EMAIL}"}
        assert found[f"mailto:{f.LEARNER_EMAIL}"]["CN"] == "Lena Berger"
        assert found[f"mailto:{f.HOST_EMAIL}"]["CN"] == "Max Meier"
        assert all(a["ROLE"] == "REQ-PARTICIPANT" and a["RSVP"] == "FALSE" for a in found.values())
        assert event["SEQUENCE"] == 0 and event["DTSTAMP"].dt == STAMP


def test_the_ics_text_itself_carries_each_property_on_its_own_line() -> None:
    composer = Composer(Renderer(), SENDER, Language.DE)

    (message, *_) = composer.assignment(with_our_id(f.made()), record(), learner(), host(), None, None, STAMP)

    lines = (message.calendar or "").replace("\r\n ", "").split("\r\n")
    assert f"UID:{ASSIGNMENT_ID}@verbund.example.org" in lines
    assert 'ORGANIZER;CN="Verbund Kunststoff":mailto:verbund@verbund.example.org' in lines
    assert any(
        line.startswith("ATTENDEE;") and 'CN="Lena Berger"' in line and line.endswith(f":mailto:{f.LEARNER_EMAIL}")
        for line in lines
    ), lines


def test_a_learner_reached_by_webhook_only_is_not_listed_without_an_address() -> None:
    composer = Composer(Renderer(), SENDER, Language.DE)
    webhook_learner = learner(email="", channel="webhook", webhook_url="https://lms.example.org/hook")

    out = composer.assignment(with_our_id(f.made()), record(), webhook_learner, host(), None, None, STAMP)

    for cal in invitations(out).values():
        assert set(attendees(cal)) == {f"mailto:{f.HOST_EMAIL}"}


def test_a_configured_uid_domain_wins_over_the_senders() -> None:
    composer = Composer(Renderer(), SENDER, Language.DE, uid_domain="kalender.example.org")

    out = composer.assignment(with_our_id(f.made()), record(), learner(), host(), None, None, STAMP)

    (event,) = invitations(out)["assignment_made"].walk("VEVENT")
    assert str(event["UID"]) == f"{ASSIGNMENT_ID}@kalender.example.org"


def test_the_uid_domain_setting_defaults_to_the_senders_domain_and_refuses_what_is_no_domain() -> None:
    assert NotifierSettings().uid_domain == "localhost"
    assert NotifierSettings(smtp_from=SENDER).uid_domain == "verbund.example.org"
    assert NotifierSettings(calendar_uid_domain="Kalender.Example.ORG").uid_domain == "kalender.example.org"
    with pytest.raises(ValidationError, match="VERBUND_CALENDAR_UID_DOMAIN"):
        NotifierSettings(calendar_uid_domain="kalender/example:org")


def test_cancellation_keeps_uid_and_sequence_and_lists_everyone_it_removes() -> None:
    composer = Composer(Renderer(), SENDER, Language.EN)
    event = f.cancelled()
    event = event.model_copy(update={"data": event.data.model_copy(update={"assignment_id": ASSIGNMENT_ID})})

    out = composer.assignment(event, record(3), learner(), host(), None, None, STAMP)

    for cal in invitations(out).values():
        (entry,) = cal.walk("VEVENT")
        assert cal["METHOD"] == "CANCEL" and str(entry["STATUS"]) == "CANCELLED"
        assert entry["SEQUENCE"] == 3
        assert str(entry["UID"]) == f"{ASSIGNMENT_ID}@verbund.example.org"
        assert set(attendees(cal)) == {f"mailto:{f.LEARNER_EMAIL}", f"mailto:{f.HOST_EMAIL}"}


def test_moving_to_another_firm_cancels_only_the_old_hosts_attendance() -> None:
    composer = Composer(Renderer(), SENDER, Language.DE)
    event = f.changed(firm_id=f.OTHER, firm_name="Extrusion Schulz AG", start="2027-W14", end="2027-W17")
    old_host = host()
    new_host = host(f.OTHER, f.OTHER_EMAIL, "Sara Schulz")

    out = composer.assignment(event, record(1), learner(), new_host, None, old_host, STAMP)

    calendars = invitations(out)
    assert calendars["host_left"]["METHOD"] == "CANCEL"
    assert set(attendees(calendars["host_left"])) == {f"mailto:{f.HOST_EMAIL}"}
    assert set(attendees(calendars["host_made"])) == {f"mailto:{f.LEARNER_EMAIL}", f"mailto:{f.OTHER_EMAIL}"}
    assert calendars["host_made"].walk("VEVENT")[0]["SEQUENCE"] == 1


def test_the_attachment_is_named_for_the_module_and_start_without_the_assignment_ids_colons() -> None:
    composer = Composer(Renderer(), SENDER, Language.DE)

    out = composer.assignment(with_our_id(f.made()), record(), learner(), host(), None, None, STAMP)

    assert {m.calendar_name for m in out if m.calendar} == {"CNC-Fraesen-2027-03-08.ics"}


@pytest.mark.parametrize(
    "module_name",
    [
        "CNC-Fräsen / Drehen: Teil 1",
        'Übung\\Prüfung: "Qualität" <Endkontrolle> | ß?*',
        "Kunststoff" * 30,
        "日本語の研修",
        "..",
    ],
)
def test_attachment_names_are_ascii_short_and_free_of_path_and_colon_characters(module_name: str) -> None:
    name = attachment_name(module_name, dt.date(2027, 3, 8))

    assert SAFE_NAME.match(name), name
    assert name.isascii() and ":" not in name and "/" not in name and "\\" not in name
    assert len(name) <= 60
    assert name.endswith("-2027-03-08.ics")
