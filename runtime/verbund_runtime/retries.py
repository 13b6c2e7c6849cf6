"""Tries a piece of consumed work again while it fails for a reason that may pass, with a pause that doubles."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from .failures import describe, is_transient

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently failing work is tried before it is parked."""

    attempts: int = 5
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 30.0


@dataclass(frozen=True)
class GaveUp:
    """The tries ran out: the last failure, how many tries were made, and when the first and the last failed."""

    reason: str
    attempts: int
    first_failure: dt.datetime
    last_failure: dt.datetime


class FailedByItself(Exception):
    """The work failed for a reason of its own (not the database or the broker): trying again will not help.

    Its text describes the failure (`failures.describe`); the failure itself is its `__cause__`.
    """


class Retries:
    """Runs work until it succeeds, fails by itself, or its tries run out; the caller parks or skips it then.

    `failing` says what is going wrong while work is being retried (readiness shows it); after GaveUp it stays
    until the caller has parked the work and calls `settled`.
    """

    def __init__(
        self,
        policy: RetryPolicy,
        log: logging.Logger,
        *,
        transient: Callable[[BaseException], bool] = is_transient,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.policy = policy
        self._log, self._transient, self._sleep = log, transient, sleep
        self.failing: str | None = None

    async def run(self, attempt: Callable[[], Awaitable[T]], *, what: str, failed: Callable[[], None]) -> T | GaveUp:
        """`attempt()`'s result, or GaveUp after the last try; FailedByItself when retrying cannot help.

        `what` names the work in the log line of each retry; `failed` counts every failure that may pass.
        """
        policy = self.policy
        pause = policy.backoff_seconds
        first: dt.datetime | None = None
        for number in range(1, policy.attempts + 1):
            try:
                result = await attempt()
            except Exception as exc:
                reason = describe(exc)
                if not self._transient(exc):
                    self.failing = None
                    raise FailedByItself(reason) from exc
                now = dt.datetime.now(dt.UTC)
                first = first or now
                failed()
                if number == policy.attempts:
                    return GaveUp(reason, number, first, now)
                self.failing = f"{reason} (try {number} of {policy.attempts}; next in {pause:g} s)"
                self._log.warning(
                    "%s failed: %s; try %d of %d, next in %g s", what, reason, number, policy.attempts, pause
                )
                await self._sleep(pause)
                pause = min(pause * 2, policy.max_backoff_seconds)
            else:
                self.failing = None
                return result
        raise AssertionError("unreachable: the last attempt returns or gives up")

    def settled(self) -> None:
        """The work that gave up is parked: nothing is failing any more."""
        self.failing = None
