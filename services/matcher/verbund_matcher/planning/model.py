"""The planning model: a Problem goes in, a Plan comes out. Plain data, week indices, no I/O."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from .construct import SearchMemo
    from .seats import SeatTable


@dataclass(frozen=True, slots=True)
class Module:
    """A training phase; it occupies `duration` consecutive weeks."""

    id: str
    name: str
    duration: int
    priority: int = 0


@dataclass(frozen=True, slots=True)
class Group:
    """A requirement group: a learner does exactly `required[group]` of these modules (see Learner)."""

    id: str
    module_ids: tuple[str, ...]
    default_required: int = 0


@dataclass(frozen=True, slots=True)
class Curriculum:
    id: str
    module_ids: tuple[str, ...]
    groups: tuple[Group, ...]
    # (module, requires): if module is assigned, requires is assigned too and ends before module starts.
    precedence: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Firm:
    id: str
    name: str
    location: str = ""


@dataclass(frozen=True, slots=True)
class Offer:
    """Seats at a firm for a module, per week, in weeks first_week..last_week (inclusive)."""

    id: str
    firm_id: str
    module_id: str
    first_week: int
    last_week: int
    max_seats: int
    min_seats: int = 0


@dataclass(frozen=True, slots=True)
class Weights:
    module: int = 1
    firm: int = 1
    change: int = -1
    idle: int = -1


@dataclass(frozen=True, slots=True)
class Learner:
    id: str
    name: str
    curriculum_id: str
    first_week: int  # training window, inclusive
    last_week: int
    required: Mapping[str, int]  # group id -> exact number of modules from that group
    allowed_modules: frozenset[str]
    unavailable: frozenset[int] = frozenset()  # week indices: school blocks, holidays
    excluded_firms: frozenset[str] = frozenset()
    excluded_firm_modules: frozenset[tuple[str, str]] = frozenset()  # (firm, module)
    module_pref: Mapping[str, int] = field(default_factory=dict)
    firm_pref: Mapping[str, int] = field(default_factory=dict)
    weights: Weights = Weights()
    home_firm_id: str | None = None


class Assignment(NamedTuple):
    """Learner does module at firm in weeks start .. start + duration - 1.

    A tuple rather than a dataclass: plans are compared and indexed as sets of thousands of these, and a
    tuple hashes and compares in C.
    """

    learner_id: str
    module_id: str
    firm_id: str
    start: int


@dataclass(frozen=True, slots=True)
class Settings:
    notice_period: int = 4  # weeks; assignments starting before current_week + notice_period are frozen
    change_penalty: int = 50  # objective cost per previously published assignment that moves or goes
    max_modules_per_firm: int | None = None
    current_week: int = 0  # week index of "now": assignments starting before it have started


@dataclass(frozen=True, slots=True)
class Problem:
    """Everything the planner needs about one network. Week 0 is the week starting `origin` (a Monday)."""

    settings: Settings
    modules: Mapping[str, Module]
    curricula: Mapping[str, Curriculum]
    firms: Mapping[str, Firm]
    offers: tuple[Offer, ...]
    learners: tuple[Learner, ...]
    previous: tuple[Assignment, ...] = ()  # the published plan; changing it costs change_penalty
    frozen: tuple[Assignment, ...] = ()  # must stay exactly as they are (a subset of previous, usually)
    origin: dt.date = dt.date(2027, 1, 4)
    network_id: str = ""


class ShortfallReason(StrEnum):
    NO_OFFER = "no_offer"
    ELIGIBILITY = "eligibility"
    AVAILABILITY = "availability"
    PRECEDENCE = "precedence"
    CONTENTION = "contention"
    FIRM_LIMIT = "firm_limit"
    MIN_SEATS = "min_seats"


@dataclass(frozen=True, slots=True)
class SeatSuggestion:
    """Extra seats that would resolve a shortfall: at firm (None: any) for module, weeks first..last."""

    module_id: str
    first_week: int
    last_week: int
    seats: int
    firm_id: str | None = None


@dataclass(frozen=True, slots=True)
class Shortfall:
    """A requirement the plan leaves unmet, with its reason and a sentence a coordinator understands."""

    learner_id: str
    group_id: str
    missing: int
    reason: ShortfallReason
    message: str
    module_id: str | None = None
    competing_learners: tuple[str, ...] = ()
    suggestions: tuple[SeatSuggestion, ...] = ()


@dataclass(frozen=True, slots=True)
class SeatDeficit:
    """A week in which fewer learners are at firm x module than its offers' min_seats demand.

    A plan only carries deficits when no plan the solver found meets every minimum; the validator accepts a
    minimum-seat violation only when the plan declares it here.
    """

    firm_id: str
    module_id: str
    week: int
    required: int
    assigned: int


@dataclass(frozen=True, slots=True)
class Moves:
    """How a plan's assignments differ from `base`, an earlier plan's assignments (that very tuple)."""

    base: tuple[Assignment, ...]
    dropped: frozenset[Assignment]  # in base, not in the plan
    added: frozenset[Assignment]  # in the plan, not in base


@dataclass(frozen=True, slots=True)
class Plan:
    assignments: tuple[Assignment, ...]
    sat: Mapping[str, int]  # learner id -> sat(s)
    objective: int
    bound: int | None = None  # best proven upper bound on the objective, if the solver has one
    shortfalls: tuple[Shortfall, ...] = ()
    solver: str = ""
    seconds: float = 0.0
    status: str = ""  # optimal, feasible, partial, ...
    moved: int = 0  # learners whose assignments differ from Problem.previous
    deficits: tuple[SeatDeficit, ...] = ()  # min-seat weeks the plan cannot fill (status "infeasible")
    # Each learner's share of `bound` (repair re-uses those of learners nothing relevant changed for).
    learner_bounds: Mapping[str, int] = field(default_factory=dict)
    # Learners per (firm id, module id) and week under this plan, when the planner kept count (repair re-uses it).
    seats_used: Mapping[tuple[str, str], Mapping[int, int]] = field(default_factory=dict)
    # The seats the problem's offers make, as the planner tabled them: the next repair re-uses the table (and the
    # runs of offered weeks it has worked out) while the offers stay the same. Read only once built.
    seat_table: SeatTable | None = field(default=None, compare=False, repr=False)
    # Seconds per phase of the solve that made the plan (construct, feasibility, search, top_up, explain, ...),
    # in the order they ran: where the time limit went.
    phases: Mapping[str, float] = field(default_factory=dict, compare=False)
    # Every learner with an unmet requirement had no free seat left for it in weeks it has free when the plan was
    # made (set by the newcomers-only repair): while seats only fill up, trying them again finds nothing.
    gaps_settled: bool = field(default=False, compare=False)
    # Newcomers' searches remembered along a chain of newcomer-only repairs (a construct.SearchMemo) and the
    # ledger's tokens for this plan's seats (SeatLedger.tokens): the next such repair picks both up.
    search_memo: SearchMemo | None = field(default=None, compare=False, repr=False)
    seat_tokens: Mapping[tuple[str, str], int] = field(default_factory=dict, compare=False, repr=False)
    # Set by a repair that knows it (newcomers only): the difference to the plan it started from, so that whoever
    # compares the two (the published plan is that very tuple) need not hash every assignment of both.
    moves: Moves | None = field(default=None, compare=False, repr=False)


def same_frame(a: Problem, b: Problem) -> bool:
    """True when two problems share everything network-wide but offers, learners and plans: the calendar, the
    settings, modules, curricula and firms (what earlier results of one can be re-used for in the other)."""
    return (
        a.settings == b.settings
        and a.origin == b.origin
        and a.modules == b.modules
        and a.curricula == b.curricula
        and a.firms == b.firms
    )
