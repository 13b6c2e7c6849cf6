"""A plan's weeks below a firm's minimum, as one published payload per firm x module, and what changed since."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from verbund_schemas import (
    MAX_DEFICIT_SPANS,
    SeatDeficitData,
    SeatDeficitDetected,
    SeatDeficitResolved,
    SeatDeficitResolvedData,
)

from ..planning.model import SeatDeficit
from .identities import seat_deficit_id

Payload = dict[str, Any]


@dataclass(frozen=True)
class DeficitChanges:
    """The plan's deficit payloads by id, and which of them to announce against what was published before."""

    current: dict[str, Payload]
    detected: list[str]  # new, or their weeks, counts or names changed: SeatDeficitDetected
    resolved: list[str]  # published before, no week below the minimum now: SeatDeficitResolved

    @property
    def any(self) -> bool:
        return bool(self.detected or self.resolved)


def deficit_payloads(
    network_id: str,
    deficits: Iterable[SeatDeficit],
    *,
    firm_name: Callable[[str], str],
    module_name: Callable[[str], str],
    label: Callable[[int], str],
) -> dict[str, Payload]:
    """One SeatDeficitData (as JSON, without plan_version) per firm x module, its weeks joined into spans.

    A span is a run of consecutive weeks with the same minimum and the same planned count. The payload is
    built as plain data, so comparing it with the stored one costs no validation; it is what the store keeps.
    """
    cells: dict[tuple[str, str], list[SeatDeficit]] = {}
    for d in deficits:
        cells.setdefault((d.firm_id, d.module_id), []).append(d)
    out: dict[str, Payload] = {}
    for (firm_id, module_id), weeks in sorted(cells.items()):
        weeks.sort(key=lambda d: d.week)
        runs: list[list[int]] = []  # [first, last, minimum, planned] as week indices
        for d in weeks:
            last = runs[-1] if runs else None
            if last is not None and last[1] + 1 == d.week and (last[2], last[3]) == (d.required, d.assigned):
                last[1] = d.week
            else:
                runs.append([d.week, d.week, d.required, d.assigned])
        firm, module = firm_name(firm_id), module_name(module_id)
        shown = runs[:MAX_DEFICIT_SPANS]
        spans = [
            {"first_week": label(first), "last_week": label(last), "minimum": minimum, "planned": planned}
            for first, last, minimum, planned in shown
        ]
        missing = sum(d.required - d.assigned for d in weeks)
        deficit_id = seat_deficit_id(network_id, firm_id, module_id)
        out[deficit_id] = {
            "deficit_id": deficit_id,
            "firm_id": firm_id,
            "firm_name": firm,
            "module_id": module_id,
            "module_name": module,
            "spans": spans,
            "spans_omitted": len(runs) - len(shown),
            "missing_learner_weeks": missing,
            "message": _detected_message(firm, module, spans, (label(runs[0][0]), label(runs[-1][1])), missing),
        }
    return out


def changes(current: dict[str, Payload], published: Mapping[str, Payload]) -> DeficitChanges:
    """Which payloads differ from the published ones (by id, in id order), and which published ones are gone."""
    return DeficitChanges(
        current=current,
        detected=sorted(i for i, payload in current.items() if published.get(i) != payload),
        resolved=sorted(set(published) - set(current)),
    )


def detected_event(network_id: str, payload: Payload, plan_version: int, source: str) -> SeatDeficitDetected:
    return SeatDeficitDetected(
        source=source, subject=network_id, data=SeatDeficitData(**payload, plan_version=plan_version)
    )


def resolved_event(network_id: str, announced: Payload, plan_version: int, source: str) -> SeatDeficitResolved:
    """The resolution of a published deficit, named as it was announced (the firm or offer may be gone)."""
    return SeatDeficitResolved(
        source=source,
        subject=network_id,
        data=SeatDeficitResolvedData(
            deficit_id=announced["deficit_id"],
            firm_id=announced["firm_id"],
            firm_name=announced["firm_name"],
            module_id=announced["module_id"],
            module_name=announced["module_name"],
            plan_version=plan_version,
            message=(
                f"{announced['firm_name']}'s offer for {announced['module_name']} is no longer below its minimum "
                "in any week."
            ),
        ),
    )


def _detected_message(firm: str, module: str, spans: list[Payload], between: tuple[str, str], missing: int) -> str:
    advice = "Recruit learners for it or lower the minimum."
    if len(spans) == 1:
        s = spans[0]
        when = s["first_week"] if s["first_week"] == s["last_week"] else f"{s['first_week']}..{s['last_week']}"
        return (
            f"{firm} needs at least {s['minimum']} learner(s) a week for {module} in {when}, but the plan has "
            f"{s['planned']}: the workshop would not run. {advice}"
        )
    return (
        f"{firm}'s offer for {module} is below its minimum in weeks between {between[0]} and {between[1]} "
        f"({missing} learner-weeks missing): the workshop would not run then. {advice}"
    )
