"""The running notifier: database, service, delivery worker and scheduler wired together, started and stopped."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from verbund_schemas import Envelope, EventRejected

from .channels import Channel, EmailChannel, WebhookChannel
from .clock import Clock
from .delivery import DeliveryWorker
from .messages import Composer
from .rendering import Renderer
from .scheduling import Scheduling
from .service import NotifierService
from .settings import NotifierSettings
from .store import create_engine, migrate, session_factory

Publish = Callable[[Envelope], Awaitable[None]]


class Notifier:
    def __init__(
        self,
        settings: NotifierSettings,
        publish_log: Publish,
        publish_rejected: Callable[[EventRejected], Awaitable[None]],
        clock: Clock | None = None,
        channels: dict[str, Channel] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or Clock(settings.notifier_now)
        self.engine = create_engine(settings.notifier_database_url)
        self.sessions = session_factory(self.engine)
        self.scheduling = Scheduling(settings, self.clock)
        self.worker = DeliveryWorker(
            self.sessions,
            channels or {"email": EmailChannel(settings), "webhook": WebhookChannel(settings)},
            settings,
            self.clock,
            publish_log,
        )
        self.service = NotifierService(
            self.sessions,
            Composer(Renderer(), settings.smtp_from, settings.default_language),
            self.clock,
            publish_rejected,
            reminders=self.scheduling,
            on_queued=self.worker.wake,
            digest_weeks_ahead=settings.digest_weeks_ahead,
            directory_wait_seconds=settings.directory_wait_seconds,
        )
        self._worker_task: asyncio.Task[None] | None = None

    async def prepare(self) -> None:
        """Migrate the schema and start the scheduler: before any message is consumed."""
        await migrate(self.settings.notifier_database_url)
        self.scheduling.start(self.service)
        await self.scheduling.reconcile(self.service)

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
        """Stop the scheduler and release the database (after the consumers have stopped)."""
        self.scheduling.shutdown()
        await self.engine.dispose()

    async def stop(self) -> None:
        await self.stop_worker()
        await self.close()
