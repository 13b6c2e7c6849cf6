"""Reading a file of inbound events (JSON Lines or YAML), filling envelope defaults and validating every record."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from verbund_schemas import INBOUND_TYPES, Envelope, InvalidEvent, load_event

CLI_SOURCE = "verbund-cli"
YAML_SUFFIXES = frozenset({".yaml", ".yml"})


@dataclass(frozen=True)
class Record:
    """One raw record of the file and the line it starts on (1-based)."""

    line: int
    value: Any


@dataclass(frozen=True)
class Problem:
    """What is wrong with the record starting on `line`, as a sentence and one line per detail."""

    line: int
    reason: str
    details: tuple[str, ...] = ()

    def render(self, file: str) -> str:
        text = f"{file}:{self.line}: {self.reason}"
        return text + "".join(f"\n    - {d}" for d in self.details)


@dataclass
class EventFile:
    """The result of reading a file: valid events in file order, or the problems that prevent sending any."""

    events: list[tuple[int, Envelope]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def is_yaml(path: Path) -> bool:
    return path.suffix.lower() in YAML_SUFFIXES


def read_json_lines(text: str) -> Iterator[Record | Problem]:
    """One JSON object per line; blank lines and lines starting with '#' are skipped."""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            yield Record(number, json.loads(line))
        except json.JSONDecodeError as exc:
            yield Problem(
                number,
                f"not valid JSON: {exc.msg} at column {exc.colno}",
                ("JSON Lines files hold one complete JSON object per line",),
            )


def read_yaml(text: str) -> Iterator[Record | Problem]:
    """A list of events, or a stream of documents each holding one event (or a list of them).

    The documents are composed into nodes first so that every event keeps the line it starts on.
    """
    loader = yaml.SafeLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            value = loader.construct_document(node)
            if isinstance(node, yaml.SequenceNode) and isinstance(value, list):
                for item_node, item in zip(node.value, value, strict=True):
                    yield Record(item_node.start_mark.line + 1, item)
            elif value is not None:
                yield Record(node.start_mark.line + 1, value)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        column = f" at column {mark.column + 1}" if mark is not None else ""
        what = " ".join(p for p in (exc.context, exc.problem) if p)
        yield Problem(line, f"not valid YAML: {what}{column}", ("nothing after this point could be read",))
    except yaml.YAMLError as exc:
        yield Problem(1, f"not valid YAML: {exc}")
    finally:
        loader.dispose()


def fill_envelope_defaults(value: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Give a hand-written record the envelope fields it may omit: id, time and source."""
    filled = dict(value)
    filled.setdefault("id", str(uuid.uuid4()))
    filled.setdefault("time", now.isoformat())
    filled.setdefault("source", CLI_SOURCE)
    return filled


def validate_records(records: Iterator[Record | Problem], now: dt.datetime | None = None) -> EventFile:
    """Validate every record (after filling defaults) and collect every problem, not just the first."""
    now = now or dt.datetime.now(dt.UTC)
    result = EventFile()
    seen_ids: dict[str, int] = {}
    for item in records:
        if isinstance(item, Problem):
            result.problems.append(item)
            continue
        if not isinstance(item.value, dict):
            result.problems.append(
                Problem(item.line, f"an event must be an object with type, subject and data, not {_kind(item.value)}")
            )
            continue
        try:
            event = load_event(fill_envelope_defaults(item.value, now), INBOUND_TYPES)
        except InvalidEvent as exc:
            result.problems.append(Problem(item.line, exc.reason, tuple(exc.errors)))
            continue
        first = seen_ids.get(event.id)
        if first is not None:
            result.problems.append(
                Problem(
                    item.line,
                    f"event id {event.id!r} is already used on line {first}; "
                    "the matcher would apply only one of them — give each event its own id or leave id out",
                )
            )
            continue
        seen_ids[event.id] = item.line
        result.events.append((item.line, event))
    return result


def read_event_file(path: Path, now: dt.datetime | None = None) -> EventFile:
    """Read and validate a JSON Lines (.jsonl, .json, anything else) or YAML (.yaml, .yml) file of inbound events."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return EventFile(problems=[Problem(1, f"the file is not UTF-8 text (byte {exc.start}); save it as UTF-8")])
    records = read_yaml(text) if is_yaml(path) else read_json_lines(text)
    result = validate_records(records, now)
    if not result.events and not result.problems:
        result.problems.append(Problem(1, "the file holds no events"))
    return result


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "an empty value"
    return f"a {type(value).__name__}"
