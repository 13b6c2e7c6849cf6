"""Entry point: `python -m verbund_console` serves the web console and runs the topic consumers in one loop."""

from __future__ import annotations

import gc
import logging
import sys

import uvicorn
from verbund_runtime.health import health_server, readiness
from verbund_runtime.logs import configure_logging
from verbund_runtime.process import run_service

from .app import Console, build
from .settings import ConsoleSettings
from .store.database import migrate

log = logging.getLogger("verbund_console")


async def run(console: Console) -> None:
    """Migrate, start the consumers and the health endpoint, serve the pages until SIGTERM or SIGINT."""
    settings = console.settings
    assert console.web is not None
    await migrate(settings.database_url)

    async def database() -> str | None:
        await console.read_model.network("")
        return None

    async def kafka() -> str | None:
        if not settings.consume:
            return None
        if not await console.broker.ping(timeout=3.0):
            return f"broker unreachable at {settings.kafka_bootstrap_servers}"
        return None

    health = health_server(settings, lambda: readiness({"database": database, "kafka": kafka}), service="console")
    if health is not None:
        await health.start()
    if settings.consume:
        await console.broker.start()
    config = uvicorn.Config(
        console.web,
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_config=None,
        proxy_headers=False,
        # Live streams never end by themselves: give them a moment, then close them.
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    # What start-up made (modules, the app, the engine, the broker) lives as long as the process. Frozen, Python's
    # full collections stop scanning it: while the consumers fold a burst, the rows each batch holds triggered one
    # every few batches, and scanning everything was a fifth of the fold's time (bench/console.py).
    gc.freeze()
    try:
        log.info("console on %s", settings.public_url or f"http://{settings.host}:{settings.port}/")
        await server.serve()
    finally:
        await console.broker.stop()
        if health is not None:
            await health.stop()
        await console.engine.dispose()


def main() -> None:
    settings = ConsoleSettings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    if settings.session_secret is None:
        log.error(
            "VERBUND_CONSOLE_SESSION_SECRET is not set; the console signs its session cookies with it. Make one "
            "with `python -c 'import secrets; print(secrets.token_urlsafe(48))'` and set it in the environment"
        )
        sys.exit(2)
    run_service(run(build(settings)), kafka_bootstrap_servers=settings.kafka_bootstrap_servers, log=log)


if __name__ == "__main__":
    main()
