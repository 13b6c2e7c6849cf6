"""The ways a message leaves: email over SMTP (aiosmtplib) and signed JSON webhooks (httpx)."""

from __future__ import annotations

import hashlib
import hmac
import json
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol

import aiosmtplib
import httpx

from .settings import NotifierSettings
from .tables import Delivery

SIGNATURE_HEADER = "X-Verbund-Signature"


class DeliveryError(Exception):
    """A send that did not succeed; `transient` says whether trying again may help."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class Channel(Protocol):
    async def send(self, delivery: Delivery) -> None: ...


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
    # Stable per delivery: a receiving system can tell a resend (after a crash mid-send) from a new message.
    message["Message-ID"] = f"<{delivery.notification_id}@verbund>"
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
    def __init__(self, settings: NotifierSettings) -> None:
        self._settings = settings

    async def send(self, delivery: Delivery) -> None:
        s = self._settings
        message = build_email(delivery, s.smtp_from)
        try:
            await aiosmtplib.send(
                message,
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_user,
                password=s.smtp_password.get_secret_value() if s.smtp_password else None,
                start_tls=s.smtp_starttls,
                timeout=s.smtp_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            raise DeliveryError(
                f"SMTP server {s.smtp_host}:{s.smtp_port} refused the recipient: "
                + "; ".join(f"{r.code} {r.message}" for r in exc.recipients),
                transient=all(400 <= c < 500 for c in codes),
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryError(
                f"SMTP server {s.smtp_host}:{s.smtp_port} answered {exc.code} {exc.message}",
                transient=not 500 <= exc.code < 600,
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise DeliveryError(
                f"cannot reach SMTP server {s.smtp_host}:{s.smtp_port} ({type(exc).__name__}: {exc}); "
                "check VERBUND_SMTP_HOST and VERBUND_SMTP_PORT",
                transient=True,
            ) from exc


def webhook_body(delivery: Delivery) -> bytes:
    return json.dumps(delivery.payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class WebhookChannel:
    def __init__(self, settings: NotifierSettings) -> None:
        self._settings = settings

    async def send(self, delivery: Delivery) -> None:
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
