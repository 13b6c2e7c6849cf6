"""The CP-SAT model: one start literal per learner x module x firm x week, exact firm-change and idle terms.

Coverage comes first: every assignment earns a bonus larger than any preference swing, and every missing
min-seat learner-week costs more than all coverage together, so the solver only leaves a requirement open
(or a minimum unfilled) when it has no plan that meets it. Plan.objective is always the design objective
recomputed by the evaluator, never this internal one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
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
# Work a call counts besides CP-SAT's own deterministic time, which leaves out building the model in Python:
# per start literal and per call, about what they cost in seconds on a 2-core machine (tight-160, 160 steps).
BUILD_WORK_PER_LITERAL = 4e-5
CALL_WORK = 0.01
# Full-problem workers left out when the whole network improves a complete hint with a deterministic budget
# (see _configure): every one that searches the whole model besides "no_lp".
WHOLE_NETWORK_IDLE_WORKERS = (
    "core",
    "default_lp",
    "max_lp",
    "pseudo_costs",
    "quick_restart",
    "quick_restart_no_lp",
    "reduced_costs",
)


@dataclass(frozen=True, slots=True)
class CpResult:
    assignments: tuple[Assignment, ...]  # for the learners the model planned
    status: str  # optimal, feasible, unknown, infeasible, model_invalid
    found: bool  # False: no solution in time, `assignments` is the hint
    bound: int | None = None  # upper bound on the design objective, when meaningful
    options: int = 0  # start literals in the model (its size)
    work: float = 0.0  # CP-SAT's deterministic time spent (repeatable, unlike seconds)


@dataclass(frozen=True, slots=True)
class AtLeast:
    """Hard floors for a model without objective: any plan that meets them will do.

    `placed`: modules per learner and requirement group (learners or groups not named: none); `seats`:
    learners per firm x module cell and week (up to its minimum; cells not named: their minimum stays soft).
    """

    placed: Mapping[str, Mapping[str, int]]
    seats: Mapping[tuple[Cell, int], int]


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
    fix_to_hint: bool = False,
    feasibility: bool = False,
    deterministic: float | None = None,
    within: tuple[int, int] | None = None,
    at_least: AtLeast | None = None,
    max_literals: int = MAX_LITERALS,
) -> CpResult:
    """Plan the learners in `free` (all when None) with `fixed` holding their seats; never raises on bad luck.

    `others_min` is the lowest sat(s) among the learners not planned here (they still count in the min term).
    `fixed_occupancy` may replace `fixed` with its seat counts per (firm, module) and week.
    `fix_to_hint` fixes every variable to its hinted value: the result is found exactly when the hint (with
    the end, state, change, slack and minimum values worked out from it) is a solution of the model.
    `feasibility` drops the design objective: the model only fills minimum seats, then places requirements
    (no preference, firm-change, idle or fairness terms, so it is far smaller and quicker to search).
    `deterministic` replaces the wall-clock limit by CP-SAT's deterministic time (same input, seed and
    workers: same result).
    `within` (first, last week) keeps every assignment the model may choose inside those weeks (frozen ones
    stay wherever they are).
    `at_least` turns the model into a pure constraint problem (implies `feasibility`, no objective at all):
    its floors on placed requirements and filled seats are hard, so propagation prunes what soft deficits would
    leave open, and the first plan found is the answer.
    """
    feasibility = feasibility or at_least is not None
    began = perf_counter()
    table = table if table is not None else seat_table(problem.offers)
    learners = [s for s in problem.learners if free is None or s.id in free]
    scope_of = {
        s.id: (scopes[s.id] if scopes is not None and s.id in scopes else learner_scope(problem, s)) for s in learners
    }
    scale = 0 if feasibility else sum(sat_scale(problem, scope_of[s.id]) for s in learners)
    change_penalty = 0 if feasibility else problem.settings.change_penalty
    cover = 2 * scale + change_penalty * (len(set(problem.previous)) + 1) + 1
    build = _Build(
        problem=problem,
        table=table,
        scope_of=scope_of,
        hint_by=_by_learner(hint),
        frozen_by=_by_learner(problem.frozen),
        fixed_used=fixed_occupancy if fixed_occupancy is not None else occupancy(fixed, problem.modules),
        feasibility=feasibility,
        at_least=at_least,
        change_penalty=change_penalty,
        cover=cover,
    )

    def over_budget(n_options: int) -> bool:
        return n_options > max_literals or (deterministic is None and perf_counter() - began > 0.8 * time_limit)

    if not build.add_learners(learners, firm_cap, within, over_budget):
        # Too big to build, let alone solve, in the budget: hand back the hint instead of running over.
        kept = tuple(a for a in hint if free is None or a.learner_id in free)
        return CpResult(
            kept, "model_too_large", False, None, build.n_options, CALL_WORK + BUILD_WORK_PER_LITERAL * build.n_options
        )
    build.add_seats(hint, learners)
    # Every missing min-seat learner-week costs more than all coverage together.
    deficit_cost = cover * (sum(len(sc.modules) for sc in scope_of.values()) + 1) + 1
    build.add_objective(scale, others_min, deficit_cost)

    solver = cp_model.CpSolver()
    if deterministic is None:
        # Building the model counts against the limit: callers give a wall-clock budget.
        deterministic_limit = None
        seconds = max(0.05, time_limit - (perf_counter() - began))
    else:
        deterministic_limit, seconds = deterministic, 0.0
    _configure(
        solver, workers, seed, seconds, deterministic_limit, at_least is not None, free is not None, not feasibility
    )
    solver.parameters.fix_variables_to_their_hinted_value = fix_to_hint
    code = solver.solve(build.m.model)
    status = solver.status_name(code).lower()
    work = solver.deterministic_time + CALL_WORK + BUILD_WORK_PER_LITERAL * build.n_options
    if code not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        kept = tuple(a for a in hint if free is None or a.learner_id in free)
        return CpResult(kept, status, False, None, build.n_options, work)
    result = build.chosen(solver)
    bound: int | None = None
    if free is None and not feasibility and firm_cap is None:
        bound = build.design_bound(solver, result, learners, scale)
    return CpResult(tuple(result), status, True, bound, build.n_options, work)


def _by_learner(assignments: Sequence[Assignment]) -> dict[str, list[Assignment]]:
    by: dict[str, list[Assignment]] = {}
    for a in assignments:
        by.setdefault(a.learner_id, []).append(a)
    return by


@dataclass
class _Build:
    """One model under construction: its learners' options, the seats they fill, the objective's terms."""

    problem: Problem
    table: SeatTable
    scope_of: Mapping[str, LearnerScope]
    hint_by: Mapping[str, list[Assignment]]
    frozen_by: Mapping[str, list[Assignment]]
    fixed_used: Mapping[Cell, Mapping[int, int]]
    feasibility: bool
    at_least: AtLeast | None
    change_penalty: int
    cover: int  # the bonus per placed requirement: larger than any preference swing
    m: _Model = field(default_factory=_Model)
    cells: dict[tuple[str, str, int], list[cp_model.IntVar]] = field(default_factory=dict)
    frozen_cells: dict[tuple[str, str, int], int] = field(default_factory=dict)
    sat_terms: list[tuple[Learner, cp_model.LinearExprT, int]] = field(default_factory=list)
    objective: list[cp_model.LinearExprT] = field(default_factory=list)
    deficits: list[cp_model.IntVar] = field(default_factory=list)
    options_of: dict[str, list[_Option]] = field(default_factory=dict)
    n_options: int = 0

    def add_learners(
        self,
        learners: Sequence[Learner],
        firm_cap: int | None,
        within: tuple[int, int] | None,
        over_budget: Callable[[int], bool],
    ) -> bool:
        """Each learner's start literals and rules; False (and stop) once the model grows over the budget."""
        previous = set(self.problem.previous)
        for learner in learners:
            scope = self.scope_of[learner.id]
            options = _options(
                self.problem,
                self.table,
                scope,
                self.fixed_used,
                self.frozen_by.get(learner.id, []),
                self.hint_by.get(learner.id, []),
                previous,
                firm_cap,
                self.m,
                within,
            )
            self.n_options += len(options)
            self.options_of[learner.id] = options
            if over_budget(self.n_options):
                return False
            self._add_learner(learner, scope, options)
        return True

    def _add_learner(self, learner: Learner, scope: LearnerScope, options: list[_Option]) -> None:
        m = self.m
        for o in options:
            for w in range(o.start, o.start + o.duration):
                self.cells.setdefault((o.firm, o.module, w), []).append(o.var)
        for a in self.frozen_by.get(learner.id, []):
            for w in range(a.start, a.start + self.problem.modules[a.module_id].duration):
                key = (a.firm_id, a.module_id, w)
                self.frozen_cells[key] = self.frozen_cells.get(key, 0) + 1
        chosen = set(self.hint_by.get(learner.id, [])) | set(self.frozen_by.get(learner.id, []))
        for o in options:
            m.hint(o.var, int(Assignment(learner.id, o.module, o.firm, o.start) in chosen))
        sat_expr = _learner_constraints(self.problem, scope, options, m, with_sat=not self.feasibility)
        floors = self.at_least.placed.get(learner.id, {}) if self.at_least is not None else {}
        for group, floor in floors.items():
            members = [o.var for o in options if group in scope.groups_of.get(o.module, ())]
            if floor > 0:
                m.model.add(_total(members) >= floor)
        if not self.feasibility:
            hinted_sat = learner_sat(self.problem, learner, chosen)
            self.sat_terms.append((learner, sat_expr, hinted_sat))
            self.objective.append(sat_expr)
        self.objective.append(
            _weighted(
                [o.var for o in options], [self.cover + (self.change_penalty if o.previous else 0) for o in options]
            )
        )

    def add_seats(self, hint: Sequence[Assignment], learners: Sequence[Learner]) -> None:
        """Each firm x module x week: at most its free seats, and (softly, or by `at_least`) its minimum."""
        m, table, at_least = self.m, self.table, self.at_least
        hinted_set = set(hint)
        hint_used = occupancy(
            [*hint, *(a for s in learners for a in self.frozen_by.get(s.id, []) if a not in hinted_set)],
            self.problem.modules,
        )
        for (firm, module, week), literals in self.cells.items():
            already = self.fixed_used.get((firm, module), {}).get(week, 0)
            cap = table.max_at(firm, module, week) - already
            # Frozen seats stay even over a reduced offer; the validator reports that, the model must not fail.
            cap = max(cap, self.frozen_cells.get((firm, module, week), 0))
            if len(literals) > cap:
                m.model.add(_total(literals) <= cap)
            minimum = table.min_at(firm, module, week) - already
            if minimum > 0:
                hard = at_least.seats.get(((firm, module), week), 0) - already if at_least is not None else 0
                short = m.model.new_int_var(0, minimum - min(minimum, max(0, hard)), f"short_{firm}_{module}_{week}")
                m.model.add(_total(literals) + short >= minimum)
                hinted = hint_used.get((firm, module), {}).get(week, 0)
                m.hint(short, max(0, minimum - hinted))
                self.deficits.append(short)

    def add_objective(self, scale: int, others_min: int | None, deficit_cost: int) -> None:
        """Coverage, preferences and the worst-off learner's sat (fairness) against the deficit; and the hints."""
        m = self.m
        lowest = -scale - 1
        worst = m.model.new_int_var(lowest, scale + 1, "min_sat")
        hinted_min: list[int] = []
        for _learner, sat_expr, hinted_sat in self.sat_terms:
            m.model.add(worst <= sat_expr)
            hinted_min.append(hinted_sat)
        if others_min is not None and not self.feasibility:
            m.model.add(worst <= max(lowest, min(others_min, scale + 1)))
            hinted_min.append(others_min)
        if self.feasibility:
            m.model.add(worst == 0)
        elif self.sat_terms or others_min is not None:
            self.objective.append(worst)
            m.hint(worst, max(lowest, min(min(hinted_min), scale + 1)))
        else:
            m.model.add(worst == 0)
        self.objective.append(-deficit_cost * _total(self.deficits))
        if self.at_least is None:
            m.model.maximize(_total(self.objective))
        for var, value in m.hints.values():
            m.model.add_hint(var, value)

    def chosen(self, solver: cp_model.CpSolver) -> list[Assignment]:
        return [
            Assignment(sid, o.module, o.firm, o.start)
            for sid, options in self.options_of.items()
            for o in options
            if solver.boolean_value(o.var)
        ]

    def design_bound(
        self, solver: cp_model.CpSolver, result: Sequence[Assignment], learners: Sequence[Learner], scale: int
    ) -> int | None:
        """CP-SAT's proved bound on the design objective, when the plan is complete and the bound means one."""
        required_total = sum(sum(self.scope_of[s.id].required.values()) for s in learners)
        if not (
            len(result) == required_total
            and all(solver.value(d) == 0 for d in self.deficits)
            and _groups_disjoint(self.problem)
        ):
            return None
        bound = math.floor(solver.best_objective_bound + 1e-6) - self.cover * required_total
        bound -= self.change_penalty * len(self.problem.previous)
        # No better than what any plan trivially satisfies: not worth reporting.
        return None if bound >= 2 * scale else bound


def _configure(
    solver: cp_model.CpSolver,
    workers: int,
    seed: int,
    seconds: float,
    deterministic: float | None,
    pure: bool,
    neighbourhood: bool,
    improving: bool = False,
) -> None:
    """Search parameters: the budget, and the tuning that suits each kind of model."""
    solver.parameters.num_workers = max(1, workers)
    if deterministic is not None:
        solver.parameters.max_deterministic_time = max(0.01, deterministic)
        if neighbourhood and improving:
            # A few learners re-planned for the design objective: one worker's own search (repeatable without
            # interleaving) settles such a model far more often than interleaved workers in the same work, whose
            # batches a worker with a linear relaxation fills alone (tight-80-12-4-24-1, LNS for 30 units from
            # 2,830: 3,302 with one worker, 3,022 interleaved; tight-40-12-3-12-2, 55 units: 1,881). LNS runs
            # as many of these steps at once as it was given workers, so the other cores search too.
            solver.parameters.num_workers = 1
        elif not pure:
            # Workers interleaved in fixed batches: the search no longer depends on thread timing.
            solver.parameters.interleave_search = True
            if not neighbourhood:
                # Interleaved, a full-problem worker with a linear relaxation runs its whole share in one task
                # (tight-80-12-4-24-1: one task of 20 units for a limit of 20), and CP-SAT's own neighbourhoods,
                # which are what improve a complete hint, never get a turn (0 calls in 22 units on
                # tight-40-12-3-12-2: 1,619 → 1,620). With only the LP-free worker beside them they get the
                # budget: 1,831 there and 2,830 → 3,280 on tight-80-12-4-24-1 in 50 units.
                solver.parameters.ignore_subsolvers.extend(WHOLE_NETWORK_IDLE_WORKERS)
        else:
            # The parallel portfolio finds this model's plans with its feasibility-jump local search (2 s on
            # tight-80-12-4-24-2), which interleaved workers do not run (nothing in 88 s). Local search alone on
            # one worker is repeatable and as quick; it never proves the floors impossible, which is why the
            # caller only asks when a minimum is short.
            solver.parameters.num_workers = 1
            solver.parameters.use_ls_only = True
    else:
        solver.parameters.max_time_in_seconds = seconds
    solver.parameters.random_seed = seed
    if pure:
        # A pure constraint problem (at_least) keeps CP-SAT's own presolve and probing: they are what find its
        # plans. The tuning below is for improving a complete hint.
        return
    # Probing these time-indexed models adds hundreds of thousands of implications and can eat the whole
    # budget before search starts from the (complete, feasible) hint; search pays off far more here.
    solver.parameters.cp_model_probing_level = 0
    solver.parameters.symmetry_level = 0
    # One presolve round and no search for big linear overlaps: on these models the later rounds and the
    # overlap search cost seconds and gain little, and until presolve ends not even the hint is reported.
    solver.parameters.max_presolve_iterations = 1
    solver.parameters.find_big_linear_overlap = False
    if neighbourhood:
        # Neighbourhood models get a second or so; presolve would spend it before the hint is even tried.
        solver.parameters.cp_model_presolve = False


def _total(terms: Sequence[cp_model.LinearExprT]) -> cp_model.LinearExpr:
    """Σ terms as one flat expression (Python's sum nests one node per term, slow on big models)."""
    return cp_model.LinearExpr.sum(terms)


def _weighted(literals: Sequence[cp_model.IntVar], coefficients: Sequence[int]) -> cp_model.LinearExpr:
    return cp_model.LinearExpr.weighted_sum(literals, coefficients)


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
    within: tuple[int, int] | None = None,
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
                if within is not None:
                    lo, hi = max(lo, within[0]), min(hi, within[1] - duration + 1)
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
    problem: Problem, scope: LearnerScope, options: Sequence[_Option], m: _Model, *, with_sat: bool = True
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
            model.add(_total(members) <= required)
    limit = problem.settings.max_modules_per_firm
    if limit is not None:
        by_firm: dict[str, list[cp_model.IntVar]] = {}
        for o in options:
            by_firm.setdefault(o.firm, []).append(o.var)
        for literals in by_firm.values():
            if len(literals) > limit:
                model.add(_total(literals) <= limit)
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
        model.add(taken == _total([o.var for o in after]))
        m.hint(taken, sum(chosen(o) for o in after))
        model.add(_total([o.var for o in before]) >= taken)
        model.add(
            _weighted([o.var for o in before], [o.start + o.duration for o in before])
            <= _weighted([o.var for o in after], [o.start for o in after])
        ).only_enforce_if(taken)

    if not options or not with_sat:
        return 0
    sat: list[cp_model.LinearExprT] = [_weighted([o.var for o in options], [o.value for o in options])]
    base = learner.first_week - 1
    if weights.idle != 0:
        last_week = max(o.start + o.duration - 1 for o in options)
        end = model.new_int_var(min(base, last_week), max(base, last_week), f"end_{sid}")
        ends = [
            base + _weighted([o.var for o in opts], [o.start + o.duration - 1 - base for o in opts])
            for opts in by_module.values()
        ]
        model.add_max_equality(end, [base, *ends])
        hinted_end = max([base] + [o.start + o.duration - 1 for o in options if chosen(o)])
        m.hint(end, hinted_end)
        idle = end - base - _weighted([o.var for o in options], [o.duration for o in options])
        sat.append(weights.idle * idle)
    firms = sorted({o.firm for o in options})
    if weights.change != 0 and len(firms) > 1:
        sat.append(weights.change * _changes(sid, options, firms, m))
    return _total(sat)


def _changes(sid: str, options: Sequence[_Option], firms: Sequence[str], m: _Model) -> cp_model.LinearExprT:
    """Firm changes between consecutive assignments, via "last firm attended" state literals.

    last[t][f] is true when the latest assignment starting at or before t is at firm f; a change happens
    at t when an assignment starts there at f while some earlier assignment exists and last[previous t] is
    not f. Every literal is defined by an equivalence, so the count is exact for any sign of the weight.

    Everything is clauses over a few literals: one "starts at t at f" literal per firm and one "starts at t"
    literal let each state and change literal see three or four literals instead of every start at t (a
    per-firm sum over all starts made this the bulk of the model and of presolve).
    """
    model = m.model
    starting: dict[int, dict[str, list[_Option]]] = {}
    for o in options:
        starting.setdefault(o.start, {}).setdefault(o.firm, []).append(o)

    def hinted(lit: cp_model.IntVar) -> int:
        return m.hints[lit.index][1]

    def define(name: str, lit_value: int) -> cp_model.IntVar:
        var = model.new_bool_var(name)
        m.hint(var, lit_value)
        return var

    prev: dict[str, cp_model.IntVar] = {}  # last[previous t][f], only for firms the learner could have been at
    prev_any: cp_model.IntVar | None = None  # some assignment started at or before the previous t
    changes: list[cp_model.IntVar] = []
    for t in sorted(starting):
        here: dict[str, cp_model.IntVar] = {}
        for f, opts in starting[t].items():
            if len(opts) == 1:
                here[f] = opts[0].var
            else:
                # At most one of them holds (they all cover week t), so the sum is a literal.
                lit = define(f"at_{sid}_{t}_{f}", sum(hinted(o.var) for o in opts))
                model.add(lit == _total([o.var for o in opts]))
                here[f] = lit
        if len(here) == 1:
            starts = next(iter(here.values()))
        else:
            starts = define(f"starts_{sid}_{t}", sum(hinted(lit) for lit in here.values()))
            model.add(starts == _total(list(here.values())))
        if prev_any is not None:
            for f, at_f in here.items():
                before = prev.get(f)
                on = hinted(at_f) and hinted(prev_any) and not (before is not None and hinted(before))
                change = define(f"change_{sid}_{t}_{f}", int(bool(on)))
                model.add_implication(change, at_f)
                model.add_implication(change, prev_any)
                if before is not None:
                    model.add_implication(change, ~before)
                    model.add_bool_or([~at_f, ~prev_any, before, change])
                else:
                    model.add_bool_or([~at_f, ~prev_any, change])
                changes.append(change)
        last: dict[str, cp_model.IntVar] = {}
        for f in firms:
            starting_here = here.get(f)
            before = prev.get(f)
            if before is None:
                if starting_here is not None:
                    last[f] = starting_here  # nothing earlier at f: last is f exactly when starting here at f
                continue
            if starting_here is None:
                # Stays at f while nothing starts at t.
                lit = define(f"last_{sid}_{t}_{f}", int(hinted(before) and not hinted(starts)))
                model.add_implication(lit, before)
                model.add_implication(lit, ~starts)
                model.add_bool_or([~before, starts, lit])
            else:
                lit = define(
                    f"last_{sid}_{t}_{f}", int(hinted(starting_here) or (hinted(before) and not hinted(starts)))
                )
                model.add_implication(starting_here, lit)
                model.add_bool_or([~before, starts, lit])
                model.add_bool_or([~lit, starting_here, before])
                model.add_bool_or([~lit, ~starts, starting_here])
            last[f] = lit
        if prev_any is None:
            now_any = starts
        else:
            now_any = define(f"any_{sid}_{t}", int(hinted(prev_any) or hinted(starts)))
            model.add_implication(prev_any, now_any)
            model.add_implication(starts, now_any)
            model.add_bool_or([~now_any, prev_any, starts])
        prev = last
        prev_any = now_any
    return _total(changes)
