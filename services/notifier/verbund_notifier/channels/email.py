"""Email over SMTP (aiosmtplib), split at DATA so that a mail is handed over at most once."""

from __future__ import annotations

import contextlib
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib
from aiosmtplib.email import extract_sender, flatten_message

from ..settings import NotifierSettings
from .protocol import BeforeHandover, DeliveryError, Letter, message_id


def build_email(delivery: Letter, sender: str) -> EmailMessage:
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

    async def send(self, delivery: Letter, before_handover: BeforeHandover) -> None:
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
