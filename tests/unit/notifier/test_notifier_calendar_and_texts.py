"""Calendar entries and message texts, without any server: what the templates and the .ics say."""

from __future__ import annotations

import datetime as dt

import notifier_factories as f
from icalendar import Calendar
from verbund_notifier.domain.ics import PhaseEntry, phase_calendar
from verbund_notifier.domain.messages import Composer
from verbund_notifier.domain.parties import Party
from verbund_notifier.domain.phases import Phase
from verbund_notifier.domain.rendering import Renderer
from verbund_schemas import Language

STAMP = dt.datetime(2027, 1, 4, 9, tzinfo=dt.UTC)


def entry(sequence: int = 0) -> PhaseEntry:
    return PhaseEntry(
        assignment_id="N-PLAST.L-001.M-CNC",
        module_name="CNC-Fräsen",
        firm_name="Spritzguss Meier GmbH",
        start_date=dt.date(2027, 3, 8),
        end_date=dt.date(2027, 4, 4),
        location="Werkstraße 1, 86150 Augsburg",
        description="Lena Berger: CNC-Fräsen",
        sequence=sequence,
    )


def test_calendar_entry_is_all_day_from_start_monday_to_day_after_end_sunday() -> None:
    cal = Calendar.from_ical(
        phase_calendar(
            entry(), cancelled=False, language=Language.DE, organizer="V <v@x.org>", uid_domain="x.org", stamp=STAMP
        )
    )
    (event,) = cal.walk("VEVENT")
    assert cal["METHOD"] == "REQUEST"
    assert str(event["UID"]) == "N-PLAST.L-001.M-CNC@x.org"
    assert event.decoded("DTSTART") == dt.date(2027, 3, 8)
    assert event.decoded("DTEND") == dt.date(2027, 4, 5)
    assert str(event["SUMMARY"]) == "CNC-Fräsen bei Spritzguss Meier GmbH"
    assert str(event["LOCATION"]) == "Werkstraße 1, 86150 Augsburg"
    assert event["SEQUENCE"] == 0
    assert str(event["STATUS"]) == "CONFIRMED"


def test_cancelled_calendar_entry_has_method_cancel_status_cancelled_and_its_sequence() -> None:
    cal = Calendar.from_ical(
        phase_calendar(
            entry(2), cancelled=True, language=Language.EN, organizer="v@x.org", uid_domain="x.org", stamp=STAMP
        )
    )
    (event,) = cal.walk("VEVENT")
    assert cal["METHOD"] == "CANCEL"
    assert str(event["STATUS"]) == "CANCELLED"
    assert event["SEQUENCE"] == 2
    assert str(event["SUMMARY"]) == "CNC-Fräsen at Spritzguss Meier GmbH"


def party(role: str, pid: str, email: str, language: str = "de", **kw: str) -> Party:
    return Party(
        network_id=f.NETWORK, role=role, party_id=pid, name=pid, email=email, language=language, channel="email", **kw
    )


def record(sequence: int = 0) -> Phase:
    p = f.phase()
    return Phase(network_id=f.NETWORK, sequence=sequence, **p)


def test_changed_assignment_moving_firms_cancels_old_hosts_entry_and_announces_to_new_host() -> None:
    composer = Composer(Renderer(), "Verbund <v@x.org>", Language.DE)
    event = f.changed(firm_id=f.OTHER, firm_name="Extrusion Schulz AG", start="2027-W14", end="2027-W17")
    learner = party("learner", f.LEARNER, f.LEARNER_EMAIL, home_firm_id=f.HOME)
    old_host = party("firm", f.HOST, f.HOST_EMAIL, address="Werkstraße 1, 86150 Augsburg")
    new_host = party("firm", f.OTHER, f.OTHER_EMAIL, language="en", address="Werkstraße 1, 89073 Ulm")
    home = party("firm", f.HOME, f.HOME_EMAIL)
    out = composer.assignment(event, record(1), learner, new_host, home, old_host, STAMP)
    by_kind = {m.kind: m for m in out}
    assert set(by_kind) == {"assignment_changed", "host_left", "host_made", "home_changed"}
    old_cal = Calendar.from_ical(by_kind["host_left"].calendar or "")
    assert old_cal["METHOD"] == "CANCEL"
    assert old_cal.walk("VEVENT")[0].decoded("DTSTART") == dt.date(2027, 3, 8)
    assert by_kind["host_made"].language == "en"
    assert by_kind["host_made"].subject.startswith("Lena Berger is coming to you")
    learner_text = by_kind["assignment_changed"].text
    assert "Bisher: Spritzguss Meier GmbH, 2027-W10 bis 2027-W13" in learner_text
    assert "Grund: Ein Angebot für CNC-Fräsen wurde geändert (Wochen oder Plätze)." in learner_text
    assert Calendar.from_ical(by_kind["assignment_changed"].calendar or "").walk("VEVENT")[0]["SEQUENCE"] == 1


def test_home_firm_that_also_hosts_gets_one_message_not_two() -> None:
    composer = Composer(Renderer(), "v@x.org", Language.DE)
    learner = party("learner", f.LEARNER, f.LEARNER_EMAIL, home_firm_id=f.HOST)
    host = party("firm", f.HOST, f.HOST_EMAIL)
    out = composer.assignment(f.made(), record(), learner, host, host, None, STAMP)
    assert sorted(m.recipient for m in out) == [f"firm:{f.HOST}", f"learner:{f.LEARNER}"]


def test_firm_without_training_contact_is_not_messaged() -> None:
    composer = Composer(Renderer(), "v@x.org", Language.DE)
    learner = party("learner", f.LEARNER, f.LEARNER_EMAIL)
    host = Party(network_id=f.NETWORK, role="firm", party_id=f.HOST, name="Meier", channel=None)
    out = composer.assignment(f.made(), record(), learner, host, None, None, STAMP)
    assert [m.recipient for m in out] == [f"learner:{f.LEARNER}"]


def test_html_part_escapes_names_while_text_part_keeps_them() -> None:
    rendered = Renderer().render(
        "learner_reminder",
        Language.DE,
        {
            "days": 2,
            "learner_name": "<b>Lena</b> & Co",
            "module_name": "CNC",
            "firm_name": "Meier",
            "firm_address": None,
            "start_date": dt.date(2027, 3, 8),
            "end_date": dt.date(2027, 4, 4),
        },
    )
    assert "&lt;b&gt;Lena&lt;/b&gt; &amp; Co" in rendered.html
    assert "<b>Lena</b> & Co" in rendered.text
    assert rendered.subject == "Erinnerung: CNC bei Meier beginnt in 2 Tagen"
