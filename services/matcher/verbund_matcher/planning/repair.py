"""Incremental repair after a small change: keep what is still valid, re-place only what must move."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from time import perf_counter

from .construct import Constructor
from .ledger import SeatLedger
from .model import Assignment, Learner, Plan, Problem
from .outcome import make_plan
from .scope import LearnerScope
from .validator import problem_errors


def repair(problem: Problem) -> Plan:
    """Re-plans the learners a change touches, starting from Problem.previous and keeping Problem.frozen.

    A learner is re-placed when one of its published assignments no longer holds on its own (window,
    availability, eligibility, offer gone, precedence, limits), when it holds a seat that is now over
    capacity and was chosen to give it up (the fewest learners, those with a free seat elsewhere first), or
    when it is new. A learner with unmet requirements keeps its assignments and gains what now fits into
    its free weeks. Everyone else keeps exactly what was published.
    """
    broken = problem_errors(problem)
    if broken:
        raise ValueError("the planning problem is inconsistent: " + "; ".join(broken))
    started = perf_counter()
    # A narrow beam: repair must stay fast even when a withdrawal displaces a few hundred learners.
    builder = Constructor(problem, beam_width=min(4, max(2, 4000 // max(1, len(problem.learners)))))
    present = {s.id: s for s in problem.learners}
    frozen = {a for a in problem.frozen if a.learner_id in present}
    previous: dict[str, list[Assignment]] = {}
    for a in problem.previous:
        if a.learner_id in present:
            previous.setdefault(a.learner_id, []).append(a)

    replan: set[str] = set()
    kept: dict[str, list[Assignment]] = {}
    for learner in problem.learners:
        own = previous.get(learner.id)
        scope = builder.scope(learner)
        if not own:
            replan.add(learner.id)  # new, or had nothing: try to place
            continue
        if not _still_valid(problem, builder, scope, own, frozen):
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
    for sid, own in kept.items():
        # After the moved learners found new places: a learner with gaps keeps what it has and gains
        # what now fits into its free weeks (added capacity, seats given up by others).
        if sid in replan:
            continue
        scope = builder.scope(present[sid])
        if _has_gap(problem, scope, own) and _gap_fillable(problem, builder, scope, own):
            extra = builder.fill(scope, own)
            ledger.take(extra)
            plan[sid] = [*own, *extra]
    for sid in present:
        if sid not in plan:
            plan[sid] = [a for a in frozen if a.learner_id == sid]
    assignments = [a for own in plan.values() for a in own]
    return make_plan(problem, assignments, solver="repair", started=started, table=builder.table, scopes=builder.scopes)


def _still_valid(
    problem: Problem,
    builder: Constructor,
    scope: LearnerScope,
    own: Sequence[Assignment],
    frozen: set[Assignment],
) -> bool:
    """True when the learner's published assignments satisfy every constraint except shared capacity."""
    modules = problem.modules
    seen: set[str] = set()
    counts: dict[str, int] = {}
    per_firm: dict[str, int] = {}
    ends: dict[str, tuple[int, int]] = {}
    for a in own:
        if a in frozen:
            pass
        elif a.module_id not in scope.modules or a.module_id in seen:
            return False
        else:
            duration = modules[a.module_id].duration
            if not any(
                lo <= a.start <= hi for lo, hi in scope.start_ranges(builder.table, a.module_id, a.firm_id, duration)
            ):
                return False  # window, availability, eligibility or the offer itself changed
        seen.add(a.module_id)
        for g in scope.groups_of.get(a.module_id, ()):
            counts[g] = counts.get(g, 0) + 1
        per_firm[a.firm_id] = per_firm.get(a.firm_id, 0) + 1
        found = modules.get(a.module_id)
        if found is None:
            return False
        ends[a.module_id] = (a.start, a.start + found.duration - 1)
    if any(count > scope.required.get(g, 0) for g, count in counts.items()):
        return False
    limit = problem.settings.max_modules_per_firm
    if limit is not None and any(n > limit for n in per_firm.values()):
        return False
    spans = sorted(ends.values())
    if any(nxt[0] <= prev[1] for prev, nxt in itertools.pairwise(spans)):
        return False
    for later, prerequisites in scope.prereqs.items():
        if later in ends:
            for requires in prerequisites:
                before = ends.get(requires)
                if before is None or before[1] >= ends[later][0]:
                    return False
    return True


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


def _has_gap(problem: Problem, scope: LearnerScope, own: Sequence[Assignment]) -> bool:
    done = {a.module_id for a in own}
    return any(
        sum(1 for m in done if g in scope.groups_of.get(m, ())) < required for g, required in scope.required.items()
    )


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
