"""The console's read model from events, and what the pages make of it: pure rules, no database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from console_events import assignment_cancelled, assignment_made, learner_registered, shortfall_detected
from verbund_console.domain.folding import Ensure, Upsert, fold
from verbund_console.domain.language import negotiate, texts
from verbund_console.domain.views import overview, problem_views, timeline


@dataclass
class Row:
    """A read-model row as the views see it."""

    values: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        return self.values[name]


def test_an_assignment_is_stored_guarded_by_its_plan_version_and_makes_its_learner_and_firm_known() -> None:
    event = assignment_made("n1", "anna", "M1", "f1", "2027-W10", "2027-W19", version=3)

    effects = fold(event).effects

    assert effects[0] == Upsert(
        "assignments", {"network_id": "n1", "assignment_id": "n1:anna:M1"}, effects[0].values, version=3
    )
    assert effects[0].values["cancelled"] is False
    assert isinstance(effects[1], Ensure) and effects[1].values == {"name": "Anna"}
    assert isinstance(effects[2], Ensure) and effects[2].key == {"network_id": "n1", "firm_id": "f1"}


def test_a_cancelled_assignment_is_kept_marked_cancelled() -> None:
    made = assignment_made("n1", "anna", "M1", "f1", "2027-W10", "2027-W19")

    values = fold(assignment_cancelled(made, 2)).effects[0].values

    assert (values["cancelled"], values["plan_version"]) == (True, 2)


def _row_of(effect: Any) -> Row:
    return Row({**effect.key, **effect.values})


def test_overview_counts_placed_partially_placed_and_unplaced_learners_and_seat_weeks() -> None:
    anna = assignment_made("n1", "anna", "M1", "f1", "2027-W10", "2027-W19")  # 10 weeks
    ben = assignment_made("n1", "ben", "M1", "f1", "2027-W20", "2027-W21")  # 2 weeks
    learners = [Row({"learner_id": i, "name": i, "withdrawn": False}) for i in ("anna", "ben", "cem")]
    offers = [Row({"first_week": "2027-W01", "last_week": "2027-W10", "max_seats": 2, "withdrawn": False})]
    gap = _row_of(fold(shortfall_detected("n1", "ben", "M2")).effects[0])

    summary = overview(
        learners,
        offers,
        [_row_of(fold(anna).effects[0]), _row_of(fold(ben).effects[0])],
        [gap],
        rejected_24h=1,
    )

    assert (summary.placed, summary.partial, summary.unplaced) == (1, 1, 1)
    assert (summary.seats_offered, summary.seats_used) == (20, 12)
    assert (summary.open_shortfalls, summary.rejected_24h) == (1, 1)


def test_problems_are_newest_first_with_the_reason_in_the_readers_language() -> None:
    older = _row_of(fold(shortfall_detected("n1", "anna", "M1")).effects[0])
    newer = _row_of(fold(shortfall_detected("n1", "ben", "M2")).effects[0])
    older.values["detected_at"] = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)

    german = problem_views([older, newer], "de", texts("de"))
    english = problem_views([older, newer], "en", texts("en"))

    assert [p.problem_id for p in german] == ["n1:ben:g1:M2", "n1:anna:g1:M1"]
    assert german[0].reason_words == "Kein Betrieb bietet dieses Modul im Ausbildungszeitraum an."
    assert english[0].reason_words == "No firm offers this module within the learner's training window."
    assert "any firm: 1 seats Module M2, 2027-W10–2027-W20" in english[0].remedies


def test_timeline_places_each_bar_by_its_weeks_on_the_networks_span() -> None:
    anna = _row_of(fold(assignment_made("n1", "anna", "M1", "f1", "2027-W11", "2027-W15")).effects[0])

    view = timeline([("anna", "Anna"), ("ben", "Ben")], [anna], page=0, pages=1, span=("2027-W01", "2027-W20"))

    bar = view.rows[0].bars[0]
    assert (bar.left, bar.width) == (50.0, 25.0)
    assert view.rows[1].bars == []


def test_language_follows_the_switch_then_the_browser_then_german() -> None:
    assert negotiate("en", "de-DE,de;q=0.9") == "en"
    assert negotiate(None, "fr-FR, en-GB;q=0.8, de;q=0.5") == "en"
    assert negotiate(None, "fr") == "de"
    assert negotiate(None, None) == "de"


def test_a_learner_registration_names_the_learner() -> None:
    effect = fold(learner_registered("n1", "anna", "Anna Schmidt")).effects[0]

    assert effect.values["name"] == "Anna Schmidt" and effect.values["withdrawn"] is False
