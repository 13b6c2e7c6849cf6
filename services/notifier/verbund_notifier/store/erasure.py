"""Erasing a learner here (contact, messages, phases, open shortfalls go; an id-only record stays) or a contact."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..domain.parties import COORDINATOR, FIRM, LEARNER, recipient_id
from .tables import AssignmentRecord, Delivery, DepartedParty, Erasure, HeldEvent, OpenShortfall, Party


@dataclass(frozen=True)
class Erased:
    """What an erasure removed; the assignment ids are those whose reminders the scheduler must drop."""

    assignment_ids: list[str]
    deliveries: int
    first_time: bool


async def erase_learner(
    session: AsyncSession, network: str, learner_id: str, event_id: str, now: dt.datetime
) -> Erased:
    """Delete everything the notifier holds about the learner, in the caller's transaction.

    Messages to the learner go, and so does every message to anyone else that carries the learner's name or
    address (a firm told who arrives, a coordinator's digest): the notifier keeps no copy of what was sent.
    Running it again finds nothing more to delete.
    """
    party = await session.get(Party, (network, LEARNER, learner_id))
    known = (party.name, party.contact_name, party.email, party.webhook_url) if party is not None else ()
    traces: set[str] = {t for t in known if t}
    phases = list(
        (
            await session.execute(
                select(AssignmentRecord).where(
                    col(AssignmentRecord.network_id) == network, col(AssignmentRecord.learner_id) == learner_id
                )
            )
        )
        .scalars()
        .all()
    )
    shortfalls = list(
        (await session.execute(select(OpenShortfall).where(col(OpenShortfall.network_id) == network))).scalars().all()
    )
    traces |= {p.learner_name for p in phases} | {s.learner_name for s in shortfalls if s.learner_id == learner_id}
    # An empty name is what the matcher publishes after an erasure; it is no trace of anyone.
    needles = [t.casefold() for t in traces if t and t.strip()]

    deliveries = 0
    recipient = recipient_id(LEARNER, learner_id)
    for delivery in (
        (await session.execute(select(Delivery).where(col(Delivery.network_id) == network))).scalars().all()
    ):
        if delivery.recipient == recipient or _mentions(needles, _texts_of(delivery)):
            await session.delete(delivery)
            deliveries += 1

    for shortfall in shortfalls:
        if shortfall.learner_id == learner_id:
            await session.delete(shortfall)
        elif _mentions(needles, [shortfall.message]):
            # Another learner's contention names this one among those holding the seats: by id from now on.
            shortfall.message = _replaced(shortfall.message, traces, learner_id)
    await session.execute(
        delete(AssignmentRecord).where(
            col(AssignmentRecord.network_id) == network, col(AssignmentRecord.learner_id) == learner_id
        )
    )
    await session.execute(
        delete(HeldEvent).where(
            col(HeldEvent.network_id) == network, col(HeldEvent.body).contains(f'"learner_id":"{learner_id}"')
        )
    )
    if party is not None:
        await session.delete(party)
    if await session.get(DepartedParty, (network, LEARNER, learner_id)) is None:
        # Ids only: a cancellation the matcher publishes after the erasure is applied without waiting for them.
        session.add(DepartedParty(network_id=network, role=LEARNER, party_id=learner_id, left_at=now))
    first_time = await session.get(Erasure, (network, learner_id)) is None
    if first_time:
        session.add(
            Erasure(
                network_id=network,
                learner_id=learner_id,
                event_id=event_id,
                erased_at=now,
                deliveries_deleted=deliveries,
                phases_deleted=len(phases),
            )
        )
    return Erased([p.assignment_id for p in phases], deliveries, first_time)


async def erase_contact(session: AsyncSession, network: str, firm_id: str | None) -> int:
    """Forget a firm's training contact (`firm_id`) or the network's coordinators, in the caller's transaction.

    The firm stays in the directory without a contact (nobody to message) until it sends a new one; the
    coordinators' rows go. Every message to them goes, and every other message carrying their name or address.
    Returns the number of messages deleted; running it again finds nothing more.
    """
    if firm_id is not None:
        parties = [p for p in [await session.get(Party, (network, FIRM, firm_id))] if p is not None]
        recipients = {recipient_id(FIRM, firm_id)}
    else:
        parties = list(
            (
                await session.execute(
                    select(Party).where(col(Party.network_id) == network, col(Party.role) == COORDINATOR)
                )
            )
            .scalars()
            .all()
        )
        recipients = {recipient_id(COORDINATOR, p.party_id) for p in parties}
    traces = {t for p in parties for t in (p.contact_name, p.email, p.webhook_url) if t}
    if firm_id is None:
        traces |= {p.name for p in parties if p.name}
    needles = [t.casefold() for t in traces if t.strip()]
    deliveries = 0
    for delivery in (
        (await session.execute(select(Delivery).where(col(Delivery.network_id) == network))).scalars().all()
    ):
        to_them = delivery.recipient in recipients or (
            firm_id is None and delivery.recipient.startswith(f"{COORDINATOR}:")
        )
        if to_them or _mentions(needles, _texts_of(delivery)):
            await session.delete(delivery)
            deliveries += 1
    for party in parties:
        if firm_id is None:
            await session.delete(party)
        else:
            party.contact_name = party.email = party.webhook_url = party.channel = None
            session.add(party)
    return deliveries


def _texts_of(delivery: Delivery) -> list[str | None]:
    return [
        delivery.address,
        delivery.subject,
        delivery.body_text,
        delivery.body_html,
        delivery.calendar,
        delivery.calendar_name,
        delivery.last_error,
        str(delivery.payload) if delivery.payload is not None else None,
    ]


def _mentions(needles: list[str], texts: list[str | None]) -> bool:
    folded = [t.casefold() for t in texts if t]
    return any(needle in text for needle in needles for text in folded)


def _replaced(text: str, traces: set[str], learner_id: str) -> str:
    for trace in sorted((t for t in traces if t and t.strip()), key=len, reverse=True):
        text = text.replace(trace, f"learner {learner_id}")
    return text
