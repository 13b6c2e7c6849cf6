"""Wakes the live pages of a network when its read model changed (they then read what changed from the store)."""

from __future__ import annotations

import asyncio
import contextlib


class ChangeSignal:
    """Per network, the newest change number, and a wake-up for everyone waiting on it."""

    def __init__(self) -> None:
        self._newest: dict[str, int] = {}
        self._changed = asyncio.Condition()

    async def announce(self, network_id: str, seq: int) -> None:
        async with self._changed:
            self._newest[network_id] = max(seq, self._newest.get(network_id, 0))
            self._changed.notify_all()

    async def wait_beyond(self, network_id: str, seq: int, timeout: float) -> None:  # noqa: ASYNC109
        """Return once the network has a change after `seq`, or after `timeout` seconds (for a keep-alive)."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait_for(lambda: self._newest.get(network_id, 0) > seq), timeout)
