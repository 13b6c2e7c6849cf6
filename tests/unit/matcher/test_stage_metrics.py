"""The stage clock charges laps to their stages; the publish watch ends a record's way at its network's plan."""

from __future__ import annotations

import time

from prometheus_client import REGISTRY
from verbund_matcher.ops.stages import BatchClock, PublishWatch, Stage


def _count(name: str, labels: dict[str, str] | None = None) -> float:
    return REGISTRY.get_sample_value(name, labels or {}) or 0.0


def test_a_batch_is_observed_once_per_batch_stage_and_only_when_observe_is_called() -> None:
    before = {s: _count("verbund_matcher_stage_seconds_count", {"stage": s.label}) for s in Stage}
    clock = BatchClock()
    clock.lap(Stage.DECODE)
    clock.lap(Stage.STATE)
    clock.lap(Stage.PLAN)
    clock.lap(Stage.STATE)  # a second lap adds to the same stage
    clock.lap(Stage.COMMIT)
    assert all(_count("verbund_matcher_stage_seconds_count", {"stage": s.label}) == before[s] for s in Stage)
    clock.observe()
    grew = {s for s in Stage if _count("verbund_matcher_stage_seconds_count", {"stage": s.label}) > before[s]}
    assert grew == {Stage.DECODE, Stage.INBOX, Stage.STATE, Stage.PLAN, Stage.COMMIT}


def test_a_published_plan_ends_the_oldest_waiting_batch_of_its_own_network_only() -> None:
    watch = PublishWatch()
    now_ms = int(time.time() * 1000)
    watch.committed("N1", [now_ms - 2000, now_ms - 1500])
    watch.committed("N1", [now_ms - 10])
    watch.committed("N2", [now_ms - 5000])
    count = _count("verbund_matcher_append_to_published_seconds_count")
    total = _count("verbund_matcher_append_to_published_seconds_sum")

    watch.plan_published("N1")

    assert _count("verbund_matcher_append_to_published_seconds_count") - count == 2
    # The first batch of N1 (1.5 and 2 s old), not N2's and not N1's newer one.
    assert 3.4 < _count("verbund_matcher_append_to_published_seconds_sum") - total < 4.5
    watch.plan_published("N3")  # a plan nobody here waited for
    assert _count("verbund_matcher_append_to_published_seconds_count") - count == 2
