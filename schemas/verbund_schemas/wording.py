"""Reason codes in words: one sentence per code and language, for every service that shows them to people.

{learner}, {module}, {firm}: names, never ids. {firm} is the firm the phase leaves (or loses).
"""

from __future__ import annotations

from typing import Final

from .envelope import Language
from .outbound import ChangeReason

CHANGE_REASON_SENTENCES: Final[dict[Language, dict[ChangeReason, str]]] = {
    Language.DE: {
        ChangeReason.LEARNER_CHANGED: "Die Angaben von {learner} haben sich geändert (Ausbildungszeitraum, "
        "Berufsschulwochen oder Wünsche).",
        ChangeReason.LEARNER_WITHDRAWN: "{learner} hat den Verbund verlassen.",
        ChangeReason.FIRM_CHANGED: "Die Angaben von {firm} haben sich geändert.",
        ChangeReason.FIRM_LEFT: "{firm} hat den Verbund verlassen.",
        ChangeReason.OFFER_WITHDRAWN: "Ein Angebot für {module} wurde zurückgezogen.",
        ChangeReason.OFFER_CHANGED: "Ein Angebot für {module} wurde geändert (Wochen oder Plätze).",
        ChangeReason.OFFER_ADDED: "Ein neues Angebot für {module} ermöglicht einen besseren Einsatz.",
        ChangeReason.POLICY_CHANGED: "Die Regeln des Verbunds haben sich geändert.",
        ChangeReason.CURRICULUM_CHANGED: "Der Ausbildungsrahmenplan hat sich geändert.",
        ChangeReason.ROOM_FOR_OTHERS: "Nach Änderungen an anderer Stelle im Verbund musste Platz geschaffen werden.",
        ChangeReason.REOPTIMISED: "Die Planung des ganzen Verbunds wurde neu optimiert und ist insgesamt besser.",
        ChangeReason.NO_LONGER_PLACEABLE: "{module} lässt sich für {learner} nicht mehr planen.",
        ChangeReason.REVISED: "Der Plan des Verbunds wurde überarbeitet.",
    },
    Language.EN: {
        ChangeReason.LEARNER_CHANGED: "{learner}'s details changed (training window, school weeks or preferences).",
        ChangeReason.LEARNER_WITHDRAWN: "{learner} left the network.",
        ChangeReason.FIRM_CHANGED: "{firm}'s details changed.",
        ChangeReason.FIRM_LEFT: "{firm} left the network.",
        ChangeReason.OFFER_WITHDRAWN: "An offer for {module} was withdrawn.",
        ChangeReason.OFFER_CHANGED: "An offer for {module} changed (weeks or seats).",
        ChangeReason.OFFER_ADDED: "A new offer for {module} made a better placement possible.",
        ChangeReason.POLICY_CHANGED: "The network's rules changed.",
        ChangeReason.CURRICULUM_CHANGED: "The curriculum changed.",
        ChangeReason.ROOM_FOR_OTHERS: "Room had to be made after changes elsewhere in the network.",
        ChangeReason.REOPTIMISED: "The planning of the whole network was re-optimised and is better overall.",
        ChangeReason.NO_LONGER_PLACEABLE: "{module} can no longer be placed for {learner}.",
        ChangeReason.REVISED: "The network's plan was revised.",
    },
}
