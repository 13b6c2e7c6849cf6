"""`verbund publish` before any broker is involved: a bad file is refused whole, a dry run sends nothing."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from verbund.cli import app

GOOD = {"type": "LearnerWithdrawn", "subject": "net-1", "data": {"learner_id": "L-7"}}
BAD = {"type": "LearnerWithdrawn", "subject": "net-1", "data": {"learner": "L-7"}}

# Nothing listens here: if the command tried to send, it would fail with a connection error instead.
NOWHERE = "127.0.0.1:9"


def test_bad_file_lists_line_numbers_and_exits_1_without_contacting_kafka(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join([json.dumps(GOOD), json.dumps(BAD), json.dumps(GOOD), "oops"]) + "\n")

    result = CliRunner().invoke(app, ["publish", str(path), "--bootstrap", NOWHERE])

    assert result.exit_code == 1, result.output
    assert "2 records cannot be sent; nothing was sent" in result.output
    assert f"{path}:2: LearnerWithdrawn event does not match its contract" in result.output
    assert "data.learner_id: Field required" in result.output
    assert f"{path}:4: not valid JSON" in result.output
    assert "cannot reach Kafka" not in result.output


def test_dry_run_summarises_per_type_and_network(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    other = {**GOOD, "subject": "net-2"}
    path.write_text("\n".join([json.dumps(GOOD), json.dumps(GOOD), json.dumps(other)]))

    result = CliRunner().invoke(app, ["publish", str(path), "--dry-run", "--bootstrap", NOWHERE])

    assert result.exit_code == 0, result.output
    assert "dry run, nothing sent" in result.output
    lines = [" ".join(line.replace("│", " ").split()) for line in result.output.splitlines()]
    assert "type LearnerWithdrawn 3" in lines
    assert "network net-1 2" in lines and "network net-2 1" in lines


def test_unreachable_broker_says_how_to_start_one(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(GOOD))

    result = CliRunner().invoke(app, ["publish", str(path), "--bootstrap", NOWHERE])

    assert result.exit_code == 2, result.output
    assert "cannot reach Kafka at 127.0.0.1:9" in result.output
    assert "verbund stack up" in result.output
