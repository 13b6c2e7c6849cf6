"""The plan file `verbund plan` writes and `--previous` reads: pydantic models, validated on read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from verbund_schemas.catalog import describe_validation_error

PLAN_FORMAT: Literal["verbund-plan"] = "verbund-plan"
PLAN_FORMAT_VERSION: Literal[1] = 1


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
    module_id: str | None = None
    missing: int = Field(ge=1)
    reason: str
    message: str
    competing_learners: list[str] = Field(default_factory=list)
    suggestions: list[PlannedSuggestion] = Field(default_factory=list)


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
        default_factory=list, description="What the independent validator found wrong (empty for a sound plan)"
    )


class PlanFile(PlanFileModel):
    """Everything `verbund plan` wrote: one NetworkPlan per network in the events file."""

    format: Literal["verbund-plan"] = PLAN_FORMAT
    version: Literal[1] = PLAN_FORMAT_VERSION
    created: dt.datetime
    events_file: str
    today: dt.date
    networks: list[NetworkPlan] = Field(default_factory=list)

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
