"""Accounts: argon2 password hashes, coordinators' granted networks, firm users' firms, learners' own ids, and
failed sign-ins for the rate limit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from .tables import Grant, Membership, SigninFailure, User

COORDINATOR = "coordinator"
FIRM = "firm"
LEARNER = "learner"


@dataclass(frozen=True)
class Member:
    """What a firm user or a learner is in one network: the firm they act for, or the learner they are."""

    network_id: str
    role: str  # FIRM | LEARNER
    subject_id: str


@dataclass(frozen=True)
class AccountListing:
    """One line of the account list: what an account is in one network; never its password hash."""

    email: str
    role: str  # COORDINATOR | FIRM | LEARNER, or "" for an account with neither grant nor membership
    network_id: str
    subject_id: str  # the firm or the learner; "" for a coordinator


_hasher = PasswordHasher()
# Verified against when the account does not exist, so a missing account takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("no such account")


def normalise_email(email: str) -> str:
    return email.strip().lower()


class Accounts:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add_user(self, email: str, password: str, networks: list[str]) -> bool:
        """Create the account, or set a new password; grant the networks. True when the account is new."""
        email = normalise_email(email)
        hashed = _hasher.hash(password)
        async with self._sessions() as session, session.begin():
            user = await session.get(User, email)
            created = user is None
            if user is None:
                session.add(User(email=email, password_hash=hashed, created_at=dt.datetime.now(dt.UTC)))
            else:
                user.password_hash = hashed
            for network_id in networks:
                if await session.get(Grant, (email, network_id)) is None:
                    session.add(Grant(email=email, network_id=network_id))
        return created

    async def add_member(self, email: str, network_id: str, role: str, subject_id: str) -> None:
        """Let an existing account act for a firm of the network, or be a learner of it."""
        if role not in (FIRM, LEARNER):
            raise ValueError(f"role must be {FIRM!r} or {LEARNER!r}, not {role!r}")
        email = normalise_email(email)
        async with self._sessions() as session, session.begin():
            if await session.get(User, email) is None:
                raise LookupError(f"no account {email!r}")
            if await session.get(Membership, (email, network_id, role, subject_id)) is None:
                session.add(Membership(email=email, network_id=network_id, role=role, subject_id=subject_id))

    async def add_member_account(self, email: str, password: str, network_id: str, role: str, subject_id: str) -> bool:
        """Create a new account that acts for a firm of the network, or is a learner of it, in one transaction.

        False when the email already has an account: that account is left as it is (its password above all), so
        a coordinator cannot take over someone's account, another network's coordinator's included.
        """
        if role not in (FIRM, LEARNER):
            raise ValueError(f"role must be {FIRM!r} or {LEARNER!r}, not {role!r}")
        email = normalise_email(email)
        hashed = _hasher.hash(password)
        try:
            async with self._sessions() as session, session.begin():
                if await session.get(User, email) is not None:
                    return False
                session.add(User(email=email, password_hash=hashed, created_at=dt.datetime.now(dt.UTC)))
                await session.flush()
                session.add(Membership(email=email, network_id=network_id, role=role, subject_id=subject_id))
        except IntegrityError:
            # The same email made at the same moment elsewhere (another replica, the command line): that one won.
            return False
        return True

    async def remove_member_of_network(self, email: str, network_id: str, role: str, subject_id: str) -> bool:
        """Take the firm or learner from the account; an account left with neither a grant nor a membership is
        removed too, so it cannot sign in any more and its open session ends. False when it was no member."""
        email = normalise_email(email)
        async with self._sessions() as session, session.begin():
            row = await session.get(Membership, (email, network_id, role, subject_id))
            if row is None:
                return False
            await session.delete(row)
            await session.flush()
            grants = await session.scalar(
                sa.select(sa.func.count()).select_from(Grant).where(col(Grant.email) == email)
            )
            members = await session.scalar(
                sa.select(sa.func.count()).select_from(Membership).where(col(Membership.email) == email)
            )
            if not grants and not members:
                await session.execute(sa.delete(User).where(col(User.email) == email))
        return True

    async def remove_user(self, email: str) -> bool:
        """Delete the account with its grants and memberships; False when there is none.

        Sessions are signed cookies, not rows: the pages check that the account still exists, so an open session
        ends at its next request. A firm's API tokens stay; they belong to the firm, not to a person.
        """
        email = normalise_email(email)
        async with self._sessions() as session, session.begin():
            user = await session.get(User, email)
            if user is None:
                return False
            await session.execute(sa.delete(Grant).where(col(Grant.email) == email))
            await session.execute(sa.delete(Membership).where(col(Membership.email) == email))
            await session.delete(user)
        return True

    async def remove_member(self, email: str, network_id: str, role: str, subject_id: str) -> bool:
        """The account no longer acts for the firm, or is no longer the learner; False when it was not."""
        async with self._sessions() as session, session.begin():
            row = await session.get(Membership, (normalise_email(email), network_id, role, subject_id))
            if row is None:
                return False
            await session.delete(row)
        return True

    async def exists(self, email: str) -> bool:
        async with self._sessions() as session:
            return await session.get(User, normalise_email(email)) is not None

    async def listing(self, network_id: str | None = None) -> list[AccountListing]:
        """Every account, a line per granted network and per membership, by email; optionally of one network."""
        async with self._sessions() as session:
            users = list(await session.scalars(sa.select(col(User.email)).order_by(col(User.email))))
            grants = (await session.execute(sa.select(col(Grant.email), col(Grant.network_id)))).all()
            members = await session.scalars(sa.select(Membership))
            lines = [AccountListing(email, COORDINATOR, network, "") for email, network in grants]
            lines += [AccountListing(m.email, m.role, m.network_id, m.subject_id) for m in members]
        placed = {line.email for line in lines}
        # An account left with neither grant nor membership can still sign in; it shows so it can be removed.
        lines += [AccountListing(email, "", "", "") for email in users if email not in placed]
        if network_id is not None:
            lines = [line for line in lines if line.network_id == network_id]
        return sorted(lines, key=lambda line: (line.email, line.network_id, line.role, line.subject_id))

    async def members(self, email: str) -> list[Member]:
        """Every firm the account acts for and every learner it is, by network."""
        async with self._sessions() as session:
            rows = await session.scalars(
                sa.select(Membership)
                .where(col(Membership.email) == normalise_email(email))
                .order_by(col(Membership.network_id), col(Membership.role), col(Membership.subject_id))
            )
            return [Member(r.network_id, r.role, r.subject_id) for r in rows]

    async def is_member(self, email: str, network_id: str, role: str, subject_id: str) -> bool:
        async with self._sessions() as session:
            row = await session.get(Membership, (normalise_email(email), network_id, role, subject_id))
        return row is not None

    async def verify(self, email: str, password: str) -> bool:
        async with self._sessions() as session:
            user = await session.get(User, normalise_email(email))
        try:
            return _hasher.verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
        except (VerificationError, InvalidHashError):
            return False

    async def grants(self, email: str) -> list[str]:
        async with self._sessions() as session:
            rows = await session.scalars(
                sa.select(col(Grant.network_id)).where(col(Grant.email) == normalise_email(email))
            )
            return sorted(rows)

    async def failures(self, email: str, address: str, since: dt.datetime) -> int:
        async with self._sessions() as session:
            count = await session.scalar(
                sa.select(sa.func.count())
                .select_from(SigninFailure)
                .where(
                    col(SigninFailure.email) == normalise_email(email),
                    col(SigninFailure.address) == address,
                    col(SigninFailure.at) >= since,
                )
            )
        return int(count or 0)

    async def record_failure(self, email: str, address: str) -> None:
        async with self._sessions() as session, session.begin():
            session.add(
                SigninFailure(email=normalise_email(email)[:254], address=address[:64], at=dt.datetime.now(dt.UTC))
            )

    async def clear_failures(self, email: str, address: str) -> None:
        async with self._sessions() as session, session.begin():
            await session.execute(
                sa.delete(SigninFailure).where(
                    col(SigninFailure.email) == normalise_email(email), col(SigninFailure.address) == address
                )
            )
