"""Checks what a shortfall or seat deficit claims against the problem and the plan, straight from the definitions.

The check does not reuse the code that wrote the explanation (explain.py, the learner scopes, the seat ledger):
it reads the offers, the learner and the plan's assignments itself, as the validator does.

**Options.** For a learner and an open module (one of the group's modules the learner is allowed, has not been
assigned, and that would not push another group it counts for past its required count), an *option* is a firm
and a start week such that every one of the module's `duration` weeks lies inside the learner's window and has
at least one seat offered at that firm (offers for the same firm and module add up). Each option is put through
these rules, in this order; its *stage* is the first rule it breaks (8 when it breaks none):

====  ==============  ==========================================================================================
stage rule            an option breaks it when
====  ==============  ==========================================================================================
2     eligibility     the learner is excluded from the firm, or from the firm for this module
3     availability    one of its weeks is unavailable to the learner (school block, holiday)
4     precedence      a module it requires is not planned for the learner or does not end before the start,
                      or a planned module that requires it starts before it ends
5     firm_limit      the learner already has the network's maximum number of modules at the firm
6     own time        one of its weeks is taken by another of the learner's planned modules
7     seats           in one of its weeks the firm's seats for the module are all held by other learners
====  ==============  ==========================================================================================

The *reach* of the module is the highest stage any of its options gets to (0 when it has no option at all).
An option of reach 8 is free: the plan could take it without breaking any rule, so no reason is true for it.

**What each reason claims** (module = the shortfall's `module_id`):

- `no_offer`: reach 0 — no firm offers the module for `duration` consecutive weeks inside the window.
- `eligibility` with a module: reach 2 — options exist, but every one is at a firm the learner is excluded from.
  Without a module: none of the group's modules is open (allowed, not yet planned, and not counting for a group
  already complete), so the group cannot be completed whatever the offers.
- `availability`: reach 3 (eligible options exist, but each has an unavailable week) or reach 6 (options that
  keep every other rule exist, but each overlaps another of the learner's planned modules).
- `precedence`: reach 4 — eligible, available options exist, but a required module is not planned or no such
  option starts after the required modules end.
- `firm_limit`: reach 5 — every option that keeps the rules above is at a firm where the learner is at the limit.
- `min_seats`: reach 6, and one of the learner's own modules that overlaps such an option is at a firm and
  module with a minimum group that needs the learner (in some week of it no more learners than the minimum).
- `contention`: reach 7 — every option that keeps every rule of the learner's own is at a firm whose seats are
  all held in some week of it; the shortfall names at least one competing learner and every named one holds a
  seat at the module in a full week of such an option.

**Suggestions** (any reason): each `SeatSuggestion`, added as an offer of its seats at its firm (or at a new firm
when it names none) in its weeks with the rest of the plan unchanged, gives the learner a free option for its
module, which must be open in the shortfall's group. A `contention` shortfall must carry at least one.

Besides, the shortfall's learner, group and missing count must match the plan, and only a `contention`
shortfall names competing learners.

**Seat deficits**: the week's minimum is the sum of `min_seats` of the firm's offers for the module that cover
the week, the learner count is the number of planned assignments of the firm and module covering it, and the
count is below the minimum.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .model import (
    Assignment,
    Curriculum,
    Group,
    Learner,
    Offer,
    Problem,
    SeatDeficit,
    SeatSuggestion,
    Shortfall,
    ShortfallReason,
)

# Stands for "any firm" in a suggestion that names none: a firm nobody is excluded from and nobody attends.
NEW_FIRM = "\x00new firm"

NO_OPTION = 0
ELIGIBILITY = 2
AVAILABILITY = 3
PRECEDENCE = 4
FIRM_LIMIT = 5
OWN_TIME = 6
SEATS = 7
FREE = 8

# The reach each reason stands for (availability stands for two, see the module docstring).
REACH: Mapping[ShortfallReason, frozenset[int]] = {
    ShortfallReason.NO_OFFER: frozenset({NO_OPTION}),
    ShortfallReason.ELIGIBILITY: frozenset({ELIGIBILITY}),
    ShortfallReason.AVAILABILITY: frozenset({AVAILABILITY, OWN_TIME}),
    ShortfallReason.PRECEDENCE: frozenset({PRECEDENCE}),
    ShortfallReason.FIRM_LIMIT: frozenset({FIRM_LIMIT}),
    ShortfallReason.MIN_SEATS: frozenset({OWN_TIME}),
    ShortfallReason.CONTENTION: frozenset({SEATS}),
}

_STAGE_WORDS = {
    NO_OPTION: "no firm offers it for enough consecutive weeks inside the window",
    ELIGIBILITY: "every offer in the window is at a firm the learner may not attend",
    AVAILABILITY: "every eligible offer overlaps weeks the learner is unavailable",
    PRECEDENCE: "the order of modules leaves no eligible, available start (a required module is not planned, "
    "or no start fits after the modules it requires and before those requiring it)",
    FIRM_LIMIT: "the learner is at the per-firm limit at every firm with an option left",
    OWN_TIME: "every remaining option overlaps the learner's other planned modules",
    SEATS: "every remaining option has a week whose seats are all held",
    FREE: "a free seat exists that the plan leaves unused",
}


@dataclass(frozen=True, slots=True)
class Option:
    """A firm and start week for a module, with the first rule it breaks (FREE when none)."""

    firm_id: str
    start: int
    stage: int
    full_weeks: tuple[int, ...] = ()  # weeks without a free seat (filled for options that reach SEATS)


@dataclass(frozen=True, slots=True)
class Funnel:
    """Every option of one learner for one module, and how far the best of them gets."""

    module_id: str
    options: tuple[Option, ...]

    @property
    def reach(self) -> int:
        return max((o.stage for o in self.options), default=NO_OPTION)

    def at(self, stage: int) -> list[Option]:
        return [o for o in self.options if o.stage == stage]

    def describe(self) -> str:
        return _STAGE_WORDS[self.reach]


@dataclass(slots=True)
class Evidence:
    """The facts of one plan, indexed lazily, against which claims are checked."""

    problem: Problem
    assignments: Sequence[Assignment]
    _offers_of: dict[str, list[Offer]] | None = None  # module -> its offers
    _seats: dict[tuple[str, str], dict[int, int]] = field(default_factory=dict)  # (firm, module) -> week -> seats
    _minimums: dict[tuple[str, str], dict[int, int]] = field(default_factory=dict)  # the same for min_seats
    _by_learner: dict[str, list[Assignment]] | None = None
    _by_cell: dict[tuple[str, str], list[Assignment]] | None = None
    _held: dict[tuple[str, str], dict[int, list[str]]] = field(default_factory=dict)  # week -> holders
    _learners: dict[str, Learner] | None = None

    # ---- facts straight from the problem and the plan -------------------------------------------------

    def learner(self, learner_id: str) -> Learner | None:
        if self._learners is None:
            self._learners = {s.id: s for s in self.problem.learners}
        return self._learners.get(learner_id)

    def own(self, learner_id: str) -> list[Assignment]:
        if self._by_learner is None:
            self._by_learner = {}
            for a in self.assignments:
                self._by_learner.setdefault(a.learner_id, []).append(a)
        return self._by_learner.get(learner_id, [])

    def offers(self, module: str) -> list[Offer]:
        if self._offers_of is None:
            self._offers_of = {}
            for o in self.problem.offers:
                self._offers_of.setdefault(o.module_id, []).append(o)
        return self._offers_of.get(module, [])

    def seats(self, firm: str, module: str) -> dict[int, int]:
        """Seats offered per week at firm for module: the offers' max_seats added up."""
        cell = (firm, module)
        weeks = self._seats.get(cell)
        if weeks is None:
            weeks = {}
            for o in self.offers(module):
                if o.firm_id == firm:
                    for w in range(o.first_week, o.last_week + 1):
                        weeks[w] = weeks.get(w, 0) + o.max_seats
            self._seats[cell] = weeks
        return weeks

    def minimum(self, firm: str, module: str, week: int) -> int:
        """Learners the firm's offers for the module need in week: their min_seats added up."""
        cell = (firm, module)
        weeks = self._minimums.get(cell)
        if weeks is None:
            weeks = {}
            for o in self.offers(module):
                if o.firm_id == firm and o.min_seats > 0:
                    for w in range(o.first_week, o.last_week + 1):
                        weeks[w] = weeks.get(w, 0) + o.min_seats
            self._minimums[cell] = weeks
        return weeks.get(week, 0)

    def holders(self, firm: str, module: str, week: int) -> list[str]:
        """Learners the plan has at firm for module in week."""
        cell = (firm, module)
        weeks = self._held.get(cell)
        if weeks is None:
            if self._by_cell is None:
                self._by_cell = {}
                for a in self.assignments:
                    self._by_cell.setdefault((a.firm_id, a.module_id), []).append(a)
            weeks = {}
            for a in self._by_cell.get(cell, ()):
                for w in self._weeks_of(a):
                    weeks.setdefault(w, []).append(a.learner_id)
            self._held[cell] = weeks
        return weeks.get(week, [])

    def _weeks_of(self, a: Assignment) -> range:
        module = self.problem.modules.get(a.module_id)
        return range(a.start, a.start + module.duration) if module else range(0)

    def _curriculum(self, learner: Learner) -> Curriculum | None:
        return self.problem.curricula.get(learner.curriculum_id)

    def _required(self, learner: Learner, group: Group) -> int:
        return learner.required.get(group.id, group.default_required)

    def open_modules(self, learner: Learner, group: Group) -> list[str]:
        """The group's modules the learner may still add: allowed, known, not planned, and not counting for
        another group whose required count is already met."""
        curriculum = self._curriculum(learner)
        if curriculum is None:
            return []
        done = {a.module_id for a in self.own(learner.id)}
        full = {
            g.id for g in curriculum.groups if sum(1 for m in g.module_ids if m in done) >= self._required(learner, g)
        }
        return [
            m
            for m in group.module_ids
            if m in learner.allowed_modules
            and m in self.problem.modules
            and m not in done
            and not any(m in g.module_ids and g.id in full for g in curriculum.groups)
        ]

    # ---- the options of one learner for one module --------------------------------------------------

    def funnel(self, learner: Learner, module: str, extra: SeatSuggestion | None = None) -> Funnel:
        """Every option of the learner for the module; `extra` adds a suggested offer first."""
        problem = self.problem
        duration = problem.modules[module].duration
        own = self.own(learner.id)
        curriculum = self._curriculum(learner)
        busy = {w for a in own for w in self._weeks_of(a)}
        placed = {a.module_id: a for a in own}
        # Precedence: the earliest start once every required module has ended; None when one is not planned.
        after: int | None = learner.first_week
        for dependent, requires in curriculum.precedence if curriculum else ():
            if dependent != module:
                continue
            before = placed.get(requires)
            if before is None or requires not in problem.modules or after is None:
                after = None
                break
            after = max(after, before.start + problem.modules[requires].duration)
        # A planned module that requires this one must start after it ends (only a plan that already breaks
        # precedence has one).
        until = min(
            (placed[d].start for d, r in curriculum.precedence if r == module and d in placed) if curriculum else (),
            default=learner.last_week + 1,
        )
        at_firm: dict[str, set[str]] = {}
        for a in own:
            at_firm.setdefault(a.firm_id, set()).add(a.module_id)
        limit = problem.settings.max_modules_per_firm
        extra_firm = None
        if extra is not None and extra.module_id == module:
            extra_firm = extra.firm_id if extra.firm_id is not None else NEW_FIRM
        firms = sorted({o.firm_id for o in self.offers(module)} | ({extra_firm} if extra_firm else set()))
        # Counts of unavailable and busy weeks before each week of the window, to test a start in one step.
        first, last = learner.first_week, learner.last_week
        unavailable = _before(first, last, learner.unavailable)
        taken = _before(first, last, busy)
        options: list[Option] = []
        for firm in firms:
            seats = dict(self.seats(firm, module)) if firm != NEW_FIRM else {}
            if extra is not None and firm == extra_firm:
                for w in range(extra.first_week, extra.last_week + 1):
                    seats[w] = seats.get(w, 0) + extra.seats
            excluded = firm in learner.excluded_firms or (firm, module) in learner.excluded_firm_modules
            at_limit = limit is not None and len(at_firm.get(firm, ())) >= limit
            # Starts whose every week has a seat offered, inside the window.
            offered = 0
            for end in range(first, last + 1):
                offered = offered + 1 if seats.get(end, 0) > 0 else 0
                if offered < duration:
                    continue
                start = end - duration + 1
                i, j = start - first, start - first + duration
                if excluded:
                    stage = ELIGIBILITY
                elif unavailable[j] > unavailable[i]:
                    stage = AVAILABILITY
                elif after is None or start < after or start + duration > until:
                    stage = PRECEDENCE
                elif at_limit:
                    stage = FIRM_LIMIT
                elif taken[j] > taken[i]:
                    stage = OWN_TIME
                else:
                    full = tuple(
                        w for w in range(start, start + duration) if len(self.holders(firm, module, w)) >= seats[w]
                    )
                    if full:
                        options.append(Option(firm, start, SEATS, full))
                        continue
                    stage = FREE
                options.append(Option(firm, start, stage))
        return Funnel(module, tuple(options))

    def needed_blockers(self, learner: Learner, funnel: Funnel) -> list[Assignment]:
        """The learner's own assignments that overlap an option of stage OWN_TIME and that a minimum group
        needs: in some week of theirs the firm and module holds no more learners than its minimum."""
        duration = self.problem.modules[funnel.module_id].duration
        weeks = {w for o in funnel.at(OWN_TIME) for w in range(o.start, o.start + duration)}
        return [
            a
            for a in self.own(learner.id)
            if a.module_id in self.problem.modules
            and any(w in weeks for w in self._weeks_of(a))
            and any(
                (minimum := self.minimum(a.firm_id, a.module_id, w)) > 0
                and len(self.holders(a.firm_id, a.module_id, w)) <= minimum
                for w in self._weeks_of(a)
            )
        ]

    # ---- the checks ------------------------------------------------------------------------------------

    def shortfall(self, sf: Shortfall) -> list[str]:
        """Every claim of the shortfall that is false, one line each; empty when all of it is true."""
        where = f"shortfall {sf.learner_id}/{sf.group_id} ({sf.reason})"
        learner = self.learner(sf.learner_id)
        curriculum = self._curriculum(learner) if learner else None
        group = next((g for g in curriculum.groups if g.id == sf.group_id), None) if curriculum else None
        if learner is None or group is None:
            return [f"{where}: no such learner or group in the problem"]
        done = {a.module_id for a in self.own(learner.id)}
        missing = self._required(learner, group) - sum(1 for m in group.module_ids if m in done)
        false: list[str] = []
        if sf.missing != missing or missing <= 0:
            false.append(f"{where}: says {sf.missing} module(s) missing, the plan leaves {max(missing, 0)}")
        if sf.competing_learners and sf.reason is not ShortfallReason.CONTENTION:
            false.append(f"{where}: names competing learners, but the reason is not contention")
        open_modules = self.open_modules(learner, group)
        if sf.module_id is None:
            if sf.reason is not ShortfallReason.ELIGIBILITY:
                false.append(f"{where}: names no module")
            elif open_modules:
                false.append(f"{where}: says no module of the group is open, but {open_modules[0]} is")
            false.extend(self._suggestions(where, learner, sf, open_modules))
            return false
        if sf.module_id not in open_modules:
            false.append(f"{where}: module {sf.module_id} is not an open module of the group for the learner")
            return false
        funnel = self.funnel(learner, sf.module_id)
        reach = funnel.reach
        if reach not in REACH[sf.reason]:
            false.append(f"{where}: for {sf.module_id} the truth is that {funnel.describe()}")
        elif sf.reason is ShortfallReason.MIN_SEATS and not self.needed_blockers(learner, funnel):
            false.append(
                f"{where}: none of the learner's modules overlapping {sf.module_id} is needed by a minimum group"
            )
        if sf.reason is ShortfallReason.CONTENTION:
            false.extend(self._competitors(where, sf, funnel))
            if not sf.suggestions:
                false.append(f"{where}: names no capacity that would resolve it")
        false.extend(self._suggestions(where, learner, sf, open_modules))
        return false

    def _competitors(self, where: str, sf: Shortfall, funnel: Funnel) -> list[str]:
        if not sf.competing_learners:
            return [f"{where}: names no competing learner"]
        needed: set[str] = set()
        for o in funnel.at(SEATS):
            for w in o.full_weeks:
                needed.update(self.holders(o.firm_id, funnel.module_id, w))
        return [
            f"{where}: {c} holds no seat of {funnel.module_id} in a full week the learner could otherwise take"
            for c in sf.competing_learners
            if c not in needed or c == sf.learner_id
        ]

    def _suggestions(self, where: str, learner: Learner, sf: Shortfall, open_modules: list[str]) -> list[str]:
        false: list[str] = []
        for s in sf.suggestions:
            firm = s.firm_id or "any firm"
            what = f"{s.seats} seat(s) of {s.module_id} at {firm} in weeks {s.first_week}..{s.last_week}"
            if s.seats <= 0 or s.first_week > s.last_week or s.module_id not in open_modules:
                false.append(f"{where}: suggestion {what} cannot help: not an open module or no seats")
            elif self.funnel(learner, s.module_id, extra=s).reach != FREE:
                false.append(f"{where}: suggestion {what} would still leave the learner without a free option")
        return false

    def deficit(self, d: SeatDeficit) -> list[str]:
        """Every claim of the seat deficit that is false, one line each; empty when all of it is true."""
        where = f"deficit {d.firm_id}/{d.module_id} week {d.week}"
        false: list[str] = []
        minimum = self.minimum(d.firm_id, d.module_id, d.week)
        held = len(self.holders(d.firm_id, d.module_id, d.week)) if d.module_id in self.problem.modules else 0
        if d.required != minimum:
            false.append(f"{where}: says the minimum is {d.required}, the offers ask for {minimum}")
        if d.assigned != held:
            false.append(f"{where}: says {d.assigned} learner(s) there, the plan has {held}")
        if held >= minimum:
            false.append(f"{where}: the plan has {held} learner(s), not below the minimum {minimum}")
        return false


def _before(first: int, last: int, weeks: Collection[int]) -> list[int]:
    """counts[i] = how many of `weeks` lie in first .. first + i - 1."""
    counts = [0]
    for w in range(first, last + 1):
        counts.append(counts[-1] + (w in weeks))
    return counts


def false_claims(problem: Problem, assignments: Sequence[Assignment], shortfall: Shortfall) -> list[str]:
    """What the shortfall claims that is not true of the problem and the plan; empty when it is all true."""
    return Evidence(problem, assignments).shortfall(shortfall)


def false_deficit_claims(problem: Problem, assignments: Sequence[Assignment], deficit: SeatDeficit) -> list[str]:
    """What the seat deficit claims that is not true of the problem and the plan; empty when it is all true."""
    return Evidence(problem, assignments).deficit(deficit)


def unproven(
    problem: Problem,
    assignments: Sequence[Assignment],
    shortfalls: Iterable[Shortfall],
    deficits: Iterable[SeatDeficit] = (),
) -> list[str]:
    """Every false claim among the shortfalls and deficits of one plan."""
    evidence = Evidence(problem, assignments)
    return [line for sf in shortfalls for line in evidence.shortfall(sf)] + [
        line for d in deficits for line in evidence.deficit(d)
    ]
