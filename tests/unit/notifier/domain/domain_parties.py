"""Plain parties and phases for the notifier's domain tests: no database, no server."""

from __future__ import annotations

import datetime as dt

import notifier_factories as f
from verbund_notifier.domain.messages import Composer
from verbund_notifier.domain.parties import COORDINATOR, FIRM, LEARNER, Party
from verbund_notifier.domain.phases import Phase
from verbund_notifier.domain.rendering import Renderer
from verbund_schemas import Language

STAMP = dt.datetime(2027, 1, 4, 9, tzinfo=dt.UTC)
SENDER = "Verbund <verbund@example.org>"
LANGUAGES = (Language.DE, Language.EN)


def composer() -> Composer:
    return Composer(Renderer(), SENDER, Language.DE)


def learner(language: Language) -> Party:
    return Party(
        network_id=f.NETWORK,
        role=LEARNER,
        party_id=f.LEARNER,
        name="Lena Berger",
        contact_name="Lena Berger",
        email=f.LEARNER_EMAIL,
        language=language.value,
        channel="email",
        home_firm_id=f.HOME,
    )


def firm(party_id: str, name: str, email: str, language: Language) -> Party:
    return Party(
        network_id=f.NETWORK,
        role=FIRM,
        party_id=party_id,
        name=name,
        contact_name="Max Meier",
        email=email,
        language=language.value,
        channel="email",
        address="Werkstraße 1, 86150 Augsburg",
    )


def host(language: Language) -> Party:
    return firm(f.HOST, "Spritzguss Meier GmbH", f.HOST_EMAIL, language)


def home(language: Language) -> Party:
    return firm(f.HOME, "Kunststoff Huber KG", f.HOME_EMAIL, language)


def other(language: Language) -> Party:
    return firm(f.OTHER, "Extrusion Schulz AG", f.OTHER_EMAIL, language)


def coordinator(language: Language, index: int = 1) -> Party:
    return Party(
        network_id=f.NETWORK,
        role=COORDINATOR,
        party_id=f"{f.NETWORK}.{index}",
        name="Chris Koch",
        contact_name="Chris Koch",
        email=f.COORDINATOR_EMAIL,
        language=language.value,
        channel="email",
    )


def phase(sequence: int = 0, **kw: str) -> Phase:
    return Phase(network_id=f.NETWORK, sequence=sequence, **f.phase(**kw))
