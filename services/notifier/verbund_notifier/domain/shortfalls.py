"""Shortfalls and seat deficits as coordinators are told about them: announced ones and how messages show them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from verbund_schemas import Language

from .names import Names
from .reasons import reason_label, reason_sentence


@dataclass(frozen=True)
class AnnouncedShortfall:
    """A shortfall the coordinators were told about and that is not resolved yet."""

    shortfall_id: str
    network_id: str
    learner_id: str
    learner_name: str
    group_id: str
    module_id: str | None
    reason: str
    message: str = ""
    missing: int = 1


@dataclass(frozen=True)
class AnnouncedDeficit:
    """A firm x module announced with weeks below its minimum group, as last announced."""

    deficit_id: str
    network_id: str
    firm_id: str
    firm_name: str
    module_id: str
    module_name: str
    spans: list[dict[str, Any]] = field(default_factory=list)
    spans_omitted: int = 0
    missing_learner_weeks: int = 0
    plan_version: int = 1


def shortfall_facts(
    names: Names, *, learner_name: str, group_id: str, module_id: str | None, missing: int, reason: str
) -> dict[str, Any]:
    """A shortfall as messages show it: names for the group and module (ids kept for webhooks)."""
    module_name = names.module(module_id) if module_id else None
    group_name = names.group(group_id)
    return {
        "learner_name": learner_name,
        "group_id": group_id,
        "group_name": group_name,
        "module_id": module_id,
        "module_name": module_name,
        "what": module_name or group_name,
        "missing": missing,
        "reason": reason,
    }


def in_language(facts: dict[str, Any], language: Language) -> dict[str, Any]:
    """The shortfall's facts with its reason as a label and a sentence in this language."""
    return {
        **facts,
        "reason_label": reason_label(facts["reason"], language),
        "reason_text": reason_sentence(
            facts["reason"],
            language,
            learner_name=facts["learner_name"],
            group_name=facts["group_name"],
            module_name=facts["module_name"],
        ),
    }


def spans_shown(spans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Deficit spans as templates show them: the weeks, and how many learners are missing in each."""
    return [
        {
            **s,
            "single_week": s["first_week"] == s["last_week"],
            "missing": s["minimum"] - s["planned"],
        }
        for s in spans
    ]
