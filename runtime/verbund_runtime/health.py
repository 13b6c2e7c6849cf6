"""Probes and metrics over HTTP: /healthz, /readyz and /metrics, served by uvicorn on the service's event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from .settings import ServiceSettings

log = logging.getLogger(__name__)

# A readiness check answers None when its part works, else what is wrong (shown on /readyz).
Check = Callable[[], Awaitable[str | None]]
# Readiness as a whole: whether the service can do its work, and a text a person reads (a line per part).
Ready = Callable[[], Awaitable[tuple[bool, str]]]
CHECK_SECONDS = 5.0


async def readiness(checks: Mapping[str, Check]) -> tuple[bool, str]:
    """Run every check; ready only if all pass. The text names each part and what is wrong with it."""
    lines: list[str] = []
    ok = True
    for name, check in checks.items():
        try:
            # A hung database must not hang the probe: the orchestrator would time out without a reason.
            problem = await asyncio.wait_for(check(), timeout=CHECK_SECONDS)
        except TimeoutError:
            problem = f"no answer within {CHECK_SECONDS:g} s"
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
        ok = ok and problem is None
        lines.append(f"{name}: {'ok' if problem is None else problem}")
    return ok, "\n".join(lines)


def probe_app(
    ready: Ready,
    before_metrics: Callable[[], Awaitable[None]] | None = None,
    service: str = "service",
    routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The ASGI app behind the endpoint; `before_metrics` refreshes gauges read from the database per scrape.

    `routes` are a service's own machine endpoints beside the probes (the matcher's key endpoint).
    """

    async def healthz(_: Request) -> Response:
        # Liveness: the event loop answers.
        return PlainTextResponse("ok\n")

    async def readyz(_: Request) -> Response:
        ok, detail = await ready()
        return PlainTextResponse(detail + "\n", status_code=200 if ok else 503)

    async def metrics(_: Request) -> Response:
        if before_metrics is not None:
            try:
                await asyncio.wait_for(before_metrics(), timeout=CHECK_SECONDS)
            except Exception:
                # Counters are still worth serving when a gauge read from the database cannot be refreshed.
                log.warning("could not refresh the %s's gauges before a scrape", service, exc_info=True)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    async def not_found(_: Request, __: Exception) -> Response:
        return PlainTextResponse("not found: try /healthz, /readyz, /metrics\n", status_code=404)

    return Starlette(
        routes=[Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics), *routes],
        exception_handlers={404: not_found},
    )


class HealthServer:
    """The probe app on uvicorn, started and stopped with the service (no signal handlers of its own)."""

    def __init__(
        self,
        host: str,
        port: int,
        ready: Ready,
        before_metrics: Callable[[], Awaitable[None]] | None = None,
        *,
        service: str = "service",
        port_setting: str = "VERBUND_HEALTH_PORT",
        routes: Sequence[BaseRoute] = (),
    ) -> None:
        self._host, self._port = host, port
        self._service, self._port_setting = service, port_setting
        self.app = probe_app(ready, before_metrics, service, routes)
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        """The bound port (the configured one, or the one picked when it was 0)."""
        server = self._server
        if server is None or not server.servers or not server.servers[0].sockets:
            return self._port
        return int(server.servers[0].sockets[0].getsockname()[1])

    async def start(self) -> None:
        config = uvicorn.Config(
            self.app, host=self._host, port=self._port, lifespan="off", access_log=False, log_config=None
        )
        config.load()
        server = uvicorn.Server(config)
        # The service owns the process's signals: the server is driven step by step instead of by serve(),
        # which would take SIGTERM and SIGINT for itself.
        server.lifespan = config.lifespan_class(config)
        try:
            await server.startup()
        except SystemExit as exc:  # uvicorn's answer to a port it cannot bind
            raise RuntimeError(
                f"the {self._service}'s health endpoint cannot listen on {self._host}:{self._port}; "
                f"set {self._port_setting} to a free port, or 0 to turn the endpoint off"
            ) from exc
        self._server = server
        self._task = asyncio.create_task(server.main_loop(), name=f"verbund-{self._service}-health")
        log.info("health endpoint on http://%s:%d/ (healthz, readyz, metrics)", self._host, self.port)

    async def stop(self) -> None:
        server, task = self._server, self._task
        self._server = self._task = None
        if server is None or task is None:
            return
        server.should_exit = True
        await task
        await server.shutdown()


def health_server(
    settings: ServiceSettings,
    ready: Ready,
    before_metrics: Callable[[], Awaitable[None]] | None = None,
    *,
    service: str,
    routes: Sequence[BaseRoute] = (),
) -> HealthServer | None:
    """The endpoint on the service's configured host and port; None when its port is 0 (turned off)."""
    if not settings.health_port:
        return None
    prefix = settings.model_config.get("env_prefix", "")
    return HealthServer(
        settings.health_host,
        settings.health_port,
        ready,
        before_metrics,
        service=service,
        port_setting=f"{prefix}HEALTH_PORT",
        routes=routes,
    )
