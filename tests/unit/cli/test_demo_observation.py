"""The demo sees the services from outside: handled records from committed offsets, gauges from /metrics text."""

from __future__ import annotations

from verbund.demo import handled_count
from verbund.service_metrics import metric_totals

EXPOSITION = """\
# HELP verbund_notifier_deliveries_pending Messages waiting to be sent
# TYPE verbund_notifier_deliveries_pending gauge
verbund_notifier_deliveries_pending{channel="email"} 2.0
verbund_notifier_deliveries_pending{channel="webhook"} 1.0
# HELP verbund_notifier_delivered_total Messages delivered
# TYPE verbund_notifier_delivered_total counter
verbund_notifier_delivered_total{channel="email",kind="assignment_made"} 5.0
verbund_notifier_delivered_total{channel="email",kind="digest"} 1.0
# HELP verbund_matcher_outbox_lag Outbox events committed but not yet published
# TYPE verbund_matcher_outbox_lag gauge
verbund_matcher_outbox_lag 0.0
"""


def test_a_record_counts_as_handled_only_below_its_partitions_committed_offset() -> None:
    positions = [(0, 0), (0, 1), (0, 2), (1, 0), (2, 5)]
    # Partition 0 committed up to offset 2 (records 0 and 1 done), partition 1 nothing yet, 2 past its record.
    assert handled_count(positions, {0: 2, 2: 6}) == 3


def test_metrics_are_summed_over_their_labels_by_sample_name() -> None:
    totals = metric_totals(EXPOSITION)
    assert totals["verbund_notifier_deliveries_pending"] == 3.0
    assert totals["verbund_notifier_delivered_total"] == 6.0
    assert totals["verbund_matcher_outbox_lag"] == 0.0
    assert "verbund_notifier_failed_total" not in totals
