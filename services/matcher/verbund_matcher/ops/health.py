"""A small HTTP endpoint for /healthz, /readyz and /metrics (no web framework needed for three paths)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

log = logging.getLogger(__name__)

ReadinessCheck = Callable[[], Awaitable[tuple[bool, str]]]


class HealthServer:
    """Liveness: the event loop answers. Readiness: `ready()` says whether the matcher can do its work."""

    def __init__(
        self, host: str, port: int, ready: ReadinessCheck, before_metrics: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        self._host, self._port, self._ready = host, port, ready
        # Runs before each scrape, so gauges read from the database are as of the scrape.
        self._before_metrics = before_metrics
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The bound port (useful when configured as 0 would pick one; here 0 means off)."""
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, self._host, self._port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), timeout=5)
            while (await asyncio.wait_for(reader.readline(), timeout=5)) not in (b"\r\n", b"\n", b""):
                pass
            parts = request.decode("latin-1").split()
            path = parts[1].split("?")[0] if len(parts) >= 2 else "/"
            if path == "/healthz":
                status, ctype, body = 200, "text/plain; charset=utf-8", b"ok\n"
            elif path == "/readyz":
                ok, detail = await self._ready()
                status, ctype, body = (200 if ok else 503), "text/plain; charset=utf-8", (detail + "\n").encode()
            elif path == "/metrics":
                if self._before_metrics is not None:
                    try:
                        await asyncio.wait_for(self._before_metrics(), timeout=5)
                    except Exception:
                        # Counters are still worth serving when the database cannot be read.
                        log.warning("could not refresh the outbox gauges before a scrape", exc_info=True)
                status, ctype, body = 200, CONTENT_TYPE_LATEST, generate_latest()
            else:
                status, ctype, body = 404, "text/plain; charset=utf-8", b"not found: try /healthz, /readyz, /metrics\n"
            reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[status]
            head = (
                f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n"
            )
            writer.write(head.encode("latin-1") + body)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        except Exception:
            log.exception("health endpoint failed to answer")
        finally:
            writer.close()
