"""What every channel does: send one delivery, say when it hands the message over, and fail with a reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, Protocol


class Letter(Protocol):
    """A stored delivery as a channel reads it (the deliveries table's row has these fields)."""

    @property
    def notification_id(self) -> str: ...
    @property
    def address(self) -> str | None: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def language(self) -> str: ...
    @property
    def body_text(self) -> str | None: ...
    @property
    def body_html(self) -> str | None: ...
    @property
    def calendar(self) -> str | None: ...
    @property
    def calendar_method(self) -> str | None: ...
    @property
    def calendar_name(self) -> str | None: ...
    @property
    def payload(self) -> dict[str, Any] | None: ...
    @property
    def created_at(self) -> dt.datetime: ...


class DeliveryError(Exception):
    """A send that did not succeed; `transient` says whether trying again may help.

    `uncertain`: the message was being handed over when the send broke off, so it may have arrived; it is
    not tried again (that could deliver it twice).
    """

    def __init__(self, message: str, *, transient: bool, uncertain: bool = False) -> None:
        super().__init__(message)
        self.transient = transient and not uncertain
        self.uncertain = uncertain


BeforeHandover = Callable[[], Awaitable[None]]
"""Records that a message is about to leave for good; a send must not go on if it raises."""


class Channel(Protocol):
    async def send(self, delivery: Letter, before_handover: BeforeHandover) -> None:
        """Send one message; raise DeliveryError when it did not go.

        A channel that can name the step after which the receiver has the message (SMTP: DATA) does
        everything that can still be refused first, then awaits `before_handover`, then takes that step:
        such a message is sent at most once. A channel that cannot (a webhook POST) does not call it and is
        at least once: a crash in the middle sends it again, with the same notification id.
        """
        ...


def message_id(notification_id: str) -> str:
    """The email's Message-ID: stable per delivery, so a receiving system (and an operator) can find it."""
    return f"<{notification_id}@verbund>"
