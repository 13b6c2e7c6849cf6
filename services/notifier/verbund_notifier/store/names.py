"""The names of a network's ids: modules and groups from the curricula, firms and learners from the directory."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..domain.names import Names
from .tables import AssignmentRecord, CatalogName, Party


async def names_of(
    session: AsyncSession,
    network: str,
    *,
    modules: Iterable[str | None] = (),
    groups: Iterable[str | None] = (),
    firms: Iterable[str | None] = (),
    learners: Iterable[str | None] = (),
) -> Names:
    """The names of just these ids in one network.

    Curricula come from the inbound topic, which keeps 30 days: a notifier started later has not seen them,
    so a module or firm is also looked up in the phases it was told about.
    """
    wanted = {
        "module": {i for i in modules if i},
        "group": {i for i in groups if i},
        "firm": {i for i in firms if i},
        "learner": {i for i in learners if i},
    }
    found: dict[str, dict[str, str]] = {kind: {} for kind in wanted}
    catalog_ids = wanted["module"] | wanted["group"]
    if catalog_ids:
        rows = await session.execute(
            select(CatalogName).where(col(CatalogName.network_id) == network, col(CatalogName.item_id).in_(catalog_ids))
        )
        for row in rows.scalars():
            if row.item_id in wanted[row.kind]:
                found[row.kind][row.item_id] = row.name
    party_ids = wanted["firm"] | wanted["learner"]
    if party_ids:
        parties = await session.execute(
            select(Party).where(
                col(Party.network_id) == network,
                col(Party.role).in_(("firm", "learner")),
                col(Party.party_id).in_(party_ids),
            )
        )
        for party in parties.scalars():
            if party.party_id in wanted[party.role]:
                found[party.role][party.party_id] = party.name
    await _from_phases(session, network, wanted, found)
    return Names(modules=found["module"], groups=found["group"], firms=found["firm"], learners=found["learner"])


async def _from_phases(
    session: AsyncSession, network: str, wanted: dict[str, set[str]], found: dict[str, dict[str, str]]
) -> None:
    columns = {
        "module": (AssignmentRecord.module_id, AssignmentRecord.module_name),
        "firm": (AssignmentRecord.firm_id, AssignmentRecord.firm_name),
        "learner": (AssignmentRecord.learner_id, AssignmentRecord.learner_name),
    }
    for kind, (id_column, name_column) in columns.items():
        missing = wanted[kind] - set(found[kind])
        if not missing:
            continue
        pairs = await session.execute(
            select(col(id_column), col(name_column))
            .where(col(AssignmentRecord.network_id) == network, col(id_column).in_(missing))
            .distinct()
        )
        for item_id, name in pairs.all():
            found[kind].setdefault(item_id, name)
