"""The ways a message leaves: email over SMTP (aiosmtplib) and signed JSON webhooks (httpx)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol

import aiosmtplib
import httpx
from aiosmtplib.email import extract_sender, flatten_message

from .settings import NotifierSettings
from .tables import Delivery

SIGNATURE_HEADER = "X-Verbund-Signature"


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
    async def send(self, delivery: Delivery, before_handover: BeforeHandover) -> None:
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


def sign(body: bytes, secret: str) -> str:
    """The signature header value: sha256=<hex HMAC-SHA256 of the exact body bytes>."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, header: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return hmac.compare_digest(sign(body, secret), header)


def build_email(delivery: Delivery, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = delivery.address or ""
    message["Subject"] = delivery.subject or ""
    message["Date"] = format_datetime(delivery.created_at)
    # Stable per delivery: an operator can look it up in the mail server's log after a crash mid-send.
    message["Message-ID"] = message_id(delivery.notification_id)
    message["X-Verbund-Notification"] = delivery.notification_id
    message["Content-Language"] = delivery.language
    message.set_content(delivery.body_text or "")
    if delivery.body_html:
        message.add_alternative(delivery.body_html, subtype="html")
    if delivery.calendar:
        message.add_attachment(
            delivery.calendar.encode("utf-8"),
            maintype="text",
            subtype="calendar",
            filename=delivery.calendar_name or "verbund.ics",
            params={"method": delivery.calendar_method or "REQUEST", "charset": "utf-8"},
        )
    return message


class EmailChannel:
    """SMTP, split at DATA: connection, login, sender and recipient first, the message itself last.

    Everything up to and including RCPT can fail without the recipient getting anything, so such a failure
    is retried (4xx, no connection) or given up (5xx) as usual. Right before DATA the hand-over is recorded;
    if the conversation breaks during DATA without an answer from the server, the message may have arrived,
    and the send ends as uncertain instead of being tried again.
    """

    def __init__(self, settings: NotifierSettings) -> None:
        self._settings = settings

    @property
    def _server(self) -> str:
        return f"{self._settings.smtp_host}:{self._settings.smtp_port}"

    async def send(self, delivery: Delivery, before_handover: BeforeHandover) -> None:
        s = self._settings
        message = build_email(delivery, s.smtp_from)
        client = aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            username=s.smtp_user,
            password=s.smtp_password.get_secret_value() if s.smtp_password else None,
            start_tls=s.smtp_starttls,
            timeout=s.smtp_timeout_seconds,
        )
        try:
            content = await self._envelope(client, message, delivery.address or "")
            await before_handover()
            await self._hand_over(client, content, delivery.notification_id)
        finally:
            await self._leave(client)

    async def _envelope(self, client: aiosmtplib.SMTP, message: EmailMessage, recipient: str) -> bytes:
        """Connect (STARTTLS, login), MAIL FROM and RCPT TO; the flattened message to hand over with DATA."""
        try:
            await client.connect()
            if client.is_ehlo_or_helo_needed:
                try:
                    await client.ehlo()
                except aiosmtplib.SMTPHeloError:
                    await client.helo()
            sender = extract_sender(message) or self._settings.smtp_from
            # The options aiosmtplib's send_message would choose, so the message is flattened the same way.
            utf8 = not (sender + recipient).isascii()
            if utf8 and not client.supports_extension("smtputf8"):
                raise DeliveryError(
                    f"SMTP server {self._server} does not support SMTPUTF8, which the address {recipient!r} or the "
                    "sender needs; use an ASCII address or a server that supports it",
                    transient=False,
                )
            options = ["SMTPUTF8"] if utf8 else []
            eight_bit = client.supports_extension("8bitmime")
            if eight_bit:
                options.append("BODY=8BITMIME")
            content = flatten_message(message, utf8=utf8, cte_type="8bit" if eight_bit else "7bit")
            if client.supports_extension("size"):
                options.insert(0, f"SIZE={len(content)}")
            encoding = "utf-8" if utf8 else "ascii"
            await client.mail(sender, options=options, encoding=encoding)
            await client.rcpt(recipient, encoding=encoding)
        except aiosmtplib.SMTPRecipientRefused as exc:
            raise DeliveryError(
                f"SMTP server {self._server} refused the recipient: {exc.code} {exc.message}",
                transient=400 <= exc.code < 500,
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"SMTP server {self._server} answered {exc.code} {exc.message}", transient=not 500 <= exc.code < 600
            ) from exc
        except (aiosmtplib.SMTPException, OSError, ValueError) as exc:
            # ValueError: aiosmtplib refuses an address it cannot put on a command line before sending anything.
            raise DeliveryError(
                f"cannot reach SMTP server {self._server} ({type(exc).__name__}: {exc}); "
                "check VERBUND_SMTP_HOST and VERBUND_SMTP_PORT",
                transient=not isinstance(exc, ValueError),
            ) from exc
        return content

    async def _hand_over(self, client: aiosmtplib.SMTP, content: bytes, notification_id: str) -> None:
        try:
            await client.data(content)
        except aiosmtplib.SMTPResponseException as exc:
            # The server answered: it has not taken the message, so trying again cannot deliver it twice.
            raise DeliveryError(
                f"SMTP server {self._server} did not take the message: {exc.code} {exc.message}",
                transient=not 500 <= exc.code < 600,
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"the connection to SMTP server {self._server} broke while it was receiving this message "
                f"({type(exc).__name__}: {exc})",
                transient=False,
                uncertain=True,
            ) from exc

    @staticmethod
    async def _leave(client: aiosmtplib.SMTP) -> None:
        """QUIT if still connected; whatever happens now changes nothing about the message."""
        if client.is_connected:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await client.quit()
        client.close()


def webhook_body(delivery: Delivery) -> bytes:
    return json.dumps(delivery.payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class WebhookChannel:
    def __init__(self, settings: NotifierSettings) -> None:
        self._settings = settings

    async def send(self, delivery: Delivery, before_handover: BeforeHandover) -> None:
        # At least once: a POST has no step after which the receiver surely has it, so `before_handover` is
        # not called; a crash mid-POST sends it again, and the receiver drops the repeat by notification id.
        secret = self._settings.webhook_secret
        if secret is None:
            # Unsigned webhooks could be forged by anyone who knows the URL; retried once it is set.
            raise DeliveryError(
                "VERBUND_WEBHOOK_SECRET is not set; webhooks are only sent signed. Set it and restart.",
                transient=True,
            )
        body = webhook_body(delivery)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(body, secret.get_secret_value()),
            "X-Verbund-Notification": delivery.notification_id,
        }
        url = delivery.address or ""
        try:
            async with httpx.AsyncClient(timeout=self._settings.webhook_timeout_seconds) as client:
                response = await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook {url} not reachable: {type(exc).__name__}: {exc}", transient=True) from exc
        if response.is_success:
            return
        transient = response.status_code in (408, 425, 429) or response.status_code >= 500
        raise DeliveryError(
            f"webhook {url} answered HTTP {response.status_code}: {response.text[:200]}", transient=transient
        )
