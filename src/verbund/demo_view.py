"""The demo's picture of what the services published: each learner's rotation, shortfalls, messages sent."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from email.message import EmailMessage

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from verbund_schemas import (
    AssignmentCancelled,
    AssignmentChanged,
    AssignmentData,
    AssignmentMade,
    Envelope,
    NotificationDelivered,
    NotificationFailed,
    PlanPublished,
    PlanPublishedData,
    ShortfallData,
    ShortfallDetected,
    ShortfallResolved,
)

from verbund.mailsink import calendar_parts


@dataclass
class NetworkPicture:
    """One network as the published events leave it: current assignments, open shortfalls, latest plan."""

    assignments: dict[str, AssignmentData] = field(default_factory=dict)
    shortfalls: dict[str, ShortfallData] = field(default_factory=dict)
    plan: PlanPublishedData | None = None


@dataclass
class Picture:
    """Folds assignment, shortfall and notification events, in the order they are read, into NetworkPictures."""

    networks: dict[str, NetworkPicture] = field(default_factory=dict)
    # By notification id: a delivery log entry published again after a crash is the same entry, counted once.
    delivered_ids: set[str] = field(default_factory=set)
    failed_ids: set[str] = field(default_factory=set)
    failed: list[str] = field(default_factory=list)

    def apply(self, event: Envelope) -> None:
        net = self.networks.setdefault(event.subject, NetworkPicture())
        if isinstance(event, AssignmentMade | AssignmentChanged):
            net.assignments[event.data.assignment_id] = event.data
        elif isinstance(event, AssignmentCancelled):
            net.assignments.pop(event.data.assignment_id, None)
        elif isinstance(event, PlanPublished):
            if net.plan is None or event.data.plan_version >= net.plan.plan_version:
                net.plan = event.data
        elif isinstance(event, ShortfallDetected):
            net.shortfalls[event.data.shortfall_id] = event.data
        elif isinstance(event, ShortfallResolved):
            net.shortfalls.pop(event.data.shortfall_id, None)
        elif isinstance(event, NotificationDelivered):
            self.delivered_ids.add(event.data.notification_id)
        elif isinstance(event, NotificationFailed) and event.data.notification_id not in self.failed_ids:
            self.failed_ids.add(event.data.notification_id)
            self.failed.append(f"{event.data.recipient} ({event.data.kind}): {event.data.error}")

    @property
    def delivered(self) -> int:
        """Messages the notifier has logged as delivered."""
        return len(self.delivered_ids)

    def planned(self, network: str) -> bool:
        net = self.networks.get(network)
        return net is not None and net.plan is not None


def _dates(data: AssignmentData) -> str:
    return f"{data.start_date:%d.%m.%Y} – {data.end_date:%d.%m.%Y}"


def rotation_table(network: str, picture: NetworkPicture) -> Table:
    """Each learner's rotation, phase by phase in time order (one section per learner); shortfalls in red."""
    by_learner: dict[str, list[AssignmentData]] = {}
    names: dict[str, str] = {}
    for data in picture.assignments.values():
        by_learner.setdefault(data.learner_id, []).append(data)
        names[data.learner_id] = data.learner_name
    missing: dict[str, list[ShortfallData]] = {}
    for s in picture.shortfalls.values():
        missing.setdefault(s.learner_id, []).append(s)
        names.setdefault(s.learner_id, s.learner_name)
        by_learner.setdefault(s.learner_id, [])
    plan = picture.plan
    caption = (
        f"plan v{plan.plan_version}: {plan.assignments} assignments for {plan.learners} learners, "
        f"{plan.shortfalls} shortfalls, objective {plan.objective} ({plan.solver}, {plan.solve_seconds:.1f} s)"
        if plan
        else "no plan published"
    )
    table = Table(title=f"Rotation plans — {network}", caption=caption)
    for name in ("learner", "#", "weeks", "dates", "module", "firm"):
        table.add_column(name, no_wrap=name in {"#", "weeks", "dates"})
    for learner in sorted(by_learner, key=lambda lid: (names.get(lid, lid), lid)):
        label = f"{names.get(learner, learner)} ({learner})"
        phases = sorted(by_learner[learner], key=lambda d: d.start_date)
        for n, data in enumerate(phases, start=1):
            table.add_row(
                label if n == 1 else "",
                str(n),
                f"{data.start_week}..{data.end_week}",
                _dates(data),
                data.module_name,
                data.firm_name,
                style="dim" if data.frozen else None,
            )
        for s in missing.get(learner, []):
            table.add_row(
                label if not phases else "",
                "!",
                "",
                "",
                s.module_id or f"group {s.group_id}",
                Text(f"shortfall: {s.reason.value}", style="bold red"),
            )
        table.add_section()
    return table


def shortfall_table(network: str, picture: NetworkPicture) -> Table:
    table = Table(title=f"Shortfalls — {network}", show_lines=True, expand=True)
    for name in ("learner", "module / group", "reason", "what is wrong", "would resolve it"):
        table.add_column(name, overflow="fold")
    for s in sorted(picture.shortfalls.values(), key=lambda s: (s.learner_name, s.shortfall_id)):
        suggestions = "\n".join(
            f"{g.seats} seat(s) {g.module_id} at {g.firm_id or 'any firm'}, {g.first_week}..{g.last_week}"
            for g in s.suggestions
        )
        table.add_row(
            f"{s.learner_name} ({s.learner_id})",
            s.module_id or f"group {s.group_id}",
            Text(s.reason.value, style="bold red"),
            s.message,
            suggestions or "—",
        )
    return table


@dataclass(frozen=True)
class CalendarLine:
    summary: str
    start: str
    end: str
    location: str

    def render(self) -> str:
        where = f" @ {self.location}" if self.location else ""
        return f"{self.summary}: {self.start} – {self.end}{where}"


def _day(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def calendar_lines(message: EmailMessage) -> list[CalendarLine]:
    """SUMMARY, DTSTART, DTEND and LOCATION of every calendar entry attached to a message."""
    lines = []
    for calendar in calendar_parts(message):
        for entry in calendar.walk("VEVENT"):
            lines.append(
                CalendarLine(
                    summary=str(entry.get("SUMMARY", "")),
                    start=_day(entry.decoded("DTSTART")) if entry.get("DTSTART") else "",
                    end=_day(entry.decoded("DTEND")) if entry.get("DTEND") else "",
                    location=str(entry.get("LOCATION", "")),
                )
            )
    return lines


def message_table(messages: list[EmailMessage], limit: int) -> Table:
    """To whom, subject, calendar entries; the first `limit` messages."""
    shown = messages[:limit]
    more = len(messages) - len(shown)
    table = Table(
        title=f"Messages sent ({len(messages)})",
        caption=f"… and {more} more" if more > 0 else None,
        show_lines=True,
        expand=True,
    )
    for name in ("to", "subject", "calendar entry (SUMMARY: DTSTART – DTEND @ LOCATION)"):
        table.add_column(name, overflow="fold")
    for message in shown:
        entries = "\n".join(line.render() for line in calendar_lines(message)) or "—"
        table.add_row(str(message.get("To", "")), str(message.get("Subject", "")), entries)
    return table


def final_report(picture: Picture, messages: list[EmailMessage], message_limit: int) -> Group:
    parts: list[RenderableType] = []
    for network in sorted(picture.networks):
        net = picture.networks[network]
        if net.plan is None and not net.assignments:
            continue
        parts.append(rotation_table(network, net))
        if net.shortfalls:
            parts.append(shortfall_table(network, net))
    parts.append(message_table(messages, message_limit))
    if picture.failed:
        parts.append(Text("Messages that failed:\n" + "\n".join(picture.failed), style="red"))
    return Group(*parts)
