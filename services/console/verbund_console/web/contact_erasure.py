"""A coordinator's action on a firm's training contact: erase it everywhere (GDPR Art. 17), the firm staying on."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates
from verbund_schemas import AuthContext, AuthType, ContactErased, ContactErasedData, Role, encode_event

from ..domain.language import LANGUAGES, texts
from ..store.accounts import Accounts
from .api import Produce
from .page_session import csrf_ok, csrf_token, language_of

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")

# This page's own words, beside the console's shared texts (domain/language.py) that the layout uses.
WORDS: dict[str, dict[str, str]] = {
    "de": {
        "heading": "Ausbildungskontakt von {firm}",
        "erase": "Kontakt löschen",
        "erase_explained": "Der Schlüssel des Kontakts wird vernichtet: Name und Adresse der Ansprechperson sind "
        "danach nirgends mehr lesbar, und der Benachrichtigungsdienst vergisst die Nachrichten an sie. Der Betrieb, "
        "seine Plätze und Einsätze bleiben; bis er einen neuen Kontakt sendet, erhält niemand dort Nachrichten. "
        "Das lässt sich nicht rückgängig machen.",
        "confirm": "Zur Bestätigung die Kennung des Betriebs eintippen: {firm}",
        "requested": "Die Löschung des Kontakts von {firm} ist beauftragt (Ereignis {event}). Jeder Dienst vergisst "
        "den Kontakt, sobald er das Ereignis liest.",
        "not_confirmed": "Nicht gelöscht: die eingetippte Kennung stimmt nicht mit {firm} überein.",
        "stale_form": "Das Formular ist abgelaufen; bitte die Seite neu laden.",
        "not_sent": "Die Löschung konnte nicht gesendet werden (Kafka nicht erreichbar); bitte erneut versuchen.",
    },
    "en": {
        "heading": "Training contact of {firm}",
        "erase": "Erase contact",
        "erase_explained": "The contact's key is destroyed: the contact person's name and address can then be read "
        "nowhere, and the notifier forgets the messages to them. The firm, its seats and placements stay; until it "
        "sends a new contact, nobody there is messaged. This cannot be undone.",
        "confirm": "To confirm, type the firm's id: {firm}",
        "requested": "Erasure of the contact of {firm} requested (event {event}). Every service forgets the contact "
        "as it reads it.",
        "not_confirmed": "Not erased: the id typed does not match {firm}.",
        "stale_form": "The form has expired; reload the page.",
        "not_sent": "The erasure could not be sent (Kafka unreachable); try again.",
    },
}

Action = Callable[[Request, str, str], Awaitable[Response]]


def contact_erasure_request(network_id: str, firm_id: str, coordinator: str, now: dt.datetime) -> ContactErased:
    """The request `verbund contact erase --firm` sends, stamped with the signed-in coordinator as its sender.

    A firm has new contacts over the years, each erased on its own: every request has an id of its own."""
    return ContactErased(
        id=f"erase-contact:firm:{firm_id}:{now:%Y%m%dT%H%M%S%f}",
        time=now,
        source="verbund-console",
        subject=network_id,
        authcontext=AuthContext(
            authtype=AuthType.USER, principalid=coordinator, role=Role.COORDINATOR, network_id=network_id
        ),
        data=ContactErasedData(firm_id=firm_id),
    )


def contact_erasure_routes(accounts: Accounts, produce: Produce) -> list[BaseRoute]:
    """The firm contact's page and its erase action; for coordinators of the network only, on the session the
    console's pages set, produced through the console's producer."""
    templates = Jinja2Templates(directory=str(HERE / "templates"))

    def render(request: Request, status_code: int = 200, **context: Any) -> Response:
        language = language_of(request)
        firm = context["firm_id"]
        words = {k: v.format(firm=firm, event=context.get("event_id", "")) for k, v in WORDS[language].items()}
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
        response = templates.TemplateResponse(request, "contact_erasure.html", context, status_code=status_code)
        response.headers["cache-control"] = "no-store"
        return response

    def error(request: Request, status: int, message: str) -> Response:
        language = language_of(request)
        context = {
            "t": texts(language),
            "language": language,
            "other_language": next(x for x in LANGUAGES if x != language),
            "csrf": csrf_token(request),
            "user": request.session.get("user"),
            "message": message,
        }
        return templates.TemplateResponse(request, "error.html", context, status_code=status)

    def coordinator_of_the_network(action: Action) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            user = request.session.get("user")
            if not isinstance(user, str):
                return Response(status_code=303, headers={"location": f"/signin?next={request.url.path}"})
            if float(request.session.get("until", 0)) < dt.datetime.now(dt.UTC).timestamp():
                request.session.clear()
                return Response(status_code=303, headers={"location": "/signin"})
            network_id, firm_id = request.path_params["network"], request.path_params["firm"]
            if not (_ID.fullmatch(network_id) and _ID.fullmatch(firm_id)):
                return error(request, 404, texts(language_of(request))["not_found"])
            if network_id not in await accounts.grants(user):
                return error(request, 403, texts(language_of(request))["forbidden"])
            return await action(request, network_id, firm_id)

        return guarded

    async def page(request: Request, network_id: str, firm_id: str) -> Response:
        return render(request, network_id=network_id, firm_id=firm_id, view="firms")

    async def erase(request: Request, network_id: str, firm_id: str) -> Response:
        words = WORDS[language_of(request)]
        fresh, form = await csrf_ok(request)
        if not fresh:
            return render(request, 403, network_id=network_id, firm_id=firm_id, problem=words["stale_form"])
        if form.get("confirm") != firm_id:
            problem = words["not_confirmed"].format(firm=firm_id)
            return render(request, 400, network_id=network_id, firm_id=firm_id, problem=problem)
        event = contact_erasure_request(network_id, firm_id, request.session["user"], dt.datetime.now(dt.UTC))
        try:
            await produce(encode_event(event), network_id)
        except Exception as exc:
            # The broker is away or refused: nothing was requested, and the coordinator may simply try again.
            log.warning("contact erasure not sent", extra={"network_id": network_id, "error": type(exc).__name__})
            return render(request, 503, network_id=network_id, firm_id=firm_id, problem=words["not_sent"])
        log.info("contact erasure requested", extra={"network_id": network_id, "firm_id": firm_id})
        return render(request, 202, network_id=network_id, firm_id=firm_id, requested=True, event_id=event.id)

    base = "/n/{network}/firms/{firm}/contact"
    return [
        Route(base, coordinator_of_the_network(page), methods=["GET"]),
        Route(f"{base}/erase", coordinator_of_the_network(erase), methods=["POST"]),
    ]
