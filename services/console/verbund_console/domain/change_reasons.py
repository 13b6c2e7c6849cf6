"""Why an assignment changed or was cancelled, in words, in the coordinator's language (from the reason code)."""

from __future__ import annotations

from verbund_schemas import CHANGE_REASON_SENTENCES

# The notifier's sentences (shared in the contracts), keyed by the console's language codes.
CHANGE_REASONS: dict[str, dict[str, str]] = {
    language.value: {code.value: sentence for code, sentence in sentences.items()}
    for language, sentences in CHANGE_REASON_SENTENCES.items()
}

# Without a code (an older matcher), or a code from a newer one: the matcher's English sentence is shown beside.
NO_CODE = {"de": "Kein Grund angegeben.", "en": "No reason given."}


def change_reason_in_words(code: str | None, language: str, *, learner: str, module: str, firm: str) -> str:
    sentence = CHANGE_REASONS[language].get(code or "")  # a StrEnum key matches its plain value
    if sentence is None:
        return NO_CODE[language]
    text = sentence.format(learner=learner, module=module, firm=firm)
    return text[0].upper() + text[1:]
