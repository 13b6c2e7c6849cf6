"""The CP-SAT model: one start literal per learner x module x firm x week, exact firm-change and idle terms.

Coverage comes first: every assignment earns a bonus larger than any preference swing, and every missing
min-seat learner-week costs more than all coverage together, so the solver only leaves a requirement open
(or a minimum unfilled) when it has no plan that meets it. Plan.objective is always the design objective
recomputed by the evaluator, never this internal one.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from time import perf_counter

from ortools.sat.python import cp_model

from .construct import sat_scale
from .model import Assignment, Learner, Problem
from .scope import LearnerScope, learner_scope
from .seats import Cell, SeatTable, occupancy, seat_table
from .validator import learner_sat

# Beyond this many start literals the model alone needs gigabytes; LNS is the tool for such networks.
MAX_LITERALS = 300_000


@dataclass(frozen=True, slots=True)
class CpResult:
    assignments: tuple[Assignment, ...]  # for the learners the model planned
    status: str  # optimal, feasible, unknown, infeasible, model_invalid
    found: bool  # False: no solution in time, `assignments` is the hint
    bound: int | None = None  # upper bound on the design objective, when meaningful
    options: int = 0  # start literals in the model (its size)


@dataclass(slots=True)
class _Option:
    module: str
    firm: str
    start: int
    duration: int
    value: int
    var: cp_model.IntVar
    previous: bool


@dataclass(slots=True)
class _Model:
    model: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    hints: dict[int, tuple[cp_model.IntVar, int]] = field(default_factory=dict)

    def hint(self, var: cp_model.IntVar, value: int) -> None:
        self.hints[var.index] = (var, value)


def solve_cpsat(
    problem: Problem,
    *,
    free: Collection[str] | None = None,
    fixed: Sequence[Assignment] = (),
    hint: Sequence[Assignment] = (),
    others_min: int | None = None,
    time_limit: float = 10.0,
    workers: int = 2,
    seed: int = 0,
    firm_cap: int | None = None,
    table: SeatTable | None = None,
    scopes: Mapping[str, LearnerScope] | None = None,
    fixed_occupancy: Mapping[Cell, Mapping[int, int]] | None = None,
) -> CpResult:
    """Plan the learners in `free` (all when None) with `fixed` holding their seats; never raises on bad luck.

    `others_min` is the lowest sat(s) among the learners not planned here (they still count in the min term).
    `fixed_occupancy` may replace `fixed` with its seat counts per (firm, module) and week.
    """
    began = perf_counter()
    table = table if table is not None else seat_table(problem.offers)
    learners = [s for s in problem.learners if free is None or s.id in free]
    hint_by: dict[str, list[Assignment]] = {}
    for a in hint:
        hint_by.setdefault(a.learner_id, []).append(a)
    frozen_by: dict[str, list[Assignment]] = {}
    for a in problem.frozen:
        frozen_by.setdefault(a.learner_id, []).append(a)
    previous = set(problem.previous)
    fixed_used = fixed_occupancy if fixed_occupancy is not None else occupancy(fixed, problem.modules)
    scope_of = {
        s.id: (scopes[s.id] if scopes is not None and s.id in scopes else learner_scope(problem, s)) for s in learners
    }
    scale = sum(sat_scale(problem, scope_of[s.id]) for s in learners)
    change_penalty = problem.settings.change_penalty
    cover = 2 * scale + change_penalty * (len(previous) + 1) + 1
    deficit_cost = cover * (sum(len(sc.modules) for sc in scope_of.values()) + 1) + 1

    m = _Model()
    cells: dict[tuple[str, str, int], list[cp_model.IntVar]] = {}
    frozen_cells: dict[tuple[str, str, int], int] = {}
    sat_terms: list[tuple[Learner, cp_model.LinearExprT, int]] = []
    objective: list[cp_model.LinearExprT] = []
    n_options = 0
    options_of: dict[str, list[_Option]] = {}
    for learner in learners:
        scope = scope_of[learner.id]
        options = _options(
            problem,
            table,
            scope,
            fixed_used,
            frozen_by.get(learner.id, []),
            hint_by.get(learner.id, []),
            previous,
            firm_cap,
            m,
        )
        n_options += len(options)
        options_of[learner.id] = options
        if n_options > MAX_LITERALS or perf_counter() - began > 0.8 * time_limit:
            # Too big to build, let alone solve, in the budget: hand back the hint instead of running over.
            kept = tuple(a for a in hint if free is None or a.learner_id in free)
            return CpResult(kept, "model_too_large", False, None, n_options)
        for o in options:
            for w in range(o.start, o.start + o.duration):
                cells.setdefault((o.firm, o.module, w), []).append(o.var)
        for a in frozen_by.get(learner.id, []):
            for w in range(a.start, a.start + problem.modules[a.module_id].duration):
                key = (a.firm_id, a.module_id, w)
                frozen_cells[key] = frozen_cells.get(key, 0) + 1
        chosen = set(hint_by.get(learner.id, [])) | set(frozen_by.get(learner.id, []))
        for o in options:
            m.hint(o.var, int(Assignment(learner.id, o.module, o.firm, o.start) in chosen))
        sat_expr = _learner_constraints(problem, scope, options, m)
        hinted_sat = learner_sat(problem, learner, chosen)
        sat_terms.append((learner, sat_expr, hinted_sat))
        objective.append(sat_expr)
        objective.append(sum(cover * o.var + (change_penalty * o.var if o.previous else 0) for o in options))

    hint_used = occupancy(
        [*hint, *(a for s in learners for a in frozen_by.get(s.id, []) if a not in set(hint))], problem.modules
    )
    deficits: list[cp_model.IntVar] = []
    for (firm, module, week), literals in cells.items():
        already = fixed_used.get((firm, module), {}).get(week, 0)
        cap = table.max_at(firm, module, week) - already
        # Frozen seats stay even over a reduced offer; the validator reports that, the model must not fail.
        cap = max(cap, frozen_cells.get((firm, module, week), 0))
        if len(literals) > cap:
            m.model.add(sum(literals) <= cap)
        minimum = table.min_at(firm, module, week) - already
        if minimum > 0:
            short = m.model.new_int_var(0, minimum, f"short_{firm}_{module}_{week}")
            m.model.add(sum(literals) + short >= minimum)
            hinted = hint_used.get((firm, module), {}).get(week, 0)
            m.hint(short, max(0, minimum - hinted))
            deficits.append(short)

    lowest = -scale - 1
    worst = m.model.new_int_var(lowest, scale + 1, "min_sat")
    hinted_min: list[int] = []
    for _learner, sat_expr, hinted_sat in sat_terms:
        m.model.add(worst <= sat_expr)
        hinted_min.append(hinted_sat)
    if others_min is not None:
        m.model.add(worst <= max(lowest, min(others_min, scale + 1)))
        hinted_min.append(others_min)
    if sat_terms or others_min is not None:
        objective.append(worst)
        m.hint(worst, max(lowest, min(min(hinted_min), scale + 1)))
    else:
        m.model.add(worst == 0)
    objective.append(-deficit_cost * sum(deficits))
    m.model.maximize(sum(objective))
    for var, value in m.hints.values():
        m.model.add_hint(var, value)

    solver = cp_model.CpSolver()
    # Building the model counts against the limit: callers give a wall-clock budget.
    solver.parameters.max_time_in_seconds = max(0.05, time_limit - (perf_counter() - began))
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.random_seed = seed
    # Probing these time-indexed models adds hundreds of thousands of implications and can eat the whole
    # budget before search starts from the (complete, feasible) hint; search pays off far more here.
    solver.parameters.cp_model_probing_level = 0
    solver.parameters.symmetry_level = 0
    if free is not None:
        # Neighbourhood models get a second or so; presolve would spend it before the hint is even tried.
        solver.parameters.cp_model_presolve = False
    code = solver.solve(m.model)
    status = solver.status_name(code).lower()
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        kept = tuple(a for a in hint if free is None or a.learner_id in free)
        return CpResult(kept, status, False, None, n_options)
    result = [
        Assignment(sid, o.module, o.firm, o.start)
        for sid, options in options_of.items()
        for o in options
        if solver.boolean_value(o.var)
    ]
    bound: int | None = None
    required_total = sum(sum(scope_of[s.id].required.values()) for s in learners)
    if (
        free is None
        and firm_cap is None
        and len(result) == required_total
        and all(solver.value(d) == 0 for d in deficits)
        and _groups_disjoint(problem)
    ):
        bound = math.floor(solver.best_objective_bound + 1e-6) - cover * required_total
        bound -= change_penalty * len(problem.previous)
        if bound >= 2 * scale:
            bound = None  # no better than what any plan trivially satisfies: not worth reporting
    return CpResult(tuple(result), status, True, bound, n_options)


def _groups_disjoint(problem: Problem) -> bool:
    for curriculum in problem.curricula.values():
        seen: set[str] = set()
        for group in curriculum.groups:
            if seen & set(group.module_ids):
                return False
            seen |= set(group.module_ids)
    return True


def _options(
    problem: Problem,
    table: SeatTable,
    scope: LearnerScope,
    fixed_used: Mapping[Cell, Mapping[int, int]],
    frozen: Sequence[Assignment],
    hint: Sequence[Assignment],
    previous: Collection[Assignment],
    firm_cap: int | None,
    m: _Model,
) -> list[_Option]:
    """Start literals for every (module, firm, week) the learner could take with a seat left."""
    learner = scope.learner
    w = learner.weights
    frozen_modules = {a.module_id for a in frozen}
    wanted = {(a.module_id, a.firm_id) for a in (*hint, *frozen)} | {
        (a.module_id, a.firm_id) for a in previous if a.learner_id == learner.id
    }
    options: list[_Option] = []
    for module in scope.modules:
        if module in frozen_modules:
            continue
        duration = problem.modules[module].duration
        base = w.module * learner.module_pref.get(module, 0) + problem.modules[module].priority
        firms = [(f, base + w.firm * learner.firm_pref.get(f, 0)) for f in scope.firms(table, module)]
        if firm_cap is not None and len(firms) > firm_cap:
            firms.sort(key=lambda fv: -fv[1])
            firms = firms[:firm_cap] + [fv for fv in firms[firm_cap:] if (module, fv[0]) in wanted]
        for firm, value in firms:
            max_weeks = table.max_seats.get((firm, module), {})
            held = fixed_used.get((firm, module), {})
            for lo, hi in scope.start_ranges(table, module, firm, duration):
                for start in range(lo, hi + 1):
                    if any(max_weeks.get(wk, 0) - held.get(wk, 0) <= 0 for wk in range(start, start + duration)):
                        continue
                    a = Assignment(learner.id, module, firm, start)
                    var = m.model.new_bool_var(f"x_{learner.id}_{module}_{firm}_{start}")
                    options.append(_Option(module, firm, start, duration, value, var, a in previous))
    for a in frozen:
        duration = problem.modules[a.module_id].duration
        value = (
            w.module * learner.module_pref.get(a.module_id, 0)
            + w.firm * learner.firm_pref.get(a.firm_id, 0)
            + problem.modules[a.module_id].priority
        )
        var = m.model.new_bool_var(f"frozen_{learner.id}_{a.module_id}")
        m.model.add(var == 1)
        options.append(_Option(a.module_id, a.firm_id, a.start, duration, value, var, a in previous))
    return options


def _learner_constraints(
    problem: Problem, scope: LearnerScope, options: Sequence[_Option], m: _Model
) -> cp_model.LinearExprT:
    """Adds one learner's constraints; returns its sat(s) as a linear expression (hinted alongside)."""
    model = m.model
    learner = scope.learner
    weights = learner.weights
    sid = learner.id
    by_module: dict[str, list[_Option]] = {}
    for o in options:
        by_module.setdefault(o.module, []).append(o)
    hinted = {o.var.index: m.hints[o.var.index][1] for o in options}

    def chosen(o: _Option) -> int:
        return hinted[o.var.index]

    for opts in by_module.values():
        if len(opts) > 1:
            model.add_at_most_one(o.var for o in opts)
    for group, required in scope.required.items():
        members = [o.var for o in options if group in scope.groups_of.get(o.module, ())]
        if len(members) > required:
            model.add(sum(members) <= required)
    limit = problem.settings.max_modules_per_firm
    if limit is not None:
        by_firm: dict[str, list[cp_model.IntVar]] = {}
        for o in options:
            by_firm.setdefault(o.firm, []).append(o.var)
        for literals in by_firm.values():
            if len(literals) > limit:
                model.add(sum(literals) <= limit)
    covering: dict[int, list[cp_model.IntVar]] = {}
    for o in options:
        for wk in range(o.start, o.start + o.duration):
            covering.setdefault(wk, []).append(o.var)
    for literals in covering.values():
        if len(literals) > 1:
            model.add_at_most_one(literals)
    for module, requires in problem.curricula[learner.curriculum_id].precedence if scope.modules else ():
        after = by_module.get(module)
        if not after:
            continue
        before = by_module.get(requires)
        if not before:
            for o in after:
                model.add(o.var == 0)
            continue
        taken = model.new_bool_var(f"y_{sid}_{module}")
        model.add(taken == sum(o.var for o in after))
        m.hint(taken, sum(chosen(o) for o in after))
        model.add(sum(o.var for o in before) >= taken)
        model.add(
            sum((o.start + o.duration) * o.var for o in before) <= sum(o.start * o.var for o in after)
        ).only_enforce_if(taken)

    sat: list[cp_model.LinearExprT] = [sum(o.value * o.var for o in options)]
    if not options:
        return 0
    base = learner.first_week - 1
    if weights.idle != 0:
        last_week = max(o.start + o.duration - 1 for o in options)
        end = model.new_int_var(min(base, last_week), max(base, last_week), f"end_{sid}")
        ends = [base + sum((o.start + o.duration - 1 - base) * o.var for o in opts) for opts in by_module.values()]
        model.add_max_equality(end, [base, *ends])
        hinted_end = max([base] + [o.start + o.duration - 1 for o in options if chosen(o)])
        m.hint(end, hinted_end)
        idle = end - base - sum(o.duration * o.var for o in options)
        sat.append(weights.idle * idle)
    firms = sorted({o.firm for o in options})
    if weights.change != 0 and len(firms) > 1:
        sat.append(weights.change * _changes(sid, options, firms, m))
    return sum(sat)


def _changes(sid: str, options: Sequence[_Option], firms: Sequence[str], m: _Model) -> cp_model.LinearExprT:
    """Firm changes between consecutive assignments, via "last firm attended" state literals.

    last[t][f] is true when the latest assignment starting at or before t is at firm f; a change happens
    at t when an assignment starts there at f while last[previous t] is another firm. Exact both ways.
    """
    model = m.model
    starting: dict[int, dict[str, list[_Option]]] = {}
    for o in options:
        starting.setdefault(o.start, {}).setdefault(o.firm, []).append(o)
    hint_last: str | None = None
    prev: dict[str, cp_model.IntVar] | None = None
    changes: list[cp_model.IntVar] = []
    for t in sorted(starting):
        at = starting[t]
        starts_any = sum(o.var for opts in at.values() for o in opts)
        hinted_firm = next((f for f, opts in at.items() for o in opts if m.hints[o.var.index][1]), None)
        last: dict[str, cp_model.IntVar] = {}
        for f in firms:
            lit = model.new_bool_var(f"last_{sid}_{t}_{f}")
            here = sum(o.var for o in at.get(f, []))
            before = prev[f] if prev is not None else 0
            model.add(lit >= here)
            model.add(lit >= before - starts_any)
            model.add(lit <= here + before)
            model.add(lit <= 1 - starts_any + here)
            last[f] = lit
            m.hint(lit, int(f == (hinted_firm if hinted_firm is not None else hint_last)))
        if prev is not None:
            for f, opts in at.items():
                here = sum(o.var for o in opts)
                elsewhere = sum(prev[g] for g in firms if g != f)
                change = model.new_bool_var(f"change_{sid}_{t}_{f}")
                model.add(change >= here + elsewhere - 1)
                model.add(change <= here)
                model.add(change <= elsewhere)
                changes.append(change)
                m.hint(change, int(hinted_firm == f and hint_last is not None and hint_last != f))
        if hinted_firm is not None:
            hint_last = hinted_firm
        prev = last
    return sum(changes)
