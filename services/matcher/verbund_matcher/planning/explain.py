"""Why a requirement is unmet: a reason code, a sentence for coordinators, and the seats that would help."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from . import evidence as proof
from .ledger import SeatLedger
from .model import (
    Assignment,
    Learner,
    Plan,
    Problem,
    SeatDeficit,
    SeatSuggestion,
    Shortfall,
    ShortfallReason,
    same_frame,
)
from .scope import LearnerScope, learner_scope
from .seats import (
    Range,
    SeatTable,
    clear_starts,
    intersect_ranges,
    occupancy,
    ranges_within,
    seat_table,
    week_runs,
)
from .weeks import span_label

# When several modules could fill a gap, report the one closest to being placeable.
# A missing prerequisite comes last: its own shortfall names the root cause.
_RANK = {
    ShortfallReason.CONTENTION: 0,
    ShortfallReason.MIN_SEATS: 1,
    ShortfallReason.FIRM_LIMIT: 2,
    ShortfallReason.AVAILABILITY: 3,
    ShortfallReason.NO_OFFER: 4,
    ShortfallReason.ELIGIBILITY: 5,
    ShortfallReason.PRECEDENCE: 6,
}


@dataclass(frozen=True, slots=True)
class _Diagnosis:
    reason: ShortfallReason
    message: str
    module_id: str
    competing: tuple[str, ...] = ()
    suggestions: tuple[SeatSuggestion, ...] = ()
    weight: int = 0  # tie-break inside a reason: fewer blocked weeks first
    free: bool = False  # a free option exists: the plan left the module placeable, so no reason is true


def explain(
    problem: Problem,
    assignments: Sequence[Assignment],
    *,
    table: SeatTable | None = None,
    scopes: Mapping[str, LearnerScope] | None = None,
    ledger: SeatLedger | None = None,
    only: Collection[str] | None = None,
    by_learner: Mapping[str, Sequence[Assignment]] | None = None,
) -> tuple[Shortfall, ...]:
    """One Shortfall per (learner, group) whose required count the assignments do not meet.

    `table`, `scopes` and `ledger` (seats held by exactly `assignments`) may be passed by a solver that already
    built them; they are only caches. `only` restricts the answer to these learner ids. `by_learner`, when given,
    is `assignments` by learner id, each learner's in the order of `assignments`.

    Every shortfall is checked by `evidence` before it is returned; one whose claims are not all true is
    replaced by the next best true one. The one case with no true reason is a plan that leaves a requirement
    placeable (a free, rule-respecting option exists): that is reported as `contention` whose sentence says the
    seat is free, and the check names it as the plan's fault. `top_up` places such requirements; run it on a
    solver's assignments before explaining them.
    """
    table = table if table is not None else seat_table(problem.offers)
    if ledger is None:
        ledger = SeatLedger(table, problem.modules)
        ledger.take(a for a in assignments if a.module_id in problem.modules)
    vacancies = _Vacancies(table, ledger)
    evidence = proof.Evidence(problem, assignments, by_learner)
    by_learner = evidence.by_learner()
    shortfalls: list[Shortfall] = []
    for learner in problem.learners:
        if only is not None and learner.id not in only:
            continue
        own = by_learner.get(learner.id, [])
        if not _has_gap(problem, learner, own):
            continue
        scope = scopes[learner.id] if scopes is not None and learner.id in scopes else learner_scope(problem, learner)
        shortfalls.extend(_explain_learner(problem, table, ledger, vacancies, evidence, scope, own))
    return tuple(shortfalls)


def explain_since(
    problem: Problem,
    assignments: Sequence[Assignment],
    last: tuple[Problem, Plan],
    *,
    table: SeatTable | None = None,
    scopes: Mapping[str, LearnerScope] | None = None,
    ledger: SeatLedger | None = None,
    candidates: Collection[str] | None = None,
    moved: Collection[Assignment] | None = None,
    by_learner: Mapping[str, Sequence[Assignment]] | None = None,
    seat_changes: Collection[tuple[str, str]] | None = None,
    minimum_changes: Collection[tuple[str, str]] = (),
) -> tuple[Shortfall, ...]:
    """The same answer as `explain`, re-using `last` (an earlier problem and its plan) where nothing it
    depends on changed.

    `candidates`, when given, are the only learners that can have an unmet requirement (the caller knows
    the others meet theirs); only they are looked at. `moved`, when given, is the symmetric difference of
    `assignments` and last's (saves working it out from both whole plans); `by_learner`, when given, is
    `assignments` by learner id. `seat_changes`, when given, are the (firm, module) cells where the moves changed
    what an explanation reads of the seats (`SeatLedger.seen_changes`): which weeks are full and who holds their
    seats, which weeks hold no more learners than their minimum. A move elsewhere in a module (a newcomer taking
    one of many free seats) then leaves the other learners' explanations of that module as they were. Of a
    learner's own assignments an explanation reads only whether a minimum group needs them: with `seat_changes`,
    `minimum_changes` (the cells where a week went above its minimum or back to it) are all that counts there.

    A learner's explanation depends only on the learner, its own assignments, the offers and seat holders of
    its open and assigned modules, and which learners hold its seats. A learner for whom all of these
    are as in `last`, and whose unmet groups are the same, keeps last's shortfalls; the rest are explained
    afresh. Network-wide changes (modules, curricula, firms, settings, calendar) explain everyone.
    """
    before, earlier = last
    if not same_frame(before, problem):
        return explain(problem, assignments, table=table, scopes=scopes, ledger=ledger)
    old_by_id: dict[str, Learner] = {}
    here: set[str] = set()

    def old_learners() -> dict[str, Learner]:
        if not old_by_id and before.learners:
            old_by_id.update((s.id, s) for s in before.learners)
        return old_by_id

    def still_here() -> set[str]:
        """Learners in both the last problem and this one: the competitors a kept message may still name."""
        if not here:
            here.update(s.id for s in problem.learners if s.id in old_learners())
        return here

    moved = set(assignments) ^ set(earlier.assignments) if moved is None else moved
    touched = {a.learner_id for a in moved}
    # Modules whose seats (offers) or seat holders differ: explanations that look at them may differ too.
    changed_modules = {o.module_id for o in set(problem.offers) ^ set(before.offers)}
    if seat_changes is None:
        changed_modules.update(a.module_id for a in moved)
        changed_own = changed_modules
    else:
        changed_own = changed_modules | {module for _firm, module in minimum_changes}
        changed_modules.update(module for _firm, module in seat_changes)
    old_by_learner: dict[str, list[Shortfall]] = {}
    for sf in earlier.shortfalls:
        old_by_learner.setdefault(sf.learner_id, []).append(sf)
    if by_learner is None:
        grouped: dict[str, list[Assignment]] = {}
        for a in assignments:
            grouped.setdefault(a.learner_id, []).append(a)
        by_learner = grouped
    stale: set[str] = set()
    reused: dict[str, list[Shortfall]] = {}
    for learner in problem.learners if candidates is None else _in_order(problem, candidates):
        own = by_learner.get(learner.id, [])
        gaps = _gaps(problem, learner, own)
        if not gaps:
            continue
        old = old_by_learner.get(learner.id, [])
        if (
            learner.id in touched
            or {(sf.group_id, sf.missing) for sf in old} != gaps
            or len(old) != len(gaps)
            or old_learners().get(learner.id) != learner
            or any(a.module_id in changed_own for a in own)
            or any(m in changed_modules for m in _open_modules(problem, learner, own))
            # Messages name competing learners (by id): a departed one changes the text.
            or not all(still_here().issuperset(sf.competing_learners) for sf in old)
        ):
            stale.add(learner.id)
        else:
            reused[learner.id] = old
    fresh: dict[str, list[Shortfall]] = {}
    if stale:
        for sf in explain(
            problem, assignments, table=table, scopes=scopes, ledger=ledger, only=stale, by_learner=by_learner
        ):
            fresh.setdefault(sf.learner_id, []).append(sf)
    if not fresh and not reused:
        return ()
    # In problem.learners order, as explain() answers.
    return tuple(sf for s in problem.learners for sf in (fresh.get(s.id) or reused.get(s.id) or ()))


def _in_order(problem: Problem, learner_ids: Collection[str]) -> list[Learner]:
    wanted = set(learner_ids)
    return [s for s in problem.learners if s.id in wanted]


def _explain_learner(
    problem: Problem,
    table: SeatTable,
    ledger: SeatLedger,
    vacancies: _Vacancies,
    evidence: proof.Evidence,
    scope: LearnerScope,
    own: Sequence[Assignment],
) -> list[Shortfall]:
    learner = scope.learner
    shortfalls: list[Shortfall] = []
    done = {a.module_id for a in own}
    curriculum = problem.curricula.get(learner.curriculum_id)
    groups = curriculum.groups if curriculum else ()
    counts = {g.id: sum(1 for m in g.module_ids if m in done) for g in groups}
    # A module that also counts for a group already complete would overfill that group: it cannot help.
    complete = {g.id for g in groups if counts[g.id] >= scope.required.get(g.id, 0)}
    for group in groups:
        required = scope.required.get(group.id, 0)
        count = counts[group.id]
        if count >= required:
            continue
        missing = required - count
        open_modules = [
            m
            for m in group.module_ids
            if m in scope.modules and m not in done and not complete.intersection(scope.groups_of.get(m, ()))
        ]
        if not open_modules:
            allowed = sum(1 for m in group.module_ids if m in scope.modules)
            blocked = sum(1 for m in group.module_ids if m in scope.modules and m not in done)
            also = (
                f" ({blocked} of them also count for a group {_who(learner)} has already completed)" if blocked else ""
            )
            shortfalls.append(
                Shortfall(
                    learner_id=learner.id,
                    group_id=group.id,
                    missing=missing,
                    reason=ShortfallReason.ELIGIBILITY,
                    message=(
                        f"{_who(learner)} needs {required} module(s) from group {group.id} but is allowed "
                        f"only {allowed} of them{also}; allow more modules of the group for this learner."
                    ),
                )
            )
            continue
        diagnoses = [_diagnose(problem, table, ledger, evidence, vacancies, scope, own, m) for m in open_modules]
        lead = f"{_who(learner)} misses {missing} module(s) of group {group.id}. "
        ranked = sorted(diagnoses, key=lambda d: (d.free, _RANK[d.reason], d.weight, d.module_id))
        chosen = next(
            (
                sf
                for d in ranked
                if not d.free
                for sf in [_shortfall(learner, group.id, missing, lead, d)]
                if not evidence.shortfall(sf)
            ),
            None,
        )
        if chosen is None:
            chosen = _proven(problem, evidence, learner, group.id, missing, lead, open_modules)
        if chosen is None:
            # Every open module has a free option: the plan, not the network, leaves the requirement unmet.
            chosen = _shortfall(learner, group.id, missing, lead, next((d for d in ranked if d.free), ranked[0]))
        shortfalls.append(chosen)
    return shortfalls


def _shortfall(learner: Learner, group_id: str, missing: int, lead: str, d: _Diagnosis) -> Shortfall:
    return Shortfall(
        learner_id=learner.id,
        group_id=group_id,
        missing=missing,
        reason=d.reason,
        message=lead + d.message,
        module_id=d.module_id,
        competing_learners=d.competing,
        suggestions=d.suggestions,
    )


# The reason a module's reach (see evidence) stands for, when a diagnosis above was not true.
_REASON_OF_REACH = {
    proof.NO_OPTION: ShortfallReason.NO_OFFER,
    proof.ELIGIBILITY: ShortfallReason.ELIGIBILITY,
    proof.AVAILABILITY: ShortfallReason.AVAILABILITY,
    proof.PRECEDENCE: ShortfallReason.PRECEDENCE,
    proof.FIRM_LIMIT: ShortfallReason.FIRM_LIMIT,
    proof.OWN_TIME: ShortfallReason.AVAILABILITY,
    proof.SEATS: ShortfallReason.CONTENTION,
}


def _proven(
    problem: Problem,
    evidence: proof.Evidence,
    learner: Learner,
    group_id: str,
    missing: int,
    lead: str,
    open_modules: Sequence[str],
) -> Shortfall | None:
    """The shortfall re-diagnosed from the evidence itself, for when no diagnosis above held up; None when
    every open module has a free option."""
    reach = {m: evidence.reach(learner, m) for m in open_modules}
    known = [m for m in open_modules if reach[m] != proof.FREE]
    if not known:
        return None
    module = min(known, key=lambda m: (_RANK[_REASON_OF_REACH[reach[m]]], m))
    reason = _REASON_OF_REACH[reach[module]]
    name = _module_name(problem, module)
    competing: tuple[str, ...] = ()
    suggestions: tuple[SeatSuggestion, ...] = ()
    if reason is ShortfallReason.CONTENTION:
        # Only the module reported needs its options one by one: the seat to suggest is the best of them.
        seats_reached = evidence.funnel(learner, module).at(proof.SEATS)
        option = min(seats_reached, key=lambda o: (len(o.full_weeks), o.firm_id, o.start))
        duration = problem.modules[module].duration
        held = {w: evidence.holders(option.firm_id, module, w) for w in option.full_weeks}
        seats = evidence.seats(option.firm_id, module)
        competing = tuple(sorted({c for names in held.values() for c in names}))
        more = max(len(held[w]) - seats.get(w, 0) + 1 for w in option.full_weeks)
        last = option.start + duration - 1
        suggestions = (SeatSuggestion(module, option.start, last, more, option.firm_id),)
        message = (
            f"The seats for {name} at {_firm_name(problem, option.firm_id)} in "
            f"{span_label(problem.origin, option.start, last)} are held by other learners; "
            f"{more} more seat(s) there would resolve it."
        )
    else:
        message = f"{name} cannot be placed: {proof.describe(reach[module])}."
    sf = Shortfall(
        learner_id=learner.id,
        group_id=group_id,
        missing=missing,
        reason=reason,
        message=lead + message,
        module_id=module,
        competing_learners=competing,
        suggestions=suggestions,
    )
    return sf if not evidence.shortfall(sf) else None


def _gaps(problem: Problem, learner: Learner, own: Sequence[Assignment]) -> set[tuple[str, int]]:
    """(group, missing) for every group whose required count the learner's assignments do not meet."""
    curriculum = problem.curricula.get(learner.curriculum_id)
    if curriculum is None:
        return set()
    done = {a.module_id for a in own}
    gaps: set[tuple[str, int]] = set()
    for g in curriculum.groups:
        missing = learner.required.get(g.id, g.default_required) - sum(1 for m in g.module_ids if m in done)
        if missing > 0:
            gaps.add((g.id, missing))
    return gaps


def _open_modules(problem: Problem, learner: Learner, own: Sequence[Assignment]) -> set[str]:
    """Modules of the learner's unmet groups not yet assigned (allowed or not: a superset is safe)."""
    curriculum = problem.curricula.get(learner.curriculum_id)
    if curriculum is None:
        return set()
    done = {a.module_id for a in own}
    return {
        m
        for g in curriculum.groups
        if sum(1 for m in g.module_ids if m in done) < learner.required.get(g.id, g.default_required)
        for m in g.module_ids
        if m not in done
    }


def _has_gap(problem: Problem, learner: Learner, own: Sequence[Assignment]) -> bool:
    curriculum = problem.curricula.get(learner.curriculum_id)
    if curriculum is None:
        return False
    done = {a.module_id for a in own}
    return any(
        sum(1 for m in g.module_ids if m in done) < learner.required.get(g.id, g.default_required)
        for g in curriculum.groups
    )


def seat_deficits(
    problem: Problem,
    assignments: Iterable[Assignment],
    table: SeatTable | None = None,
    *,
    used: Mapping[tuple[str, str], Mapping[int, int]] | None = None,
) -> tuple[SeatDeficit, ...]:
    """Every firm x module x week that holds fewer learners than its offers' min_seats.

    `used` may pass the occupancy of exactly `assignments` when the caller already holds it. Each deficit is
    checked against the offers and the assignments themselves (see evidence); should one not hold (a stale
    `used`), the deficits are counted afresh from the assignments.
    """
    table = table if table is not None else seat_table(problem.offers)
    plan = list(assignments)
    if used is None:
        return _deficits(table, occupancy(plan, problem.modules))
    deficits = _deficits(table, used)
    evidence = proof.Evidence(problem, plan)
    if any(evidence.deficit(d) for d in deficits):
        return _deficits(table, occupancy(plan, problem.modules))
    return deficits


def _deficits(table: SeatTable, used: Mapping[tuple[str, str], Mapping[int, int]]) -> tuple[SeatDeficit, ...]:
    deficits: list[SeatDeficit] = []
    for (firm, module), weeks in sorted(table.min_seats.items()):
        held = used.get((firm, module), {})
        for week, minimum in sorted(weeks.items()):
            count = held.get(week, 0)
            if count < minimum:
                deficits.append(SeatDeficit(firm, module, week, minimum, count))
    return tuple(deficits)


class _Counts:
    """The starts of one module's options per offering firm, as ranges: with a seat offered in every week,
    and with a seat free in every week; and how many firms have one starting in each week, so that whether
    any firm but a few has an option in some ranges of starts takes a step per range, not per firm."""

    def __init__(self, offered: dict[str, list[Range]], unheld: dict[str, list[Range]]) -> None:
        self._offered = offered
        self._unheld = unheld
        self._offered_total = _running_total(offered.values())
        self._unheld_total = _running_total(unheld.values())

    def offered(self, starts: Sequence[Range], blocked: Collection[str]) -> bool:
        """Whether a firm not in `blocked` offers a seat in every week of a start in `starts`."""
        return _any_but(self._offered, self._offered_total, starts, blocked)

    def unheld(self, starts: Sequence[Range], blocked: Collection[str]) -> bool:
        """Whether a firm not in `blocked` has a seat free in every week of a start in `starts`."""
        return _any_but(self._unheld, self._unheld_total, starts, blocked)

    def offered_at(self, firm: str, starts: Sequence[Range]) -> list[Range]:
        return ranges_within(starts, self._offered.get(firm, ()))

    def unheld_at(self, firm: str, starts: Sequence[Range]) -> list[Range]:
        return ranges_within(starts, self._unheld.get(firm, ()))


def _running_total(per_firm: Iterable[Sequence[Range]]) -> tuple[int, list[int]]:
    """(first, totals): totals[i] = how many (firm, start) pairs start before week first + i."""
    ranges = [r for rs in per_firm for r in rs]
    if not ranges:
        return 0, [0]
    first = min(lo for lo, _ in ranges)
    steps = [0] * (max(hi for _, hi in ranges) - first + 2)
    for lo, hi in ranges:
        steps[lo - first] += 1
        steps[hi - first + 1] -= 1
    totals, firms, total = [0], 0, 0
    for step in steps[:-1]:
        firms += step
        total += firms
        totals.append(total)
    return first, totals


def _any_but(
    per_firm: Mapping[str, Sequence[Range]],
    totals: tuple[int, list[int]],
    starts: Sequence[Range],
    blocked: Collection[str],
) -> bool:
    first, counts = totals
    found = 0
    for lo, hi in starts:
        i, j = max(lo - first, 0), min(hi - first + 1, len(counts) - 1)
        if j > i:
            found += counts[j] - counts[i]
    if found:
        found -= sum(_overlap(per_firm[f], starts) for f in blocked if f in per_firm)
    return found > 0


def _overlap(a: Sequence[Range], b: Sequence[Range]) -> int:
    return sum(hi - lo + 1 for lo, hi in intersect_ranges(a, b))


class _Vacancies:
    """Where the ledger leaves a seat free, per firm x module: the starts with a free seat in every week, and
    the full weeks counted up to each week. Worked out once per firm x module, only when an explanation asks."""

    def __init__(self, table: SeatTable, ledger: SeatLedger) -> None:
        self._table = table
        self._ledger = ledger
        self._open: dict[tuple[str, str, int], list[Range]] = {}
        self._full: dict[tuple[str, str], tuple[int, list[int]]] = {}
        self._modules: dict[tuple[str, int], _Counts] = {}

    def module(self, module: str, duration: int) -> _Counts:
        counts = self._modules.get((module, duration))
        if counts is None:
            firms = self._table.firms_for.get(module, ())
            offered = {
                f: [
                    (lo, hi - duration + 1) for lo, hi in self._table.offered_runs(f, module) if hi - lo + 1 >= duration
                ]
                for f in firms
            }
            counts = _Counts(offered, {f: self.open_starts(f, module, duration) for f in firms})
            self._modules[(module, duration)] = counts
        return counts

    def open_starts(self, firm: str, module: str, duration: int) -> list[Range]:
        key = (firm, module, duration)
        starts = self._open.get(key)
        if starts is None:
            weeks = self._table.max_seats.get((firm, module), {})
            free = week_runs(w for w in weeks if self._ledger.free(firm, module, w) > 0)
            starts = [(lo, hi - duration + 1) for lo, hi in free if hi - lo + 1 >= duration]
            self._open[key] = starts
        return starts

    def full_weeks(self, firm: str, module: str, start: int, duration: int) -> int:
        """How many weeks of start .. start + duration - 1 have no free seat."""
        cell = self._full.get((firm, module))
        if cell is None:
            weeks = self._table.max_seats.get((firm, module), {})
            first, last = (min(weeks), max(weeks)) if weeks else (0, -1)
            counts = [0]
            for w in range(first, last + 1):
                counts.append(counts[-1] + (self._ledger.free(firm, module, w) <= 0))
            cell = (first, counts)
            self._full[(firm, module)] = cell
        first, counts = cell
        i, j = start - first, start - first + duration
        if i < 0 or j >= len(counts):  # weeks without an offer have no seat at all
            return sum(1 for w in range(start, start + duration) if self._ledger.free(firm, module, w) <= 0)
        return counts[j] - counts[i]


def _widened(runs: Sequence[Range], duration: int) -> list[Range]:
    """The starts of `duration` weeks that overlap the runs of weeks, as disjoint ranges."""
    starts: list[Range] = []
    for lo, hi in runs:
        if starts and lo - duration + 1 <= starts[-1][1] + 1:
            starts[-1] = (starts[-1][0], hi)
        else:
            starts.append((lo - duration + 1, hi))
    return starts


def _weeks_held(busy: Mapping[int, Assignment]) -> dict[Assignment, list[Range]]:
    """The runs of weeks each assignment holds in `busy`."""
    weeks: dict[Assignment, list[int]] = {}
    for w, a in busy.items():
        weeks.setdefault(a, []).append(w)
    return {a: week_runs(ws) for a, ws in weeks.items()}


def _diagnose(
    problem: Problem,
    table: SeatTable,
    ledger: SeatLedger,
    evidence: proof.Evidence,
    vacancies: _Vacancies,
    scope: LearnerScope,
    own: Sequence[Assignment],
    module: str,
) -> _Diagnosis:
    """Why `module` does not fill the learner's gap: the first reason that holds, tried from the offers in the
    window inward to the seats and weeks the plan has used."""
    case = _Case(problem, table, vacancies, scope, own, module)
    return (
        _no_offer_in_window(case)
        or _no_firm_the_learner_may_attend(case)
        or _not_available_while_offered(case)
        or _prerequisite_not_planned(case)
        or _prerequisites_end_too_late(case)
        or _firm_limit_reached(case)
        or _seat_left_free(case)
        or _seats_held_by_others(case, ledger, evidence, vacancies)
        or _time_taken_by_a_minimum_group(case, ledger)
        or _no_free_weeks_left(case)
    )


class _Case:
    """One open module of one learner, as each check of _diagnose sees it."""

    def __init__(
        self,
        problem: Problem,
        table: SeatTable,
        vacancies: _Vacancies,
        scope: LearnerScope,
        own: Sequence[Assignment],
        module: str,
    ) -> None:
        learner = scope.learner
        duration = problem.modules[module].duration
        self.problem, self.table, self.scope, self.learner, self.own = problem, table, scope, learner, own
        self.module, self.duration = module, duration
        self.name, self.who = _module_name(problem, module), _who(learner)
        self.offering = table.firms_for.get(module, ())
        self.busy = {w: a for a in own for w in range(a.start, a.start + problem.modules[a.module_id].duration)}
        self.after = _not_before(problem, scope, own, module)
        # Where a new offer (at a firm the learner may attend and has nothing at) would give the learner a place
        # as the plan stands: its own free weeks after its prerequisites.
        self.fit = _free_fit(scope, self.busy, duration, self.after)
        # Options are counted over all offering firms on ranges of starts (see _Vacancies); firms are listed one
        # by one only for what a sentence names.
        self.counts = vacancies.module(module, duration)
        self.last_start = learner.last_week - duration + 1
        self.in_window_starts = [(learner.first_week, self.last_start)] if self.last_start >= learner.first_week else []
        # The firms the learner may not attend for the module (scope.eligible, for all of them at once).
        self.excluded = {*learner.excluded_firms, *(f for f, m in learner.excluded_firm_modules if m == module)}
        # The starts whose weeks the learner is available for.
        self.available = [(lo, hi - duration + 1) for lo, hi in scope.available_runs if hi - lo + 1 >= duration]
        # Of those, the starts after the prerequisites end (none while one is not planned): only firms with one of
        # them can take the module; and of these, the starts clear of the learner's planned weeks (the others clash
        # with its own modules).
        self.starts: list[Range] = []
        self.candidates: list[Range] = []
        if self.after is not None:
            self.starts = intersect_ranges(self.available, [(self.after, self.last_start)])
            self.candidates = intersect_ranges(
                self.starts, clear_starts(self.busy, duration, self.after, self.last_start)
            )
        self.blocked_firms = _blocked_firms(problem, own, self.excluded)

    def suggestions(self) -> tuple[SeatSuggestion, ...]:
        """One seat for the module where the learner has room as the plan stands (see `fit`)."""
        return _suggest(self.module, self.fit, self.duration, None)


def _blocked_firms(problem: Problem, own: Sequence[Assignment], excluded: Collection[str]) -> set[str]:
    """The excluded firms, and those where the learner already does as many modules as the network allows."""
    blocked = set(excluded)
    limit = problem.settings.max_modules_per_firm
    if limit is not None:
        per_firm: dict[str, set[str]] = {}
        for a in own:
            per_firm.setdefault(a.firm_id, set()).add(a.module_id)
        blocked.update(f for f, ms in per_firm.items() if len(ms) >= limit)
    return blocked


def _not_before(problem: Problem, scope: LearnerScope, own: Sequence[Assignment], module: str) -> int | None:
    """The first week the module may start: the window's first, or the week after its prerequisites end; None
    when a prerequisite is not planned."""
    after = scope.learner.first_week
    for requires in scope.prereqs.get(module, ()):
        placed = next((a for a in own if a.module_id == requires), None)
        if placed is None:
            return None
        after = max(after, placed.start + problem.modules[requires].duration)
    return after


def _no_offer_in_window(case: _Case) -> _Diagnosis | None:
    if case.counts.offered(case.in_window_starts, ()):
        return None
    return _Diagnosis(
        ShortfallReason.NO_OFFER,
        f"No firm offers {case.name} for {case.duration} consecutive week(s) inside the training window "
        f"{_window(case.problem, case.learner)}.",
        case.module,
        suggestions=case.suggestions(),
    )


def _no_firm_the_learner_may_attend(case: _Case) -> _Diagnosis | None:
    if case.counts.offered(case.in_window_starts, case.excluded):
        return None
    in_window = [f for f in case.offering if case.counts.offered_at(f, case.in_window_starts)]
    return _Diagnosis(
        ShortfallReason.ELIGIBILITY,
        f"{case.name} is offered in the window only at {_firm_list(case.problem, in_window)}, where {case.who} "
        "may not train; seats at another firm would resolve it.",
        case.module,
        suggestions=case.suggestions(),
    )


def _not_available_while_offered(case: _Case) -> _Diagnosis | None:
    if case.counts.offered(case.available, case.excluded):
        return None
    learner = case.learner
    eligible = [f for f in case.offering if f not in case.excluded and case.counts.offered_at(f, case.in_window_starts)]
    blocked = sorted(w for w in learner.unavailable if learner.first_week <= w <= learner.last_week)
    return _Diagnosis(
        ShortfallReason.AVAILABILITY,
        f"{_firm_list(case.problem, eligible)} offer {case.name}, but {case.who} is not available for "
        f"{case.duration} consecutive week(s) while they do (school blocks or holidays: {len(blocked)} week(s) "
        "in the window).",
        case.module,
        suggestions=case.suggestions(),
    )


def _prerequisite_not_planned(case: _Case) -> _Diagnosis | None:
    if case.after is not None:
        return None
    missing = next(r for r in case.scope.prereqs.get(case.module, ()) if not any(a.module_id == r for a in case.own))
    return _Diagnosis(
        ShortfallReason.PRECEDENCE,
        f"{case.name} requires {_module_name(case.problem, missing)} first, which is not planned for {case.who}.",
        case.module,
    )


def _prerequisites_end_too_late(case: _Case) -> _Diagnosis | None:
    if case.after is None or case.counts.offered(case.starts, case.excluded):
        return None
    return _Diagnosis(
        ShortfallReason.PRECEDENCE,
        f"{case.name} can only start after its prerequisites end "
        f"({span_label(case.problem.origin, case.after, case.after)}), and no offer for it starts that late "
        f"inside the window {_window(case.problem, case.learner)}.",
        case.module,
        suggestions=case.suggestions(),
    )


def _firm_limit_reached(case: _Case) -> _Diagnosis | None:
    limit = case.problem.settings.max_modules_per_firm
    if limit is None or case.counts.offered(case.starts, case.blocked_firms):
        return None
    eligible = [f for f in case.offering if f not in case.excluded and case.counts.offered_at(f, case.starts)]
    return _Diagnosis(
        ShortfallReason.FIRM_LIMIT,
        f"{case.who} already does {limit} module(s) at each firm offering {case.name} "
        f"({_firm_list(case.problem, eligible)}), the network's limit per firm.",
        case.module,
        suggestions=case.suggestions(),
    )


def _seat_left_free(case: _Case) -> _Diagnosis | None:
    """A start clear of the learner's weeks with a free seat in every week: no reason holds, the plan left it."""
    if not case.counts.unheld(case.candidates, case.blocked_firms):
        return None
    # The first start with a free seat in every week, firm by firm, is reported.
    for firm in case.offering:
        free_starts = case.counts.unheld_at(firm, case.candidates) if firm not in case.blocked_firms else []
        if free_starts:
            s = free_starts[0][0]
            return _Diagnosis(
                ShortfallReason.CONTENTION,
                f"A seat for {case.name} is free at {_firm_name(case.problem, firm)} in "
                f"{span_label(case.problem.origin, s, s + case.duration - 1)}, but the plan leaves it unused; "
                "planning again places it.",
                case.module,
                free=True,
            )
    return None


def _seats_held_by_others(
    case: _Case, ledger: SeatLedger, evidence: proof.Evidence, vacancies: _Vacancies
) -> _Diagnosis | None:
    """The start clear of the learner's weeks that the fewest full weeks block, and who holds those seats."""
    best = _fewest_full_weeks(case, vacancies)
    if best is None:
        return None
    firm, s = best
    module, duration = case.module, case.duration
    full = [w for w in range(s, s + duration) if ledger.free(firm, module, w) <= 0]
    competing = sorted({c for w in full for c in evidence.holders(firm, module, w)})
    # Over-booked weeks (a frozen assignment kept past a shrunk offer) need more than one seat.
    more = max(1, max(1 - ledger.free(firm, module, w) for w in full))
    return _Diagnosis(
        ShortfallReason.CONTENTION,
        f"The seats for {case.name} at {_firm_name(case.problem, firm)} in "
        f"{span_label(case.problem.origin, s, s + duration - 1)} are held by {_learner_ids(competing)}; "
        f"{'one more seat' if more == 1 else f'{more} more seats'} there would resolve it.",
        module,
        competing=tuple(competing),
        suggestions=(SeatSuggestion(module, s, s + duration - 1, more, firm),),
        weight=len(full),
    )


def _fewest_full_weeks(case: _Case, vacancies: _Vacancies) -> tuple[str, int] | None:
    """(firm, start) of the candidate start with the fewest full weeks, the first such start firm by firm; none
    has fewer than one, so the first with one ends the search."""
    if not case.counts.offered(case.candidates, case.blocked_firms):
        return None
    best: tuple[str, int, int] | None = None
    for firm in case.offering:
        if firm in case.blocked_firms:
            continue
        for lo, hi in case.counts.offered_at(firm, case.candidates):
            for s in range(lo, hi + 1):
                count = vacancies.full_weeks(firm, case.module, s, case.duration)
                if best is None or count < best[2]:
                    best = (firm, s, count)
                    if count <= 1:
                        return firm, s
    return None if best is None else (best[0], best[1])


def _time_taken_by_a_minimum_group(case: _Case, ledger: SeatLedger) -> _Diagnosis | None:
    """Every start clashes with the learner's own modules, and one of those it clashes with cannot let the
    learner go: its group would fall below the offer's minimum."""
    table, modules = case.table, case.problem.modules
    time_blockers = {
        a
        for a, weeks in _weeks_held(case.busy).items()
        if case.counts.offered(intersect_ranges(case.starts, _widened(weeks, case.duration)), case.blocked_firms)
    }
    needed = [
        a
        for a in time_blockers
        if table.min_seats.get((a.firm_id, a.module_id))
        and any(
            ledger.held(a.firm_id, a.module_id, w) <= table.min_at(a.firm_id, a.module_id, w)
            and table.min_at(a.firm_id, a.module_id, w) > 0
            for w in range(a.start, a.start + modules[a.module_id].duration)
        )
    ]
    if not needed:
        return None
    a = min(needed, key=lambda x: x.start)
    who = case.who
    return _Diagnosis(
        ShortfallReason.MIN_SEATS,
        f"{who}'s free weeks go to {_module_name(case.problem, a.module_id)} at "
        f"{_firm_name(case.problem, a.firm_id)}, which only runs with its minimum group and needs {who}; "
        f"more learners for that offer or a lower minimum would free time for {case.name}.",
        case.module,
        suggestions=case.suggestions(),
    )


def _no_free_weeks_left(case: _Case) -> _Diagnosis:
    """Every start clashes with the learner's own modules: those it clashes with took the time."""
    return _Diagnosis(
        ShortfallReason.AVAILABILITY,
        f"{case.who}'s window {_window(case.problem, case.learner)} has no {case.duration} free week(s) left for "
        f"{case.name} next to the other planned modules while a firm offers it.",
        case.module,
        suggestions=case.suggestions(),
        weight=1,
    )


def _window(problem: Problem, learner: Learner) -> str:
    return span_label(problem.origin, learner.first_week, learner.last_week)


def _free_fit(scope: LearnerScope, busy: Collection[int], duration: int, not_before: int | None) -> int | None:
    """The first start from `not_before` on with `duration` weeks the learner is available and not planned."""
    if not_before is None:
        return None
    for lo, hi in scope.available_runs:
        s = max(lo, not_before)
        while s + duration - 1 <= hi:
            taken = [w for w in range(s, s + duration) if w in busy]
            if not taken:
                return s
            s = taken[-1] + 1
    return None


def _suggest(module: str, start: int | None, duration: int, firm: str | None) -> tuple[SeatSuggestion, ...]:
    if start is None:
        return ()
    return (SeatSuggestion(module, start, start + duration - 1, 1, firm),)


def _who(learner: Learner) -> str:
    return learner.name or learner.id


def _module_name(problem: Problem, module: str) -> str:
    m = problem.modules.get(module)
    return m.name or module if m else module


def _firm_name(problem: Problem, firm: str) -> str:
    f = problem.firms.get(firm)
    return f.name or firm if f else firm


def _firm_list(problem: Problem, firms: Sequence[str]) -> str:
    names = [_firm_name(problem, f) for f in firms]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _learner_ids(learner_ids: Sequence[str]) -> str:
    """Competing learners by id, never by name: the message is sealed under the key of the learner it is about,
    so a name of another learner in it would outlive that learner's erasure (docs/data-protection.md)."""
    shown = list(learner_ids[:5])
    more = len(learner_ids) - len(shown)
    text = ("learner " if len(learner_ids) == 1 else "learners ") + ", ".join(shown)
    return text + (f" and {more} more" if more > 0 else "")
