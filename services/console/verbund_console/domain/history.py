"""The plan history: each plan version with the assignments it made, moved and cancelled, and why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from .change_reasons import change_reason_in_words

KINDS = ("made", "changed", "cancelled")


class PlanLike(Protocol):
    plan_version: int
    published_at: dt.datetime
    complete: bool
    solver: str
    learners: int
    assignments: int
    shortfalls: int
    deficits: int
    caused_by: list[dict[str, str]]
    caused_by_count: int


class PlanChangeLike(Protocol):
    event_id: str
    plan_version: int
    at: dt.datetime
    kind: str
    learner_id: str
    learner_name: str
    module_id: str
    module_name: str
    firm_name: str
    start_week: str
    end_week: str
    previous_firm_name: str | None
    previous_start_week: str | None
    previous_end_week: str | None
    reason: str
    reason_code: str | None


@dataclass(frozen=True)
class ChangeLine:
    kind: str
    learner_id: str
    learner_name: str
    module_name: str
    before: str  # firm and weeks before ("" for a made one)
    after: str  # firm and weeks now (for a cancelled one: what was cancelled)
    why: str  # the reason code in words ("" for a made one)
    sentence: str  # the matcher's own sentence (English)


@dataclass(frozen=True)
class VersionView:
    version: int
    published_at: dt.datetime | None  # None: its assignment events are in, its PlanPublished not yet
    complete: bool
    solver: str
    counts: dict[str, int]  # made / changed / cancelled, as stored (all of them, not only the lines shown)
    lines: list[ChangeLine]
    omitted: int  # lines of this version not shown (the CSV has all)
    learners: int
    shortfalls: int
    deficits: int
    cause: str = ""  # "after CapacityWithdrawn <id>": the inbound events of the batch that produced the version


# How many of a batch's events the page names; the rest are counted ("and 5 more").
CAUSES_SHOWN = 3
CAUSE_WORDS = {"en": ("after", "and", "more"), "de": ("nach", "und", "weiteren")}


def cause_in_words(caused_by: Sequence[Mapping[str, str]], count: int, language: str) -> str:
    """The inbound events a version followed: "after CapacityWithdrawn 1f0c…-…, LearnerUpdated 9a2b… and 3 more"."""
    if not caused_by:
        return ""
    after, and_, more = CAUSE_WORDS.get(language, CAUSE_WORDS["en"])
    named = [f"{c.get('type', '')} {c.get('event_id', '')}" for c in caused_by[:CAUSES_SHOWN]]
    rest = max(count, len(caused_by)) - len(named)
    if rest > 0:
        return f"{after} {', '.join(named)} {and_} {rest} {more}"
    if len(named) == 1:
        return f"{after} {named[0]}"
    return f"{after} {', '.join(named[:-1])} {and_} {named[-1]}"


def _place(firm: str | None, first: str | None, last: str | None) -> str:
    return f"{firm} {first}–{last}" if firm and first and last else ""


def change_line(change: PlanChangeLike, language: str) -> ChangeLine:
    before = _place(change.previous_firm_name, change.previous_start_week, change.previous_end_week)
    after = _place(change.firm_name, change.start_week, change.end_week)
    why = ""
    if change.kind != "made":
        why = change_reason_in_words(
            change.reason_code,
            language,
            learner=change.learner_name,
            module=change.module_name,
            firm=change.previous_firm_name or change.firm_name,
        )
    return ChangeLine(
        change.kind, change.learner_id, change.learner_name, change.module_name, before, after, why, change.reason
    )


def history_views(
    versions: Sequence[int],
    plans: Mapping[int, PlanLike],
    changes: Mapping[int, Iterable[PlanChangeLike]],
    counts: Mapping[int, Mapping[str, int]],
    language: str,
) -> list[VersionView]:
    """Newest version first; within one, moves and cancellations before new assignments, then by learner."""
    views = []
    order = {"changed": 0, "cancelled": 1, "made": 2}
    for version in sorted(versions, reverse=True):
        plan = plans.get(version)
        shown = sorted(changes.get(version, []), key=lambda c: (order.get(c.kind, 3), c.learner_name, c.module_name))
        tally = {kind: int(counts.get(version, {}).get(kind, 0)) for kind in KINDS}
        views.append(
            VersionView(
                version=version,
                published_at=plan.published_at if plan else None,
                complete=plan.complete if plan else False,
                solver=plan.solver if plan else "",
                counts=tally,
                lines=[change_line(c, language) for c in shown],
                omitted=max(0, sum(tally.values()) - len(shown)),
                learners=plan.learners if plan else 0,
                shortfalls=plan.shortfalls if plan else 0,
                deficits=plan.deficits if plan else 0,
                cause=cause_in_words(plan.caused_by, plan.caused_by_count, language) if plan else "",
            )
        )
    return views
