"""What `verbund watch` shows for each event, in the plain line and in the live table."""

from __future__ import annotations

import io

from rich.console import Console
from verbund_schemas import (
    AssignmentChanged,
    AssignmentMade,
    CapacityOffered,
    NotificationFailed,
    PlanPublished,
    ShortfallDetected,
    load_event,
)

from verbund.watch_view import row_for, table_of

AT = "2027-01-04T09:15:30Z"
ASSIGNMENT = {
    "assignment_id": "A-1",
    "learner_id": "L-01",
    "learner_name": "Mara Keller",
    "module_id": "M-SPRITZ",
    "module_name": "Spritzgießen",
    "firm_id": "F-AC",
    "firm_name": "Kunststofftechnik Aachen",
    "start_week": "2027-W10",
    "end_week": "2027-W13",
    "start_date": "2027-03-08",
    "end_date": "2027-04-04",
    "plan_version": 2,
}


def _load(kind: str, data: dict[str, object]) -> object:
    return load_event({"type": kind, "id": f"{kind}-1", "subject": "kunststoff-west", "time": AT, "data": data})


def test_assignment_made_line_names_learner_module_firm_weeks_and_dates() -> None:
    event = _load("AssignmentMade", ASSIGNMENT)
    assert isinstance(event, AssignmentMade)

    row = row_for(event)

    assert row is not None
    line = row.plain()
    assert line.startswith("09:15:30 AssignmentMade network=kunststoff-west")
    assert "learner=Mara Keller (L-01)" in line
    assert "module=Spritzgießen (M-SPRITZ)" in line
    assert "firm=Kunststofftechnik Aachen (F-AC)" in line
    assert "weeks=2027-W10..2027-W13 (08.03.2027–04.04.2027)" in line
    assert "plan v2" in line


def test_assignment_changed_shows_where_it_was_and_why_it_moved() -> None:
    data = {
        **ASSIGNMENT,
        "previous": {
            "firm_id": "F-BZ",
            "firm_name": "Polymer Bautzen",
            "start_week": "2027-W20",
            "end_week": "2027-W23",
        },
        "reason": "Polymer Bautzen withdrew its offer for Spritzgießen.",
    }
    event = _load("AssignmentChanged", data)
    assert isinstance(event, AssignmentChanged)

    row = row_for(event)

    assert row is not None
    assert "was Polymer Bautzen (F-BZ) 2027-W20..2027-W23: Polymer Bautzen withdrew its offer" in row.detail


def test_shortfall_shows_reason_code_sentence_and_suggested_capacity() -> None:
    event = _load(
        "ShortfallDetected",
        {
            "shortfall_id": "S-1",
            "learner_id": "L-02",
            "learner_name": "Jonas Brandt",
            "group_id": "G-PF",
            "module_id": "M-EXTR",
            "missing": 1,
            "reason": "contention",
            "message": "All 2 seats for Extrusion are taken by L-01 and L-03.",
            "competing_learners": ["L-01", "L-03"],
            "suggestions": [
                {
                    "firm_id": "F-AC",
                    "module_id": "M-EXTR",
                    "first_week": "2027-W30",
                    "last_week": "2027-W33",
                    "seats": 1,
                }
            ],
            "plan_version": 1,
        },
    )
    assert isinstance(event, ShortfallDetected)

    row = row_for(event)

    assert row is not None
    assert row.learner == "Jonas Brandt (L-02)" and row.module == "M-EXTR"
    assert row.detail.startswith("[contention] All 2 seats for Extrusion are taken by L-01 and L-03.")
    assert "1 seat(s) for M-EXTR at F-AC 2027-W30..2027-W33" in row.detail


def test_plan_published_summarises_the_version() -> None:
    event = _load(
        "PlanPublished",
        {
            "plan_version": 3,
            "objective": 412,
            "learners": 24,
            "assignments": 96,
            "shortfalls": 2,
            "made": 4,
            "changed": 1,
            "solver": "lns",
            "solve_seconds": 7.25,
        },
    )
    assert isinstance(event, PlanPublished)

    row = row_for(event)

    assert row is not None
    assert "plan v3: 24 learners, 96 assignments, 2 shortfalls; 4 made, 1 changed, 0 cancelled" in row.detail


def test_failed_notification_shows_recipient_and_error() -> None:
    event = _load(
        "NotificationFailed",
        {
            "notification_id": "N-1",
            "source_event_id": "e-1",
            "source_event_type": "AssignmentMade",
            "recipient": "learner:L-01",
            "channel": "email",
            "kind": "assignment_made",
            "attempts": 5,
            "at": AT,
            "error": "550 mailbox unavailable",
        },
    )
    assert isinstance(event, NotificationFailed)

    row = row_for(event)

    assert row is not None
    assert row.learner == "learner:L-01"
    assert row.detail == "assignment_made via email for AssignmentMade, attempt 5: 550 mailbox unavailable"


def test_inbound_events_are_not_shown() -> None:
    event = _load(
        "CapacityOffered",
        {
            "offer_id": "O-1",
            "firm_id": "F-AC",
            "module_id": "M-1",
            "first_week": "2027-W01",
            "last_week": "2027-W02",
            "max_seats": 1,
        },
    )
    assert isinstance(event, CapacityOffered)
    assert row_for(event) is None


def test_live_table_shows_each_event_on_one_line_with_its_key_columns() -> None:
    event = _load("AssignmentMade", ASSIGNMENT)
    assert isinstance(event, AssignmentMade)
    row = row_for(event)
    assert row is not None
    out = io.StringIO()

    Console(file=out, width=160, color_system=None).print(table_of([row, row], "verbund.assignments"))

    lines = [line for line in out.getvalue().splitlines() if "kunststoff-west" in line]
    assert len(lines) == 2
    for expected in ("09:15:30", "AssignmentMade", "Mara Keller (L-01)", "Kunststofftechnik", "2027-W10..2027-W13"):
        assert expected in lines[0]
