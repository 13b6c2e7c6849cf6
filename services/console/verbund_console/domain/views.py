"""What each page shows, computed from read-model rows (anything with the attributes below), without I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from verbund_schemas import week_index, week_monday

from .reasons import reason_in_words


class LearnerLike(Protocol):
    learner_id: str
    name: str
    withdrawn: bool


class OfferLike(Protocol):
    first_week: str
    last_week: str
    max_seats: int
    withdrawn: bool


class AssignmentLike(Protocol):
    learner_id: str
    learner_name: str
    module_id: str
    module_name: str
    firm_name: str
    start_week: str
    end_week: str
    start_date: dt.date
    end_date: dt.date
    cancelled: bool


class ProblemLike(Protocol):
    problem_id: str
    kind: str
    reason: str
    message: str
    learner_id: str | None
    learner_name: str | None
    firm_name: str | None
    module_id: str | None
    module_name: str | None
    missing: int
    detail: dict[str, Any]
    detected_at: dt.datetime
    resolved_at: dt.datetime | None


@dataclass(frozen=True)
class Overview:
    learners: int
    placed: int
    partial: int
    unplaced: int
    seats_offered: int
    seats_used: int
    open_shortfalls: int
    open_deficits: int
    rejected_24h: int


def weeks_of(first_week: str, last_week: str) -> int:
    return week_index(last_week, first_week) + 1


def overview(
    learners: Iterable[LearnerLike],
    offers: Iterable[OfferLike],
    assignments: Iterable[AssignmentLike],
    problems: Iterable[ProblemLike],
    rejected_24h: int,
) -> Overview:
    """Placed: has phases and nothing unmet; partially placed: phases and an open shortfall; unplaced: no phase."""
    active = [learner.learner_id for learner in learners if not learner.withdrawn]
    live = [a for a in assignments if not a.cancelled]
    with_phases = {a.learner_id for a in live}
    open_problems = [p for p in problems if p.resolved_at is None]
    short = {p.learner_id for p in open_problems if p.kind == "shortfall"}
    placed = sum(1 for learner in active if learner in with_phases and learner not in short)
    partial = sum(1 for learner in active if learner in with_phases and learner in short)
    return Overview(
        learners=len(active),
        placed=placed,
        partial=partial,
        unplaced=len(active) - placed - partial,
        seats_offered=sum(o.max_seats * weeks_of(o.first_week, o.last_week) for o in offers if not o.withdrawn),
        seats_used=sum(weeks_of(a.start_week, a.end_week) for a in live),
        open_shortfalls=sum(1 for p in open_problems if p.kind == "shortfall"),
        open_deficits=sum(1 for p in open_problems if p.kind == "deficit"),
        rejected_24h=rejected_24h,
    )


@dataclass(frozen=True)
class ProblemView:
    problem_id: str
    kind: str
    who: str  # the learner, or firm and module
    reason_words: str
    message: str
    remedies: list[str]
    detected_at: dt.datetime
    resolved: bool


def problem_views(problems: Iterable[ProblemLike], language: str, words: dict[str, str]) -> list[ProblemView]:
    """Newest first; open and resolved alike (the page greys the resolved ones)."""
    views: list[ProblemView] = []
    for p in sorted(problems, key=lambda p: (p.detected_at, p.problem_id), reverse=True):
        if p.kind == "shortfall":
            who = f"{p.learner_name or p.learner_id} · {words['module']} {p.module_id or '–'}"
            remedies = [
                f"{s.get('firm_id') or words['any_firm']}: {s['seats']} {words['seat_word']} "
                f"{words['module']} {s['module_id']}, {s['first_week']}–{s['last_week']}"
                for s in p.detail.get("suggestions", [])
            ]
        else:
            who = f"{p.firm_name} · {p.module_name}"
            remedies = [
                f"{s['first_week']}–{s['last_week']}: {s['planned']}/{s['minimum']}" for s in p.detail.get("spans", [])
            ]
        views.append(
            ProblemView(
                problem_id=p.problem_id,
                kind=p.kind,
                who=who,
                reason_words=reason_in_words(p.reason, language),
                message=p.message,
                remedies=remedies,
                detected_at=p.detected_at,
                resolved=p.resolved_at is not None,
            )
        )
    return views


@dataclass(frozen=True)
class Bar:
    module_id: str
    module_name: str
    firm_name: str
    start_week: str
    end_week: str
    start_date: dt.date
    end_date: dt.date
    left: float  # percent of the timeline's width
    width: float
    hue: int  # colour of the module, one per module on the page


@dataclass(frozen=True)
class TimelineRow:
    learner_id: str
    name: str
    bars: list[Bar]


@dataclass(frozen=True)
class Timeline:
    first_week: str | None
    last_week: str | None
    rows: list[TimelineRow]
    page: int
    pages: int
    ticks: list[tuple[float, str]]  # (left %, week) marks along the top


GOLDEN_ANGLE = 137.508


def module_hues(module_ids: Iterable[str]) -> dict[str, int]:
    """A colour per module, far apart for neighbours in id order (a hash of the id put M1 and M2 side by side)."""
    return {module: round(i * GOLDEN_ANGLE) % 360 for i, module in enumerate(sorted(set(module_ids)))}


def timeline(
    learners: Sequence[tuple[str, str]],
    assignments: Iterable[AssignmentLike],
    *,
    page: int,
    pages: int,
    span: tuple[str, str] | None,
) -> Timeline:
    """One row per learner of this page (id, name), a bar per live assignment placed on the network's week span."""
    by_learner: dict[str, list[AssignmentLike]] = {}
    for a in assignments:
        if not a.cancelled:
            by_learner.setdefault(a.learner_id, []).append(a)
    if span is None:
        return Timeline(None, None, [TimelineRow(i, n, []) for i, n in learners], page, pages, [])
    first, last = span
    total = weeks_of(first, last)
    hues = module_hues(a.module_id for placed in by_learner.values() for a in placed)
    rows = []
    for learner_id, name in learners:
        bars = [
            Bar(
                module_id=a.module_id,
                module_name=a.module_name,
                firm_name=a.firm_name,
                start_week=a.start_week,
                end_week=a.end_week,
                start_date=a.start_date,
                end_date=a.end_date,
                left=round(100 * week_index(a.start_week, first) / total, 3),
                width=round(100 * weeks_of(a.start_week, a.end_week) / total, 3),
                hue=hues[a.module_id],
            )
            for a in sorted(by_learner.get(learner_id, []), key=lambda a: a.start_week)
        ]
        rows.append(TimelineRow(learner_id, name, bars))
    step = max(1, total // 8)
    ticks = [(round(100 * i / total, 3), f"{_week_label(first, i)}") for i in range(0, total, step)]
    return Timeline(first, last, rows, page, pages, ticks)


def _week_label(first: str, offset: int) -> str:
    monday = week_monday(first) + dt.timedelta(weeks=offset)
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"
