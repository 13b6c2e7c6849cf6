"""The console's read model on SQLite and PostgreSQL: LearnerErased leaves the learner's id where their name was."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from console_events import assignment_made, learner_registered, plan_published, rejected, shortfall_detected
from database_rows import rows_of
from verbund_console.service.ingest import Ingest
from verbund_console.service.live import ChangeSignal
from verbund_console.store.database import create_engine, migrate, session_factory
from verbund_console.store.readmodel import ReadModel
from verbund_schemas import LearnerErased, LearnerErasedData

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
NAME = "Ottilie Brandenstein-Ağaoğlu"


@pytest.mark.parametrize("backend", BACKENDS)
async def test_an_erased_learners_name_is_gone_from_every_table_and_the_others_stay(
    backend: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "fresh_postgres_url")
    await migrate(url)
    engine = create_engine(url)
    ingest = Ingest(ReadModel(session_factory(engine)), ChangeSignal(), 256 * 1024)
    network = f"n-{uuid.uuid4().hex[:6]}"
    # A refused record from before sealing, carrying the name in clear text.
    refused = rejected(network, raw=json.dumps({"type": "LearnerRegistered", "data": {"name": NAME}}).encode())
    erasure = LearnerErased(
        id="erase:ottilie", time=dt.datetime.now(dt.UTC), subject=network, data=LearnerErasedData(learner_id="ottilie")
    )
    try:
        for event in (
            learner_registered(network, "ottilie", NAME),
            learner_registered(network, "bruno", "Bruno Keller"),
            assignment_made(network, "ottilie", "M1", "f1", "2027-W10", "2027-W19", learner_name=NAME),
            assignment_made(network, "bruno", "M1", "f1", "2027-W20", "2027-W29", learner_name="Bruno Keller"),
            shortfall_detected(network, "ottilie", "M2"),
            plan_published(network, 1),
            refused,
        ):
            await ingest.event(event)
        before = await rows_of(url)
        assert any(NAME in row for rows in before.values() for row in rows)
        await ingest.event(erasure)
        await ingest.event(erasure)
        after = await rows_of(url)
    finally:
        await engine.dispose()

    parts = ("Ottilie", "Brandenstein")
    holding = [f"{name}: {row}" for name, rows in after.items() for row in rows if any(p in row for p in parts)]
    assert holding == []
    assert any("Bruno Keller" in row for row in after["console_learners"])
    assert any("'ottilie'" in row for row in after["console_assignments"]), "the plan keeps the id"
