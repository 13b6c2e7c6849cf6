"""Python's cyclic garbage collector, kept from stalling the event loop while the network cache grows."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable


class CollectorPolicy:
    """After every committed batch: collect the young generations, then freeze what is left.

    A full collection scans every object the collector tracks. With a few dozen networks cached that is a few
    hundred thousand objects, and Python ran such a collection every few seconds while the cache grew, each one
    stopping the event loop (consumer, relay, health endpoint) for up to 300 ms (`bench/ingest.py` on SQLite:
    nine of them, 1.5 s in all, in a run of 12,000 events). Frozen objects are not scanned: what survives a
    batch is mostly the cache, which lives on anyway. Cyclic garbage frozen with it is reclaimed every
    `full_every` seconds, when everything is unfrozen and collected once, at a moment this policy chooses.
    """

    def __init__(self, full_every: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._full_every = full_every
        self._clock = clock
        self._last_full = clock()

    def after_batch(self) -> None:
        gc.collect(1)  # the batch's own cyclic garbage goes now, not into the frozen set
        if self._clock() - self._last_full >= self._full_every:
            gc.unfreeze()
            gc.collect()
            self._last_full = self._clock()
        gc.freeze()
