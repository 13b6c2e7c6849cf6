"""`verbund console issue-token / list-tokens / revoke-token`: shown once, kept hashed, refused once revoked."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from typer.testing import CliRunner
from verbund_console.store.api_tokens import ApiTokens, token_sha256
from verbund_console.store.database import create_engine, session_factory

from verbund.cli import app


def holder_of(url: str, token: str) -> str | None:
    async def look() -> str | None:
        engine = create_engine(url)
        try:
            holder = await ApiTokens(session_factory(engine)).holder(token)
        finally:
            await engine.dispose()
        return None if holder is None else f"{holder.network_id}/{holder.firm_id}"

    return asyncio.run(look())


def test_a_token_is_printed_once_stored_hashed_listed_and_refused_after_revocation(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    issued = CliRunner().invoke(
        app, ["console", "issue-token", "--network", "net-1", "--firm", "rkt", "--name", "HR system", "--database", url]
    )
    assert issued.exit_code == 0, issued.output
    token = issued.stdout.strip()
    assert token.startswith("vbt_") and len(token) > 40
    assert holder_of(url, token) == "net-1/rkt"

    with sqlite3.connect(tmp_path / "console.db") as db:
        stored = db.execute("SELECT token_id, token_sha256 FROM console_api_tokens").fetchall()
    assert len(stored) == 1 and stored[0][1] == token_sha256(token)
    assert token not in (tmp_path / "console.db").read_bytes().decode("latin-1")
    token_id = stored[0][0]

    listed = CliRunner().invoke(app, ["console", "list-tokens", "--network", "net-1", "--database", url])
    assert token_id in listed.stdout and "active" in listed.stdout and token not in listed.stdout

    revoked = CliRunner().invoke(app, ["console", "revoke-token", token_id, "--database", url])
    assert revoked.exit_code == 0 and holder_of(url, token) is None
    assert "revoked" in CliRunner().invoke(app, ["console", "list-tokens", "--database", url]).stdout

    unknown = CliRunner().invoke(app, ["console", "revoke-token", "no-such-token", "--database", url])
    assert unknown.exit_code == 2 and "list-tokens" in unknown.stderr


def test_a_firm_id_that_no_event_could_name_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'console.db'}"
    result = CliRunner().invoke(
        app, ["console", "issue-token", "--network", "net 1", "--firm", "rkt", "--name", "x", "--database", url]
    )
    assert result.exit_code == 2 and "is not an id" in result.output
