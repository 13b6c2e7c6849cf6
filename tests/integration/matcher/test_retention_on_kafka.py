"""On the real broker and PostgreSQL: a network's retention erases a learner months after their last week, once."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiokafka import ConsumerRecord
from forced_network import ForcedNetwork, _learner
from kafka_tools import consume
from matcher_harness import events_of, settings_for, until
from verbund_matcher.runner import run_matcher
from verbund_matcher.service.learner_retention import RETENTION_SOURCE, kept_until
from verbund_runtime.keyring import HttpKeyring
from verbund_schemas import PersonalDataErased, load_event, topic

from verbund.publish import send_events
from verbund.service_metrics import scrape

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.timeout(240)]

TOKEN = "a-token-for-the-key-endpoint-of-the-retention-test"
DUE = "verbund_matcher_retention_due_learners"
NEXT_RUN = "verbund_matcher_retention_next_run_timestamp_seconds"


@dataclass
class Clock:
    """The matcher's today, moved by the test."""

    today: dt.date


def test_retention_keeps_data_the_given_number_of_calendar_months_after_the_sunday_of_the_last_week() -> None:
    # 2031-W04 ends on Sunday 2031-01-26; six months later is 2031-07-26.
    assert kept_until("2031-W04", 6) == dt.date(2031, 7, 26)
    # Across the year: 2031-W09 ends on 2031-03-02.
    assert kept_until("2031-W09", 12) == dt.date(2032, 3, 2)
    # From a 31st, to the last day of a shorter month: 2031-W35 ends on 2031-08-31; 2032 is a leap year.
    assert kept_until("2031-W35", 6) == dt.date(2032, 2, 29)
    assert kept_until("2031-W35", 1) == dt.date(2031, 9, 30)


async def test_a_learner_past_the_networks_retention_is_erased_through_the_inbound_topic_and_only_once(
    kafka_bootstrap: str, fresh_postgres_url: str, tmp_path: Path
) -> None:
    n = ForcedNetwork(f"retain-{uuid.uuid4().hex[:8]}")
    nid = n.network_id
    setup = n.setup()
    assert setup[0]["type"] == "NetworkConfigured"
    setup[0]["data"]["retention_months"] = 6
    # L0000's last week is 2031-W04 (kept until 2031-07-26), L0001's 2031-W24 (kept until 2031-12-15).
    learners = [
        n._event("LearnerRegistered", _learner(nid, learner, first)) for learner, first in (("L0000", 0), ("L0001", 20))
    ]
    clock = Clock(dt.date(2030, 12, 2))
    settings = settings_for(
        kafka_bootstrap, fresh_postgres_url, master_key_file=str(tmp_path / "master.key"), key_service_token=TOKEN
    )
    url = f"http://127.0.0.1:{settings.health_port}"
    async with run_matcher(settings, today=lambda: clock.today) as matcher, httpx.AsyncClient() as http:
        await matcher.until_consuming()
        keyring = HttpKeyring(url, TOKEN)
        try:
            await send_events([load_event(e) for e in [*setup, *learners]], kafka_bootstrap, topic("inbound"), keyring)
            await consume(
                kafka_bootstrap, topic("assignments"), until=lambda rs: len(events_of(rs, {nid})) >= 4, timeout=90
            )

            # Within the retention nobody is due, and the job's next run is on /metrics.
            assert (await matcher.erase_expired_now()).requested == 0
            scraped = await scrape(http, url)
            assert scraped[DUE] == 0
            assert scraped[NEXT_RUN] > dt.datetime.now(dt.UTC).timestamp()

            clock.today = dt.date(2031, 7, 27)
            assert (await scrape(http, url))[DUE] == 1
            first, again = await matcher.erase_expired_now(), await matcher.erase_expired_now()
            assert (first.due, first.requested) == (1, 1)
            assert again.requested == 0, "a request already in the outbox is not made twice"

            def erasure_requested(records: list[ConsumerRecord[bytes, bytes]]) -> bool:
                return any(e["type"] == "LearnerErased" for e in events_of(records, {nid}))

            inbound = await consume(kafka_bootstrap, topic("inbound"), until=erasure_requested, timeout=60)
            (erasure,) = [e for e in events_of(inbound, {nid}) if e["type"] == "LearnerErased"]
            assert erasure["data"] == {"learner_id": "L0000"}
            assert erasure["source"] == RETENTION_SOURCE and erasure["id"] == f"retention:{nid}:L0000"

            async def key_destroyed() -> bool:
                try:
                    await keyring.key_for(nid, "learner:L0000")
                except PersonalDataErased:
                    return True
                return False

            # The matcher applies its own request as it applies `verbund learner erase`: the key goes.
            await until(key_destroyed, timeout=60)
            await keyring.key_for(nid, "learner:L0001")  # the other learner is kept
            assert (await scrape(http, url))[DUE] == 0
            assert (await matcher.erase_expired_now()).due == 0

            # Past the other learner's retention, they are due in turn.
            clock.today = dt.date(2031, 12, 16)
            assert (await scrape(http, url))[DUE] == 1
        finally:
            await keyring.close()
