"""A coordinator's action on a firm's training contact: erase it everywhere (GDPR Art. 17), the firm staying on."""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from verbund_schemas import AuthContext, AuthType, ContactErased, ContactErasedData, Role

from ..store.accounts import Accounts
from .api import Produce
from .erasure_pages import ErasurePage

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
    pages = ErasurePage(accounts, subject="firm", template="contact_erasure.html", words=WORDS)

    async def page(request: Request, network_id: str, firm_id: str) -> Response:
        return pages.render(request, network_id=network_id, firm_id=firm_id, view="firms")

    async def erase(request: Request, network_id: str, firm_id: str) -> Response:
        return await pages.erase(request, network_id, firm_id, contact_erasure_request, produce, "contact erasure")

    base = "/n/{network}/firms/{firm}/contact"
    return [
        Route(base, pages.coordinator_of_the_network(page), methods=["GET"]),
        Route(f"{base}/erase", pages.coordinator_of_the_network(erase), methods=["POST"]),
    ]
