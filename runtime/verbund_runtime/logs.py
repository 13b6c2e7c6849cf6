"""Service logs: JSON lines on stderr when VERBUND_LOG_JSON is on, plain lines otherwise, never colours."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any, TextIO

# Every service logs in this one shape, so one shipper rule reads them all.
_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# FastStream's own loggers come with a handler that colours every line, terminal or not.
_FASTSTREAM_LOGGERS = ("faststream", "faststream.access", "faststream.access.kafka")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value if isinstance(value, str | int | float | bool | None) else repr(value)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure_logging(level: str = "INFO", *, json_lines: bool = True, stream: TextIO | None = None) -> None:
    """One handler on the root logger for everything the process logs, FastStream's messages included."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if json_lines else logging.Formatter(PLAIN_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in _FASTSTREAM_LOGGERS:
        own = logging.getLogger(name)
        own.handlers[:] = []
        own.propagate = True
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))
    # At DEBUG aiosqlite logs every statement with its parameters: learners' names and addresses (ids only here).
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, root.level))
