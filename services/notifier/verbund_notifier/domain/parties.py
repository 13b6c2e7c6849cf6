"""Someone messages go to or are about: a learner, a firm (its training contact) or a coordinator."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from verbund_schemas import Language

LEARNER = "learner"
FIRM = "firm"
COORDINATOR = "coordinator"


@dataclass(frozen=True)
class Party:
    """What messaging needs of a party: name, address, language, channel; a firm's address, a learner's home firm.

    `channel` None: nobody to message (a firm without a training contact). `left_at`: the learner withdrew or
    the firm left.
    """

    network_id: str
    role: str
    party_id: str
    name: str
    contact_name: str | None = None
    email: str | None = None
    language: str = "de"
    channel: str | None = None
    webhook_url: str | None = None
    home_firm_id: str | None = None
    address: str | None = None
    left_at: dt.datetime | None = None


def recipient_id(role: str, party_id: str) -> str:
    """How a recipient appears on the delivery log: role and id, no personal data."""
    return f"{role}:{party_id}"


def language_of(party: Party, default: Language) -> Language:
    try:
        return Language(party.language)
    except ValueError:
        return default


def address_of(party: Party) -> str | None:
    return party.webhook_url if party.channel == "webhook" else party.email
