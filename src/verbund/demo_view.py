"""The demo's picture of what the services published: each learner's rotation, shortfalls, messages sent."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from email.message import EmailMessage

from rich.console import Console, ConsoleOptions, RenderResult
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
    SeatSuggestion,
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


# Below this many columns the dates go under the weeks instead of a column of their own.
WIDE = 120


def _by_learner(
    picture: NetworkPicture,
) -> tuple[list[str], dict[str, str], dict[str, list[AssignmentData]], dict[str, list[ShortfallData]]]:
    """Learner ids by name, their names, their phases in time order, their open shortfalls."""
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
    for phases in by_learner.values():
        phases.sort(key=lambda d: d.start_date)
    order = sorted(by_learner, key=lambda lid: (names.get(lid, lid), lid))
    return order, names, by_learner, missing


def _caption(plan: PlanPublishedData | None) -> str:
    if plan is None:
        return "no plan published"
    return (
        f"plan v{plan.plan_version}: {plan.assignments} assignments for {plan.learners} learners, "
        f"{plan.shortfalls} shortfalls, objective {plan.objective} ({plan.solver}, {plan.solve_seconds:.1f} s)"
    )


def rotation_table(network: str, picture: NetworkPicture, width: int | None = None) -> Table:
    """Each learner's rotation, phase by phase in time order (one section per learner); shortfalls in red.

    Nothing is cut at any `width`: names, modules and firms wrap (a learner's id on a line of its own), the
    weeks never do; below WIDE columns the dates move under the weeks.
    """
    order, names, by_learner, missing = _by_learner(picture)
    narrow = width is not None and width < WIDE
    table = Table(title=f"Rotation plans — {network}", caption=_caption(picture.plan))
    longest_id = max((len(lid) + 2 for lid in order), default=8)
    table.add_column("learner", overflow="fold", min_width=min(longest_id, 24))
    table.add_column("#", no_wrap=True)
    table.add_column("weeks" if not narrow else "weeks / dates", no_wrap=True)
    if not narrow:
        table.add_column("dates", no_wrap=True)
    table.add_column("module", overflow="fold", ratio=1)
    table.add_column("firm", overflow="fold", ratio=1)
    for learner in order:
        label = (
            f"{names.get(learner, learner)}\n({learner})" if narrow else f"{names.get(learner, learner)} ({learner})"
        )
        phases = by_learner[learner]
        for n, data in enumerate(phases, start=1):
            weeks = f"{data.start_week}..{data.end_week}"
            when = [f"{weeks}\n{_dates(data)}"] if narrow else [weeks, _dates(data)]
            table.add_row(
                label if n == 1 else "",
                str(n),
                *when,
                data.module_name,
                data.firm_name,
                style="dim" if data.frozen else None,
            )
        for s in missing.get(learner, []):
            table.add_row(
                label if not phases else "",
                "!",
                *([""] if narrow else ["", ""]),
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
        suggestions = "\n".join(_suggestion(g) for g in s.suggestions)
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


@dataclass(frozen=True)
class FinalReport:
    """The demo's tables; laid out when printed, for the width the console has then."""

    picture: Picture
    messages: list[EmailMessage]
    message_limit: int

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = options.max_width
        for network in sorted(self.picture.networks):
            net = self.picture.networks[network]
            if net.plan is None and not net.assignments:
                continue
            yield rotation_table(network, net, width)
            if net.shortfalls:
                yield shortfall_table(network, net)
        yield message_table(self.messages, self.message_limit)
        if self.picture.failed:
            yield Text("Messages that failed:\n" + "\n".join(self.picture.failed), style="red")


def final_report(picture: Picture, messages: list[EmailMessage], message_limit: int) -> FinalReport:
    return FinalReport(picture, messages, message_limit)


def _suggestion(g: SeatSuggestion) -> str:
    return f"{g.seats} seat(s) {g.module_id} at {g.firm_id or 'any firm'}, {g.first_week}..{g.last_week}"


def plain_report(picture: Picture, messages: list[EmailMessage], message_limit: int) -> str:
    """The same report as plain lines, nothing cut or wrapped: for a pipe, a log file or a script."""
    lines: list[str] = []
    for network in sorted(picture.networks):
        net = picture.networks[network]
        if net.plan is None and not net.assignments:
            continue
        order, names, by_learner, missing = _by_learner(net)
        lines += [f"Rotation plans — {network}", _caption(net.plan)]
        for learner in order:
            lines.append(f"{names.get(learner, learner)} ({learner})")
            for n, data in enumerate(by_learner[learner], start=1):
                frozen = " (frozen)" if data.frozen else ""
                lines.append(
                    f"  {n}  {data.start_week}..{data.end_week}  {_dates(data)}  {data.module_name}"
                    f" at {data.firm_name}{frozen}"
                )
            for s in missing.get(learner, []):
                lines.append(f"  !  shortfall: {s.reason.value}  {s.module_id or f'group {s.group_id}'}")
        if net.shortfalls:
            lines += ["", f"Shortfalls — {network}"]
            for s in sorted(net.shortfalls.values(), key=lambda s: (s.learner_name, s.shortfall_id)):
                resolve = "; ".join(_suggestion(g) for g in s.suggestions) or "—"
                lines.append(
                    f"{s.learner_name} ({s.learner_id}): {s.module_id or f'group {s.group_id}'} [{s.reason.value}]"
                    f" {s.message} Would resolve it: {resolve}"
                )
        lines.append("")
    shown = messages[:message_limit]
    lines.append(f"Messages sent ({len(messages)})")
    for message in shown:
        lines.append(f"{message.get('To', '')}: {message.get('Subject', '')}")
        lines += [f"  calendar: {line.render()}" for line in calendar_lines(message)]
    if len(messages) > len(shown):
        lines.append(f"… and {len(messages) - len(shown)} more")
    if picture.failed:
        lines += ["Messages that failed:", *picture.failed]
    return "\n".join(lines)
