"""The contact directory: who gets messages, kept from the inbound topic's network, firm and learner events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from verbund_schemas import (
    Contact,
    CurriculumPublished,
    Envelope,
    FirmData,
    FirmLeft,
    FirmRegistered,
    FirmUpdated,
    LearnerData,
    LearnerRegistered,
    LearnerUpdated,
    LearnerWithdrawn,
    Location,
    NetworkConfigured,
)

from ..domain import parties
from ..domain.parties import COORDINATOR, FIRM, LEARNER, recipient_id
from .deliveries import pending_to
from .tables import AssignmentRecord, CatalogName, DepartedParty, NetworkRecord, Party

# The inbound event types the directory reads; the others are the matcher's business. Curricula are read
# for the names of modules and groups only.
DIRECTORY_EVENTS = frozenset(
    {
        "NetworkConfigured",
        "CurriculumPublished",
        "FirmRegistered",
        "FirmUpdated",
        "FirmLeft",
        "LearnerRegistered",
        "LearnerUpdated",
        "LearnerWithdrawn",
        "LearnerErased",  # applied by store/erasure.py, not here
        "ContactErased",  # the same
    }
)


def format_address(location: Location) -> str:
    street = location.street or ""
    town = " ".join(p for p in (location.postcode, location.city) if p)
    return ", ".join(p for p in (street, town) if p)


def _contact_fields(contact: Contact | None) -> dict[str, Any]:
    if contact is None:
        return {"contact_name": None, "email": None, "language": "de", "channel": None, "webhook_url": None}
    return {
        "contact_name": contact.name,
        "email": str(contact.email) if contact.email else None,
        "language": contact.language.value,
        "channel": contact.channel.value,
        "webhook_url": str(contact.webhook_url) if contact.webhook_url else None,
    }


async def _upsert(session: AsyncSession, party: Party) -> None:
    # Registered again under the same id: no longer departed.
    await session.execute(
        delete(DepartedParty).where(
            col(DepartedParty.network_id) == party.network_id,
            col(DepartedParty.role) == party.role,
            col(DepartedParty.party_id) == party.party_id,
        )
    )
    existing = await session.get(Party, (party.network_id, party.role, party.party_id))
    if existing is None:
        session.add(party)
        return
    for field in Party.model_fields:
        setattr(existing, field, getattr(party, field))


async def apply(session: AsyncSession, event: Envelope, now: dt.datetime) -> None:
    """Fold one inbound event into the directory (inside the caller's transaction)."""
    network = event.network_id
    if isinstance(event, NetworkConfigured):
        await _configure_network(session, network, event)
    elif isinstance(event, FirmRegistered | FirmUpdated):
        await _upsert(session, _firm_party(network, event.data))
    elif isinstance(event, FirmLeft):
        await _mark_left(session, network, FIRM, event.data.firm_id, now)
    elif isinstance(event, LearnerRegistered | LearnerUpdated):
        await _upsert(session, _learner_party(network, event.data))
    elif isinstance(event, LearnerWithdrawn):
        await _mark_left(session, network, LEARNER, event.data.learner_id, now)
    elif isinstance(event, CurriculumPublished):
        await _keep_names(session, network, event)


async def _keep_names(session: AsyncSession, network: str, event: CurriculumPublished) -> None:
    """Module and group names of a curriculum; ids are shared by the network's curricula, the latest name wins."""
    names = {("module", m.module_id): m.name for m in event.data.modules}
    names.update({("group", g.group_id): g.name for g in event.data.groups})
    for (kind, item_id), name in names.items():
        existing = await session.get(CatalogName, (network, kind, item_id))
        if existing is None:
            session.add(CatalogName(network_id=network, kind=kind, item_id=item_id, name=name))
        else:
            existing.name = name


async def _configure_network(session: AsyncSession, network: str, event: NetworkConfigured) -> None:
    record = await session.get(NetworkRecord, network)
    if record is None:
        session.add(NetworkRecord(network_id=network, name=event.data.name))
    else:
        record.name = event.data.name
    # The event carries the whole list: coordinators not in it are gone. Their position is their id,
    # so the delivery log never names them.
    await session.execute(delete(Party).where(col(Party.network_id) == network, col(Party.role) == COORDINATOR))
    for index, contact in enumerate(event.data.coordinators, start=1):
        session.add(
            Party(
                network_id=network,
                role=COORDINATOR,
                party_id=f"{network}.{index}",
                name=contact.name,
                **_contact_fields(contact),
            )
        )


def _firm_party(network: str, data: FirmData) -> Party:
    return Party(
        network_id=network,
        role=FIRM,
        party_id=data.firm_id,
        name=data.name,
        address=format_address(data.location),
        **_contact_fields(data.training_contact),
    )


def _learner_party(network: str, data: LearnerData) -> Party:
    return Party(
        network_id=network,
        role=LEARNER,
        party_id=data.learner_id,
        name=data.name,
        home_firm_id=data.home_firm_id,
        **_contact_fields(data.contact),
    )


async def _mark_left(session: AsyncSession, network: str, role: str, party_id: str, now: dt.datetime) -> None:
    party = await session.get(Party, (network, role, party_id))
    if party is not None and party.left_at is None:
        party.left_at = now
    await session.flush()
    await purge_departed(session, network)


async def purge_departed(session: AsyncSession, network: str | None = None) -> int:
    """Delete withdrawn learners and departed firms once nothing still needs them.

    Needed means: an assignment that is not cancelled names them (the matcher's cancellations follow a
    withdrawal, and the learner is told), or a message to them is still pending.
    """
    query = select(Party).where(col(Party.left_at).is_not(None))
    if network is not None:
        query = query.where(col(Party.network_id) == network)
    purged = 0
    for party in (await session.execute(query)).scalars().all():
        if await _still_needed(session, party):
            continue
        # A statement, not an ORM delete: a concurrent purge may have removed the row already.
        await session.execute(
            delete(Party).where(
                col(Party.network_id) == party.network_id,
                col(Party.role) == party.role,
                col(Party.party_id) == party.party_id,
            )
        )
        # The ids stay, so an assignment about them that comes later does not wait for a registration.
        key = (party.network_id, party.role, party.party_id)
        if await session.get(DepartedParty, key) is None:
            session.add(
                DepartedParty(
                    network_id=party.network_id,
                    role=party.role,
                    party_id=party.party_id,
                    left_at=party.left_at or dt.datetime.now(dt.UTC),
                )
            )
        purged += 1
    return purged


async def _still_needed(session: AsyncSession, party: Party) -> bool:
    column = col(AssignmentRecord.learner_id) if party.role == LEARNER else col(AssignmentRecord.firm_id)
    active = await session.scalar(
        select(func.count())
        .select_from(AssignmentRecord)
        .where(
            col(AssignmentRecord.network_id) == party.network_id,
            column == party.party_id,
            col(AssignmentRecord.cancelled).is_(False),
        )
    )
    if active:
        return True
    return await pending_to(session, party.network_id, recipient_id(party.role, party.party_id)) > 0


async def departed(session: AsyncSession, network: str, role: str, party_id: str) -> bool:
    """Whether this learner withdrew or this firm left and their contact is gone."""
    return await session.get(DepartedParty, (network, role, party_id)) is not None


def as_party(row: Party) -> parties.Party:
    """The directory row as the domain sees it."""
    return parties.Party(**{name: getattr(row, name) for name in Party.model_fields})


async def find(session: AsyncSession, network: str, role: str, party_id: str | None) -> parties.Party | None:
    if party_id is None:
        return None
    row = await session.get(Party, (network, role, party_id))
    return None if row is None else as_party(row)


async def coordinators(session: AsyncSession, network: str) -> list[parties.Party]:
    result = await session.execute(
        select(Party)
        .where(col(Party.network_id) == network, col(Party.role) == COORDINATOR)
        .order_by(col(Party.party_id))
    )
    return [as_party(row) for row in result.scalars().all()]
