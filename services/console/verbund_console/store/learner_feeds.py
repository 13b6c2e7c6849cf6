"""Learners' calendar subscriptions: a secret link per feed, kept only as its SHA-256, revocable by the learner."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, col

from .tables import ConsoleTable

FEED_PREFIX = "vbc_"
"""Marks a Verbund calendar token, so people and secret scanners recognise one in a log or a chat."""


class LearnerFeed(ConsoleTable, table=True):
    """One calendar link of one learner; a calendar app fetches it without signing in, so it is a secret."""

    __tablename__ = "console_learner_feeds"

    feed_id: str = Field(primary_key=True, max_length=32)
    # SHA-256 suffices: the token is 32 random bytes, nothing to guess a dictionary from.
    token_sha256: str = Field(max_length=64, unique=True)
    network_id: str = Field(max_length=128, index=True)
    learner_id: str = Field(max_length=128)
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None


@dataclass(frozen=True)
class FeedHolder:
    network_id: str
    learner_id: str


def feed_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class LearnerFeeds:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def issue(self, network_id: str, learner_id: str) -> str:
        """A new link's token, shown once: only its hash is kept."""
        token = FEED_PREFIX + secrets.token_urlsafe(32)
        async with self._sessions() as session, session.begin():
            session.add(
                LearnerFeed(
                    feed_id=secrets.token_hex(8),
                    token_sha256=feed_sha256(token),
                    network_id=network_id,
                    learner_id=learner_id,
                    created_at=dt.datetime.now(dt.UTC),
                )
            )
        return token

    async def holder(self, token: str) -> FeedHolder | None:
        """Whose calendar the token opens; None alike for an unknown and a revoked one."""
        async with self._sessions() as session:
            row = await session.scalar(
                sa.select(LearnerFeed).where(col(LearnerFeed.token_sha256) == feed_sha256(token))
            )
        if row is None or row.revoked_at is not None:
            return None
        return FeedHolder(row.network_id, row.learner_id)

    async def active(self, network_id: str, learner_id: str) -> int:
        """How many of the learner's links work."""
        async with self._sessions() as session:
            count = await session.scalar(
                sa.select(sa.func.count())
                .select_from(LearnerFeed)
                .where(
                    col(LearnerFeed.network_id) == network_id,
                    col(LearnerFeed.learner_id) == learner_id,
                    col(LearnerFeed.revoked_at).is_(None),
                )
            )
        return int(count or 0)

    async def revoke_all(self, network_id: str, learner_id: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                sa.update(LearnerFeed)
                .where(
                    col(LearnerFeed.network_id) == network_id,
                    col(LearnerFeed.learner_id) == learner_id,
                    col(LearnerFeed.revoked_at).is_(None),
                )
                .values(revoked_at=dt.datetime.now(dt.UTC))
            )
