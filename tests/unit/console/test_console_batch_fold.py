"""The console's read model on SQLite and PostgreSQL: a batch folded in one transaction leaves the rows its events
leave folded one at a time (rows inserted, changed, guarded by plan version and erased within the same batch)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from console_events import (
    assignment_changed,
    assignment_made,
    capacity_offered,
    curriculum_published,
    learner_registered,
    plan_published,
    rejected,
    shortfall_detected,
    shortfall_resolved,
)
from verbund_console.domain.folding import fold
from verbund_console.store.database import create_engine, migrate, session_factory
from verbund_console.store.readmodel import ReadModel
from verbund_console.store.tables import READ_MODEL_TABLES
from verbund_schemas import (
    CapacityChanged,
    CapacityChangedData,
    CapacityWithdrawn,
    CapacityWithdrawnData,
    Envelope,
    FirmLeft,
    FirmLeftData,
    LearnerErased,
    LearnerErasedData,
)

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _events(network: str, other: str) -> list[Envelope]:
    now = dt.datetime.now(dt.UTC)
    made = assignment_made(network, "anna", "M1", "f1", "2027-W10", "2027-W19", learner_name="Anna Adler")
    gap = shortfall_detected(network, "ben", "M2")
    return [
        curriculum_published(network, {"M1": "Drehen", "M2": "Fräsen"}),
        learner_registered(network, "anna", "Anna Adler"),
        capacity_offered(network, "o1", "f1", "M1", "2027-W01", "2027-W30", 2),
        CapacityChanged(
            id=str(uuid.uuid4()), time=now, subject=network, data=CapacityChangedData(offer_id="o1", max_seats=3)
        ),
        made,
        assignment_changed(made, 3, firm="f2", start="2027-W12", end="2027-W21"),
        # An older version of the same assignment arriving late changes nothing.
        assignment_made(network, "anna", "M1", "f1", "2027-W10", "2027-W19", 2, learner_name="Anna Adler"),
        made,  # redelivered within the batch
        gap,
        shortfall_resolved(gap, 2),
        plan_published(network, 3),
        plan_published(network, 2),
        rejected(network),
        CapacityWithdrawn(id=str(uuid.uuid4()), time=now, subject=network, data=CapacityWithdrawnData(offer_id="o1")),
        FirmLeft(id=str(uuid.uuid4()), time=now, subject=network, data=FirmLeftData(firm_id="never-registered")),
        # The erasure comes after rows of this batch that carry the name.
        LearnerErased(id=str(uuid.uuid4()), time=now, subject=network, data=LearnerErasedData(learner_id="anna")),
        assignment_made(network, "carl", "M2", "f1", "2027-W20", "2027-W29", 3, learner_name="Carl Cramer"),
        learner_registered(other, "dora", "Dora Dietz"),
        learner_registered(network, "ben", "Ben Becker"),
    ]


async def _read_model_rows(url: str) -> dict[str, list[tuple[tuple[str, str], ...]]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            found: dict[str, list[tuple[tuple[str, str], ...]]] = {}
            for name in READ_MODEL_TABLES:
                rows = (await connection.execute(sa.text(f"SELECT * FROM {name}"))).mappings().all()
                # A change's time (and a kept fold's) is when it was folded, not part of what the events say.
                folded_at = "at" if name in ("console_changes", "console_inbound_fates") else None
                found[name] = sorted(
                    tuple(sorted((k, repr(v)) for k, v in row.items() if k != folded_at)) for row in rows
                )
            return found
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_a_batch_folded_at_once_leaves_the_rows_of_its_events_folded_one_at_a_time(
    backend: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "fresh_postgres_url")
    await migrate(url)
    engine = create_engine(url)
    read_model = ReadModel(session_factory(engine))
    events = _events(f"n-{uuid.uuid4().hex[:6]}", f"m-{uuid.uuid4().hex[:6]}")
    try:
        batch_seqs = await read_model.apply_many([(e, fold(e)) for e in events])
        batch_rows = await _read_model_rows(url)
        await read_model.clear()
        single_seqs = [await read_model.apply(e, fold(e)) for e in events]
        single_rows = await _read_model_rows(url)
    finally:
        await engine.dispose()

    assert batch_seqs == single_seqs
    assert batch_seqs[7] is None, "the redelivered event has no change number"
    assert batch_rows == single_rows
    anna = [dict(row) for row in batch_rows["console_assignments"] if ("learner_id", "'anna'") in row]
    assert [row["firm_id"] for row in anna] == ["'f2'"], "version 3 stays, not the late version 2"
    assert not any("Anna" in value for rows in batch_rows.values() for row in rows for _, value in row)
