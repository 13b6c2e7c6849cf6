"""One consumed record: decode it, fold it into the read model once, and wake the network's live pages."""

from __future__ import annotations

import logging

from verbund_schemas import Envelope, InvalidEvent, decode_event

from ..domain.folding import fold
from ..store.readmodel import ReadModel
from .live import ChangeSignal

log = logging.getLogger(__name__)


class Ingest:
    def __init__(self, read_model: ReadModel, signal: ChangeSignal, max_event_bytes: int) -> None:
        self._read_model = read_model
        self._signal = signal
        self._max_event_bytes = max_event_bytes
        self.skipped = 0

    async def record(self, raw: bytes, where: str) -> int | None:
        """Apply one record's event; None when it is unreadable (skipped) or already applied."""
        try:
            event = decode_event(raw, max_bytes=self._max_event_bytes)
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
