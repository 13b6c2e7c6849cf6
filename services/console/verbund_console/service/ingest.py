"""One consumed record: decode it, fold it into the read model once, and wake the network's live pages."""

from __future__ import annotations

import logging

from verbund_schemas import Envelope, InvalidEvent, Keyring, PersonalDataErased, decode_event, decode_opened

from ..domain.folding import fold
from ..store.readmodel import ReadModel
from .live import ChangeSignal

log = logging.getLogger(__name__)


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
        """Apply one record's event; None when it is unreadable (skipped) or already applied."""
        try:
            if self._keyring is not None:
                # Names travel sealed: opened with the matcher's key endpoint (ADR 0004).
                event = await decode_opened(raw, self._keyring, max_bytes=self._max_event_bytes)
            else:
                event = decode_event(raw, max_bytes=self._max_event_bytes)
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
        return await self.event(event)

    async def event(self, event: Envelope) -> int | None:
        seq = await self._read_model.apply(event, fold(event))
        if seq is not None:
            await self._signal.announce(event.network_id, seq)
        return seq
