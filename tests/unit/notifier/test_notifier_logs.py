"""The notifier's logs: JSON lines when VERBUND_LOG_JSON is on, plain lines otherwise, and never colour codes."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from faststream._internal.logger import logger as faststream_logger
from verbund_notifier.app import build
from verbund_notifier.settings import NotifierSettings
from verbund_runtime.logs import configure_logging

ESCAPE = "\x1b"


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """configure_logging changes the process's root logger; put it back for the other tests."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    own = [logging.getLogger(n) for n in ("faststream", "faststream.access", "faststream.access.kafka")]
    faststream = [(logger, logger.handlers[:], logger.propagate) for logger in own]
    yield
    root.handlers[:], level = saved
    root.setLevel(level)
    for logger, handlers, propagate in faststream:
        logger.handlers[:] = handlers
        logger.propagate = propagate


def log_through_every_path(tmp_path: Path) -> None:
    """What a running notifier logs through: its own modules, FastStream's app and broker loggers."""
    logging.getLogger("verbund_notifier.service").warning("rejected message %s", "verbund.inbound[0]@7")
    faststream_logger.info("FastStream app starting...")
    app = build(NotifierSettings(notifier_database_url=f"sqlite+aiosqlite:///{tmp_path / 'n.db'}", health_port=0))
    app.app.logger.info("FastStream app started successfully!")  # type: ignore[union-attr]
    logging.getLogger("verbund_notifier.broker").info("`OnAssignment` waiting for messages")


@pytest.mark.usefixtures("restored_logging")
def test_json_lines_on_a_stream_that_is_not_a_terminal(tmp_path: Path) -> None:
    stream = io.StringIO()
    assert not stream.isatty()
    configure_logging("INFO", json_lines=True, stream=stream)

    log_through_every_path(tmp_path)

    lines = stream.getvalue().splitlines()
    assert len(lines) >= 4, lines
    records = [json.loads(line) for line in lines]
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert records[0]["message"] == "rejected message verbund.inbound[0]@7"
    assert "FastStream app starting..." in [r["message"] for r in records]
    assert "FastStream app started successfully!" in [r["message"] for r in records]
    assert ESCAPE not in stream.getvalue()


@pytest.mark.usefixtures("restored_logging")
def test_plain_lines_without_colour_codes_when_json_is_off(tmp_path: Path) -> None:
    stream = io.StringIO()
    configure_logging("INFO", json_lines=False, stream=stream)

    log_through_every_path(tmp_path)

    text = stream.getvalue()
    assert ESCAPE not in text
    assert " WARNING verbund_notifier.service: rejected message verbund.inbound[0]@7" in text
    assert "FastStream app starting..." in text
    with pytest.raises(json.JSONDecodeError):
        json.loads(text.splitlines()[0])


@pytest.mark.parametrize(("log_json", "json_lines"), [("true", True), ("false", False), (None, True)])
def test_the_notifier_process_honours_verbund_log_json_and_writes_no_colour_codes(
    tmp_path: Path, log_json: str | None, json_lines: bool
) -> None:
    # Nothing listens on port 1: the notifier starts, logs, fails to reach Kafka, says so and exits.
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VERBUND_LOG")},
        "VERBUND_KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
        "VERBUND_NOTIFIER_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'notifier.db'}",
        "VERBUND_HEALTH_PORT": "0",
    }
    if log_json is not None:
        env["VERBUND_LOG_JSON"] = log_json
    done = subprocess.run(
        [sys.executable, "-m", "verbund_notifier"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    output = done.stderr + done.stdout
    assert done.returncode == 2, output
    assert ESCAPE not in output
    lines = [line for line in output.splitlines() if line.strip()]
    assert lines, "the notifier logged nothing"
    (said,) = [line for line in lines if "cannot reach Kafka at 127.0.0.1:1" in line]
    if json_lines:
        # Every line is one JSON object (json.loads raises on anything else).
        assert all(isinstance(json.loads(line), dict) for line in lines)
        assert json.loads(said)["level"] == "error" and json.loads(said)["logger"] == "verbund_notifier"
    else:
        assert all(not line.startswith("{") for line in lines), lines
