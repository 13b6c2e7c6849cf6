"""Contact e-mail addresses are accepted, refused and normalised exactly as pydantic's EmailStr does."""

from __future__ import annotations

import pytest
from pydantic import EmailStr, TypeAdapter, ValidationError
from verbund_schemas.envelope import Email

CASES = [
    "Max.Mustermann@Example.ORG",
    "a+tag@sub.example.co.uk",
    "A@EXAMPLE.ORG",
    "a@123.de",
    "a@b.c",
    "x" * 65 + "@a.de",
    "ä@b.de",
    "a@bü.de",
    "a@xn--bcher-kva.de",
    "Max <max@example.org>",
    "a@b",
    "a@@b.de",
    "a b@c.de",
    "a@-b.de",
    "x@localhost",
    "a..b@c.de",
    ".a@b.de",
    "a.@b.de",
    "a@b_c.de",
    "a@b..de",
    "a@b.de.",
    "a@example.test",
    "a@foo.local",
    "a@b.invalid",
    "a@[1.2.3.4]",
    "a@" + "b" * 64 + ".de",
]


def _outcome(adapter: TypeAdapter[str], value: str) -> str:
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        return "refused: " + exc.errors()[0]["msg"]


@pytest.mark.parametrize("address", CASES)
def test_an_address_gets_the_same_answer_as_emailstr_gives(address: str) -> None:
    assert _outcome(TypeAdapter(Email), address) == _outcome(TypeAdapter(EmailStr), address)


def test_the_documented_schema_is_still_a_string_in_email_format() -> None:
    assert TypeAdapter(Email).json_schema() == {"format": "email", "type": "string", "minLength": 3, "maxLength": 254}
