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
The checks work the reach out on ranges of starts, rule by rule and firm counts per start week (`reach`), and
stop at the first stage some option gets to; `funnel` lists the same options one by one, and the property tests
hold both to the same answer.

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
from .seats import Range, intersect_ranges

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
        return describe(self.reach)


def describe(reach: int) -> str:
    """What a module's reach says about the learner's options, in words."""
    return _STAGE_WORDS[reach]


@dataclass(slots=True)
class Evidence:
    """The facts of one plan, indexed lazily, against which claims are checked."""

    problem: Problem
    assignments: Sequence[Assignment]
    # The assignments by learner, each learner's in the order of `assignments`: a caller that holds them so
    # (a repair does) saves the pass over the whole plan.
    _by_learner: Mapping[str, Sequence[Assignment]] | None = None
    _offers_of: dict[str, list[Offer]] | None = None  # module -> its offers
    _seats: dict[tuple[str, str], dict[int, int]] = field(default_factory=dict)  # (firm, module) -> week -> seats
    _minimums: dict[tuple[str, str], dict[int, int]] = field(default_factory=dict)  # the same for min_seats
    _by_cell: dict[tuple[str, str], list[Assignment]] | None = None
    _held: dict[tuple[str, str], dict[int, list[str]]] = field(default_factory=dict)  # week -> holders
    _cell_learners: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)  # holders in any week
    _full: dict[tuple[str, str], frozenset[int]] = field(default_factory=dict)  # weeks with every seat held
    _learners: dict[str, Learner] | None = None
    _standings: dict[str, _Standing] = field(default_factory=dict)  # learner -> what the plan gives it
    _starts_of: dict[str, _Starts] = field(default_factory=dict)  # module -> option starts per firm

    # ---- facts straight from the problem and the plan -------------------------------------------------

    def learner(self, learner_id: str) -> Learner | None:
        if self._learners is None:
            self._learners = {s.id: s for s in self.problem.learners}
        return self._learners.get(learner_id)

    def own(self, learner_id: str) -> Sequence[Assignment]:
        return self.by_learner().get(learner_id, ())

    def by_learner(self) -> Mapping[str, Sequence[Assignment]]:
        """The assignments by learner id, each learner's in plan order."""
        if self._by_learner is None:
            index: dict[str, list[Assignment]] = {}
            for a in self.assignments:
                index.setdefault(a.learner_id, []).append(a)
            self._by_learner = index
        return self._by_learner

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
            weeks = {}
            for a in self._assignments_at(cell):
                for w in self._weeks_of(a):
                    weeks.setdefault(w, []).append(a.learner_id)
            self._held[cell] = weeks
        return weeks.get(week, [])

    def _full_weeks(self, firm: str, module: str) -> frozenset[int]:
        """The weeks in which the plan holds every seat the firm's offers for the module make."""
        cell = (firm, module)
        found = self._full.get(cell)
        if found is None:
            seats = self.seats(firm, module) if firm != NEW_FIRM else {}
            found = self._full[cell] = frozenset(w for w, n in seats.items() if len(self.holders(firm, module, w)) >= n)
        return found

    def _cell_holders(self, firm: str, module: str) -> frozenset[str]:
        """Learners with an assignment of the module at the firm, in any week."""
        cell = (firm, module)
        found = self._cell_learners.get(cell)
        if found is None:
            found = self._cell_learners[cell] = frozenset(a.learner_id for a in self._assignments_at(cell))
        return found

    def _assignments_at(self, cell: tuple[str, str]) -> list[Assignment]:
        if self._by_cell is None:
            self._by_cell = {}
            for a in self.assignments:
                self._by_cell.setdefault((a.firm_id, a.module_id), []).append(a)
        return self._by_cell.get(cell, [])

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
        return self._funnel(learner, module, extra)

    def _funnel(
        self, learner: Learner, module: str, extra: SeatSuggestion | None, only: Collection[str] | None = None
    ) -> Funnel:
        """The options of `funnel`, at the firms in `only` when given."""
        problem = self.problem
        duration = problem.modules[module].duration
        standing = self._standing(learner)
        after, until = self._order(learner, module, standing.placed)
        limit = problem.settings.max_modules_per_firm
        extra_firm = _extra_firm(module, extra)
        firms = sorted({o.firm_id for o in self.offers(module)} | ({extra_firm} if extra_firm else set()))
        # Counts of unavailable and busy weeks before each week of the window, to test a start in one step.
        first, last = learner.first_week, learner.last_week
        unavailable, taken = standing.unavailable, standing.taken
        options: list[Option] = []
        for firm in firms:
            if only is not None and firm not in only:
                continue
            seats = self._seats_with(firm, module, extra if firm == extra_firm else None)
            full_weeks = (
                self._full_weeks(firm, module)
                if extra is None or firm != extra_firm
                else frozenset(w for w, n in seats.items() if len(self.holders(firm, module, w)) >= n)
            )
            excluded = firm in learner.excluded_firms or (firm, module) in learner.excluded_firm_modules
            at_limit = limit is not None and len(standing.at_firm.get(firm, ())) >= limit
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
                    full = tuple(w for w in range(start, start + duration) if w in full_weeks)
                    if full:
                        options.append(Option(firm, start, SEATS, full))
                        continue
                    stage = FREE
                options.append(Option(firm, start, stage))
        return Funnel(module, tuple(options))

    def reach(self, learner: Learner, module: str, extra: SeatSuggestion | None = None) -> int:
        """The reach of `funnel(learner, module, extra)`, worked out on ranges of starts per rule instead of
        option by option, and stopping at the highest stage some option gets to."""
        if self.problem.modules[module].duration < 1:
            return self._funnel(learner, module, extra).reach
        rules = self._rules(learner, module, extra)
        checks: tuple[tuple[int, list[Range], frozenset[str], bool], ...] = (
            (FREE, rules.free, rules.blocked, True),
            (SEATS, rules.free, rules.blocked, False),
            (OWN_TIME, rules.ordered, rules.blocked, False),
            (FIRM_LIMIT, rules.ordered, rules.excluded, False),
            (PRECEDENCE, rules.available, rules.excluded, False),
            (AVAILABILITY, rules.window, rules.excluded, False),
            (ELIGIBILITY, rules.window, frozenset(), False),
        )
        # Each rule narrows the one below it: the first stage some option gets to is the reach.
        return next((stage for stage, starts, blocked, free in checks if rules.any(starts, blocked, free)), NO_OPTION)

    def _rules(self, learner: Learner, module: str, extra: SeatSuggestion | None) -> _Rules:
        problem = self.problem
        duration = problem.modules[module].duration
        standing = self._standing(learner)
        after, until = self._order(learner, module, standing.placed)
        starts = self._starts(module)
        extra_firm = _extra_firm(module, extra)
        extra_starts: tuple[tuple[Range, ...], tuple[Range, ...]] = ((), ())
        if extra_firm is not None:
            seats = self._seats_with(extra_firm, module, extra)
            extra_starts = (
                _start_ranges((w for w, n in seats.items() if n > 0), duration),
                _start_ranges((w for w, n in seats.items() if n > len(self.holders(extra_firm, module, w))), duration),
            )
        # Only firms with options matter: the learner's own lists are short, the firms offering a module many.
        excluded = {f for f in learner.excluded_firms if f in starts.offered or f == extra_firm}
        excluded.update(
            f for f, m in learner.excluded_firm_modules if m == module and (f in starts.offered or f == extra_firm)
        )
        limit = problem.settings.max_modules_per_firm
        blocked = set(excluded)
        if limit is not None:
            blocked.update(
                f for f, ms in standing.at_firm.items() if len(ms) >= limit and (f in starts.offered or f == extra_firm)
            )
        first, last = learner.first_week, learner.last_week
        window = [(first, last - duration + 1)] if last - duration + 1 >= first else []
        available = _start_ranges_of_runs(standing.available, duration)
        order = [(after, until - duration)] if after is not None and after <= until - duration else []
        return _Rules(
            starts=starts,
            window=window,
            available=available,
            ordered=intersect_ranges(available, order),
            free=intersect_ranges(_start_ranges_of_runs(standing.free, duration), order),
            excluded=frozenset(excluded),
            blocked=frozenset(blocked),
            extra_firm=extra_firm,
            extra_offered=extra_starts[0],
            extra_open=extra_starts[1],
        )

    def _order(self, learner: Learner, module: str, placed: Mapping[str, Assignment]) -> tuple[int | None, int]:
        """Precedence for a start: the earliest once every required module has ended (None when one is not
        planned), and the week before which it must end for the planned modules that require it."""
        problem = self.problem
        curriculum = self._curriculum(learner)
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
        return after, until

    def _standing(self, learner: Learner) -> _Standing:
        """What the plan gives the learner, worked out once per learner."""
        standing = self._standings.get(learner.id)
        if standing is not None and standing.learner is learner:
            return standing
        own = self.own(learner.id)
        busy = {w for a in own for w in self._weeks_of(a)}
        at_firm: dict[str, set[str]] = {}
        for a in own:
            at_firm.setdefault(a.firm_id, set()).add(a.module_id)
        first, last = learner.first_week, learner.last_week
        available = [w for w in range(first, last + 1) if w not in learner.unavailable]
        standing = _Standing(
            learner=learner,
            placed={a.module_id: a for a in own},
            at_firm=at_firm,
            available=_runs(available),
            free=_runs(w for w in available if w not in busy),
            unavailable=_before(first, last, learner.unavailable),
            taken=_before(first, last, busy),
        )
        self._standings[learner.id] = standing
        return standing

    def _starts(self, module: str) -> _Starts:
        """The option starts of every firm offering the module; they do not depend on the learner."""
        starts = self._starts_of.get(module)
        if starts is None:
            duration = self.problem.modules[module].duration
            offered: dict[str, tuple[Range, ...]] = {}
            unheld: dict[str, tuple[Range, ...]] = {}
            for firm in sorted({o.firm_id for o in self.offers(module)}):
                seats = self.seats(firm, module)
                offered[firm] = _start_ranges((w for w, n in seats.items() if n > 0), duration)
                unheld[firm] = _start_ranges(
                    (w for w, n in seats.items() if n > len(self.holders(firm, module, w))), duration
                )
            starts = _Starts(offered, unheld, _Tally.of(offered.values()), _Tally.of(unheld.values()))
            self._starts_of[module] = starts
        return starts

    def _seats_with(self, firm: str, module: str, extra: SeatSuggestion | None) -> dict[int, int]:
        """Seats per week at firm for module, with the suggested ones added when `extra` is given."""
        if extra is None:
            return self.seats(firm, module) if firm != NEW_FIRM else {}
        seats = dict(self.seats(firm, module)) if firm != NEW_FIRM else {}
        for w in range(extra.first_week, extra.last_week + 1):
            seats[w] = seats.get(w, 0) + extra.seats
        return seats

    def needed_blockers(self, learner: Learner, funnel: Funnel) -> list[Assignment]:
        """The learner's own assignments that overlap an option of stage OWN_TIME and that a minimum group
        needs: in some week of theirs the firm and module holds no more learners than its minimum."""
        duration = self.problem.modules[funnel.module_id].duration
        weeks = {w for o in funnel.at(OWN_TIME) for w in range(o.start, o.start + duration)}
        return [
            a
            for a in self.own(learner.id)
            if a.module_id in self.problem.modules and any(w in weeks for w in self._weeks_of(a)) and self._needs(a)
        ]

    def _needs(self, a: Assignment) -> bool:
        """A minimum group needs the assignment: in some week of it the firm and module holds no more learners
        than its minimum."""
        return any(
            (minimum := self.minimum(a.firm_id, a.module_id, w)) > 0
            and len(self.holders(a.firm_id, a.module_id, w)) <= minimum
            for w in self._weeks_of(a)
        )

    def _has_needed_blocker(self, learner: Learner, module: str) -> bool:
        """Whether `needed_blockers` of the learner's funnel for the module is not empty, without the funnel:
        an option overlapping one of the learner's planned weeks and keeping the rules before own time is
        an option of stage OWN_TIME."""
        duration = self.problem.modules[module].duration
        if duration < 1:
            return bool(self.needed_blockers(learner, self._funnel(learner, module, None)))
        rules: _Rules | None = None
        for a in self.own(learner.id):
            weeks = self._weeks_of(a)
            if a.module_id not in self.problem.modules or not weeks or not self._needs(a):
                continue
            rules = rules if rules is not None else self._rules(learner, module, None)
            overlapping = intersect_ranges(rules.ordered, [(weeks[0] - duration + 1, weeks[-1])])
            if rules.any(overlapping, rules.blocked, False):
                return True
        return False

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
        reach = self.reach(learner, sf.module_id)
        if reach not in REACH[sf.reason]:
            false.append(f"{where}: for {sf.module_id} the truth is that {describe(reach)}")
        elif sf.reason is ShortfallReason.MIN_SEATS and not self._has_needed_blocker(learner, sf.module_id):
            false.append(
                f"{where}: none of the learner's modules overlapping {sf.module_id} is needed by a minimum group"
            )
        if sf.reason is ShortfallReason.CONTENTION:
            false.extend(self._competitors(where, sf, learner, sf.module_id))
            if not sf.suggestions:
                false.append(f"{where}: names no capacity that would resolve it")
        false.extend(self._suggestions(where, learner, sf, open_modules))
        return false

    def _competitors(self, where: str, sf: Shortfall, learner: Learner, module: str) -> list[str]:
        if not sf.competing_learners:
            return [f"{where}: names no competing learner"]
        # A named learner can only be a holder where it has the module: only those firms' options matter.
        competing = set(sf.competing_learners)
        offering = {o.firm_id for o in self.offers(module)}
        firms = {f for f in offering if not self._cell_holders(f, module).isdisjoint(competing)}
        # Options overlap: each full week's holders are looked up once.
        full: set[tuple[str, int]] = set()
        for o in self._funnel(learner, module, None, only=firms).at(SEATS) if firms else ():
            full.update((o.firm_id, w) for w in o.full_weeks)
        needed: set[str] = set()
        for firm, w in full:
            needed.update(self.holders(firm, module, w))
        return [
            f"{where}: {c} holds no seat of {module} in a full week the learner could otherwise take"
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
            elif self.reach(learner, s.module_id, extra=s) != FREE:
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


@dataclass(frozen=True, slots=True)
class _Standing:
    """What the plan gives one learner, as the rules of an option read it."""

    learner: Learner
    placed: dict[str, Assignment]  # module -> the learner's assignment of it
    at_firm: dict[str, set[str]]  # firm -> the learner's modules there
    available: list[Range]  # runs of weeks inside the window the learner is available
    free: list[Range]  # the same, less the weeks of the learner's planned modules
    unavailable: list[int]  # _before counts of unavailable weeks
    taken: list[int]  # _before counts of weeks of the learner's planned modules


@dataclass(frozen=True, slots=True)
class _Tally:
    """How many firms have an option starting in each week, to count options over a range in one step."""

    first: int
    prefix: list[int]  # prefix[i] = options starting in first .. first + i - 1

    @staticmethod
    def of(per_firm: Iterable[Sequence[Range]]) -> _Tally:
        ranges = [r for rs in per_firm for r in rs]
        if not ranges:
            return _Tally(0, [0])
        first = min(lo for lo, _ in ranges)
        steps = [0] * (max(hi for _, hi in ranges) - first + 2)
        for lo, hi in ranges:
            steps[lo - first] += 1
            steps[hi - first + 1] -= 1
        prefix, running, total = [0], 0, 0
        for step in steps[:-1]:
            running += step
            total += running
            prefix.append(total)
        return _Tally(first, prefix)

    def count(self, lo: int, hi: int) -> int:
        i, j = max(lo - self.first, 0), min(hi - self.first + 1, len(self.prefix) - 1)
        return self.prefix[j] - self.prefix[i] if j > i else 0


@dataclass(frozen=True, slots=True)
class _Starts:
    """The option starts of one module per offering firm, as ranges: with a seat offered in every week
    (`offered`), and with a seat not held by the plan in every week (`open`)."""

    offered: dict[str, tuple[Range, ...]]
    open: dict[str, tuple[Range, ...]]
    offered_tally: _Tally
    open_tally: _Tally


@dataclass(frozen=True, slots=True)
class _Rules:
    """One learner's rules for one module's options as ranges of starts: each narrows the one before."""

    starts: _Starts
    window: list[Range]  # inside the window
    available: list[Range]  # and on available weeks
    ordered: list[Range]  # and keeping precedence
    free: list[Range]  # and clear of the learner's planned weeks
    excluded: frozenset[str]  # firms offering the module the learner may not attend for it
    blocked: frozenset[str]  # those and the firms where the learner is at the per-firm limit
    extra_firm: str | None  # a suggestion's firm, whose starts are the two below instead of the offers'
    extra_offered: tuple[Range, ...]
    extra_open: tuple[Range, ...]

    def any(self, ranges: Sequence[Range], blocked: Collection[str], unheld: bool) -> bool:
        """Whether some firm not in `blocked` has an option (one with a seat not held in every week, when
        `unheld`) starting in `ranges`."""
        if not ranges:
            return False
        if self.extra_firm is not None:
            if self.extra_firm not in blocked and _overlap(self.extra_open if unheld else self.extra_offered, ranges):
                return True
            blocked = {*blocked, self.extra_firm}
        per_firm = self.starts.open if unheld else self.starts.offered
        tally = self.starts.open_tally if unheld else self.starts.offered_tally
        options = sum(tally.count(lo, hi) for lo, hi in ranges)
        options -= sum(_overlap(per_firm[f], ranges) for f in blocked if f in per_firm)
        return options > 0


def _extra_firm(module: str, extra: SeatSuggestion | None) -> str | None:
    if extra is None or extra.module_id != module:
        return None
    return extra.firm_id if extra.firm_id is not None else NEW_FIRM


def _runs(weeks: Iterable[int]) -> list[Range]:
    """Maximal runs of consecutive weeks."""
    runs: list[Range] = []
    for w in sorted(weeks):
        if runs and runs[-1][1] == w - 1:
            runs[-1] = (runs[-1][0], w)
        else:
            runs.append((w, w))
    return runs


def _start_ranges_of_runs(runs: Iterable[Range], duration: int) -> list[Range]:
    """Starts of `duration` consecutive weeks inside the runs."""
    return [(lo, hi - duration + 1) for lo, hi in runs if hi - lo + 1 >= duration]


def _start_ranges(weeks: Iterable[int], duration: int) -> tuple[Range, ...]:
    return tuple(_start_ranges_of_runs(_runs(weeks), duration))


def _overlap(a: Sequence[Range], b: Sequence[Range]) -> int:
    """How many weeks lie in both."""
    return sum(hi - lo + 1 for lo, hi in intersect_ranges(a, b))


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
