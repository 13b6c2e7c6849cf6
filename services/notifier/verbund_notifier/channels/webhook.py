"""Signed JSON webhooks (httpx): at least once, with the notification id to drop a repeat by."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from ..settings import NotifierSettings
from .protocol import BeforeHandover, DeliveryError, Letter

SIGNATURE_HEADER = "X-Verbund-Signature"


def sign(body: bytes, secret: str) -> str:
    """The signature header value: sha256=<hex HMAC-SHA256 of the exact body bytes>."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, header: str) -> bool:
    """What a receiver does: recompute and compare in constant time."""
    return hmac.compare_digest(sign(body, secret), header)


def webhook_body(delivery: Letter) -> bytes:
    return json.dumps(delivery.payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class WebhookChannel:
    def __init__(self, settings: NotifierSettings) -> None:
        self._settings = settings

    async def send(self, delivery: Letter, before_handover: BeforeHandover) -> None:
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
