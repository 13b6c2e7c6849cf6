"""Inserts collected during a transaction and written in one statement per table just before it commits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, event, insert
from sqlalchemy.orm import Session, sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

_PENDING = "verbund.pending_inserts"


def write_inserts_before_commit(factory: sessionmaker[Any]) -> None:
    """Sessions of `factory` (and only those) write what insert_at_commit collected just before they commit."""
    event.listen(factory, "before_commit", _write_pending)
    event.listen(factory, "after_rollback", _drop_pending)


def require_listener(session: AsyncSession | Session, listener: Any, what: str) -> None:
    """Fail at once, not by losing rows at the commit, when `session` does not run `listener` before it commits."""
    sync = session.sync_session if isinstance(session, AsyncSession) else session
    if listener not in sync.dispatch.before_commit:
        raise RuntimeError(
            f"this session does not write {what} when it commits: make it with "
            "verbund_matcher.store.database.session_factory(engine)"
        )


def insert_at_commit(session: AsyncSession | Session, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    """Insert `rows` into `table` when the session's transaction commits (in the order given).

    A batch touches dozens of networks; one executemany per table instead of a statement per network and
    table is most of what a batch costs on the database. Rows are not visible to queries before the commit,
    so only use this for rows nothing in the same transaction reads back.
    """
    if _PENDING not in session.info:  # once per transaction
        require_listener(session, _write_pending, "deferred inserts")
    pending: dict[Table, list[dict[str, Any]]] = session.info.setdefault(_PENDING, {})
    pending.setdefault(table, []).extend(rows)


def _write_pending(session: Session) -> None:
    pending: dict[Table, list[dict[str, Any]]] | None = session.info.pop(_PENDING, None)
    for table, rows in (pending or {}).items():
        if rows:
            session.execute(insert(table), rows)


def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
