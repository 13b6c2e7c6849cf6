"""On the real broker: a firm's event that touches another firm's offer is rejected and changes nothing."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from forced_network import ForcedNetwork
from kafka_tools import consume
from matcher_harness import events_of, produce_events, settings_for, until
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from verbund_matcher.runner import run_matcher
from verbund_schemas import topic

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

TODAY = dt.date(2030, 12, 2)


def firm(network: str, firm_id: str) -> dict[str, Any]:
    return {
        "authtype": "service_account",
        "principalid": f"token:{firm_id}",
        "role": "firm",
        "network_id": network,
        "firm_id": firm_id,
    }


async def offer_payloads(database_url: str, network: str) -> dict[str, dict[str, Any]]:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text("SELECT offer_id, payload FROM offers WHERE network_id = :n"), {"n": network}
            )
            return {
                offer_id: payload if isinstance(payload, dict) else json.loads(payload) for offer_id, payload in rows
            }
    finally:
        await engine.dispose()


async def test_firm_one_cannot_change_or_withdraw_firm_twos_offer_but_may_change_its_own(
    kafka_bootstrap: str, fresh_postgres_url: str
) -> None:
    n = ForcedNetwork(f"authz-{uuid.uuid4().hex[:8]}")
    nid = n.network_id
    change_other = {**n._event("CapacityChanged", {"offer_id": "O2", "max_seats": 9}), "authcontext": firm(nid, "F1")}
    withdraw_other = {**n._event("CapacityWithdrawn", {"offer_id": "O2"}), "authcontext": firm(nid, "F1")}
    offer_for_other = {
        **n._event("CapacityOffered", {**n._offer("O9", "F2", "M1")}),
        "authcontext": firm(nid, "F1"),
    }
    change_own = {**n._event("CapacityChanged", {"offer_id": "O1", "max_seats": 7}), "authcontext": firm(nid, "F1")}
    settings = settings_for(kafka_bootstrap, fresh_postgres_url)
    async with run_matcher(settings, today=lambda: TODAY) as matcher:
        await matcher.until_consuming()
        await produce_events(kafka_bootstrap, [*n.setup(), change_other, withdraw_other, offer_for_other, change_own])
        rejected = await consume(
            kafka_bootstrap, topic("rejected"), until=lambda rs: len(events_of(rs, {nid})) >= 3, timeout=60
        )

        async def own_change_applied() -> bool:
            return (await offer_payloads(fresh_postgres_url, nid)).get("O1", {}).get("max_seats") == 7

        # Sent after the refused ones on the same partition: once it is applied, they have all been handled.
        await until(own_change_applied, timeout=60)
        offers = await offer_payloads(fresh_postgres_url, nid)

    refused = events_of(rejected, {nid})
    assert sorted(r["data"]["original_event_id"] for r in refused) == sorted(
        e["id"] for e in (change_other, withdraw_other, offer_for_other)
    )
    for r in refused:
        assert r["data"]["reason"].startswith("not authorised: firm 'token:F1' acts for firm 'F1'"), r["data"]
    # Firm Two's offer is as it was offered; Firm One's own change went through; no offer O9 appeared.
    assert set(offers) == {"O1", "O2"}
    assert offers["O2"]["max_seats"] == n._offer("O2", "F2", "M2")["max_seats"]
    assert offers["O1"]["max_seats"] == 7
