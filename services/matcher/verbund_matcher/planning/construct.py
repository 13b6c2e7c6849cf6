"""Fast constructive planner: each learner planned by a small beam search against the seats still free."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter

from .ledger import SeatLedger
from .model import Assignment, Learner, Problem
from .scope import LearnerScope, learner_scope
from .seats import Cell, SeatTable, intersect_ranges, seat_table
from .validator import learner_sat

# A remembered search reads at most this many cells: beyond it, checking them costs about what searching does.
_MEMO_CELLS = 256
# Distinct learners remembered per chain of repairs; past it, the memory starts over.
MEMO_LEARNERS = 512


@dataclass(slots=True)
class _State:
    score: int
    end: int  # last week used so far (window start - 1 when empty)
    last_firm: str | None
    done: frozenset[str]
    counts: tuple[int, ...]  # per requirement group, in scope.required order
    firm_modules: tuple[tuple[str, int], ...]  # distinct modules per firm, for the per-firm limit
    seq: tuple[Assignment, ...]
    next_frozen: int  # index into the learner's frozen assignments, in time order


def sat_scale(problem: Problem, scope: LearnerScope) -> int:
    """An upper bound on how much sat(s) can vary for this learner (used to make coverage dominate)."""
    learner = scope.learner
    w = learner.weights
    bound = 0
    best_firm = max((abs(v) for v in learner.firm_pref.values()), default=0)
    for m in scope.modules:
        bound += (
            abs(w.module * learner.module_pref.get(m, 0))
            + abs(w.firm) * best_firm
            + abs(problem.modules[m].priority)
            + abs(w.change)
        )
    bound += abs(w.idle) * max(0, learner.last_week - learner.first_week + 1)
    return bound


def learner_signature(learner: Learner) -> tuple[object, ...]:
    """Everything a learner's search and bound read of the learner, its id and name left out: two learners with
    the same signature, planned against the same seats, get the same plan."""
    return (
        learner.curriculum_id,
        learner.first_week,
        learner.last_week,
        tuple(sorted(learner.required.items())),
        learner.allowed_modules,
        learner.unavailable,
        learner.excluded_firms,
        learner.excluded_firm_modules,
        tuple(sorted(learner.module_pref.items())),
        tuple(sorted(learner.firm_pref.items())),
        learner.weights,
        learner.home_firm_id,
    )


@dataclass(slots=True)
class _Recalled:
    """One remembered newcomer search: the cells it read, their tokens then, and the plan it found."""

    cells: tuple[Cell, ...]
    tokens: tuple[int, ...]
    steps: tuple[tuple[str, str, int], ...]  # (module, firm, start) of each assignment


@dataclass(slots=True)
class SearchMemo:
    """Newcomers' plans and scopes by learner signature, kept along a chain of newcomer-only repairs of one
    network (same offers, modules, curricula and settings throughout, every seat change through the ledger).

    A cohort registers many learners alike (one curriculum, one school's blocks, no preferences yet): the second
    of them is planned by checking that none of the cells the first one's search read changed what a search reads
    (the ledger's tokens), instead of searching again. The plan is the same either way.
    """

    table: SeatTable
    searches: dict[tuple[object, ...], _Recalled] = field(default_factory=dict)
    scopes: dict[tuple[object, ...], LearnerScope] = field(default_factory=dict)
    bounds: dict[tuple[object, ...], int] = field(default_factory=dict)
    hits: int = 0
    misses: int = 0


class Constructor:
    """Plans learners one at a time; keeps the seat ledger between them."""

    def __init__(
        self,
        problem: Problem,
        *,
        table: SeatTable | None = None,
        beam_width: int | None = None,
        firm_cap: int | None = None,
        index_previous: bool = True,
        shared_free_starts: bool = False,
        memo: SearchMemo | None = None,
    ) -> None:
        self.problem = problem
        self.table = table if table is not None else seat_table(problem.offers)
        self.ledger = SeatLedger(self.table, problem.modules)
        # Remembered searches, for a caller whose ledger starts from the seats the memo's tokens describe and
        # sets `ledger.tokens` accordingly (see SearchMemo).
        self.memo = memo if memo is not None and memo.table is self.table else None
        self.signatures: dict[str, tuple[object, ...]] = {}
        # Free starts per (module, firm, duration) kept across learners, worked out again only when a week of
        # the cell became full or free since: most learners place where no week fills up. Only for a caller
        # whose every change of the ledger goes through `take` (LNS shares its own seat counts instead).
        self.free_index: dict[tuple[str, str, int], tuple[int, list[int]]] | None = None
        if shared_free_starts:
            self.ledger.full_changes = {}
            self.free_index = {}
        n = max(1, len(problem.learners))
        # Wider beams where there are few learners; a few states per step keep thousands fast.
        self.beam_width = beam_width if beam_width is not None else max(2, min(16, 4000 // n))
        self.firm_cap = firm_cap if firm_cap is not None else (12 if n <= 500 else 6 if n <= 2000 else 4)
        self.scopes: dict[str, LearnerScope] = {}
        self.has_minimum = {(m, f) for f, m in self.table.min_seats}  # (module, firm) cells with min_seats
        # Frozen and published assignments per learner; index_previous=False when the caller plans only
        # learners that have neither (a big network's newcomers), so indexing everyone's is wasted.
        self.frozen_by: dict[str, list[Assignment]] = {}
        self.previous_by: dict[str, set[Assignment]] = {}
        if index_previous:
            for a in problem.frozen:
                self.frozen_by.setdefault(a.learner_id, []).append(a)
            for a in problem.previous:
                self.previous_by.setdefault(a.learner_id, set()).add(a)

    def scope(self, learner: Learner) -> LearnerScope:
        scope = self.scopes.get(learner.id)
        if scope is None:
            memo = self.memo
            if memo is None:
                scope = learner_scope(self.problem, learner)
            else:
                # A learner alike to one scoped before shares its facts and its cache of start ranges.
                signature = self.signature(learner)
                seen = memo.scopes.get(signature)
                if seen is None:
                    if len(memo.scopes) >= MEMO_LEARNERS:
                        memo.scopes.clear()
                    scope = memo.scopes[signature] = learner_scope(self.problem, learner)
                else:
                    scope = LearnerScope(
                        learner,
                        seen.modules,
                        seen.groups_of,
                        seen.required,
                        seen.prereqs,
                        seen.available_runs,
                        seen._starts,
                    )
            self.scopes[learner.id] = scope
        return scope

    def signature(self, learner: Learner) -> tuple[object, ...]:
        signature = self.signatures.get(learner.id)
        if signature is None:
            signature = self.signatures[learner.id] = learner_signature(learner)
        return signature

    def order(self, learners: Iterable[Learner]) -> list[Learner]:
        """Most constrained first: least spare time in the window, then fewest module choices."""

        def key(learner: Learner) -> tuple[int, int, str]:
            scope = self.scope(learner)
            free_weeks = sum(hi - lo + 1 for lo, hi in scope.available_runs)
            need = 0
            for group, required in scope.required.items():
                durations = sorted(
                    self.problem.modules[m].duration for m in scope.modules if group in scope.groups_of[m]
                )
                need += sum(durations[:required])
            choices = sum(len(self.table.firms_for.get(m, ())) for m in scope.modules)
            return (free_weeks - need, choices, learner.id)

        return sorted(learners, key=key)

    def reserve_frozen(self) -> None:
        present = {s.id for s in self.problem.learners}
        self.ledger.take(a for a in self.problem.frozen if a.learner_id in present)

    def plan(self, learner: Learner, *, keep_bonus: bool = True) -> tuple[Assignment, ...]:
        """Best assignments for one learner against the ledger (which it then updates)."""
        scope = self.scope(learner)
        frozen = sorted(self.frozen_by.get(learner.id, ()), key=lambda a: a.start)
        previous = self.previous_by.get(learner.id, set()) if keep_bonus else set()
        if self.memo is not None and self.ledger.tokens is not None and not frozen and not previous:
            return self._recall(scope)
        result = self.search(scope, frozen, previous)
        result = (*result, *self.fill(scope, result))
        kept = set(frozen)
        self.ledger.take(a for a in result if a not in kept)
        return result

    def _recall(self, scope: LearnerScope) -> tuple[Assignment, ...]:
        """A newcomer's plan: the one remembered for a learner alike, when none of the cells its search read
        changed since; else searched and remembered."""
        memo, ledger, learner = self.memo, self.ledger, scope.learner
        tokens = ledger.tokens
        assert memo is not None and tokens is not None
        key = (self.signature(learner), self.beam_width, self.firm_cap)
        recalled = memo.searches.get(key)
        if recalled is not None:
            if all(tokens.get(c, 0) == t for c, t in zip(recalled.cells, recalled.tokens, strict=True)):
                memo.hits += 1
                result = tuple(Assignment(learner.id, m, f, st) for m, f, st in recalled.steps)
                ledger.take(result)
                return result
            cells = recalled.cells
        else:
            cells = tuple((f, m) for m in scope.modules for f in scope.firms(self.table, m))
        memo.misses += 1
        before = tuple(tokens.get(c, 0) for c in cells) if len(cells) <= _MEMO_CELLS else None
        result = self.search(scope, (), ())
        result = (*result, *self.fill(scope, result))
        if before is not None:
            if len(memo.searches) >= MEMO_LEARNERS:
                memo.searches.clear()
            memo.searches[key] = _Recalled(cells, before, tuple((a.module_id, a.firm_id, a.start) for a in result))
        ledger.take(result)
        return result

    def fill(self, scope: LearnerScope, own: Sequence[Assignment]) -> list[Assignment]:
        """Adds modules of unmet groups into free weeks between the learner's assignments.

        The beam plans in time order, so a seat that frees up before the learner's last module is out of
        its reach; this pass looks back. Does not touch the ledger: the caller takes what it keeps.
        """
        problem = self.problem
        learner = scope.learner
        modules = problem.modules
        chosen = list(own)
        added: list[Assignment] = []
        limit = problem.settings.max_modules_per_firm
        while True:
            done = {a.module_id: a for a in chosen}
            counts: dict[str, int] = {}
            for m in done:
                for g in scope.groups_of.get(m, ()):
                    counts[g] = counts.get(g, 0) + 1
            busy = {w for a in chosen for w in range(a.start, a.start + modules[a.module_id].duration)}
            per_firm: dict[str, int] = {}
            for a in chosen:
                per_firm[a.firm_id] = per_firm.get(a.firm_id, 0) + 1
            best: tuple[int, Assignment] | None = None
            for m in scope.modules:
                if m in done or any(counts.get(g, 0) >= scope.required.get(g, 0) for g in scope.groups_of[m]):
                    continue
                prereqs = scope.prereqs.get(m, ())
                if any(p not in done for p in prereqs):
                    continue
                duration = modules[m].duration
                not_before = max([learner.first_week, *(done[p].start + modules[p].duration for p in prereqs)])
                # Modules already planned that need this one must still start after it ends.
                not_after = min(
                    [learner.last_week + 1, *(a.start for a in chosen if m in scope.prereqs.get(a.module_id, ()))]
                )
                firms = sorted(scope.firms(self.table, m), key=lambda f: -learner.firm_pref.get(f, 0))[: self.firm_cap]
                for f in firms:
                    if limit is not None and per_firm.get(f, 0) >= limit:
                        continue
                    ranges = scope.start_ranges(self.table, m, f, duration)
                    start = self.ledger.earliest(f, m, duration, ranges, not_before)
                    while start is not None and start + duration <= not_after:
                        clash = [w for w in range(start, start + duration) if w in busy]
                        if not clash:
                            a = Assignment(learner.id, m, f, start)
                            value = learner_sat(problem, learner, [*chosen, a])
                            if best is None or value > best[0]:
                                best = (value, a)
                            break
                        start = self.ledger.earliest(f, m, duration, ranges, max(clash) + 1)
            if best is None:
                return added
            chosen.append(best[1])
            added.append(best[1])

    def start_ranges(
        self,
        scope: LearnerScope,
        known: dict[tuple[str, str, int], tuple[tuple[int, int], ...]] | None,
        module: str,
        firm: str,
        duration: int,
    ) -> tuple[tuple[int, int], ...]:
        """`scope.start_ranges`, worked out once for all learners with the same available weeks (`known`, the
        table's index for them, if it keeps one)."""
        if known is None:
            return scope.start_ranges(self.table, module, firm, duration)
        if not scope.eligible(firm, module):
            return ()
        key = (module, firm, duration)
        ranges = known.get(key)
        if ranges is None:
            ranges = known[key] = scope.start_ranges(self.table, module, firm, duration)
        return ranges

    def free_starts(self, firm: str, module: str, duration: int, ranges: Sequence[tuple[int, int]]) -> list[int]:
        """Every start inside `ranges` with a free seat in each of the module's weeks, ascending."""
        index, changes = self.free_index, self.ledger.full_changes
        if index is None or changes is None:
            return _free_starts(self.ledger, firm, module, duration, ranges)
        key = (module, firm, duration)
        version = changes.get((firm, module), 0)
        known = index.get(key)
        if known is None or known[0] != version:
            known = index[key] = (version, _free_starts(self.ledger, firm, module, duration, _EVERY_WEEK))
        return _within(known[1], ranges)

    def search(
        self, scope: LearnerScope, frozen: Sequence[Assignment], previous: Collection[Assignment]
    ) -> tuple[Assignment, ...]:
        """The best sequence of assignments for one learner against the ledger (which it does not change):
        `frozen` (in time order) kept exactly, a start in `previous` preferred over moving it."""
        return _LearnerSearch(self, scope, frozen, previous).run()


@dataclass(slots=True)
class _Choice:
    """A firm a candidate module may be done at, for one learner."""

    firm: str
    value: int  # module and firm preference and the module's priority
    ranges: tuple[tuple[int, int], ...]  # starts that fit the learner and the offers
    cell: tuple[str, str]  # (module, firm)
    minimum: bool  # the cell has min_seats
    free: list[int] | None = None  # free starts inside `ranges`, worked out on first use


# module, duration, indices of its requirement groups, prerequisites, firms to choose from
_Candidate = tuple[str, int, tuple[int, ...], tuple[str, ...], list[_Choice]]
# (score, beam index, module, firm, start, duration, gain, frozen step): assignments and states are built only
# for the few moves that make the next beam.
_Move = tuple[int, int, str, str, int, int, int, int]


class _LearnerSearch:
    """One learner's beam search, in time order: each round extends every state of the beam by one assignment
    (its next frozen one or a candidate module at a free start) and keeps the best of the results."""

    def __init__(
        self,
        constructor: Constructor,
        scope: LearnerScope,
        frozen: Sequence[Assignment],
        previous: Collection[Assignment],
    ) -> None:
        problem = constructor.problem
        self.problem = problem
        self.scope = scope
        self.learner = scope.learner
        self.ledger = constructor.ledger
        self.free_starts_of = constructor.free_starts
        self.has_minimum = constructor.has_minimum
        self.beam_width = constructor.beam_width
        self.frozen = frozen
        self.limit = problem.settings.max_modules_per_firm
        self.change_penalty = problem.settings.change_penalty
        self.cover = 2 * sat_scale(problem, scope) + self.change_penalty * (len(previous) + 1) + 1
        self.deficit_bonus = self.cover
        self.frozen_bonus = self.cover * (len(scope.modules) + 2) * 4
        self.previous_start = {(a.module_id, a.firm_id): a.start for a in previous}
        groups = tuple(scope.required)
        self.group_index = {g: i for i, g in enumerate(groups)}
        self.required = tuple(scope.required[g] for g in groups)
        # The ledger does not change while one learner is searched: each choice's free starts are worked out
        # once, on first use, and looked up by bisection.
        self.candidates = self._candidates(constructor, {a.module_id for a in frozen})

    def run(self) -> tuple[Assignment, ...]:
        frozen = self.frozen
        start = self._start_state()
        best: _State | None = start if not frozen else None
        beam = [start]
        while beam:
            moves = self._moves(beam)
            if not moves:
                break
            beam = self._commit(beam, moves)
            for state in beam:
                if state.next_frozen == len(frozen) and (best is None or state.score > best.score):
                    best = state
        if best is None:
            # The frozen assignments do not fit a sequence (they overlap): keep them exactly anyway.
            return tuple(frozen)
        return best.seq

    def _candidates(self, constructor: Constructor, frozen_modules: Collection[str]) -> list[_Candidate]:
        """The modules the learner may still take, each with its best firms and their start ranges."""
        scope, learner, modules = self.scope, self.learner, self.problem.modules
        table, firm_cap, has_minimum = constructor.table, constructor.firm_cap, self.has_minimum
        known = table.starts_for(scope.available_runs)
        w = learner.weights
        candidates: list[_Candidate] = []
        for m in scope.modules:
            if m in frozen_modules:
                continue
            duration = modules[m].duration
            base = w.module * learner.module_pref.get(m, 0) + modules[m].priority
            # Best firms first; start ranges are worked out only until the cap is reached, which keeps
            # memory flat when a module is offered by hundreds of firms.
            ranked = sorted(
                ((f, base + w.firm * learner.firm_pref.get(f, 0)) for f in scope.firms(table, m)),
                key=lambda fv: -fv[1],
            )
            firms: list[_Choice] = []
            for f, value in ranked:
                if len(firms) >= firm_cap and (m, f) not in self.previous_start:
                    continue
                ranges = constructor.start_ranges(scope, known, m, f, duration)
                if ranges:
                    firms.append(_Choice(f, value, ranges, (m, f), (m, f) in has_minimum))
            if not firms:
                continue
            idx = tuple(self.group_index[g] for g in scope.groups_of[m])
            candidates.append((m, duration, idx, scope.prereqs.get(m, ()), firms))
        return candidates

    def _start_state(self) -> _State:
        """Nothing planned yet; frozen assignments count toward groups and firm limits from the start, wherever
        they fall in time."""
        frozen_counts = [0 for _ in self.required]
        frozen_firms: dict[str, int] = {}
        for a in self.frozen:
            for g in self.scope.groups_of.get(a.module_id, ()):
                if g in self.group_index:
                    frozen_counts[self.group_index[g]] += 1
            frozen_firms[a.firm_id] = frozen_firms.get(a.firm_id, 0) + 1
        return _State(
            score=0,
            end=self.learner.first_week - 1,
            last_firm=None,
            done=frozenset(),
            counts=tuple(frozen_counts),
            firm_modules=tuple(frozen_firms.items()),
            seq=(),
            next_frozen=0,
        )

    def _moves(self, beam: Sequence[_State]) -> list[_Move]:
        """Every state's next steps, scored: its next frozen assignment, and each open candidate at its first
        free start after the state's end (and at its published start, when that is free too)."""
        frozen, modules = self.frozen, self.problem.modules
        idle_w, change_w = self.learner.weights.idle, self.learner.weights.change
        moves: list[_Move] = []
        for index, state in enumerate(beam):
            horizon = frozen[state.next_frozen].start if state.next_frozen < len(frozen) else None
            if horizon is not None and horizon > state.end:
                fa = frozen[state.next_frozen]
                gain = self.frozen_bonus + _value(self.problem, self.learner, fa)
                score = state.score + gain + idle_w * (fa.start - state.end - 1)
                if state.last_firm is not None and state.last_firm != fa.firm_id:
                    score += change_w
                moves.append(
                    (score, index, fa.module_id, fa.firm_id, fa.start, modules[fa.module_id].duration, gain, 1)
                )
            self._candidate_moves(index, state, horizon, moves)
        return moves

    def _candidate_moves(self, index: int, state: _State, horizon: int | None, moves: list[_Move]) -> None:
        """Adds the moves of `state` (beam[index]) that place a candidate module, each ending before `horizon`:
        at the first start with a free seat in every week, and at the published start when that is free too."""
        # Read once into locals: this loop runs for every state, candidate and firm.
        ledger, free_starts_of = self.ledger, self.free_starts_of
        previous_start, change_penalty = self.previous_start, self.change_penalty
        limit, cover, deficit_bonus = self.limit, self.cover, self.deficit_bonus
        idle_w, change_w = self.learner.weights.idle, self.learner.weights.change
        last, done, end = state.last_firm, state.done, state.end
        base = state.score - idle_w * (end + 1)  # a move's score is base + gain + idle_w * start (+ change_w)
        # Groups that have their required number already: a module counting for one of them is not open.
        closed = {i for i, (c, r) in enumerate(zip(state.counts, self.required, strict=True)) if c >= r}
        # Modules per firm so far, for the per-firm limit (a handful of firms: built once per state).
        per_firm = dict(state.firm_modules) if limit is not None else None
        for m, duration, idx, prereqs, firms in self.candidates:
            if m in done or (closed and not closed.isdisjoint(idx)) or not done.issuperset(prereqs):
                continue
            for choice in firms:
                f = choice.firm
                if per_firm is not None and limit is not None and per_firm.get(f, 0) >= limit:
                    continue
                free = choice.free
                if free is None:
                    free = choice.free = free_starts_of(f, m, duration, choice.ranges)
                i = bisect_left(free, end + 1)
                ps = previous_start.get(choice.cell) if previous_start else None
                if i < len(free):
                    st = free[i]
                    if horizon is None or st + duration - 1 < horizon:
                        gain = choice.value + cover
                        if choice.minimum:
                            gain += deficit_bonus * ledger.deficit_weeks(f, m, st, duration)
                        if ps == st:
                            gain += change_penalty
                        score = base + gain + idle_w * st
                        if last is not None and last != f:
                            score += change_w
                        moves.append((score, index, m, f, st, duration, gain, 0))
                    first: int | None = st
                else:
                    first = None
                if ps is not None and ps != first and ps > end:
                    j = bisect_left(free, ps)
                    if j < len(free) and free[j] == ps and (horizon is None or ps + duration - 1 < horizon):
                        gain = choice.value + cover + change_penalty
                        if choice.minimum:
                            gain += deficit_bonus * ledger.deficit_weeks(f, m, ps, duration)
                        score = base + gain + idle_w * ps
                        if last is not None and last != f:
                            score += change_w
                        moves.append((score, index, m, f, ps, duration, gain, 0))

    def _commit(self, beam: Sequence[_State], moves: list[_Move]) -> list[_State]:
        """The next beam: the best-scored moves made into states, up to the beam width."""
        moves.sort(key=itemgetter(0), reverse=True)  # stable, as sorting by -score is
        next_beam: list[_State] = []
        # Same modules done, same last firm: a duplicate unless it ends earlier than every better-scored
        # one kept. The earlier end can leave room for a module the higher score (e.g. keeping a published
        # start) leaves none for.
        seen: dict[tuple[frozenset[str], str | None, int], int] = {}
        for _score, index, m, f, st, duration, gain, step in moves:
            state = beam[index]
            key = (state.done | {m}, f, state.next_frozen + step)
            end = max(state.end, st + duration - 1)
            if key in seen and seen[key] <= end:
                continue
            seen[key] = end
            a = self.frozen[state.next_frozen] if step else Assignment(self.learner.id, m, f, st)
            next_beam.append(_extend(state, a, duration, self.group_index, self.scope, gain, step))
            if len(next_beam) >= self.beam_width:
                break
        return next_beam


def _extend(
    state: _State,
    a: Assignment,
    duration: int,
    group_index: dict[str, int],
    scope: LearnerScope,
    gain: int,
    frozen_step: int,
) -> _State:
    weights = scope.learner.weights
    score = state.score + gain + weights.idle * (a.start - state.end - 1)
    if state.last_firm is not None and state.last_firm != a.firm_id:
        score += weights.change
    counts = list(state.counts)
    firm_modules = dict(state.firm_modules)
    if not frozen_step:  # frozen ones are counted in the start state
        for g in scope.groups_of.get(a.module_id, ()):
            i = group_index.get(g)
            if i is not None:
                counts[i] += 1
        firm_modules[a.firm_id] = firm_modules.get(a.firm_id, 0) + 1
    return _State(
        score=score,
        end=max(state.end, a.start + duration - 1),
        last_firm=a.firm_id,
        done=state.done | {a.module_id},
        counts=tuple(counts),
        firm_modules=tuple(firm_modules.items()),
        seq=(*state.seq, a),
        next_frozen=state.next_frozen + frozen_step,
    )


def _free_starts(
    ledger: SeatLedger, firm: str, module: str, duration: int, ranges: Sequence[tuple[int, int]]
) -> list[int]:
    """Every start inside `ranges` (sorted, disjoint) with a free seat in each of the module's weeks, ascending.

    Worked out from the runs of offered weeks (a start whose weeks all have a seat lies inside one) and the weeks
    already full, rather than week by week: it runs for every learner and firm x module a search looks at.
    """
    table = ledger.table
    max_weeks = table.max_seats.get((firm, module))
    if not max_weeks:
        return []
    offered = [(a, b - duration + 1) for a, b in table.offered_runs(firm, module) if b - a + 1 >= duration]
    held = ledger.used.get((firm, module))
    full = sorted(w for w, n in held.items() if n > 0 and n >= max_weeks.get(w, 0)) if held else []
    starts: list[int] = []
    for lo, hi in intersect_ranges(ranges, offered):
        # A full week b rules out the starts b - duration + 1 .. b.
        first = lo
        i = bisect_left(full, lo)
        while i < len(full) and full[i] - duration + 1 <= hi:
            b = full[i]
            if b - duration + 1 > first:
                starts.extend(range(first, b - duration + 1))
            first = max(first, b + 1)
            i += 1
        if first <= hi:
            starts.extend(range(first, hi + 1))
    return starts


_EVERY_WEEK = ((-(1 << 30), 1 << 30),)


def _within(starts: list[int], ranges: Sequence[tuple[int, int]]) -> list[int]:
    """The part of `starts` (ascending) inside `ranges` (sorted, disjoint)."""
    if not starts:
        return []
    out: list[int] = []
    for lo, hi in ranges:
        out.extend(starts[bisect_left(starts, lo) : bisect_right(starts, hi)])
    return out


def _value(problem: Problem, learner: Learner, a: Assignment) -> int:
    w = learner.weights
    return (
        w.module * learner.module_pref.get(a.module_id, 0)
        + w.firm * learner.firm_pref.get(a.firm_id, 0)
        + problem.modules[a.module_id].priority
    )


def construct(
    problem: Problem,
    *,
    beam_width: int | None = None,
    firm_cap: int | None = None,
    table: SeatTable | None = None,
) -> list[Assignment]:
    """A complete plan (possibly partial in coverage) built learner by learner, most constrained first."""
    builder = Constructor(problem, table=table, beam_width=beam_width, firm_cap=firm_cap, shared_free_starts=True)
    builder.reserve_frozen()
    plan: list[Assignment] = []
    for learner in builder.order(problem.learners):
        plan.extend(builder.plan(learner))
    return plan
