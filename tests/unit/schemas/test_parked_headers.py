"""Both services park records under the contract's header names, which `verbund parked` reads."""

from __future__ import annotations

import datetime as dt

from verbund_matcher.service.ingest import Record
from verbund_matcher.service.parking import parked_message
from verbund_matcher.service.poison import ParkedRecord
from verbund_notifier.service.ingest import Origin
from verbund_notifier.service.poison import ConsumeAttempts
from verbund_schemas import ParkedHeader

WRITTEN = {
    ParkedHeader.BY,
    ParkedHeader.TOPIC,
    ParkedHeader.PARTITION,
    ParkedHeader.OFFSET,
    ParkedHeader.REASON,
    ParkedHeader.ATTEMPTS,
    ParkedHeader.FIRST_FAILURE,
    ParkedHeader.LAST_FAILURE,
    ParkedHeader.SIZE,
    ParkedHeader.SHA256,
    ParkedHeader.TRUNCATED,
}


def test_the_matcher_parks_a_record_under_the_contract_header_names() -> None:
    now = dt.datetime(2030, 12, 2, tzinfo=dt.UTC)
    record = Record("verbund.inbound", 3, 17, b"n-1", b'{"type": "FirmRegistered"}')
    message = parked_message(
        ParkedRecord(record, "OperationalError", 5, now, now), service="matcher", max_event_bytes=1024
    )
    assert set(message.headers) == WRITTEN
    assert message.headers[ParkedHeader.BY] == "matcher" and message.headers[ParkedHeader.OFFSET] == "17"


async def test_the_notifier_parks_an_event_under_the_same_header_names() -> None:
    parked: list[dict[str, str]] = []

    async def park(key: bytes | None, value: bytes, headers: dict[str, str]) -> None:
        parked.append(headers)

    async def database_gone() -> None:
        raise TimeoutError("database did not answer")

    async def no_pause(seconds: float) -> None:
        return None

    attempts = ConsumeAttempts(park, attempts=2, sleep=no_pause)
    await attempts.run(b"{}", Origin("verbund.assignments", 1, 9, "n-1"), database_gone)
    assert [set(h) for h in parked] == [WRITTEN]
    assert parked[0][ParkedHeader.BY] == "notifier" and parked[0][ParkedHeader.ATTEMPTS] == "2"
