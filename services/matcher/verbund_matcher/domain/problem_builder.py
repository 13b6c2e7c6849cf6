"""Builds the planner's Problem (week indices) from a network's state (ISO weeks), and maps results back."""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Protocol

from verbund_schemas import CurriculumPublishedData, LearnerData, week_index, week_monday, week_of

from ..planning.model import (
    Assignment,
    Curriculum,
    Firm,
    Group,
    Learner,
    Module,
    Moves,
    Offer,
    Problem,
    Settings,
    Weights,
)
from .network import NetworkState


class PlacementLike(Protocol):
    """Anything that says where an assignment is, in the outside world's terms (a Placement, a stored row)."""

    @property
    def learner_id(self) -> str: ...
    @property
    def module_id(self) -> str: ...
    @property
    def firm_id(self) -> str: ...
    @property
    def start_week(self) -> str: ...


@dataclass
class ProblemMemo:
    """What build_problem made last time for one network, to hand out the same objects when inputs are the same.

    Unchanged learners come back as the very same Learner objects, so the planner sees at a glance (by
    identity) who changed, and a batch of a few events does not rebuild hundreds of learners. Valid for one
    origin week; a different origin starts afresh.
    """

    origin_week: str = ""
    learners: dict[str, tuple[LearnerData, CurriculumPublishedData, frozenset[tuple[str, str]], Learner]] = field(
        default_factory=dict
    )
    # The registrations, curricula and declines the last learner tuple was built from (copies of the state's
    # dicts), the tuple, and the earliest first week among those registrations: a batch that only registers
    # learners adds the newcomers to it instead of visiting every learner (see _newcomers).
    seen_learners: dict[str, LearnerData] | None = None
    seen_curricula: dict[str, CurriculumPublishedData] = field(default_factory=dict)
    seen_declines: dict[str, frozenset[tuple[str, str]]] = field(default_factory=dict)
    seen_first_week: str | None = None
    built: tuple[Learner, ...] = ()
    # The previous plan as last converted, for the caller's `previous_version` of it (see build_problem).
    previous_version: int | None = None
    previous_earliest: str | None = None
    previous_origin: str = ""
    previous_modules: frozenset[str] = frozenset()
    previous: tuple[Assignment, ...] = ()
    # previous_earliest is the earliest start in `previous` itself (remember_previous), not in the stored rows,
    # which may include modules no curriculum has any more.
    previous_earliest_exact: bool = False


def remember_previous(
    memo: ProblemMemo, version: int, problem: Problem, assignments: tuple[Assignment, ...], moves: Moves | None = None
) -> None:
    """Note that the caller's previous plan, as of `version`, is now `assignments` (a plan made for `problem`).

    The matcher publishes exactly the plan it made, so the next build_problem need not convert the stored
    rows back to week indices. `moves`, when given, is how `assignments` differ from the plan remembered before
    (Plan.moves): its earliest start is then worked out from what moved, without a pass over the plan.
    """
    earliest: str | None
    if (
        moves is not None
        and moves.base is memo.previous
        and memo.previous_earliest_exact
        and memo.previous_earliest is not None
    ):
        before = week_index(memo.previous_earliest, week_of(problem.origin))
        if all(a.start > before for a in moves.dropped):
            # The earliest start before is still there: only an added one can come earlier.
            start = min((a.start for a in moves.added), default=before)
            earliest = week_label(problem, start) if start < before else memo.previous_earliest
        else:
            earliest = _earliest(problem, assignments)
    else:
        earliest = _earliest(problem, assignments)
    memo.previous_version = version
    memo.previous_earliest, memo.previous_earliest_exact = earliest, True
    memo.previous_origin = week_of(problem.origin)
    memo.previous_modules = frozenset(problem.modules)
    memo.previous = assignments


def _earliest(problem: Problem, assignments: tuple[Assignment, ...]) -> str | None:
    earliest = min(map(attrgetter("start"), assignments), default=None)
    return None if earliest is None else week_label(problem, earliest)


@dataclass(frozen=True)
class Placement:
    """A published assignment as the outside world knows it: ISO start week, not an index."""

    learner_id: str
    module_id: str
    firm_id: str
    start_week: str


def build_problem(
    state: NetworkState,
    *,
    today: dt.date,
    previous: Iterable[PlacementLike] = (),
    memo: ProblemMemo | None = None,
    previous_version: int | None = None,
) -> Problem:
    """The planning problem for one network as of `today`.

    Previous placements that have started or start within the notice period are frozen, unless their
    learner was withdrawn or their firm left (nothing can be kept there). `memo` (kept by the caller per
    network) lets unchanged learners be re-used instead of rebuilt; `previous_version`, when
    given, names the content of `previous` (the caller changes it whenever `previous` changes), so an
    unchanged previous plan is not converted again.
    """
    if memo is None:
        memo = ProblemMemo()
    same_previous = previous_version is not None and memo.previous_version == previous_version
    previous = list(previous)
    earliest = memo.previous_earliest if same_previous else min((p.start_week for p in previous), default=None)
    newcomers = _newcomers(state, memo)
    if newcomers is None:
        learners_first = min(map(attrgetter("first_week"), state.learners.values()), default=None)
    else:
        # The learners seen before are unchanged: their earliest week is known.
        firsts = [state.learners[k].first_week for k in newcomers]
        if memo.seen_first_week is not None:
            firsts.append(memo.seen_first_week)
        learners_first = min(firsts, default=None)
    origin_week = _origin(state, today, earliest, learners_first)
    if memo.origin_week != origin_week:
        memo.origin_week = origin_week
        memo.learners.clear()
        newcomers = None
    settings = _settings(state, today, origin_week)
    modules, curricula = _modules_and_curricula(state)
    firms = {f.firm_id: Firm(f.firm_id, f.name, f.location.city) for f in state.firms.values()}
    offers = _offers(state, firms, modules, origin_week)
    learners = _learners(state, memo, origin_week, learners_first, newcomers)
    if same_previous and memo.previous_origin == origin_week and memo.previous_modules == modules.keys():
        prev = memo.previous
    else:
        prev = _previous_assignments(previous, modules, origin_week)
        memo.previous_version, memo.previous_earliest = previous_version, earliest
        memo.previous_earliest_exact = False
        memo.previous_origin, memo.previous_modules, memo.previous = origin_week, frozenset(modules), prev
    return Problem(
        settings=settings,
        modules=modules,
        curricula=curricula,
        firms=firms,
        offers=offers,
        learners=learners,
        previous=prev,
        # Nothing is frozen while the whole previous plan lies beyond the notice period (a growing network's
        # usually does): no pass over it then.
        frozen=()
        if earliest is None or week_index(earliest, origin_week) >= settings.current_week + settings.notice_period
        else _frozen(prev, settings, learners, firms),
        origin=week_monday(origin_week),
        network_id=state.network_id,
    )


def _settings(state: NetworkState, today: dt.date, origin_week: str) -> Settings:
    """The network's policy, with the project's defaults for a network not configured yet."""
    config = state.config
    return Settings(
        notice_period=config.notice_period_weeks if config else 4,
        change_penalty=config.change_penalty if config else 50,
        max_modules_per_firm=config.max_modules_per_firm if config else None,
        current_week=week_index(week_of(today), origin_week),
    )


def _modules_and_curricula(state: NetworkState) -> tuple[dict[str, Module], dict[str, Curriculum]]:
    """Every curriculum's modules (one Module per id, across curricula) and its groups and precedence."""
    modules: dict[str, Module] = {}
    curricula: dict[str, Curriculum] = {}
    for c in state.curricula.values():
        for m in c.modules:
            modules[m.module_id] = Module(m.module_id, m.name, m.duration_weeks, m.priority)
        curricula[c.curriculum_id] = Curriculum(
            id=c.curriculum_id,
            module_ids=tuple(m.module_id for m in c.modules),
            groups=tuple(Group(g.group_id, tuple(g.module_ids), g.required) for g in c.groups),
            precedence=tuple((p.module_id, p.requires) for p in c.precedence),
        )
    return modules, curricula


def _offers(
    state: NetworkState, firms: Mapping[str, Firm], modules: Mapping[str, Module], origin_week: str
) -> tuple[Offer, ...]:
    """The offers of known firms for known modules, in offer id order."""
    return tuple(
        Offer(
            o.offer_id,
            o.firm_id,
            o.module_id,
            week_index(o.first_week, origin_week),
            week_index(o.last_week, origin_week),
            o.max_seats,
            o.min_seats,
        )
        for o in sorted(state.offers.values(), key=lambda o: o.offer_id)
        if o.firm_id in firms and o.module_id in modules
    )


def _learners(
    state: NetworkState,
    memo: ProblemMemo,
    origin_week: str,
    first_week: str | None,
    newcomers: list[str] | None = None,
) -> tuple[Learner, ...]:
    """Every learner in id order: the memo's own object when neither registration nor curriculum changed.

    `first_week` is the learners' earliest first week; `newcomers` (see _newcomers), when given, are the only
    learners the memo's tuple lacks.
    """
    if newcomers is not None:
        if newcomers:
            built = list(memo.built)
            for learner_id in newcomers:
                ln = state.learners[learner_id]
                cur = state.curricula[ln.curriculum_id]
                declined = state.declines.get(learner_id, frozenset())
                learner = _learner(ln, cur, origin_week, declined)
                memo.learners[learner_id] = (ln, cur, declined, learner)
                bisect.insort(built, learner, key=attrgetter("id"))
            _seen(state, memo, tuple(built), first_week)
        return memo.built
    learners: list[Learner] = []
    for ln in sorted(state.learners.values(), key=lambda ln: ln.learner_id):
        cur = state.curricula[ln.curriculum_id]
        declined = state.declines.get(ln.learner_id, frozenset())
        known = memo.learners.get(ln.learner_id)
        if known is not None and known[0] is ln and known[1] is cur and known[2] == declined:
            learners.append(known[3])
            continue
        learners.append(_learner(ln, cur, origin_week, declined))
        memo.learners[ln.learner_id] = (ln, cur, declined, learners[-1])
    if len(memo.learners) > len(learners):
        present = {ln.id for ln in learners}
        for gone in [k for k in memo.learners if k not in present]:
            del memo.learners[gone]
    _seen(state, memo, tuple(learners), first_week)
    return memo.built


def _seen(state: NetworkState, memo: ProblemMemo, built: tuple[Learner, ...], first_week: str | None) -> None:
    """Note what the learner tuple `built` was made from, and the learners' earliest first week."""
    memo.seen_learners = dict(state.learners)
    memo.seen_curricula = dict(state.curricula)
    memo.seen_declines = dict(state.declines)
    memo.seen_first_week = first_week
    memo.built = built


def _learner(
    ln: LearnerData,
    cur: CurriculumPublishedData,
    origin_week: str,
    declined: frozenset[tuple[str, str]] = frozenset(),
) -> Learner:
    """One learner's registration in week indices; unavailable weeks clipped to the window; the placements
    firms declined are exclusions like the registration's own."""
    first, last = week_index(ln.first_week, origin_week), week_index(ln.last_week, origin_week)
    unavailable = frozenset(
        w
        for span in ln.unavailable
        for w in range(
            max(first, week_index(span.first_week, origin_week)),
            min(last, week_index(span.last_week, origin_week)) + 1,
        )
    )
    all_modules = {m.module_id for m in cur.modules}
    return Learner(
        id=ln.learner_id,
        name=ln.name,
        curriculum_id=ln.curriculum_id,
        first_week=first,
        last_week=last,
        required={g.group_id: ln.required_counts.get(g.group_id, g.required) for g in cur.groups},
        allowed_modules=frozenset(ln.allowed_modules) & all_modules
        if ln.allowed_modules is not None
        else frozenset(all_modules),
        unavailable=unavailable,
        excluded_firms=frozenset(ln.excluded_firms),
        excluded_firm_modules=frozenset((fm.firm_id, fm.module_id) for fm in ln.excluded_firm_modules) | declined,
        module_pref=dict(ln.module_preferences),
        firm_pref=dict(ln.firm_preferences),
        weights=Weights(ln.weights.module, ln.weights.firm, ln.weights.change, ln.weights.idle),
        home_firm_id=ln.home_firm_id,
    )


def _previous_assignments(
    previous: Iterable[PlacementLike], modules: Mapping[str, Module], origin_week: str
) -> tuple[Assignment, ...]:
    """The published placements in week indices; those of a module no curriculum has any more are dropped."""
    return tuple(
        Assignment(p.learner_id, p.module_id, p.firm_id, week_index(p.start_week, origin_week))
        for p in previous
        if p.module_id in modules
    )


def _frozen(
    previous: Iterable[Assignment], settings: Settings, learners: Iterable[Learner], firms: Mapping[str, Firm]
) -> tuple[Assignment, ...]:
    """Published assignments that have started or start within the notice period and can still be kept: the
    learner is still registered and allowed the module, and the firm is still in the network."""
    known_learners = {ln.id: ln for ln in learners}
    return tuple(
        a
        for a in previous
        if a.start < settings.current_week + settings.notice_period
        and a.learner_id in known_learners
        and a.firm_id in firms
        and a.module_id in known_learners[a.learner_id].allowed_modules
    )


def _newcomers(state: NetworkState, memo: ProblemMemo) -> list[str] | None:
    """The learners registered since the memo's learner tuple was built, in id order, when that is all that
    changed of the learners (no one updated, withdrawn or erased, no curriculum or decline changed); else None.

    The comparisons run in C: dict items compare by identity first, so unchanged registrations cost next to
    nothing, while a visit of every learner in Python is what a batch of a few newcomers used to cost.
    """
    seen = memo.seen_learners
    if (
        seen is None
        or len(state.curricula) != len(memo.seen_curricula)
        or any(memo.seen_curricula.get(k) is not v for k, v in state.curricula.items())
        or state.declines != memo.seen_declines
        or not seen.items() <= state.learners.items()
    ):
        return None
    return sorted(state.learners.keys() - seen.keys())


def _origin(state: NetworkState, today: dt.date, earliest_previous: str | None, learners_first: str | None) -> str:
    """Week 0: the earliest week anything refers to, so every index is >= 0 except possibly 'today'.

    `learners_first` is the learners' earliest first week (None: no learner).
    """
    first = attrgetter("first_week")
    ends = (
        learners_first,
        min(map(first, state.offers.values()), default=None),
        earliest_previous,
    )
    weeks = [w for w in ends if w is not None]
    if not weeks:
        return week_of(today)
    return min(weeks)  # contracts normalise weeks to YYYY-Www, which sort as the calendar does


def week_label(problem: Problem, index: int) -> str:
    """ISO week of a week index of `problem`."""
    return week_of(problem.origin + dt.timedelta(weeks=index))


def week_start_date(problem: Problem, index: int) -> dt.date:
    """Monday of a week index."""
    return problem.origin + dt.timedelta(weeks=index)


def week_end_date(problem: Problem, index: int) -> dt.date:
    """Sunday of a week index."""
    return problem.origin + dt.timedelta(weeks=index, days=6)


def placement_of(problem: Problem, a: Assignment) -> Placement:
    return Placement(a.learner_id, a.module_id, a.firm_id, week_label(problem, a.start))
