"""The faults a run injects: kill -9 of either service, of the broker, PostgreSQL's immediate stop, a rebalance."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import time
from dataclasses import dataclass

from fault_run import FaultWindow, Pipeline


def _window(name: str, started: float, detail: str = "") -> FaultWindow:
    return FaultWindow(name, started, time.monotonic(), dt.datetime.now(dt.UTC), detail=detail)


@dataclass
class KillMatcher:
    """kill -9 of the matcher (its outbox relay runs inside it), then the same replica started again."""

    down_seconds: float = 1.0
    name: str = "kill -9 matcher"

    async def inject(self, pipeline: Pipeline, rng: random.Random) -> FaultWindow:
        started = time.monotonic()
        unsent = await _unsent(pipeline)
        pipeline.matcher.kill()
        await asyncio.sleep(self.down_seconds * rng.uniform(0.5, 1.5))
        pipeline.matcher.start()
        return _window(self.name, started, f"{unsent} outbox rows unsent at the kill")


@dataclass
class KillMatcherWhileRelaying:
    """kill -9 of the matcher at a moment its outbox holds rows its relay has not marked sent."""

    down_seconds: float = 1.0
    name: str = "kill -9 matcher mid-relay"

    async def inject(self, pipeline: Pipeline, rng: random.Random) -> FaultWindow:
        deadline = time.monotonic() + 20
        unsent = 0
        while time.monotonic() < deadline:
            unsent = await _unsent(pipeline)
            if unsent:
                break
            await asyncio.sleep(0.01)
        started = time.monotonic()
        pipeline.matcher.kill()
        await asyncio.sleep(self.down_seconds * rng.uniform(0.5, 1.5))
        pipeline.matcher.start()
        return _window(self.name, started, f"{unsent} outbox rows unsent at the kill")


@dataclass
class KillNotifier:
    """kill -9 of the notifier, possibly in the middle of sending mail, then started again."""

    down_seconds: float = 1.0
    name: str = "kill -9 notifier"

    async def inject(self, pipeline: Pipeline, rng: random.Random) -> FaultWindow:
        assert pipeline.notifier is not None
        started = time.monotonic()
        pipeline.notifier.kill()
        await asyncio.sleep(self.down_seconds * rng.uniform(0.5, 1.5))
        pipeline.notifier.start()
        return _window(self.name, started)


@dataclass
class KillBroker:
    """kill -9 of the (only) Kafka broker, and a restart on the same data once it has been gone a while."""

    down_seconds: float = 2.0
    name: str = "kill -9 broker"

    async def inject(self, pipeline: Pipeline, rng: random.Random) -> FaultWindow:
        started = time.monotonic()
        pipeline.stack.kafka.kill()
        await asyncio.sleep(self.down_seconds * rng.uniform(0.5, 1.5))
        await pipeline.stack.kafka.restart()
        return _window(self.name, started)


@dataclass
class StopPostgres:
    """`pg_ctl stop -m immediate` (every server process quits, no checkpoint), then a start with WAL recovery."""

    down_seconds: float = 2.0
    name: str = "pg_ctl stop -m immediate"

    async def inject(self, pipeline: Pipeline, rng: random.Random) -> FaultWindow:
        started = time.monotonic()
        await asyncio.to_thread(pipeline.stack.postgres.stop_immediately)
        await asyncio.sleep(self.down_seconds * rng.uniform(0.5, 1.5))
        await asyncio.to_thread(pipeline.stack.postgres.restart)
        return _window(self.name, started)


@dataclass
class Rebalance:
    """A second matcher joins the group; once it holds partitions, the first one is killed with kill -9."""

    name: str = "rebalance (2nd matcher, kill -9 1st)"

    async def inject(self, pipeline: Pipeline, rng: random.Random) -> FaultWindow:
        first = pipeline.matcher
        started = time.monotonic()
        second = pipeline.add_matcher()
        deadline = time.monotonic() + 120
        held = 0
        while time.monotonic() < deadline:
            second.assert_running()
            held = await second.held_partitions()
            if held:
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(rng.uniform(0.0, 1.0))
        first.kill()
        # The group hands the dead replica's partitions over only after its session times out.
        return _window(self.name, started, f"the second matcher held {held} partitions when the first died")


async def _unsent(pipeline: Pipeline) -> int:
    try:
        return await pipeline.unsent()
    except Exception:
        return -1
