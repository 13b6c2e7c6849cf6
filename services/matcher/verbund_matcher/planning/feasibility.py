"""Feasibility first: re-plans learners around unfilled minimum seats and unplaced requirements until none is left.

The improving search (lns.py) ranks plans by (unfilled minimum seats, placed requirements, objective) and so
also closes deficits, but it spends most of its steps on preferences and its neighbourhoods are drawn around
learners, not around the weeks that lack people. This phase looks only at the deficit: every step picks a week
of a firm x module below its minimum (or a learner with a requirement still open), frees the learners who could
be there in the weeks around it — their other assignments stay where they are — and lets CP-SAT re-place them
with a model that has no objective terms but "fill minimums, then place requirements". A step is kept when the
deficit does not grow, so the search can move along plateaus; the design objective is left to the next phase.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from time import perf_counter

from .chains import hand_on
from .cpsat import AtLeast, solve_cpsat
from .lns import Incumbent
from .model import Assignment, Problem
from .retime import retime_rounds
from .scope import LearnerScope, learner_scope
from .seats import Cell, SeatTable, seat_table
from .shifts import shift_into_deficits
from .top_up import top_up

# Beyond this many start literals the whole-network constraint model rarely finds a plan in its share of a
# minute (tight family: 19,000 literals in 2–8 s; 42,000 on a 120-learner network and 62,000 on 80 learners ×
# 24 modules: nothing in 25 s, or 19–42 s at best; 200,000: nothing). Where it finds nothing, its share is lost
# to the windows (tight-120-12-4-36-2, deterministic, 60: 7 seats short and 15 requirements open with it, 3 and
# 4 without).
WHOLE_MAX_LITERALS = 30_000
# Hand-over chains and re-placing a module for everybody look at every learner doing the module, per open
# requirement, short week or module: on the tight family (up to 320 learners) that is seconds; on thousands of
# learners the windows below, which stay local, are the better use of the time.
WHOLE_MODULE_MAX_LEARNERS = 2_000


@dataclass(slots=True)
class FeasibilityStats:
    steps: int = 0
    kept: int = 0
    start_deficit: tuple[int, int] = (0, 0)  # (unfilled minimum learner-weeks, unplaced requirement units)
    final_deficit: tuple[int, int] = (0, 0)
    seconds: float = 0.0
    work: float = 0.0  # CP-SAT deterministic time spent
    history: list[tuple[float, int, int]] = field(default_factory=list)
    whole: str = ""  # status of the whole-network constraint model ("" when it did not run)


@dataclass(frozen=True, slots=True)
class Budget:
    """How long the phase may run: wall-clock seconds, or CP-SAT deterministic time when `deterministic`."""

    seconds: float
    deterministic: bool = False
    # Per CP-SAT step: seconds, or deterministic time. Short: a step that improves does so early, and many
    # small steps beat few thorough ones here (30 s on 320 learners: 0.3 s steps left 93 seats short, 1 s 112).
    step: float = 0.5
    # Share of the budget for the whole network as one constraint model (every reachable minimum and requirement
    # hard) before the windows: on networks of up to about a hundred learners it finds complete plans the
    # windows do not (tight-80-24-4-48-2: 19 s, where 60 s of windows left a requirement open).
    whole: float = 0.5
    # Share of the budget, at most, for re-placing one module at a time for everybody (retime.py); it stops
    # earlier once a round over all modules gains nothing.
    retime: float = 0.8
    # ... and once no minimum is short, when only requirements are left open: the windows below place those only
    # one at a time, and re-placing modules with the learners holding their seats (retime.contended) places more
    # in the same work (tight-160-24-5-72-3: 2 units open at 0.95, 3 at 0.8).
    settled: float = 0.95


def reach_feasibility(
    problem: Problem,
    start: Sequence[Assignment],
    *,
    budget: Budget,
    workers: int = 2,
    seed: int = 0,
    table: SeatTable | None = None,
    scopes: dict[str, LearnerScope] | None = None,
) -> tuple[list[Assignment], FeasibilityStats]:
    """A plan with no more deficit than `start`, and less where the budget allows; never raises on bad luck."""
    began = perf_counter()
    table = table if table is not None else seat_table(problem.offers)
    scopes = scopes if scopes is not None else {}
    current = Incumbent(problem, table, start)
    rng = random.Random(seed)
    learners = {s.id: s for s in problem.learners}

    def scope(sid: str) -> LearnerScope:
        sc = scopes.get(sid)
        if sc is None:
            sc = learner_scope(problem, learners[sid])
            scopes[sid] = sc
        return sc

    required = {sid: sum(scope(sid).required.values()) for sid in learners}
    # A learner who cannot meet its requirements even alone (no offer, eligibility...) is not searched for.
    reachable = {sid: _reachable(problem, table, scope(sid)) for sid in learners}
    target = sum(min(required[sid], reachable[sid]) for sid in learners)

    # Seats below a minimum that no plan can fill (fewer learners could be there that week than it asks for).
    attendable = _attendable(problem, table, [scope(sid) for sid in learners])
    floor = sum(
        max(0, need - attendable.get((cell, week), 0))
        for cell, weeks in table.min_seats.items()
        for week, need in weeks.items()
    )

    def deficit() -> tuple[int, int]:
        return current.short - floor, max(0, target - current.count)

    stats = FeasibilityStats(start_deficit=deficit())
    stats.history.append((0.0, *stats.start_deficit))
    if deficit()[0] > 0:
        # Single moves first: they close many short weeks in a fraction of a second (see shifts.py); the free
        # seats they leave are topped up with open requirements, which may open room for more moves.
        all_scopes = {sid: scope(sid) for sid in learners}
        held = current.assignments()
        shifted = shift_into_deficits(problem, held, table, all_scopes)
        if shifted != held:  # top-up costs seconds on thousands of learners: only where moves freed seats
            shifted = shift_into_deficits(problem, top_up(problem, shifted, table), table, all_scopes)
            moved = Incumbent(problem, table, shifted)
            if (moved.short, -moved.count) < (current.short, -current.count):
                current = moved
                stats.history.append((perf_counter() - began, *deficit()))
    if deficit() != (0, 0) and len(learners) <= WHOLE_MODULE_MAX_LEARNERS:
        # Then chains of hand-overs and one module at a time for everybody (chains.py, retime.py): together they
        # settle most of what one module's places can settle, in seconds, before any larger model is tried.
        all_scopes = {sid: scope(sid) for sid in learners}
        handed = Incumbent(problem, table, hand_on(problem, current.assignments(), table, all_scopes))
        if (handed.short, -handed.count) < (current.short, -current.count):
            current = handed
            stats.history.append((perf_counter() - began, *deficit()))
        current, work = retime_rounds(
            problem,
            current,
            all_scopes,
            limit=budget.seconds * budget.retime,
            seed=seed,
            settled=budget.seconds * budget.settled,
        )
        stats.work += work
        stats.history.append((perf_counter() - began, *deficit()))
    # Only while a minimum is short: requirements left open beside full minimums are mostly contention, where
    # hard floors are impossible and a search that cannot prove it (local search, below) would only burn time.
    if deficit()[0] > 0 and budget.whole > 0 and _left(budget, stats, began) > 0.1 * budget.seconds:
        floors = AtLeast(
            placed={sid: _reachable_by_group(problem, table, scope(sid)) for sid in learners},
            seats={
                (cell, week): min(need, attendable.get((cell, week), 0))
                for cell, weeks in table.min_seats.items()
                for week, need in weeks.items()
            },
        )
        share = min(budget.seconds * budget.whole, _left(budget, stats, began))  # or what the steps above left
        whole = solve_cpsat(
            problem,
            hint=current.assignments(),
            time_limit=share,
            workers=workers,
            seed=seed,
            table=table,
            scopes={sid: scope(sid) for sid in learners},
            at_least=floors,
            deterministic=share if budget.deterministic else None,
            max_literals=WHOLE_MAX_LITERALS,
        )
        stats.whole = whole.status
        stats.work += whole.work
        if whole.found:
            complete = Incumbent(problem, table, whole.assignments)
            if (complete.short, -complete.count) <= (current.short, -current.count):
                current = complete
                stats.history.append((perf_counter() - began, *deficit()))
    size = 12
    # A phase that gains nothing over a fifth of its budget has stalled (a network far beyond its capacity,
    # say): the improving search, which also ranks plans by their deficit, gets the time instead.
    spent = stats.work if budget.deterministic else perf_counter() - began
    checkpoint, at_checkpoint = spent + budget.seconds / 5, deficit()
    retime_again = len(learners) <= WHOLE_MODULE_MAX_LEARNERS
    while deficit() != (0, 0):
        spent = stats.work if budget.deterministic else perf_counter() - began
        if budget.seconds - spent < (0.01 if budget.deterministic else 0.1):
            break
        step = min(budget.step, budget.seconds - spent)
        if spent >= checkpoint:
            if deficit() >= at_checkpoint:
                if not retime_again:
                    break
                # The windows moved learners along plateaus: re-placing whole modules may find a way on from
                # there. Once per stall; a second stall ends the phase.
                retime_again = False
                before = deficit()
                current, work = retime_rounds(
                    problem,
                    current,
                    {sid: scope(sid) for sid in learners},
                    limit=min(budget.seconds * budget.retime, budget.seconds - spent),
                    seed=seed + stats.steps,
                )
                stats.work += work
                if deficit() >= before:
                    break
                stats.history.append((perf_counter() - began, *deficit()))
                spent = stats.work if budget.deterministic else perf_counter() - began
                if budget.seconds - spent < (0.01 if budget.deterministic else 0.1):
                    break
                step = min(budget.step, budget.seconds - spent)
            checkpoint, at_checkpoint = spent + budget.seconds / 5, deficit()
        target_cell = _pick_target(current, table, attendable, required, reachable, scope, rng)
        if target_cell is None:
            break
        module, firm, week, forced = target_cell
        chosen, pins, within = _window(current, problem, table, scope, module, firm, week, forced, size, rng)
        before = deficit()
        held = [a for sid in chosen for a in current.by_learner.get(sid, [])]
        sub = dataclasses.replace(problem, frozen=(*problem.frozen, *pins)) if pins else problem
        current._apply(held, -1)
        try:
            result = solve_cpsat(
                sub,
                free=chosen,
                hint=held,
                time_limit=step,
                workers=workers,
                seed=rng.randrange(1 << 30),
                table=table,
                scopes={sid: scope(sid) for sid in chosen},
                fixed_occupancy=current.used,
                feasibility=True,
                deterministic=step if budget.deterministic else None,
                within=within,
            )
        finally:
            current._apply(held, +1)
        stats.steps += 1
        stats.work += result.work
        if not result.found:
            size = max(4, size - 2)
            continue
        old = {sid: list(current.by_learner.get(sid, [])) for sid in chosen}
        # The result holds every assignment of the chosen learners, pinned and frozen ones included.
        new: dict[str, list[Assignment]] = {sid: [] for sid in chosen}
        for a in result.assignments:
            new[a.learner_id].append(a)
        current.replace(new)
        after = deficit()
        if _worse(after, before):
            current.replace(old)
        else:
            stats.kept += 1
            if after != before:
                stats.history.append((perf_counter() - began, *after))
        # Grow the window while steps prove quickly; shrink it when CP-SAT runs out of time.
        size = min(size + max(2, size // 4), 400) if result.status == "optimal" else max(4, size * 3 // 4)
    stats.final_deficit = deficit()
    stats.seconds = perf_counter() - began
    return current.assignments(), stats


def _left(budget: Budget, stats: FeasibilityStats, began: float) -> float:
    """What is left of the phase's budget: work, or seconds."""
    return budget.seconds - (stats.work if budget.deterministic else perf_counter() - began)


def _worse(after: tuple[int, int], before: tuple[int, int]) -> bool:
    """Minimum seats first (a workshop that does not run), then requirements left unplaced."""
    return after > before


def _attendable(problem: Problem, table: SeatTable, scopes: Sequence[LearnerScope]) -> dict[tuple[Cell, int], int]:
    """For each firm x module x week with a minimum: how many learners could be there at all (eligible, in
    their window, with a start that covers the week on available weeks)."""
    count: dict[tuple[Cell, int], int] = {}
    for sc in scopes:
        for (firm, module), weeks in table.min_seats.items():
            if module not in sc.modules:
                continue
            duration = problem.modules[module].duration
            covered: set[int] = set()
            for lo, hi in sc.start_ranges(table, module, firm, duration):
                covered.update(range(lo, hi + duration))
            for week in covered.intersection(weeks):
                count[((firm, module), week)] = count.get(((firm, module), week), 0) + 1
    return count


def _reachable(problem: Problem, table: SeatTable, scope: LearnerScope) -> int:
    """How many requirement units the learner could meet with every seat free (per group, capped)."""
    return sum(_reachable_by_group(problem, table, scope).values())


def _reachable_by_group(problem: Problem, table: SeatTable, scope: LearnerScope) -> dict[str, int]:
    """Per requirement group: how many of its modules the learner could take with every seat free (capped)."""
    reach: dict[str, int] = {}
    for group, count in scope.required.items():
        possible = 0
        for module in scope.modules:
            if group not in scope.groups_of.get(module, ()):
                continue
            duration = problem.modules[module].duration
            if any(scope.start_ranges(table, module, f, duration) for f in scope.firms(table, module)):
                possible += 1
        reach[group] = min(count, possible)
    return reach


def _pick_target(
    current: Incumbent,
    table: SeatTable,
    attendable: Mapping[tuple[Cell, int], int],
    required: Mapping[str, int],
    reachable: Mapping[str, int],
    scope: Callable[[str], LearnerScope],
    rng: random.Random,
) -> tuple[str, str, int, str | None] | None:
    """A (module, firm, week) to work around, and a learner to include for sure (an unplaced requirement's)."""
    if current.short > 0 and (rng.random() < 0.8 or current.count >= sum(reachable.values())):
        lacking_cells = [
            (cell, week)
            for cell, weeks in table.min_seats.items()
            for week, need in weeks.items()
            if current.used.get(cell, {}).get(week, 0) < min(need, attendable.get((cell, week), 0))
        ]
        if lacking_cells:
            (firm, module), week = rng.choice(lacking_cells)
            return module, firm, week, None
    lacking = [sid for sid, own in current.by_learner.items() if len(own) < min(required[sid], reachable[sid])]
    if not lacking:
        return None
    sid = rng.choice(lacking)
    sc = scope(sid)
    done = {a.module_id for a in current.by_learner[sid]}
    options = [m for m in sc.modules if m not in done and sc.firms(table, m)]
    if not options:
        return None
    module = rng.choice(options)
    learner = sc.learner
    # Around a week the learner has free and could spend on the module somewhere: that is where room is needed.
    duration = current.problem.modules[module].duration
    busy = {
        w
        for a in current.by_learner[sid]
        for w in range(a.start, a.start + current.problem.modules[a.module_id].duration)
    }
    places = [
        (firm, week)
        for firm in sc.firms(table, module)
        for lo, hi in sc.start_ranges(table, module, firm, duration)
        for week in range(lo, hi + duration)
        if week not in busy
    ]
    if places:
        firm, week = rng.choice(places)
        return module, firm, week, sid
    firm = rng.choice(sc.firms(table, module))
    return module, firm, rng.randint(learner.first_week, learner.last_week), sid


def _window(
    current: Incumbent,
    problem: Problem,
    table: SeatTable,
    scope: Callable[[str], LearnerScope],
    module: str,
    firm: str,
    week: int,
    forced: str | None,
    size: int,
    rng: random.Random,
) -> tuple[set[str], list[Assignment], tuple[int, int]]:
    """Learners who could be at firm x module in `week`, free in the weeks around it, pinned elsewhere."""
    duration = problem.modules[module].duration
    lo, hi = week - 2 * duration, week + 2 * duration
    candidates: list[tuple[int, float, str]] = []
    for sid in current.by_learner:
        sc = scope(sid)
        learner = sc.learner
        if learner.last_week < lo or learner.first_week > hi:
            continue
        could = module in sc.modules and sc.eligible(firm, module) and learner.first_week <= week <= learner.last_week
        if not could:
            # Not a candidate for the week itself, but its weeks around it may make room for one.
            candidates.append((4, rng.random(), sid))
            continue
        own = current.by_learner.get(sid, [])
        # Those already doing the module elsewhere around that week move most easily; then those who have it
        # still open; then anybody whose weeks there could be shuffled.
        doing = next((a for a in own if a.module_id == module), None)
        if doing is not None and doing.firm_id != firm and lo <= doing.start <= hi:
            rank = 0
        elif doing is None:
            rank = 1
        elif doing.firm_id == firm:
            rank = 3
        else:
            rank = 2
        candidates.append((rank, rng.random(), sid))
    candidates.sort()
    chosen = {sid for _, _, sid in candidates[:size]}
    if forced is not None:
        chosen.add(forced)
    frozen = set(problem.frozen)
    pins: list[Assignment] = []
    for sid in chosen:
        for a in current.by_learner.get(sid, []):
            if a in frozen:
                continue
            end = a.start + problem.modules[a.module_id].duration - 1
            if a.start < lo or end > hi:
                pins.append(a)
    return chosen, pins, (lo, hi)
