"""Session fixtures for every test: a real Kafka broker with Verbund's topics, PostgreSQL, and SQLite URLs.

Kafka: KAFKA_BOOTSTRAP_SERVERS if set (with VERBUND_KAFKA_* for its security), else a testcontainers broker
when a Docker engine answers, else a local broker from Maven jars with SASL/SCRAM and ACLs. PostgreSQL:
VERBUND_TEST_DATABASE_URL if set, else testcontainers, else a local server. A broker or server that cannot
be had fails the tests that need it, with the reason; nothing skips (skip_policy turns any skip into a
failure), so a run without them can never pass.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import NoReturn

import pytest
from postgres_tools import create_database, drop_database, url_with_database
from verbund_schemas.topics import load_topics

from verbund.stack.kafka_local import run_coroutine
from verbund.stack.selection import PostgresEndpoint, provide_kafka, provide_postgres
from verbund.stack.topics import delete_topics, ensure_topics

# This run's topics get their own prefix, so runs against a shared cluster do not see each other's events;
# subprocesses inherit it. load_topics() caches the names: forget any read before the prefix was set.
_OWN_PREFIX = "VERBUND_TOPIC_PREFIX" not in os.environ
os.environ.setdefault("VERBUND_TOPIC_PREFIX", f"test-{uuid.uuid4().hex[:8]}.")
load_topics.cache_clear()


pytest_plugins = ("skip_policy",)


def _unavailable(what: str, error: BaseException) -> NoReturn:
    pytest.fail(
        f"{what} could not be had: {error.__class__.__name__}: {error}\n"
        "The integration and end-to-end tests need it and do not skip without it. `make test` fetches and starts "
        "a local broker and PostgreSQL; to use running ones set KAFKA_BOOTSTRAP_SERVERS or "
        "VERBUND_TEST_DATABASE_URL. Only the unit tests: `make test-unit`.",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """host:port of a running Kafka broker on which every topic of infra/topics.toml exists (prefixed)."""
    with ExitStack() as stack:
        try:
            endpoint = stack.enter_context(provide_kafka())
            if endpoint.source == "local":
                # Every client of this run (helpers, services in this process and in subprocesses, the CLI)
                # reads VERBUND_KAFKA_*: they all connect as the broker's super user; ACL tests use their own.
                os.environ.update(endpoint.security.environment())
            report = run_coroutine(
                ensure_topics(endpoint.bootstrap_servers, load_topics().values(), security=endpoint.security)
            )
        except Exception as exc:
            _unavailable("A Kafka broker", exc)
        yield endpoint.bootstrap_servers
        if endpoint.source == "configured" and _OWN_PREFIX:
            # A shared cluster keeps no topics of finished test runs; a broker of our own just stops.
            run_coroutine(delete_topics(endpoint.bootstrap_servers, report.created, security=endpoint.security))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresEndpoint]:
    """The PostgreSQL server of this run: `.url` (async URL of its main database), `.admin_url`, `.source`."""
    with ExitStack() as stack:
        try:
            endpoint = stack.enter_context(provide_postgres())
        except Exception as exc:
            _unavailable("A PostgreSQL server", exc)
        yield endpoint


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresEndpoint) -> str:
    """postgresql+asyncpg://... of a database shared by the whole session."""
    return postgres_server.url


@pytest.fixture
def fresh_postgres_url(postgres_server: PostgresEndpoint) -> Iterator[str]:
    """postgresql+asyncpg://... of a new, empty database for this test alone (dropped afterwards)."""
    name = f"verbund_test_{uuid.uuid4().hex[:12]}"
    try:
        run_coroutine(create_database(postgres_server.admin_url, name))
    except Exception as exc:
        _unavailable(f"A fresh database on {postgres_server.source} PostgreSQL", exc)
    yield url_with_database(postgres_server.url, name)
    run_coroutine(drop_database(postgres_server.admin_url, name))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """sqlite+aiosqlite:///... of a database file in this test's temporary folder."""
    return f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
