"""Over HTTP with the console's own app: a removed account's open session ends at its next request."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from verbund_console.app import Console, build
from verbund_console.settings import ConsoleSettings
from verbund_console.store.accounts import FIRM
from verbund_console.store.database import migrate

PASSWORD = "correct horse battery staple"


async def signed_in_client(console: Console, email: str) -> httpx.AsyncClient:
    assert console.web is not None
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=console.web), base_url="http://console.test")
    form = await client.get("/signin")
    found = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert found, form.text
    signed = await client.post(
        "/signin", data={"csrf": found.group(1), "email": email, "password": PASSWORD, "next": "/"}
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/", signed.text
    return client


async def test_a_removed_coordinator_and_firm_user_are_sent_to_sign_in_at_their_next_request(tmp_path: Path) -> None:
    settings = ConsoleSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'console.db'}", session_secret="s" * 40, consume=False
    )
    await migrate(settings.database_url)
    console = build(settings)
    await console.accounts.add_user("coord@example.org", PASSWORD, ["n1"])
    await console.accounts.add_user("hr@firm.example", PASSWORD, [])
    await console.accounts.add_member("hr@firm.example", "n1", FIRM, "rkt")
    await console.accounts.add_user("stays@example.org", PASSWORD, ["n1"])
    try:
        coordinator = await signed_in_client(console, "coord@example.org")
        firm_user = await signed_in_client(console, "hr@firm.example")
        staying = await signed_in_client(console, "stays@example.org")
        assert (await coordinator.get("/n/n1/")).status_code == 200
        assert (await firm_user.get("/firm/")).headers["location"] == "/f/n1/rkt/"

        assert await console.accounts.remove_user("coord@example.org")
        assert await console.accounts.remove_user("HR@firm.example")

        for client, path in ((coordinator, "/n/n1/"), (coordinator, "/"), (firm_user, "/firm/")):
            response = await client.get(path)
            assert response.status_code == 303 and response.headers["location"].startswith("/signin"), path
        assert (await staying.get("/n/n1/")).status_code == 200, "another account's session goes on"
        # The cleared session stays ended even when the account is made again with the same email.
        await console.accounts.add_user("coord@example.org", PASSWORD, ["n1"])
        assert (await coordinator.get("/n/n1/")).status_code == 303
        for client in (coordinator, firm_user, staying):
            await client.aclose()
    finally:
        await console.engine.dispose()
