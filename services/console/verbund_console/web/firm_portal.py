"""A firm user's own pages: their firm's offers (post, change, withdraw), the learners placed there and the
answers to those placements, and their offers' seat deficits; every change goes out as an inbound event
stamped with the signed-in firm user."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from verbund_schemas import (
    AuthContext,
    AuthType,
    InvalidEvent,
    Role,
    week_at,
    week_index,
)

from ..domain.language import texts
from ..domain.views import problem_views
from ..service.live import ChangeSignal
from ..store.accounts import FIRM, Accounts
from ..store.firm_desk import FirmDesk, Placement
from ..store.readmodel import ReadModel
from ..store.tables import Change, Offer
from .api import Produce
from .change_stream import change_stream
from .membership import member_pages
from .stamped_events import produced, stamped_event

log = logging.getLogger(__name__)

Page = Callable[[Request], Awaitable[Response]]
Render = Callable[..., Response]
CsrfCheck = Callable[[Request], Awaitable[tuple[bool, Any]]]

FORM_TEXT = 500  # longest text a form field is read to: the contracts' longest free text

WORDS: dict[str, dict[str, str]] = {
    "de": {
        "my_firms": "Meine Betriebe",
        "no_firms": "Dieses Konto handelt für keinen Betrieb.",
        "offers": "Angebote",
        "no_offers": "Noch keine Angebote.",
        "new_offer": "Neues Angebot",
        "module": "Modul",
        "weeks": "Wochen",
        "max_seats": "Plätze höchstens",
        "min_seats": "Plätze mindestens",
        "state": "Stand",
        "standing": "gilt",
        "withdrawn": "zurückgezogen",
        "send_offer": "Angebot senden",
        "change": "Ändern",
        "withdraw": "Zurückziehen",
        "reason": "Grund",
        "placements": "Geplante Auszubildende",
        "no_placements": "Noch niemand ist hier eingeplant.",
        "learner": "Auszubildende/r",
        "dates": "Zeitraum",
        "answer": "Antwort",
        "accepted": "angenommen",
        "declined": "abgelehnt",
        "accept": "Annehmen",
        "decline": "Ablehnen",
        "per_week": "Wer ist wann hier",
        "week": "Woche",
        "deficits": "Wochen unter dem Minimum",
        "no_deficits": "Keine.",
        "sent": "Gesendet. Die Seite zeigt es, sobald es verarbeitet ist.",
        "invalid": "Nicht gesendet: das Ereignis entspricht nicht dem Vertrag.",
        "unavailable": "Gerade nicht gesendet: der Broker ist nicht erreichbar. Bitte in einer Minute erneut senden.",
        "first_week": "erste Woche",
        "last_week": "letzte Woche",
    },
    "en": {
        "my_firms": "My firms",
        "no_firms": "This account acts for no firm.",
        "offers": "Offers",
        "no_offers": "No offers yet.",
        "new_offer": "New offer",
        "module": "Module",
        "weeks": "Weeks",
        "max_seats": "Seats at most",
        "min_seats": "Seats at least",
        "state": "State",
        "standing": "standing",
        "withdrawn": "withdrawn",
        "send_offer": "Send offer",
        "change": "Change",
        "withdraw": "Withdraw",
        "reason": "Reason",
        "placements": "Learners planned here",
        "no_placements": "Nobody is planned here yet.",
        "learner": "Learner",
        "dates": "Dates",
        "answer": "Answer",
        "accepted": "accepted",
        "declined": "declined",
        "accept": "Accept",
        "decline": "Decline",
        "per_week": "Who is here when",
        "week": "Week",
        "deficits": "Weeks below the minimum",
        "no_deficits": "None.",
        "sent": "Sent. The page shows it once it is applied.",
        "invalid": "Not sent: the event does not match its contract.",
        "unavailable": "Not sent: the broker cannot be reached right now. Please send it again in a minute.",
        "first_week": "first week",
        "last_week": "last week",
    },
}


@dataclass(frozen=True)
class WeekRow:
    week: str
    names: list[str]


def weeks_present(placements: list[Placement]) -> list[WeekRow]:
    """Each week someone is placed at the firm, with who (by name), in week order."""
    present: dict[str, set[str]] = {}
    for p in placements:
        a = p.assignment
        for i in range(week_index(a.end_week, a.start_week) + 1):
            present.setdefault(week_at(a.start_week, i), set()).add(a.learner_name)
    return [WeekRow(week, sorted(names)) for week, names in sorted(present.items())]


def firm_portal_routes(
    render: Render,
    signed_in: Callable[[Page], Page],
    csrf_ok: CsrfCheck,
    language_of: Callable[[Request], str],
    accounts: Accounts,
    desk: FirmDesk,
    produce: Produce | None,
    read_model: ReadModel,
    signal: ChangeSignal,
) -> list[Route]:
    """The routes under /firm and /f/NETWORK/FIRM; a firm user reaches only the firms they act for."""

    def refuse(request: Request) -> Response:
        # The same answer for a firm that exists and one that does not: nothing about other firms leaks.
        return render(request, "error.html", status_code=403, message=texts(language_of(request))["forbidden"])

    def not_found(request: Request) -> Response:
        return render(request, "error.html", status_code=404, message=texts(language_of(request))["not_found"])

    firm_user = member_pages(FIRM, "firm", signed_in, accounts, refuse)

    @signed_in
    async def my_firms(request: Request) -> Response:
        firms = [m for m in await accounts.members(request.session["user"]) if m.role == FIRM]
        if len(firms) == 1:
            return RedirectResponse(f"/f/{firms[0].network_id}/{firms[0].subject_id}/", status_code=303)
        return render(request, "firm_home.html", w=WORDS[language_of(request)], firms=firms)

    async def firm_page(
        request: Request, network_id: str, firm_id: str, *, status_code: int = 200, errors: list[str] | None = None
    ) -> Response:
        language = language_of(request)
        firm = await desk.firm(network_id, firm_id)
        placements = await desk.placements(network_id, firm_id)
        network = await read_model.network(network_id)
        seq = network.last_seq if network else 0
        deficits = problem_views(await desk.deficits(network_id, firm_id), language, texts(language))
        return render(
            request,
            "firm.html",
            status_code=status_code,
            w=WORDS[language],
            firm_network=network_id,
            firm_id=firm_id,
            firm_name=firm.name if firm is not None else firm_id,
            offers=await desk.offers(network_id, firm_id),
            modules=await desk.modules(network_id),
            placements=placements,
            weeks=weeks_present(placements),
            deficits=deficits,
            sent=request.query_params.get("sent") == "1",
            errors=errors or [],
            seq=seq,
            events_url=f"/f/{network_id}/{firm_id}/events?since={seq}",
        )

    @firm_user
    async def show(request: Request, network_id: str, firm_id: str) -> Response:
        return await firm_page(request, network_id, firm_id)

    async def send(request: Request, network_id: str, firm_id: str, event_type: str, data: dict[str, Any]) -> Response:
        """Validate against the contract (its messages are shown as they are), stamp the sender, produce."""
        sender = AuthContext(
            authtype=AuthType.USER,
            principalid=request.session["user"],
            role=Role.FIRM,
            network_id=network_id,
            firm_id=firm_id,
        )
        words = WORDS[language_of(request)]
        try:
            event = stamped_event(event_type, network_id, data, sender)
        except InvalidEvent as exc:
            return await firm_page(
                request, network_id, firm_id, status_code=422, errors=[words["invalid"], *exc.errors]
            )
        if not await produced(produce, event, network_id):
            return render(request, "error.html", status_code=503, message=words["unavailable"])
        log.info("firm user sent %s %s for firm %s of network %s", event.type, event.id, firm_id, network_id)
        return RedirectResponse(f"/f/{network_id}/{firm_id}/?sent=1", status_code=303)

    def field(form: Any, name: str) -> str:
        return str(form.get(name, ""))[:FORM_TEXT].strip()

    def optional(form: Any, name: str) -> str | None:
        return field(form, name) or None

    FirmForm = Callable[[Request, str, str, Any], Awaitable[Response]]
    OfferForm = Callable[[Request, str, str, Any, Offer], Awaitable[Response]]

    def firm_form(action: FirmForm) -> Page:
        """A form a firm user sends: refused without the CSRF token of their session."""

        async def checked(request: Request, network_id: str, firm_id: str) -> Response:
            ok, form = await csrf_ok(request)
            if not ok:
                return refuse(request)
            return await action(request, network_id, firm_id, form)

        return firm_user(checked)

    def offer_form(action: OfferForm) -> Page:
        """A form on one of the firm's own offers; another firm's offer is answered as if it did not exist."""

        @firm_form
        async def found(request: Request, network_id: str, firm_id: str, form: Any) -> Response:
            offer = await desk.offer(network_id, firm_id, request.path_params["offer"])
            if offer is None:
                return not_found(request)
            return await action(request, network_id, firm_id, form, offer)

        return found

    @firm_form
    async def post_offer(request: Request, network_id: str, firm_id: str, form: Any) -> Response:
        data = {
            "offer_id": f"offer-{secrets.token_hex(8)}",
            "firm_id": firm_id,
            "module_id": field(form, "module_id"),
            "first_week": field(form, "first_week"),
            "last_week": field(form, "last_week"),
            "max_seats": field(form, "max_seats"),
            "min_seats": field(form, "min_seats") or "0",
        }
        return await send(request, network_id, firm_id, "CapacityOffered", data)

    @offer_form
    async def change_offer(request: Request, network_id: str, firm_id: str, form: Any, offer: Offer) -> Response:
        data = {"offer_id": offer.offer_id}
        for name in ("first_week", "last_week", "max_seats", "min_seats"):
            value = optional(form, name)
            # Only what differs is sent: the contract changes only the fields given.
            if value is not None and value != str(getattr(offer, name)):
                data[name] = value
        return await send(request, network_id, firm_id, "CapacityChanged", data)

    @offer_form
    async def withdraw_offer(request: Request, network_id: str, firm_id: str, form: Any, offer: Offer) -> Response:
        data = {"offer_id": offer.offer_id, "reason": field(form, "reason")}
        return await send(request, network_id, firm_id, "CapacityWithdrawn", data)

    @firm_form
    async def answer_placement(request: Request, network_id: str, firm_id: str, form: Any) -> Response:
        learner_id, module_id, start_week = (field(form, n) for n in ("learner_id", "module_id", "start_week"))
        if await desk.placement(network_id, firm_id, learner_id, module_id, start_week) is None:
            return not_found(request)
        data = {
            "learner_id": learner_id,
            "module_id": module_id,
            "firm_id": firm_id,
            "start_week": start_week,
            "answer": field(form, "answer"),
            "reason": field(form, "reason"),
        }
        return await send(request, network_id, firm_id, "PlacementAnswered", data)

    def only_that_it_changed(changes: list[Change]) -> list[tuple[int, str]]:
        # Only that the network changed: a change's subject may name another firm's learner.
        return [(changes[-1].seq, "{}")] if changes else []

    @firm_user
    async def events(request: Request, network_id: str, firm_id: str) -> Response:
        return change_stream(request, read_model, signal, network_id, only_that_it_changed, rebuilt="{}")

    return [
        Route("/firm/", my_firms),
        Route("/f/{network}/{firm}/events", events),
        Route("/f/{network}/{firm}/", show),
        Route("/f/{network}/{firm}/offers", post_offer, methods=["POST"]),
        Route("/f/{network}/{firm}/offers/{offer}/change", change_offer, methods=["POST"]),
        Route("/f/{network}/{firm}/offers/{offer}/withdraw", withdraw_offer, methods=["POST"]),
        Route("/f/{network}/{firm}/placements", answer_placement, methods=["POST"]),
    ]
