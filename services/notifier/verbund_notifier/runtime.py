"""The running notifier: database, service, delivery worker, scheduler and health endpoint, started and stopped."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from prometheus_client import Gauge
from sqlalchemy import text
from verbund_runtime.health import Check, HealthServer, health_server, readiness
from verbund_runtime.keyring import keyring_of
from verbund_schemas import Envelope

from .channels.email import EmailChannel
from .channels.protocol import Channel
from .channels.webhook import WebhookChannel
from .clock import Clock
from .domain.messages import Composer
from .domain.rendering import Renderer
from .message_endpoint import message_routes
from .service.delivery import DeliveryWorker
from .service.ingest import NotifierService
from .service.poison import ConsumeAttempts
from .service.scheduling import Scheduling
from .settings import NotifierSettings
from .store.database import create_engine, migrate, session_factory
from .store.retention import Pruned, prune

Publish = Callable[[Envelope], Awaitable[None]]

HELD_GAUGE = Gauge(
    "verbund_notifier_events_held",
    "Assignment and shortfall events waiting for a registration they name, read at scrape time",
)


class Notifier:
    def __init__(
        self,
        settings: NotifierSettings,
        publish_log: Publish,
        clock: Clock | None = None,
        channels: dict[str, Channel] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or Clock(settings.notifier_now)
        self.engine = create_engine(settings.notifier_database_url)
        self.sessions = session_factory(self.engine)
        self.scheduling = Scheduling(settings, self.clock)
        self.keyring = keyring_of(settings.key_service_url, settings.key_service_token)
        self.worker = DeliveryWorker(
            self.sessions,
            channels or {"email": EmailChannel(settings), "webhook": WebhookChannel(settings)},
            settings,
            self.clock,
            publish_log,
        )
        self.service = NotifierService(
            self.sessions,
            Composer(Renderer(), settings.smtp_from, settings.default_language, uid_domain=settings.uid_domain),
            self.clock,
            reminders=self.scheduling,
            on_queued=self.worker.wake,
            digest_weeks_ahead=settings.digest_weeks_ahead,
            timezone=settings.timezone,
            max_event_bytes=settings.max_event_bytes,
            keyring=self.keyring,
        )
        self._worker_task: asyncio.Task[None] | None = None
        # Set by the app once it has a broker: None when every Kafka subscriber is consuming and the cluster
        # answers, else what is wrong.
        self.kafka_problem: Check = _no_broker_yet
        # Set by the app: retries and parking of consumed events.
        self.consume_attempts: ConsumeAttempts | None = None
        self.checks: dict[str, Check] = {
            "database": self._database_problem,
            "kafka": lambda: self.kafka_problem(),
            "scheduler": self._scheduler_problem,
            "consuming": self._consuming_problem,
        }
        # The export reads the messages held for a learner here, behind the key endpoint's machine token.
        token = settings.key_service_token
        routes = message_routes(self.sessions, token.get_secret_value()) if token is not None else []
        self.health: HealthServer | None = health_server(
            settings, self.ready, self._refresh_gauges, service="notifier", routes=routes
        )

    async def prepare(self) -> None:
        """Serve probes, migrate the schema and start the scheduler: before any message is consumed."""
        if self.health is not None:
            # First, so a liveness probe is answered during a long migration (readiness says why not yet).
            await self.health.start()
        await migrate(self.settings.notifier_database_url)
        self.scheduling.start(self.service)
        self.scheduling.daily_prune(self.prune_now)
        await self.scheduling.reconcile(self.service)

    async def prune_now(self) -> Pruned:
        """Forget old handled event ids and long-finished deliveries now (the scheduler does it daily)."""
        return await prune(
            self.sessions,
            now=self.clock.now(),
            inbox_days=self.settings.notifier_inbox_retention_days,
            delivery_days=self.settings.delivery_retention_days,
        )

    async def ready(self) -> tuple[bool, str]:
        """Whether this replica can do its work: database answers, consumers run, scheduler runs."""
        return await readiness(self.checks)

    async def _database_problem(self) -> str | None:
        async with self.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        return None

    async def _consuming_problem(self) -> str | None:
        failing = self.consume_attempts.failing if self.consume_attempts is not None else None
        return f"an event keeps failing, retrying: {failing}" if failing else None

    async def _scheduler_problem(self) -> str | None:
        return None if self.scheduling.running else "reminder and digest scheduler not running"

    async def _refresh_gauges(self) -> None:
        await self.worker.count_pending()
        HELD_GAUGE.set(await self.service.held_count())

    async def start_worker(self) -> None:
        """Start sending (async, so FastStream runs it on the event loop rather than in a thread)."""
        if self._worker_task is None:
            self._worker_task = asyncio.create_task(self.worker.run(), name="verbund-notifier-delivery")

    async def stop_worker(self) -> None:
        """Let the delivery worker finish its round (while the broker can still take its log events)."""
        if self._worker_task is not None:
            self.worker.stop()
            done, _ = await asyncio.wait({self._worker_task}, timeout=self.settings.smtp_timeout_seconds + 5)
            if not done:
                self._worker_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._worker_task
            self._worker_task = None

    async def close(self) -> None:
        """Stop the scheduler, the health endpoint and release the database (after the consumers have stopped)."""
        self.scheduling.shutdown()
        if self.health is not None:
            await self.health.stop()
        if self.keyring is not None:
            await self.keyring.close()
        await self.engine.dispose()

    async def stop(self) -> None:
        await self.stop_worker()
        await self.close()


async def _no_broker_yet() -> str | None:
    return "consumers not running (not started yet, or stopping)"
