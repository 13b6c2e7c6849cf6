"""`verbund contact erase`: erase a firm's training contact or a network's coordinators everywhere (GDPR Art. 17)."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from typing import Annotated

import typer
from verbund_runtime.keyring import KeyServiceUnavailable
from verbund_schemas import ContactErased, ContactErasedData, Keyring, PersonalDataErased, topic

from verbund.kafka_access import BOOTSTRAP_HELP, KafkaUnavailable, resolve_bootstrap
from verbund.publish import send_events
from verbund.sealing import keyring_from_environment

contact_app = typer.Typer(help="Contact persons' personal data: a firm's training contact, a network's coordinators.")

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")


def contact_erasure_event(network: str, firm: str | None, now: dt.datetime | None = None) -> ContactErased:
    """The erasure request. A firm gets new contacts over the years, so each request has an id of its own."""
    at = now or dt.datetime.now(dt.UTC)
    whose = f"firm:{firm}" if firm is not None else "coordinators"
    return ContactErased(
        id=f"erase-contact:{whose}:{at:%Y%m%dT%H%M%S%f}",
        time=at,
        source="verbund-cli",
        subject=network,
        data=ContactErasedData(firm_id=firm),
    )


async def current_key_id(keyring: Keyring, network: str, holder: str) -> str | None:
    try:
        return (await keyring.key_for(network, holder)).key_id
    except PersonalDataErased:
        return None


async def key_gone(keyring: Keyring, network: str, key_id: str, within: float) -> bool:
    deadline = time.monotonic() + within
    while True:
        if await keyring.key(network, key_id) is None:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.5)


@contact_app.command("erase")
def erase_command(
    network: Annotated[str, typer.Option("--network", "-n", help="The network")],
    firm: Annotated[str | None, typer.Option("--firm", "-f", help="Erase this firm's training contact")] = None,
    coordinators: Annotated[bool, typer.Option("--coordinators", help="Erase the network's coordinators")] = False,
    bootstrap: Annotated[str | None, typer.Option("--bootstrap", "-b", help=BOOTSTRAP_HELP)] = None,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for the matcher to destroy the key (0: do not wait)")
    ] = 60.0,
) -> None:
    """Erase a firm's training contact (--firm FIRM) or the network's coordinators (--coordinators).

    Publishes ContactErased: the matcher destroys their key, so every copy of their name and address on every
    topic is unreadable from then on; the firm and the network stay, and the notifier forgets the contact and
    the messages to them. The next contact the firm or the network sends is sealed under a new key.
    """
    if (firm is None) == (not coordinators):
        raise typer.BadParameter("name either --firm FIRM or --coordinators", param_hint="--firm/--coordinators")
    for value, what in ((network, "--network"), (firm, "--firm")):
        if value is not None and not _ID.fullmatch(value):
            raise typer.BadParameter(f"{value!r} is not an id (letters, digits, '.', '_', ':', '-')", param_hint=what)
    holder = f"firm:{firm}" if firm is not None else "network"
    whose = f"the training contact of firm {firm}" if firm is not None else "the coordinators"
    address = resolve_bootstrap(bootstrap)
    keyring = keyring_from_environment() if wait > 0 else None

    async def run() -> bool | None:
        try:
            # The key as it is now: the one the matcher destroys (it makes a new one for the next contact).
            key_id = await current_key_id(keyring, network, holder) if keyring is not None else None
            await send_events([contact_erasure_event(network, firm)], address, topic("inbound"))
            if keyring is None or key_id is None:
                return None
            return await key_gone(keyring, network, key_id, wait)
        finally:
            if keyring is not None:
                await keyring.close()

    try:
        destroyed = asyncio.run(run())
    except KafkaUnavailable as exc:
        typer.echo(f"error: {exc}; nothing was sent", err=True)
        raise typer.Exit(2) from exc
    except KeyServiceUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"Erasure of {whose} in network {network} requested.")
    if destroyed is None:
        if wait > 0:
            typer.echo(
                "Not waiting: set VERBUND_KEY_SERVICE_URL and VERBUND_KEY_SERVICE_TOKEN to see the key destroyed."
            )
    elif destroyed:
        typer.echo("Their key is destroyed: their name and address can no longer be read anywhere.")
    else:
        typer.echo(
            f"error: the matcher has not destroyed the key within {wait:g} s; is it running? The request stays on "
            "the inbound topic and is applied when it reads it.",
            err=True,
        )
        raise typer.Exit(1)
