"""The key endpoint: notifier, console and producers fetch data keys from the matcher's key table over HTTP."""

from __future__ import annotations

import base64
import re
import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from verbund_schemas import DataKey, PersonalDataErased

from .store.keys import KeyTable

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,159}")
_HOLDER = re.compile(r"(learner|firm):[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}|network")


def key_routes(keys: KeyTable, token: str) -> list[BaseRoute]:
    """`GET /keys/{network}/{key_id}` opens, `POST /keys/{network}` with {"holder": ...} seals.

    Every request names the token of a machine client (VERBUND_KEY_SERVICE_TOKEN); without it nothing is told,
    not even whether a key exists. A key is answered, never cached by the endpoint: a destroyed one is gone at
    the next request.
    """

    def refused(request: Request) -> Response | None:
        given = request.headers.get("authorization", "")
        if not secrets.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return JSONResponse({"error": "a valid key service token is required"}, status_code=401)
        return None

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


def _body(key: DataKey) -> dict[str, str]:
    return {"key_id": key.key_id, "secret": base64.urlsafe_b64encode(key.secret).decode("ascii")}
