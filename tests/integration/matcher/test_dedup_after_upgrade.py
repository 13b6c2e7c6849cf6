"""On SQLite and PostgreSQL: handled ids written before dedup was scoped by network still count after the upgrade."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from alembic import command
from forced_network import ForcedNetwork, encode
from sqlalchemy import Connection, text
from verbund_matcher.service.ingest import Record, handle_batch
from verbund_matcher.service.replan import PlannerSettings
from verbund_matcher.store.database import alembic_config, create_engine, migrate, session_factory
from verbund_notifier.app import build
from verbund_notifier.settings import NotifierSettings
from verbund_notifier.store import alembic_config as notifier_alembic_config
from verbund_notifier.store import create_engine as notifier_engine
from verbund_notifier.store import migrate as notifier_migrate
from verbund_schemas import decode_event

pytestmark = pytest.mark.timeout(120)

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _matcher_at(revision: str) -> Callable[[Connection], None]:
    def upgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    return upgrade


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_matchers_inbox_keeps_its_rows_through_the_upgrade(
    backend: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "fresh_postgres_url")
    net = ForcedNetwork("upgrade-m")
    events = net.setup()
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_matcher_at("0002"))
            for row in (
                (events[0]["id"], "upgrade-m", 0, "applied"),
                ("kafka:verbund.inbound:0:1", "upgrade-m", 1, "rejected"),
                ("kafka:verbund.inbound:0:2", None, 2, "rejected"),
            ):
                await conn.execute(
                    text(
                        'INSERT INTO inbox (message_id, network_id, topic, partition, "offset", outcome, handled_at) '
                        "VALUES (:id, :network, 'verbund.inbound', 0, :offset, :outcome, :at)"
                    ),
                    {
                        "id": row[0],
                        "network": row[1],
                        "offset": row[2],
                        "outcome": row[3],
                        "at": dt.datetime.now(dt.UTC),
                    },
                )
        await migrate(engine)
        sessions = session_factory(engine)
        records = [Record("verbund.inbound", 0, i, b"upgrade-m", encode(e)) for i, e in enumerate(events[:3])]
        outcome = await handle_batch(
            sessions, records, today=lambda: dt.date(2030, 12, 2), planner=PlannerSettings(workers=1)
        )
        assert (outcome.applied, outcome.duplicates) == (0, 3)
        # The same id in another network is another event.
        elsewhere = {**events[0], "subject": "upgrade-other"}
        moved = [Record("verbund.inbound", 0, 10, b"upgrade-other", encode(elsewhere))]
        again = await handle_batch(
            sessions, moved, today=lambda: dt.date(2030, 12, 2), planner=PlannerSettings(workers=1)
        )
        assert (again.applied, again.duplicates) == (1, 0)
    finally:
        await engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
async def test_the_notifiers_processed_events_keep_their_rows_through_the_upgrade(
    backend: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "fresh_postgres_url")
    command.upgrade(notifier_alembic_config(url), "0003")
    event = decode_event(encode(ForcedNetwork("upgrade-n").setup()[0]))
    engine = notifier_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO processed_events (event_id, event_type, network_id, processed_at) "
                    "VALUES (:id, 'NetworkConfigured', 'upgrade-n', :at)"
                ),
                {"id": event.id, "at": dt.datetime.now(dt.UTC)},
            )
    finally:
        await engine.dispose()
    await notifier_migrate(url)
    notifier = build(NotifierSettings(notifier_database_url=url, health_port=0)).notifier
    try:
        assert await notifier.service.apply(event) is False
        assert await notifier.service.apply(event.model_copy(update={"subject": "upgrade-other"})) is True
    finally:
        await notifier.close()
