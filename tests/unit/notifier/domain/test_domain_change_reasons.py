"""Why a phase changed or was cancelled, worded from the reason code in the reader's language; never English German."""

from __future__ import annotations

import re

import notifier_factories as f
import pytest
from domain_parties import LANGUAGES, STAMP, composer, home, host, learner, other, phase
from verbund_notifier.domain.change_reasons import change_reason_sentence
from verbund_schemas import AssignmentCancelled, AssignmentChanged, ChangeReason, Language

NEUTRAL_DE = "Der Plan des Verbunds wurde überarbeitet."
NAMES = {"learner_name": "Lena Berger", "module_name": "CNC-Fräsen", "firm_name": "Spritzguss Meier GmbH"}


@pytest.mark.parametrize("code", list(ChangeReason), ids=lambda code: code.value)
def test_every_reason_code_has_one_sentence_in_german_and_one_in_english_with_names_filled_in(
    code: ChangeReason,
) -> None:
    german = change_reason_sentence(code, Language.DE, sentence="Replanned because of X-1.", **NAMES)
    english = change_reason_sentence(code, Language.EN, sentence="Replanned because of X-1.", **NAMES)
    for text in (german, english):
        assert text.endswith(".") and text[0].isupper()
        assert "{" not in text and "X-1" not in text
    assert german != english


@pytest.mark.parametrize(
    ("code", "german"),
    [
        (ChangeReason.OFFER_WITHDRAWN, "Ein Angebot für CNC-Fräsen wurde zurückgezogen."),
        (ChangeReason.LEARNER_WITHDRAWN, "Lena Berger hat den Verbund verlassen."),
        (ChangeReason.FIRM_LEFT, "Spritzguss Meier GmbH hat den Verbund verlassen."),
        (ChangeReason.REOPTIMISED, "Die Planung des ganzen Verbunds wurde neu optimiert und ist insgesamt besser."),
        (ChangeReason.NO_LONGER_PLACEABLE, "CNC-Fräsen lässt sich für Lena Berger nicht mehr planen."),
    ],
)
def test_german_sentences_name_the_module_learner_or_firm(code: ChangeReason, german: str) -> None:
    assert change_reason_sentence(code, Language.DE, sentence="", **NAMES) == german


def test_without_a_code_german_is_neutral_and_english_keeps_the_matchers_sentence() -> None:
    english = "Replanned because offer O-1 for M-CNC at F-HOST was withdrawn."
    assert change_reason_sentence(None, Language.DE, sentence=english, **NAMES) == NEUTRAL_DE
    assert change_reason_sentence(None, Language.EN, sentence=english, **NAMES) == english
    assert change_reason_sentence(None, Language.EN, sentence=" ", **NAMES) == "The network's plan was revised."


ENGLISH_CHANGE = "Replanned because offer O-7 for M-CNC at F-HOST was withdrawn."
ENGLISH_CANCEL = "Cancelled because learner L-001 withdrew from the network."


def changed(code: ChangeReason | None) -> AssignmentChanged:
    event = f.changed(firm_id=f.OTHER, firm_name="Extrusion Schulz AG")
    data = event.data.model_copy(update={"reason": ENGLISH_CHANGE, "reason_code": code})
    return event.model_copy(update={"data": data})


def cancelled(code: ChangeReason | None) -> AssignmentCancelled:
    event = f.cancelled()
    data = event.data.model_copy(update={"reason": ENGLISH_CANCEL, "reason_code": code})
    return event.model_copy(update={"data": data})


def all_mails(event: AssignmentChanged | AssignmentCancelled, language: Language) -> list[tuple[str, str]]:
    """(kind, text and HTML) of every message the event gives: learner, new and old host, home firm."""
    moved = isinstance(event, AssignmentChanged)
    out = composer().assignment(
        event,
        phase(1),
        learner(language),
        other(language) if moved else host(language),
        home(language),
        host(language) if moved else None,
        STAMP,
    )
    return [(m.kind, f"{m.subject}\n{m.text}\n{m.html}") for m in out]


@pytest.mark.parametrize("code", [None, *ChangeReason], ids=lambda code: code.value if code else "no_code")
def test_no_german_mail_about_a_changed_or_cancelled_phase_contains_the_english_sentence(
    code: ChangeReason | None,
) -> None:
    for event, english in ((changed(code), ENGLISH_CHANGE), (cancelled(code), ENGLISH_CANCEL)):
        mails = all_mails(event, Language.DE)
        assert len(mails) >= 3
        for kind, text in mails:
            assert english not in text, f"{kind}: {text}"
            assert not re.search(r"\b(Replanned|Cancelled because|withdrew)\b", text), f"{kind}: {text}"
            if kind != "host_made":  # a new host is told of an arrival, not of a change
                assert "Grund: " in text, f"{kind} does not say why: {text}"
            if code is None and kind != "host_made":
                assert NEUTRAL_DE in text


@pytest.mark.parametrize("language", LANGUAGES, ids=lambda language: language.value)
def test_a_cancelled_phase_says_why_from_its_code_to_learner_host_and_home_firm(language: Language) -> None:
    sentence = change_reason_sentence(ChangeReason.LEARNER_WITHDRAWN, language, sentence="", **NAMES)
    mails = all_mails(cancelled(ChangeReason.LEARNER_WITHDRAWN), language)
    assert sorted(kind for kind, _ in mails) == ["assignment_cancelled", "home_cancelled", "host_cancelled"]
    for kind, text in mails:
        assert sentence in text, f"{kind}: {text}"


def test_an_english_mail_without_a_code_may_quote_the_matchers_sentence() -> None:
    mails = dict(all_mails(changed(None), Language.EN))
    assert ENGLISH_CHANGE in mails["assignment_changed"]


def test_a_move_away_from_a_firm_that_left_names_the_firm_left_not_the_new_host() -> None:
    mails = dict(all_mails(changed(ChangeReason.FIRM_LEFT), Language.DE))
    assert "Grund: Spritzguss Meier GmbH hat den Verbund verlassen." in mails["assignment_changed"]
