"""Why a phase was changed or cancelled, in the recipient's language: one sentence per reason code.

The matcher's `reason` is an English sentence naming ids; a German reader gets the notifier's own sentence
from the event's `reason_code` (with names), or, from a matcher that sends no code, a neutral one.
"""

from __future__ import annotations

from verbund_schemas import CHANGE_REASON_SENTENCES, ChangeReason, Language

# One sentence per code and language, shared with the console so both word a code alike.
_SENTENCES = CHANGE_REASON_SENTENCES

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
