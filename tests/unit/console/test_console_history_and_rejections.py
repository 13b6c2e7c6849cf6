"""Plan history and rejected events: what the folding keeps of each, and what their pages make of it."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any

from console_events import (
    assignment_cancelled,
    assignment_changed,
    assignment_made,
    plan_published,
    rejected,
)
from verbund_console.domain.change_reasons import CHANGE_REASONS, change_reason_in_words
from verbund_console.domain.folding import Ensure, fold
from verbund_console.domain.history import history_views
from verbund_console.domain.rejections import payload_of, rejection_views
from verbund_schemas import ChangeReason


class Row:
    """A read-model row as the views see it."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


def history_row(effects: list[Any]) -> Row:
    line = next(e for e in effects if e.table == "plan_changes")
    return Row({**line.key, **line.values})


def test_a_moved_assignment_is_kept_in_the_history_with_where_it_was_and_why() -> None:
    made = assignment_made("n1", "anna", "M1", "f1", "2027-W10", "2027-W19")
    moved = assignment_changed(made, 2, firm="f2", start="2027-W20", end="2027-W29")

    line = next(e for e in fold(moved).effects if e.table == "plan_changes")

    assert isinstance(line, Ensure) and line.key == {"network_id": "n1", "event_id": moved.id}
    assert line.values["kind"] == "changed" and line.values["reason_code"] == "offer_changed"
    assert (line.values["previous_firm_id"], line.values["previous_start_week"]) == ("f1", "2027-W10")
    assert (line.values["firm_id"], line.values["start_week"], line.values["plan_version"]) == ("f2", "2027-W20", 2)


def test_a_published_plan_is_kept_per_version() -> None:
    effects = fold(plan_published("n1", 3, complete=False, made=4, changed=1)).effects

    plan = next(e for e in effects if e.table == "plans")
    assert plan.key == {"network_id": "n1", "plan_version": 3}
    assert (plan.values["complete"], plan.values["made"], plan.values["changed"]) == (False, 4, 1)


def test_every_change_reason_is_worded_in_both_languages() -> None:
    for language in ("de", "en"):
        assert set(CHANGE_REASONS[language]) == set(ChangeReason)
    words = change_reason_in_words("offer_withdrawn", "de", learner="Anna", module="CNC", firm="Acme")
    assert words == "Ein Angebot für CNC wurde zurückgezogen."
    assert change_reason_in_words(None, "en", learner="", module="", firm="") == "No reason given."
    assert change_reason_in_words("from_the_future", "de", learner="", module="", firm="") == "Kein Grund angegeben."


def test_history_is_newest_version_first_moves_before_new_assignments_and_words_the_reason() -> None:
    made = assignment_made("n1", "anna", "M1", "f1", "2027-W10", "2027-W19", module_name="CNC")
    ben = assignment_made("n1", "ben", "M1", "f1", "2027-W10", "2027-W19", version=2)
    moved = assignment_changed(made, 2, firm="f2", start="2027-W20", end="2027-W29")
    gone = assignment_cancelled(ben, 3, reason_code=ChangeReason.LEARNER_WITHDRAWN)
    lines = {
        1: [history_row(fold(made).effects)],
        2: [history_row(fold(ben).effects), history_row(fold(moved).effects)],
        3: [history_row(fold(gone).effects)],
    }
    published = Row(
        {
            "plan_version": 2,
            "published_at": dt.datetime(2027, 1, 4, 9, 30, tzinfo=dt.UTC),
            "complete": True,
            "solver": "lns",
            "learners": 2,
            "assignments": 2,
            "shortfalls": 0,
            "deficits": 0,
            "caused_by": [],
            "caused_by_count": 0,
        }
    )
    counts = {1: {"made": 1}, 2: {"made": 1, "changed": 1}, 3: {"cancelled": 1}}

    views = history_views([1, 2, 3], {2: published}, lines, counts, "de")

    assert [v.version for v in views] == [3, 2, 1]
    assert views[0].published_at is None  # its PlanPublished has not arrived yet
    assert [line.kind for line in views[1].lines] == ["changed", "made"]
    move = views[1].lines[0]
    assert (move.before, move.after) == ("Firm f1 2027-W10–2027-W19", "Firm f2 2027-W20–2027-W29")
    assert move.why == "Ein Angebot für CNC wurde geändert (Wochen oder Plätze)."
    assert move.sentence == "Replanned because offer o-f1 changed."
    assert views[0].lines[0].why == "Ben hat den Verbund verlassen."
    assert views[2].lines[0].why == "" and views[2].lines[0].before == ""


def test_history_says_how_many_lines_of_a_version_are_not_shown() -> None:
    made = assignment_made("n1", "anna", "M1", "f1", "2027-W10", "2027-W19")

    views = history_views([1], {}, {1: [history_row(fold(made).effects)]}, {1: {"made": 250}}, "en")

    assert (views[0].counts, views[0].omitted) == ({"made": 250, "changed": 0, "cancelled": 0}, 249)


def test_a_rejection_keeps_size_hash_and_the_original_bytes() -> None:
    raw = b'{"type": "CapacityOffered", "data": "<script>alert(1)</script>"}'
    values = fold(rejected("n1", raw)).effects[0].values

    assert values["original_size"] == len(raw)
    assert values["original_sha256"] == hashlib.sha256(raw).hexdigest()
    assert base64.b64decode(values["original_base64"]) == raw
    assert values["original_text"] == raw.decode()


def test_a_payload_that_is_not_utf8_is_shown_as_its_base64() -> None:
    assert payload_of(None, base64.b64encode(b"\xff\xfe junk").decode()) == ("//4ganVuaw==", True)
    assert payload_of(None, base64.b64encode("Müller".encode()).decode()) == ("Müller", False)
    assert payload_of("as sent ", "ignored") == ("as sent ", False)


def test_rejections_are_newest_first_with_topic_partition_and_offset() -> None:
    older = Row({**fold(rejected("n1", offset=3)).effects[0].values, "event_id": "a"})
    newer = Row({**fold(rejected("n1", offset=9)).effects[0].values, "event_id": "b"})
    older.values["at"] = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)

    views = rejection_views([older, newer])

    assert [v.where for v in views] == ["verbund.inbound/0/9", "verbund.inbound/0/3"]
    assert views[0].service == "matcher" and views[0].size == 27 and len(views[0].sha256) == 64
