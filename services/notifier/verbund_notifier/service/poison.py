"""Keeps one consumed event from stopping a partition: retries what may pass, skips what will not, parks the rest."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable

from prometheus_client import Counter
from verbund_runtime.retries import FailedByItself, GaveUp, Retries, RetryPolicy
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

Park = Callable[[bytes | None, bytes, dict[str, str]], Awaitable[None]]


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
        self._retries = Retries(RetryPolicy(attempts, backoff_seconds, max_backoff_seconds), log, sleep=sleep)
        self._max_event_bytes = max_event_bytes
        self.parked = 0

    @property
    def failing(self) -> str | None:
        return self._retries.failing

    async def run(self, raw: bytes, origin: Origin, handle: Callable[[], Awaitable[object]]) -> None:
        try:
            result = await self._retries.run(
                handle,
                what=f"event at {origin.topic}[{origin.partition}]@{origin.offset}",
                failed=lambda: RETRIES.labels(origin.topic).inc(),
            )
        except FailedByItself as exc:
            REJECTED.labels(origin.topic, "unprocessable").inc()
            log.error(
                "skipped an event the notifier failed on (%s) at %s[%d]@%d, key %s",
                exc,
                origin.topic,
                origin.partition,
                origin.offset,
                origin.key,
                exc_info=exc.__cause__,
            )
            return
        if isinstance(result, GaveUp):
            await self._park_one(raw, origin, result)

    async def _park_one(self, raw: bytes, origin: Origin, gave_up: GaveUp) -> None:
        reason, attempts = gave_up.reason, gave_up.attempts
        cut = len(raw) > self._max_event_bytes
        # The contract's header names (docs/decisions/0003-parking-failed-records.md), as the matcher writes them.
        headers = {
            ParkedHeader.BY: "notifier",
            ParkedHeader.TOPIC: origin.topic,
            ParkedHeader.PARTITION: str(origin.partition),
            ParkedHeader.OFFSET: str(origin.offset),
            ParkedHeader.REASON: reason,
            ParkedHeader.ATTEMPTS: str(attempts),
            ParkedHeader.FIRST_FAILURE: gave_up.first_failure.isoformat(),
            ParkedHeader.LAST_FAILURE: gave_up.last_failure.isoformat(),
            ParkedHeader.SIZE: str(len(raw)),
            ParkedHeader.SHA256: hashlib.sha256(raw).hexdigest(),
            ParkedHeader.TRUNCATED: "true" if cut else "false",
        }
        key = origin.key.encode("utf-8") if origin.key is not None else None
        # If the broker is away too, this raises: the event is then read again (nothing is lost).
        await self._park(key, raw[:_CUT_BYTES] if cut else raw, headers)
        self._retries.settled()
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
