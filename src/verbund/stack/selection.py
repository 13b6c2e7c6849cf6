"""Which Kafka and PostgreSQL to use: a configured one, else a Docker container, else a local process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Literal

from verbund_runtime.kafka import KafkaSecurity

from verbund.stack.kafka_local import LocalKafka
from verbund.stack.postgres_local import LocalPostgres

Source = Literal["configured", "docker", "local"]
_BACKENDS = ("auto", "docker", "local")
KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.0"
POSTGRES_IMAGE = "postgres:16-alpine"


class StackUnavailableError(RuntimeError):
    """Neither a configured service, nor Docker, nor a local server could be had."""


@dataclass(frozen=True)
class KafkaEndpoint:
    bootstrap_servers: str
    source: Source
    # How its super user connects: VERBUND_KAFKA_* for a configured cluster, the local broker's admin.
    security: KafkaSecurity = field(default_factory=KafkaSecurity)


@dataclass(frozen=True)
class PostgresEndpoint:
    url: str  # async SQLAlchemy URL (postgresql+asyncpg://...)
    admin_url: str  # the same server, database `postgres`: for CREATE DATABASE
    source: Source


def backend() -> str:
    """VERBUND_STACK_BACKEND: auto (Docker when it answers, else local processes), docker, or local."""
    value = (os.environ.get("VERBUND_STACK_BACKEND") or "auto").strip().lower()
    if value not in _BACKENDS:
        raise StackUnavailableError(
            f"VERBUND_STACK_BACKEND={value!r} is not one of {', '.join(_BACKENDS)}; unset it or pick one of them."
        )
    return value


@cache
def docker_available(timeout: float = 2.0) -> bool:
    """Whether a Docker engine answers a ping within `timeout` seconds (the client alone is not enough)."""
    try:
        import docker

        client = docker.from_env(timeout=timeout)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def as_async_url(url: str) -> str:
    """postgresql://... and postgres://... as the asyncpg form SQLAlchemy's async engine needs."""
    for prefix in ("postgresql+psycopg2://", "postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def _with_database(url: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=database).render_as_string(hide_password=False)


def _use_docker() -> bool:
    chosen = backend()
    if chosen == "local":
        return False
    if docker_available():
        return True
    if chosen == "docker":
        raise StackUnavailableError(
            "VERBUND_STACK_BACKEND=docker, but no Docker engine answers (DOCKER_HOST or /var/run/docker.sock). "
            "Start Docker, or unset VERBUND_STACK_BACKEND to use local processes."
        )
    return False


@contextmanager
def provide_kafka(bootstrap_servers: str | None = None) -> Iterator[KafkaEndpoint]:
    """A Kafka to talk to, for the duration of the block.

    Order: the given address or KAFKA_BOOTSTRAP_SERVERS (used as it is, never stopped); else a testcontainers
    Kafka when a Docker engine answers (PLAINTEXT); else a local broker from Maven jars (LocalKafka, with
    SASL/SCRAM and ACLs: `.security` is its super user).
    """
    configured = bootstrap_servers or os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if configured:
        yield KafkaEndpoint(configured, "configured", KafkaSecurity.from_env())
        return
    if _use_docker():
        from testcontainers.community.kafka import KafkaContainer

        with KafkaContainer(os.environ.get("VERBUND_KAFKA_IMAGE") or KAFKA_IMAGE).with_kraft() as container:
            yield KafkaEndpoint(container.get_bootstrap_server(), "docker")
        return
    with LocalKafka() as kafka:
        yield KafkaEndpoint(kafka.bootstrap_servers, "local", kafka.admin_security)


@contextmanager
def provide_postgres(url: str | None = None) -> Iterator[PostgresEndpoint]:
    """A PostgreSQL server for the duration of the block.

    Order: the given URL or VERBUND_TEST_DATABASE_URL (used as it is); else a testcontainers PostgreSQL when
    a Docker engine answers; else a local server (LocalPostgres, installing Debian's package as root).
    """
    configured = url or os.environ.get("VERBUND_TEST_DATABASE_URL")
    if configured:
        async_url = as_async_url(configured)
        yield PostgresEndpoint(async_url, _with_database(async_url, "postgres"), "configured")
        return
    if _use_docker():
        from testcontainers.community.postgres import PostgresContainer

        image = os.environ.get("VERBUND_POSTGRES_IMAGE") or POSTGRES_IMAGE
        with PostgresContainer(image, driver="asyncpg", dbname="verbund") as container:
            container_url = container.get_connection_url()
            yield PostgresEndpoint(container_url, _with_database(container_url, "postgres"), "docker")
        return
    with LocalPostgres() as server:
        yield PostgresEndpoint(server.url, server.admin_url, "local")
