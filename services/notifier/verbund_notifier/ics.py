"""iCalendar entries for assigned phases: one VEVENT per assignment, updated by SEQUENCE, cancelled by METHOD."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from icalendar import Calendar, Event, vCalAddress
from verbund_schemas import Language

_AT = {Language.DE: "bei", Language.EN: "at"}


@dataclass(frozen=True)
class PhaseEntry:
    """What a calendar entry says about one phase."""

    assignment_id: str
    module_name: str
    firm_name: str
    start_date: dt.date  # Monday of the first week
    end_date: dt.date  # Sunday of the last week
    location: str | None
    description: str
    sequence: int


def phase_summary(module_name: str, firm_name: str, language: Language) -> str:
    return f"{module_name} {_AT[language]} {firm_name}"


def phase_calendar(
    entry: PhaseEntry,
    *,
    cancelled: bool,
    language: Language,
    organizer: str,
    stamp: dt.datetime,
) -> str:
    """The .ics text: METHOD:REQUEST for a new or changed phase, METHOD:CANCEL when it is cancelled."""
    cal = Calendar()
    cal.add("prodid", "-//Verbund//Notifier//EN")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", entry.assignment_id)
    event.add("dtstamp", stamp.astimezone(dt.UTC))
    # All-day: DTEND is exclusive, so the day after the last Sunday.
    event.add("dtstart", entry.start_date)
    event.add("dtend", entry.end_date + dt.timedelta(days=1))
    event.add("summary", phase_summary(entry.module_name, entry.firm_name, language))
    if entry.location:
        event.add("location", entry.location)
    event.add("description", entry.description)
    event.add("sequence", entry.sequence)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT")
    event.add("organizer", vCalAddress(f"mailto:{_bare_address(organizer)}"))
    cal.add_component(event)
    ical: bytes = cal.to_ical()
    return ical.decode("utf-8")


def _bare_address(sender: str) -> str:
    if "<" in sender and sender.endswith(">"):
        return sender[sender.index("<") + 1 : -1]
    return sender
