"""Inserts collected during a transaction and written in one statement per table just before it commits."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Table, event, insert
from sqlalchemy.orm import Session
from sqlmodel.ext.asyncio.session import AsyncSession

_PENDING = "verbund.pending_inserts"


def insert_at_commit(session: AsyncSession | Session, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    """Insert `rows` into `table` when the session's transaction commits (in the order given).

    A batch touches dozens of networks; one executemany per table instead of a statement per network and
    table is most of what a batch costs on the database. Rows are not visible to queries before the commit,
    so only use this for rows nothing in the same transaction reads back.
    """
    pending: dict[Table, list[dict[str, Any]]] = session.info.setdefault(_PENDING, {})
    pending.setdefault(table, []).extend(rows)


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    pending: dict[Table, list[dict[str, Any]]] | None = session.info.pop(_PENDING, None)
    for table, rows in (pending or {}).items():
        if rows:
            session.execute(insert(table), rows)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
