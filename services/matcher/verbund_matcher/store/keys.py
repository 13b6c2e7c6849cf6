"""The key table: one data key per learner, firm contact and network's coordinators, wrapped by the master key."""

from __future__ import annotations

import base64
import datetime as dt
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from verbund_schemas import DataKey, PersonalDataErased
from verbund_schemas.personal import KEY_BYTES, NONCE_BYTES, new_data_key_secret

from .tables import DataKeyRow


class MasterKeyProblem(RuntimeError):
    """The master key cannot be read or is not a key."""


class MasterKey:
    """Wraps data keys at rest: a database dump alone opens no personal data."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) != KEY_BYTES:
            raise MasterKeyProblem(f"a master key has {KEY_BYTES} bytes, not {len(secret)}")
        self._aead = AESGCM(secret)

    @classmethod
    def from_text(cls, text: str) -> MasterKey:
        try:
            return cls(base64.urlsafe_b64decode(text.strip().encode("ascii")))
        except (ValueError, UnicodeEncodeError) as exc:
            raise MasterKeyProblem("the master key is not base64url text of 32 bytes") from exc

    @classmethod
    def from_file(cls, path: Path, *, create: bool = True) -> MasterKey:
        """Read the key file; on first start write a new one, readable by its owner only."""
        if not path.exists():
            if not create:
                raise MasterKeyProblem(f"the master key file {path} does not exist")
            path.parent.mkdir(parents=True, exist_ok=True)
            secret = base64.urlsafe_b64encode(AESGCM.generate_key(bit_length=KEY_BYTES * 8)).decode("ascii")
            try:
                handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process wrote it first: read theirs
            else:
                with os.fdopen(handle, "w", encoding="ascii") as out:
                    out.write(secret + "\n")
        try:
            return cls.from_text(path.read_text(encoding="ascii"))
        except OSError as exc:
            raise MasterKeyProblem(f"the master key file {path} cannot be read: {exc.strerror}") from exc

    def wrap(self, key_id: str, secret: bytes) -> str:
        nonce = os.urandom(NONCE_BYTES)
        return base64.urlsafe_b64encode(nonce + self._aead.encrypt(nonce, secret, key_id.encode())).decode("ascii")

    def unwrap(self, key_id: str, wrapped: str) -> bytes:
        raw = base64.urlsafe_b64decode(wrapped.encode("ascii"))
        try:
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], key_id.encode())
        except InvalidTag as exc:
            raise MasterKeyProblem(f"data key {key_id} does not open with this master key") from exc


class KeyTable:
    """The keyring of the matcher's database: creates, hands out and destroys data keys.

    No key is cached in memory: a key destroyed by one replica is gone for every other at its next read.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], master: MasterKey | Path) -> None:
        self._sessions = sessions
        # A path is read when the first key is needed: a matcher that never meets personal data writes no file.
        self._master_source = master
        self._loaded: MasterKey | None = master if isinstance(master, MasterKey) else None

    @property
    def _master(self) -> MasterKey:
        if self._loaded is None:
            source = self._master_source
            self._loaded = source if isinstance(source, MasterKey) else MasterKey.from_file(source)
        return self._loaded

    async def key_for(self, network_id: str, holder: str) -> DataKey:
        for _ in range(2):
            async with self._sessions() as session:
                row = await _row_of(session, network_id, holder)
                if row is not None:
                    return self._open(row, network_id, holder)
                key_id = f"k-{secrets.token_hex(12)}"
                secret = new_data_key_secret()
                session.add(
                    DataKeyRow(
                        key_id=key_id,
                        network_id=network_id,
                        holder=holder,
                        wrapped=self._master.wrap(key_id, secret),
                    )
                )
                try:
                    await session.commit()
                except IntegrityError:
                    # Another replica or producer created the holder's key at the same moment: use theirs.
                    await session.rollback()
                    continue
                return DataKey(key_id, secret)
        raise RuntimeError(f"no data key could be created for {holder} in network {network_id}")

    async def key_in(self, session: AsyncSession, network_id: str, holder: str) -> DataKey | None:
        """The holder's key within the caller's transaction, made there if missing; None once destroyed.

        Inside the matcher's batch transaction: on SQLite a second transaction could not write while it runs.
        """
        row = await _row_of(session, network_id, holder)
        if row is None:
            key_id = f"k-{secrets.token_hex(12)}"
            secret = new_data_key_secret()
            session.add(
                DataKeyRow(
                    key_id=key_id, network_id=network_id, holder=holder, wrapped=self._master.wrap(key_id, secret)
                )
            )
            await session.flush()
            return DataKey(key_id, secret)
        if row.wrapped is None:
            return None
        return DataKey(row.key_id, self._master.unwrap(row.key_id, row.wrapped))

    async def key(self, network_id: str, key_id: str) -> DataKey | None:
        async with self._sessions() as session:
            row = await session.get(DataKeyRow, key_id)
        if row is None or row.network_id != network_id or row.wrapped is None:
            return None
        return DataKey(row.key_id, self._master.unwrap(row.key_id, row.wrapped))

    async def destroyed(self, network_id: str, holder: str) -> bool:
        async with self._sessions() as session:
            row = await _row_of(session, network_id, holder)
        return row is not None and row.wrapped is None

    def _open(self, row: DataKeyRow, network_id: str, holder: str) -> DataKey:
        if row.wrapped is None:
            raise PersonalDataErased(network_id, holder)
        return DataKey(row.key_id, self._master.unwrap(row.key_id, row.wrapped))


async def destroy_key(session: AsyncSession, network_id: str, holder: str, *, now: dt.datetime | None = None) -> bool:
    """Destroy the holder's key in the caller's transaction; the row stays, keyless. True if a key was destroyed.

    A holder that never had a key gets a keyless row too, so a late event sealed elsewhere cannot bring them back.
    """
    row = await _row_of(session, network_id, holder)
    if row is None:
        session.add(
            DataKeyRow(
                key_id=f"k-{secrets.token_hex(12)}",
                network_id=network_id,
                holder=holder,
                wrapped=None,
                destroyed_at=now or dt.datetime.now(dt.UTC),
            )
        )
        return False
    if row.wrapped is None:
        return False
    row.wrapped = None
    row.destroyed_at = now or dt.datetime.now(dt.UTC)
    session.add(row)
    return True


async def retire_key(session: AsyncSession, network_id: str, holder: str, *, now: dt.datetime | None = None) -> bool:
    """Destroy a contact's key (a firm's training contact, the coordinators) and free the holder for a new one.

    Unlike a learner, a firm and a network go on: the next contact they send is another person's, sealed under
    a new key, while every record sealed under the destroyed one stays unreadable. The keyless row is kept under
    the holder's name with the key's id appended. True if a key was destroyed.
    """
    row = await _row_of(session, network_id, holder)
    if row is None:
        return False
    destroyed = row.wrapped is not None
    row.wrapped = None
    row.destroyed_at = row.destroyed_at or now or dt.datetime.now(dt.UTC)
    row.holder = f"{holder}!{row.key_id.removeprefix('k-')}"
    session.add(row)
    await session.flush()
    return destroyed


async def _row_of(session: AsyncSession, network_id: str, holder: str) -> DataKeyRow | None:
    stmt = select(DataKeyRow).where(col(DataKeyRow.network_id) == network_id, col(DataKeyRow.holder) == holder)
    return (await session.exec(stmt)).first()
