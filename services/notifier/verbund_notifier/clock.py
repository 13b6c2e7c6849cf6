"""The notifier's sense of time: the real clock, or one that starts at a chosen moment and runs on."""

from __future__ import annotations

import datetime as dt
import time


class Clock:
    """UTC time; with `start` given, time begins there and advances with the real clock.

    Reminders and digests decide "is this already past?" with it, so demos and tests can live in 2027.
    """

    def __init__(self, start: dt.datetime | None = None) -> None:
        if start is not None and start.tzinfo is None:
            start = start.replace(tzinfo=dt.UTC)
        self._start = start
        self._origin = time.monotonic()

    def now(self) -> dt.datetime:
        if self._start is None:
            return dt.datetime.now(dt.UTC)
        return self._start + dt.timedelta(seconds=time.monotonic() - self._origin)

    def set(self, moment: dt.datetime) -> None:
        """Jump to `moment` (tests: let a reminder's time arrive)."""
        self._start = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
        self._origin = time.monotonic()
