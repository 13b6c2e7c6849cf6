"""What a console page takes from the visitor's request and session: their language and their forms' CSRF token."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from starlette.requests import Request

from ..domain.language import negotiate

LANGUAGE_COOKIE = "verbund_language"


def language_of(request: Request) -> str:
    return negotiate(request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language"))


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on the first form the session is shown."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def csrf_ok(request: Request) -> tuple[bool, Any]:
    """Whether a posted form carries its session's CSRF token, and the form."""
    form = await request.form()
    given = form.get("csrf")
    expected = request.session.get("csrf")
    ok = isinstance(given, str) and isinstance(expected, str) and hmac.compare_digest(given, expected)
    return ok, form
