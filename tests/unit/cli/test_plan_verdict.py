"""The verdict of `verbund plan`: deficit spans, the plan file's complete flag, the exit status and the summary."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from rich.console import Console
from verbund_matcher.planning.model import SeatDeficit

from verbund.plan_cli import (
    DeficitSpan,
    PlanExit,
    deficit_spans,
    exit_status,
    render_summary,
    week_span,
)
from verbund.plan_file import (
    NetworkPlan,
    PlanFile,
    PlanFileError,
    PlannedDeficit,
    PlannedShortfall,
    RejectedEvent,
    read_plan_file,
)

CREATED = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)
TODAY = dt.date(2027, 1, 4)


def deficit(first: int, last: int, minimum: int = 5, planned: int = 2, firm: str = "Firm X") -> PlannedDeficit:
    weeks = last - first + 1
    return PlannedDeficit(
        firm_id="F-X",
        firm_name=firm,
        module_id="M-CNC",
        module_name="CNC",
        first_index=first,
        last_index=last,
        first_week=f"2028-W{first + 1:02d}",
        last_week=f"2028-W{last + 1:02d}",
        weeks=weeks,
        minimum=minimum,
        planned=planned,
        missing=minimum - planned,
        missing_learner_weeks=weeks * (minimum - planned),
    )


def shortfall(learner: str = "L-01") -> PlannedShortfall:
    return PlannedShortfall(
        learner_id=learner,
        learner_name="Mara Keller",
        group_id="G-PF",
        module_id="M-CNC",
        module_name="CNC",
        missing=1,
        reason="no_offer",
        message="Mara Keller misses 1 module(s) of group G-PF. No firm offers CNC in her window.",
    )


def network(
    deficits: list[PlannedDeficit] | None = None,
    shortfalls: list[PlannedShortfall] | None = None,
    violations: list[str] | None = None,
    **fields: Any,
) -> NetworkPlan:
    deficits, shortfalls, violations = deficits or [], shortfalls or [], violations or []
    values: dict[str, Any] = {
        "network_id": "net-1",
        "name": "Verbund Aachen",
        "origin_week": "2028-W01",
        "origin": dt.date(2028, 1, 3),
        "learners": 1,
        "firms": 1,
        "offers": 1,
        "solver": "construct",
        "status": "feasible",
        "seconds": 0.1,
        "objective": 0,
        "deficits": deficits,
        "shortfalls": shortfalls,
        "violations": violations,
        "complete": not (deficits or shortfalls or violations),
        "missing_learner_weeks": sum(d.missing_learner_weeks for d in deficits),
        "unplaced_modules": sum(s.missing for s in shortfalls),
    }
    return NetworkPlan(**(values | fields))


def plan_file(*networks: NetworkPlan, rejected: list[RejectedEvent] | None = None) -> PlanFile:
    return PlanFile.of(
        list(networks), created=CREATED, events_file="events.jsonl", today=TODAY, rejected_events=rejected
    )


def summary(plans: PlanFile, width: int = 80) -> str:
    out = io.StringIO()
    render_summary(Console(file=out, width=width, no_color=True), plans, Path("plan.json"))
    return out.getvalue()


def test_deficit_weeks_join_into_spans_only_when_consecutive_and_equal() -> None:
    weeks = [
        SeatDeficit("F-2", "M-1", 1, 3, 0),
        SeatDeficit("F-1", "M-1", 5, 5, 2),
        SeatDeficit("F-1", "M-1", 3, 5, 2),
        SeatDeficit("F-1", "M-1", 4, 5, 2),
        SeatDeficit("F-1", "M-1", 6, 5, 1),  # planned count changes
        SeatDeficit("F-1", "M-1", 8, 5, 1),  # a gap at week 7
        SeatDeficit("F-1", "M-2", 9, 5, 1),  # another module
    ]
    assert deficit_spans(weeks) == [
        DeficitSpan("F-1", "M-1", 3, 5, 5, 2),
        DeficitSpan("F-1", "M-1", 6, 6, 5, 1),
        DeficitSpan("F-1", "M-1", 8, 8, 5, 1),
        DeficitSpan("F-1", "M-2", 9, 9, 5, 1),
        DeficitSpan("F-2", "M-1", 1, 1, 3, 0),
    ]


def test_week_spans_shorten_the_year_only_when_it_repeats() -> None:
    assert week_span("2028-W10", "2028-W14") == "2028-W10..W14"
    assert week_span("2027-W50", "2028-W03") == "2027-W50..2028-W03"
    assert week_span("2028-W10", "2028-W10") == "2028-W10"


def test_a_deficit_whose_counts_disagree_is_refused() -> None:
    values = deficit(0, 4).model_dump() | {"missing": 2}
    with pytest.raises(ValidationError, match="missing is 2, but minimum - planned is 3"):
        PlannedDeficit(**values)


def test_a_network_cannot_claim_complete_while_it_lists_a_shortfall() -> None:
    with pytest.raises(ValidationError, match="complete is true, but the plan has 0 deficits, 1 shortfalls"):
        network(shortfalls=[shortfall()], complete=True)


def test_the_file_is_complete_only_when_every_network_is() -> None:
    whole = network()
    short = network(deficits=[deficit(0, 4)], network_id="net-2")
    assert plan_file(whole).complete is True
    mixed = plan_file(whole, short)
    assert mixed.complete is False
    assert mixed.missing_learner_weeks == 15


@pytest.mark.parametrize(
    ("plans", "expected"),
    [
        (plan_file(network()), PlanExit.COMPLETE),
        (plan_file(network(deficits=[deficit(0, 4)])), PlanExit.PARTIAL),
        (plan_file(network(shortfalls=[shortfall()])), PlanExit.PARTIAL),
        (plan_file(network(), rejected=[RejectedEvent(line=4, message="unknown firm")]), PlanExit.REJECTED_EVENTS),
        (
            plan_file(network(shortfalls=[shortfall()]), rejected=[RejectedEvent(line=4, message="unknown firm")]),
            PlanExit.PARTIAL,
        ),
        (plan_file(network(deficits=[deficit(0, 4)], violations=["max seats: …"])), PlanExit.UNDECLARED_VIOLATION),
    ],
)
def test_the_exit_status_puts_undeclared_violations_before_partial_plans_before_rejected_events(
    plans: PlanFile, expected: PlanExit
) -> None:
    assert exit_status(plans) == expected


def test_a_version_1_plan_file_is_still_read_and_has_no_verdict(tmp_path: Path) -> None:
    written = json.loads(plan_file(network()).model_dump_json())
    for key in ("complete", "missing_learner_weeks", "unplaced_modules", "rejected_events"):
        del written[key]
    for net in written["networks"]:
        for key in ("complete", "deficits", "missing_learner_weeks", "unplaced_modules"):
            del net[key]
        for s in net["shortfalls"]:
            del s["module_name"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(written | {"version": 1}), encoding="utf-8")
    old = read_plan_file(path)
    assert old.version == 1 and old.complete is None and old.networks[0].complete is None


def test_a_version_2_plan_file_without_its_verdict_is_refused(tmp_path: Path) -> None:
    written = json.loads(plan_file(network()).model_dump_json())
    del written["complete"]
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(written), encoding="utf-8")
    with pytest.raises(PlanFileError, match="states `complete` for the file and for every network"):
        read_plan_file(path)


def test_the_summary_says_a_complete_plan_meets_every_hard_rule() -> None:
    text = summary(plan_file(network()))
    assert "The plan meets every hard rule." in text
    assert text.rstrip().endswith("Every plan meets every hard rule.")


def test_the_summary_lists_ten_deficits_and_ten_shortfalls_then_counts_the_rest_at_80_columns() -> None:
    deficits = [deficit(3 * i, 3 * i + 1, firm=f"[Werk {i}] Formteile Lüdenscheid") for i in range(12)]
    shortfalls = [shortfall(f"L-{i:02d}") for i in range(13)]
    text = summary(plan_file(network(deficits=deficits, shortfalls=shortfalls)))
    lines = text.splitlines()
    assert all(len(line) <= 80 and line == line.rstrip() for line in lines)
    flowing = " ".join(text.split())
    assert (
        "The plan does NOT meet every hard rule: 12 spans of weeks below a firm's minimum (72 learner-weeks "
        "missing); 13 requirements unplaced (13 modules missing)."
    ) in flowing
    # Names from the events file are shown as written, brackets included.
    assert "- [Werk 0] Formteile Lüdenscheid, CNC: 2028-W01..W02 planned 2 of minimum 5" in flowing
    assert "[Werk 9]" in flowing and "[Werk 10]" not in flowing
    assert "… and 2 more in plan.json" in flowing
    assert "- L-09 (no_offer): Mara Keller misses 1 module(s)" in flowing and "L-10" not in flowing
    assert "… and 3 more in plan.json" in flowing
    assert flowing.endswith(
        "The plan does not meet every hard rule; plan.json names every week below a minimum and every unplaced "
        "requirement."
    )


def test_the_summary_names_rejected_events_and_undeclared_violations() -> None:
    plans = plan_file(
        network(violations=["max seats: firm F-X module M-CNC week 0: 1 learners, 0 seats"]),
        rejected=[RejectedEvent(line=4, message="unknown firm"), RejectedEvent(line=9, message="unknown firm")],
    )
    flowing = " ".join(summary(plans).split())
    assert "1 broken rule the plan does not declare" in flowing
    assert "Broken rules the plan does not declare (found by the validator): - max seats: firm F-X" in flowing
    assert "2 events were rejected and left out" in flowing
