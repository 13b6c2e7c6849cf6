"""Tells a failure that may pass by itself (a database or broker away, a timeout, a conflict) from one that will not."""

from __future__ import annotations

from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from sqlalchemy import exc as sa_exc

# SQLSTATE classes and codes that describe the server's state, not the statement: connection exceptions,
# transaction rollbacks (serialisation, deadlock), lack of resources, operator intervention (shutdown,
# "cannot connect now"), a database not accepting connections or a lock not available, a read-only server.
_TRANSIENT_SQLSTATE_CLASSES = ("08", "40", "53", "57", "55")
_TRANSIENT_SQLSTATES = frozenset({"25006", "58000", "58030"})

_TRANSIENT = (
    TimeoutError
    | ConnectionError
    | OSError
    | KafkaConnectionError
    | KafkaTimeoutError
    | sa_exc.OperationalError
    | sa_exc.InterfaceError
    | sa_exc.DisconnectionError
    | sa_exc.TimeoutError
    # Two replicas on one record during a rebalance: the second insert of an inbox row fails; read again, the
    # record is a duplicate.
    | sa_exc.IntegrityError
)

# What a parked record, a log line or a column remembers of an error.
ERROR_CHARS = 500


def chain(exc: BaseException) -> list[BaseException]:
    """The exception, what it wraps (SQLAlchemy's .orig) and what caused it, each once."""
    seen: list[BaseException] = []
    stack: list[BaseException | None] = [exc]
    while stack:
        e = stack.pop()
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        stack.extend([getattr(e, "orig", None), e.__cause__, e.__context__])
    return seen


def is_transient(exc: BaseException, *also: type[BaseException]) -> bool:
    """Whether trying the same work again later may succeed: the fault is elsewhere, not in the work.

    `also` names a service's own exceptions of that kind (a lost optimistic lock, say).
    """
    for e in chain(exc):
        if isinstance(e, (_TRANSIENT, *also)):
            return True
        if isinstance(e, sa_exc.DBAPIError) and e.connection_invalidated:
            return True
        if getattr(e, "retriable", False) is True:  # aiokafka's own verdict on its errors
            return True
        state = getattr(e, "sqlstate", None) or getattr(e, "pgcode", None)
        if isinstance(state, str) and (state[:2] in _TRANSIENT_SQLSTATE_CLASSES or state in _TRANSIENT_SQLSTATES):
            return True
    return False


def describe(exc: BaseException) -> str:
    """The error in one line, bounded, without statement parameters (no log line or column carries a payload)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return text[:ERROR_CHARS]
