"""Why a requirement went unmet, in words, in the coordinator's language."""

from __future__ import annotations

REASONS: dict[str, dict[str, str]] = {
    "no_offer": {
        "de": "Kein Betrieb bietet dieses Modul im Ausbildungszeitraum an.",
        "en": "No firm offers this module within the learner's training window.",
    },
    "eligibility": {
        "de": "Es gibt Angebote, aber nur bei Betrieben, die für diese Person ausgeschlossen sind.",
        "en": "There are offers, but only at firms this learner may not attend.",
    },
    "availability": {
        "de": "Es gibt Angebote, aber nicht für genug zusammenhängende verfügbare Wochen (Berufsschule, Urlaub).",
        "en": "There are offers, but not for enough consecutive available weeks (school blocks, holidays).",
    },
    "precedence": {
        "de": "Das vorausgesetzte Modul lässt sich nicht vorher einplanen.",
        "en": "The module it requires cannot be placed before it.",
    },
    "contention": {
        "de": "Es gibt Plätze, aber andere Lernende belegen sie.",
        "en": "Seats exist, but other learners hold them.",
    },
    "firm_limit": {
        "de": "Die Höchstzahl an Modulen je Betrieb lässt keinen Betrieb übrig.",
        "en": "The limit of modules per firm leaves no firm.",
    },
    "min_seats": {
        "de": "Das Angebot findet nur mit einer größeren Gruppe statt, als sich bilden lässt.",
        "en": "The offer only runs with a larger group than can be formed.",
    },
}

UNKNOWN = {"de": "Grund unbekannt (neuere Version des Planers).", "en": "Unknown reason (a newer planner)."}


def reason_in_words(code: str, language: str) -> str:
    return REASONS.get(code, UNKNOWN)[language]
