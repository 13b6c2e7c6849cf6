"""What the coordinators' erasure pages share: a page per person of a network, its guard and its confirmed erase.

A learner's data page (learner_data.py) and a firm contact's page (contact_erasure.py) each name one person by an
id in their path, render their own template with their own words, and erase by producing one event once the
coordinator has typed that id; only the event and the words differ.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates
from verbund_schemas import Envelope, encode_event

from ..domain.language import LANGUAGES, texts
from ..store.accounts import Accounts
from .api import Produce
from .page_session import csrf_ok, csrf_token, language_of

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")

Action = Callable[[Request, str, str], Awaitable[Response]]
# The event an erase produces: (network, person's id, the signed-in coordinator, now).
ErasureEvent = Callable[[str, str, str, dt.datetime], Envelope]


class ErasurePage:
    """One kind of person's page: `subject` names the path parameter and the context key holding its id (and the
    placeholder in `words`), `template` the page."""

    def __init__(
        self,
        accounts: Accounts,
        *,
        subject: str,
        template: str,
        words: Mapping[str, Mapping[str, str]],
    ) -> None:
        self.accounts = accounts
        self.subject = subject
        self.template = template
        self.words = words
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))

    def context_key(self) -> str:
        return f"{self.subject}_id"

    def render(self, request: Request, status_code: int = 200, **context: Any) -> Response:
        language = language_of(request)
        person = context[self.context_key()]
        words = {
            k: v.format(**{self.subject: person}, event=context.get("event_id", ""))
            for k, v in self.words[language].items()
        }
        context.update(
            t=texts(language),
            w=words,
            language=language,
            other_language=next(x for x in LANGUAGES if x != language),
            csrf=csrf_token(request),
            user=request.session.get("user"),
            seq=0,
            network=None,
        )
        response = self.templates.TemplateResponse(request, self.template, context, status_code=status_code)
        response.headers["cache-control"] = "no-store"
        return response

    def error(self, request: Request, status: int, message: str) -> Response:
        language = language_of(request)
        context = {
            "t": texts(language),
            "language": language,
            "other_language": next(x for x in LANGUAGES if x != language),
            "csrf": csrf_token(request),
            "user": request.session.get("user"),
            "message": message,
        }
        return self.templates.TemplateResponse(request, "error.html", context, status_code=status)

    def coordinator_of_the_network(self, action: Action) -> Callable[[Request], Awaitable[Response]]:
        """Signed in (not expired), ids well formed, and a coordinator granted the network; else sign-in, 404, 403."""

        async def guarded(request: Request) -> Response:
            user = request.session.get("user")
            if not isinstance(user, str):
                return Response(status_code=303, headers={"location": f"/signin?next={request.url.path}"})
            if float(request.session.get("until", 0)) < dt.datetime.now(dt.UTC).timestamp():
                request.session.clear()
                return Response(status_code=303, headers={"location": "/signin"})
            network_id, person = request.path_params["network"], request.path_params[self.subject]
            if not (_ID.fullmatch(network_id) and _ID.fullmatch(person)):
                return self.error(request, 404, texts(language_of(request))["not_found"])
            if network_id not in await self.accounts.grants(user):
                return self.error(request, 403, texts(language_of(request))["forbidden"])
            return await action(request, network_id, person)

        return guarded

    async def erase(
        self, request: Request, network_id: str, person: str, event_of: ErasureEvent, produce: Produce, what: str
    ) -> Response:
        """Produces the erasure once the form is fresh and the person's id was typed as confirmation."""
        words = self.words[language_of(request)]
        about = {"network_id": network_id, self.context_key(): person}
        fresh, form = await csrf_ok(request)
        if not fresh:
            return self.render(request, 403, **about, problem=words["stale_form"])
        if form.get("confirm") != person:
            return self.render(request, 400, **about, problem=words["not_confirmed"].format(**{self.subject: person}))
        event = event_of(network_id, person, request.session["user"], dt.datetime.now(dt.UTC))
        try:
            await produce(encode_event(event), network_id)
        except Exception as exc:
            # The broker is away or refused: nothing was requested, and the coordinator may simply try again.
            log.warning(f"{what} not sent", extra={"network_id": network_id, "error": type(exc).__name__})
            return self.render(request, 503, **about, problem=words["not_sent"])
        log.info(f"{what} requested", extra=about)
        return self.render(request, 202, **about, requested=True, event_id=event.id)
