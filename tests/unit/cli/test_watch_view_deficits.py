"""`verbund watch` shows weeks below a firm's minimum, their resolution, and whether a plan is complete."""

from __future__ import annotations

from typing import Any

from verbund_schemas import load_event

from verbund.watch_view import row_for

AT = "2027-01-04T09:15:30Z"
NAMES = {"firm_id": "F-AC", "firm_name": "Kunststofftechnik Aachen", "module_id": "M-CNC", "module_name": "CNC"}


def _row(kind: str, data: dict[str, Any]) -> Any:
    row = row_for(load_event({"type": kind, "id": f"{kind}-1", "subject": "kunststoff-west", "time": AT, "data": data}))
    assert row is not None
    return row


def test_a_deficit_names_firm_module_and_each_span_with_planned_and_minimum() -> None:
    row = _row(
        "SeatDeficitDetected",
        {
            **NAMES,
            "deficit_id": "kunststoff-west:F-AC:M-CNC",
            "spans": [
                {"first_week": "2027-W10", "last_week": "2027-W12", "minimum": 3, "planned": 1},
                {"first_week": "2027-W14", "last_week": "2027-W14", "minimum": 3, "planned": 2},
            ],
            "missing_learner_weeks": 7,
            "message": "below",
            "plan_version": 4,
        },
    )
    assert (row.firm, row.module, row.weeks) == ("Kunststofftechnik Aachen (F-AC)", "CNC (M-CNC)", "2027-W10..2027-W14")
    assert "2027-W10..2027-W12 planned 1 of min 3; 2027-W14 planned 2 of min 3" in row.detail
    assert "7 learner-weeks missing, plan v4" in row.detail
    assert row.style == "bold red"
    assert "SeatDeficitDetected network=kunststoff-west" in row.plain()


def test_a_resolved_deficit_says_so_in_green() -> None:
    row = _row(
        "SeatDeficitResolved",
        {**NAMES, "deficit_id": "kunststoff-west:F-AC:M-CNC", "plan_version": 5, "message": "no longer below"},
    )
    assert row.detail == "no longer below (plan v5)" and row.style == "green"


def test_a_plan_with_deficits_is_shown_as_not_complete() -> None:
    plan = {
        "plan_version": 3,
        "objective": 10,
        "learners": 2,
        "assignments": 2,
        "shortfalls": 0,
        "solver": "repair",
        "solve_seconds": 0.1,
    }
    broken = _row("PlanPublished", {**plan, "deficits": 1, "deficit_weeks": 2, "missing_learner_weeks": 2})
    assert broken.detail.endswith(
        "NOT complete: 1 firm x module below the minimum in 2 weeks (2 learner-weeks missing)"
    )
    assert broken.style == "bold red"
    whole = _row("PlanPublished", {**plan, "complete": True})
    assert whole.detail.endswith("; complete") and whole.style == "bold cyan"
