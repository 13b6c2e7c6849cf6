"""How the stack is chosen and configured, checked without starting anything."""

from __future__ import annotations

import base64
import socket
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from verbund.stack.background import pick_port
from verbund.stack.kafka_local import new_cluster_id, server_properties
from verbund.stack.selection import StackUnavailableError, as_async_url, provide_kafka, provide_postgres


def test_a_configured_bootstrap_address_is_used_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-a.example.org:9092,kafka-b.example.org:9092")

    with provide_kafka() as endpoint:
        assert endpoint.bootstrap_servers == "kafka-a.example.org:9092,kafka-b.example.org:9092"
        assert endpoint.source == "configured"


def test_a_configured_database_url_becomes_an_asyncpg_url_with_an_admin_url_on_the_same_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VERBUND_TEST_DATABASE_URL", "postgresql://tester:s3cret@db.example.org:5544/verbund_ci")

    with provide_postgres() as endpoint:
        assert endpoint.url == "postgresql+asyncpg://tester:s3cret@db.example.org:5544/verbund_ci"
        admin = make_url(endpoint.admin_url)
        assert (admin.host, admin.port, admin.username, admin.password, admin.database) == (
            "db.example.org",
            5544,
            "tester",
            "s3cret",
            "postgres",
        )


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@h/d", "postgresql+asyncpg://u:p@h/d"),
        ("postgresql+psycopg://u:p@h/d", "postgresql+asyncpg://u:p@h/d"),
        ("postgresql+asyncpg://u:p@h/d", "postgresql+asyncpg://u:p@h/d"),
    ],
)
def test_database_urls_are_turned_into_the_async_driver_form(given: str, expected: str) -> None:
    assert as_async_url(given) == expected


def test_an_unknown_backend_is_refused_with_the_allowed_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.setenv("VERBUND_STACK_BACKEND", "podman")

    with pytest.raises(StackUnavailableError, match="auto, docker, local"), provide_kafka():
        pass


def test_cluster_ids_are_sixteen_random_bytes_in_unpadded_base64url_never_starting_with_a_dash() -> None:
    first, second = new_cluster_id(), new_cluster_id()

    assert first != second
    assert len(first) == 22 and "=" not in first
    assert len(base64.urlsafe_b64decode(first + "==")) == 16
    # One random id in 64 starts with "-", which the storage tool's command line reads as an option.
    assert not any(new_cluster_id().startswith("-") for _ in range(2000))


def test_the_broker_listens_on_loopback_only_as_broker_and_controller_at_once(tmp_path: Path) -> None:
    text = server_properties(port=40001, controller_port=40002, data_dir=tmp_path / "data")
    settings = dict(line.split("=", 1) for line in text.splitlines())

    assert settings["process.roles"] == "broker,controller"
    assert settings["listeners"] == "PLAINTEXT://127.0.0.1:40001,CONTROLLER://127.0.0.1:40002"
    assert settings["advertised.listeners"] == "PLAINTEXT://127.0.0.1:40001"
    assert settings["controller.quorum.bootstrap.servers"] == "127.0.0.1:40002"
    assert settings["log.dirs"] == str(tmp_path / "data")
    assert settings["offsets.topic.replication.factor"] == "1"
    assert settings["transaction.state.log.min.isr"] == "1"


def test_stack_up_falls_back_to_any_free_port_when_the_default_one_is_taken() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        default = holder.getsockname()[1]  # stands in for 9092, which other programs may need meanwhile

        assert pick_port(None, default) == 0
        assert pick_port(0, default) == 0
        assert pick_port(default + 1, default) == default + 1
    assert pick_port(None, default) == default
