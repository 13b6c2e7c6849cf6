"""The notifier's HTTP endpoint for probes and scraping: /healthz, /readyz and /metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

log = logging.getLogger(__name__)

# A readiness check answers None when its part works, else what is wrong (shown on /readyz).
Check = Callable[[], Awaitable[str | None]]
_TEXT = "text/plain; charset=utf-8"
_REASONS = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}
_CHECK_SECONDS = 5.0


async def readiness(checks: Mapping[str, Check]) -> tuple[bool, str]:
    """Run every check; ready only if all pass. The text names each part and what is wrong with it."""
    lines: list[str] = []
    ok = True
    for name, check in checks.items():
        try:
            # A hung database must not hang the probe: Kubernetes would time out without a reason.
            problem = await asyncio.wait_for(check(), timeout=_CHECK_SECONDS)
        except TimeoutError:
            problem = f"no answer within {_CHECK_SECONDS:g} s"
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
        ok = ok and problem is None
        lines.append(f"{name}: {'ok' if problem is None else problem}")
    return ok, "\n".join(lines)


class HealthEndpoint:
    """Liveness: the event loop answers. Readiness: every named check passes (database, consumers, scheduler).

    `before_metrics` runs before each scrape, so gauges read from the database are current when scraped
    rather than as old as the last delivery round.
    """

    def __init__(
        self,
        host: str,
        port: int,
        checks: Mapping[str, Check],
        before_metrics: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._host, self._port = host, port
        self._checks = dict(checks)
        self._before_metrics = before_metrics
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(self._serve, self._host, self._port)
        except OSError as exc:
            raise RuntimeError(
                f"the notifier's health endpoint cannot listen on {self._host}:{self._port} ({exc}); "
                "set VERBUND_HEALTH_PORT to a free port, or 0 to turn the endpoint off"
            ) from exc
        log.info("health endpoint on http://%s:%d/ (healthz, readyz, metrics)", self._host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _answer(self, path: str) -> tuple[int, str, bytes]:
        if path == "/healthz":
            return 200, _TEXT, b"ok\n"
        if path == "/readyz":
            ok, detail = await readiness(self._checks)
            return (200 if ok else 503), _TEXT, (detail + "\n").encode()
        if path == "/metrics":
            if self._before_metrics is not None:
                try:
                    await asyncio.wait_for(self._before_metrics(), timeout=_CHECK_SECONDS)
                except Exception:
                    # Counters are still worth serving when the database gauge cannot be read.
                    log.warning("could not refresh the notifier's gauges before a scrape", exc_info=True)
            return 200, CONTENT_TYPE_LATEST, generate_latest()
        return 404, _TEXT, b"not found: try /healthz, /readyz, /metrics\n"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), timeout=5)
            while (await asyncio.wait_for(reader.readline(), timeout=5)) not in (b"\r\n", b"\n", b""):
                pass
            parts = request.decode("latin-1").split()
            path = parts[1].split("?")[0] if len(parts) >= 2 else "/"
            status, ctype, body = await self._answer(path)
            head = (
                f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            )
            writer.write(head.encode("latin-1") + body)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        except Exception:
            log.exception("health endpoint failed to answer")
        finally:
            writer.close()
