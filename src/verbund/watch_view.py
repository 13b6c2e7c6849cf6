"""How `verbund watch` shows an event: one row for the live table, and the same row as one plain line."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from rich.table import Table
from verbund_schemas import (
    AssignmentCancelled,
    AssignmentChanged,
    AssignmentData,
    AssignmentMade,
    Envelope,
    NotificationDelivered,
    NotificationFailed,
    PlanPublished,
    SeatDeficitDetected,
    SeatDeficitResolved,
    ShortfallDetected,
    ShortfallResolved,
)

COLUMNS = ("time", "network", "event", "learner", "module", "firm", "weeks", "detail")


@dataclass(frozen=True)
class WatchRow:
    """What a coordinator needs to see of one event; empty strings where a column does not apply."""

    time: str
    network: str
    event: str
    learner: str = ""
    module: str = ""
    firm: str = ""
    weeks: str = ""
    detail: str = ""
    style: str = ""

    def cells(self) -> tuple[str, ...]:
        return (self.time, self.network, self.event, self.learner, self.module, self.firm, self.weeks, self.detail)

    def plain(self) -> str:
        """One line, `label=value` pairs, for logs, pipes and tests."""
        parts = [self.time, self.event, f"network={self.network}"]
        for label, value in (
            ("learner", self.learner),
            ("module", self.module),
            ("firm", self.firm),
            ("weeks", self.weeks),
        ):
            if value:
                parts.append(f"{label}={value}")
        if self.detail:
            parts.append(f"| {self.detail}")
        return " ".join(parts)


def _dates(first: dt.date, last: dt.date) -> str:
    return f"{first:%d.%m.%Y}–{last:%d.%m.%Y}"


def _span(data: AssignmentData) -> str:
    return f"{data.start_week}..{data.end_week} ({_dates(data.start_date, data.end_date)})"


def _weeks(first: str, last: str) -> str:
    return first if first == last else f"{first}..{last}"


def _named(identifier: str, name: str) -> str:
    return f"{name} ({identifier})" if name and name != identifier else identifier


def _assignment_row(event: AssignmentMade | AssignmentChanged | AssignmentCancelled, time: str) -> WatchRow:
    data = event.data
    detail = f"plan v{data.plan_version}" + (", frozen" if data.frozen else "")
    style = "green"
    if isinstance(event, AssignmentChanged):
        prev = event.data.previous
        detail = (
            f"was {_named(prev.firm_id, prev.firm_name)} {prev.start_week}..{prev.end_week}: "
            f"{event.data.reason} ({detail})"
        )
        style = "yellow"
    elif isinstance(event, AssignmentCancelled):
        detail = f"{event.data.reason} ({detail})"
        style = "red"
    return WatchRow(
        time=time,
        network=event.subject,
        event=event.type,
        learner=_named(data.learner_id, data.learner_name),
        module=_named(data.module_id, data.module_name),
        firm=_named(data.firm_id, data.firm_name),
        weeks=_span(data),
        detail=detail,
        style=style,
    )


def row_for(event: Envelope) -> WatchRow | None:
    """The row for an event watch shows, or None for an event it does not."""
    time = event.time.astimezone(dt.UTC).strftime("%H:%M:%S")
    if isinstance(event, AssignmentMade | AssignmentChanged | AssignmentCancelled):
        return _assignment_row(event, time)
    if isinstance(event, PlanPublished):
        p = event.data
        verdict = "complete" if p.complete else "NOT complete"
        if p.deficits:
            verdict += (
                f": {p.deficits} firm x module below the minimum in {p.deficit_weeks} weeks "
                f"({p.missing_learner_weeks} learner-weeks missing)"
            )
        return WatchRow(
            time=time,
            network=event.subject,
            event=event.type,
            detail=(
                f"plan v{p.plan_version}: {p.learners} learners, {p.assignments} assignments, "
                f"{p.shortfalls} shortfalls; {p.made} made, {p.changed} changed, {p.cancelled} cancelled; "
                f"objective {p.objective} by {p.solver} in {p.solve_seconds:.1f} s; {verdict}"
            ),
            style="bold cyan" if p.complete else "bold red",
        )
    if isinstance(event, SeatDeficitDetected):
        d = event.data
        spans = "; ".join(
            f"{_weeks(s.first_week, s.last_week)} planned {s.planned} of min {s.minimum}" for s in d.spans
        )
        if d.spans_omitted:
            spans += f"; and {d.spans_omitted} more spans"
        return WatchRow(
            time=time,
            network=event.subject,
            event=event.type,
            module=_named(d.module_id, d.module_name),
            firm=_named(d.firm_id, d.firm_name),
            weeks=_weeks(d.spans[0].first_week, d.spans[-1].last_week),
            detail=(
                f"below the minimum group: {spans} ({d.missing_learner_weeks} learner-weeks missing, "
                f"plan v{d.plan_version})"
            ),
            style="bold red",
        )
    if isinstance(event, SeatDeficitResolved):
        gone = event.data
        return WatchRow(
            time=time,
            network=event.subject,
            event=event.type,
            module=_named(gone.module_id, gone.module_name),
            firm=_named(gone.firm_id, gone.firm_name),
            detail=(gone.message or "every week meets the minimum") + f" (plan v{gone.plan_version})",
            style="green",
        )
    if isinstance(event, ShortfallDetected):
        s = event.data
        detail = f"[{s.reason.value}] {s.message}"
        if s.suggestions:
            detail += " — would help: " + "; ".join(
                f"{g.seats} seat(s) for {g.module_id} at {g.firm_id or 'any firm'} {g.first_week}..{g.last_week}"
                for g in s.suggestions
            )
        return WatchRow(
            time=time,
            network=event.subject,
            event=event.type,
            learner=_named(s.learner_id, s.learner_name),
            module=s.module_id or f"group {s.group_id}",
            detail=f"{detail} (missing {s.missing}, plan v{s.plan_version})",
            style="bold red",
        )
    if isinstance(event, ShortfallResolved):
        r = event.data
        return WatchRow(
            time=time,
            network=event.subject,
            event=event.type,
            learner=r.learner_id,
            module=r.module_id or f"group {r.group_id}",
            detail=(r.message or "resolved") + f" (plan v{r.plan_version})",
            style="green",
        )
    if isinstance(event, NotificationDelivered | NotificationFailed):
        n = event.data
        detail = f"{n.kind} via {n.channel.value} for {n.source_event_type}, attempt {n.attempts}"
        if isinstance(event, NotificationFailed):
            detail += f": {event.data.error}"
        return WatchRow(
            time=time,
            network=event.subject,
            event=event.type,
            learner=n.recipient,
            detail=detail,
            style="red" if isinstance(event, NotificationFailed) else "blue",
        )
    return None


_MIN_WIDTHS = {"time": 8, "event": 14, "weeks": 18}
_MAX_WIDTHS = {"network": 16, "event": 16, "learner": 20, "module": 20, "firm": 20, "weeks": 20}


def new_table() -> Table:
    # One line per event, so the live view holds as many events as the terminal has lines; the plain
    # mode (and the full row in a pipe) keeps every word.
    table = Table(expand=True, show_lines=False)
    for name in COLUMNS:
        table.add_column(
            name,
            overflow="ellipsis",
            no_wrap=True,
            min_width=_MIN_WIDTHS.get(name),
            max_width=_MAX_WIDTHS.get(name),
            ratio=1 if name == "detail" else None,
        )
    return table


def table_of(rows: list[WatchRow], title: str) -> Table:
    """The live table: the latest rows, oldest first."""
    table = new_table()
    table.title = title
    for row in rows:
        table.add_row(*row.cells(), style=row.style)
    return table
