"""The notifier remembers handled events per network, and rows written before that still count."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import notifier_factories as f
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from verbund_notifier.app import build
from verbund_notifier.settings import NotifierSettings
from verbund_notifier.store import alembic_config, migrate
from verbund_notifier.store.tables import metadata


async def test_rows_from_before_the_upgrade_still_make_a_redelivery_a_duplicate(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'notifier.db'}"
    sync_url = f"sqlite:///{tmp_path / 'notifier.db'}"
    command.upgrade(alembic_config(url), "0003")
    seen = f.network()
    engine = sa.create_engine(sync_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO processed_events (event_id, event_type, network_id, processed_at) "
                "VALUES (:id, 'NetworkConfigured', :network, :at)"
            ),
            {"id": seen.id, "network": f.NETWORK, "at": dt.datetime(2027, 1, 4, tzinfo=dt.UTC)},
        )
    await migrate(url)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
        key = sa.inspect(conn).get_pk_constraint("processed_events")["constrained_columns"]
    engine.dispose()
    # Alembic's own version table is no model; anything else differing would be a missing migration.
    assert [d for d in differences if "alembic_version" not in str(d)] == []
    assert key == ["network_id", "event_id"]

    notifier = build(NotifierSettings(notifier_database_url=url, health_port=0)).notifier
    try:
        assert await notifier.service.apply(seen) is False  # handled before the upgrade
        assert await notifier.service.apply(seen.model_copy(update={"subject": "N-OTHER"})) is True
    finally:
        await notifier.close()
