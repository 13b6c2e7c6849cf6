"""A coordinator's page of their network's people: the firm users and learner accounts, adding and removing them."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..domain.language import texts
from ..store.accounts import FIRM, LEARNER, Accounts
from ..store.readmodel import ReadModel

log = logging.getLogger(__name__)

Render = Callable[..., Response]
NetworkPage = Callable[[Request, str], Awaitable[Response]]
CsrfCheck = Callable[[Request], Awaitable[tuple[bool, Any]]]

# Roles a coordinator may hand out here: never a coordinator's grant, which the operators give on the command line.
MEMBER_ROLES = (FIRM, LEARNER)
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
MAX_EMAIL = 254
MAX_ID = 128
# 18 random bytes: 24 characters, well above the 12 a password must have, and typed once before it is changed.
PASSWORD_BYTES = 18


@dataclass(frozen=True)
class Person:
    """One line of the page: an account acting for one firm of the network, or being one learner of it."""

    email: str
    role: str  # FIRM | LEARNER
    subject_id: str
    subject_name: str


def people_routes(
    render: Render,
    network_page: Callable[[NetworkPage], Callable[[Request], Awaitable[Response]]],
    csrf_ok: CsrfCheck,
    language_of: Callable[[Request], str],
    accounts: Accounts,
    read_model: ReadModel,
) -> list[BaseRoute]:
    """`/n/NETWORK/people`, for coordinators granted the network (`network_page` refuses everyone else)."""

    async def show(request: Request, network_id: str, status_code: int = 200, **shown: Any) -> Response:
        lines = [line for line in await accounts.listing(network_id) if line.role in MEMBER_ROLES]
        firms = await read_model.firms_taking_part(network_id)
        firm_names = dict(firms)
        learners = await read_model.learner_names(network_id, {x.subject_id for x in lines if x.role == LEARNER})
        people = [
            Person(
                line.email,
                line.role,
                line.subject_id,
                (firm_names if line.role == FIRM else learners).get(line.subject_id, ""),
            )
            for line in lines
        ]
        network = await read_model.network(network_id)
        return render(
            request,
            "people.html",
            status_code=status_code,
            view="people",
            network_id=network_id,
            network=network,
            seq=network.last_seq if network else 0,
            # Not a live page: a refresh would take away the password shown once, and accounts are no events.
            live=False,
            people=people,
            firms=firms,
            **shown,
        )

    @network_page
    async def page(request: Request, network_id: str) -> Response:
        return await show(request, network_id)

    @network_page
    async def act(request: Request, network_id: str) -> Response:
        words = texts(language_of(request))
        fresh, form = await csrf_ok(request)
        if not fresh:
            return await show(request, network_id, 403, problem=words["bad_form"])
        role = str(form.get("role", ""))
        email = str(form.get("email", "")).strip().lower()[: MAX_EMAIL + 1]
        if role not in MEMBER_ROLES:
            return await show(request, network_id, 400, problem=words["bad_form"])
        if form.get("do") == "remove":
            subject_id = str(form.get("subject", ""))[:MAX_ID]
            removed = await accounts.remove_member_of_network(email, network_id, role, subject_id)
            if removed:
                log.info("member removed", extra={"network_id": network_id, "role": role, "subject_id": subject_id})
            notice = words["person_removed" if removed else "person_not_there"].format(email=email)
            return await show(request, network_id, notice=notice)
        if len(email) > MAX_EMAIL or not EMAIL.fullmatch(email):
            return await show(request, network_id, 400, problem=words["email_invalid"])
        if role == FIRM:
            subject_id = str(form.get("firm", ""))[:MAX_ID]
            known = subject_id in dict(await read_model.firms_taking_part(network_id))
            unknown = words["unknown_firm"]
        else:
            subject_id = str(form.get("learner", "")).strip()[:MAX_ID]
            known = bool(await read_model.learner_names(network_id, {subject_id}))
            unknown = words["unknown_learner"].format(learner=subject_id)
        if not known:
            return await show(request, network_id, 400, problem=unknown)
        password = secrets.token_urlsafe(PASSWORD_BYTES)
        if not await accounts.add_member_account(email, password, network_id, role, subject_id):
            return await show(request, network_id, 409, problem=words["email_taken"].format(email=email))
        log.info("member added", extra={"network_id": network_id, "role": role, "subject_id": subject_id})
        notice = words["person_added"].format(email=email)
        return await show(request, network_id, 201, notice=notice, password=password)

    return [
        Route("/n/{network}/people", page, methods=["GET"]),
        Route("/n/{network}/people", act, methods=["POST"]),
    ]
