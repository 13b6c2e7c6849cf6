"""Incremental repair after a small change: keep what is still valid, re-place only what must move."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Mapping, Sequence
from time import perf_counter

from .construct import MEMO_LEARNERS, Constructor, SearchMemo
from .explain import explain, explain_since, seat_deficits
from .ledger import SeatLedger
from .model import Assignment, Learner, Moves, Plan, Problem, same_frame
from .outcome import combined_bound, learner_bounds
from .scope import LearnerScope
from .seats import SeatTable
from .validator import learner_sat, problem_errors


def repair(problem: Problem, *, last: tuple[Problem, Plan] | None = None) -> Plan:
    """Re-plans the learners a change touches, starting from Problem.previous and keeping Problem.frozen.

    A learner is re-placed when one of its published assignments no longer holds on its own (window,
    availability, eligibility, offer gone, precedence, limits), when it holds a seat that is now over
    capacity and was chosen to give it up (the fewest learners, those with a free seat elsewhere first), or
    when it is new. A learner with unmet requirements keeps its assignments and gains what now fits into
    its free weeks. Everyone else keeps exactly what was published.

    `last` is an earlier problem and the plan made for it (normally the one published, which
    Problem.previous holds): shortfalls and sat(s) of learners nothing relevant changed for are taken from it
    instead of worked out again. The answer is the same with or without it.
    """
    broken = problem_errors(problem)
    if broken:
        raise ValueError("the planning problem is inconsistent: " + "; ".join(broken))
    started = perf_counter()
    if last is not None:
        added = _only_added_learners(problem, last)
        if added is not None:
            return _extend(problem, last, added, started)
    # A narrow beam: repair must stay fast even when a withdrawal displaces a few hundred learners.
    builder = Constructor(
        problem,
        table=last[1].seat_table if last is not None and last[0].offers == problem.offers else None,
        beam_width=min(4, max(2, 4000 // max(1, len(problem.learners)))),
    )
    present = {s.id: s for s in problem.learners}
    frozen = {a for a in problem.frozen if a.learner_id in present}
    previous: dict[str, list[Assignment]] = {}
    for a in problem.previous:
        if a.learner_id in present:
            previous.setdefault(a.learner_id, []).append(a)
    rules = _Rules(problem, builder.table)

    replan: set[str] = set()
    kept: dict[str, list[Assignment]] = {}
    for learner in problem.learners:
        own = previous.get(learner.id)
        if not own:
            replan.add(learner.id)  # new, or had nothing: try to place
            continue
        if not rules.still_valid(learner, own, frozen):
            replan.add(learner.id)
            continue
        kept[learner.id] = own

    ledger = builder.ledger
    ledger.take(frozen)
    for own in kept.values():
        ledger.take(a for a in own if a not in frozen)
    for sid in _release_overbooked(problem, builder, ledger, kept, frozen):
        replan.add(sid)

    plan: dict[str, list[Assignment]] = {sid: list(own) for sid, own in kept.items()}
    for learner in builder.order(present[sid] for sid in replan):
        old = plan.pop(learner.id, [])
        ledger.release(a for a in old if a not in frozen)
        plan[learner.id] = list(builder.plan(learner))
    filled: set[str] = set()
    for sid, own in kept.items():
        # After the moved learners found new places: a learner with gaps keeps what it has and gains
        # what now fits into its free weeks (added capacity, seats given up by others).
        if sid in replan or not rules.has_gap(present[sid], own):
            continue
        scope = builder.scope(present[sid])
        if _gap_fillable(problem, builder, scope, own):
            extra = builder.fill(scope, own)
            if extra:
                ledger.take(extra)
                plan[sid] = [*own, *extra]
                filled.add(sid)
    for sid in present:
        if sid not in plan:
            plan[sid] = [a for a in frozen if a.learner_id == sid]
    changed = replan | filled
    moved = sum(1 for sid in changed if sid in previous and set(plan[sid]) != set(previous[sid]))
    return _assemble(problem, builder, plan, changed, moved, started, last)


def _assemble(
    problem: Problem,
    builder: Constructor,
    plan: dict[str, list[Assignment]],
    changed: set[str],
    moved: int,
    started: float,
    last: tuple[Problem, Plan] | None,
) -> Plan:
    """The Plan for the repaired assignments, as `make_plan` would build it, without redoing unchanged work.

    The ledger already holds exactly these assignments, and learners outside `changed` kept what they had.
    """
    chosen = tuple(
        sorted({a for own in plan.values() for a in own}, key=lambda a: (a.learner_id, a.start, a.module_id, a.firm_id))
    )
    earlier_sat: Mapping[str, int] = {}
    if last is not None and last[0].modules == problem.modules:
        before, earlier = last
        old_learners = {s.id: s for s in before.learners}
        earlier_by: dict[str, set[Assignment]] = {}
        for a in earlier.assignments:
            earlier_by.setdefault(a.learner_id, set()).add(a)
        # sat(s) depends only on the learner and its own assignments.
        earlier_sat = {
            s.id: earlier.sat[s.id]
            for s in problem.learners
            if s.id not in changed
            and s.id in earlier.sat
            and _same_sat_inputs(old_learners.get(s.id), s)
            and earlier_by.get(s.id, set()) == set(plan[s.id])
        }
    sat = {
        s.id: earlier_sat[s.id] if s.id in earlier_sat else learner_sat(problem, s, plan[s.id])
        for s in problem.learners
    }
    kept = set(chosen)
    dropped = sum(1 for a in problem.previous if a not in kept)
    objective = sum(sat.values()) + min(sat.values(), default=0) - problem.settings.change_penalty * dropped
    if last is not None:
        shortfalls = explain_since(
            problem, chosen, last, table=builder.table, scopes=builder.scopes, ledger=builder.ledger
        )
    else:
        shortfalls = explain(problem, chosen, table=builder.table, scopes=builder.scopes, ledger=builder.ledger)
    deficits = seat_deficits(problem, chosen, builder.table, used=builder.ledger.used)
    status = "infeasible" if deficits else "partial" if shortfalls else "feasible"
    bound: int | None = None
    bounds: dict[str, int] = {}
    if not shortfalls and not deficits:
        bound, bounds = _bound(problem, builder.table, objective, _reusable_bounds(problem, last), builder.scopes)
    return Plan(
        assignments=chosen,
        sat=sat,
        objective=objective,
        bound=bound,
        shortfalls=shortfalls,
        solver="repair",
        seconds=perf_counter() - started,
        status=status,
        moved=moved,
        deficits=deficits,
        learner_bounds=bounds,
        seat_table=builder.table,
    )


def _bound(
    problem: Problem,
    table: SeatTable,
    objective: int,
    known: Mapping[str, int],
    scopes: Mapping[str, LearnerScope] | None = None,
) -> tuple[int | None, dict[str, int]]:
    """The plan's relaxation bound and the learners' shares of it (those in `known` are taken as they are)."""
    bounds = learner_bounds(problem, table, known=known, scopes=scopes)
    if bounds is None:
        return None, {}
    bound = combined_bound(bounds)
    # Cannot be below the objective for a valid bound; never report one below a plan we hold.
    return (bound if bound >= objective else None), bounds


def _reusable_bounds(problem: Problem, last: tuple[Problem, Plan] | None) -> dict[str, int]:
    """Bounds of `last` for learners whose bound inputs (learner, curriculum, modules, offers) are the same."""
    if last is None or not last[1].learner_bounds:
        return {}
    before, earlier = last
    if before.offers != problem.offers or before.modules != problem.modules or before.curricula != problem.curricula:
        return {}
    old = {s.id: s for s in before.learners}
    return {
        s.id: earlier.learner_bounds[s.id]
        for s in problem.learners
        if s.id in earlier.learner_bounds and old.get(s.id) == s
    }


def _only_added_learners(problem: Problem, last: tuple[Problem, Plan]) -> list[Learner] | None:
    """The learners `problem` adds to `last`'s problem, when that is all that differs; else None.

    "All" means: the same calendar, settings, modules, curricula, firms and offers, the published plan is
    exactly last's plan, and every earlier learner is there unchanged. Weeks below a minimum are counted afresh
    from the seats in use (a newcomer can change which weeks fall short), as the general repair counts them.
    """
    before, earlier = last
    if (
        not same_frame(before, problem)
        or before.offers != problem.offers
        or len(problem.learners) < len(before.learners)
        or len(problem.previous) != len(earlier.assignments)
        or len(problem.frozen) != len(before.frozen)
    ):
        return None
    old = {s.id: s for s in before.learners}
    added: list[Learner] = []
    for learner in problem.learners:
        was = old.get(learner.id)
        if was is None:
            added.append(learner)
        elif was is not learner and was != learner:
            return None
    if len(problem.learners) - len(added) != len(old):
        return None  # someone left
    # The matcher hands back the very tuples the last plan was made with: then nothing needs hashing.
    if (problem.previous is not earlier.assignments and set(problem.previous) != set(earlier.assignments)) or (
        problem.frozen is not before.frozen and set(problem.frozen) != set(before.frozen)
    ):
        return None
    return added


def _extend(problem: Problem, last: tuple[Problem, Plan], added: list[Learner], started: float) -> Plan:
    """Repair when learners were only added: exactly what `repair` does then, in time for the newcomers.

    Nothing an earlier learner's assignments depend on changed, so all of them still hold and no seat is
    over capacity: the newcomers (and earlier learners who still have nothing) are planned against the
    seats left, then earlier learners with gaps try to fill them, as in the general case. sat(s), bounds and
    explanations of everyone else are taken from `last`.
    """
    before, earlier = last
    # Searches remembered by the last repairs of this chain hold while the seats they read are as they were; a
    # chain starts where the last plan came another way (its seats then are what a missing token stands for).
    table = earlier.seat_table
    memo = earlier.search_memo
    if memo is None or memo.table is not table:
        memo = SearchMemo(table) if table is not None else None
        tokens: dict[tuple[str, str], int] = {}
    else:
        tokens = dict(earlier.seat_tokens)
    # Only learners without published assignments are planned afresh: none of them has a frozen or a
    # previous assignment to index.
    builder = Constructor(
        problem,
        table=table,  # the offers are the same
        beam_width=min(4, max(2, 4000 // max(1, len(problem.learners)))),
        index_previous=False,
        shared_free_starts=True,  # every change below goes through the ledger's `take`
        memo=memo,
    )
    rules = _Rules(problem, builder.table)
    plan: dict[str, list[Assignment]] = {}
    for a in earlier.assignments:
        plan.setdefault(a.learner_id, []).append(a)
    if earlier.seats_used:
        # The last plan's seat use, copied (this plan's ledger changes it): no pass over every assignment.
        builder.ledger.used = {cell: dict(weeks) for cell, weeks in earlier.seats_used.items()}
    else:
        builder.ledger.take(earlier.assignments)
    if builder.memo is not None:
        builder.ledger.tokens = tokens
    # From here on every change is a newcomer's or a gap's new seat: explanations need only the cells where one
    # changed what they read (full weeks and their holders, weeks at or below a minimum).
    builder.ledger.seen_changes = set()
    present = {s.id: s for s in problem.learners}
    replan = [*added, *(s for s in before.learners if s.id not in plan)]
    for learner in builder.order(replan):
        plan[learner.id] = list(builder.plan(learner))
    replanned = {s.id for s in replan}
    filled: set[str] = set()
    frozen = set(problem.frozen)
    gapped = {sf.learner_id for sf in earlier.shortfalls} - replanned
    # Newcomers only take seats: a waiting learner for whom no free seat was left when `earlier` was made finds
    # none now (nor does the gap check that would look for one).
    for learner in () if earlier.gaps_settled else problem.learners:
        if learner.id not in gapped or learner.id not in plan:
            continue
        own = plan[learner.id]
        if not rules.has_gap(learner, own):
            continue
        scope = builder.scope(learner)
        if _gap_fillable(problem, builder, scope, own):
            extra = builder.fill(scope, own)
            if extra:
                builder.ledger.take(extra)
                plan[learner.id] = [*own, *extra]
                filled.add(learner.id)
    changed = replanned | filled
    new_assignments = {a for sid in changed for a in plan.get(sid, ())}
    earlier_own = {a for a in earlier.assignments if a.learner_id in changed}
    for sid in present:
        if sid not in plan:
            plan[sid] = sorted((a for a in frozen if a.learner_id == sid), key=_plan_order)
    for sid in changed:
        # Each learner's in plan order, as explanations read them (`by_learner` below).
        plan[sid] = sorted(plan[sid], key=_plan_order)
    # earlier.assignments is in plan order already: drop the changed learners' and insert the new ones.
    merged = [a for a in earlier.assignments if a.learner_id not in changed] if filled else list(earlier.assignments)
    for a in new_assignments:
        bisect.insort(merged, a, key=_plan_order)
    chosen = tuple(merged)
    sat = dict(earlier.sat)
    for sid in changed:
        sat[sid] = learner_sat(problem, present[sid], plan[sid])
    sat = {s.id: sat[s.id] for s in problem.learners}
    objective = sum(sat.values()) + min(sat.values(), default=0)
    shortfalls = explain_since(
        problem,
        chosen,
        last,
        table=builder.table,
        scopes=builder.scopes,
        ledger=builder.ledger,
        candidates=changed | gapped,
        moved=new_assignments ^ earlier_own,
        by_learner=plan,
        seat_changes=builder.ledger.seen_changes,
        minimum_changes=builder.ledger.seen_minimum_changes,
    )
    deficits = seat_deficits(problem, chosen, builder.table, used=builder.ledger.used) if builder.has_minimum else ()
    bound: int | None = None
    bounds: dict[str, int] = {}
    if not shortfalls and not deficits:
        # Offers, modules, curricula and every earlier learner are as they were: their bounds hold.
        known = dict(earlier.learner_bounds)
        memo = builder.memo
        if memo is not None:
            # A learner's bound reads only the learner and the offers: one alike to a learner bounded before has
            # the same.
            for learner in problem.learners:
                if learner.id not in known:
                    alike = memo.bounds.get(builder.signature(learner))
                    if alike is not None:
                        known[learner.id] = alike
        bound, bounds = _bound(problem, builder.table, objective, known, builder.scopes)
        if memo is not None:
            if len(memo.bounds) >= MEMO_LEARNERS:
                memo.bounds.clear()
            for learner in problem.learners:
                if learner.id not in earlier.learner_bounds and learner.id in bounds:
                    memo.bounds.setdefault(builder.signature(learner), bounds[learner.id])
    moved = sum(1 for sid in filled if set(plan[sid]) != {a for a in earlier_own if a.learner_id == sid})
    return Plan(
        assignments=chosen,
        sat=sat,
        objective=objective,
        bound=bound,
        shortfalls=shortfalls,
        solver="repair",
        seconds=perf_counter() - started,
        status="infeasible" if deficits else "partial" if shortfalls else "feasible",
        moved=moved,
        deficits=deficits,
        learner_bounds=bounds,
        seats_used=builder.ledger.used,
        seat_table=builder.table,
        # Each newcomer's search ended with a fill, each waiting learner was tried above, and seats were only
        # taken after either: nobody with a gap has a free seat left for it.
        gaps_settled=True,
        search_memo=builder.memo,
        seat_tokens=builder.ledger.tokens or {},
        moves=Moves(
            earlier.assignments, frozenset(earlier_own - new_assignments), frozenset(new_assignments - earlier_own)
        ),
    )


def _plan_order(a: Assignment) -> tuple[str, int, str, str]:
    """The order of Plan.assignments: by learner, then start."""
    return (a.learner_id, a.start, a.module_id, a.firm_id)


def _same_sat_inputs(old: Learner | None, new: Learner) -> bool:
    """True when sat(s) of the two learners is the same for the same assignments (fields learner_sat reads)."""
    return old is not None and (
        old is new
        or (
            old.first_week == new.first_week
            and old.weights == new.weights
            and old.module_pref == new.module_pref
            and old.firm_pref == new.firm_pref
        )
    )


class _Rules:
    """The per-learner hard rules repair checks for every learner, from the curriculum, without a full scope.

    Building a LearnerScope for each of a thousand learners costs more than the whole check; scopes are built
    only for the learners repair actually re-plans.
    """

    def __init__(self, problem: Problem, table: SeatTable) -> None:
        self.problem = problem
        self.table = table
        self._curricula: dict[str, tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]] = {}
        self._offered: dict[tuple[str, str], frozenset[int]] = {}  # weeks with a seat, per (firm, module)

    def _curriculum(self, curriculum_id: str) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
        """(module -> groups it counts for, module -> modules it requires) for a curriculum."""
        found = self._curricula.get(curriculum_id)
        if found is None:
            curriculum = self.problem.curricula.get(curriculum_id)
            groups_of: dict[str, list[str]] = {}
            prereqs: dict[str, list[str]] = {}
            if curriculum is not None:
                for group in curriculum.groups:
                    for m in group.module_ids:
                        groups_of.setdefault(m, []).append(group.id)
                for module, requires in curriculum.precedence:
                    prereqs.setdefault(module, []).append(requires)
            found = ({m: tuple(g) for m, g in groups_of.items()}, {m: tuple(r) for m, r in prereqs.items()})
            self._curricula[curriculum_id] = found
        return found

    def _required(self, learner: Learner) -> dict[str, int]:
        curriculum = self.problem.curricula.get(learner.curriculum_id)
        if curriculum is None:
            return {}
        return {g.id: learner.required.get(g.id, g.default_required) for g in curriculum.groups}

    def has_gap(self, learner: Learner, own: Sequence[Assignment]) -> bool:
        groups_of, _ = self._curriculum(learner.curriculum_id)
        counts: dict[str, int] = {}
        for m in {a.module_id for a in own}:
            for g in groups_of.get(m, ()):
                counts[g] = counts.get(g, 0) + 1
        return any(counts.get(g, 0) < required for g, required in self._required(learner).items())

    def still_valid(self, learner: Learner, own: Sequence[Assignment], frozen: set[Assignment]) -> bool:
        """True when the learner's published assignments satisfy every constraint except shared capacity."""
        problem = self.problem
        modules = problem.modules
        groups_of, prereqs = self._curriculum(learner.curriculum_id)
        seen: set[str] = set()
        counts: dict[str, int] = {}
        per_firm: dict[str, int] = {}
        ends: dict[str, tuple[int, int]] = {}
        for a in own:
            found = modules.get(a.module_id)
            if a in frozen:
                pass
            elif (
                found is None
                or a.module_id in seen
                or a.module_id not in learner.allowed_modules
                or a.module_id not in groups_of
                or not self._fits(learner, a, found.duration)
            ):
                return False  # window, availability, eligibility or the offer itself changed
            seen.add(a.module_id)
            for g in groups_of.get(a.module_id, ()):
                counts[g] = counts.get(g, 0) + 1
            per_firm[a.firm_id] = per_firm.get(a.firm_id, 0) + 1
            if found is None:
                return False
            ends[a.module_id] = (a.start, a.start + found.duration - 1)
        required = self._required(learner)
        if any(count > required.get(g, 0) for g, count in counts.items()):
            return False
        limit = problem.settings.max_modules_per_firm
        if limit is not None and any(n > limit for n in per_firm.values()):
            return False
        spans = sorted(ends.values())
        if any(nxt[0] <= prev[1] for prev, nxt in itertools.pairwise(spans)):
            return False
        for later, prerequisites in prereqs.items():
            if later in ends:
                for requires in prerequisites:
                    before = ends.get(requires)
                    if before is None or before[1] >= ends[later][0]:
                        return False
        return True

    def _fits(self, learner: Learner, a: Assignment, duration: int) -> bool:
        """Eligible at the firm, inside the window, available and offered in every week of the assignment."""
        if a.firm_id in learner.excluded_firms or (a.firm_id, a.module_id) in learner.excluded_firm_modules:
            return False
        last = a.start + duration - 1
        if a.start < learner.first_week or last > learner.last_week:
            return False
        offered = self._offered.get((a.firm_id, a.module_id))
        if offered is None:
            seats = self.table.max_seats.get((a.firm_id, a.module_id), {})
            offered = self._offered[(a.firm_id, a.module_id)] = frozenset(w for w, n in seats.items() if n > 0)
        weeks = range(a.start, last + 1)
        return learner.unavailable.isdisjoint(weeks) and offered.issuperset(weeks)


def _release_overbooked(
    problem: Problem,
    builder: Constructor,
    ledger: SeatLedger,
    kept: dict[str, list[Assignment]],
    frozen: set[Assignment],
) -> list[str]:
    """Frees seats where more learners hold them than the offers now allow; the fewest learners, least loss."""
    modules = problem.modules
    over: dict[tuple[str, str, int], int] = {}
    for (firm, module), weeks in ledger.used.items():
        for week, held in weeks.items():
            excess = held - ledger.table.max_at(firm, module, week)
            if excess > 0:
                over[(firm, module, week)] = excess
    released: list[str] = []
    if not over:
        return released
    holders: dict[str, list[tuple[str, str, int]]] = {}
    for sid, own in kept.items():
        for a in own:
            if a in frozen:
                continue
            for w in range(a.start, a.start + modules[a.module_id].duration):
                if (a.firm_id, a.module_id, w) in over:
                    holders.setdefault(sid, []).append((a.firm_id, a.module_id, w))
    learners = {s.id: s for s in problem.learners}
    loss_cache: dict[str, int] = {}
    while over and holders:
        relieved = {sid: sum(1 for cell in cells if cell in over) for sid, cells in holders.items()}
        most = max(relieved.values())
        if most == 0:
            break
        tied = [sid for sid, n in relieved.items() if n == most]
        for sid in tied:
            if sid not in loss_cache:
                loss_cache[sid] = _loss(problem, builder, ledger, learners[sid], kept[sid], over)
        sid = min(tied, key=lambda x: (loss_cache[x], x))
        for cell in holders.pop(sid):
            if cell in over:
                over[cell] -= 1
                if over[cell] <= 0:
                    del over[cell]
        ledger.release(a for a in kept.pop(sid) if a not in frozen)
        released.append(sid)
    return released


def _loss(
    problem: Problem,
    builder: Constructor,
    ledger: SeatLedger,
    learner: Learner,
    own: list[Assignment],
    over: dict[tuple[str, str, int], int],
) -> int:
    """Cost of moving this learner off its overbooked seats: cheap when a free seat waits at another firm
    in the same weeks (only the preference difference and the change penalty), dear when none does."""
    scope = builder.scope(learner)
    w = learner.weights
    loss = 0
    for a in own:
        duration = problem.modules[a.module_id].duration
        if not any((a.firm_id, a.module_id, wk) in over for wk in range(a.start, a.start + duration)):
            continue
        here = w.firm * learner.firm_pref.get(a.firm_id, 0)
        best: int | None = None
        for firm in scope.firms(builder.table, a.module_id):
            if firm == a.firm_id:
                continue
            ranges = scope.start_ranges(builder.table, a.module_id, firm, duration)
            if any(lo <= a.start <= hi for lo, hi in ranges) and ledger.fits(firm, a.module_id, a.start, duration):
                cost = here - w.firm * learner.firm_pref.get(firm, 0)
                best = cost if best is None else min(best, cost)
        # No seat elsewhere in the same weeks: the learner would have to be re-planned wholesale.
        loss += problem.settings.change_penalty + (best if best is not None else 1_000_000)
    return loss


def _gap_fillable(problem: Problem, builder: Constructor, scope: LearnerScope, own: Sequence[Assignment]) -> bool:
    """True when some open module of an unmet group has a free seat in weeks the learner has free."""
    done = {a.module_id for a in own}
    counts: dict[str, int] = {}
    for m in done:
        for g in scope.groups_of.get(m, ()):
            counts[g] = counts.get(g, 0) + 1
    busy = {w for a in own for w in range(a.start, a.start + problem.modules[a.module_id].duration)}
    ends = {a.module_id: a.start + problem.modules[a.module_id].duration for a in own}
    per_firm: dict[str, int] = {}
    for a in own:
        per_firm[a.firm_id] = per_firm.get(a.firm_id, 0) + 1
    limit = problem.settings.max_modules_per_firm
    ledger = builder.ledger
    for module in scope.modules:
        if module in done or any(counts.get(g, 0) >= scope.required.get(g, 0) for g in scope.groups_of[module]):
            continue
        prereqs = scope.prereqs.get(module, ())
        if any(p not in ends for p in prereqs):
            continue
        not_before = max([scope.learner.first_week, *(ends[p] for p in prereqs)])
        duration = problem.modules[module].duration
        for firm in scope.firms(builder.table, module):
            if limit is not None and per_firm.get(firm, 0) >= limit:
                continue
            ranges = scope.start_ranges(builder.table, module, firm, duration)
            start = ledger.earliest(firm, module, duration, ranges, not_before)
            while start is not None:
                clash = [w for w in range(start, start + duration) if w in busy]
                if not clash:
                    return True
                start = ledger.earliest(firm, module, duration, ranges, max(clash) + 1)
    return False
