"""Where an inbound record's time goes: a histogram per stage of the hot path, and append → published end to end."""

from __future__ import annotations

import enum
import time
from collections import deque
from collections.abc import Iterable

from prometheus_client import Histogram

# From a fraction of a millisecond (one inbox lookup) to a minute (a backlog the matcher is working through).
_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)


class Stage(enum.IntEnum):
    """The stages of one event's way through the matcher, in order; their names are the `stage` label."""

    FETCH_WAIT = 0  # the record's append to the log → the handler holds its batch (per record)
    DECODE = 1  # size check, sealed fields opened, contract validation (per batch)
    INBOX = 2  # inbox lookup of the batch's ids and the inbox insert (per batch)
    STATE = 3  # networks locked and loaded, events applied, state saved (per batch)
    PLAN = 4  # the repair replans of the touched networks, outbox rows staged (per batch)
    COMMIT = 5  # outbox rows inserted and the transaction committed (per batch)
    RELAY_PICKUP = 6  # a commit woke the relay → the relay reads the outbox (per relay round)
    PUBLISH = 7  # the relay's round of sends until Kafka acknowledged them (per relay round)

    @property
    def label(self) -> str:
        return self.name.lower()


STAGE_SECONDS = Histogram(
    "verbund_matcher_stage_seconds",
    "Time spent in one stage of the hot path: fetch_wait per record; decode, inbox, state, plan and commit per "
    "inbound batch; relay_pickup and publish per relay round",
    ["stage"],
    buckets=_BUCKETS,
)
APPEND_TO_PUBLISHED = Histogram(
    "verbund_matcher_append_to_published_seconds",
    "An inbound record's append to the log (its Kafka timestamp) → Kafka acknowledged the PlanPublished of the "
    "plan its batch made for its network; records of batches that published a plan",
    buckets=_BUCKETS,
)

# Labelled once: an observation then costs no label lookup, and the label set is exactly these eight.
_CHILDREN = tuple(STAGE_SECONDS.labels(stage=s.label) for s in Stage)


def observe(stage: Stage, seconds: float) -> None:
    _CHILDREN[stage].observe(seconds)


def observe_fetch_wait(append_times_ms: Iterable[int | None]) -> None:
    """Per record: how long it lay in the log before the handler held it (no timestamp: not observed)."""
    now_ms = time.time() * 1000
    child = _CHILDREN[Stage.FETCH_WAIT]
    for appended in append_times_ms:
        if appended is not None and appended > 0:
            child.observe(max(0.0, now_ms - appended) / 1000)


class BatchClock:
    """Lap timer for one inbound batch: each `lap` charges the time since the previous one to a stage.

    The laps are observed only once the batch has committed (`observe`), like the batch counters: a batch rolled
    back and read again is timed once, by the attempt that counted.
    """

    __slots__ = ("_mark", "_spent")

    def __init__(self) -> None:
        self._mark = time.perf_counter()
        self._spent = [0.0] * len(Stage)

    def lap(self, stage: Stage) -> None:
        now = time.perf_counter()
        self._spent[stage] += now - self._mark
        self._mark = now

    def observe(self) -> None:
        for stage in (Stage.DECODE, Stage.INBOX, Stage.STATE, Stage.PLAN, Stage.COMMIT):
            _CHILDREN[stage].observe(self._spent[stage])


class PublishWatch:
    """Connects a committed batch's records to the moment Kafka acknowledged the plan they led to.

    The consumer hands over, per network its batch replanned, the append times of that network's records; the
    relay reports each PlanPublished it got acknowledged (the last event of a plan, after its assignment
    events). Outbox rows go out in commit order, so a network's plans are acknowledged in the order of the batches
    that made them: the oldest waiting batch of the network is the one published. In memory and per process: a
    plan published by another replica's relay is never reported here, so at most `keep` batches wait per network.
    """

    __slots__ = ("_keep", "_waiting", "_woken_at")

    def __init__(self, keep: int = 1000) -> None:
        self._keep = keep
        self._waiting: dict[str, deque[list[int]]] = {}
        self._woken_at: float | None = None

    def committed(self, network_id: str, append_times_ms: list[int]) -> None:
        if append_times_ms:
            self._waiting.setdefault(network_id, deque(maxlen=self._keep)).append(append_times_ms)

    def plan_published(self, network_id: str) -> None:
        waiting = self._waiting.get(network_id)
        if not waiting:
            return  # a plan this process did not wait for: a full re-optimisation, another replica's batch
        appended_ms = waiting.popleft()
        if not waiting:
            del self._waiting[network_id]
        now_ms = time.time() * 1000
        for appended in appended_ms:
            APPEND_TO_PUBLISHED.observe(max(0.0, now_ms - appended) / 1000)

    def woken(self) -> None:
        """Something was committed to the outbox; the first wake since the relay last read counts."""
        if self._woken_at is None:
            self._woken_at = time.perf_counter()

    def reading(self) -> None:
        """The relay reads the outbox now: the pick-up delay since the first wake ends."""
        if self._woken_at is not None:
            observe(Stage.RELAY_PICKUP, time.perf_counter() - self._woken_at)
            self._woken_at = None
