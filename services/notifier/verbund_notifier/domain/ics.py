"""iCalendar entries for assigned phases: one VEVENT per assignment, updated by SEQUENCE, cancelled by METHOD."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from email.utils import parseaddr

from icalendar import Calendar, Event, vCalAddress
from verbund_schemas import Language

_AT = {Language.DE: "bei", Language.EN: "at"}

# Attachment names: letters, digits, '-' and '.' only, so no mail client or file system has to rewrite them.
_UNSAFE = re.compile(r"[^A-Za-z0-9]+")
_GERMAN_LETTERS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})
_MAX_NAME_STEM = 40
_DOMAIN_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class Attendee:
    """Someone the phase is for: the learner, or the host firm's training contact."""

    name: str
    email: str


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
    attendees: tuple[Attendee, ...] = ()


def phase_summary(module_name: str, firm_name: str, language: Language) -> str:
    return f"{module_name} {_AT[language]} {firm_name}"


def sender_domain(sender: str) -> str:
    """The domain of a sender such as "Verbund <verbund@verbund.example.org>": the default domain of UIDs."""
    _name, address = parseaddr(sender)
    domain = address.rpartition("@")[2].strip().lower()
    if not _is_domain(domain):
        raise ValueError(
            f"the sender {sender!r} has no usable domain for calendar UIDs; "
            "set VERBUND_CALENDAR_UID_DOMAIN to the domain the entries belong to, e.g. verbund.example.org"
        )
    return domain


def valid_domain(domain: str) -> str:
    """A host name usable after the '@' of a UID (RFC 5545 3.8.4.7 suggests id@domain), lower case."""
    value = domain.strip().lower()
    if not _is_domain(value):
        raise ValueError(f"{domain!r} is not a domain name; use one like verbund.example.org")
    return value


def _is_domain(value: str) -> bool:
    return 0 < len(value) <= 253 and all(_DOMAIN_LABEL.match(label) for label in value.split("."))


def phase_uid(assignment_id: str, domain: str) -> str:
    """Stable across every version of the phase, so a change replaces the entry and a cancellation removes it."""
    return f"{assignment_id}@{domain}"


def attachment_name(module_name: str, start_date: dt.date) -> str:
    """The .ics file name shown to the recipient, e.g. CNC-Fraesen-2027-03-08.ics: ASCII, no ':' or '/', short."""
    ascii_name = (
        unicodedata.normalize("NFKD", module_name.translate(_GERMAN_LETTERS)).encode("ascii", "ignore").decode("ascii")
    )
    stem = _UNSAFE.sub("-", ascii_name).strip("-")[:_MAX_NAME_STEM].rstrip("-") or "Einsatz"
    return f"{stem}-{start_date.isoformat()}.ics"


def _address(email: str, name: str | None, **params: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["CN"] = name
    for key, value in params.items():
        address.params[key] = value
    return address


def phase_calendar(
    entry: PhaseEntry,
    *,
    cancelled: bool,
    language: Language,
    organizer: str,
    uid_domain: str,
    stamp: dt.datetime,
) -> str:
    """The .ics text: METHOD:REQUEST for a new or changed phase, METHOD:CANCEL when it is cancelled.

    RFC 5546 asks a REQUEST for an ORGANIZER and the attendees, a CANCEL for the attendees it removes:
    the caller lists in `entry.attendees` whoever has an email address (the learner, the host's contact).
    """
    cal = Calendar()
    cal.add("prodid", "-//Verbund//Notifier//EN")
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", phase_uid(entry.assignment_id, uid_domain))
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
    organizer_name, organizer_email = parseaddr(organizer)
    event.add("organizer", _address(organizer_email or organizer, organizer_name or None))
    for attendee in entry.attendees:
        # Nobody is asked to answer: the network decides the plan, and replies are not read.
        event.add(
            "attendee",
            _address(attendee.email, attendee.name, CUTYPE="INDIVIDUAL", ROLE="REQ-PARTICIPANT", RSVP="FALSE"),
        )
    cal.add_component(event)
    ical: bytes = cal.to_ical()
    return ical.decode("utf-8")
