"""Firms' API tokens (only their SHA-256 kept) and the events the HTTP API accepted, for idempotent retries."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, col

from .tables import ConsoleTable, Offer

TOKEN_PREFIX = "vbt_"
"""Marks a Verbund API token, so secret scanners and people recognise one in a log or a repository."""


class ApiToken(ConsoleTable, table=True):
    """A machine client's token: one firm of one network, until it expires or is revoked."""

    __tablename__ = "console_api_tokens"

    token_id: str = Field(primary_key=True, max_length=32)
    # SHA-256 suffices: the token is 32 random bytes, so there is nothing to guess a dictionary from.
    token_sha256: str = Field(max_length=64, unique=True)
    network_id: str = Field(max_length=128)
    firm_id: str = Field(max_length=128)
    name: str = Field(max_length=200)
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None = None


class ApiEvent(ConsoleTable, table=True):
    """An event the HTTP API produced: the same id again is answered, not produced again."""

    __tablename__ = "console_api_events"

    network_id: str = Field(primary_key=True, max_length=128)
    event_id: str = Field(primary_key=True, max_length=128)
    body_sha256: str = Field(max_length=64)
    token_id: str = Field(max_length=32)
    accepted_at: dt.datetime


@dataclass(frozen=True)
class TokenHolder:
    """Who presented a valid token."""

    token_id: str
    network_id: str
    firm_id: str
    name: str


@dataclass(frozen=True)
class TokenListing:
    token_id: str
    network_id: str
    firm_id: str
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime
    revoked_at: dt.datetime | None

    def state(self, now: dt.datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if _utc(self.expires_at) <= now else "active"


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite hands back what it stored without the offset; everything stored here is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class ApiTokens:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def issue(self, network_id: str, firm_id: str, name: str, days: float) -> tuple[str, str]:
        """A new token for the firm: (its id, the token itself, which is kept nowhere)."""
        token_id = secrets.token_hex(8)
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = dt.datetime.now(dt.UTC)
        async with self._sessions() as session, session.begin():
            session.add(
                ApiToken(
                    token_id=token_id,
                    token_sha256=token_sha256(token),
                    network_id=network_id,
                    firm_id=firm_id,
                    name=name,
                    created_at=now,
                    expires_at=now + dt.timedelta(days=days),
                )
            )
        return token_id, token

    async def holder(self, token: str, now: dt.datetime | None = None) -> TokenHolder | None:
        """Whose token this is, if it is known, not expired and not revoked; None alike for each of those."""
        now = now or dt.datetime.now(dt.UTC)
        async with self._sessions() as session:
            row = await session.scalar(sa.select(ApiToken).where(col(ApiToken.token_sha256) == token_sha256(token)))
        if row is None or row.revoked_at is not None or _utc(row.expires_at) <= now:
            return None
        return TokenHolder(row.token_id, row.network_id, row.firm_id, row.name)

    async def revoke(self, token_id: str) -> bool:
        """Revoke the token; False when there is no such token (revoking twice keeps the first time)."""
        async with self._sessions() as session, session.begin():
            row = await session.get(ApiToken, token_id)
            if row is None:
                return False
            if row.revoked_at is None:
                row.revoked_at = dt.datetime.now(dt.UTC)
        return True

    async def listing(self, network_id: str | None = None) -> list[TokenListing]:
        query = sa.select(ApiToken).order_by(col(ApiToken.network_id), col(ApiToken.firm_id), col(ApiToken.created_at))
        if network_id is not None:
            query = query.where(col(ApiToken.network_id) == network_id)
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return [
            TokenListing(r.token_id, r.network_id, r.firm_id, r.name, r.created_at, r.expires_at, r.revoked_at)
            for r in rows
        ]

    async def accepted(self, network_id: str, event_id: str) -> str | None:
        """The SHA-256 of the body accepted under this id in this network, if one was."""
        async with self._sessions() as session:
            row = await session.get(ApiEvent, (network_id, event_id))
        return row.body_sha256 if row is not None else None

    async def remember(self, network_id: str, event_id: str, body_sha256: str, token_id: str) -> None:
        """Note an event as produced; two requests racing with the same id both produced it, the matcher keeps one."""
        try:
            async with self._sessions() as session, session.begin():
                session.add(
                    ApiEvent(
                        network_id=network_id,
                        event_id=event_id,
                        body_sha256=body_sha256,
                        token_id=token_id,
                        accepted_at=dt.datetime.now(dt.UTC),
                    )
                )
        except IntegrityError:
            pass

    async def offer_firm(self, network_id: str, offer_id: str) -> str | None:
        """The firm of an offer as the console's read model knows it (None: not known here yet)."""
        async with self._sessions() as session:
            row = await session.get(Offer, (network_id, offer_id))
        return row.firm_id if row is not None else None
