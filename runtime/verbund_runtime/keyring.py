"""A client of the matcher's key endpoint: the keyring of the notifier, the console and the producers."""

from __future__ import annotations

import base64
from typing import Any

import httpx
from pydantic import AliasChoices, Field, SecretStr
from verbund_schemas import DataKey, PersonalDataErased


class KeyServiceUnavailable(RuntimeError):
    """The key endpoint did not answer or refused the token: a passing fault, or a setting to fix."""


class HttpKeyring:
    """Fetches each key when it is needed and keeps none: a destroyed key stops opening at once."""

    def __init__(self, url: str, token: str, *, timeout: float = 10.0) -> None:
        self._client = httpx.AsyncClient(
            base_url=url.rstrip("/"), headers={"authorization": f"Bearer {token}"}, timeout=timeout
        )
        self._url = url

    async def key_for(self, network_id: str, holder: str) -> DataKey:
        response = await self._request("POST", f"/keys/{network_id}", json={"holder": holder})
        if response.status_code == 410:
            raise PersonalDataErased(network_id, holder)
        return self._key(response)

    async def key(self, network_id: str, key_id: str) -> DataKey | None:
        response = await self._request("GET", f"/keys/{network_id}/{key_id}")
        if response.status_code == 404:
            return None
        return self._key(response)

    async def close(self) -> None:
        await self._client.aclose()

    async def _request(self, method: str, path: str, json: object | None = None) -> httpx.Response:
        try:
            return await self._client.request(method, path, json=json)
        except httpx.HTTPError as exc:
            raise KeyServiceUnavailable(
                f"the key endpoint at {self._url} did not answer ({type(exc).__name__}); is the matcher running "
                "with VERBUND_KEY_SERVICE_TOKEN set, and is VERBUND_KEY_SERVICE_URL its health endpoint?"
            ) from exc

    def _key(self, response: httpx.Response) -> DataKey:
        if response.status_code == 401:
            raise KeyServiceUnavailable(
                f"the key endpoint at {self._url} refused the token: set VERBUND_KEY_SERVICE_TOKEN to the matcher's"
            )
        if response.status_code != 200:
            raise KeyServiceUnavailable(f"the key endpoint at {self._url} answered {response.status_code}")
        body = response.json()
        return DataKey(str(body["key_id"]), base64.urlsafe_b64decode(str(body["secret"]).encode("ascii")))


def key_service_url_field() -> Any:
    """The setting naming the key endpoint, under one name for every service (VERBUND_KEY_SERVICE_URL)."""
    return Field(
        default=None,
        validation_alias=AliasChoices("VERBUND_KEY_SERVICE_URL", "key_service_url"),
        description="The matcher's health endpoint that hands out data keys (e.g. http://127.0.0.1:9001); unset: "
        "names and contacts sealed on the topics cannot be read here, and events carrying them are skipped",
    )


def key_service_token_field() -> Any:
    """The machine credential for the key endpoint, under one name for every service (VERBUND_KEY_SERVICE_TOKEN)."""
    return Field(
        default=None,
        validation_alias=AliasChoices("VERBUND_KEY_SERVICE_TOKEN", "key_service_token"),
        description="Token for the matcher's key endpoint: the matcher serves /keys only when it is set, the "
        "notifier, the console and `verbund publish` present it (a secret: keep it like a password)",
    )


def keyring_of(url: str | None, token: SecretStr | None) -> HttpKeyring | None:
    """The keyring a service's settings describe, or None when it has no key endpoint configured."""
    if url is None or token is None:
        return None
    return HttpKeyring(url, token.get_secret_value())
