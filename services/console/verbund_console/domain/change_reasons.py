"""Why an assignment changed or was cancelled, in words, in the coordinator's language (from the reason code)."""

from __future__ import annotations

from verbund_schemas import ChangeReason

# {learner}, {module}, {firm}: names. {firm} is the firm the phase leaves (or loses).
CHANGE_REASONS: dict[str, dict[str, str]] = {
    "de": {
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
    "en": {
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

# Without a code (an older matcher), or a code from a newer one: the matcher's English sentence is shown beside.
NO_CODE = {"de": "Kein Grund angegeben.", "en": "No reason given."}


def change_reason_in_words(code: str | None, language: str, *, learner: str, module: str, firm: str) -> str:
    sentence = CHANGE_REASONS[language].get(code or "")  # a StrEnum key matches its plain value
    if sentence is None:
        return NO_CODE[language]
    text = sentence.format(learner=learner, module=module, firm=firm)
    return text[0].upper() + text[1:]
