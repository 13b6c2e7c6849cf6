"""The matcher's machine endpoints: data keys for notifier, console and producers; a learner's record for export."""

from __future__ import annotations

import base64
import re
import secrets

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from verbund_schemas import DataKey, PersonalDataErased

from .store.keys import KeyTable
from .store.learner_record import learner_record

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,159}")
_HOLDER = re.compile(r"(learner|firm):[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}|network")


def key_routes(keys: KeyTable, token: str) -> list[BaseRoute]:
    """`GET /keys/{network}/{key_id}` opens, `POST /keys/{network}` with {"holder": ...} seals.

    Every request names the token of a machine client (VERBUND_KEY_SERVICE_TOKEN); without it nothing is told,
    not even whether a key exists. A key is answered, never cached by the endpoint: a destroyed one is gone at
    the next request.
    """

    def refused(request: Request) -> Response | None:
        return _refused(request, token)

    async def key(request: Request) -> Response:
        if (problem := refused(request)) is not None:
            return problem
        network_id, key_id = request.path_params["network_id"], request.path_params["key_id"]
        if not (_ID.fullmatch(network_id) and _ID.fullmatch(key_id)):
            return JSONResponse({"error": "network and key ids are letters, digits, '.', '_', ':', '-'"}, 400)
        found = await keys.key(network_id, key_id)
        if found is None:
            return JSONResponse({"error": "no such key: destroyed, or never made"}, status_code=404)
        return JSONResponse(_body(found))

    async def key_for(request: Request) -> Response:
        if (problem := refused(request)) is not None:
            return problem
        network_id = request.path_params["network_id"]
        try:
            holder = (await request.json()).get("holder")
        except (ValueError, AttributeError):
            holder = None
        if not _ID.fullmatch(network_id) or not isinstance(holder, str) or not _HOLDER.fullmatch(holder):
            return JSONResponse({"error": 'send {"holder": "learner:<id>" | "firm:<id>" | "network"}'}, 400)
        try:
            found = await keys.key_for(network_id, holder)
        except PersonalDataErased as exc:
            return JSONResponse({"error": str(exc)}, status_code=410)
        return JSONResponse(_body(found))

    return [
        Route("/keys/{network_id}/{key_id}", key, methods=["GET"]),
        Route("/keys/{network_id}", key_for, methods=["POST"]),
    ]


def _refused(request: Request, token: str) -> Response | None:
    given = request.headers.get("authorization", "")
    if not secrets.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return JSONResponse({"error": "a valid key service token is required"}, status_code=401)
    return None


def _body(key: DataKey) -> dict[str, str]:
    return {"key_id": key.key_id, "secret": base64.urlsafe_b64encode(key.secret).decode("ascii")}


def learner_routes(sessions: async_sessionmaker[AsyncSession], token: str) -> list[BaseRoute]:
    """`GET /learners/{network}/{learner}`: what the matcher holds about a learner, for `verbund learner export`.

    Behind the same machine token as the keys: it answers with the learner's registration in clear text.
    """

    async def learner(request: Request) -> Response:
        if (problem := _refused(request, token)) is not None:
            return problem
        network_id, learner_id = request.path_params["network_id"], request.path_params["learner_id"]
        if not (_ID.fullmatch(network_id) and _ID.fullmatch(learner_id)):
            return JSONResponse({"error": "network and learner ids are letters, digits, '.', '_', ':', '-'"}, 400)
        return JSONResponse(await learner_record(sessions, network_id, learner_id))

    return [Route("/learners/{network_id}/{learner_id}", learner, methods=["GET"])]
