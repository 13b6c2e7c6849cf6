"""The console's HTTP API on the real broker: a firm's token sends only its own firm's events, stamped with it."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from console_on_kafka import TIME, console_on_kafka, console_settings
from kafka_tools import consume
from verbund_console.app import Console
from verbund_console.store.api_tokens import ApiTokens
from verbund_console.store.database import session_factory
from verbund_schemas import topic

pytestmark = [pytest.mark.kafka]


@dataclass
class Api:
    console: Console
    http: httpx.AsyncClient
    tokens: ApiTokens
    network: str
    firm_a: tuple[str, str]  # (token id, token)
    firm_b: tuple[str, str]

    async def post(self, body: Any, token: str | None) -> httpx.Response:
        headers = {"authorization": f"Bearer {token}"} if token is not None else {}
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return await self.http.post("/api/v1/events", content=content, headers=headers)


@pytest.fixture
async def api(kafka_bootstrap: str, tmp_path: Path) -> AsyncIterator[Api]:
    async with console_on_kafka(console_settings(kafka_bootstrap, tmp_path)) as console:
        assert console.web is not None
        tokens = ApiTokens(session_factory(console.engine))
        network = f"api-{uuid.uuid4().hex[:8]}"
        firm_a = await tokens.issue(network, "firm-a", "HR system A", 30)
        firm_b = await tokens.issue(network, "firm-b", "HR system B", 30)
        transport = httpx.ASGITransport(app=console.web)
        async with httpx.AsyncClient(transport=transport, base_url="http://console") as http:
            yield Api(console, http, tokens, network, firm_a, firm_b)


def event(network: str, event_type: str, data: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    return {
        "type": event_type,
        "id": f"e-{uuid.uuid4().hex[:10]}",
        "time": TIME,
        "subject": network,
        "data": data,
        **envelope,
    }


def offer(network: str, offer_id: str, firm_id: str, **envelope: Any) -> dict[str, Any]:
    data = {
        "offer_id": offer_id,
        "firm_id": firm_id,
        "module_id": "cnc",
        "first_week": "2027-W10",
        "last_week": "2027-W35",
        "max_seats": 2,
    }
    return event(network, "CapacityOffered", data, **envelope)


async def on_topic(network: str, bootstrap: str, until_id: str) -> list[dict[str, Any]]:
    """The inbound records of this network, up to and including the event `until_id`."""
    records = await consume(
        bootstrap,
        topic("inbound"),
        until=lambda rs: any(r.key == network.encode() and json.loads(r.value or b"{}")["id"] == until_id for r in rs),
        timeout=30,
    )
    return [json.loads(r.value or b"{}") for r in records if r.key == network.encode()]


async def test_an_accepted_event_reaches_the_topic_keyed_by_network_and_stamped_with_the_token(
    api: Api, kafka_bootstrap: str
) -> None:
    token_id, token = api.firm_a
    forged = {"authtype": "system", "principalid": "root", "role": "system", "network_id": api.network}
    body = offer(api.network, "a-cnc", "firm-a", authcontext=forged)
    answer = await api.post(body, token)
    assert (answer.status_code, answer.json()) == (202, {"id": body["id"]})

    # The same event again is answered, not produced again; a later event shows what reached the topic.
    again = await api.post(body, token)
    assert (again.status_code, again.json()) == (200, {"id": body["id"]})
    later = offer(api.network, "a-cnc-2", "firm-a")
    assert (await api.post(later, token)).status_code == 202
    seen = await on_topic(api.network, kafka_bootstrap, later["id"])

    sent = [e for e in seen if e["id"] == body["id"]]
    assert len(sent) == 1
    assert sent[0]["authcontext"] == {
        "authtype": "service_account",
        "principalid": f"token:{token_id}",
        "role": "firm",
        "network_id": api.network,
        "firm_id": "firm-a",
        "learner_id": None,
    }
    assert sent[0]["data"]["offer_id"] == "a-cnc" and sent[0]["subject"] == api.network


async def test_another_body_under_an_accepted_id_is_a_conflict(api: Api) -> None:
    _, token = api.firm_a
    body = offer(api.network, "a-1", "firm-a")
    assert (await api.post(body, token)).status_code == 202
    changed = {**body, "data": {**body["data"], "max_seats": 5}}
    answer = await api.post(changed, token)
    assert answer.status_code == 409 and "new id" in answer.json()["error"]


async def test_no_token_an_unknown_an_expired_and_a_revoked_one_are_refused_alike(api: Api) -> None:
    body = offer(api.network, "a-1", "firm-a")
    _, expired = await api.tokens.issue(api.network, "firm-a", "expired", -1)
    revoked_id, revoked = await api.tokens.issue(api.network, "firm-a", "revoked", 30)
    assert await api.tokens.revoke(revoked_id)

    missing = await api.post(body, None)
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    answers = [await api.post(body, token) for token in ("vbt_guessed", expired, revoked)]
    assert [a.status_code for a in answers] == [401, 401, 401]
    assert len({a.json()["error"] for a in answers}) == 1


async def test_firm_a_cannot_send_for_firm_b_another_network_or_the_coordinators(
    api: Api, kafka_bootstrap: str
) -> None:
    _, token_a = api.firm_a
    _, token_b = api.firm_b
    # Firm B's offer, as the console's read model learns it from the topic.
    b_offer = offer(api.network, "b-cnc", "firm-b")
    assert (await api.post(b_offer, token_b)).status_code == 202
    record = next(e for e in await on_topic(api.network, kafka_bootstrap, b_offer["id"]) if e["id"] == b_offer["id"])
    await api.console.ingest.record(json.dumps(record).encode(), "test")

    firm = {"name": "B", "location": {"city": "Bonn"}}
    refused = {
        "offer for firm B": offer(api.network, "a-for-b", "firm-b"),
        "change of B's offer": event(api.network, "CapacityChanged", {"offer_id": "b-cnc", "max_seats": 9}),
        "withdrawal of B's offer": event(api.network, "CapacityWithdrawn", {"offer_id": "b-cnc"}),
        "update of firm B": event(api.network, "FirmUpdated", {"firm_id": "firm-b", **firm}),
        "another network": offer("other-network", "a-cnc", "firm-a"),
        "a coordinator's event": event(api.network, "FirmLeft", {"firm_id": "firm-a"}),
        "answer for firm B": event(
            api.network,
            "PlacementAnswered",
            {
                "learner_id": "l-1",
                "module_id": "cnc",
                "firm_id": "firm-b",
                "start_week": "2027-W10",
                "answer": "accepted",
            },
        ),
    }
    answers = {what: await api.post(body, token_a) for what, body in refused.items()}
    assert {what: a.status_code for what, a in answers.items()} == dict.fromkeys(refused, 403)
    assert "firm 'firm-a'" in answers["change of B's offer"].json()["error"]

    # None of them reached the topic: the next accepted event is the first of firm A's there.
    own = event(api.network, "FirmUpdated", {"firm_id": "firm-a", **firm})
    assert (await api.post(own, token_a)).status_code == 202
    ids = {e["id"] for e in await on_topic(api.network, kafka_bootstrap, own["id"])}
    assert ids == {b_offer["id"], own["id"]}


async def test_an_invalid_event_is_answered_with_the_contracts_message(api: Api) -> None:
    _, token = api.firm_a
    bad = offer(api.network, "a-1", "firm-a")
    bad["data"]["max_seats"] = 0
    answer = await api.post(bad, token)
    assert answer.status_code == 422
    assert "does not match its contract" in answer.json()["error"]
    assert any(line.startswith("data.max_seats:") for line in answer.json()["errors"])
    assert (await api.post(b"{not json", token)).status_code == 422
    unknown = await api.post({**bad, "type": "CapacityDoubled"}, token)
    assert unknown.status_code == 422 and "unknown event type" in unknown.json()["error"]
    huge = await api.post(offer(api.network, "a-2", "firm-a", source="x" * 300_000), token)
    assert huge.status_code == 413 and "VERBUND_MAX_EVENT_BYTES" in huge.json()["error"]


async def test_the_openapi_document_describes_the_events_a_firm_may_send(api: Api) -> None:
    document = (await api.http.get("/api/v1/openapi.json")).json()
    post = document["paths"]["/events"]["post"]
    refs = {r["$ref"].rsplit("/", 1)[1] for r in post["requestBody"]["content"]["application/json"]["schema"]["oneOf"]}
    assert refs == {"CapacityOffered", "CapacityChanged", "CapacityWithdrawn", "FirmUpdated", "PlacementAnswered"}
    assert set(post["responses"]) >= {"200", "202", "401", "403", "409", "413", "422"}
    assert "AuthContext" in document["components"]["schemas"]
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"
