"""Personal fields on the wire: sealed per person with AES-256-GCM, so destroying one key erases every copy."""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import Field, ValidationError

from .catalog import ALL_TYPES, InvalidEvent, check_size, decode_event, load_event
from .envelope import Contract, Envelope, Id

KEY_BYTES = 32
NONCE_BYTES = 12
MAX_CIPHERTEXT_CHARS = 64 * 1024
"""Base64 characters of one sealed block: far above 50 coordinators' contacts, far below an event's limit."""


class Sealed(Contract):
    """Personal fields of one person (or of a network's coordinators), encrypted under that holder's data key.

    The associated data binds the ciphertext to its network, its holder and the fields it stands for, so a block
    copied into another learner's event, another network or another field does not open.
    """

    v: Literal[1] = Field(default=1, description="Version of the sealed form")
    alg: Literal["AES-256-GCM"] = "AES-256-GCM"
    key_id: Id = Field(description="The holder's data key in the matcher's key table")
    nonce: str = Field(min_length=16, max_length=16, description="96-bit nonce, base64url")
    ciphertext: str = Field(min_length=1, max_length=MAX_CIPHERTEXT_CHARS, description="Ciphertext and tag, base64url")


@dataclass(frozen=True)
class DataKey:
    """One holder's data key, unwrapped: held in memory only while sealing or opening."""

    key_id: str
    secret: bytes


class Keyring(Protocol):
    """Where data keys come from: the matcher's key table, or a client of its key endpoint."""

    async def key_for(self, network_id: str, holder: str) -> DataKey:
        """The holder's current key, created on first use; raises `PersonalDataErased` once it was destroyed."""
        ...

    async def key(self, network_id: str, key_id: str) -> DataKey | None:
        """The key with this id, or None when it was destroyed (or never existed)."""
        ...


class PersonalDataErased(Exception):
    """The holder's key was destroyed: their personal data is gone, on every topic and in every copy."""

    def __init__(self, network_id: str, holder: str) -> None:
        super().__init__(f"the personal data of {holder} in network {network_id} was erased (its key is destroyed)")
        self.network_id = network_id
        self.holder = holder


class PlaintextPersonalData(ValueError):
    """An event carries personal fields in clear text where this consumer accepts only sealed ones."""


@dataclass(frozen=True)
class PersonalFields:
    """Which fields of an event's `data` are personal, and whose."""

    holder: str
    fields: tuple[str, ...]
    purpose: str


def personal_fields(event_type: str, data: dict[str, Any]) -> PersonalFields | None:
    """The personal fields of an inbound event's data, or None for an event type that has none.

    A learner's name and contact are sealed under the learner's key, a firm's training contact under the firm's,
    the coordinators of a network under the network's; the learner's name beside a published assignment or
    shortfall under the learner's key as well.
    """
    if event_type in ("LearnerRegistered", "LearnerUpdated"):
        return PersonalFields(f"learner:{data.get('learner_id')}", ("name", "contact"), "learner")
    if event_type in ("FirmRegistered", "FirmUpdated"):
        return PersonalFields(f"firm:{data.get('firm_id')}", ("training_contact",), "firm-contact")
    if event_type == "NetworkConfigured":
        return PersonalFields("network", ("coordinators",), "coordinators")
    if event_type == "ShortfallDetected":
        # The message of a contention shortfall names the learners holding the seats (for coordinators).
        return PersonalFields(f"learner:{data.get('learner_id')}", ("learner_name", "message"), "learner-shortfall")
    if event_type in OUTBOUND_NAMED_TYPES:
        return PersonalFields(f"learner:{data.get('learner_id')}", ("learner_name",), "learner-name")
    return None


OUTBOUND_NAMED_TYPES = frozenset({"AssignmentMade", "AssignmentChanged", "AssignmentCancelled", "ShortfallDetected"})
"""What the matcher publishes with a learner's name beside the plan: sealed under that learner's key."""


def associated_data(network_id: str, holder: str, purpose: str) -> bytes:
    """What a sealed block is bound to; not the event type, so the same sealed name can travel on."""
    return json.dumps(["verbund.personal.v1", network_id, holder, purpose], separators=(",", ":")).encode()


def seal(plain: dict[str, Any], key: DataKey, aad: bytes) -> Sealed:
    nonce = os.urandom(NONCE_BYTES)
    text = json.dumps(plain, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    ciphertext = AESGCM(key.secret).encrypt(nonce, text, aad)
    return Sealed(key_id=key.key_id, nonce=_b64(nonce), ciphertext=_b64(ciphertext))


def unseal(sealed: Sealed, key: DataKey, aad: bytes) -> dict[str, Any]:
    """The plain fields; ValueError when the block was altered or belongs to another holder or field."""
    try:
        text = AESGCM(key.secret).decrypt(_unb64(sealed.nonce), _unb64(sealed.ciphertext), aad)
    except (InvalidTag, binascii.Error) as exc:
        raise ValueError("the sealed personal data does not open: altered, or sealed for another person") from exc
    plain = json.loads(text)
    if not isinstance(plain, dict):
        raise ValueError("the sealed personal data is not a JSON object")
    return plain


async def seal_event(obj: dict[str, Any], keyring: Keyring) -> dict[str, Any]:
    """The wire form of an event object: its personal fields replaced by `data.personal`.

    An event without personal fields, or one already sealed, is returned as it is.
    """
    data = obj.get("data")
    network_id = obj.get("subject")
    if not isinstance(data, dict) or not isinstance(network_id, str) or "personal" in data:
        return obj
    which = personal_fields(str(obj.get("type")), data)
    if which is None:
        return obj
    plain = {name: data[name] for name in which.fields if data.get(name) is not None}
    if not plain:
        return obj
    key = await keyring.key_for(network_id, which.holder)
    sealed = seal(plain, key, associated_data(network_id, which.holder, which.purpose))
    rest = {name: value for name, value in data.items() if name not in which.fields}
    return {**obj, "data": {**rest, "personal": sealed.model_dump(mode="json")}}


def seal_with(obj: dict[str, Any], key: DataKey) -> dict[str, Any]:
    """`seal_event` with the holder's key already in hand (the matcher, inside its own transaction)."""
    data, network_id = obj["data"], obj["subject"]
    which = personal_fields(str(obj.get("type")), data)
    if which is None or "personal" in data:
        return obj
    plain = {name: data[name] for name in which.fields if data.get(name) is not None}
    sealed = seal(plain, key, associated_data(network_id, which.holder, which.purpose))
    rest = {name: value for name, value in data.items() if name not in which.fields}
    return {**obj, "data": {**rest, "personal": sealed.model_dump(mode="json")}}


def holder_of(obj: dict[str, Any]) -> str | None:
    """Whose key seals the event's personal fields, if it has any."""
    data = obj.get("data")
    which = personal_fields(str(obj.get("type")), data) if isinstance(data, dict) else None
    return which.holder if which is not None else None


def is_sealed(obj: dict[str, Any]) -> bool:
    data = obj.get("data")
    return isinstance(data, dict) and "personal" in data


def carries_plaintext(obj: dict[str, Any]) -> bool:
    """Whether the event has personal fields in clear text (an event from before sealing)."""
    data = obj.get("data")
    if not isinstance(data, dict) or "personal" in data:
        return False
    which = personal_fields(str(obj.get("type")), data)
    return which is not None and any(data.get(name) not in (None, []) for name in which.fields)


async def open_event(obj: dict[str, Any], keyring: Keyring, *, accept_plaintext: bool = True) -> dict[str, Any]:
    """The event object with its personal fields back in clear text, as the contracts describe it.

    Raises `PersonalDataErased` when a learner's key was destroyed (an erased contact's event opens without the
    contact), `PlaintextPersonalData` for an old clear-text event when `accept_plaintext` is off, and ValueError
    for a block that does not open.
    """
    data = obj.get("data")
    network_id = obj.get("subject")
    if not isinstance(data, dict) or not isinstance(network_id, str):
        return obj
    which = personal_fields(str(obj.get("type")), data)
    if which is None:
        return obj
    if "personal" not in data:
        if not accept_plaintext and carries_plaintext(obj):
            raise PlaintextPersonalData(
                f"{obj.get('type')} carries personal data in clear text; this network accepts it only sealed — "
                "send it with `verbund publish`, which seals it, or through the console's API"
            )
        return obj
    try:
        sealed = Sealed.model_validate(data["personal"])
    except ValidationError as exc:
        raise ValueError(f"data.personal is not a sealed block: {exc.errors()[0]['msg']}") from exc
    key = await keyring.key(network_id, sealed.key_id)
    if key is None:
        if not which.holder.startswith("learner:"):
            # A firm's contact or the coordinators were erased, not the firm or network the event is about:
            # it applies without them (the fields are optional), so a replay keeps the firm and the policy.
            return {**obj, "data": {name: value for name, value in data.items() if name != "personal"}}
        raise PersonalDataErased(network_id, which.holder)
    plain = unseal(sealed, key, associated_data(network_id, which.holder, which.purpose))
    rest = {name: value for name, value in data.items() if name != "personal"}
    return {**obj, "data": {**rest, **{name: plain[name] for name in which.fields if name in plain}}}


def new_data_key_secret() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode("ascii"))


async def decode_opened(
    raw: bytes | str, keyring: Keyring, allowed: tuple[type[Envelope], ...] = ALL_TYPES, max_bytes: int | None = None
) -> Envelope:
    """`decode_event` for a consumer that reads personal fields: sealed ones are opened first.

    Raises `PersonalDataErased` for the event of an erased person (the consumer skips it), InvalidEvent for
    anything else it cannot read.
    """
    if max_bytes is not None:
        check_size(raw, max_bytes)
    try:
        obj = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return decode_event(raw, allowed)  # raises with the reason a person can act on
    if isinstance(obj, dict):
        try:
            obj = await open_event(obj, keyring)
        except ValueError as exc:
            event_id, event_type = obj.get("id"), obj.get("type")
            raise InvalidEvent(
                str(exc),
                event_id=event_id if isinstance(event_id, str) else None,
                event_type=event_type if isinstance(event_type, str) else None,
            ) from exc
    return load_event(obj, allowed)
