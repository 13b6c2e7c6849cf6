"""The utilisation heatmap: offers add up per firm × module and week; under-minimum, full and over weeks marked."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from verbund_console.domain.utilisation import MARKS, cell_state, heatmap, who_is_there
from verbund_schemas import week_monday, week_sunday


class Row:
    """A read-model row as the views see it."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


def offer(first: str, last: str, max_seats: int, min_seats: int = 0, withdrawn: bool = False) -> Row:
    return Row(
        dict(
            firm_id="f1",
            module_id="M1",
            first_week=first,
            last_week=last,
            max_seats=max_seats,
            min_seats=min_seats,
            withdrawn=withdrawn,
        )
    )


def placed(learner: str, start: str, end: str, cancelled: bool = False) -> Row:
    return Row(
        dict(
            learner_id=learner,
            learner_name=learner.title(),
            firm_id="f1",
            module_id="M1",
            start_week=start,
            end_week=end,
            start_date=week_monday(start),
            end_date=week_sunday(end),
            cancelled=cancelled,
        )
    )


@pytest.mark.parametrize(
    ("planned", "minimum", "maximum", "state"),
    [
        (0, 0, 0, "none"),
        (1, 0, 0, "over"),  # planned where nothing is offered
        (0, 0, 2, "free"),
        (1, 0, 2, "ok"),
        (0, 2, 3, "under"),  # a minimum holds in every week an offer runs, also for nobody
        (1, 2, 3, "under"),
        (2, 2, 3, "ok"),
        (3, 2, 3, "full"),
        (4, 2, 3, "over"),
    ],
)
def test_a_cells_state(planned: int, minimum: int, maximum: int, state: str) -> None:
    assert cell_state(planned, minimum, maximum) == state


def test_every_state_a_colour_alone_would_tell_also_has_a_text_mark() -> None:
    assert all(MARKS[state] for state in ("under", "full", "over"))


def test_offers_add_up_per_week_and_a_withdrawn_offer_counts_for_nothing() -> None:
    offers = [
        offer("2027-W01", "2027-W04", max_seats=1, min_seats=1),
        offer("2027-W03", "2027-W06", max_seats=2),
        offer("2027-W01", "2027-W06", max_seats=9, withdrawn=True),
    ]
    assignments = [placed("anna", "2027-W02", "2027-W03"), placed("ben", "2027-W03", "2027-W05")]
    assignments.append(placed("cem", "2027-W01", "2027-W06", cancelled=True))

    view = heatmap([("f1", "Firm", "M1", "Module")], offers, assignments, span=("2027-W01", "2027-W07"))

    cells = view.rows[0].cells
    assert view.weeks == ["2027-W01", "2027-W02", "2027-W03", "2027-W04", "2027-W05", "2027-W06", "2027-W07"]
    assert [(c.planned, c.minimum, c.maximum) for c in cells] == [
        (0, 1, 1),
        (1, 1, 1),
        (2, 1, 3),
        (1, 1, 3),
        (1, 0, 2),
        (0, 0, 2),
        (0, 0, 0),
    ]
    assert [c.state for c in cells] == ["under", "full", "ok", "ok", "ok", "free", "none"]
    assert (view.rows[0].under_weeks, view.rows[0].full_weeks) == (1, 1)


def test_weeks_outside_the_span_are_cut_off_not_an_error() -> None:
    view = heatmap(
        [("f1", "Firm", "M1", "Module")],
        [offer("2026-W50", "2027-W02", max_seats=1)],
        [],
        span=("2027-W01", "2027-W02"),
    )

    assert [c.maximum for c in view.rows[0].cells] == [1, 1]


def test_who_is_there_names_the_learners_of_that_firm_module_and_week() -> None:
    assignments = [
        placed("ben", "2027-W01", "2027-W03"),
        placed("anna", "2027-W03", "2027-W05"),
        placed("cem", "2027-W04", "2027-W05"),
        placed("dora", "2027-W01", "2027-W05", cancelled=True),
    ]

    there = who_is_there(assignments, "f1", "M1", "2027-W03")

    assert [p.learner_name for p in there] == ["Anna", "Ben"]
    assert there[0].start_date == dt.date(2027, 1, 18)
