"""The CloudEvents-style envelope every Verbund event travels in, and the shared value types."""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import threading
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    WithJsonSchema,
    model_validator,
)
from pydantic.networks import validate_email
from pydantic_core import PydanticCustomError

SCHEMA_VERSION = 1

MAX_EMAIL_LENGTH = 254
"""RFC 5321's limit on a forward path; longer addresses cannot be delivered anyway."""

MAX_TIME_LENGTH = 40
"""Characters of an RFC 3339 timestamp, with room for fractions of a second and an offset."""

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


Email = Annotated[
    str,
    Field(min_length=3, max_length=MAX_EMAIL_LENGTH),
    AfterValidator(_email),
    WithJsonSchema({"format": "email", "type": "string", "minLength": 3, "maxLength": MAX_EMAIL_LENGTH}),
]


def shortened(limit: int) -> BeforeValidator:
    """Cut text a service writes itself down to `limit` characters instead of failing on it.

    An issuing service must never be stopped by the length of its own sentence (a reason listing every change
    of a large batch); what it publishes still stays within the contract's limit.
    """

    def shorten(value: Any) -> Any:
        if isinstance(value, str) and len(value) > limit:
            return value[: limit - 1] + "…"
        return value

    return BeforeValidator(shorten)


Name = Annotated[str, Field(max_length=200)]
"""A person's, firm's or module's name as a service passes it on (the inbound contracts bound it the same)."""

Label = Annotated[str, shortened(64), Field(max_length=64)]
"""A short word a service writes, e.g. the solver that produced a plan."""

Sentence = Annotated[str, shortened(2000), Field(max_length=2000)]
"""A reason or message a service writes for people to read."""


def _bounded_time(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_TIME_LENGTH:
        raise PydanticCustomError(
            "time_too_long",
            "a time is written in at most {limit} characters, e.g. 2027-03-08T09:30:00Z (got {length})",
            {"limit": MAX_TIME_LENGTH, "length": len(value)},
        )
    return value


Timestamp = Annotated[
    dt.datetime,
    BeforeValidator(_bounded_time),
    WithJsonSchema({"type": "string", "format": "date-time", "maxLength": MAX_TIME_LENGTH}),
]
"""An RFC 3339 date and time; its text is bounded like every other string of a contract."""


def _bounded_day(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_DAY_LENGTH:
        raise PydanticCustomError(
            "day_too_long",
            "a date is written in {limit} characters, e.g. 2027-03-08 (got {length})",
            {"limit": MAX_DAY_LENGTH, "length": len(value)},
        )
    return value


MAX_DAY_LENGTH = 10

Day = Annotated[
    dt.date,
    BeforeValidator(_bounded_day),
    WithJsonSchema({"type": "string", "format": "date", "maxLength": MAX_DAY_LENGTH}),
]
"""A calendar date (YYYY-MM-DD)."""

EventId = Annotated[
    str,
    Field(min_length=1, max_length=128, description="Unique per network and stable: a producer's retry sends it again"),
]


class Contract(BaseModel):
    """Base of every payload.

    Tolerant reader (ADR 0002, amendment): fields a newer producer added are accepted and kept, so an older
    consumer goes on reading a newer version 1 event. Types, required fields and bounds stay strict.
    """

    model_config = ConfigDict(extra="allow", frozen=True, str_strip_whitespace=True)


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


class AuthType(StrEnum):
    """How the sender authenticated (the values of the CloudEvents authcontext extension)."""

    USER = "user"
    APP_USER = "app_user"
    SERVICE_ACCOUNT = "service_account"
    SYSTEM = "system"


class Role(StrEnum):
    """What the sender is in the network; the matcher decides from this what it may do."""

    COORDINATOR = "coordinator"
    FIRM = "firm"
    LEARNER = "learner"
    SYSTEM = "system"


class AuthContext(Contract):
    """The authenticated principal behind an inbound event.

    Only a producer that authenticated the sender itself sets it (the console's HTTP API from a token, the
    console's pages from a sign-in); a value a client writes into an event it hands to such a producer is
    replaced, never passed on.
    """

    authtype: AuthType
    principalid: str = Field(min_length=1, max_length=256, description="Who: an account or token id")
    role: Role
    network_id: Id = Field(description="The network the principal belongs to")
    firm_id: Id | None = Field(default=None, description="The firm a firm principal acts for")
    learner_id: Id | None = Field(default=None, description="The learner a learner principal is")


FIRM_EVENT_TYPES = frozenset(
    {"CapacityOffered", "CapacityChanged", "CapacityWithdrawn", "FirmUpdated", "PlacementAnswered"}
)
"""The inbound events a firm principal may send at all (each only for its own firm)."""

LEARNER_EVENT_TYPES = frozenset({"LearnerPreferencesStated"})
"""The inbound events a learner principal may send at all (each only about themselves)."""


class _RandomIds:
    """Random (version 4) UUIDs as text, from the system's random source read 4 KiB at a time: a plan's events
    each get one, and a read per id cost more than building the event. Emptied in a forked child, so no two
    processes hand out the same bytes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool = bytearray()
        # Asking for the process id on every call was a system call per event id.
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._lock = threading.Lock()
        self._pool = bytearray()

    def __call__(self) -> str:
        with self._lock:
            if len(self._pool) < 16:
                self._pool = bytearray(os.urandom(4096))
            raw = self._pool[-16:]
            del self._pool[-16:]
        h = raw.hex()
        # Version 4 in the 13th digit, the RFC 4122 variant (binary 10) in the top bits of the 17th.
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


new_event_id = _RandomIds()


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


IDENTITY_FIELDS = ("id", "time")
"""What every received event must state itself: dedup and ordering cannot rest on values filled in on receipt."""


def _identity_required(schema: dict[str, Any]) -> None:
    # Events a service issues get a fresh id and time when built in code; on the wire both are required.
    for name in IDENTITY_FIELDS:
        schema.get("properties", {}).get(name, {}).pop("default", None)
    schema["required"] = [*IDENTITY_FIELDS, *(r for r in schema.get("required", []) if r not in IDENTITY_FIELDS)]
    if "type" not in schema["required"]:
        schema["required"].insert(len(IDENTITY_FIELDS), "type")


class Envelope(Contract):
    """CloudEvents attributes (JSON format, structured mode) plus Verbund's schema version.

    `subject` is the network id and is also the Kafka key, so one network's events stay in order. `id` and `time`
    are required on the wire (`catalog.load_event` refuses a record without them); an event built in code by the
    service that issues it gets a new id and the current time.
    """

    model_config = ConfigDict(json_schema_extra=_identity_required)

    EVENT_TYPE: ClassVar[str] = ""

    specversion: str = Field(default="1.0", pattern=r"^1\.0$", max_length=3)
    id: EventId = Field(default_factory=new_event_id)
    source: str = Field(
        default="verbund", min_length=1, max_length=256, description="Who produced it, e.g. a firm's system"
    )
    type: str = Field(max_length=64)
    time: Timestamp = Field(default_factory=utc_now, description="When it happened, as the producer says")
    subject: Id = Field(description="Network id; also the Kafka message key")
    datacontenttype: str = Field(default="application/json", pattern=r"^application/json$", max_length=16)
    schemaversion: int = Field(default=SCHEMA_VERSION, ge=1, le=SCHEMA_VERSION)

    @property
    def network_id(self) -> str:
        return self.subject


class InboundEnvelope(Envelope):
    """An event only producers outside the services issue (inbound): id and time required in the model too.

    `authcontext` (a CloudEvents extension) names the authenticated sender; optional within version 1, and the
    matcher authorises the event against it (docs/security.md).
    """

    id: EventId
    time: Timestamp = Field(description="When it happened, as the producer says")
    # Left out of the wire form when absent: an event without a sender reads exactly as before the extension.
    authcontext: AuthContext | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="The authenticated sender, stamped by the producer that authenticated it",
    )
