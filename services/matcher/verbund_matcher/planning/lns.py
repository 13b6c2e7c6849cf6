"""Large-neighbourhood search: free a few related learners, re-plan them with CP-SAT, keep what is better."""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from time import perf_counter

from .construct import Constructor
from .cpsat import CpResult, solve_cpsat
from .model import Assignment, Problem
from .scope import LearnerScope, learner_scope
from .seats import Cell, SeatTable, seat_table
from .validator import learner_sat

# Work a ruin-and-recreate step counts per learner it re-plans in deterministic mode: about what such a step
# costs in seconds on a 2-core machine, so a deterministic budget lasts roughly as long as the same wall budget.
RECREATE_WORK = 0.005


@dataclass(slots=True)
class LnsStats:
    iterations: int = 0
    improved: int = 0
    start_key: tuple[int, int, int] = (0, 0, 0)
    final_key: tuple[int, int, int] = (0, 0, 0)
    history: list[tuple[float, int]] = field(default_factory=list)  # (seconds, design objective)
    seconds: dict[str, float] = field(default_factory=dict)  # time spent per operator
    work: dict[str, float] = field(default_factory=dict)  # deterministic work per operator (see improve)
    tries: dict[str, int] = field(default_factory=dict)
    wins: dict[str, int] = field(default_factory=dict)
    side_by_side: int = 0  # CP-SAT steps that searched while another step of their round did
    clashes: int = 0  # of those, steps whose seats an earlier step of their round took (for some learners)


class Incumbent:
    """The current plan with the pieces of its score kept up to date as learners are re-planned."""

    def __init__(self, problem: Problem, table: SeatTable, assignments: Sequence[Assignment]) -> None:
        self.problem = problem
        self.table = table
        self.by_learner: dict[str, list[Assignment]] = {s.id: [] for s in problem.learners}
        for a in assignments:
            self.by_learner.setdefault(a.learner_id, []).append(a)
        self.learners = {s.id: s for s in problem.learners}
        self.sat = {sid: learner_sat(problem, s, self.by_learner[sid]) for sid, s in self.learners.items()}
        self.previous = set(problem.previous)
        self.kept = sum(1 for a in assignments if a in self.previous)
        self.count = len(assignments)
        self.used: dict[Cell, dict[int, int]] = {}
        self.short = 0
        for cell, weeks in table.min_seats.items():
            self.short += sum(weeks.values())
            self.used.setdefault(cell, {})
        self._apply(assignments, +1)

    def _apply(self, assignments: Sequence[Assignment], sign: int) -> None:
        """Adds (or removes) seat usage, keeping the min-seat shortfall total current."""
        modules = self.problem.modules
        for a in assignments:
            cell = (a.firm_id, a.module_id)
            weeks = self.used.setdefault(cell, {})
            minimum = self.table.min_seats.get(cell)
            for w in range(a.start, a.start + modules[a.module_id].duration):
                before = weeks.get(w, 0)
                weeks[w] = before + sign
                if minimum:
                    need = minimum.get(w, 0)
                    self.short += max(0, need - weeks[w]) - max(0, need - before)

    def key(self) -> tuple[int, int, int]:
        return (-self.short, self.count, self.objective())

    def objective(self) -> int:
        penalty = self.problem.settings.change_penalty * (len(self.problem.previous) - self.kept)
        return sum(self.sat.values()) + min(self.sat.values(), default=0) - penalty

    def replace(self, changes: Mapping[str, Sequence[Assignment]]) -> None:
        for sid, new in changes.items():
            old = self.by_learner.get(sid, [])
            self._apply(old, -1)
            self._apply(new, +1)
            self.kept += sum(1 for a in new if a in self.previous) - sum(1 for a in old if a in self.previous)
            self.count += len(new) - len(old)
            self.by_learner[sid] = list(new)
            self.sat[sid] = learner_sat(self.problem, self.learners[sid], new)

    def assignments(self) -> list[Assignment]:
        return [a for own in self.by_learner.values() for a in own]


def improve(
    problem: Problem,
    start: Sequence[Assignment],
    *,
    time_limit: float,
    workers: int = 2,
    seed: int = 0,
    table: SeatTable | None = None,
    neighbourhood: int | None = None,
    step_limit: float | None = None,
    deterministic: bool = False,
) -> tuple[list[Assignment], LnsStats]:
    """Improves `start` until the time limit; never returns something worse than it.

    With `deterministic`, `time_limit` is a budget of work, not seconds: CP-SAT steps count their deterministic
    time and a ruin-and-recreate step RECREATE_WORK per learner it re-plans, and every choice depends on the
    seed and on that count only, so the same input, seed and workers give the same plan on any machine load.
    """
    began = perf_counter()
    deadline = began + time_limit
    table = table if table is not None else seat_table(problem.offers)
    rng = random.Random(seed)
    current = Incumbent(problem, table, start)
    stats = LnsStats(start_key=current.key())
    stats.history.append((0.0, current.objective()))
    learners = [s.id for s in problem.learners]
    if not learners:
        stats.final_key = current.key()
        return current.assignments(), stats
    scopes: dict[str, LearnerScope] = {}

    def scope(sid: str) -> LearnerScope:
        sc = scopes.get(sid)
        if sc is None:
            sc = learner_scope(problem, current.learners[sid])
            scopes[sid] = sc
        return sc

    takers: dict[str, list[str]] = {}  # module -> learners who may do it
    for s in problem.learners:
        for mod in scope(s.id).modules:
            takers.setdefault(mod, []).append(s.id)
    busiest = max((len(fs) for fs in table.firms_for.values()), default=0)
    firm_cap = 8 if busiest > 8 else None
    size = neighbourhood if neighbourhood is not None else max(2, min(8, 1000 // max(1, len(learners))))
    ruin = max(4, min(30, size * 2))
    step = step_limit if step_limit is not None else 1.0
    builder = Constructor(problem, table=table, beam_width=8)
    builder.ledger.used = current.used  # the constructive re-plans against the incumbent's seats
    builder.scopes = scopes
    frozen_by: dict[str, list[Assignment]] = {}
    for a in problem.frozen:
        frozen_by.setdefault(a.learner_id, []).append(a)
    # CP-SAT steps only where a learner's time-indexed model stays small; on networks with hundreds of
    # firms per module and long windows one learner alone has tens of thousands of start literals.
    exact = _literals_per_learner(problem, table, scope, firm_cap or busiest, rng) <= 4000
    tries = {"cpsat": 1, "recreate": 1}
    wins = {"cpsat": 1, "recreate": 1}
    work = 0.0
    # With a budget of work a CP-SAT step searches with one worker (see cpsat._configure), so one step alone
    # leaves the other cores idle: as many steps as the caller gave workers run at once, on disjoint
    # neighbourhoods of the same plan (CP-SAT holds no GIL while it searches), and are kept one after the
    # other in the order they were drawn, so the plan depends on the seed and the work only.
    together = max(1, workers) if deterministic and exact else 1
    pool = ThreadPoolExecutor(max_workers=together) if together > 1 else None
    # Until every minimum is met and every requirement placed, the steps go one at a time: each then searches
    # the plan the one before it left, which is what placed the last units where side-by-side steps did not
    # (tight-200-12-5-48-3 ended one unit short with two at a time).
    required = sum(sum(scope(s.id).required.values()) for s in problem.learners)

    def left() -> float:
        return time_limit - work if deterministic else deadline - perf_counter()

    try:
        while left() > 0.05:
            stats.iterations += 1
            # Pick the operator in proportion to its improvements per second spent (each keeps a floor of a
            # tenth): the fast constructive re-plan and the exact but slower CP-SAT step pay off on different
            # networks.
            spent = stats.work if deterministic else stats.seconds
            rate = {op: wins[op] / max(0.05, spent.get(op, 0.5)) for op in wins}
            share = rate["cpsat"] / (rate["cpsat"] + rate["recreate"])
            operator = "cpsat" if exact and rng.random() < max(0.1, min(0.9, share)) else "recreate"
            step_started = perf_counter()
            if operator == "recreate":
                chosen = _neighbourhood(current, takers, rng, ruin, table)
                old = {sid: list(current.by_learner.get(sid, [])) for sid in chosen}
                before = current.key()
                tries[operator] += 1
                _recreate(current, builder, scope, frozen_by, chosen, rng)
                cost = RECREATE_WORK * len(chosen)
                stats.seconds[operator] = stats.seconds.get(operator, 0.0) + perf_counter() - step_started
                stats.work[operator] = stats.work.get(operator, 0.0) + cost
                work += cost
                _keep_if_better(current, old, before, operator, wins, stats, began)
                continue
            at_once = together if current.short == 0 and current.count >= required else 1
            # Each step of a round gets an equal share of what is left, so a round never overruns the budget.
            step_budget = max(0.05, min(step, left() / at_once))
            taken: set[str] = set()
            steps: list[tuple[set[str], dict[str, list[Assignment]], int]] = []
            for _ in range(at_once):
                chosen = _neighbourhood(current, takers, rng, size, table, taken)
                if not chosen:
                    break  # every learner is in an earlier neighbourhood of the round
                taken |= chosen
                old = {sid: list(current.by_learner.get(sid, [])) for sid in chosen}
                steps.append((chosen, old, rng.randrange(1 << 30)))
            searches = [
                partial(
                    _cpsat_search,
                    problem,
                    current,
                    chosen,
                    old,
                    min((v for sid, v in current.sat.items() if sid not in chosen), default=None),
                    {sid: scope(sid) for sid in chosen},
                    table,
                    firm_cap,
                    workers,
                    step_seed,
                    step_budget,
                    deterministic,
                )
                for chosen, old, step_seed in steps
            ]
            results = list(pool.map(_run, searches)) if pool is not None and len(searches) > 1 else [searches[0]()]
            if len(steps) > 1:
                stats.side_by_side += len(steps)
            stats.seconds[operator] = stats.seconds.get(operator, 0.0) + perf_counter() - step_started
            for (chosen, old, _), result in zip(steps, results, strict=True):
                tries[operator] += 1
                stats.work[operator] = stats.work.get(operator, 0.0) + result.work
                work += result.work
                if not result.found:
                    size = max(2, size - 1)
                    continue
                # Grow the neighbourhood while CP-SAT proves it quickly; shrink it when it runs out of time.
                size = min(size + 1, 40) if result.status == "optimal" else max(2, size - 1)
                before = current.key()
                new: dict[str, list[Assignment]] = {sid: [] for sid in chosen}
                for a in result.assignments:
                    new[a.learner_id].append(a)
                current.replace(new)
                # A later step of the round saw the seats as they were before the earlier ones moved learners:
                # those of its learners who would sit over a maximum keep their old plans.
                if chosen is not steps[0][0] and _settle(current, table, new, old):
                    stats.clashes += 1
                _keep_if_better(current, old, before, operator, wins, stats, began)
    finally:
        if pool is not None:
            pool.shutdown()
    stats.final_key = current.key()
    stats.tries, stats.wins = tries, wins
    return current.assignments(), stats


def _keep_if_better(
    current: Incumbent,
    old: Mapping[str, Sequence[Assignment]],
    before: tuple[int, int, int],
    operator: str,
    wins: dict[str, int],
    stats: LnsStats,
    began: float,
) -> None:
    """Undoes a step that made the plan worse; counts one that made it better."""
    after = current.key()
    if after < before:
        current.replace(old)
    elif after > before:
        wins[operator] += 1
        stats.improved += 1
        stats.history.append((perf_counter() - began, current.objective()))


def _settle(
    current: Incumbent,
    table: SeatTable,
    new: Mapping[str, Sequence[Assignment]],
    old: Mapping[str, Sequence[Assignment]],
) -> int:
    """Gives learners of a step their old plans back, as long as any seat one of the others newly takes is over
    its offer's maximum; how many got theirs back. The old plans fit: no earlier step took their seats."""
    settled: set[str] = set()
    while True:
        over = [sid for sid in new if sid not in settled and _over_maximum(current, table, new[sid], old[sid])]
        if not over:
            return len(settled)
        current.replace({sid: list(old[sid]) for sid in over})
        settled.update(over)


def _over_maximum(current: Incumbent, table: SeatTable, new: Sequence[Assignment], old: Sequence[Assignment]) -> bool:
    """Whether a seat in `new` and not in `old` is over its offer's maximum in the current plan."""
    modules = current.problem.modules
    kept = set(old)
    for a in new:
        if a in kept:
            continue
        weeks = current.used.get((a.firm_id, a.module_id), {})
        for w in range(a.start, a.start + modules[a.module_id].duration):
            if weeks.get(w, 0) > table.max_at(a.firm_id, a.module_id, w):
                return True
    return False


def _recreate(
    current: Incumbent,
    builder: Constructor,
    scope: Callable[[str], LearnerScope],
    frozen_by: Mapping[str, list[Assignment]],
    chosen: set[str],
    rng: random.Random,
) -> None:
    """Ruin and recreate: release the learners' seats, re-plan them one by one in a random order."""
    current.replace({sid: list(frozen_by.get(sid, [])) for sid in chosen})
    order = sorted(chosen)
    rng.shuffle(order)
    for sid in order:
        sc = scope(sid)
        frozen = sorted(frozen_by.get(sid, []), key=lambda a: a.start)
        planned = builder.search(sc, frozen, builder.previous_by.get(sid, set()))
        planned = (*planned, *builder.fill(sc, planned))
        current.replace({sid: list(planned)})


def _cpsat_search(
    problem: Problem,
    current: Incumbent,
    chosen: set[str],
    old: Mapping[str, list[Assignment]],
    others_min: int | None,
    scopes: Mapping[str, LearnerScope],
    table: SeatTable,
    firm_cap: int | None,
    workers: int,
    seed: int,
    time_limit: float,
    deterministic: bool = False,
) -> CpResult:
    """Re-plans the chosen learners exactly with the others fixed; reads the incumbent, never changes it (steps
    of one round search the same plan at once)."""
    held = [a for own in old.values() for a in own]
    return solve_cpsat(
        problem,
        free=chosen,
        hint=held,
        others_min=others_min,
        time_limit=time_limit,
        workers=workers,
        seed=seed,
        firm_cap=firm_cap,
        table=table,
        scopes=scopes,
        fixed_occupancy=_without(current.used, held, problem),
        deterministic=time_limit if deterministic else None,
    )


def _run(search: Callable[[], CpResult]) -> CpResult:
    return search()


def _without(
    used: Mapping[Cell, Mapping[int, int]], held: Sequence[Assignment], problem: Problem
) -> dict[Cell, Mapping[int, int]]:
    """Seat usage with `held` taken out: a copy of the cells they touch, the others shared."""
    view: dict[Cell, Mapping[int, int]] = dict(used)
    for a in held:
        cell = (a.firm_id, a.module_id)
        weeks = dict(view.get(cell, {}))
        for w in range(a.start, a.start + problem.modules[a.module_id].duration):
            weeks[w] = weeks.get(w, 0) - 1
        view[cell] = weeks
    return view


def _neighbourhood(
    current: Incumbent,
    takers: Mapping[str, list[str]],
    rng: random.Random,
    size: int,
    table: SeatTable,
    taken: Collection[str] = (),
) -> set[str]:
    """A seed learner (one near an unfilled minimum, one with a gap, the worst-off, or any) and learners
    competing for its modules; none of them in `taken` (another neighbourhood's)."""
    learners = [sid for sid in current.by_learner if sid not in taken] if taken else list(current.by_learner)
    if not learners:
        return set()
    roll = rng.random()
    seed_id: str
    short_seed = _near_deficit(current, takers, rng, table) if current.short > 0 and roll < 0.3 else None
    if short_seed is not None and short_seed not in taken:
        seed_id = short_seed
    elif roll < 0.35:
        lacking = [
            sid
            for sid in rng.sample(learners, min(len(learners), 200))
            if len(current.by_learner[sid]) < sum(current.learners[sid].required.values())
        ]
        seed_id = rng.choice(lacking) if lacking else rng.choice(learners)
    elif roll < 0.5:
        seed_id = min(learners, key=lambda sid: (current.sat[sid], rng.random()))
    else:
        seed_id = rng.choice(learners)
    chosen = {seed_id}
    learner = current.learners[seed_id]
    mods = sorted(learner.allowed_modules)  # sorted: a set's order changes from process to process
    rng.shuffle(mods)
    pool: list[str] = []
    for mod in mods:
        pool.extend(t for t in takers.get(mod, []) if t != seed_id and t not in taken)
        if len(pool) > 20 * size:
            break
    # Prefer learners whose windows overlap the seed's: only they can trade seats with it.
    overlapping = [
        t
        for t in pool
        if current.learners[t].first_week <= learner.last_week and current.learners[t].last_week >= learner.first_week
    ]
    candidates = overlapping or pool
    rng.shuffle(candidates)
    for t in candidates:
        if len(chosen) >= size:
            break
        chosen.add(t)
    return chosen


def _near_deficit(
    current: Incumbent, takers: Mapping[str, list[str]], rng: random.Random, table: SeatTable
) -> str | None:
    """A learner who could fill a week some offer's minimum still lacks (sampled, not searched)."""
    cells = list(table.min_seats.items())
    for _ in range(20):
        (firm, module), weeks = rng.choice(cells)
        week = rng.choice(list(weeks))
        if current.used.get((firm, module), {}).get(week, 0) >= weeks[week]:
            continue
        fits = [
            sid
            for sid in takers.get(module, [])
            if current.learners[sid].first_week <= week <= current.learners[sid].last_week
        ]
        if fits:
            return rng.choice(fits)
    return None


def _literals_per_learner(
    problem: Problem,
    table: SeatTable,
    scope: Callable[[str], LearnerScope],
    firm_cap: int,
    rng: random.Random,
) -> float:
    """Average start literals of a learner in a CP-SAT step, over a sample of learners."""
    sample = rng.sample(list(problem.learners), min(20, len(problem.learners)))
    total = 0
    for learner in sample:
        sc = scope(learner.id)
        for m in sc.modules:
            duration = problem.modules[m].duration
            for f in sc.firms(table, m)[:firm_cap]:
                total += sum(hi - lo + 1 for lo, hi in sc.start_ranges(table, m, f, duration))
    return total / max(1, len(sample))
