"""The independent judge: checks every hard constraint of a plan and computes the design objective."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .model import Assignment, Learner, Plan, Problem
from .seats import occupancy, seat_table


@dataclass(frozen=True, slots=True)
class Evaluation:
    sat: Mapping[str, int]  # learner id -> sat(s)
    objective: int  # Σ sat + min sat − change_penalty × previous assignments not kept
    min_sat: int
    dropped_previous: int  # previous assignments not in the plan unchanged


def learner_sat(problem: Problem, learner: Learner, assignments: Iterable[Assignment]) -> int:
    """sat(s) straight from the design's formula."""
    own = sorted((a for a in assignments if a.module_id in problem.modules), key=lambda a: (a.start, a.module_id))
    if not own:
        return 0
    w = learner.weights
    total = 0
    for a in own:
        total += w.module * learner.module_pref.get(a.module_id, 0)
        total += w.firm * learner.firm_pref.get(a.firm_id, 0)
        total += problem.modules[a.module_id].priority
    changes = sum(1 for prev, nxt in itertools.pairwise(own) if prev.firm_id != nxt.firm_id)
    covered: set[int] = set()
    last_end = learner.first_week - 1
    for a in own:
        end = a.start + problem.modules[a.module_id].duration - 1
        covered.update(range(a.start, end + 1))
        last_end = max(last_end, end)
    idle = sum(1 for week in range(learner.first_week, last_end + 1) if week not in covered)
    return total + w.change * changes + w.idle * idle


def evaluate(problem: Problem, assignments: Iterable[Assignment]) -> Evaluation:
    plan = list(assignments)
    by_learner: dict[str, list[Assignment]] = {}
    for a in plan:
        by_learner.setdefault(a.learner_id, []).append(a)
    sat = {s.id: learner_sat(problem, s, by_learner.get(s.id, ())) for s in problem.learners}
    min_sat = min(sat.values(), default=0)
    kept = set(plan)
    dropped = sum(1 for a in problem.previous if a not in kept)
    objective = sum(sat.values()) + min_sat - problem.settings.change_penalty * dropped
    return Evaluation(sat=sat, objective=objective, min_sat=min_sat, dropped_previous=dropped)


def validate(problem: Problem, plan: Plan) -> list[str]:
    """Every hard-constraint violation in the plan, one readable line each; empty means valid."""
    errors: list[str] = []
    learners = {s.id: s for s in problem.learners}
    frozen = set(problem.frozen)
    by_learner: dict[str, list[Assignment]] = {}
    for a in plan.assignments:
        if a.learner_id not in learners:
            errors.append(f"unknown learner: {a} names learner {a.learner_id!r}, not in the problem")
        elif a.module_id not in problem.modules:
            errors.append(f"unknown module: {a} names module {a.module_id!r}, not in the problem")
        elif a.firm_id not in problem.firms and a not in frozen:
            errors.append(f"unknown firm: {a} names firm {a.firm_id!r}, not in the problem")
        else:
            by_learner.setdefault(a.learner_id, []).append(a)
    shortfall_missing: dict[tuple[str, str], int] = {}
    for sf in plan.shortfalls:
        key = (sf.learner_id, sf.group_id)
        shortfall_missing[key] = shortfall_missing.get(key, 0) + sf.missing
    for learner in problem.learners:
        errors.extend(_learner_errors(problem, learner, by_learner.get(learner.id, []), shortfall_missing))
    errors.extend(_seat_errors(problem, plan))
    in_plan = set(plan.assignments)
    for a in problem.frozen:
        # Frozen assignments of a learner who left the problem go with the learner.
        if a.learner_id in learners and a not in in_plan:
            errors.append(
                f"frozen: learner {a.learner_id} module {a.module_id} at firm {a.firm_id} "
                f"from week {a.start} is frozen but missing or changed"
            )
    return errors


def _learner_errors(
    problem: Problem,
    learner: Learner,
    own: list[Assignment],
    shortfall_missing: Mapping[tuple[str, str], int],
) -> list[str]:
    errors: list[str] = []
    sid = learner.id
    curriculum = problem.curricula.get(learner.curriculum_id)
    groups = curriculum.groups if curriculum else ()
    grouped = {m for g in groups for m in g.module_ids}
    allowed = {m for m in learner.allowed_modules if m in grouped}
    seen: dict[str, Assignment] = {}
    firm_modules: dict[str, set[str]] = {}
    for a in own:
        where = f"learner {sid} module {a.module_id} at firm {a.firm_id} from week {a.start}"
        duration = problem.modules[a.module_id].duration
        end = a.start + duration - 1
        if a.module_id not in allowed:
            errors.append(f"allowed modules: {where}: module not allowed for the learner or not in a group")
        if a.module_id in seen:
            errors.append(f"at most once: {where}: module assigned more than once")
        seen[a.module_id] = a
        if a.start < learner.first_week or end > learner.last_week:
            errors.append(f"window: {where}: weeks {a.start}..{end} outside {learner.first_week}..{learner.last_week}")
        blocked = sorted(w for w in range(a.start, end + 1) if w in learner.unavailable)
        if blocked:
            errors.append(f"availability: {where}: learner unavailable in weeks {blocked}")
        if a.firm_id in learner.excluded_firms or (a.firm_id, a.module_id) in learner.excluded_firm_modules:
            errors.append(f"eligibility: {where}: learner may not attend this firm for this module")
        firm_modules.setdefault(a.firm_id, set()).add(a.module_id)
    ordered = sorted(own, key=lambda a: a.start)
    for prev, nxt in itertools.pairwise(ordered):
        prev_end = prev.start + problem.modules[prev.module_id].duration - 1
        if nxt.start <= prev_end:
            errors.append(
                f"overlap: learner {sid}: module {prev.module_id} (weeks {prev.start}..{prev_end}) "
                f"overlaps module {nxt.module_id} starting week {nxt.start}"
            )
    for module, requires in curriculum.precedence if curriculum else ():
        if module not in seen:
            continue
        before = seen.get(requires)
        if before is None:
            errors.append(f"precedence: learner {sid}: module {module} assigned without required {requires}")
        elif before.start + problem.modules[requires].duration > seen[module].start:
            errors.append(
                f"precedence: learner {sid}: required module {requires} does not end before "
                f"module {module} starts in week {seen[module].start}"
            )
    limit = problem.settings.max_modules_per_firm
    if limit is not None:
        for firm, modules in firm_modules.items():
            if len(modules) > limit:
                errors.append(f"firm limit: learner {sid} has {len(modules)} modules at firm {firm}, limit {limit}")
    for group in groups:
        required = learner.required.get(group.id, group.default_required)
        count = sum(1 for m in group.module_ids if m in seen)
        if count > required:
            errors.append(f"group count: learner {sid} group {group.id}: {count} modules, required {required}")
        elif count < required:
            declared = shortfall_missing.get((sid, group.id), 0)
            if declared != required - count:
                errors.append(
                    f"group count: learner {sid} group {group.id}: {count} of {required} modules, "
                    f"but the plan reports {declared} missing"
                )
    return errors


def _seat_errors(problem: Problem, plan: Plan) -> list[str]:
    errors: list[str] = []
    table = seat_table(problem.offers)
    used = occupancy(plan.assignments, problem.modules)
    declared = {(d.firm_id, d.module_id, d.week): d.assigned for d in plan.deficits}
    for (firm, module), weeks in sorted(used.items()):
        for week, count in sorted(weeks.items()):
            cap = table.max_at(firm, module, week)
            if count > cap:
                errors.append(f"max seats: firm {firm} module {module} week {week}: {count} learners, {cap} seats")
    for (firm, module), weeks in sorted(table.min_seats.items()):
        held = used.get((firm, module), {})
        for week, minimum in sorted(weeks.items()):
            count = held.get(week, 0)
            if count < minimum and declared.get((firm, module, week)) != count:
                errors.append(
                    f"min seats: firm {firm} module {module} week {week}: {count} learners, "
                    f"at least {minimum} required and no deficit declared"
                )
    return errors


def problem_errors(problem: Problem) -> list[str]:
    """References the planner cannot resolve (an adapter bug, not an infeasible network), one line each."""
    errors: list[str] = []
    for offer in problem.offers:
        if offer.module_id not in problem.modules or offer.firm_id not in problem.firms:
            errors.append(
                f"offer {offer.id} names module {offer.module_id!r} at firm {offer.firm_id!r}; "
                "add the module and firm to the problem or drop the offer"
            )
    for learner in problem.learners:
        if learner.curriculum_id not in problem.curricula:
            errors.append(f"learner {learner.id} names curriculum {learner.curriculum_id!r}, not in the problem")
    present = {s.id for s in problem.learners}
    for a in problem.frozen:
        # A frozen assignment at a firm that has since left the network is still kept as it is; without
        # its module the planner does not even know how many weeks it occupies.
        if a.learner_id in present and a.module_id not in problem.modules:
            errors.append(
                f"frozen assignment of learner {a.learner_id} names module {a.module_id!r}, not in the "
                "problem; add the module (it has started, so its weeks are needed) or unfreeze the assignment"
            )
    return errors
