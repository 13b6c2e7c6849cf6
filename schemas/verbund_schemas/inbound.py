"""Inbound events: what firms, coordinators and their systems tell Verbund about a network."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import Field, model_validator

from .envelope import Contact, Contract, Id, InboundEnvelope
from .weeks import IsoWeek, week_index

# Bounds of the lists an event may carry: far above any real network, low enough that one event stays small.
MAX_MODULES = 500
MAX_GROUPS = 100
MAX_PRECEDENCE = 1000
MAX_FIRMS = 1000
MAX_FIRM_MODULES = 2000
MAX_UNAVAILABLE = 520
# A learner's own scores: a small scale people can choose on, weighed by the learner's w_module / w_firm.
PREFERENCE_BOUND = 10

# ---------------------------------------------------------------- network


class NetworkConfiguredData(Contract):
    name: str = Field(min_length=1, max_length=200)
    notice_period_weeks: int = Field(
        default=4, ge=0, le=52, description="Assignments starting within this many weeks are frozen"
    )
    change_penalty: int = Field(
        default=50, ge=0, description="Objective cost of changing an assignment that was already published"
    )
    max_modules_per_firm: int | None = Field(
        default=None, ge=1, description="Most modules one learner may do at any single firm (none: no limit)"
    )
    coordinators: list[Contact] = Field(default_factory=list, max_length=50)
    region: str | None = Field(default=None, max_length=200)
    # Added within version 1: optional, and without them the matcher's defaults apply.
    week_horizon_years_back: int | None = Field(
        default=None,
        ge=0,
        le=50,
        description="Events may name weeks this many years before today (none: VERBUND_WEEK_HORIZON_YEARS_BACK)",
    )
    week_horizon_years_ahead: int | None = Field(
        default=None,
        ge=1,
        le=50,
        description="Events may name weeks this many years after today (none: VERBUND_WEEK_HORIZON_YEARS_AHEAD)",
    )
    # Added within version 1 as well: a producer that leaves it out keeps learners until they are erased by hand.
    retention_months: int | None = Field(
        default=None,
        ge=1,
        le=240,
        description="Months after the end of a learner's last week that their personal data is kept; then the "
        "matcher erases them (LearnerErased), as `verbund learner erase` does (none: kept until erased by hand)",
    )


class NetworkConfigured(InboundEnvelope):
    """A network is created or its policy changes (the whole policy, replacing the previous one)."""

    EVENT_TYPE: ClassVar[str] = "NetworkConfigured"
    type: Literal["NetworkConfigured"] = "NetworkConfigured"
    data: NetworkConfiguredData


# ---------------------------------------------------------------- curriculum


class Module(Contract):
    """A training phase (Ausbildungsabschnitt / Einsatz)."""

    module_id: Id
    name: str = Field(min_length=1, max_length=200)
    duration_weeks: int = Field(ge=1, le=156)
    priority: int = Field(default=0, description="Network priority: added to the objective for every assignment")


class RequirementGroup(Contract):
    """Modules of which a learner must complete exactly `required` (compulsory phases, electives)."""

    group_id: Id
    name: str = Field(min_length=1, max_length=200)
    module_ids: list[Id] = Field(min_length=1, max_length=MAX_MODULES)
    required: int = Field(ge=0, description="Default count; a learner's registration may state another")


class Precedence(Contract):
    """If `module_id` is assigned, `requires` must be assigned too and end before it starts."""

    module_id: Id
    requires: Id


class CurriculumPublishedData(Contract):
    curriculum_id: Id
    name: str = Field(min_length=1, max_length=200)
    modules: list[Module] = Field(min_length=1, max_length=MAX_MODULES)
    groups: list[RequirementGroup] = Field(min_length=1, max_length=MAX_GROUPS)
    precedence: list[Precedence] = Field(default_factory=list, max_length=MAX_PRECEDENCE)

    @model_validator(mode="after")
    def _consistent(self) -> CurriculumPublishedData:
        ids = [m.module_id for m in self.modules]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"module ids appear more than once: {', '.join(dupes)}")
        known = set(ids)
        for g in self.groups:
            unknown = [m for m in g.module_ids if m not in known]
            if unknown:
                raise ValueError(f"group {g.group_id!r} names unknown modules: {', '.join(unknown)}")
            if g.required > len(g.module_ids):
                raise ValueError(
                    f"group {g.group_id!r} requires {g.required} modules but lists only {len(g.module_ids)}"
                )
        for p in self.precedence:
            for m in (p.module_id, p.requires):
                if m not in known:
                    raise ValueError(f"precedence names unknown module {m!r}")
            if p.module_id == p.requires:
                raise ValueError(f"module {p.module_id!r} cannot require itself")
        return self


class CurriculumPublished(InboundEnvelope):
    """A curriculum (Ausbildungsrahmenplan) is published or replaced."""

    EVENT_TYPE: ClassVar[str] = "CurriculumPublished"
    type: Literal["CurriculumPublished"] = "CurriculumPublished"
    data: CurriculumPublishedData


# ---------------------------------------------------------------- firms


class Location(Contract):
    street: str | None = Field(default=None, max_length=200)
    postcode: str | None = Field(default=None, max_length=16)
    city: str = Field(min_length=1, max_length=200)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


class FirmData(Contract):
    firm_id: Id
    name: str = Field(min_length=1, max_length=200)
    location: Location
    training_contact: Contact | None = None


class FirmRegistered(InboundEnvelope):
    """A partner firm joins the network."""

    EVENT_TYPE: ClassVar[str] = "FirmRegistered"
    type: Literal["FirmRegistered"] = "FirmRegistered"
    data: FirmData


class FirmUpdated(InboundEnvelope):
    """A partner firm's details change (the whole record, replacing the previous one)."""

    EVENT_TYPE: ClassVar[str] = "FirmUpdated"
    type: Literal["FirmUpdated"] = "FirmUpdated"
    data: FirmData


class FirmLeftData(Contract):
    firm_id: Id
    reason: str = Field(default="", max_length=500)


class FirmLeft(InboundEnvelope):
    """A partner firm leaves the network; its offers end with it."""

    EVENT_TYPE: ClassVar[str] = "FirmLeft"
    type: Literal["FirmLeft"] = "FirmLeft"
    data: FirmLeftData


# ---------------------------------------------------------------- capacity


class CapacityOfferedData(Contract):
    offer_id: Id
    firm_id: Id
    module_id: Id
    first_week: IsoWeek
    last_week: IsoWeek
    max_seats: int = Field(ge=1, le=10_000, description="Most learners per week")
    min_seats: int = Field(
        default=0, ge=0, description="Fewest learners per week (a workshop that only runs with a group)"
    )

    @model_validator(mode="after")
    def _sane(self) -> CapacityOfferedData:
        if week_index(self.last_week, self.first_week) < 0:
            raise ValueError(f"last_week {self.last_week} is before first_week {self.first_week}")
        if self.min_seats > self.max_seats:
            raise ValueError(f"min_seats {self.min_seats} is more than max_seats {self.max_seats}")
        return self


class CapacityOffered(InboundEnvelope):
    """A firm offers seats for a module over a span of weeks."""

    EVENT_TYPE: ClassVar[str] = "CapacityOffered"
    type: Literal["CapacityOffered"] = "CapacityOffered"
    data: CapacityOfferedData


class CapacityChangedData(Contract):
    """Only the fields given change; the others keep their values."""

    offer_id: Id
    first_week: IsoWeek | None = None
    last_week: IsoWeek | None = None
    max_seats: int | None = Field(default=None, ge=1, le=10_000)
    min_seats: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _something(self) -> CapacityChangedData:
        if all(v is None for v in (self.first_week, self.last_week, self.max_seats, self.min_seats)):
            raise ValueError("CapacityChanged changes nothing: give first_week, last_week, max_seats or min_seats")
        return self


class CapacityChanged(InboundEnvelope):
    EVENT_TYPE: ClassVar[str] = "CapacityChanged"
    type: Literal["CapacityChanged"] = "CapacityChanged"
    data: CapacityChangedData


class CapacityWithdrawnData(Contract):
    offer_id: Id
    reason: str = Field(default="", max_length=500)


class CapacityWithdrawn(InboundEnvelope):
    EVENT_TYPE: ClassVar[str] = "CapacityWithdrawn"
    type: Literal["CapacityWithdrawn"] = "CapacityWithdrawn"
    data: CapacityWithdrawnData


# ---------------------------------------------------------------- learners


class WeekSpan(Contract):
    first_week: IsoWeek
    last_week: IsoWeek
    label: str = Field(default="", max_length=200, description="e.g. Berufsschule, Urlaub")

    @model_validator(mode="after")
    def _ordered(self) -> WeekSpan:
        if week_index(self.last_week, self.first_week) < 0:
            raise ValueError(f"last_week {self.last_week} is before first_week {self.first_week}")
        return self


class FirmModule(Contract):
    firm_id: Id
    module_id: Id


class Weights(Contract):
    """How much this learner's plan values each term of the objective (see docs/planning.md)."""

    module: int = Field(default=1, ge=0, le=100)
    firm: int = Field(default=1, ge=0, le=100)
    change: int = Field(default=-1, ge=-100, le=100, description="Per change of firm; usually <= 0")
    idle: int = Field(default=-1, ge=-100, le=100, description="Per idle week; usually <= 0")


class LearnerData(Contract):
    learner_id: Id
    name: str = Field(min_length=1, max_length=200)
    contact: Contact
    curriculum_id: Id
    home_firm_id: Id | None = Field(default=None, description="Stammbetrieb: the firm holding the contract")
    first_week: IsoWeek
    last_week: IsoWeek
    required_counts: dict[Id, int] = Field(
        default_factory=dict,
        max_length=MAX_GROUPS,
        description="Per requirement group: how many modules; default from curriculum",
    )
    allowed_modules: list[Id] | None = Field(
        default=None, max_length=MAX_MODULES, description="Default: every module of the curriculum"
    )
    unavailable: list[WeekSpan] = Field(
        default_factory=list, max_length=MAX_UNAVAILABLE, description="School blocks, holidays"
    )
    excluded_firms: list[Id] = Field(default_factory=list, max_length=MAX_FIRMS)
    excluded_firm_modules: list[FirmModule] = Field(default_factory=list, max_length=MAX_FIRM_MODULES)
    module_preferences: dict[Id, int] = Field(default_factory=dict, max_length=MAX_MODULES)
    firm_preferences: dict[Id, int] = Field(default_factory=dict, max_length=MAX_FIRMS)
    weights: Weights = Field(default_factory=Weights)

    @model_validator(mode="after")
    def _window(self) -> LearnerData:
        if week_index(self.last_week, self.first_week) < 0:
            raise ValueError(f"last_week {self.last_week} is before first_week {self.first_week}")
        for group, count in self.required_counts.items():
            if count < 0:
                raise ValueError(f"required_counts[{group!r}] is negative")
        return self


class LearnerRegistered(InboundEnvelope):
    """A learner (apprentice, adult re-qualifier) joins with a curriculum."""

    EVENT_TYPE: ClassVar[str] = "LearnerRegistered"
    type: Literal["LearnerRegistered"] = "LearnerRegistered"
    data: LearnerData


class LearnerUpdated(InboundEnvelope):
    """A learner's registration changes (the whole record, replacing the previous one)."""

    EVENT_TYPE: ClassVar[str] = "LearnerUpdated"
    type: Literal["LearnerUpdated"] = "LearnerUpdated"
    data: LearnerData


class LearnerWithdrawnData(Contract):
    learner_id: Id
    reason: str = Field(default="", max_length=500)


class LearnerWithdrawn(InboundEnvelope):
    EVENT_TYPE: ClassVar[str] = "LearnerWithdrawn"
    type: Literal["LearnerWithdrawn"] = "LearnerWithdrawn"
    data: LearnerWithdrawnData


class LearnerErasedData(Contract):
    learner_id: Id


class LearnerErased(InboundEnvelope):
    """A learner's personal data is to be erased (GDPR Art. 17): their key is destroyed, every service forgets them.

    It carries no reason and no name on purpose: the event itself stays on the log after the erasure.
    """

    EVENT_TYPE: ClassVar[str] = "LearnerErased"
    type: Literal["LearnerErased"] = "LearnerErased"
    data: LearnerErasedData


class ContactErasedData(Contract):
    """Whose contact: a firm's training contact person (`firm_id`), or without it the network's coordinators."""

    firm_id: Id | None = None


class ContactErased(InboundEnvelope):
    """A firm's training contact or the network's coordinators are to be erased: their key is destroyed.

    The firm itself, and the network, stay; a contact sent later is sealed under a new key. It carries no name.
    """

    EVENT_TYPE: ClassVar[str] = "ContactErased"
    type: Literal["ContactErased"] = "ContactErased"
    data: ContactErasedData

    @property
    def holder(self) -> str:
        """The key holder erased (as `verbund_schemas.personal` names them)."""
        return f"firm:{self.data.firm_id}" if self.data.firm_id is not None else "network"


class LearnerPreferencesStatedData(Contract):
    """The learner's own say: how much they like each module and firm (replacing what they stated before)."""

    learner_id: Id
    module_preferences: dict[Id, int] = Field(default_factory=dict, max_length=MAX_MODULES)
    firm_preferences: dict[Id, int] = Field(default_factory=dict, max_length=MAX_FIRMS)

    @model_validator(mode="after")
    def _bounded(self) -> LearnerPreferencesStatedData:
        for kind, scores in (("module", self.module_preferences), ("firm", self.firm_preferences)):
            for key, score in scores.items():
                if not -PREFERENCE_BOUND <= score <= PREFERENCE_BOUND:
                    raise ValueError(
                        f"{kind} preference for {key!r} is {score}; give a score from {-PREFERENCE_BOUND} to "
                        f"{PREFERENCE_BOUND}"
                    )
        return self


class LearnerPreferencesStated(InboundEnvelope):
    """A learner states their preferences for modules and firms; phases not yet frozen are planned with them."""

    EVENT_TYPE: ClassVar[str] = "LearnerPreferencesStated"
    type: Literal["LearnerPreferencesStated"] = "LearnerPreferencesStated"
    data: LearnerPreferencesStatedData


# ---------------------------------------------------------------- placements


class Answer(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"


class PlacementAnsweredData(Contract):
    """A firm's answer to one planned placement (an assignment of the published plan), named as the plan names it."""

    learner_id: Id
    module_id: Id
    firm_id: Id
    start_week: IsoWeek = Field(description="The placement's first week, as the assignment states it")
    answer: Answer
    reason: str = Field(
        default="", max_length=500, description="Why; shown to the coordinators (and required for a decline)"
    )

    @model_validator(mode="after")
    def _declined_with_reason(self) -> PlacementAnsweredData:
        if self.answer is Answer.DECLINED and not self.reason.strip():
            raise ValueError("a declined placement needs a reason: say why the firm cannot take this learner")
        return self


class PlacementAnswered(InboundEnvelope):
    """A firm accepts or declines a planned placement; a decline excludes the learner × firm × module for good."""

    EVENT_TYPE: ClassVar[str] = "PlacementAnswered"
    type: Literal["PlacementAnswered"] = "PlacementAnswered"
    data: PlacementAnsweredData
