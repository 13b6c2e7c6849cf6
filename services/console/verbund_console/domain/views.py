"""What each page shows, computed from read-model rows (anything with the attributes below), without I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

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
    firm_id: str
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


def problem_views(
    problems: Iterable[ProblemLike],
    language: str,
    words: dict[str, str],
    module_names: Mapping[str, str] | None = None,
) -> list[ProblemView]:
    """Newest first; open and resolved alike (the page greys the resolved ones). A shortfall event names its
    module only by id: `module_names` (the network's, from its curricula) names it, the id where none is known."""
    names = module_names or {}

    def module(module_id: str | None, named: str | None = None) -> str:
        return (names.get(module_id) if module_id else None) or named or module_id or "–"

    views: list[ProblemView] = []
    for p in sorted(problems, key=lambda p: (p.detected_at, p.problem_id), reverse=True):
        if p.kind == "shortfall":
            who = f"{p.learner_name or p.learner_id} · {words['module']} {module(p.module_id, p.module_name)}"
            remedies = [
                f"{s.get('firm_id') or words['any_firm']}: {s['seats']} {words['seat_word']} "
                f"{words['module']} {module(s['module_id'])}, {s['first_week']}–{s['last_week']}"
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


ZOOMS = ("week", "month", "year")
DEFAULT_ZOOM = "month"
# Width of one week on the page: week and month zoom scroll sideways, year fits the page.
REM_PER_WEEK = {"week": 2.6, "month": 0.9, "year": None}
STATUSES = ("placed", "partial", "unplaced")
MAX_FILTER_TEXT = 128


@dataclass(frozen=True)
class TimelineFilter:
    """What a timeline (per learner or per firm) is narrowed to, and how it is zoomed; from the query string."""

    firm: str = ""
    module: str = ""
    cohort: str = ""  # the year of the learners' first week
    status: str = ""  # placed | partial | unplaced
    search: str = ""  # part of a learner's name
    zoom: str = DEFAULT_ZOOM
    page: int = 0

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> TimelineFilter:
        """Unknown or malformed values fall back to "no filter" rather than an error page."""

        def text(name: str) -> str:
            return (query.get(name) or "").strip()[:MAX_FILTER_TEXT]

        cohort = text("cohort")
        status = text("status")
        zoom = text("zoom")
        try:
            page = max(0, int(query.get("page") or "0"))
        except ValueError:
            page = 0
        return cls(
            firm=text("firm"),
            module=text("module"),
            cohort=cohort if len(cohort) == 4 and cohort.isdigit() else "",
            status=status if status in STATUSES else "",
            search=text("search"),
            zoom=zoom if zoom in ZOOMS else DEFAULT_ZOOM,
            page=min(page, 1_000_000),
        )

    @property
    def about_learners(self) -> bool:
        """Narrowed by something about the learners themselves (not by firm or module)."""
        return bool(self.cohort or self.status or self.search)

    def query(self, **changes: str | int) -> str:
        """The query string of this filter with some values changed (for paging and zoom links); empty ones left out."""
        values = {
            "firm": self.firm,
            "module": self.module,
            "cohort": self.cohort,
            "status": self.status,
            "search": self.search,
            "zoom": self.zoom,
            "page": self.page,
        }
        values.update(changes)
        kept = {k: v for k, v in values.items() if v not in ("", 0) and not (k == "zoom" and v == DEFAULT_ZOOM)}
        return "?" + urlencode(kept) if kept else "?"


def learner_status(has_phases: bool, open_shortfall: bool) -> str:
    """The overview's three kinds: placed, partially placed (phases and an open shortfall), unplaced."""
    if not has_phases:
        return "unplaced"
    return "partial" if open_shortfall else "placed"


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
    learner_id: str = ""
    learner_name: str = ""
    dimmed: bool = False  # outside the firm or module filtered for: shown for context, greyed


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
    ticks: list[tuple[float, str]]  # (left %, label) marks along the top
    zoom: str = DEFAULT_ZOOM
    width_rem: float | None = None  # the lane's width at this zoom; None: fit the page


GOLDEN_ANGLE = 137.508


def module_hues(module_ids: Iterable[str]) -> dict[str, int]:
    """A colour per module, far apart for neighbours in id order (a hash of the id put M1 and M2 side by side)."""
    return {module: round(i * GOLDEN_ANGLE) % 360 for i, module in enumerate(sorted(set(module_ids)))}


def _bar(a: AssignmentLike, first: str, total: int, hues: dict[str, int], dimmed: bool = False) -> Bar:
    return Bar(
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
        learner_id=a.learner_id,
        learner_name=a.learner_name,
        dimmed=dimmed,
    )


def timeline(
    learners: Sequence[tuple[str, str]],
    assignments: Iterable[AssignmentLike],
    *,
    page: int,
    pages: int,
    span: tuple[str, str] | None,
    zoom: str = DEFAULT_ZOOM,
    language: str = "en",
    focus: Callable[[AssignmentLike], bool] | None = None,
) -> Timeline:
    """One row per learner of this page (id, name), a bar per live assignment placed on the network's week span.

    `focus`: the bars the filter asked for; the learner's other bars are dimmed, not hidden (the rotation is the
    context a coordinator reads a phase in)."""
    by_learner: dict[str, list[AssignmentLike]] = {}
    for a in assignments:
        if not a.cancelled:
            by_learner.setdefault(a.learner_id, []).append(a)
    if span is None:
        return Timeline(None, None, [TimelineRow(i, n, []) for i, n in learners], page, pages, [], zoom)
    first, last = span
    total = weeks_of(first, last)
    hues = module_hues(a.module_id for placed in by_learner.values() for a in placed)
    rows = []
    for learner_id, name in learners:
        bars = [
            _bar(a, first, total, hues, dimmed=focus is not None and not focus(a))
            for a in sorted(by_learner.get(learner_id, []), key=lambda a: a.start_week)
        ]
        rows.append(TimelineRow(learner_id, name, bars))
    return Timeline(first, last, rows, page, pages, ticks(first, last, zoom, language), zoom, _width(total, zoom))


def _width(total_weeks: int, zoom: str) -> float | None:
    per_week = REM_PER_WEEK.get(zoom)
    return round(per_week * total_weeks, 2) if per_week else None


def ticks(first: str, last: str, zoom: str, language: str) -> list[tuple[float, str]]:
    """Marks along the top: every week (week zoom), every month (month zoom), every quarter (year zoom)."""
    total = weeks_of(first, last)
    start = week_monday(first)
    marks: list[tuple[float, str]] = []
    previous: dt.date | None = None
    for offset in range(total):
        monday = start + dt.timedelta(weeks=offset)
        # The Thursday decides an ISO week's month and year, as it decides its year.
        thursday = monday + dt.timedelta(days=3)
        left = round(100 * offset / total, 3)
        if zoom == "week":
            year, week, _ = monday.isocalendar()
            marks.append((left, f"{year}-W{week:02d}" if offset == 0 or week == 1 else f"W{week:02d}"))
        elif previous is None or (thursday.year, thursday.month) != (previous.year, previous.month):
            if zoom == "month":
                label = f"{thursday.month:02d}.{thursday.year}" if language == "de" else f"{thursday:%Y-%m}"
                marks.append((left, label))
            elif previous is None or thursday.month in (1, 4, 7, 10):
                quarter = (thursday.month - 1) // 3 + 1
                label = str(thursday.year) if previous is None or quarter == 1 else f"Q{quarter}"
                marks.append((left, label))
        previous = thursday
    return marks


@dataclass(frozen=True)
class FirmRow:
    """One firm × module: its assignments, stacked in lanes so that learners there at the same time do not overlap."""

    firm_id: str
    firm_name: str
    module_id: str
    module_name: str
    lanes: list[list[Bar]]


@dataclass(frozen=True)
class FirmTimeline:
    first_week: str | None
    last_week: str | None
    rows: list[FirmRow]
    page: int
    pages: int
    ticks: list[tuple[float, str]]
    zoom: str = DEFAULT_ZOOM
    width_rem: float | None = None


def firm_timeline(
    pairs: Sequence[tuple[str, str, str, str]],
    assignments: Iterable[AssignmentLike],
    *,
    page: int,
    pages: int,
    span: tuple[str, str] | None,
    zoom: str = DEFAULT_ZOOM,
    language: str = "en",
) -> FirmTimeline:
    """One row per (firm id, firm name, module id, module name) of this page, a bar per live assignment there."""
    by_pair: dict[tuple[str, str], list[AssignmentLike]] = {}
    for a in assignments:
        if not a.cancelled:
            by_pair.setdefault((a.firm_id, a.module_id), []).append(a)
    if span is None:
        rows = [FirmRow(f, fn, m, mn, []) for f, fn, m, mn in pairs]
        return FirmTimeline(None, None, rows, page, pages, [], zoom)
    first, last = span
    total = weeks_of(first, last)
    hues = module_hues(m for _, _, m, _ in pairs)
    rows = []
    for firm_id, firm_name, module_id, module_name in pairs:
        lanes: list[list[Bar]] = []
        ends: list[str] = []  # the last week taken in each lane
        for a in sorted(by_pair.get((firm_id, module_id), []), key=lambda a: (a.start_week, a.learner_name)):
            lane = next((i for i, end in enumerate(ends) if end < a.start_week), None)
            if lane is None:
                lanes.append([])
                ends.append("")
                lane = len(lanes) - 1
            lanes[lane].append(_bar(a, first, total, hues))
            ends[lane] = a.end_week
        rows.append(FirmRow(firm_id, firm_name, module_id, module_name, lanes))
    return FirmTimeline(first, last, rows, page, pages, ticks(first, last, zoom, language), zoom, _width(total, zoom))
