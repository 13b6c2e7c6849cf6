"""Both services park records under the contract's header names, which `verbund parked` reads."""

from __future__ import annotations

import datetime as dt

from aiokafka.structs import ConsumerRecord
from verbund_matcher.service.ingest import Record
from verbund_matcher.service.outbox_replay import replay_request as matcher_reads
from verbund_matcher.service.parking import ParkedOutboxRow, outbox_notice, parked_message
from verbund_matcher.service.poison import ParkedRecord
from verbund_notifier.service.ingest import Origin
from verbund_notifier.service.poison import ConsumeAttempts
from verbund_schemas import MAX_ORIGINAL_BYTES, ParkedHeader, encode_event, topic

from verbund.parked import OutboxEvent, parked_entry, replay_request

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


def test_an_outbox_notice_names_the_event_and_the_replay_request_made_from_it_is_what_the_matcher_reads() -> None:
    parked_at = dt.datetime(2030, 12, 2, 8, 30, 0, 250000, tzinfo=dt.UTC)
    row = ParkedOutboxRow(
        seq=41,
        event_id="e-41",
        event_type="EventRejected",
        topic_role="rejected",
        key="n-1",
        payload="x" * (MAX_ORIGINAL_BYTES + 10),
        attempts=3,
        reason="MessageSizeTooLargeError",
        parked_at=parked_at,
    )
    notice = outbox_notice(row)
    record = ConsumerRecord(
        topic("parked"), 2, 7, 0, 0, notice.key, notice.value, None, 0, 0,
        [(k, v.encode()) for k, v in notice.headers.items()],
    )  # fmt: skip
    entry = parked_entry(record, notice.headers)
    assert entry.id == "parked:2:7" and entry.parked_by == "matcher relay" and entry.key == "n-1"
    assert "e-41" in entry.origin and topic("rejected") in entry.origin
    assert entry.outbox == OutboxEvent(41, "e-41", parked_at)
    assert notice.headers[ParkedHeader.TRUNCATED] == "true" and len(notice.value) == MAX_ORIGINAL_BYTES

    request = replay_request(entry, entry.outbox, parked_at)
    marker = {ParkedHeader.REPLAY_OF: "2:7"}
    read = matcher_reads(encode_event(request), marker)
    assert read is not None and read.data.outbox_seq == 41 and read.data.event_id == "e-41"
    assert read.data.parked_at == parked_at and read.subject == "n-1"
    assert matcher_reads(b"", marker) is None, "the marker of a consumed record is no request"
    assert matcher_reads(notice.value, notice.headers) is None, "nor is a parked record"
