"""Sealing what the command line produces: names and contacts leave it encrypted under each person's key."""

from __future__ import annotations

import json
import os

from pydantic import SecretStr
from verbund_runtime.keyring import HttpKeyring, keyring_of
from verbund_schemas import Envelope, Keyring, encode_event, seal_event
from verbund_schemas.personal import carries_plaintext

KEY_SERVICE_URL_ENV = "VERBUND_KEY_SERVICE_URL"
KEY_SERVICE_TOKEN_ENV = "VERBUND_KEY_SERVICE_TOKEN"


def keyring_from_environment() -> HttpKeyring | None:
    """The matcher's key endpoint as VERBUND_KEY_SERVICE_URL and VERBUND_KEY_SERVICE_TOKEN name it, if both are set.

    The token is read from the environment only, never from an option: a command line shows up in `ps`.
    """
    url, token = os.environ.get(KEY_SERVICE_URL_ENV), os.environ.get(KEY_SERVICE_TOKEN_ENV)
    return keyring_of(url or None, SecretStr(token) if token else None)


async def wire_value(event: Envelope, keyring: Keyring | None) -> bytes:
    """The record value of an event: sealed when there is a keyring, else as the contract writes it."""
    if keyring is None:
        return encode_event(event)
    sealed = await seal_event(json.loads(encode_event(event)), keyring)
    return json.dumps(sealed, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def carries_personal_data(events: list[Envelope]) -> bool:
    """Whether any event has names or contacts that would travel in clear text without a keyring."""
    return any(carries_plaintext(json.loads(encode_event(e))) for e in events)
