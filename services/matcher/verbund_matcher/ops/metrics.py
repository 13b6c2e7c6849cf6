"""The matcher's Prometheus metrics (served on /metrics by verbund_matcher.ops.health)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_CONSUMED = Counter("verbund_matcher_events_consumed_total", "Inbound records handled, by outcome", ["outcome"])
EVENTS_REJECTED = Counter(
    "verbund_matcher_events_rejected_total", "Inbound records rejected to the rejected topic, by cause", ["cause"]
)
BATCHES = Counter("verbund_matcher_batches_total", "Inbound batches committed")
BATCH_RETRIES = Counter(
    "verbund_matcher_batch_retries_total", "Batches rolled back and retried (conflict or database error)"
)
REPLANS = Counter("verbund_matcher_replans_total", "Replans of a network, by mode and result", ["mode", "result"])
PLANNING_SECONDS = Histogram(
    "verbund_matcher_planning_seconds",
    "Wall time of one replan of one network",
    ["mode"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
OUTBOX_PUBLISHED = Counter("verbund_matcher_outbox_published_total", "Outbox events published to Kafka")
OUTBOX_LAG = Gauge("verbund_matcher_outbox_lag", "Outbox events committed but not yet published")
CONSUMER_LAG = Gauge("verbund_matcher_consumer_lag", "Inbound records not yet consumed, over assigned partitions")
