"""Keeps one consumed event from stopping a partition: retries what may pass, skips what will not, parks the rest."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections.abc import Awaitable, Callable

from prometheus_client import Counter
from sqlalchemy import exc as sa_exc
from verbund_schemas import ParkedHeader

from .ingest import REJECTED, Origin

log = logging.getLogger(__name__)

RETRIES = Counter(
    "verbund_notifier_consume_retries_total",
    "Consumed events tried again after a failure that may pass (database away, timeout)",
    ["topic"],
)
PARKED = Counter(
    "verbund_notifier_parked_total", "Consumed events parked on the parked topic after their retries", ["topic"]
)

# A parked copy keeps the whole record up to VERBUND_MAX_EVENT_BYTES, else its first 4 KiB (as EventRejected).
_CUT_BYTES = 4096
_SQLSTATE_CLASSES = ("08", "40", "53", "57", "55")

Park = Callable[[bytes | None, bytes, dict[str, str]], Awaitable[None]]


def is_transient(exc: BaseException) -> bool:
    """Whether the same event may succeed later: the database or the network failed, not the event."""
    seen: list[BaseException] = []
    stack: list[BaseException | None] = [exc]
    while stack:
        e = stack.pop()
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        stack.extend([getattr(e, "orig", None), e.__cause__, e.__context__])
        if isinstance(
            e,
            TimeoutError
            | OSError
            | sa_exc.OperationalError
            | sa_exc.InterfaceError
            | sa_exc.DisconnectionError
            | sa_exc.TimeoutError
            | sa_exc.IntegrityError,  # a concurrent replica wrote the same row first: read again, a duplicate
        ):
            return True
        if isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated:
            return True
        if getattr(e, "retriable", False) is True:
            return True
        state = getattr(e, "sqlstate", None)
        if isinstance(state, str) and (state[:2] in _SQLSTATE_CLASSES or state == "25006"):
            return True
    return False


def _describe(exc: BaseException) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return (f"{type(exc).__name__}: {first}" if first else type(exc).__name__)[:500]


class ConsumeAttempts:
    """Runs the handling of one consumed event until it succeeds, fails by itself, or its tries run out.

    A failure that may pass (database away, a timeout) is tried again after a pause that doubles; after
    `attempts` tries the event is parked on the parked topic and the consumer moves on. Any other failure is
    the event's own (or the notifier's): counted, logged by position and skipped, like an unreadable event.
    `failing` says what is going wrong while an event is retried (readiness shows it).
    """

    def __init__(
        self,
        park: Park,
        *,
        attempts: int = 5,
        backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 30.0,
        max_event_bytes: int = 262144,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._park = park
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._max_backoff = max_backoff_seconds
        self._max_event_bytes = max_event_bytes
        self._sleep = sleep
        self.failing: str | None = None
        self.parked = 0

    async def run(self, raw: bytes, origin: Origin, handle: Callable[[], Awaitable[object]]) -> None:
        pause = self._backoff
        first: dt.datetime | None = None
        for number in range(1, self._attempts + 1):
            try:
                await handle()
            except Exception as exc:
                reason = _describe(exc)
                if not is_transient(exc):
                    self.failing = None
                    REJECTED.labels(origin.topic, "unprocessable").inc()
                    log.error(
                        "skipped an event the notifier failed on (%s) at %s[%d]@%d, key %s",
                        reason,
                        origin.topic,
                        origin.partition,
                        origin.offset,
                        origin.key,
                        exc_info=exc,
                    )
                    return
                now = dt.datetime.now(dt.UTC)
                first = first or now
                RETRIES.labels(origin.topic).inc()
                if number == self._attempts:
                    await self._park_one(raw, origin, reason, number, first, now)
                    return
                self.failing = f"{reason} (try {number} of {self._attempts}; next in {pause:g} s)"
                log.warning(
                    "event at %s[%d]@%d failed: %s; try %d of %d, next in %g s",
                    origin.topic,
                    origin.partition,
                    origin.offset,
                    reason,
                    number,
                    self._attempts,
                    pause,
                )
                await self._sleep(pause)
                pause = min(pause * 2, self._max_backoff)
            else:
                self.failing = None
                return

    async def _park_one(
        self, raw: bytes, origin: Origin, reason: str, attempts: int, first: dt.datetime, last: dt.datetime
    ) -> None:
        cut = len(raw) > self._max_event_bytes
        # The contract's header names (docs/decisions/0003-parking-failed-records.md), as the matcher writes them.
        headers = {
            ParkedHeader.BY: "notifier",
            ParkedHeader.TOPIC: origin.topic,
            ParkedHeader.PARTITION: str(origin.partition),
            ParkedHeader.OFFSET: str(origin.offset),
            ParkedHeader.REASON: reason,
            ParkedHeader.ATTEMPTS: str(attempts),
            ParkedHeader.FIRST_FAILURE: first.isoformat(),
            ParkedHeader.LAST_FAILURE: last.isoformat(),
            ParkedHeader.SIZE: str(len(raw)),
            ParkedHeader.SHA256: hashlib.sha256(raw).hexdigest(),
            ParkedHeader.TRUNCATED: "true" if cut else "false",
        }
        key = origin.key.encode("utf-8") if origin.key is not None else None
        # If the broker is away too, this raises: the event is then read again (nothing is lost).
        await self._park(key, raw[:_CUT_BYTES] if cut else raw, headers)
        self.failing = None
        self.parked += 1
        PARKED.labels(origin.topic).inc()
        log.error(
            "parked the event at %s[%d]@%d (key %s) after %d tries: %s; see `verbund parked list`, replay with "
            "`verbund parked replay`",
            origin.topic,
            origin.partition,
            origin.offset,
            origin.key,
            attempts,
            reason,
        )
