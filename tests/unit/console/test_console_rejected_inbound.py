"""The console shows only the inbound events the matcher accepted: a rejected one is taken back out of the read
model (rows it made deleted, rows it changed given back what it replaced, later changes kept), a rejection read
before its event keeps the event out, and either order leaves the same rows (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Sequence

import pytest
import sqlalchemy as sa
from console_events import capacity_offered, curriculum_published, learner_registered, plan_published
from verbund_console.domain.folding import fold
from verbund_console.domain.rejected_inbound import RowWrite, take_out
from verbund_console.store.batch_writes import KEPT_FOR
from verbund_console.store.database import create_engine, migrate, session_factory
from verbund_console.store.readmodel import ReadModel
from verbund_schemas import (
    CapacityChanged,
    CapacityChangedData,
    Envelope,
    EventRejected,
    FirmData,
    FirmRegistered,
    InboundCause,
    LearnerErased,
    LearnerErasedData,
    Location,
    NetworkConfigured,
    NetworkConfiguredData,
    PlanPublished,
)

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
# What the pages show of inbound events (the fates table and the change log are the console's own bookkeeping).
SHOWN = ("console_firms", "console_offers", "console_learners", "console_modules", "console_networks")


# ---------------------------------------------------------------------------------------------- the rule, pure


def test_a_rejected_write_that_made_a_row_deletes_it() -> None:
    made = RowWrite("offers", {"network_id": "n", "offer_id": "o9"}, "upsert", {"max_seats": 2}, None)
    [outcome] = take_out([made], [], {"offers": {"min_seats": 0}})
    assert outcome.values is None


def test_a_rejected_write_over_a_row_gives_back_what_it_replaced() -> None:
    over = RowWrite(
        "firms", {"network_id": "n", "firm_id": "f1"}, "upsert", {"name": "B", "city": "Y"}, {"name": "A", "city": "X"}
    )
    [outcome] = take_out([over], [], {})
    assert outcome.values == {"city": "X", "name": "A"}


def test_a_later_change_of_the_same_row_stays_and_learns_what_it_replaces_now() -> None:
    rejected = RowWrite(
        "offers",
        {"network_id": "n", "offer_id": "o1"},
        "upsert",
        {"max_seats": 5, "last_week": "2027-W30"},
        {"max_seats": 3, "last_week": "2027-W20"},
    )
    later = RowWrite("offers", {"network_id": "n", "offer_id": "o1"}, "patch", {"max_seats": 4}, {"max_seats": 5})
    other_row = RowWrite("offers", {"network_id": "n", "offer_id": "o2"}, "patch", {"max_seats": 9}, {"max_seats": 1})
    [outcome] = take_out([rejected], [[other_row], [later]], {})
    assert outcome.values == {"last_week": "2027-W20", "max_seats": 4}, "the later change stays, the rest goes back"
    assert later.before == {"max_seats": 3}, "were the later change rejected too, the offer's own seats come back"
    assert other_row.before == {"max_seats": 1}


def test_a_row_made_by_a_rejected_event_and_made_again_later_holds_only_the_later_values() -> None:
    key = {"network_id": "n", "learner_id": "l1"}
    rejected = RowWrite("learners", key, "upsert", {"name": "Wrong", "first_week": "2027-W05"}, None)
    patched = RowWrite("learners", key, "patch", {"withdrawn": True}, {"withdrawn": False})
    again = RowWrite("learners", key, "upsert", {"name": "Right"}, {"name": "Wrong"})
    [outcome] = take_out([rejected], [[patched], [again]], {"learners": {"first_week": None, "withdrawn": False}})
    assert outcome.values == {"first_week": None, "name": "Right", "withdrawn": False}
    assert patched.before is None and again.before is None, "without the rejected event neither found the row"


def test_an_event_that_wrote_a_row_twice_gives_back_what_was_there_before_it() -> None:
    key = {"network_id": "n", "module_id": "M1"}
    first = RowWrite("modules", key, "upsert", {"name": "Drehen"}, {"name": "Fräsen"})
    second = RowWrite("modules", key, "upsert", {"name": "Drehen 2"}, {"name": "Drehen"})
    assert [o.values for o in take_out([first, second], [], {})] == [{"name": "Fräsen"}]


# ------------------------------------------------------------------------------------ the read model, both stores


def _rejection(event: Envelope, offset: int, topic: str = "verbund.inbound") -> EventRejected:
    return EventRejected.of_record(
        service="matcher",
        topic=topic,
        partition=0,
        offset=offset,
        key=event.network_id,
        raw=event.model_dump_json().encode(),
        reason="cannot do that",
        event_id=event.id,
        event_type=event.type,
        network_id=event.network_id,
    )


def _firm(network: str, firm: str, name: str) -> FirmRegistered:
    return FirmRegistered(
        id=str(uuid.uuid4()),
        time=dt.datetime.now(dt.UTC),
        subject=network,
        data=FirmData(firm_id=firm, name=name, location=Location(city="Lüdenscheid")),
    )


def _change(network: str, offer: str, **values: object) -> CapacityChanged:
    return CapacityChanged(
        id=str(uuid.uuid4()),
        time=dt.datetime.now(dt.UTC),
        subject=network,
        data=CapacityChangedData(offer_id=offer, **values),
    )


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, ReadModel]]:
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "fresh_postgres_url")
    await migrate(url)
    engine = create_engine(url)
    try:
        yield url, ReadModel(session_factory(engine))
    finally:
        await engine.dispose()


async def _fold_in(read_model: ReadModel, events: Sequence[tuple[Envelope, str]], *, at_once: bool) -> None:
    folded = [(event, fold(event, where)) for event, where in events]
    if at_once:
        await read_model.apply_many(folded)
    else:
        for one in folded:
            await read_model.apply_many([one])


async def _rows(url: str, network: str, tables: Sequence[str] = SHOWN) -> dict[str, list[dict[str, object]]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            found = {}
            for name in tables:
                query = sa.text(f"SELECT * FROM {name} WHERE network_id = :n")
                rows = (await connection.execute(query, {"n": network})).mappings().all()
                found[name] = sorted(
                    ({k: v for k, v in row.items() if k not in ("last_seq", "at")} for row in rows), key=repr
                )
            return found
    finally:
        await engine.dispose()


def _network() -> str:
    return f"n-{uuid.uuid4().hex[:8]}"


def _where(offset: int) -> str:
    return f"verbund.inbound:0:{offset}"


async def test_each_kind_of_rejected_inbound_event_leaves_the_rows_of_the_accepted_ones_alone(
    store: tuple[str, ReadModel],
) -> None:
    url, read_model = store
    network, accepted_only = _network(), _network()
    accepted: list[Envelope] = []
    inbound: list[tuple[Envelope, str]] = []
    rejections: list[EventRejected] = []

    def send(event: Envelope, *, rejected: bool = False) -> None:
        offset = len(inbound)
        inbound.append((event, _where(offset)))
        if rejected:
            rejections.append(_rejection(event, offset))
        else:
            accepted.append(event)

    send(curriculum_published(network, {"M1": "Drehen"}))
    send(_firm(network, "f1", "Kunststoff Kamp"))
    send(capacity_offered(network, "o1", "f1", "M1", "2027-W01", "2027-W20", 3))
    send(learner_registered(network, "anna", "Anna Adler"))
    send(capacity_offered(network, "o2", "nobody", "M1", "2027-W01", "2027-W20", 2), rejected=True)  # unknown firm
    send(capacity_offered(network, "o3", "f1", "M9", "2027-W01", "2027-W20", 2), rejected=True)  # unknown module
    send(capacity_offered(network, "o1", "f1", "M1", "2027-W05", "2027-W30", 5), rejected=True)  # other details
    send(_firm(network, "f1", "Someone Else"), rejected=True)  # registered again
    unknown_curriculum = learner_registered(network, "ben", "Ben Becker")
    unknown_curriculum = unknown_curriculum.model_copy(
        update={"data": unknown_curriculum.data.model_copy(update={"curriculum_id": "nope"})}
    )
    send(unknown_curriculum, rejected=True)
    send(learner_registered(network, "anna", "Anna Anders"), rejected=True)  # registered again

    await _fold_in(read_model, inbound, at_once=True)
    shown_before = await _rows(url, network)
    await _fold_in(read_model, [(r, f"verbund.rejected:0:{i}") for i, r in enumerate(rejections)], at_once=False)
    await _fold_in(read_model, [(e.model_copy(update={"subject": accepted_only}), "") for e in accepted], at_once=True)

    assert {r["offer_id"] for r in shown_before["console_offers"]} == {"o1", "o2", "o3"}, "folded as read, first"
    after = await _rows(url, network)
    expected = await _rows(url, accepted_only)
    for rows in expected.values():
        for row in rows:
            row["network_id"] = network
    assert after == expected
    assert [(r["offer_id"], r["max_seats"], r["first_week"]) for r in after["console_offers"]] == [
        ("o1", 3, "2027-W01")
    ]
    assert [r["name"] for r in after["console_firms"]] == ["Kunststoff Kamp"]
    assert [(r["learner_id"], r["name"]) for r in after["console_learners"]] == [("anna", "Anna Adler")]
    kept = await _rows(url, network, ["console_inbound_fates", "console_changes"])
    assert "Ben Becker" not in repr(kept) and "Anna Anders" not in repr(kept), "no rejected registration's name"


async def test_a_rejection_read_before_its_event_keeps_it_out_and_a_copy_sent_again_elsewhere_comes_in(
    store: tuple[str, ReadModel],
) -> None:
    url, read_model = store
    network = _network()
    offer = capacity_offered(network, "o2", "nobody", "M1", "2027-W01", "2027-W20", 2)

    await _fold_in(read_model, [(_rejection(offer, 4), "verbund.rejected:0:0")], at_once=True)
    await _fold_in(read_model, [(offer, _where(4))], at_once=True)
    await _fold_in(read_model, [(offer, _where(4))], at_once=False)  # redelivered
    assert (await _rows(url, network))["console_offers"] == []

    # The firm registered, the same event sent again: the matcher applies that copy, so the console shows it.
    await _fold_in(read_model, [(_firm(network, "nobody", "Now Known"), _where(5)), (offer, _where(6))], at_once=True)
    assert [r["offer_id"] for r in (await _rows(url, network))["console_offers"]] == ["o2"]


async def test_a_rejection_after_a_later_accepted_change_keeps_that_change(store: tuple[str, ReadModel]) -> None:
    url, read_model = store
    network = _network()
    first = capacity_offered(network, "o1", "f1", "M1", "2027-W01", "2027-W20", 3)
    other_details = capacity_offered(network, "o1", "f1", "M1", "2027-W01", "2027-W30", 5)
    longer = _change(network, "o1", last_week="2027-W40")
    fewer = _change(network, "o1", max_seats=1)
    events = [(first, _where(0)), (other_details, _where(1)), (longer, _where(2)), (fewer, _where(3))]
    await _fold_in(read_model, events, at_once=True)

    await _fold_in(read_model, [(_rejection(other_details, 1), "verbund.rejected:0:0")], at_once=True)
    [offer] = (await _rows(url, network))["console_offers"]
    assert (offer["last_week"], offer["max_seats"]) == ("2027-W40", 1), "the later changes stay"

    await _fold_in(read_model, [(_rejection(fewer, 3), "verbund.rejected:0:1")], at_once=True)
    [offer] = (await _rows(url, network))["console_offers"]
    assert (offer["last_week"], offer["max_seats"]) == ("2027-W40", 3), "the first offer's seats, not the rejected"


async def test_either_order_of_the_two_topics_leaves_the_same_pages(store: tuple[str, ReadModel]) -> None:
    url, read_model = store
    network = _network()
    offered = capacity_offered(network, "o1", "f1", "M1", "2027-W01", "2027-W20", 3)
    again = capacity_offered(network, "o1", "f1", "M1", "2027-W01", "2027-W30", 5)
    renamed = _firm(network, "f1", "Renamed")
    inbound = [
        (_firm(network, "f1", "Kamp"), _where(0)),
        (offered, _where(1)),
        (again, _where(2)),
        (renamed, _where(3)),
    ]
    inbound.append((_change(network, "o1", min_seats=1), _where(4)))
    rejected = [(_rejection(again, 2), "verbund.rejected:0:0"), (_rejection(renamed, 3), "verbund.rejected:0:1")]

    await _fold_in(read_model, inbound + rejected, at_once=False)
    events_first = await _rows(url, network)
    await read_model.clear()
    await _fold_in(read_model, rejected + inbound, at_once=True)
    rejections_first = await _rows(url, network)
    await read_model.clear()
    await _fold_in(read_model, inbound[:3] + rejected[:1] + inbound[3:] + rejected[1:], at_once=True)
    interleaved = await _rows(url, network)

    assert events_first == rejections_first == interleaved
    assert [(r["max_seats"], r["last_week"], r["min_seats"]) for r in events_first["console_offers"]] == [
        (3, "2027-W20", 1)
    ]
    assert [r["name"] for r in events_first["console_firms"]] == ["Kamp"]


async def test_what_a_fold_replaced_is_dropped_once_a_plan_names_it_applied_and_with_an_erasure(
    store: tuple[str, ReadModel],
) -> None:
    url, read_model = store
    network = _network()
    offered = capacity_offered(network, "o1", "f1", "M1", "2027-W01", "2027-W20", 3)
    anna = learner_registered(network, "anna", "Anna Adler")
    await _fold_in(read_model, [(offered, _where(0)), (anna, _where(1))], at_once=True)
    kept = await _rows(url, network, ["console_inbound_fates"])
    assert sorted(str(r["event_id"]) for r in kept["console_inbound_fates"]) == sorted([offered.id, anna.id])

    plan = plan_published(network, 1)
    named = plan.data.model_copy(update={"caused_by": [InboundCause(event_id=offered.id, type=offered.type)]})
    await _fold_in(
        read_model,
        [(PlanPublished(id=str(uuid.uuid4()), subject=network, data=named), "verbund.assignments:0:0")],
        at_once=True,
    )
    erased = LearnerErased(
        id=str(uuid.uuid4()), subject=network, time=dt.datetime.now(dt.UTC), data=LearnerErasedData(learner_id="anna")
    )
    await _fold_in(read_model, [(erased, _where(2))], at_once=True)

    assert (await _rows(url, network, ["console_inbound_fates"]))["console_inbound_fates"] == []
    # The learner's registration rejected after the erasure: nothing of the name comes back.
    await _fold_in(read_model, [(_rejection(anna, 1), "verbund.rejected:0:0")], at_once=True)
    every = await _rows(url, network, [*SHOWN, "console_inbound_fates"])
    assert "Anna" not in repr(every)


async def test_the_same_event_read_again_elsewhere_stands_in_when_its_first_copy_is_rejected(
    store: tuple[str, ReadModel],
) -> None:
    url, read_model = store
    network = _network()
    offer = capacity_offered(network, "o1", "f1", "M1", "2027-W01", "2027-W20", 3)
    # Rejected where first read (say, before its firm was registered), applied where sent again.
    await _fold_in(read_model, [(offer, _where(0)), (offer, "verbund.inbound.firm.f1:0:3")], at_once=True)
    await _fold_in(read_model, [(_rejection(offer, 0), "verbund.rejected:0:0")], at_once=True)
    assert [r["offer_id"] for r in (await _rows(url, network))["console_offers"]] == ["o1"]

    # The copy that stood in is rejected too: then the offer goes.
    copy = _rejection(offer, 3, topic="verbund.inbound.firm.f1")
    await _fold_in(read_model, [(copy, "verbund.rejected:0:1")], at_once=True)
    assert (await _rows(url, network))["console_offers"] == []


async def test_a_rejected_network_configuration_takes_its_name_back_and_keeps_the_networks_change_numbers(
    store: tuple[str, ReadModel],
) -> None:
    url, read_model = store
    network = _network()
    configured = NetworkConfigured(
        id=str(uuid.uuid4()),
        time=dt.datetime.now(dt.UTC),
        subject=network,
        data=NetworkConfiguredData(name="Not the coordinators'"),
    )
    await _fold_in(read_model, [(configured, _where(0))], at_once=True)
    await _fold_in(read_model, [(_rejection(configured, 0), "verbund.rejected:0:0")], at_once=True)
    offer = capacity_offered(network, "o1", "f1", "M1", "2027-W01", "2027-W20", 3)
    seqs = await read_model.apply_many([(offer, fold(offer, _where(1)))])

    assert [r["name"] for r in (await _rows(url, network))["console_networks"]] == [None]
    assert seqs == [3], "the fold, the rejection, then this: the change numbers go on"


async def test_what_a_fold_replaced_is_kept_for_a_week_at_most(store: tuple[str, ReadModel]) -> None:
    url, read_model = store
    network = _network()
    old, new = (capacity_offered(network, f"o{i}", "f1", "M1", "2027-W01", "2027-W20", 3) for i in (1, 2))
    await _fold_in(read_model, [(old, _where(0))], at_once=True)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            long_ago = dt.datetime.now(dt.UTC) - KEPT_FOR - dt.timedelta(minutes=1)
            await connection.execute(sa.text("UPDATE console_inbound_fates SET at = :at"), {"at": long_ago})
    finally:
        await engine.dispose()
    await _fold_in(read_model, [(new, _where(1))], at_once=True)

    kept = (await _rows(url, network, ["console_inbound_fates"]))["console_inbound_fates"]
    assert [r["event_id"] for r in kept] == [new.id]
