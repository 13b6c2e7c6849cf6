"""The coordinators' web pages: sign-in, overview, problems, timelines, utilisation, plan history, rejected events,
their CSV and iCalendar exports, and the live change stream."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import re
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..domain.exports import (
    Table,
    calendar,
    csv_text,
    firm_table,
    heatmap_table,
    history_table,
    problems_table,
    rejections_table,
    timeline_table,
)
from ..domain.history import history_views
from ..domain.language import LANGUAGES, texts
from ..domain.rejections import rejection_views
from ..domain.utilisation import heatmap, who_is_there
from ..domain.views import AssignmentLike, TimelineFilter, firm_timeline, problem_views, timeline
from ..service.live import ChangeSignal
from ..settings import ConsoleSettings
from ..store.accounts import Accounts
from ..store.firm_desk import FirmDesk
from ..store.learner_feeds import LearnerFeeds
from ..store.readmodel import ReadModel
from ..store.tables import Change
from .api import Produce
from .change_stream import change_stream
from .csv_streams import firm_rows, heatmap_rows, history_rows, streamed_csv, timeline_rows
from .firm_portal import firm_portal_routes
from .heat_cells import heat_cells
from .learner_portal import learner_portal_routes
from .mail import mail_routes
from .network_people import people_routes
from .page_session import LANGUAGE_COOKIE, csrf_ok, csrf_token, language_of

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
LEARNERS_PER_PAGE = 50
ROWS_PER_PAGE = 50  # firm × module rows on the per-firm timeline
# The heatmap's rows have a cell per week (200 and more in a three-year network): 50 rows were 2.7 MB of HTML.
HEATMAP_ROWS_PER_PAGE = 20
VERSIONS_PER_PAGE = 10
LINES_PER_VERSION = 200  # a first plan makes every assignment; the page shows the first ones, the CSV all
REJECTED_PER_PAGE = 50

SECURITY_HEADERS = [
    # Scripts and styles only from the console itself; bars are placed with style attributes.
    (b"content-security-policy", b"default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """Adds the headers above to every response (a plain ASGI wrapper, so streams stay streams)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, receive, with_headers)


Page = Callable[[Request], Awaitable[Response]]


def build_web(
    settings: ConsoleSettings,
    read_model: ReadModel,
    accounts: Accounts,
    signal: ChangeSignal,
    desk: FirmDesk | None = None,
    produce: Produce | None = None,
    feeds: LearnerFeeds | None = None,
) -> Starlette:
    """The web app; `settings.session_secret` must be set (the caller checks and says how). With a desk, firm
    users' pages too, with feeds learners' pages; both send their events with `produce`."""
    assert settings.session_secret is not None
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["day"] = _day
    templates.env.globals["heat_cells"] = heat_cells

    def render(request: Request, name: str, status_code: int = 200, **context: Any) -> Response:
        language = language_of(request)
        context.update(
            t=texts(language),
            language=language,
            other_language=next(x for x in LANGUAGES if x != language),
            csrf=csrf_token(request),
            user=request.session.get("user"),
        )
        response = templates.TemplateResponse(request, name, context, status_code=status_code)
        response.headers["cache-control"] = "no-store"
        return response

    def signed_in(page: Page) -> Page:
        async def guarded(request: Request) -> Response:
            if not isinstance(request.session.get("user"), str):
                return RedirectResponse(f"/signin?next={request.url.path}", status_code=303)
            if float(request.session.get("until", 0)) < dt.datetime.now(dt.UTC).timestamp():
                request.session.clear()
                return RedirectResponse("/signin", status_code=303)
            # The session is a signed cookie, not a row: a removed account's session ends here, at its next request.
            if not await accounts.exists(request.session["user"]):
                request.session.clear()
                return RedirectResponse("/signin", status_code=303)
            return await page(request)

        return guarded

    def network_page(page: Callable[[Request, str], Awaitable[Response]]) -> Page:
        @signed_in
        async def granted(request: Request) -> Response:
            network_id = request.path_params["network"]
            if network_id not in await accounts.grants(request.session["user"]):
                return render(request, "error.html", status_code=403, message=texts(language_of(request))["forbidden"])
            return await page(request, network_id)

        return granted

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def signin_form(request: Request) -> Response:
        return render(request, "signin.html", next=_local(request.query_params.get("next")), error=None)

    async def signin(request: Request) -> Response:
        ok, form = await csrf_ok(request)
        words = texts(language_of(request))
        if not ok:
            return render(request, "signin.html", status_code=400, next="/", error=words["bad_form"])
        email = str(form.get("email", ""))[:254]
        password = str(form.get("password", ""))[:1024]
        target = _local(str(form.get("next", "/")))
        address = request.client.host if request.client else "unknown"
        window = settings.signin_window_seconds
        since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=window)
        if await accounts.failures(email, address, since) >= settings.signin_attempts:
            message = words["signin_limited"].format(minutes=math.ceil(window / 60))
            return render(request, "signin.html", status_code=429, next=target, error=message)
        if not await accounts.verify(email, password):
            await accounts.record_failure(email, address)
            log.info("failed sign-in", extra={"address": address})
            return render(request, "signin.html", status_code=401, next=target, error=words["signin_failed"])
        await accounts.clear_failures(email, address)
        # A new session on sign-in: nothing set before it (a planted cookie) carries over.
        request.session.clear()
        request.session["user"] = email.strip().lower()
        request.session["until"] = dt.datetime.now(dt.UTC).timestamp() + settings.session_hours * 3600
        request.session["csrf"] = secrets.token_urlsafe(32)
        return RedirectResponse(target, status_code=303)

    async def signout(request: Request) -> Response:
        ok, _ = await csrf_ok(request)
        if ok:
            request.session.clear()
        return RedirectResponse("/signin", status_code=303)

    async def switch_language(request: Request) -> Response:
        ok, form = await csrf_ok(request)
        chosen = str(form.get("language", ""))
        response = RedirectResponse(_local(str(form.get("back", "/"))), status_code=303)
        if ok and chosen in LANGUAGES:
            response.set_cookie(
                LANGUAGE_COOKIE,
                chosen,
                max_age=365 * 86400,
                httponly=True,
                samesite="lax",
                secure=settings.secure_cookies,
            )
        return response

    def coordinator(page: Page) -> Page:
        """Signed in with a grant of some network: firm users and learners have none."""

        @signed_in
        async def granted(request: Request) -> Response:
            if not await accounts.grants(request.session["user"]):
                return render(request, "error.html", status_code=403, message=texts(language_of(request))["forbidden"])
            return await page(request)

        return granted

    @signed_in
    async def home(request: Request) -> Response:
        granted = await accounts.grants(request.session["user"])
        members = [] if granted else await accounts.members(request.session["user"])
        if members:
            firm_user = any(m.role == "firm" for m in members)
            return RedirectResponse("/firm/" if firm_user else "/learner/", status_code=303)
        return render(request, "networks.html", networks=await read_model.networks(granted))

    async def network_context(network_id: str) -> dict[str, Any]:
        network = await read_model.network(network_id)
        return {"network_id": network_id, "network": network, "seq": network.last_seq if network else 0}

    @network_page
    async def overview_page(request: Request, network_id: str) -> Response:
        summary = await read_model.overview(network_id)
        return render(request, "overview.html", view="overview", summary=summary, **await network_context(network_id))

    @network_page
    async def problems_page(request: Request, network_id: str) -> Response:
        language = language_of(request)
        found = await read_model.problems(network_id)
        names = await read_model.module_names(network_id, {p.module_id for p in found if p.module_id})
        problems = problem_views(found, language, texts(language), names)
        if wants_csv(request):
            return csv_response(network_id, "problems", problems_table(problems))
        return render(request, "problems.html", view="problems", problems=problems, **await network_context(network_id))

    def wants_csv(request: Request) -> bool:
        return request.query_params.get("format") == "csv"

    def page_number(request: Request) -> int:
        try:
            return min(max(0, int(request.query_params.get("page", "0"))), 1_000_000)
        except ValueError:
            return 0

    async def filter_context(network_id: str, wanted: TimelineFilter) -> dict[str, Any]:
        firms, modules, cohorts = await read_model.filter_choices(network_id)
        return {"wanted": wanted, "firms": firms, "modules": modules, "cohorts": cohorts}

    @network_page
    async def timeline_page(request: Request, network_id: str) -> Response:
        wanted = TimelineFilter.from_query(request.query_params)

        def focus(a: AssignmentLike) -> bool:
            return (not wanted.firm or a.firm_id == wanted.firm) and (not wanted.module or a.module_id == wanted.module)

        focused = focus if wanted.firm or wanted.module else None
        if wants_csv(request):
            rows = timeline_rows(read_model, network_id, wanted, focused)
            return streamed_csv(_filename(f"{network_id}-timeline.csv"), timeline_table([], [])[0], rows)
        learners, total, assignments, span = await read_model.learner_timeline(network_id, wanted, LEARNERS_PER_PAGE)
        pages = max(1, math.ceil(total / LEARNERS_PER_PAGE))
        view = timeline(
            learners,
            assignments,
            page=wanted.page,
            pages=pages,
            span=span,
            zoom=wanted.zoom,
            language=language_of(request),
            focus=focused,
        )
        return render(
            request,
            "timeline.html",
            view="timeline",
            timeline=view,
            total=total,
            **await filter_context(network_id, wanted),
            **await network_context(network_id),
        )

    @network_page
    async def firms_page(request: Request, network_id: str) -> Response:
        wanted = TimelineFilter.from_query(request.query_params)
        if wants_csv(request):
            rows = firm_rows(read_model, network_id, wanted)
            return streamed_csv(_filename(f"{network_id}-firms.csv"), firm_table([], [])[0], rows)
        pairs, total, assignments, span = await read_model.firm_timeline(network_id, wanted, ROWS_PER_PAGE)
        pages = max(1, math.ceil(total / ROWS_PER_PAGE))
        view = firm_timeline(
            pairs,
            assignments,
            page=wanted.page,
            pages=pages,
            span=span,
            zoom=wanted.zoom,
            language=language_of(request),
        )
        return render(
            request,
            "firms.html",
            view="firms",
            timeline=view,
            total=total,
            **await filter_context(network_id, wanted),
            **await network_context(network_id),
        )

    @network_page
    async def utilisation_page(request: Request, network_id: str) -> Response:
        wanted = TimelineFilter.from_query(request.query_params)
        if wants_csv(request):
            rows = heatmap_rows(read_model, network_id, wanted.firm, wanted.module)
            header = heatmap_table(heatmap([], [], [], span=None))[0]
            return streamed_csv(_filename(f"{network_id}-utilisation.csv"), header, rows)
        pairs, total, offers, assignments, span = await read_model.utilisation(
            network_id, wanted.firm, wanted.module, wanted.page, HEATMAP_ROWS_PER_PAGE
        )
        pages = max(1, math.ceil(total / HEATMAP_ROWS_PER_PAGE))
        view = heatmap(pairs, offers, assignments, span=span, page=wanted.page, pages=pages)
        return render(
            request,
            "utilisation.html",
            view="utilisation",
            heatmap=view,
            total=total,
            **await filter_context(network_id, wanted),
            **await network_context(network_id),
        )

    @network_page
    async def utilisation_week(request: Request, network_id: str) -> Response:
        firm = request.query_params.get("firm", "")[:128]
        module = request.query_params.get("module", "")[:128]
        week = request.query_params.get("week", "")
        if not re.fullmatch(r"\d{4}-W\d{2}", week):
            return await not_found(request, ValueError(week))
        there = who_is_there(await read_model.present(network_id, firm, module, week), firm, module, week)
        firms, modules, _ = await read_model.filter_choices(network_id)
        return render(
            request,
            "utilisation_week.html",
            view="utilisation",
            there=there,
            week=week,
            firm_name=dict(firms).get(firm, firm),
            module_name=dict(modules).get(module, module),
            firm=firm,
            module=module,
            **await network_context(network_id),
        )

    @network_page
    async def history_page(request: Request, network_id: str) -> Response:
        language = language_of(request)
        page = page_number(request)
        if wants_csv(request):
            rows = history_rows(read_model, network_id, language)
            return streamed_csv(_filename(f"{network_id}-history.csv"), history_table([])[0], rows)
        versions, total, plans, lines, counts = await read_model.history(
            network_id, page, VERSIONS_PER_PAGE, LINES_PER_VERSION
        )
        views = history_views(versions, plans, lines, counts, language)
        pages = max(1, math.ceil(total / VERSIONS_PER_PAGE))
        return render(
            request,
            "history.html",
            view="history",
            versions=views,
            page=page,
            pages=pages,
            **await network_context(network_id),
        )

    @network_page
    async def rejected_page(request: Request, network_id: str) -> Response:
        page = page_number(request)
        per_page = None if wants_csv(request) else REJECTED_PER_PAGE
        rows, total = await read_model.rejected(network_id, page, per_page)
        views = rejection_views(rows)
        if wants_csv(request):
            return csv_response(network_id, "rejected", rejections_table(views))
        pages = max(1, math.ceil(total / REJECTED_PER_PAGE))
        return render(
            request,
            "rejected.html",
            view="rejected",
            rejections=views,
            page=page,
            pages=pages,
            total=total,
            **await network_context(network_id),
        )

    async def calendar_response(request: Request, network_id: str, *, learner: str = "", firm: str = "") -> Response:
        name, assignments = await read_model.calendar_of(network_id, learner=learner, firm=firm)
        if name is None:
            return await not_found(request, LookupError(learner or firm))
        body = calendar(f"{name} · {network_id}", assignments, for_firm=bool(firm), stamp=dt.datetime.now(dt.UTC))
        filename = _filename(f"{network_id}-{learner or firm}.ics")
        return Response(
            body,
            media_type="text/calendar; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{filename}"', "cache-control": "no-store"},
        )

    @network_page
    async def learner_calendar(request: Request, network_id: str) -> Response:
        return await calendar_response(request, network_id, learner=request.path_params["learner"])

    @network_page
    async def firm_calendar(request: Request, network_id: str) -> Response:
        return await calendar_response(request, network_id, firm=request.path_params["firm"])

    def each_change(changes: list[Change]) -> list[tuple[int, str]]:
        return [(c.seq, json.dumps({"type": c.event_type, "subject": c.subject})) for c in changes]

    @network_page
    async def events(request: Request, network_id: str) -> Response:
        rebuilt = json.dumps({"type": "Rebuilt", "subject": ""})
        return change_stream(request, read_model, signal, network_id, each_change, rebuilt)

    async def not_found(request: Request, _: Exception) -> Response:
        return render(request, "error.html", status_code=404, message=texts(language_of(request))["not_found"])

    routes = [
        Route("/healthz", healthz),
        Route("/signin", signin_form, methods=["GET"]),
        Route("/signin", signin, methods=["POST"]),
        Route("/signout", signout, methods=["POST"]),
        Route("/language", switch_language, methods=["POST"]),
        Route("/", home),
        Route("/n/{network}/", overview_page),
        Route("/n/{network}/problems", problems_page),
        Route("/n/{network}/timeline", timeline_page),
        Route("/n/{network}/firms", firms_page),
        Route("/n/{network}/utilisation", utilisation_page),
        Route("/n/{network}/utilisation/week", utilisation_week),
        Route("/n/{network}/history", history_page),
        Route("/n/{network}/rejected", rejected_page),
        Route("/n/{network}/learners/{learner}.ics", learner_calendar),
        Route("/n/{network}/firms/{firm}.ics", firm_calendar),
        Route("/n/{network}/events", events),
        *mail_routes(render, coordinator),
        *people_routes(render, network_page, csrf_ok, language_of, accounts, read_model),
        *(
            firm_portal_routes(render, signed_in, csrf_ok, language_of, accounts, desk, produce, read_model, signal)
            if desk
            else []
        ),
        *(
            learner_portal_routes(render, signed_in, csrf_ok, language_of, accounts, read_model, feeds, produce)
            if feeds
            else []
        ),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeaders),
        Middleware(
            SessionMiddleware,
            secret_key=settings.session_secret.get_secret_value(),
            session_cookie="verbund_session",
            max_age=int(settings.session_hours * 3600),
            same_site="lax",
            https_only=settings.secure_cookies,
        ),
    ]
    return Starlette(routes=routes, middleware=middleware, exception_handlers={404: not_found})


def csv_response(network_id: str, name: str, table: Table) -> Response:
    # A byte order mark first: spreadsheet programs then read the file as UTF-8 (umlauts in names).
    return Response(
        "\ufeff" + csv_text(*table),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{_filename(f"{network_id}-{name}.csv")}"',
            "cache-control": "no-store",
        },
    )


def _filename(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:150]


def _local(target: str | None) -> str:
    """Only a path on this site: a sign-in link must not send anyone elsewhere afterwards."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _day(value: dt.date, language: str) -> str:
    return value.strftime("%d.%m.%Y" if language == "de" else "%Y-%m-%d")
