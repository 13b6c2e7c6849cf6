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
    # Calendar dates of the weeks: in the plain line, left out of the tables (the weeks say it, shorter).
    dates: str = ""
    detail: str = ""
    style: str = ""

    def cells(self) -> tuple[str, ...]:
        return (self.time, self.network, self.event, self.learner, self.module, self.firm, self.weeks, self.detail)

    def card(self) -> tuple[str, str, str]:
        """The narrow table's three cells: when and what; who, where and why; the weeks."""
        what = [self.learner, " at ".join(part for part in (self.module, self.firm) if part), self.detail]
        return f"{self.time}\n{self.event}", "\n".join(part for part in what if part), self.weeks

    def plain(self) -> str:
        """One line, `label=value` pairs, for logs, pipes and tests."""
        parts = [self.time, self.event, f"network={self.network}"]
        for label, value in (
            ("learner", self.learner),
            ("module", self.module),
            ("firm", self.firm),
            ("weeks", f"{self.weeks} ({self.dates})" if self.dates else self.weeks),
        ):
            if value:
                parts.append(f"{label}={value}")
        if self.detail:
            parts.append(f"| {self.detail}")
        return " ".join(parts)


def _dates(first: dt.date, last: dt.date) -> str:
    return f"{first:%d.%m.%Y}–{last:%d.%m.%Y}"


def _span(data: AssignmentData) -> str:
    return f"{data.start_week}..{data.end_week}"


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
        dates=_dates(data.start_date, data.end_date),
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


# Below this many columns the eight columns leave too little room: each event becomes a three-cell card.
WIDE = 160
_WIDE_MAX_WIDTHS = {"time": 8, "network": 24, "event": 21, "learner": 30, "module": 30, "firm": 30}
# The widest a week range gets ("2027-W10..2027-W19"); that column is never cut or wrapped.
WEEKS_WIDTH = 18


def new_table(width: int | None = None) -> Table:
    """The live table's columns for a terminal `width` columns wide (None: wide).

    Nothing is cut: learner, module, firm and detail wrap, the weeks never do. On narrow terminals the
    network and the calendar dates are left out (the title names the network; the weeks say when), and each
    event is one row of three cells.
    """
    table = Table(expand=True, show_lines=width is not None and width < WIDE)
    if width is not None and width < WIDE:
        table.add_column("time / event", overflow="fold", min_width=17, max_width=21)
        table.add_column("learner, module at firm, detail", overflow="fold", ratio=1)
        table.add_column("weeks", no_wrap=True, min_width=WEEKS_WIDTH)
        return table
    for name in COLUMNS:
        table.add_column(
            name,
            overflow="fold",
            no_wrap=name in {"time", "weeks"},
            min_width={"weeks": WEEKS_WIDTH, "detail": 24}.get(name),
            max_width=_WIDE_MAX_WIDTHS.get(name),
            # The others keep the width their content needs as long as it fits; the detail takes the rest.
            ratio=1 if name == "detail" else None,
        )
    return table


def table_of(rows: list[WatchRow], title: str, width: int | None = None) -> Table:
    """The live table: the latest rows, oldest first, laid out for a terminal `width` columns wide."""
    table = new_table(width)
    table.title = title
    narrow = width is not None and width < WIDE
    for row in rows:
        table.add_row(*(row.card() if narrow else row.cells()), style=row.style)
    return table


def rows_that_fit(width: int, height: int) -> int:
    """How many events the live table holds on a terminal of this size (a narrow card takes about 4 lines)."""
    lines_per_row = 4 if width < WIDE else 2
    return max(3, (height - 7) // lines_per_row)
