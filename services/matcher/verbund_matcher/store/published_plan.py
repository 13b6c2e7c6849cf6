"""Reads and writes a network's published plan: its assignment, shortfall and seat deficit rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from .bulk import insert_at_commit
from .networks import LoadedNetwork, PublishedAssignment
from .tables import PublishedAssignmentRow, PublishedDeficitRow, PublishedShortfallRow, table_of

Payload = dict[str, Any]


async def read_published_deficits(session: AsyncSession, loaded: LoadedNetwork) -> dict[str, Payload]:
    """The network's published seat deficit payloads by id, read once per loaded network (one row per cell)."""
    if loaded.deficits is None:
        t = table_of(PublishedDeficitRow)
        conn = await session.connection()
        rows = await conn.execute(select(t.c.deficit_id, t.c.payload).where(t.c.network_id == loaded.state.network_id))
        loaded.deficits = {deficit_id: payload for deficit_id, payload in rows.all()}
    return loaded.deficits


async def write_names(
    session: AsyncSession, renamed: Sequence[PublishedAssignment], published: dict[str, PublishedAssignment]
) -> None:
    """Published rows take their learner's, module's and firm's current names (`published` follows)."""
    if not renamed:
        return
    t = table_of(PublishedAssignmentRow)
    conn = await session.connection()
    await conn.execute(
        update(t)
        .where(t.c.network_id == bindparam("b_network"), t.c.assignment_id == bindparam("b_assignment"))
        .values(learner_name=bindparam("b_learner"), module_name=bindparam("b_module"), firm_name=bindparam("b_firm")),
        [
            {
                "b_network": r.network_id,
                "b_assignment": r.assignment_id,
                "b_learner": r.learner_name,
                "b_module": r.module_name,
                "b_firm": r.firm_name,
            }
            for r in renamed
        ],
    )
    for r in renamed:
        published[r.assignment_id] = r


async def write_published_plan(
    session: AsyncSession,
    network_id: str,
    *,
    placed: Sequence[dict[str, Any]],
    cancelled: Sequence[str],
    shortfalls: Mapping[str, Payload],
    deficits: Mapping[str, Payload],
    published: dict[str, PublishedAssignment],
    stored_shortfalls: dict[str, Payload],
    stored_deficits: dict[str, Payload],
) -> None:
    """Make the new plan the published one, in the caller's transaction; only the rows that differ are written.

    `placed` are the rows of assignments made or moved, `cancelled` the ids of those gone; `shortfalls` and
    `deficits` the plan's whole sets of payloads by id. The `published` and `stored_*` dicts (the loaded network's
    copy of the published plan) follow, so a cached network need not read its plan back.
    """
    conn = await session.connection()
    table = table_of(PublishedAssignmentRow)
    if cancelled:
        await conn.execute(delete(table).where(table.c.network_id == network_id, table.c.assignment_id.in_(cancelled)))
    if placed:
        moved = [r["assignment_id"] for r in placed if r["assignment_id"] in published]
        if moved:
            await conn.execute(delete(table).where(table.c.network_id == network_id, table.c.assignment_id.in_(moved)))
        insert_at_commit(session, table, placed)
    await _write_payloads(
        session, table_of(PublishedShortfallRow), "shortfall_id", network_id, shortfalls, stored_shortfalls
    )
    await _write_payloads(session, table_of(PublishedDeficitRow), "deficit_id", network_id, deficits, stored_deficits)
    for aid in cancelled:
        del published[aid]
    for row in placed:
        published[row["assignment_id"]] = PublishedAssignment(**row)


async def _write_payloads(
    session: AsyncSession,
    table: Table,
    key: str,
    network_id: str,
    current: Mapping[str, Payload],
    stored: dict[str, Payload],
) -> None:
    """Rows of `table` (one payload per id) become `current`: those gone or changed are deleted, new and changed
    ones inserted; `stored` follows."""
    stale = [k for k in stored if current.get(k) != stored[k]]
    if stale:
        conn = await session.connection()
        await conn.execute(delete(table).where(table.c.network_id == network_id, table.c[key].in_(stale)))
    fresh = [k for k in sorted(current) if k not in stored or current[k] != stored[k]]
    if fresh:
        insert_at_commit(session, table, [{"network_id": network_id, key: k, "payload": current[k]} for k in fresh])
    for k in stale:
        del stored[k]
    for k in fresh:
        stored[k] = current[k]
