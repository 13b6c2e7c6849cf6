"""Applies one consumed event in one transaction and queues its messages; queues reminders and digests."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from verbund_schemas import (
    DEFAULT_MAX_EVENT_BYTES,
    INBOUND_TYPES,
    AssignmentCancelled,
    AssignmentChanged,
    AssignmentMade,
    ContactErased,
    Envelope,
    FirmLeft,
    FirmUpdated,
    InboundEnvelope,
    InvalidEvent,
    Keyring,
    LearnerErased,
    PersonalDataErased,
    PlanPublished,
    Role,
    SeatDeficitDetected,
    SeatDeficitResolved,
    ShortfallDetected,
    ShortfallResolved,
    decode_event,
    decode_opened,
    week_of,
)
from verbund_schemas.topics import firm_inbound

from ..clock import Clock
from ..domain.digest import digest_context, digest_weeks
from ..domain.messages import Composer
from ..domain.outgoing import Source
from ..domain.parties import FIRM, LEARNER
from ..domain.phases import Phase
from ..store import directory, held_events, inbox, phases, shortfalls
from ..store.deliveries import enqueue
from ..store.directory import DIRECTORY_EVENTS
from ..store.erasure import erase_contact, erase_learner
from ..store.names import names_of

log = logging.getLogger(__name__)

SERVICE = "notifier"
# Counted and skipped, not published: the rejection of an inbound record is the matcher's (it owns that topic),
# and the assignments and shortfalls topics carry only what the matcher wrote.
REJECTED = Counter(
    "verbund_notifier_rejected_total",
    "Consumed messages skipped because they are not events the notifier can read",
    ["topic", "cause"],
)
APPLIED = Counter("verbund_notifier_events_total", "Events applied", ["type"])
HELD = Counter(
    "verbund_notifier_held_total", "Events held until the learner, firm or network they name is registered", ["type"]
)
RELEASED = Counter("verbund_notifier_released_total", "Held events applied once their parties were known", ["type"])

ASSIGNMENT_TYPES: tuple[type[Envelope], ...] = (AssignmentMade, AssignmentChanged, AssignmentCancelled, PlanPublished)
SHORTFALL_TYPES: tuple[type[Envelope], ...] = (
    ShortfallDetected,
    ShortfallResolved,
    SeatDeficitDetected,
    SeatDeficitResolved,
)
HELD_TYPES = ASSIGNMENT_TYPES + SHORTFALL_TYPES
FAMILIES: dict[str, tuple[type[Envelope], ...]] = {
    "inbound": INBOUND_TYPES,
    "assignments": ASSIGNMENT_TYPES,
    "shortfalls": SHORTFALL_TYPES,
}


@dataclass(frozen=True)
class Origin:
    """Where a consumed message came from, for rejections a person can trace."""

    topic: str
    partition: int
    offset: int
    key: str | None


def _firm_tells_of_itself(event: Envelope, firm_id: str) -> bool:
    """An event read from firm `firm_id`'s own inbound topic updates that firm's details, and claims no one else."""
    sender = event.authcontext if isinstance(event, InboundEnvelope) else None
    if sender is not None and (
        sender.role is not Role.FIRM or sender.firm_id != firm_id or sender.network_id != event.network_id
    ):
        return False
    return isinstance(event, FirmUpdated) and event.data.firm_id == firm_id


AssignmentEvents = AssignmentMade | AssignmentChanged | AssignmentCancelled


def _named(event: AssignmentEvents) -> AssignmentEvents:
    """An erased learner's assignment comes without a name (ADR 0004): the messages say their id instead."""
    if event.data.learner_name:
        return event
    return event.model_copy(update={"data": event.data.model_copy(update={"learner_name": event.data.learner_id})})


def subject_key(event: Envelope) -> str:
    """What an assignment or shortfall event is about: events about the same thing are applied in order."""
    data = getattr(event, "data", None)
    for field in ("assignment_id", "shortfall_id", "deficit_id"):
        value = getattr(data, field, None)
        if isinstance(value, str):
            return f"{field.removesuffix('_id')}:{value}"
    return f"event:{event.id}"


class Reminders(Protocol):
    """What the service needs from the scheduler (jobs are written after the database commit)."""

    def schedule_reminders(self, phase: Phase) -> None: ...
    def cancel_reminders(self, assignment_id: str) -> None: ...
    def ensure_digest(self, network_id: str) -> None: ...


class NoReminders:
    def schedule_reminders(self, phase: Phase) -> None:
        pass

    def cancel_reminders(self, assignment_id: str) -> None:
        pass

    def ensure_digest(self, network_id: str) -> None:
        pass


class NotifierService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        composer: Composer,
        clock: Clock,
        reminders: Reminders | None = None,
        on_queued: Callable[[], None] | None = None,
        digest_weeks_ahead: int = 4,
        timezone: dt.tzinfo = dt.UTC,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
        keyring: Keyring | None = None,
    ) -> None:
        self._sessions = sessions
        self._keyring = keyring
        self._max_event_bytes = max_event_bytes
        self._timezone = timezone
        self._composer = composer
        self._clock = clock
        self.reminders: Reminders = reminders or NoReminders()
        self._on_queued = on_queued or (lambda: None)
        self._weeks_ahead = digest_weeks_ahead

    # ------------------------------------------------------------ consumed messages

    async def handle(self, family: str, raw: bytes, origin: Origin) -> bool:
        """Decode and apply one message of a topic family; False if it was skipped or ignored.

        A message the notifier cannot read is counted, logged by its position and ids, and skipped: never
        published as a rejection (the matcher rejects inbound records, once), never retried (it will not change).
        """
        try:
            if self._keyring is not None:
                # Names and addresses travel sealed: opened here with the matcher's key endpoint (ADR 0004).
                event = await decode_opened(raw, self._keyring, FAMILIES[family], max_bytes=self._max_event_bytes)
            else:
                event = decode_event(raw, FAMILIES[family], max_bytes=self._max_event_bytes)
        except PersonalDataErased:
            # The person was erased: their registration is gone for good, and nobody is to be told anything.
            REJECTED.labels(origin.topic, "erased").inc()
            log.info("skipped an erased person's event at %s[%d]@%d", origin.topic, origin.partition, origin.offset)
            return False
        except InvalidEvent as exc:
            if family == "inbound" and exc.event_type is not None and exc.event_type not in DIRECTORY_EVENTS:
                return False  # an inbound type the notifier does not read; the matcher judges it
            self._skip(origin, exc, too_large=len(raw) > self._max_event_bytes)
            return False
        if family == "inbound" and event.type not in DIRECTORY_EVENTS:
            return False
        firm = firm_inbound().member_of(origin.topic)
        if firm is not None and not _firm_tells_of_itself(event, firm):
            # Only the firm's own principal may write its topic; there it may update its own details and nothing
            # else the directory reads (the matcher rejects the rest as not authorised).
            REJECTED.labels(origin.topic, "unauthorised").inc()
            log.warning(
                "skipped %s %s at %s[%d]@%d: a firm's own topic carries only that firm's own details",
                event.type,
                event.id,
                origin.topic,
                origin.partition,
                origin.offset,
            )
            return False
        return await self.apply(event)

    def _skip(self, origin: Origin, problem: InvalidEvent, *, too_large: bool) -> None:
        cause = "too_large" if too_large else "invalid"
        REJECTED.labels(origin.topic, cause).inc()
        # Ids and position only: the reason may quote parts of the message, and no log line carries a payload.
        log.warning(
            "skipped a message the notifier cannot read (%s) at %s[%d]@%d, key %s, type %s, id %s",
            cause,
            origin.topic,
            origin.partition,
            origin.offset,
            _id_or_none(origin.key),
            _id_or_none(problem.event_type),
            _id_or_none(problem.event_id),
        )

    async def apply(self, event: Envelope) -> bool:
        """Apply an event once: False when its id was applied before (redelivery).

        An assignment or shortfall that names someone the directory does not know yet is held, not applied
        with a recipient missing: the registration it follows comes on another topic and may not have been
        read yet (after a restart the consumers join one at a time). Every directory event releases what it
        completes, in the order it arrived.
        """
        now = self._clock.now()
        after: list[Callable[[], None]] = []
        async with self._sessions.begin() as session:
            await inbox.lock_network(session, event.network_id)
            if await inbox.applied_before(session, event):
                return False
            inbox.remember(session, event, now)
            if isinstance(event, LearnerErased):
                erased = await erase_learner(session, event.network_id, event.data.learner_id, event.id, now)
                after.extend(partial(self.reminders.cancel_reminders, a) for a in erased.assignment_ids)
                log.info(
                    "erased learner %s of network %s: %d messages and %d phases deleted",
                    event.data.learner_id,
                    event.network_id,
                    erased.deliveries,
                    len(erased.assignment_ids),
                )
            elif isinstance(event, ContactErased):
                deleted = await erase_contact(session, event.network_id, event.data.firm_id)
                log.info("erased %s of network %s: %d messages deleted", event.holder, event.network_id, deleted)
            elif event.type in DIRECTORY_EVENTS:
                if isinstance(event, FirmLeft):
                    # The matcher destroys a departed firm's contact key: the notifier forgets the contact and
                    # the messages to them, before the directory marks the firm as gone.
                    deleted = await erase_contact(session, event.network_id, event.data.firm_id)
                    log.info(
                        "firm %s left network %s: its contact forgotten, %d messages deleted",
                        event.data.firm_id,
                        event.network_id,
                        deleted,
                    )
                await directory.apply(session, event, now)
                if event.type == "NetworkConfigured":
                    network = event.network_id
                    after.append(lambda: self.reminders.ensure_digest(network))
                await session.flush()
                after.extend(await self._release(session, event.network_id, now))
            elif await self._must_wait(session, event):
                held_events.hold(session, event, subject_key(event), now)
                HELD.labels(event.type).inc()
                log.info(
                    "held %s %s of network %s until whom it concerns is registered",
                    event.type,
                    event.id,
                    event.network_id,
                )
            else:
                after.extend(await self._effects(session, event, now))
        APPLIED.labels(event.type).inc()
        # Jobs live in the same database but not in this transaction: written once the effects are
        # committed. A crash in between is repaired by Scheduling.reconcile() at the next start.
        # The job store is synchronous; off the event loop it cannot stall the async sessions that
        # hold SQLite's write lock.
        for step in after:
            await asyncio.to_thread(step)
        self._on_queued()
        return True

    async def _effects(self, session: AsyncSession, event: Envelope, now: dt.datetime) -> list[Callable[[], None]]:
        if isinstance(event, AssignmentMade | AssignmentChanged | AssignmentCancelled):
            return await self._assignment(session, _named(event), now)
        if isinstance(event, ShortfallDetected | ShortfallResolved):
            await self._shortfall(session, event, now)
        elif isinstance(event, SeatDeficitDetected | SeatDeficitResolved):
            await self._seat_deficit(session, event, now)
        elif isinstance(event, PlanPublished):
            await phases.ensure_network(session, event.network_id)
        return []

    async def _must_wait(self, session: AsyncSession, event: Envelope) -> bool:
        """Whether the event names someone not registered here yet, or an earlier event about it waits."""
        if await held_events.any_held_about(session, event.network_id, subject_key(event)):
            return True
        return not await self._parties_known(session, event)

    async def _parties_known(self, session: AsyncSession, event: Envelope) -> bool:
        network = event.network_id
        if isinstance(event, ShortfallDetected | SeatDeficitDetected):
            # Coordinators are whom these concern: they come with the network's configuration.
            return await inbox.network_configured(session, network)
        if isinstance(event, AssignmentMade | AssignmentChanged | AssignmentCancelled):
            learner = await directory.find(session, network, LEARNER, event.data.learner_id)
            if learner is None and not await directory.departed(session, network, LEARNER, event.data.learner_id):
                return False
            firms = [event.data.firm_id]
            if learner is not None and learner.home_firm_id is not None:
                firms.append(learner.home_firm_id)
            for firm in firms:
                known = await directory.find(session, network, FIRM, firm)
                if known is None and not await directory.departed(session, network, FIRM, firm):
                    return False
        return True

    async def _release(self, session: AsyncSession, network: str, now: dt.datetime) -> list[Callable[[], None]]:
        """Apply the held events of a network whose parties are now known, oldest first."""
        after: list[Callable[[], None]] = []
        still_waiting: set[str] = set()
        for row in await held_events.held_in_order(session, network):
            if row.subject_key in still_waiting:
                continue  # an earlier event about the same assignment still waits: order is kept
            event = decode_event(row.body.encode("utf-8"), HELD_TYPES, max_bytes=None)
            if not await self._parties_known(session, event):
                still_waiting.add(row.subject_key)
                continue
            await held_events.release(session, row)
            after.extend(await self._effects(session, event, now))
            await session.flush()
            RELEASED.labels(event.type).inc()
        return after

    async def held_count(self) -> int:
        """Events waiting for a registration, for the gauge and the operator."""
        async with self._sessions() as session:
            return await held_events.held_count(session)

    async def _assignment(
        self,
        session: AsyncSession,
        event: AssignmentMade | AssignmentChanged | AssignmentCancelled,
        now: dt.datetime,
    ) -> list[Callable[[], None]]:
        data = event.data
        network = event.network_id
        await phases.ensure_network(session, network)
        cancelled = isinstance(event, AssignmentCancelled)
        phase = await phases.record_phase(session, network, data, cancelled=cancelled)
        learner = await directory.find(session, network, LEARNER, data.learner_id)
        host = await directory.find(session, network, FIRM, data.firm_id)
        home = await directory.find(session, network, FIRM, learner.home_firm_id if learner else None)
        previous_host = None
        if isinstance(event, AssignmentChanged):
            previous_host = await directory.find(session, network, FIRM, event.data.previous.firm_id)
        if learner is None:
            log.warning("no contact for learner %s in network %s; the learner is not told", data.learner_id, network)
        for message in self._composer.assignment(event, phase, learner, host, home, previous_host, now):
            await enqueue(session, message, now)
        await session.flush()
        if cancelled:
            await directory.purge_departed(session, network)
            return [lambda: self.reminders.cancel_reminders(phase.assignment_id)]
        return [lambda: self.reminders.schedule_reminders(phase)]

    async def _shortfall(
        self, session: AsyncSession, event: ShortfallDetected | ShortfallResolved, now: dt.datetime
    ) -> None:
        network = event.network_id
        await phases.ensure_network(session, network)
        if isinstance(event, ShortfallResolved):
            # Only a shortfall the coordinators were told about is announced as resolved; once its row is
            # gone, a later ShortfallResolved for it (a repeat under a new id) finds nothing to announce.
            announced = await shortfalls.open_shortfall(session, event.data.shortfall_id)
            if announced is None:
                return
            coordinators = await directory.coordinators(session, network)
            names = await names_of(session, network, modules=[announced.module_id], groups=[announced.group_id])
            # The matcher also resolves the shortfalls of a learner who withdrew; say so rather than "met".
            learner = await directory.find(session, network, LEARNER, announced.learner_id)
            left = None if learner is None else learner.left_at is not None
            for message in self._composer.shortfall_resolved(event, announced, coordinators, names, learner_left=left):
                await enqueue(session, message, now)
            await shortfalls.close_shortfall(session, announced.shortfall_id)
            return
        data = event.data
        await shortfalls.keep_shortfall(session, network, data)
        names = await names_of(
            session,
            network,
            modules=[data.module_id, *(s.module_id for s in data.suggestions)],
            groups=[data.group_id],
            firms=[s.firm_id for s in data.suggestions],
            learners=data.competing_learners,
        )
        coordinators = await directory.coordinators(session, network)
        for message in self._composer.shortfall(event, coordinators, names):
            await enqueue(session, message, now)

    async def _seat_deficit(
        self, session: AsyncSession, event: SeatDeficitDetected | SeatDeficitResolved, now: dt.datetime
    ) -> None:
        network = event.network_id
        await phases.ensure_network(session, network)
        if isinstance(event, SeatDeficitResolved):
            # As with shortfalls: only a deficit the coordinators were told about is announced as resolved.
            announced = await shortfalls.open_deficit(session, event.data.deficit_id)
            if announced is None:
                return
            coordinators = await directory.coordinators(session, network)
            for message in self._composer.seat_deficit_resolved(event, announced, coordinators):
                await enqueue(session, message, now)
            await shortfalls.close_deficit(session, announced.deficit_id)
            return
        await shortfalls.keep_deficit(session, network, event.data)
        for message in self._composer.seat_deficit(event, await directory.coordinators(session, network)):
            await enqueue(session, message, now)

    # ------------------------------------------------------------ scheduled messages

    async def fire_reminder(self, assignment_id: str, days: int, sequence: int) -> bool:
        """Queue the reminder `days` before a phase; False if the phase was changed or cancelled since.

        A reminder that runs late (the notifier was down when it was due) says how many days are really
        left, and none is sent once the phase has begun.
        """
        now = self._clock.now()
        async with self._sessions.begin() as session:
            phase = await phases.phase(session, assignment_id)
            if phase is None or phase.cancelled or phase.sequence != sequence:
                return False
            days_left = (phase.start_date - now.astimezone(self._timezone).date()).days
            if days_left <= 0:
                return False
            learner = await directory.find(session, phase.network_id, LEARNER, phase.learner_id)
            host = await directory.find(session, phase.network_id, FIRM, phase.firm_id)
            if learner is None:
                return False
            message = self._composer.reminder(phase, days, learner, host, days_left=min(days, days_left))
            queued = message is not None and await enqueue(session, message, now)
        self._on_queued()
        return queued

    async def send_digest(self, network_id: str) -> int:
        """Queue this week's digest for every coordinator of the network; once per network and week."""
        now = self._clock.now()
        today = now.date()
        weeks = digest_weeks(today, self._weeks_ahead)
        async with self._sessions.begin() as session:
            open_shortfalls = await shortfalls.open_shortfalls(session, network_id)
            context = digest_context(
                network_id=network_id,
                network_name=await phases.network_name(session, network_id),
                today=today,
                weeks_ahead=self._weeks_ahead,
                phases=await phases.phases_overlapping(
                    session, network_id, weeks[0], weeks[0] + dt.timedelta(weeks=self._weeks_ahead)
                ),
                shortfalls=open_shortfalls,
                deficits=await shortfalls.open_deficits(session, network_id),
                names=await names_of(
                    session,
                    network_id,
                    modules=[s.module_id for s in open_shortfalls],
                    groups=[s.group_id for s in open_shortfalls],
                ),
            )
            source = Source(f"digest:{network_id}:{week_of(today)}", "Digest", network_id)
            queued = 0
            for message in self._composer.digest(source, await directory.coordinators(session, network_id), context):
                queued += await enqueue(session, message, now)
        self._on_queued()
        return queued

    async def active_assignments(self) -> list[Phase]:
        async with self._sessions() as session:
            return await phases.active_phases(session)

    async def networks(self) -> list[str]:
        async with self._sessions() as session:
            return await phases.networks(session)


_LOGGABLE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")


def _id_or_none(value: str | None) -> str | None:
    """An id as a log line may show it: only when it looks like one, so junk is never echoed."""
    return value if value is not None and _LOGGABLE_ID.fullmatch(value) else None
