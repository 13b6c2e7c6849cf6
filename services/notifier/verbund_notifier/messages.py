"""Who is told what: turns assignment, shortfall, seat deficit, reminder and digest facts into rendered messages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from verbund_schemas import (
    AssignmentCancelled,
    AssignmentChanged,
    AssignmentData,
    AssignmentMade,
    Language,
    SeatDeficitDetected,
    SeatDeficitResolved,
    ShortfallDetected,
    ShortfallResolved,
    week_monday,
    week_sunday,
)

from .directory import recipient_id
from .ics import PhaseEntry, phase_calendar
from .outbox import Outgoing
from .rendering import Renderer
from .tables import AssignmentRecord, OpenDeficit, OpenShortfall, Party

_REASON_LABELS = {
    Language.DE: {
        "no_offer": "kein Angebot im Zeitraum",
        "eligibility": "nicht zugelassen",
        "availability": "nicht genug freie Wochen",
        "precedence": "Voraussetzung nicht planbar",
        "contention": "Plätze belegt",
        "firm_limit": "Grenze je Betrieb erreicht",
        "min_seats": "Mindestgruppe nicht erreicht",
    },
    Language.EN: {
        "no_offer": "no offer in the window",
        "eligibility": "not eligible",
        "availability": "not enough available weeks",
        "precedence": "prerequisite cannot be placed",
        "contention": "seats taken",
        "firm_limit": "per-firm limit reached",
        "min_seats": "minimum group not reached",
    },
}


@dataclass(frozen=True)
class Source:
    """What a message answers to: the event (or reminder/digest occurrence) and its network."""

    event_id: str
    event_type: str
    network_id: str


def language_of(party: Party, default: Language) -> Language:
    try:
        return Language(party.language)
    except ValueError:
        return default


def address_of(party: Party) -> str | None:
    return party.webhook_url if party.channel == "webhook" else party.email


class Composer:
    def __init__(self, renderer: Renderer, organizer: str, default_language: Language) -> None:
        self._renderer = renderer
        self._organizer = organizer
        self._default = default_language

    def _message(
        self,
        source: Source,
        party: Party,
        template: str,
        kind: str,
        context: dict[str, Any],
        calendar: PhaseEntry | None = None,
        cancelled: bool = False,
        now: dt.datetime | None = None,
    ) -> Outgoing | None:
        address = address_of(party)
        if party.channel is None or address is None:
            return None  # a firm without a training contact: nobody to tell
        language = language_of(party, self._default)
        rendered = self._renderer.render(template, language, {"contact_name": party.contact_name, **context})
        ics = None
        if calendar is not None:
            ics = phase_calendar(
                calendar,
                cancelled=cancelled,
                language=language,
                organizer=self._organizer,
                stamp=now or dt.datetime.now(dt.UTC),
            )
        return Outgoing(
            network_id=source.network_id,
            source_event_id=source.event_id,
            source_event_type=source.event_type,
            recipient=recipient_id(party.role, party.party_id),
            channel=party.channel,
            kind=kind,
            language=language.value,
            address=address,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            calendar=ics,
            calendar_method=None if ics is None else ("CANCEL" if cancelled else "REQUEST"),
            calendar_name=None if ics is None else f"verbund-{calendar.assignment_id if calendar else ''}.ics",
            details=_json_safe(context),
        )

    def assignment(
        self,
        event: AssignmentMade | AssignmentChanged | AssignmentCancelled,
        record: AssignmentRecord,
        learner: Party | None,
        host: Party | None,
        home: Party | None,
        previous_host: Party | None,
        now: dt.datetime,
    ) -> list[Outgoing]:
        """Learner, host firm and home firm each get one message; a firm that is both gets the host's."""
        data: AssignmentData = event.data
        change = {"AssignmentMade": "made", "AssignmentChanged": "changed", "AssignmentCancelled": "cancelled"}[
            event.type
        ]
        source = Source(event.id, event.type, event.network_id)
        context: dict[str, Any] = {
            "change": change,
            "assignment_id": data.assignment_id,
            "learner_id": data.learner_id,
            "learner_name": data.learner_name,
            "module_id": data.module_id,
            "module_name": data.module_name,
            "firm_id": data.firm_id,
            "firm_name": data.firm_name,
            "firm_address": host.address if host else None,
            "start_week": data.start_week,
            "end_week": data.end_week,
            "start_date": data.start_date,
            "end_date": data.end_date,
            "reason": getattr(data, "reason", ""),
            "previous": event.data.previous.model_dump() if isinstance(event, AssignmentChanged) else None,
            "home_firm_name": home.name if home else None,
            "plan_version": data.plan_version,
        }
        cancelled = change == "cancelled"
        entry = PhaseEntry(
            assignment_id=data.assignment_id,
            module_name=data.module_name,
            firm_name=data.firm_name,
            start_date=data.start_date,
            end_date=data.end_date,
            location=context["firm_address"],
            description=f"{data.learner_name}: {data.module_name} ({data.start_week} – {data.end_week})",
            sequence=record.sequence,
        )
        out: list[Outgoing | None] = []
        if learner is not None:
            out.append(
                self._message(
                    source, learner, "learner_assignment", f"assignment_{change}", context, entry, cancelled, now
                )
            )
        moved = (
            isinstance(event, AssignmentChanged)
            and previous_host is not None
            and event.data.previous.firm_id != data.firm_id
        )
        if moved and isinstance(event, AssignmentChanged) and previous_host is not None:
            # The old host's calendar entry goes away; the new host hears of a new arrival.
            prev = event.data.previous
            old = {
                **context,
                "change": "cancelled",
                "firm_id": prev.firm_id,
                "firm_name": prev.firm_name,
                "firm_address": previous_host.address,
                "start_week": prev.start_week,
                "end_week": prev.end_week,
                "start_date": week_monday(prev.start_week),
                "end_date": week_sunday(prev.end_week),
            }
            old_entry = PhaseEntry(
                assignment_id=data.assignment_id,
                module_name=data.module_name,
                firm_name=prev.firm_name,
                start_date=old["start_date"],
                end_date=old["end_date"],
                location=previous_host.address,
                description=entry.description,
                sequence=record.sequence,
            )
            out.append(
                self._message(source, previous_host, "host_firm_assignment", "host_left", old, old_entry, True, now)
            )
        if host is not None:
            host_change = "made" if moved else change
            out.append(
                self._message(
                    source,
                    host,
                    "host_firm_assignment",
                    f"host_{host_change}",
                    {**context, "change": host_change},
                    entry,
                    cancelled,
                    now,
                )
            )
        if home is not None and (host is None or home.party_id != host.party_id):
            out.append(self._message(source, home, "home_firm_assignment", f"home_{change}", context, None))
        return [m for m in out if m is not None]

    def shortfall(self, event: ShortfallDetected, coordinators: list[Party]) -> list[Outgoing]:
        data = event.data
        common = {
            **data.model_dump(mode="python"),
            "what": data.module_id or data.group_id,
            "suggestions": [s.model_dump() for s in data.suggestions],
        }
        return self._to_each(
            Source(event.id, event.type, event.network_id),
            coordinators,
            "coordinator_shortfall",
            "shortfall",
            lambda language: {**common, "reason_label": _REASON_LABELS[language][data.reason.value]},
        )

    def shortfall_resolved(
        self, event: ShortfallResolved, announced: OpenShortfall, coordinators: list[Party]
    ) -> list[Outgoing]:
        """Tell the network's coordinators that an announced shortfall is met now, and what was missing.

        The event carries ids only; the learner's name, the reason and what was missing come from the
        shortfall as it was announced.
        """
        data = event.data
        common = {
            "shortfall_id": data.shortfall_id,
            "learner_id": data.learner_id,
            "learner_name": announced.learner_name,
            "group_id": data.group_id,
            "module_id": data.module_id,
            "what": data.module_id or data.group_id,
            "missing": announced.missing,
            "detected_message": announced.message,
            "message": data.message,
            "plan_version": data.plan_version,
        }
        return self._to_each(
            Source(event.id, event.type, event.network_id),
            coordinators,
            "coordinator_shortfall_resolved",
            "shortfall_resolved",
            # A reason stored by an older release may have no label any more: show it as it was.
            lambda language: {
                **common,
                "reason_label": _REASON_LABELS[language].get(announced.reason, announced.reason),
            },
        )

    def seat_deficit(self, event: SeatDeficitDetected, coordinators: list[Party]) -> list[Outgoing]:
        """Tell the network's coordinators which weeks of a firm's module are below its minimum group.

        Sent again whenever those weeks change, so the latest message always lists all of them.
        """
        data = event.data
        context = {
            "deficit_id": data.deficit_id,
            "firm_id": data.firm_id,
            "firm_name": data.firm_name,
            "module_id": data.module_id,
            "module_name": data.module_name,
            "spans": spans_shown([s.model_dump(mode="json") for s in data.spans]),
            "spans_omitted": data.spans_omitted,
            "missing_learner_weeks": data.missing_learner_weeks,
            "plan_version": data.plan_version,
        }
        return self._to_each(
            Source(event.id, event.type, event.network_id),
            coordinators,
            "coordinator_seat_deficit",
            "seat_deficit",
            lambda _language: context,
        )

    def seat_deficit_resolved(
        self, event: SeatDeficitResolved, announced: OpenDeficit, coordinators: list[Party]
    ) -> list[Outgoing]:
        """Tell the coordinators that every week of an announced deficit now meets the minimum, and which
        weeks had been short (the event names none; they come from the deficit as last announced)."""
        data = event.data
        context = {
            "deficit_id": data.deficit_id,
            "firm_id": data.firm_id,
            "firm_name": data.firm_name,
            "module_id": data.module_id,
            "module_name": data.module_name,
            "spans": spans_shown(announced.spans),
            "spans_omitted": announced.spans_omitted,
            "missing_learner_weeks": announced.missing_learner_weeks,
            "plan_version": data.plan_version,
        }
        return self._to_each(
            Source(event.id, event.type, event.network_id),
            coordinators,
            "coordinator_seat_deficit_resolved",
            "seat_deficit_resolved",
            lambda _language: context,
        )

    def reminder(
        self, record: AssignmentRecord, days: int, learner: Party, host: Party | None, *, days_left: int | None = None
    ) -> Outgoing | None:
        """The reminder scheduled `days` before the phase (its identity), telling `days_left` (default: `days`)."""
        source = Source(f"reminder:{record.assignment_id}:{record.sequence}:{days}", "Reminder", record.network_id)
        context = {
            "days": days if days_left is None else days_left,
            "assignment_id": record.assignment_id,
            "learner_name": record.learner_name,
            "module_name": record.module_name,
            "firm_name": record.firm_name,
            "firm_address": host.address if host else None,
            "start_date": record.start_date,
            "end_date": record.end_date,
            "start_week": record.start_week,
            "end_week": record.end_week,
        }
        return self._message(source, learner, "learner_reminder", "reminder", context)

    def digest(self, source: Source, coordinators: list[Party], context: dict[str, Any]) -> list[Outgoing]:
        return self._to_each(source, coordinators, "coordinator_digest", "digest", lambda _language: context)

    def _to_each(
        self,
        source: Source,
        parties: list[Party],
        template: str,
        kind: str,
        context_in: Callable[[Language], dict[str, Any]],
    ) -> list[Outgoing]:
        """One message per party (those without a usable address get none), its context in the party's language."""
        out = []
        for party in parties:
            message = self._message(source, party, template, kind, context_in(language_of(party, self._default)))
            if message is not None:
                out.append(message)
        return out


def spans_shown(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Deficit spans as templates show them: the weeks, and how many learners are missing in each."""
    return [
        {
            **s,
            "single_week": s["first_week"] == s["last_week"],
            "missing": s["minimum"] - s["planned"],
        }
        for s in spans
    ]


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if hasattr(value, "value") and isinstance(value.value, str):
        return value.value
    return value
