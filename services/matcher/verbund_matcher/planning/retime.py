"""Re-places one module for every learner at once, everything else where it is: a small exact model per module.

A week below its minimum or an open requirement is often a matter of one module: who does it where and when.
With every learner's other modules fixed, the places a learner could take the module are few (the gaps of their
plan at the firms they may attend), so a model over all learners and all those places is small — thousands of
literals where the whole network has hundreds of thousands — and CP-SAT settles it in a fraction of a second:
every learner doing the module keeps it (at the same or another place), learners with it open may gain it, the
seats of every week stay within their maximum, and the model fills as many weeks below a minimum as it can,
then places as many open requirements. Every single move, pair of moves or chain of hand-overs within one module
(shifts.py, chains.py) is one of its solutions; it finds the best of them all at once.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from .chains import Handovers, Place
from .lns import Incumbent
from .model import Assignment, Problem
from .scope import LearnerScope
from .seats import SeatTable

# Modules re-placed for everybody, and learners whose whole plan is re-placed with them.
Neighbourhood = tuple[tuple[str, ...], tuple[str, ...]]
# Work counted per literal for building the model in Python, as cpsat.py counts it, and per assignment of the
# plan for the two passes over it each call makes.
BUILD_WORK_PER_LITERAL = 4e-5
WORK_PER_ASSIGNMENT = 2e-5
# CP-SAT deterministic time per module: these models are settled in well under that, or not at all.
STEP = 1.0
# Weeks below a minimum looked at per call of `around`, and learners who could be there re-planned whole
# together, in groups of GROUP, at most GROUPS_PER_CELL groups per week.
SHORT_CELLS = 30
GROUP = 4
GROUPS_PER_CELL = 3
# A model beyond this many literals is not built (the tight family's largest has about 20,000).
MAX_LITERALS = 60_000
# Modules of a learner tried, one at a time, beside an open module stuck behind its prerequisite and that
# prerequisite (behind_prerequisites): the nearest in time; each try costs up to a unit.
COMPANIONS = 3
# CP-SAT deterministic time for a module behind a late prerequisite (behind_prerequisites) once nothing but a few
# requirements is lacking: three modules for everybody take longer to settle than one (tight-200-12-5-48-3: l0164's
# m02 behind m01, with m04, placed after 8.5 units and not within one), and there is nothing else left to spend
# the time on.
LATE_STEP = 8.0
LAST_FEW = 3
# Weeks below a minimum looked at once the rounds stall (spread), learners who could fill them re-planned whole
# with the module for everybody, and CP-SAT deterministic time for each: twenty learners whole settle in about
# three units, not in one (tight-200-12-5-48-2: f1's m02, 6 learner-weeks short at 1 unit, 3 at 3).
SPREAD_CELLS = 8
SPREAD = 20
SPREAD_STEP = 6.0
# Learners holding the seats an open module would take, re-planned whole with that learner (contended): the
# ones holding most of those seats first. Six and the learner: a model of about 40,000 literals on 160 learners
# x 24 modules, settled in about a unit.
CONTENDERS = 6


@dataclass(frozen=True, slots=True)
class Retimed:
    assignments: list[Assignment]
    work: float  # CP-SAT deterministic time plus building, as solve_cpsat counts it
    changed: bool


def retime(
    problem: Problem,
    assignments: Sequence[Assignment],
    modules: Collection[str],
    table: SeatTable,
    scopes: Mapping[str, LearnerScope],
    *,
    time_limit: float,
    seed: int = 0,
    whole: Collection[str] = (),
) -> Retimed:
    """The plan with `modules` re-placed for every learner where that fills more weeks below a minimum or places
    more requirements; the rest of every learner's plan stays. `time_limit` is CP-SAT deterministic time.

    With several modules, a learner's modules among them may trade weeks: they are kept apart week by week, in
    the order precedence asks and within the per-firm limit, inside the model. The learners in `whole` have
    every module re-placed (their whole plan), so one with a requirement open can make room for it.
    """
    state = Handovers(problem, assignments, table, scopes, max_looks=1 << 62)
    base_work = 2 * WORK_PER_ASSIGNMENT * len(assignments)
    duration = {m: module.duration for m, module in problem.modules.items()}
    limit = problem.settings.max_modules_per_firm
    model = cp_model.CpModel()
    choices: dict[tuple[str, str], list[tuple[Place, cp_model.IntVar]]] = {}
    opened: list[cp_model.IntVar] = []
    cells: dict[tuple[str, str, int], list[cp_model.IntVar]] = {}
    kept: list[cp_model.IntVar] = []  # literals of the places the plan holds now
    n_literals = 0
    for sid, scope in scopes.items():
        own = state.by_learner.get(sid, {})
        open_here = set(state.open_modules(sid))
        mine_to_place = scope.modules if sid in whole else modules
        loose = [m for m in mine_to_place if (m in own and own[m] not in state.frozen) or m in open_here]
        if not loose:
            continue
        if len(mine_to_place) > 1:
            # A learner may swap a module for another of the same group (an elective another firm's week needs).
            swapped_groups = {g for m in loose if m in own for g in scope.groups_of.get(m, ())}
            loose.extend(
                m
                for m in mine_to_place
                if m not in own
                and m not in open_here
                and m in scope.modules
                and scope.groups_of.get(m)
                and all(g in swapped_groups for g in scope.groups_of[m])
                and all(r in own for r in scope.prereqs.get(m, ()))
            )
        # A module some fixed module requires stays; the others may be swapped away.
        needed = {r for m, a in own.items() if m not in loose or a in state.frozen for r in scope.prereqs.get(m, ())}
        mandatory = {m for m in loose if m in own and (m in needed or len(mine_to_place) == 1)}
        mine: dict[str, list[tuple[Place, cp_model.IntVar]]] = {}
        for module in loose:
            current = own.get(module)
            here = None if current is None else (current.firm_id, current.start)
            places = state.places(sid, module, loose)
            if here is not None and here not in places:  # keep what the plan holds even where it breaks a rule
                places.append(here)
            literals: list[tuple[Place, cp_model.IntVar]] = []
            for place in places:
                x = model.new_bool_var("")
                model.add_hint(x, place == here)
                literals.append((place, x))
                if place == here:
                    kept.append(x)
                for w in range(place[1], place[1] + duration[module]):
                    cells.setdefault((place[0], module, w), []).append(x)
            n_literals += len(literals)
            if n_literals > MAX_LITERALS:
                return Retimed(list(assignments), base_work + BUILD_WORK_PER_LITERAL * n_literals, False)
            if module in mandatory:
                model.add_exactly_one(x for _, x in literals)
            else:
                model.add_at_most_one(x for _, x in literals)
                opened.extend(x for _, x in literals)
            if current is not None:
                # Release the learner's seat: the model places it again.
                state.ledger.release([current])
            mine[module] = literals
            choices[(sid, module)] = literals
        if len(mine) > 1 or not mandatory:
            _keep_apart(model, scope, own, mine, mandatory, duration, limit, state.frozen)
    if not choices:
        return Retimed(list(assignments), base_work, False)
    short: list[cp_model.IntVar] = []
    for (firm, module, w), xs in cells.items():
        model.add(sum(xs) <= table.max_at(firm, module, w) - state.ledger.held(firm, module, w))
    touched = {module for _, module, _ in cells}
    for (firm, module), weeks in table.min_seats.items():
        if module not in touched:
            continue
        for w, need in weeks.items():
            held = state.ledger.held(firm, module, w)
            if held >= need:
                continue
            gap = model.new_int_var(0, need - held, "")
            model.add(sum(cells.get((firm, module, w), [])) + gap >= need - held)
            short.append(gap)
    # Every learner-week below a minimum weighs more than all placements together, and a placement more than all
    # places kept: among plans equally good on both, the one that moves fewest learners, whose preferences, firm
    # changes and idle weeks the constructive weighed (tight-80-12-4-24-2: objective 2,720 against 2,467 when
    # the model moved learners freely).
    k = len(kept) + 1
    model.minimize((len(opened) + 1) * k * sum(short) - k * sum(opened) - sum(kept))
    solver = cp_model.CpSolver()
    # One worker and no probing: these models are small and mostly settled by presolve and one search; two
    # interleaved workers spent ten times the work on the same optimum (tight-200-12-5-48-3, one module: 1.7
    # against 0.13 units). One worker with a deterministic limit is repeatable by itself.
    solver.parameters.num_workers = 1
    solver.parameters.cp_model_probing_level = 0
    # The full linear relaxation: seats per week are sums of intervals, whose LP is nearly integral; with it one
    # module of tight-320-12-5-96-1 is solved to optimality in 0.4 units, without it 5 units leave it far off.
    solver.parameters.linearization_level = 2
    solver.parameters.max_deterministic_time = max(0.01, time_limit)
    solver.parameters.random_seed = seed
    code = solver.solve(model)
    work = base_work + solver.deterministic_time + BUILD_WORK_PER_LITERAL * n_literals
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Retimed(list(assignments), work, False)
    # Seats back as the plan holds them, then each learner's modules to their chosen places.
    state = Handovers(problem, assignments, table, scopes, max_looks=0)
    chosen: dict[tuple[str, str], Place | None] = {}
    for key, literals in choices.items():
        chosen[key] = next((place for place, x in literals if solver.value(x)), None)
    changed = False
    for (sid, module), target in chosen.items():
        current = state.by_learner.get(sid, {}).get(module)
        if target != (None if current is None else (current.firm_id, current.start)):
            state.set(sid, module, target)
            changed = True
    return Retimed(state.result(), work, changed)


def _keep_apart(
    model: cp_model.CpModel,
    scope: LearnerScope,
    own: Mapping[str, Assignment],
    mine: Mapping[str, list[tuple[Place, cp_model.IntVar]]],
    mandatory: Collection[str],
    duration: Mapping[str, int],
    limit: int | None,
    frozen: Collection[Assignment],
) -> None:
    """One learner's loose modules: no two in the same week, each after the modules it requires, the per-firm
    limit with the learner's fixed modules counted, no group beyond its required count, and none with fewer
    modules than the learner holds there now (a module is only swapped for another of its group)."""
    weeks: dict[int, list[cp_model.IntVar]] = {}
    at_firm: dict[str, list[cp_model.IntVar]] = {}
    for module, literals in mine.items():
        for place, x in literals:
            for w in range(place[1], place[1] + duration[module]):
                weeks.setdefault(w, []).append(x)
            at_firm.setdefault(place[0], []).append(x)
    for xs in weeks.values():
        if len(xs) > 1:
            model.add_at_most_one(xs)
    fixed = [a for m, a in own.items() if m not in mine or a in frozen]
    if limit is not None:
        for firm, xs in at_firm.items():
            model.add(sum(xs) <= limit - sum(1 for a in fixed if a.firm_id == firm))
    for module, literals in mine.items():
        for required in scope.prereqs.get(module, ()):
            before = mine.get(required)
            if before is None:
                continue
            # Placed only when what it requires is placed, and never before that ends (on start weeks, linear:
            # far fewer constraints than excluding pairs of places, and a tighter relaxation).
            placed = sum(x for _, x in literals)
            model.add(placed <= sum(y for _, y in before))
            after = sum(start * x for (_, start), x in literals) >= sum(
                (start + duration[required]) * y for (_, start), y in before
            )
            if module in mandatory:
                model.add(after)
            else:
                on = model.new_bool_var("")
                model.add(placed == on)
                model.add(after).only_enforce_if(on)
    counted: dict[str, int] = {}
    for a in fixed:
        for g in scope.groups_of.get(a.module_id, ()):
            counted[g] = counted.get(g, 0) + 1
    for group, need in scope.required.items():
        in_group = [m for m in mine if group in scope.groups_of.get(m, ())]
        xs = [x for m in in_group for _, x in mine[m]]
        if xs:
            model.add(sum(xs) <= need - counted.get(group, 0))
            model.add(sum(xs) >= sum(1 for m in in_group if m in own))


def retime_rounds(
    problem: Problem,
    current: Incumbent,
    scopes: Mapping[str, LearnerScope],
    *,
    limit: float,
    seed: int = 0,
    settled: float | None = None,
) -> tuple[Incumbent, float]:
    """Rounds of `retime`, each result kept when it is no worse by (weeks below a minimum, placed requirements),
    until a round gains nothing or `limit` work is spent (`settled`, when larger, once no minimum is short); the
    plan and the work spent.

    A round takes every module alone, then pairs of modules around what is still lacking (pairs_around): two
    modules of a learner can trade weeks, which is what an open requirement blocked by the learner's own plan,
    or a short week blocked by its candidates' other modules, needs.
    """
    table = current.table
    work = 0.0
    round_no = 0

    def lacking() -> bool:
        return current.short > 0 or _open_anywhere(current, scopes)

    def left() -> float:
        if settled is not None and current.short == 0:
            return max(limit, settled) - work
        return limit - work

    stalled, gained_before, spread_failed = False, False, -1
    while left() > 0 and lacking():
        start_key = (current.short, -current.count)
        singles: list[Neighbourhood] = [((m,), ()) for m in sorted(problem.modules)]
        # A round that brought no minimum nearer is followed by one over the short weeks with many of the learners
        # who could fill them re-planned whole (spread); that one ends at its first gain.
        todo = spread(problem, current, scopes) if stalled else singles + around(problem, current, scopes)
        tried: set[Neighbourhood] = set()
        while todo and left() > 0 and lacking():
            chosen = todo.pop(0)
            if chosen in tried:
                continue
            tried.add(chosen)
            modules, whole = chosen
            before = (current.short, -current.count)
            step = SPREAD_STEP if stalled else STEP
            if current.short == 0 and late(chosen) and _open_units(current, scopes) <= LAST_FEW:
                step = LATE_STEP
            result = retime(
                problem,
                current.assignments(),
                modules,
                table,
                scopes,
                time_limit=min(step, left()),
                seed=seed + round_no,
                whole=whole,
            )
            work += result.work
            if not result.changed:
                continue
            moved = Incumbent(problem, table, result.assignments)
            if (moved.short, -moved.count) <= before:
                current = moved
            if (moved.short, -moved.count) < before:
                # What is lacking has changed: the pairs around it first, those not tried in this round.
                # A round over the short weeks ends here: the usual rounds go on from the new plan.
                rest = [] if stalled else [n for n in todo if n in singles]
                todo = [] if stalled else [n for n in around(problem, current, scopes) if n not in tried] + rest
        round_no += 1
        gained = (current.short, -current.count) < start_key
        if stalled:
            stalled = False
            if (current.short, -current.count) >= start_key:
                spread_failed = current.short
                if not gained_before:
                    break
        elif 0 < current.short == start_key[0] and current.short != spread_failed:
            # Minimums no nearer: the short weeks with many learners whole next, once per number of them.
            stalled, gained_before = True, gained
        elif not gained:
            break
    return current, work


def spread(problem: Problem, current: Incumbent, scopes: Mapping[str, LearnerScope]) -> list[Neighbourhood]:
    """For each firm x module with weeks below a minimum (the SPREAD_CELLS first): the module re-placed for
    everybody with up to SPREAD learners who could fill the first short week re-planned whole — those whose
    window, free weeks and eligibility leave room for the module there and for what it requires before it,
    those without the module first.

    The groups of `around` take the first learners who could be there by the calendar alone; where the week is
    early in the window, few of them have room for the prerequisite before it, and a group of four rarely holds
    two who do (tight-200-12-5-48-2: f1's m02 in weeks 5-7, minimum 2, nobody there, needs two of the 18 of 200
    learners with m01 done by week 4; all 18 whole fill one of the two seats in 3 units).
    """
    table = current.table
    found: list[Neighbourhood] = []
    for (firm, module), weeks in sorted(table.min_seats.items()):
        if len(found) >= SPREAD_CELLS:
            break
        if module not in problem.modules:
            continue
        used = current.used.get((firm, module), {})
        short = [w for w in sorted(weeks) if used.get(w, 0) < weeks[w]]
        if not short:
            continue
        week = short[0]
        length = problem.modules[module].duration
        ranked: list[tuple[int, str]] = []
        for sid, scope in scopes.items():
            if module not in scope.modules or not _fits(problem, table, scope, module, firm, week):
                continue
            doing = next((a for a in current.by_learner.get(sid, ()) if a.module_id == module), None)
            if doing is not None and doing.firm_id == firm and doing.start <= week < doing.start + length:
                continue
            ranked.append((0 if doing is None else 1, sid))
        if ranked:
            found.append(((module,), tuple(sid for _, sid in sorted(ranked)[:SPREAD])))
    return found


def _fits(problem: Problem, table: SeatTable, scope: LearnerScope, module: str, firm: str, week: int) -> bool:
    """Whether the learner could do the module at the firm over `week` with room before it for every module it
    requires (window, free weeks, offers and eligibility; seats and the rest of the plan aside)."""
    length = problem.modules[module].duration
    earliest: dict[str, int] = {}
    for required in scope.prereqs.get(module, ()):
        r_length = problem.modules[required].duration
        ends = [
            lo + r_length
            for f in scope.firms(table, required)
            for lo, _ in scope.start_ranges(table, required, f, r_length)
        ]
        if not ends:
            return False
        earliest[required] = min(ends)
    after = max(earliest.values(), default=-(1 << 30))
    return any(
        max(lo, week - length + 1, after) <= min(hi, week) for lo, hi in scope.start_ranges(table, module, firm, length)
    )


def around(problem: Problem, current: Incumbent, scopes: Mapping[str, LearnerScope]) -> list[Neighbourhood]:
    """What to re-place next: pairs of modules around what is lacking, then each learner with a requirement open
    re-planned whole together with that module for everybody."""
    state = Handovers(problem, current.assignments(), current.table, scopes, max_looks=1 << 62)
    centred: list[Neighbourhood] = [((m,), (sid,)) for sid, _scope, _own, m in _open_requirements(state)]
    # A week below its minimum that no pair fills: a few learners who could be there re-planned whole (a module
    # early in the window may need the one it requires, and what sits in their weeks, moved as well).
    table = current.table
    cells = 0
    for (firm, module), weeks in table.min_seats.items():
        if module not in problem.modules or cells >= SHORT_CELLS:
            continue
        duration = problem.modules[module].duration
        for week in sorted(weeks):
            if current.used.get((firm, module), {}).get(week, 0) >= weeks[week] or cells >= SHORT_CELLS:
                continue
            cells += 1
            could = [
                sid
                for sid, scope in scopes.items()
                if module in scope.modules
                and any(
                    lo <= week and week - duration + 1 <= hi
                    for lo, hi in scope.start_ranges(table, module, firm, duration)
                )
            ]
            for k in range(0, min(len(could), GROUP * GROUPS_PER_CELL), GROUP):
                centred.append(((module,), tuple(could[k : k + GROUP])))
    pairs = [(pair, ()) for pair in pairs_around(problem, current, scopes)]
    if current.short == 0:
        # Only requirements lacking, and those mostly for want of seats others hold: the learners holding them
        # first, before the pairs, which cannot move a learner's other modules out of the way.
        crowded = _open_units(current, scopes) <= LAST_FEW
        last = cornered(state) if crowded else []
        return contended(state) + pairs + centred + behind_prerequisites(state, crowded) + last
    return pairs + centred + behind_prerequisites(state) + contended(state)


def contended(state: Handovers) -> list[Neighbourhood]:
    """For each learner with a module open where seats would be free but for others: that module (alone, and
    with the prerequisites the learner holds) re-placed for everybody, with the learner and the CONTENDERS
    learners holding most of the full weeks at the learner's places re-planned whole.

    Late in the window a core module's seats are all taken, and the learners holding them can only give one up
    when another of their modules moves too (tight-160-24-5-72-3: four learners without m06, whose weeks at f4
    in 2028-W09..W11 five others hold; m06 re-placed for everybody with one of the four and those five whole
    places all four). Re-placing the module alone moves only the module; the learner alone, only their plan.
    """
    held = _held_by_cell(state)
    found: list[Neighbourhood] = []
    for sid, scope, own, module in _open_requirements(state):
        before = tuple(sorted(r for r in scope.prereqs.get(module, ()) if r in own and own[r] not in state.frozen))
        for loose in ((), before) if before else ((),):
            ranked = _holders(state, held, sid, module, state.places(sid, module, loose))
            if ranked:
                found.append(((module, *loose), (sid, *ranked[:CONTENDERS])))
    return found


def cornered(state: Handovers) -> list[Neighbourhood]:
    """For each learner whose open module has no place at all beside the rest of their own plan: the module
    re-placed for everybody, with the learner and the CONTENDERS learners holding most of the full weeks at the
    places the learner would have with their plan re-arranged, all re-planned whole.

    The learner's own modules fill every gap that has an offer, so `contended` sees no place and no holder; the
    learner has to move their own modules, into weeks others hold, and those others theirs (tight-160-24-5-72-3:
    l0070's twelfth module, placed with the six holding most of m11's full weeks in 0.6 units).
    """
    held = _held_by_cell(state)
    found: list[Neighbourhood] = []
    for sid, _scope, own, module in _open_requirements(state):
        if state.places(sid, module):
            continue
        loose = tuple(m for m, a in own.items() if a not in state.frozen)
        ranked = _holders(state, held, sid, module, state.places(sid, module, loose))
        if ranked:
            found.append(((module,), (sid, *ranked[:CONTENDERS])))
    return found


def _held_by_cell(state: Handovers) -> dict[tuple[str, str], list[Assignment]]:
    """Every assignment of the plan by firm x module."""
    held: dict[tuple[str, str], list[Assignment]] = {}
    for own in state.by_learner.values():
        for a in own.values():
            held.setdefault((a.firm_id, a.module_id), []).append(a)
    return held


def _holders(
    state: Handovers,
    held: Mapping[tuple[str, str], list[Assignment]],
    sid: str,
    module: str,
    places: Sequence[Place],
) -> list[str]:
    """The other learners holding a seat in a week of `places` whose seats are all held, most such weeks first."""
    length = state.duration[module]
    blocking: dict[str, int] = {}
    for firm, start in places:
        for w in range(start, start + length):
            if state.ledger.free(firm, module, w) > 0:
                continue
            for a in held.get((firm, module), ()):
                if a.learner_id != sid and a.start <= w < a.start + length:
                    blocking[a.learner_id] = blocking.get(a.learner_id, 0) + 1
    return sorted(blocking, key=lambda other: (-blocking[other], other))


def behind_prerequisites(state: Handovers, crowded: bool = False) -> list[Neighbourhood]:
    """For each learner whose open module has no place left behind its planned prerequisites: that module, the
    prerequisites and one more module of the learner (each of the COMPANIONS nearest in time) re-placed for
    everybody, with the learner re-planned whole.

    A prerequisite planned late leaves the module requiring it no room before the window ends; moving the
    prerequisite earlier needs a seat there, held by others, and room in the learner's own weeks, held by
    another of their modules, whose seats elsewhere may be held too (tight-80-24-4-48-3: m04 behind m03, which
    fits earlier only with m02 moved for everybody as well). Pairs of modules, or the learner alone re-planned,
    leave such a module open.

    With `crowded`, also an open module whose places behind its prerequisites all have a week with every seat
    held (tight-160-24-5-72-2: l0138's m08 behind m07, placed with m07 and m17 for everybody in 4.4 units).
    """
    found: list[Neighbourhood] = []
    for sid, scope, own, module in _open_requirements(state):
        before = tuple(sorted(r for r in scope.prereqs.get(module, ()) if r in own))
        if not before:
            continue
        places = state.places(sid, module)
        duration = state.duration[module]
        if places and not (
            crowded
            and all(
                any(state.ledger.free(firm, module, w) <= 0 for w in range(start, start + duration))
                for firm, start in places
            )
        ):
            continue
        anchor = min(own[r].start for r in before)
        others = sorted((k for k in own if k not in before), key=lambda k: (abs(own[k].start - anchor), k))
        found.extend(((module, *before, k), (sid,)) for k in others[:COMPANIONS])
    return found


def _open_requirements(state: Handovers) -> Iterator[tuple[str, LearnerScope, dict[str, Assignment], str]]:
    """Each learner with fewer modules than its groups require, with its scope and modules, once per module it
    could still add."""
    for sid, scope in state.scopes.items():
        own = state.by_learner.get(sid, {})
        if len(own) >= sum(scope.required.values()):
            continue
        for module in state.open_modules(sid):
            yield sid, scope, own, module


def pairs_around(problem: Problem, current: Incumbent, scopes: Mapping[str, LearnerScope]) -> list[tuple[str, str]]:
    """Pairs of modules worth re-placing together: a learner's open module with each module the learner holds;
    a module with a week below its minimum with each module that keeps a learner who could come from coming.
    Those named most often first."""
    state = Handovers(problem, current.assignments(), current.table, scopes, max_looks=1 << 62)
    count: dict[tuple[str, str], int] = {}

    def add(a: str, b: str) -> None:
        if a != b:
            pair = (min(a, b), max(a, b))
            count[pair] = count.get(pair, 0) + 1

    for _sid, _scope, own, m in _open_requirements(state):
        for k in own:
            add(m, k)
    for (firm, module), weeks in current.table.min_seats.items():
        if module not in problem.modules:
            continue
        short = [w for w, need in weeks.items() if current.used.get((firm, module), {}).get(w, 0) < need]
        if not short:
            continue
        for sid, scope in scopes.items():
            if module not in scope.modules or not scope.eligible(firm, module):
                continue
            for k, a in state.by_learner.get(sid, {}).items():
                length = problem.modules[k].duration
                if k != module and any(a.start <= w < a.start + length for w in short):
                    add(module, k)
    return sorted(count, key=lambda pair: (-count[pair], pair))


def late(chosen: Neighbourhood) -> bool:
    """Whether a neighbourhood is one of behind_prerequisites': an open module, its prerequisite and one more
    module for everybody, with one learner whole (nothing else re-places three or more modules around one)."""
    modules, whole = chosen
    return len(modules) >= 3 and len(whole) == 1


def _open_units(current: Incumbent, scopes: Mapping[str, LearnerScope]) -> int:
    """Requirement units still open over all learners (reachable or not)."""
    return sum(max(0, sum(sc.required.values()) - len(current.by_learner.get(sid, ()))) for sid, sc in scopes.items())


def _open_anywhere(current: Incumbent, scopes: Mapping[str, LearnerScope]) -> bool:
    """Whether some learner has fewer modules planned than its groups require (reachable or not)."""
    return any(len(current.by_learner.get(sid, ())) < sum(sc.required.values()) for sid, sc in scopes.items())
