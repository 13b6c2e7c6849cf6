"""Who is told what: turns assignment, shortfall, seat deficit, reminder and digest facts into rendered messages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
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

from .change_reasons import change_reason_sentence
from .ics import Attendee, PhaseEntry, attachment_name, phase_calendar, sender_domain
from .names import Names
from .outgoing import Outgoing, Source
from .parties import Party, address_of, language_of, recipient_id
from .phases import Phase
from .rendering import Renderer
from .shortfalls import AnnouncedDeficit, AnnouncedShortfall, in_language, shortfall_facts, spans_shown

Context = Callable[[Language], dict[str, Any]]


def attendee_of(party: Party | None, name: str | None = None) -> Attendee | None:
    """A calendar attendee for someone with an email address (a webhook-only contact has none)."""
    if party is None or not party.email:
        return None
    return Attendee(name=name or party.contact_name or party.name, email=party.email)


class Composer:
    def __init__(
        self, renderer: Renderer, organizer: str, default_language: Language, *, uid_domain: str | None = None
    ) -> None:
        self._renderer = renderer
        self._organizer = organizer
        self._default = default_language
        self._uid_domain = uid_domain or sender_domain(organizer)

    def _message(
        self,
        source: Source,
        party: Party,
        template: str,
        kind: str,
        context_in: Context,
        calendar: PhaseEntry | None = None,
        cancelled: bool = False,
        now: dt.datetime | None = None,
    ) -> Outgoing | None:
        address = address_of(party)
        if party.channel is None or address is None:
            return None  # a firm without a training contact: nobody to tell
        language = language_of(party, self._default)
        context = context_in(language)
        rendered = self._renderer.render(template, language, {"contact_name": party.contact_name, **context})
        ics = None
        if calendar is not None:
            ics = phase_calendar(
                calendar,
                cancelled=cancelled,
                language=language,
                organizer=self._organizer,
                uid_domain=self._uid_domain,
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
            calendar_name=None if calendar is None else attachment_name(calendar.module_name, calendar.start_date),
            details=_json_safe(context),
        )

    def assignment(
        self,
        event: AssignmentMade | AssignmentChanged | AssignmentCancelled,
        phase: Phase,
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
            "previous": event.data.previous.model_dump() if isinstance(event, AssignmentChanged) else None,
            "home_firm_name": home.name if home else None,
            "plan_version": data.plan_version,
            "reason_code": getattr(data, "reason_code", None),
        }

        def worded(values: dict[str, Any]) -> Context:
            # The reason in the reader's language; the matcher's English sentence only for an English reader.
            return lambda language: {**values, "reason": why(event, language)}

        cancelled = change == "cancelled"
        # The learner and the host's training contact attend the phase; both calendars hold the same entry.
        attendees = tuple(a for a in (attendee_of(learner, data.learner_name), attendee_of(host)) if a is not None)
        entry = PhaseEntry(
            assignment_id=data.assignment_id,
            module_name=data.module_name,
            firm_name=data.firm_name,
            start_date=data.start_date,
            end_date=data.end_date,
            location=context["firm_address"],
            description=f"{data.learner_name}: {data.module_name} ({data.start_week} – {data.end_week})",
            sequence=phase.sequence,
            attendees=attendees,
        )
        out: list[Outgoing | None] = []
        if learner is not None:
            out.append(
                self._message(
                    source,
                    learner,
                    "learner_assignment",
                    f"assignment_{change}",
                    worded(context),
                    entry,
                    cancelled,
                    now,
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
                sequence=phase.sequence,
                # RFC 5546: a CANCEL names the attendees it removes; the learner stays, at the new host.
                attendees=tuple(a for a in (attendee_of(previous_host),) if a is not None),
            )
            out.append(
                self._message(
                    source, previous_host, "host_firm_assignment", "host_left", worded(old), old_entry, True, now
                )
            )
        if host is not None:
            host_change = "made" if moved else change
            out.append(
                self._message(
                    source,
                    host,
                    "host_firm_assignment",
                    f"host_{host_change}",
                    worded({**context, "change": host_change}),
                    entry,
                    cancelled,
                    now,
                )
            )
        if home is not None and (host is None or home.party_id != host.party_id):
            out.append(self._message(source, home, "home_firm_assignment", f"home_{change}", worded(context), None))
        return [m for m in out if m is not None]

    def shortfall(self, event: ShortfallDetected, coordinators: list[Party], names: Names) -> list[Outgoing]:
        """Tell the coordinators what a learner misses and why, in their language, with names instead of ids."""
        data = event.data
        facts = {
            "shortfall_id": data.shortfall_id,
            **shortfall_facts(
                names,
                learner_name=data.learner_name,
                group_id=data.group_id,
                module_id=data.module_id,
                missing=data.missing,
                reason=data.reason.value,
            ),
            "competing": [names.learner(i) for i in data.competing_learners],
            "suggestions": [
                {
                    "seats": s.seats,
                    "module_name": names.module(s.module_id),
                    "firm_name": names.firm(s.firm_id) if s.firm_id else None,
                    "first_week": s.first_week,
                    "last_week": s.last_week,
                }
                for s in data.suggestions
            ],
            "plan_version": data.plan_version,
        }
        return self._to_each(
            Source(event.id, event.type, event.network_id),
            coordinators,
            "coordinator_shortfall",
            "shortfall",
            lambda language: in_language(facts, language),
        )

    def shortfall_resolved(
        self,
        event: ShortfallResolved,
        announced: AnnouncedShortfall,
        coordinators: list[Party],
        names: Names,
        *,
        learner_left: bool | None = False,
    ) -> list[Outgoing]:
        """Tell the network's coordinators that an announced shortfall is met now (or gone with the learner).

        The event carries ids only; the learner's name, the reason and what was missing come from the
        shortfall as it was announced. `learner_left`: None when the directory no longer knows the learner,
        so the message claims neither.
        """
        data = event.data
        facts = {
            "shortfall_id": data.shortfall_id,
            **shortfall_facts(
                names,
                learner_name=announced.learner_name,
                group_id=data.group_id,
                module_id=data.module_id,
                missing=announced.missing,
                reason=announced.reason,
            ),
            "learner_left": learner_left,
            "plan_version": data.plan_version,
        }
        return self._to_each(
            Source(event.id, event.type, event.network_id),
            coordinators,
            "coordinator_shortfall_resolved",
            "shortfall_resolved",
            lambda language: in_language(facts, language),
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
        self, event: SeatDeficitResolved, announced: AnnouncedDeficit, coordinators: list[Party]
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
        self, phase: Phase, days: int, learner: Party, host: Party | None, *, days_left: int | None = None
    ) -> Outgoing | None:
        """The reminder scheduled `days` before the phase (its identity), telling `days_left` (default: `days`)."""
        source = Source(f"reminder:{phase.assignment_id}:{phase.sequence}:{days}", "Reminder", phase.network_id)
        context = {
            "days": days if days_left is None else days_left,
            "assignment_id": phase.assignment_id,
            "learner_name": phase.learner_name,
            "module_name": phase.module_name,
            "firm_name": phase.firm_name,
            "firm_address": host.address if host else None,
            "start_date": phase.start_date,
            "end_date": phase.end_date,
            "start_week": phase.start_week,
            "end_week": phase.end_week,
        }
        return self._message(source, learner, "learner_reminder", "reminder", lambda _language: context)

    def digest(self, source: Source, coordinators: list[Party], context: dict[str, Any]) -> list[Outgoing]:
        """The weekly digest; each open shortfall's reason in the coordinator's language."""
        return self._to_each(
            source,
            coordinators,
            "coordinator_digest",
            "digest",
            lambda language: {**context, "shortfalls": [in_language(s, language) for s in context["shortfalls"]]},
        )

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
            message = self._message(source, party, template, kind, context_in)
            if message is not None:
                out.append(message)
        return out


def why(event: AssignmentMade | AssignmentChanged | AssignmentCancelled, language: Language) -> str:
    """Why a phase changed or was cancelled, in this language ("" for a new phase)."""
    if isinstance(event, AssignmentMade):
        return ""
    data = event.data
    # The firm a change is about is the one the phase leaves; a cancelled phase leaves its own.
    firm = event.data.previous.firm_name if isinstance(event, AssignmentChanged) else data.firm_name
    return change_reason_sentence(
        data.reason_code,
        language,
        sentence=data.reason,
        learner_name=data.learner_name,
        module_name=data.module_name,
        firm_name=firm,
    )


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
