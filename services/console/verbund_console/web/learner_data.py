"""A coordinator's actions on one learner's personal data: download their export, and erase them (GDPR Art. 15, 17)."""

from __future__ import annotations

import datetime as dt
import json
import logging

import httpx
from aiokafka.errors import KafkaError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from verbund_runtime.keyring import HttpKeyring, KeyServiceUnavailable
from verbund_runtime.learner_export import gather
from verbund_schemas import AuthContext, AuthType, LearnerErased, LearnerErasedData, Role

from ..settings import ConsoleSettings
from ..store.accounts import Accounts
from .api import Produce
from .erasure_pages import ErasurePage
from .page_session import language_of

log = logging.getLogger(__name__)


# This page's own words, beside the console's shared texts (domain/language.py) that the layout uses.
WORDS: dict[str, dict[str, str]] = {
    "de": {
        "heading": "Personenbezogene Daten von {learner}",
        "export": "Auskunft herunterladen (JSON)",
        "export_explained": "Alles, was Verbund über diese Person hält: Anmeldung, Pläne und ihre Geschichte, "
        "Fehlstellen, versandte Nachrichten — dieselbe Datei wie `verbund learner export`.",
        "erase": "Person löschen",
        "erase_explained": "Ihr Schlüssel wird vernichtet: Name und Kontakt sind danach nirgends mehr lesbar, ihre "
        "Einsätze werden abgesagt, die anderen Lernenden neu geplant. Das lässt sich nicht rückgängig machen.",
        "confirm": "Zur Bestätigung die Kennung eintippen: {learner}",
        "requested": "Die Löschung von {learner} ist beauftragt (Ereignis {event}). Jeder Dienst vergisst die "
        "Person, sobald er das Ereignis liest.",
        "not_confirmed": "Nicht gelöscht: die eingetippte Kennung stimmt nicht mit {learner} überein.",
        "no_keys": "Die Auskunft braucht den Schlüsseldienst des Matchers: VERBUND_KEY_SERVICE_URL und "
        "VERBUND_KEY_SERVICE_TOKEN sind für die Konsole nicht gesetzt.",
        "keys_unavailable": "Der Schlüsseldienst des Matchers antwortet nicht; bitte später erneut versuchen.",
        "stale_form": "Das Formular ist abgelaufen; bitte die Seite neu laden.",
        "not_sent": "Die Löschung konnte nicht gesendet werden (Kafka nicht erreichbar); bitte erneut versuchen.",
    },
    "en": {
        "heading": "Personal data of {learner}",
        "export": "Download export (JSON)",
        "export_explained": "Everything Verbund holds about this person: registration, plans and their history, "
        "shortfalls, messages sent — the same file as `verbund learner export`.",
        "erase": "Erase learner",
        "erase_explained": "Their key is destroyed: their name and contact can then be read nowhere, their "
        "placements are cancelled and the other learners replanned. This cannot be undone.",
        "confirm": "To confirm, type the learner's id: {learner}",
        "requested": "Erasure of {learner} requested (event {event}). Every service forgets them as it reads it.",
        "not_confirmed": "Not erased: the id typed does not match {learner}.",
        "no_keys": "The export needs the matcher's key endpoint: VERBUND_KEY_SERVICE_URL and "
        "VERBUND_KEY_SERVICE_TOKEN are not set for the console.",
        "keys_unavailable": "The matcher's key endpoint does not answer; try again later.",
        "stale_form": "The form has expired; reload the page.",
        "not_sent": "The erasure could not be sent (Kafka unreachable); try again.",
    },
}


def erasure_request(network_id: str, learner_id: str, coordinator: str, now: dt.datetime) -> LearnerErased:
    """The request `verbund learner erase` sends, under the same id (asking twice erases once), stamped with the
    signed-in coordinator as its sender."""
    return LearnerErased(
        id=f"erase:{learner_id}",
        time=now,
        source="verbund-console",
        subject=network_id,
        authcontext=AuthContext(
            authtype=AuthType.USER, principalid=coordinator, role=Role.COORDINATOR, network_id=network_id
        ),
        data=LearnerErasedData(learner_id=learner_id),
    )


def learner_data_routes(settings: ConsoleSettings, accounts: Accounts, produce: Produce) -> list[BaseRoute]:
    """The learner's data page, its export download and its erase action; for coordinators of the network only.

    They sit on the session the console's pages set (signed-in user, its expiry and CSRF token), and produce
    the erasure through the console's producer, as its HTTP API produces firms' events.
    """
    pages = ErasurePage(accounts, subject="learner", template="learner_data.html", words=WORDS)
    render = pages.render

    async def page(request: Request, network_id: str, learner_id: str) -> Response:
        return render(request, network_id=network_id, learner_id=learner_id, view="learner-data")

    async def export(request: Request, network_id: str, learner_id: str) -> Response:
        words = WORDS[language_of(request)]
        url, token = settings.key_service_url, settings.key_service_token
        if url is None or token is None:
            return render(request, 503, network_id=network_id, learner_id=learner_id, problem=words["no_keys"])
        keyring = HttpKeyring(url, token.get_secret_value())
        try:
            held = await gather(
                settings.kafka_bootstrap_servers,
                keyring,
                url,
                token.get_secret_value(),
                network_id,
                learner_id,
                settings.kafka_security(),
                notifier_url=settings.notifier_url,
            )
        except (KeyServiceUnavailable, httpx.HTTPError, KafkaError, OSError) as exc:
            log.warning("export failed", extra={"network_id": network_id, "error": type(exc).__name__})
            problem = words["keys_unavailable"]
            return render(request, 503, network_id=network_id, learner_id=learner_id, problem=problem)
        finally:
            await keyring.close()
        log.info("learner exported", extra={"network_id": network_id, "learner_id": learner_id})
        body = json.dumps(held, ensure_ascii=False, indent=2).encode("utf-8")
        return Response(
            body,
            media_type="application/json",
            headers={
                "content-disposition": f'attachment; filename="verbund-export-{network_id}-{learner_id}.json"',
                "cache-control": "no-store",
            },
        )

    async def erase(request: Request, network_id: str, learner_id: str) -> Response:
        return await pages.erase(request, network_id, learner_id, erasure_request, produce, "erasure")

    base = "/n/{network}/learners/{learner}"
    return [
        Route(f"{base}/data", pages.coordinator_of_the_network(page), methods=["GET"]),
        Route(f"{base}/export.json", pages.coordinator_of_the_network(export), methods=["GET"]),
        Route(f"{base}/erase", pages.coordinator_of_the_network(erase), methods=["POST"]),
    ]
