"""The demo's picture: published events fold into current rotations and open shortfalls, rendered readably."""

from __future__ import annotations

import io
from email.message import EmailMessage
from typing import Any

from rich.console import Console
from verbund_schemas import load_event

from verbund.demo_view import Picture, calendar_lines, final_report

NET = "kunststoff-verbund"


def _assignment(learner: str, module: str, firm: str, start: str, end: str, version: int = 1) -> dict[str, Any]:
    from verbund_schemas import week_monday, week_sunday

    return {
        "assignment_id": f"{learner}-{module}",
        "learner_id": learner,
        "learner_name": {"azubi-001": "Lea Wagner", "azubi-002": "Tim Vogel"}[learner],
        "module_id": module,
        "module_name": {"spritz": "Spritzgießen", "extr": "Extrusion"}[module],
        "firm_id": firm,
        "firm_name": {"rkt": "Rheinland Kunststofftechnik", "dp": "Domstadt Polymer"}[firm],
        "start_week": start,
        "end_week": end,
        "start_date": week_monday(start).isoformat(),
        "end_date": week_sunday(end).isoformat(),
        "plan_version": version,
    }


def _event(kind: str, data: dict[str, Any]) -> Any:
    return load_event({"type": kind, "id": f"{kind}-1", "time": "2027-01-04T08:00:00Z", "subject": NET, "data": data})


def _render(picture: Picture, messages: list[EmailMessage]) -> str:
    out = io.StringIO()
    Console(file=out, width=220, color_system=None).print(final_report(picture, messages, message_limit=5))
    return out.getvalue()


def test_changes_and_cancellations_replace_earlier_versions_of_an_assignment() -> None:
    picture = Picture()
    picture.apply(_event("AssignmentMade", _assignment("azubi-001", "spritz", "rkt", "2027-W10", "2027-W19")))
    picture.apply(_event("AssignmentMade", _assignment("azubi-001", "extr", "rkt", "2027-W20", "2027-W29")))
    moved = _assignment("azubi-001", "extr", "dp", "2027-W30", "2027-W39", version=2)
    moved |= {"previous": {"firm_id": "rkt", "firm_name": "R", "start_week": "2027-W20", "end_week": "2027-W29"}}
    picture.apply(_event("AssignmentChanged", moved | {"reason": "offer withdrawn"}))
    gone = _assignment("azubi-001", "spritz", "rkt", "2027-W10", "2027-W19", version=2) | {"reason": "withdrawn"}
    picture.apply(_event("AssignmentCancelled", gone))

    (only,) = picture.networks[NET].assignments.values()
    assert (only.module_id, only.firm_id, only.start_week) == ("extr", "dp", "2027-W30")


def test_resolved_shortfalls_close_and_the_newest_plan_wins() -> None:
    picture = Picture()
    shortfall = {
        "shortfall_id": "sf-1",
        "learner_id": "azubi-002",
        "learner_name": "Tim Vogel",
        "group_id": "wahl",
        "module_id": "extr",
        "missing": 1,
        "reason": "eligibility",
        "message": "Tim is 17; extrusion runs in shifts.",
        "plan_version": 1,
    }
    picture.apply(_event("ShortfallDetected", shortfall))
    picture.apply(_event("ShortfallDetected", shortfall | {"shortfall_id": "sf-2", "module_id": "spritz"}))
    picture.apply(
        _event(
            "ShortfallResolved",
            {"shortfall_id": "sf-2", "learner_id": "azubi-002", "group_id": "wahl", "plan_version": 2},
        )
    )
    plan = {"objective": 10, "learners": 2, "assignments": 1, "shortfalls": 1, "solver": "repair", "solve_seconds": 0.4}
    picture.apply(_event("PlanPublished", plan | {"plan_version": 2}))
    picture.apply(_event("PlanPublished", plan | {"plan_version": 1}))

    net = picture.networks[NET]
    assert list(net.shortfalls) == ["sf-1"]
    assert net.plan is not None and net.plan.plan_version == 2
    assert picture.planned(NET) and not picture.planned("other")


def test_report_shows_each_learners_phases_in_time_order_and_the_shortfall_reason() -> None:
    picture = Picture()
    picture.apply(_event("AssignmentMade", _assignment("azubi-001", "extr", "dp", "2027-W30", "2027-W39")))
    picture.apply(_event("AssignmentMade", _assignment("azubi-001", "spritz", "rkt", "2027-W10", "2027-W19")))
    picture.apply(
        _event(
            "ShortfallDetected",
            {
                "shortfall_id": "sf-1",
                "learner_id": "azubi-002",
                "learner_name": "Tim Vogel",
                "group_id": "wahl",
                "module_id": "extr",
                "missing": 1,
                "reason": "eligibility",
                "message": "Tim is 17; extrusion runs in shifts.",
                "plan_version": 1,
            },
        )
    )
    picture.apply(
        _event(
            "PlanPublished",
            {
                "plan_version": 1,
                "objective": 10,
                "learners": 2,
                "assignments": 2,
                "shortfalls": 1,
                "solver": "repair",
                "solve_seconds": 0.4,
            },
        )
    )

    text = _render(picture, [])

    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if "Lea Wagner (azubi-001)" in line)
    assert "Spritzgießen" in lines[first] and "2027-W10..2027-W19" in lines[first] and "08.03.2027" in lines[first]
    assert "Extrusion" in lines[first + 1] and "Domstadt Polymer" in lines[first + 1]
    assert "Tim Vogel (azubi-002)" in text and "shortfall: eligibility" in text
    assert "Tim Vogel" in text and "eligibility" in text and "extrusion runs in shifts" in text
    assert "plan v1: 2 assignments for 2 learners, 1 shortfalls" in text


def test_messages_list_recipient_subject_and_calendar_entry() -> None:
    message = EmailMessage()
    message["To"] = "lea.wagner@example.org"
    message["Subject"] = "Dein nächster Einsatz: Spritzgießen"
    message.set_content("Hallo Lea")
    ics = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:a-1\r\n"
        "DTSTAMP:20270101T000000Z\r\nSUMMARY:Spritzgießen bei Rheinland Kunststofftechnik\r\n"
        "DTSTART;VALUE=DATE:20270308\r\nDTEND;VALUE=DATE:20270516\r\nLOCATION:Pascalstraße 12\\, 52076 Aachen\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    message.add_attachment(ics.encode(), maintype="text", subtype="calendar", filename="einsatz.ics")

    (line,) = calendar_lines(message)
    text = _render(Picture(), [message])

    assert (
        line.render()
        == "Spritzgießen bei Rheinland Kunststofftechnik: 2027-03-08 – 2027-05-16 @ Pascalstraße 12, 52076 Aachen"
    )
    assert "Messages sent (1)" in text and "lea.wagner@example.org" in text and "Dein nächster Einsatz" in text
