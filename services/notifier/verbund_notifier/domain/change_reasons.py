"""Why a phase was changed or cancelled, in the recipient's language: one sentence per reason code.

The matcher's `reason` is an English sentence naming ids; a German reader gets the notifier's own sentence
from the event's `reason_code` (with names), or, from a matcher that sends no code, a neutral one.
"""

from __future__ import annotations

from verbund_schemas import ChangeReason, Language

# {learner}, {module}, {firm}: names, never ids. {firm} is the firm the phase leaves (or loses).
_SENTENCES: dict[Language, dict[ChangeReason, str]] = {
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

# Without a code (a matcher older than the code): the English sentence is all there is, and a German reader
# is not shown English.
_NEUTRAL = {Language.DE: "Der Plan des Verbunds wurde überarbeitet.", Language.EN: "The network's plan was revised."}


def change_reason_sentence(
    code: ChangeReason | None,
    language: Language,
    *,
    sentence: str,
    learner_name: str,
    module_name: str,
    firm_name: str,
) -> str:
    """One sentence on why the phase changed or was cancelled.

    `sentence` is the matcher's English one: an English reader without a code gets it; nobody else does.
    """
    if code is None:
        if language is Language.EN and sentence.strip():
            return sentence
        return _NEUTRAL[language]
    text = _SENTENCES[language][code].format(learner=learner_name, module=module_name, firm=firm_name)
    return text[0].upper() + text[1:]
