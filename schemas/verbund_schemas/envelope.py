"""The CloudEvents-style envelope every Verbund event travels in, and the shared value types."""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, WithJsonSchema, model_validator
from pydantic.networks import validate_email
from pydantic_core import PydanticCustomError

SCHEMA_VERSION = 1

Id = Annotated[
    str,
    Field(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:\-]*$",
        description="Identifier: letters, digits, '.', '_', ':' or '-'",
    ),
]


# Plain ASCII addresses (nearly all of them) are checked here, their domain once per domain by the full
# validator; anything else goes to the full validator. Same answers as pydantic's EmailStr, which spends
# most of an inbound event's validation time on the domain's IDNA rules.
_PLAIN_EMAIL = re.compile(
    r"(?P<local>[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@(?P<domain>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)"
)


@functools.lru_cache(maxsize=4096)
def _plain_domain_ok(domain: str) -> bool:
    try:
        _, normalized = validate_email(f"x@{domain}")
    except PydanticCustomError:
        return False
    return normalized == f"x@{domain}"


def _email(value: str) -> str:
    plain = _PLAIN_EMAIL.fullmatch(value)
    if plain is not None and len(plain["local"]) <= 64 and len(value) <= 254:
        domain = plain["domain"].lower()
        if _plain_domain_ok(domain):
            return f"{plain['local']}@{domain}"
    return validate_email(value)[1]


Email = Annotated[str, AfterValidator(_email), WithJsonSchema({"format": "email", "type": "string"})]


class Contract(BaseModel):
    """Base of every payload: unknown fields are errors, so typos are caught instead of silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Language(StrEnum):
    DE = "de"
    EN = "en"


class Channel(StrEnum):
    EMAIL = "email"
    WEBHOOK = "webhook"


class Contact(Contract):
    """Someone Verbund sends messages to."""

    name: str = Field(min_length=1, max_length=200)
    email: Email | None = None
    language: Language = Language.DE
    channel: Channel = Channel.EMAIL
    webhook_url: HttpUrl | None = None

    @model_validator(mode="after")
    def _channel_has_address(self) -> Contact:
        if self.channel is Channel.EMAIL and self.email is None:
            raise ValueError(f"contact {self.name!r} wants email but has no email address")
        if self.channel is Channel.WEBHOOK and self.webhook_url is None:
            raise ValueError(f"contact {self.name!r} wants webhooks but has no webhook_url")
        return self


def new_event_id() -> str:
    return str(uuid.uuid4())


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Envelope(Contract):
    """CloudEvents attributes (JSON format, structured mode) plus Verbund's schema version.

    `subject` is the network id and is also the Kafka key, so one network's events stay in order.
    """

    EVENT_TYPE: ClassVar[str] = ""

    specversion: str = Field(default="1.0", pattern=r"^1\.0$")
    id: str = Field(default_factory=new_event_id, min_length=1, max_length=128, description="Unique event id")
    source: str = Field(
        default="verbund", min_length=1, max_length=256, description="Who produced it, e.g. a firm's system"
    )
    type: str
    time: dt.datetime = Field(default_factory=utc_now)
    subject: Id = Field(description="Network id; also the Kafka message key")
    datacontenttype: str = Field(default="application/json", pattern=r"^application/json$")
    schemaversion: int = Field(default=SCHEMA_VERSION, ge=1, le=SCHEMA_VERSION)

    @property
    def network_id(self) -> str:
        return self.subject
