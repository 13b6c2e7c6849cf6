"""The plan file `verbund plan` writes and `--previous` reads: pydantic models, validated on read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from verbund_schemas.catalog import describe_validation_error

PLAN_FORMAT: Literal["verbund-plan"] = "verbund-plan"
# Version 2 added the verdict (`complete`), seat deficits and rejected events. Version 1 files are still read
# (as `--previous`); their verdict is null because they did not record deficits.
PLAN_FORMAT_VERSION: Literal[2] = 2


class PlanFileModel(BaseModel):
    """Base of every part of the plan file: unknown fields are errors, so a hand-edited typo is caught."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PlannedAssignment(PlanFileModel):
    """One phase of a learner's rotation, in week indices, ISO weeks and dates (all inclusive)."""

    learner_id: str
    learner_name: str
    module_id: str
    module_name: str
    firm_id: str
    firm_name: str
    start_index: int = Field(description="Week index of the first week (week 0 is the network's origin)")
    end_index: int = Field(description="Week index of the last week")
    start_week: str = Field(pattern=r"^\d{4}-W\d{2}$")
    end_week: str = Field(pattern=r"^\d{4}-W\d{2}$")
    start_date: dt.date = Field(description="Monday of start_week")
    end_date: dt.date = Field(description="Sunday of end_week")
    frozen: bool = Field(default=False, description="Started or within the notice period: kept as it was")


class PlannedSuggestion(PlanFileModel):
    """Extra seats that would resolve a shortfall (firm None: any firm)."""

    module_id: str
    firm_id: str | None = None
    first_index: int
    last_index: int
    first_week: str
    last_week: str
    seats: int = Field(ge=1)


class PlannedShortfall(PlanFileModel):
    """A requirement the plan leaves unmet, with its reason code and a sentence a coordinator understands."""

    learner_id: str
    learner_name: str
    group_id: str
    module_id: str | None = Field(default=None, description="The module the reason is about")
    module_name: str | None = None
    missing: int = Field(ge=1, description="Modules of the group the plan does not place")
    reason: str
    message: str
    competing_learners: list[str] = Field(default_factory=list)
    suggestions: list[PlannedSuggestion] = Field(default_factory=list)


class PlannedDeficit(PlanFileModel):
    """Consecutive weeks in which a firm x module has fewer learners than its minimum, the same in each week.

    A workshop below its minimum group does not run, so every such span breaks a hard rule of the plan.
    """

    firm_id: str
    firm_name: str
    module_id: str
    module_name: str
    first_index: int = Field(description="Week index of the first week of the span")
    last_index: int = Field(description="Week index of the last week of the span")
    first_week: str = Field(pattern=r"^\d{4}-W\d{2}$")
    last_week: str = Field(pattern=r"^\d{4}-W\d{2}$")
    weeks: int = Field(ge=1, description="Weeks in the span")
    minimum: int = Field(ge=1, description="Learners the offers require in each week (min_seats, summed)")
    planned: int = Field(ge=0, description="Learners the plan puts there in each week")
    missing: int = Field(ge=1, description="Learners missing in each week: minimum - planned")
    missing_learner_weeks: int = Field(ge=1, description="weeks x missing")

    @model_validator(mode="after")
    def _counts_agree(self) -> PlannedDeficit:
        if self.weeks != self.last_index - self.first_index + 1:
            raise ValueError(f"weeks is {self.weeks}, but the span has {self.last_index - self.first_index + 1}")
        if self.missing != self.minimum - self.planned:
            raise ValueError(f"missing is {self.missing}, but minimum - planned is {self.minimum - self.planned}")
        if self.missing_learner_weeks != self.weeks * self.missing:
            raise ValueError(
                f"missing_learner_weeks is {self.missing_learner_weeks}, but weeks x missing is "
                f"{self.weeks * self.missing}"
            )
        return self


class NetworkPlan(PlanFileModel):
    """The plan for one network and how it was found."""

    network_id: str
    name: str
    origin_week: str = Field(description="ISO week of week index 0")
    origin: dt.date = Field(description="Monday of week index 0")
    learners: int = Field(ge=0)
    firms: int = Field(ge=0)
    offers: int = Field(ge=0)
    solver: str
    status: str
    seconds: float = Field(ge=0)
    objective: int
    bound: int | None = None
    gap_percent: float | None = Field(default=None, description="(bound - objective) / |bound| · 100")
    moved: int = Field(default=0, ge=0, description="Learners whose assignments differ from --previous")
    sat: dict[str, int] = Field(default_factory=dict, description="Per learner: sat(s) of the objective")
    assignments: list[PlannedAssignment] = Field(default_factory=list)
    shortfalls: list[PlannedShortfall] = Field(default_factory=list)
    violations: list[str] = Field(
        default_factory=list,
        description="Rules the independent validator finds broken that the plan does not declare (a planner defect)",
    )
    complete: bool | None = Field(
        default=None,
        description="True when the plan meets every hard rule: no deficit, no unplaced requirement, no violation "
        "(null only in version 1 files)",
    )
    deficits: list[PlannedDeficit] = Field(default_factory=list)
    missing_learner_weeks: int = Field(default=0, ge=0, description="Sum over the deficits")
    unplaced_modules: int = Field(default=0, ge=0, description="Sum of `missing` over the shortfalls")

    @model_validator(mode="after")
    def _verdict_agrees(self) -> NetworkPlan:
        # Redundant on purpose (scripts read the verdict alone), so it must never contradict the lists.
        if self.complete is None:
            return self
        breaks = bool(self.deficits or self.shortfalls or self.violations)
        if self.complete == breaks:
            raise ValueError(
                f"network {self.network_id}: complete is {str(self.complete).lower()}, but the plan has "
                f"{len(self.deficits)} deficits, {len(self.shortfalls)} shortfalls and {len(self.violations)} "
                "violations"
            )
        if self.missing_learner_weeks != sum(d.missing_learner_weeks for d in self.deficits):
            raise ValueError(f"network {self.network_id}: missing_learner_weeks is not the sum over its deficits")
        if self.unplaced_modules != sum(s.missing for s in self.shortfalls):
            raise ValueError(f"network {self.network_id}: unplaced_modules is not the sum over its shortfalls")
        return self


class RejectedEvent(PlanFileModel):
    """An event the network's state refused (left out, as the matcher would); the rest was planned."""

    line: int = Field(ge=1, description="Line of the events file")
    message: str


class PlanFile(PlanFileModel):
    """Everything `verbund plan` wrote: one NetworkPlan per network in the events file."""

    format: Literal["verbund-plan"] = PLAN_FORMAT
    version: Literal[1, 2] = PLAN_FORMAT_VERSION
    created: dt.datetime
    events_file: str
    today: dt.date
    complete: bool | None = Field(
        default=None,
        description="True when every network's plan meets every hard rule (null only in version 1 files)",
    )
    missing_learner_weeks: int = Field(default=0, ge=0, description="Sum over every network's deficits")
    unplaced_modules: int = Field(default=0, ge=0, description="Sum over every network's shortfalls")
    rejected_events: list[RejectedEvent] = Field(default_factory=list)
    networks: list[NetworkPlan] = Field(default_factory=list)

    @model_validator(mode="after")
    def _verdict_agrees(self) -> PlanFile:
        if self.version == 1:
            if self.complete is not None or any(n.complete is not None for n in self.networks):
                raise ValueError("a version 1 plan file has no verdict; `complete` needs version 2")
            return self
        if self.complete is None or any(n.complete is None for n in self.networks):
            raise ValueError("a version 2 plan file states `complete` for the file and for every network")
        if self.complete != all(n.complete for n in self.networks):
            raise ValueError(f"complete is {str(self.complete).lower()}, which its networks contradict")
        if self.missing_learner_weeks != sum(n.missing_learner_weeks for n in self.networks):
            raise ValueError("missing_learner_weeks is not the sum over the networks")
        if self.unplaced_modules != sum(n.unplaced_modules for n in self.networks):
            raise ValueError("unplaced_modules is not the sum over the networks")
        return self

    @classmethod
    def of(
        cls,
        networks: list[NetworkPlan],
        *,
        created: dt.datetime,
        events_file: str,
        today: dt.date,
        rejected_events: list[RejectedEvent] | None = None,
    ) -> PlanFile:
        """A current-version plan file whose file-wide verdict is worked out from its networks."""
        return cls(
            created=created,
            events_file=events_file,
            today=today,
            complete=all(n.complete for n in networks),
            missing_learner_weeks=sum(n.missing_learner_weeks for n in networks),
            unplaced_modules=sum(n.unplaced_modules for n in networks),
            rejected_events=rejected_events or [],
            networks=networks,
        )

    def network(self, network_id: str) -> NetworkPlan | None:
        return next((n for n in self.networks if n.network_id == network_id), None)


class PlanFileError(ValueError):
    """A plan file that cannot be read; the message says which file and what is wrong."""


def gap_percent(objective: int, bound: int | None) -> float | None:
    """Relative distance to the proven bound, in percent; None without a bound."""
    if bound is None:
        return None
    if bound == objective:
        return 0.0
    return round(100.0 * (bound - objective) / max(abs(bound), 1), 3)


def write_plan_file(plan: PlanFile, path: Path) -> None:
    path.write_text(plan.model_dump_json(indent=2) + "\n", encoding="utf-8")


def read_plan_file(path: Path) -> PlanFile:
    """Read and validate a plan file, or raise PlanFileError naming every problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanFileError(f"cannot read plan file {path}: {exc.strerror or exc}") from exc
    try:
        return PlanFile.model_validate_json(text)
    except ValidationError as exc:
        problems = "\n".join(f"  - {line}" for line in describe_validation_error(exc))
        raise PlanFileError(
            f"{path} is not a plan file written by `verbund plan`:\n{problems}\n"
            "Write it again with `verbund plan EVENTS.jsonl -o PLAN.json`."
        ) from exc
