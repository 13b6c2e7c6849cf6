"""A learner's own page: their rotation plan, a calendar link that works without signing in (revocable), and
their preferences for modules and firms, sent as an inbound event stamped with the signed-in learner."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from verbund_schemas import (
    AuthContext,
    AuthType,
    InvalidEvent,
    Role,
)

from ..domain.exports import calendar
from ..domain.language import texts
from ..store.accounts import LEARNER, Accounts
from ..store.learner_feeds import LearnerFeeds
from ..store.readmodel import ReadModel
from .api import Produce
from .membership import member_pages
from .stamped_events import produced, stamped_event

Page = Callable[[Request], Awaitable[Response]]
Render = Callable[..., Response]
CsrfCheck = Callable[[Request], Awaitable[tuple[bool, Any]]]


WORDS: dict[str, dict[str, str]] = {
    "de": {
        "plan": "Mein Ausbildungsplan",
        "no_plan": "Noch ist keine Phase geplant.",
        "module": "Modul",
        "firm": "Betrieb",
        "weeks": "Wochen",
        "dates": "Zeitraum",
        "calendar": "Kalender-Abo",
        "calendar_help": (
            "Diese Adresse in der Kalender-App abonnieren. Sie wird nur jetzt angezeigt; wer sie kennt, sieht den Plan."
        ),
        "calendar_active": "Aktive Kalender-Links: {count}.",
        "new_link": "Neuen Link erzeugen",
        "revoke": "Alle Links sperren",
        "preferences": "Meine Wünsche",
        "preferences_help": "Von -10 (lieber nicht) bis 10 (sehr gern); leer heißt egal. Ersetzt frühere Wünsche.",
        "send": "Wünsche senden",
        "frozen": "Der Plan steht fest; Wünsche ändern ihn nicht mehr.",
        "sent": "Gesendet. Der Plan berücksichtigt es, sobald er neu berechnet ist.",
        "invalid": "Nicht gesendet: das Ereignis entspricht nicht dem Vertrag.",
        "unavailable": "Gerade nicht gesendet: der Broker ist nicht erreichbar. Bitte in einer Minute erneut senden.",
        "no_learner": "Dieses Konto ist kein/e Auszubildende/r.",
    },
    "en": {
        "plan": "My rotation plan",
        "no_plan": "No phase is planned yet.",
        "module": "Module",
        "firm": "Firm",
        "weeks": "Weeks",
        "dates": "Dates",
        "calendar": "Calendar subscription",
        "calendar_help": (
            "Subscribe to this address in your calendar app. It is shown only now; whoever knows it sees the plan."
        ),
        "calendar_active": "Active calendar links: {count}.",
        "new_link": "Make a new link",
        "revoke": "Revoke every link",
        "preferences": "My preferences",
        "preferences_help": (
            "From -10 (rather not) to 10 (very much); empty means no preference. Replaces earlier ones."
        ),
        "send": "Send preferences",
        "frozen": "The plan is settled; preferences no longer change it.",
        "sent": "Sent. The plan takes it into account once it is recalculated.",
        "invalid": "Not sent: the event does not match its contract.",
        "unavailable": "Not sent: the broker cannot be reached right now. Please send it again in a minute.",
        "no_learner": "This account is no learner.",
    },
}


def learner_portal_routes(
    render: Render,
    signed_in: Callable[[Page], Page],
    csrf_ok: CsrfCheck,
    language_of: Callable[[Request], str],
    accounts: Accounts,
    read_model: ReadModel,
    feeds: LearnerFeeds,
    produce: Produce | None,
) -> list[Route]:
    """The routes under /learner, /l/NETWORK/LEARNER and the calendar feeds under /calendar."""

    def refuse(request: Request) -> Response:
        return render(request, "error.html", status_code=403, message=texts(language_of(request))["forbidden"])

    # Another learner's id in the URL is refused like one that does not exist.
    themselves = member_pages(LEARNER, "learner", signed_in, accounts, refuse)

    @signed_in
    async def my_plan(request: Request) -> Response:
        mine = [m for m in await accounts.members(request.session["user"]) if m.role == LEARNER]
        if not mine:
            return render(request, "error.html", status_code=404, message=WORDS[language_of(request)]["no_learner"])
        return RedirectResponse(f"/l/{mine[0].network_id}/{mine[0].subject_id}/", status_code=303)

    async def plan_page(
        request: Request,
        network_id: str,
        learner_id: str,
        *,
        status_code: int = 200,
        errors: list[str] | None = None,
        feed_url: str | None = None,
    ) -> Response:
        name, assignments = await read_model.calendar_of(network_id, learner=learner_id)
        firms, modules, _ = await read_model.filter_choices(network_id)
        return render(
            request,
            "learner.html",
            status_code=status_code,
            w=WORDS[language_of(request)],
            learner_network=network_id,
            learner_id=learner_id,
            learner_name=name or learner_id,
            assignments=sorted(assignments, key=lambda a: a.start_week),
            settled=bool(assignments) and all(a.frozen for a in assignments),
            firms=firms,
            modules=modules,
            feeds=await feeds.active(network_id, learner_id),
            feed_url=feed_url,
            sent=request.query_params.get("sent") == "1",
            errors=errors or [],
        )

    @themselves
    async def show(request: Request, network_id: str, learner_id: str) -> Response:
        return await plan_page(request, network_id, learner_id)

    @themselves
    async def new_feed(request: Request, network_id: str, learner_id: str) -> Response:
        ok, _ = await csrf_ok(request)
        if not ok:
            return refuse(request)
        token = await feeds.issue(network_id, learner_id)
        # Rendered, not redirected to: the link is in no URL, history or log, and shown this once.
        return await plan_page(
            request, network_id, learner_id, feed_url=f"{str(request.base_url).rstrip('/')}/calendar/{token}.ics"
        )

    @themselves
    async def revoke_feeds(request: Request, network_id: str, learner_id: str) -> Response:
        ok, _ = await csrf_ok(request)
        if not ok:
            return refuse(request)
        await feeds.revoke_all(network_id, learner_id)
        return RedirectResponse(f"/l/{network_id}/{learner_id}/", status_code=303)

    @themselves
    async def state_preferences(request: Request, network_id: str, learner_id: str) -> Response:
        ok, form = await csrf_ok(request)
        if not ok:
            return refuse(request)
        words = WORDS[language_of(request)]
        _, assignments = await read_model.calendar_of(network_id, learner=learner_id)
        if assignments and all(a.frozen for a in assignments):
            return await plan_page(request, network_id, learner_id, status_code=409, errors=[words["frozen"]])

        def scores(prefix: str) -> dict[str, str]:
            return {
                str(key)[len(prefix) :][:128]: str(value).strip()[:8]
                for key, value in form.multi_items()
                if str(key).startswith(prefix) and str(value).strip()
            }

        sender = AuthContext(
            authtype=AuthType.USER,
            principalid=request.session["user"],
            role=Role.LEARNER,
            network_id=network_id,
            learner_id=learner_id,
        )
        data = {
            "learner_id": learner_id,
            "module_preferences": scores("module:"),
            "firm_preferences": scores("firm:"),
        }
        try:
            event = stamped_event("LearnerPreferencesStated", network_id, data, sender)
        except InvalidEvent as exc:
            return await plan_page(
                request, network_id, learner_id, status_code=422, errors=[words["invalid"], *exc.errors]
            )
        if not await produced(produce, event, network_id):
            return render(request, "error.html", status_code=503, message=words["unavailable"])
        return RedirectResponse(f"/l/{network_id}/{learner_id}/?sent=1", status_code=303)

    async def feed(request: Request) -> Response:
        holder = await feeds.holder(str(request.path_params["token"])[:128])
        if holder is None:
            return render(request, "error.html", status_code=404, message=texts(language_of(request))["not_found"])
        name, assignments = await read_model.calendar_of(holder.network_id, learner=holder.learner_id)
        body = calendar(
            f"{name or holder.learner_id} · {holder.network_id}",
            assignments,
            for_firm=False,
            stamp=dt.datetime.now(dt.UTC),
        )
        # No referrer or cache keeps the secret URL or the plan anywhere else.
        return Response(
            body,
            media_type="text/calendar; charset=utf-8",
            headers={"cache-control": "no-store", "referrer-policy": "no-referrer"},
        )

    return [
        Route("/learner/", my_plan),
        Route("/l/{network}/{learner}/", show),
        Route("/l/{network}/{learner}/feeds", new_feed, methods=["POST"]),
        Route("/l/{network}/{learner}/feeds/revoke", revoke_feeds, methods=["POST"]),
        Route("/l/{network}/{learner}/preferences", state_preferences, methods=["POST"]),
        Route("/calendar/{token}.ics", feed),
    ]
