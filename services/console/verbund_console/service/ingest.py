"""One consumed record: decode it, fold it into the read model once, and wake the network's live pages."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from verbund_schemas import Envelope, InvalidEvent, Keyring, PersonalDataErased, decode_event, decode_opened
from verbund_schemas.topics import firm_inbound

from ..domain.firm_topics import offer_of, refusal
from ..domain.folding import fold
from ..store.readmodel import ReadModel
from .live import ChangeSignal

log = logging.getLogger(__name__)


def _firm_topic(where: str) -> str | None:
    """The firm whose own inbound topic a record was read from ("topic:partition:offset"; no topic name has a
    colon), else None."""
    return firm_inbound().member_of(where.rsplit(":", 2)[0])


class Ingest:
    def __init__(
        self, read_model: ReadModel, signal: ChangeSignal, max_event_bytes: int, keyring: Keyring | None = None
    ) -> None:
        self._read_model = read_model
        self._signal = signal
        self._max_event_bytes = max_event_bytes
        self._keyring = keyring
        self.skipped = 0

    async def record(self, raw: bytes, where: str) -> int | None:
        """Apply one record's event; None when it is unreadable (skipped), not the firm's to send, or already
        applied."""
        event = await self._decode(raw, where)
        if event is None or not await self._firm_may(event, where):
            return None
        return await self.event(event, where)

    async def records(self, raws: Sequence[tuple[bytes, str]]) -> int:
        """Apply a consumed batch (bytes and where each was read) in one transaction; how many were new."""
        decoded = [(e, where) for raw, where in raws if (e := await self._decode(raw, where)) is not None]
        # A batch comes from one subscription: a few topics, asked about once each, not once per record.
        topics = {where.rsplit(":", 2)[0] for _, where in decoded}
        if any(firm_inbound().member_of(name) is not None for name in topics):
            # A firm's event is checked against the read model as it stands just before it, as the matcher
            # checks against its state: such a batch goes in one event at a time, in order.
            applied = 0
            for event, where in decoded:
                if await self._firm_may(event, where) and await self.event(event, where) is not None:
                    applied += 1
            return applied
        events = [e for e, _ in decoded]
        # Where each was read: the matcher's rejection of an inbound event names it (domain/rejected_inbound.py).
        seqs = await self._read_model.apply_many([(e, fold(e, where)) for e, where in decoded])
        newest: dict[str, int] = {}
        for event, seq in zip(events, seqs, strict=True):
            if seq is not None:
                newest[event.network_id] = seq
        for network_id, seq in newest.items():
            await self._signal.announce(network_id, seq)
        return len([s for s in seqs if s is not None])

    async def _firm_may(self, event: Envelope, where: str) -> bool:
        firm = _firm_topic(where)
        if firm is None:
            return True
        registered, owner = await self._read_model.firm_and_offer(event.network_id, firm, offer_of(event))
        why = refusal(event, firm, firm_registered=registered, offer_owner=owner)
        if why is not None:
            self.skipped += 1
            log.warning("skipped %s %s from firm %s's own topic at %s: %s", event.type, event.id, firm, where, why)
            return False
        return True

    async def _decode(self, raw: bytes, where: str) -> Envelope | None:
        try:
            if self._keyring is not None:
                # Names travel sealed: opened with the matcher's key endpoint (ADR 0004).
                return await decode_opened(raw, self._keyring, max_bytes=self._max_event_bytes)
            return decode_event(raw, max_bytes=self._max_event_bytes)
        except PersonalDataErased:
            # An erased person's registration: the read model never learns their name again, not even on rebuild.
            self.skipped += 1
            log.info("skipped an erased person's event at %s", where)
            return None
        except InvalidEvent as exc:
            # The matcher owns the inbound topic and publishes the one rejection of a bad record; the console
            # only reads, and a record it cannot read must not stop it.
            self.skipped += 1
            log.warning("skipped an unreadable record at %s: %s", where, exc.reason)
            return None

    async def event(self, event: Envelope, where: str = "") -> int | None:
        seq = await self._read_model.apply(event, fold(event, where))
        if seq is not None:
            await self._signal.announce(event.network_id, seq)
        return seq
