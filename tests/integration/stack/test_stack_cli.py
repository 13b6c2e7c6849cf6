"""`verbund stack up|status|down` through the real command, in a run directory of the test's own."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka.errors import KafkaError, TopicAuthorizationFailedError
from kafka_tools import consume, produce
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from verbund_runtime.kafka import KafkaSecurity
from verbund_schemas.topics import firm_inbound, load_topics

from verbund.stack.processes import pid_alive

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.e2e, pytest.mark.slow]

VERBUND = str(Path(sys.executable).with_name("verbund"))


@pytest.fixture
def stack_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    # Its own run directory, so a stack a developer left running is neither seen nor stopped.
    env = {**os.environ, "VERBUND_RUN_DIR": str(tmp_path / "run")}
    env.pop("KAFKA_BOOTSTRAP_SERVERS", None)
    yield env
    if (tmp_path / "run" / "stack" / "state.json").exists():  # the test failed before its own `down`
        subprocess.run([VERBUND, "stack", "down"], env=env, capture_output=True, timeout=120, check=False)


def verbund(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([VERBUND, *args], env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, f"verbund {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


async def test_stack_up_status_and_down_start_serve_and_stop_kafka_and_postgres(
    stack_env: dict[str, str],
) -> None:
    started = verbund(stack_env, "stack", "up", "--postgres", "--port", "0", "--pg-port", "0")
    assert "topics created" in started
    exports = dict(re.findall(r"^\s*export (\w+)='?([^'\n]+?)'?$", started, re.M))
    bootstrap = exports["KAFKA_BOOTSTRAP_SERVERS"]
    database_url = exports["VERBUND_TEST_DATABASE_URL"]
    # The exported lines make a shell the stack's operator: its super user, the password read from its file.
    operator = KafkaSecurity.from_env(exports)
    assert operator.username == "admin" and operator.password
    status = verbund(stack_env, "stack", "status")
    assert f"running on {bootstrap}" in status and "answers" in status
    assert "PostgreSQL: running" in status
    pid = int(re.search(r"pid (\d+)", status).group(1))  # type: ignore[union-attr]

    # The broker outlived the `up` command and serves the prefixed topics it created.
    marker = uuid.uuid4().hex
    topic = load_topics()["assignments"].name
    await produce(bootstrap, topic, "network-cli", marker, security=operator)
    records = await consume(bootstrap, topic, until=1, timeout=30, security=operator)
    assert records[0].value == marker.encode()

    # A firm's machine principal: its password printed once; `add-client` made the firm's own inbound topic, the
    # one topic it may produce to.
    added = verbund(stack_env, "stack", "add-client", "acme-test")
    password = re.search(r"VERBUND_KAFKA_PASSWORD=(\S+)", added).group(1)  # type: ignore[union-attr]
    own_topic = firm_inbound().member("acme-test").name
    assert f"may produce to {own_topic}, nothing else" in added
    firm = KafkaSecurity(protocol="SASL_PLAINTEXT", username="firm-acme-test", password=password)
    await produce(bootstrap, own_topic, "network-cli", marker, security=firm)
    for elsewhere in (topic, load_topics()["inbound"].name):
        with pytest.raises(TopicAuthorizationFailedError):
            await produce(bootstrap, elsewhere, "network-cli", marker, security=firm)
    verbund(stack_env, "stack", "remove-client", "acme-test")
    with pytest.raises(KafkaError):  # it can no longer sign in
        await produce(bootstrap, own_topic, "network-cli", marker, security=firm)
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await engine.dispose()

    again = verbund(stack_env, "stack", "up")
    assert "already running" in again

    stopped = verbund(stack_env, "stack", "down")
    assert "Kafka stopped." in stopped and "PostgreSQL stopped." in stopped
    assert not pid_alive(pid)
    after = verbund(stack_env, "stack", "status")
    assert "Kafka: not running" in after and "PostgreSQL: not running" in after
