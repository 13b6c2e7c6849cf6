"""Reading event files: every bad record is reported with the line it starts on, and defaults are filled."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from verbund.event_file import CLI_SOURCE, read_event_file

NOW = dt.datetime(2027, 1, 4, 9, 0, tzinfo=dt.UTC)

FIRM = {
    "type": "FirmRegistered",
    "subject": "net-1",
    "data": {"firm_id": "F-1", "name": "Formteile Lüdenscheid", "location": {"city": "Lüdenscheid"}},
}
WITHDRAWN = {"type": "LearnerWithdrawn", "subject": "net-2", "data": {"learner_id": "L-7"}}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_json_lines_short_records_get_id_time_and_cli_source(tmp_path: Path) -> None:
    path = _write(tmp_path, "events.jsonl", json.dumps(FIRM) + "\n\n" + json.dumps(WITHDRAWN) + "\n")

    parsed = read_event_file(path, NOW)

    assert parsed.ok, parsed.problems
    assert [line for line, _ in parsed.events] == [1, 3]
    first, second = (event for _, event in parsed.events)
    assert first.source == CLI_SOURCE and first.time == NOW
    assert first.id and second.id and first.id != second.id
    assert (first.type, second.type) == ("FirmRegistered", "LearnerWithdrawn")


def test_json_lines_keeps_the_envelope_fields_a_record_states(tmp_path: Path) -> None:
    stated = {**FIRM, "id": "hr-4711", "source": "hr-system", "time": "2027-02-01T08:00:00Z"}
    parsed = read_event_file(_write(tmp_path, "e.jsonl", json.dumps(stated)), NOW)

    ((_, event),) = parsed.events
    assert (event.id, event.source, event.time.year, event.time.month) == ("hr-4711", "hr-system", 2027, 2)


def test_json_lines_reports_every_bad_line_with_its_number_and_what_is_wrong(tmp_path: Path) -> None:
    bad_contract = {**FIRM, "data": {"firm_id": "F-2", "name": "Ohne Ort"}}
    unknown_type = {"type": "FirmMerged", "subject": "net-1", "data": {}}
    lines = [
        json.dumps(FIRM),
        "{not json",
        json.dumps(bad_contract),
        json.dumps(WITHDRAWN),
        json.dumps(unknown_type),
        "[1, 2]",
    ]
    parsed = read_event_file(_write(tmp_path, "e.jsonl", "\n".join(lines)), NOW)

    assert [p.line for p in parsed.problems] == [2, 3, 5, 6]
    by_line = {p.line: p for p in parsed.problems}
    assert "not valid JSON" in by_line[2].reason
    assert any(d.startswith("data.location") for d in by_line[3].details)
    assert "FirmMerged" in by_line[5].reason and "CapacityOffered" in by_line[5].reason
    assert "not a list" in by_line[6].reason


def test_outbound_events_are_not_accepted_for_publishing(tmp_path: Path) -> None:
    record = {"type": "PlanPublished", "subject": "net-1", "data": {}}
    parsed = read_event_file(_write(tmp_path, "e.jsonl", json.dumps(record)), NOW)

    (problem,) = parsed.problems
    assert problem.line == 1 and "unknown event type 'PlanPublished'" in problem.reason


def test_an_id_used_twice_is_reported_on_the_second_line(tmp_path: Path) -> None:
    a = {**FIRM, "id": "same"}
    b = {**WITHDRAWN, "id": "same"}
    parsed = read_event_file(_write(tmp_path, "e.jsonl", json.dumps(a) + "\n" + json.dumps(b)), NOW)

    (problem,) = parsed.problems
    assert problem.line == 2 and "line 1" in problem.reason


def test_yaml_list_reports_the_line_each_bad_item_starts_on(tmp_path: Path) -> None:
    text = """\
# two firms and a learner leaving
- type: FirmRegistered
  subject: net-1
  data:
    firm_id: F-1
    name: Formteile Lüdenscheid
    location: {city: Lüdenscheid}
- type: FirmRegistered
  subject: net-1
  data:
    firm_id: F-2
    name: Ohne Ort
- type: LearnerWithdrawn
  subject: net 2
  data: {learner_id: L-7}
"""
    parsed = read_event_file(_write(tmp_path, "events.yaml", text), NOW)

    assert [p.line for p in parsed.problems] == [8, 13]
    assert any(d.startswith("data.location") for d in parsed.problems[0].details)
    assert any(d.startswith("subject") for d in parsed.problems[1].details)
    assert [line for line, _ in parsed.events] == [2]


def test_yaml_multi_document_stream_numbers_each_document(tmp_path: Path) -> None:
    text = """\
type: FirmRegistered
subject: net-1
data: {firm_id: F-1, name: Formteile, location: {city: Lüdenscheid}}
---
type: CapacityOffered
subject: net-1
data:
  offer_id: O-1
  firm_id: F-1
  module_id: M-1
  first_week: 2027-W10
  last_week: 2027-W05
  max_seats: 2
---
type: LearnerWithdrawn
subject: net-1
data: {learner_id: L-7}
"""
    parsed = read_event_file(_write(tmp_path, "events.yml", text), NOW)

    (problem,) = parsed.problems
    assert problem.line == 5
    assert any("before first_week" in d for d in problem.details)
    assert [line for line, _ in parsed.events] == [1, 15]


def test_yaml_dates_become_iso_weeks(tmp_path: Path) -> None:
    text = """\
type: CapacityOffered
subject: net-1
data: {offer_id: O-1, firm_id: F-1, module_id: M-1, first_week: 2027-03-08, last_week: 2027-W12, max_seats: 1}
"""
    parsed = read_event_file(_write(tmp_path, "e.yaml", text), NOW)

    ((_, event),) = parsed.events
    assert event.data.first_week == "2027-W10"  # type: ignore[attr-defined]


def test_broken_yaml_names_the_line_of_the_syntax_error(tmp_path: Path) -> None:
    text = "- type: FirmRegistered\n  subject: net-1\n  data: {firm_id: F-1\n- type: X\n"
    parsed = read_event_file(_write(tmp_path, "e.yaml", text), NOW)

    assert parsed.problems and parsed.problems[-1].reason.startswith("not valid YAML")
    assert parsed.problems[-1].line in {3, 4}


def test_an_empty_file_is_a_problem_not_a_silent_success(tmp_path: Path) -> None:
    parsed = read_event_file(_write(tmp_path, "e.jsonl", "\n# nothing yet\n"), NOW)

    assert not parsed.ok and "no events" in parsed.problems[0].reason
