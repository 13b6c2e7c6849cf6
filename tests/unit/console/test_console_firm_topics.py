"""The console folds from a firm's own inbound topic only what that firm may send: its own offers and details."""

from __future__ import annotations

import datetime as dt
import uuid

from console_events import capacity_offered
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from verbund_console.service.ingest import Ingest
from verbund_console.service.live import ChangeSignal
from verbund_console.store.database import create_engine, migrate, session_factory
from verbund_console.store.readmodel import ReadModel
from verbund_schemas import (
    AuthContext,
    AuthType,
    CapacityChanged,
    CapacityChangedData,
    Envelope,
    FirmData,
    FirmRegistered,
    Location,
    Role,
    encode_event,
    topic,
)
from verbund_schemas.topics import firm_inbound

OWN, OTHER = "meier-spritzguss", "huber-stammwerk"


def registered(network: str, firm_id: str) -> FirmRegistered:
    return FirmRegistered(
        id=uuid.uuid4().hex,
        time=dt.datetime.now(dt.UTC),
        subject=network,
        data=FirmData(firm_id=firm_id, name=firm_id, location=Location(city="Augsburg")),
    )


def claiming(event: Envelope, firm_id: str) -> Envelope:
    sender = AuthContext(
        authtype=AuthType.SERVICE_ACCOUNT,
        principalid=f"firm-{firm_id}",
        role=Role.FIRM,
        network_id=event.network_id,
        firm_id=firm_id,
    )
    return event.model_copy(update={"authcontext": sender})


async def offers(database_url: str, network: str) -> dict[str, tuple[str, int]]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT offer_id, firm_id, max_seats FROM console_offers WHERE network_id = :n"), {"n": network}
            )
            return {offer_id: (firm_id, seats) for offer_id, firm_id, seats in rows}
    finally:
        await engine.dispose()


async def test_a_firms_topic_changes_only_that_firms_offers_in_the_read_model(sqlite_url: str) -> None:
    await migrate(sqlite_url)
    engine = create_engine(sqlite_url)
    ingest = Ingest(ReadModel(session_factory(engine)), ChangeSignal(), 256 * 1024)
    network = f"n-{uuid.uuid4().hex[:6]}"
    weeks = ("2027-W10", "2027-W20")
    try:
        shared = [registered(network, OWN), registered(network, OTHER)]
        shared.append(capacity_offered(network, "other-offer", OTHER, "M1", *weeks, 3))
        await ingest.records([(encode_event(e), f"{topic('inbound')}:0:{n}") for n, e in enumerate(shared)])

        own_topic = firm_inbound().member(OWN).name
        sent = [
            capacity_offered(network, "own-offer", OWN, "M1", *weeks, 2),
            capacity_offered(network, "for-other", OTHER, "M1", *weeks, 9),
            capacity_offered(network, "other-offer", OWN, "M1", *weeks, 9),
            CapacityChanged(
                id=uuid.uuid4().hex,
                time=dt.datetime.now(dt.UTC),
                subject=network,
                data=CapacityChangedData(offer_id="other-offer", max_seats=9),
            ),
            claiming(capacity_offered(network, "claimed", OWN, "M1", *weeks, 9), OTHER),
            registered(network, "newcomer"),
        ]
        applied = await ingest.records([(encode_event(e), f"{own_topic}:0:{n}") for n, e in enumerate(sent)])
        found = await offers(sqlite_url, network)
    finally:
        await engine.dispose()

    assert applied == 1
    assert found == {"other-offer": (OTHER, 3), "own-offer": (OWN, 2)}
