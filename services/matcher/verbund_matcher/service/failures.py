"""Tells a failure that may pass by itself from one that will not; for the matcher a lost network lock may pass."""

from __future__ import annotations

from verbund_runtime import failures
from verbund_runtime.failures import ERROR_CHARS, describe

from ..store.networks import StaleNetwork

__all__ = ["ERROR_CHARS", "describe", "is_transient"]


def is_transient(exc: BaseException) -> bool:
    """Whether trying the same work again later may succeed: the fault is elsewhere, not in the record.

    Besides the database or broker away, a timeout or a conflict: another replica changed the network first.
    """
    return failures.is_transient(exc, StaleNetwork)
