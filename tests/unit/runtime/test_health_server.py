"""The shared probe endpoint: real HTTP on uvicorn, readiness as the service says, signals left to the service."""

from __future__ import annotations

import signal
import socket

import httpx
import pytest
from prometheus_client import Counter
from verbund_runtime.health import HealthServer, readiness

SCRAPED = Counter("verbund_test_scrapes_total", "Scrapes seen by the probe endpoint test")


async def test_probes_answer_readiness_and_metrics_over_http() -> None:
    state = {"ok": True}

    async def ready() -> tuple[bool, str]:
        return state["ok"], "database: ok" if state["ok"] else "database: gone"

    async def before_metrics() -> None:
        SCRAPED.inc()

    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    server = HealthServer("127.0.0.1", 0, ready, before_metrics=before_metrics, service="test")
    await server.start()
    try:
        # The service owns SIGTERM and SIGINT: the endpoint must not take them.
        assert {sig: signal.getsignal(sig) for sig in handlers} == handlers
        port = server.port
        assert port != 0
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base) as client:
            assert (await client.get("/healthz")).text == "ok\n"
            answer = await client.get("/readyz")
            assert (answer.status_code, answer.text) == (200, "database: ok\n")
            state["ok"] = False
            answer = await client.get("/readyz")
            assert (answer.status_code, answer.text) == (503, "database: gone\n")
            metrics = await client.get("/metrics")
            assert metrics.status_code == 200 and "verbund_test_scrapes_total 1.0" in metrics.text
            missing = await client.get("/nothing")
            assert missing.status_code == 404 and "/readyz" in missing.text
    finally:
        await server.stop()
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as client:
            await client.get(f"http://127.0.0.1:{port}/healthz")


async def test_a_taken_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        async def ready() -> tuple[bool, str]:
            return True, ""

        server = HealthServer("127.0.0.1", port, ready, service="test", port_setting="VERBUND_HEALTH_PORT")
        with pytest.raises(RuntimeError, match="VERBUND_HEALTH_PORT"):
            await server.start()


async def test_readiness_names_each_part_and_what_is_wrong() -> None:
    async def fine() -> str | None:
        return None

    async def broken() -> str | None:
        raise ConnectionError("refused")

    ok, text = await readiness({"database": fine, "kafka": broken})
    assert not ok
    assert text == "database: ok\nkafka: ConnectionError: refused"
