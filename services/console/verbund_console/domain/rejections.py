"""The rejected-events page: what the matcher did not apply, why, where it was, and what was sent."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


class RejectedLike(Protocol):
    event_id: str
    at: dt.datetime
    topic: str
    partition: int
    offset: int
    reason: str
    original_type: str | None
    original_text: str | None
    service: str | None
    key: str | None
    original_size: int | None
    original_sha256: str | None
    original_truncated: bool
    original_base64: str | None
    errors: list[str]


@dataclass(frozen=True)
class RejectionView:
    event_id: str
    at: dt.datetime
    where: str  # topic/partition/offset
    topic: str
    partition: int
    offset: int
    key: str
    service: str
    original_type: str
    reason: str
    errors: list[str]
    size: int | None
    sha256: str
    truncated: bool
    payload: str  # as text: shown escaped, never as markup
    payload_is_base64: bool  # the bytes were not UTF-8: the payload is their base64


def payload_of(original_text: str | None, original_base64: str | None) -> tuple[str, bool]:
    """The record's text when it was UTF-8, else its base64 (the bytes as stored in the rejection)."""
    if original_text is not None:
        return original_text, False
    if original_base64:
        try:
            return base64.b64decode(original_base64, validate=True).decode("utf-8"), False
        except (binascii.Error, UnicodeDecodeError):
            return original_base64, True
    return "", False


def rejection_views(rows: Iterable[RejectedLike]) -> list[RejectionView]:
    """Newest first."""
    views = []
    for r in sorted(rows, key=lambda r: (r.at, r.event_id), reverse=True):
        payload, is_base64 = payload_of(r.original_text, r.original_base64)
        views.append(
            RejectionView(
                event_id=r.event_id,
                at=r.at,
                where=f"{r.topic}/{r.partition}/{r.offset}",
                topic=r.topic,
                partition=r.partition,
                offset=r.offset,
                key=r.key or "",
                service=r.service or "",
                original_type=r.original_type or "",
                reason=r.reason,
                errors=list(r.errors or []),
                size=r.original_size,
                sha256=r.original_sha256 or "",
                truncated=r.original_truncated,
                payload=payload,
                payload_is_base64=is_base64,
            )
        )
    return views
