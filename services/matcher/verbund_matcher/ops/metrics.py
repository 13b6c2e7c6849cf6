"""The matcher's Prometheus metrics (served on /metrics by the health endpoint of verbund_runtime.health)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_CONSUMED = Counter("verbund_matcher_events_consumed_total", "Inbound records handled, by outcome", ["outcome"])
EVENTS_REJECTED = Counter(
    "verbund_matcher_events_rejected_total", "Inbound records rejected to the rejected topic, by cause", ["cause"]
)
BATCHES = Counter("verbund_matcher_batches_total", "Inbound batches committed")
BATCH_RETRIES = Counter(
    "verbund_matcher_batch_retries_total",
    "Inbound batches rolled back and tried again (database or broker away, timeout, conflict)",
)
REPLANS = Counter("verbund_matcher_replans_total", "Replans of a network, by mode and result", ["mode", "result"])
PLAN_FAILURES = Counter(
    "verbund_matcher_plan_failures_total",
    "Plannings of a network that raised: repair (after a batch, or a retry of a stale plan) or full",
    ["mode"],
)
STALE_PLANS = Gauge(
    "verbund_matcher_stale_plans",
    "Networks whose published plan is stale: planning failed after their state changed; retried until it succeeds",
)
STALE_PLAN_OLDEST = Gauge(
    "verbund_matcher_stale_plan_oldest_seconds", "How long the longest stale published plan has been stale (0: none)"
)
PLANNING_SECONDS = Histogram(
    "verbund_matcher_planning_seconds",
    "Wall time of one replan of one network",
    ["mode"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
OUTBOX_PUBLISHED = Counter("verbund_matcher_outbox_published_total", "Outbox events published to Kafka")
OUTBOX_LAG = Gauge(
    "verbund_matcher_outbox_lag", "Outbox events committed but not yet published (parked ones not counted)"
)
OUTBOX_OLDEST_UNSENT = Gauge(
    "verbund_matcher_outbox_oldest_unsent_seconds", "Age of the oldest outbox event not yet published (0: none)"
)
OUTBOX_PARKED = Gauge(
    "verbund_matcher_outbox_parked", "Outbox events Kafka refused, parked until an operator replays them"
)
OUTBOX_PARKED_TOTAL = Counter("verbund_matcher_outbox_parkings_total", "Outbox events this process parked")
RELAY_FAILURES = Counter(
    "verbund_matcher_relay_failures_total",
    "Failed relay sends and rounds: broker (unreachable, retried), refused (a row Kafka will not take), database",
    ["kind"],
)
INBOUND_PARKED = Counter(
    "verbund_matcher_inbound_parked_total",
    "Inbound records parked on the parked topic after the retries ran out",
)
INBOUND_UNPROCESSABLE = Counter(
    "verbund_matcher_inbound_unprocessable_total",
    "Inbound records the matcher failed on by itself (not the database): rejected once, then skipped",
)
CONSUMER_LAG = Gauge("verbund_matcher_consumer_lag", "Inbound records not yet consumed, over assigned partitions")
RETENTION_DUE = Gauge(
    "verbund_matcher_retention_due_learners",
    "Learners whose network's retention_months has run out and who are not erased yet (counted at scrape time)",
)
RETENTION_NEXT_RUN = Gauge(
    "verbund_matcher_retention_next_run_timestamp_seconds",
    "When the retention job runs next (Unix time; 0: not scheduled)",
)
RETENTION_REQUESTED = Counter(
    "verbund_matcher_retention_erasures_requested_total", "LearnerErased requests this process put into the outbox"
)
