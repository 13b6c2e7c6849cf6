"""Why a requirement is unmet, in the recipient's language: a label and a sentence built from a shortfall's fields.

The matcher's own sentence is English and names ids; a coordinator reads this one instead, with names.
"""

from __future__ import annotations

from verbund_schemas import Language

REASON_LABELS = {
    Language.DE: {
        "no_offer": "kein Angebot im Zeitraum",
        "eligibility": "nicht zugelassen",
        "availability": "nicht genug freie Wochen",
        "precedence": "Voraussetzung nicht planbar",
        "contention": "Plätze belegt",
        "firm_limit": "Grenze je Betrieb erreicht",
        "min_seats": "Mindestgruppe nicht erreicht",
    },
    Language.EN: {
        "no_offer": "no offer in the window",
        "eligibility": "not eligible",
        "availability": "not enough available weeks",
        "precedence": "prerequisite cannot be placed",
        "contention": "seats taken",
        "firm_limit": "per-firm limit reached",
        "min_seats": "minimum group not reached",
    },
}

# {learner}, {module} (the module's name, or "a module of group …"), {group}: names, never ids.
_SENTENCES = {
    Language.DE: {
        "no_offer": "Kein Betrieb bietet {module} im Ausbildungszeitraum von {learner} für genügend "
        "aufeinanderfolgende Wochen an.",
        "eligibility": "{module} wird im Zeitraum nur bei Betrieben angeboten, bei denen {learner} nicht "
        "eingesetzt werden darf.",
        "availability": "{learner} hat nicht genug aufeinanderfolgende freie Wochen (Berufsschule, Urlaub), "
        "während {module} angeboten wird.",
        "precedence": "{module} setzt einen anderen Abschnitt voraus, der für {learner} nicht rechtzeitig "
        "davor geplant werden kann.",
        "contention": "Die Plätze für {module} sind in den passenden Wochen von anderen Lernenden belegt.",
        "firm_limit": "{learner} hat bei jedem Betrieb, der {module} anbietet, schon so viele Abschnitte, "
        "wie der Verbund je Betrieb erlaubt.",
        "min_seats": "{module} lässt sich für {learner} nicht planen, weil ein Angebot mit Mindestgruppe nur "
        "mit genug Lernenden zustande kommt; mehr Lernende für dieses Angebot oder eine kleinere "
        "Mindestgruppe würden helfen.",
    },
    Language.EN: {
        "no_offer": "No firm offers {module} for enough consecutive weeks inside {learner}'s training window.",
        "eligibility": "{module} is offered in the window only at firms {learner} may not attend.",
        "availability": "{learner} has not enough consecutive free weeks (school blocks, holidays) while "
        "{module} is offered.",
        "precedence": "{module} requires another module first, which cannot be placed before it for {learner}.",
        "contention": "The seats for {module} in the weeks that fit are held by other learners.",
        "firm_limit": "{learner} already does as many modules at each firm offering {module} as the network "
        "allows per firm.",
        "min_seats": "{module} cannot be planned for {learner}: an offer with a minimum group only runs with "
        "enough learners; more learners for that offer or a smaller minimum would help.",
    },
}

# Eligibility without a module: the learner may do fewer modules of the group than it requires.
_TOO_FEW_ALLOWED = {
    Language.DE: "{learner} ist für zu wenige Abschnitte der Gruppe {group} zugelassen; lassen Sie für "
    "{learner} weitere Abschnitte der Gruppe zu.",
    Language.EN: "{learner} is allowed too few modules of group {group}; allow more modules of the group "
    "for {learner}.",
}
_ANY_MODULE_OF = {Language.DE: "ein Abschnitt der Gruppe {group}", Language.EN: "a module of group {group}"}


def reason_label(reason: str, language: Language) -> str:
    """A few words for a subject line; a reason stored by an older release is shown as it was."""
    return REASON_LABELS[language].get(reason, reason)


def reason_sentence(
    reason: str, language: Language, *, learner_name: str, group_name: str, module_name: str | None
) -> str:
    """One sentence on why the requirement is unmet ("" for a reason this release does not know)."""
    if reason == "eligibility" and module_name is None:
        return _TOO_FEW_ALLOWED[language].format(learner=learner_name, group=group_name)
    template = _SENTENCES[language].get(reason)
    if template is None:
        return ""
    module = module_name or _ANY_MODULE_OF[language].format(group=group_name)
    sentence = template.format(learner=learner_name, module=module, group=group_name)
    return sentence[0].upper() + sentence[1:]
