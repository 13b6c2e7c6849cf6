"""The timelines' view-models: filters from the query string, zoom scales and marks, per-firm rows in lanes."""

from __future__ import annotations

from typing import Any

from console_events import assignment_made
from verbund_console.domain.folding import fold
from verbund_console.domain.views import TimelineFilter, firm_timeline, learner_status, ticks, timeline


class Row:
    """A read-model row as the views see it."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


def placed(learner: str, module: str, firm: str, start: str, end: str, name: str = "") -> Row:
    effect = fold(assignment_made("n1", learner, module, firm, start, end, learner_name=name or learner.title()))
    return Row({**effect.effects[0].key, **effect.effects[0].values})


def test_a_filter_reads_the_query_and_drops_what_it_cannot_use() -> None:
    wanted = TimelineFilter.from_query(
        {"firm": " f1 ", "cohort": "27", "status": "lost", "zoom": "decade", "page": "-3", "search": "x" * 500}
    )

    assert (wanted.firm, wanted.cohort, wanted.status, wanted.zoom, wanted.page) == ("f1", "", "", "month", 0)
    assert len(wanted.search) == 128
    assert TimelineFilter.from_query({"cohort": "2027", "status": "partial", "page": "x"}).cohort == "2027"


def test_paging_and_zoom_links_keep_the_other_filters() -> None:
    wanted = TimelineFilter.from_query({"firm": "f 1", "status": "placed", "zoom": "week", "page": "2"})

    assert wanted.query(page=3) == "?firm=f+1&status=placed&zoom=week&page=3"
    assert wanted.query(zoom="month", page=0) == "?firm=f+1&status=placed"
    assert TimelineFilter().query() == "?"


def test_learner_filters_are_told_apart_from_firm_and_module_filters() -> None:
    assert not TimelineFilter(firm="f1", module="M1").about_learners
    assert TimelineFilter(search="an").about_learners and TimelineFilter(cohort="2027").about_learners


def test_status_is_placed_partial_or_unplaced_as_on_the_overview() -> None:
    assert [learner_status(True, False), learner_status(True, True), learner_status(False, True)] == [
        "placed",
        "partial",
        "unplaced",
    ]


def test_week_zoom_marks_every_week_and_scrolls_sideways() -> None:
    view = timeline(
        [("anna", "Anna")],
        [placed("anna", "M1", "f1", "2026-W52", "2027-W02")],
        page=0,
        pages=1,
        span=("2026-W52", "2027-W03"),
        zoom="week",
    )

    assert [label for _, label in view.ticks] == ["2026-W52", "W53", "2027-W01", "W02", "W03"]
    assert view.width_rem == 13.0  # 5 weeks of 2.6 rem


def test_month_zoom_marks_each_month_by_the_thursday_of_its_first_week_in_the_readers_format() -> None:
    # 2027-W05 starts on Monday 1 February; 2027-W09 on 1 March.
    english = ticks("2027-W04", "2027-W10", "month", "en")
    german = ticks("2027-W04", "2027-W10", "month", "de")

    assert [label for _, label in english] == ["2027-01", "2027-02", "2027-03"]
    assert [label for _, label in german] == ["01.2027", "02.2027", "03.2027"]
    assert english[1][0] == round(100 * 1 / 7, 3)


def test_year_zoom_marks_years_and_quarters_and_fits_the_page() -> None:
    marks = ticks("2027-W01", "2028-W10", "year", "en")

    assert [label for _, label in marks] == ["2027", "Q2", "Q3", "Q4", "2028"]
    view = timeline([], [], page=0, pages=1, span=("2027-W01", "2028-W10"), zoom="year")
    assert view.width_rem is None


def test_a_firm_or_module_filter_dims_the_learners_other_phases_instead_of_hiding_them() -> None:
    at_f1 = placed("anna", "M1", "f1", "2027-W01", "2027-W04")
    at_f2 = placed("anna", "M2", "f2", "2027-W05", "2027-W08")

    view = timeline(
        [("anna", "Anna")],
        [at_f1, at_f2],
        page=0,
        pages=1,
        span=("2027-W01", "2027-W08"),
        focus=lambda a: a.firm_id == "f2",
    )

    assert [(b.module_id, b.dimmed) for b in view.rows[0].bars] == [("M1", True), ("M2", False)]


def test_the_firm_timeline_stacks_learners_there_at_the_same_time_in_lanes() -> None:
    anna = placed("anna", "M1", "f1", "2027-W01", "2027-W04")
    ben = placed("ben", "M1", "f1", "2027-W03", "2027-W06")
    cem = placed("cem", "M1", "f1", "2027-W05", "2027-W08")  # after Anna: back in her lane
    elsewhere = placed("dora", "M2", "f1", "2027-W01", "2027-W02")

    view = firm_timeline(
        [("f1", "Firm f1", "M1", "Module M1"), ("f9", "Firm f9", "M1", "Module M1")],
        [anna, ben, cem, elsewhere],
        page=0,
        pages=1,
        span=("2027-W01", "2027-W08"),
    )

    lanes = view.rows[0].lanes
    assert [[b.learner_id for b in lane] for lane in lanes] == [["anna", "cem"], ["ben"]]
    assert (lanes[0][1].left, lanes[0][1].width) == (50.0, 50.0)
    assert view.rows[1].lanes == []  # offered, nobody there
