"""`verbund learner`: erase a learner's personal data everywhere (GDPR Art. 17) and export what is held (Art. 15)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from aiokafka.errors import KafkaError
from verbund_runtime.keyring import HttpKeyring, KeyServiceUnavailable
from verbund_runtime.learner_export import gather
from verbund_schemas import LearnerErased, LearnerErasedData, PersonalDataErased, topic

from verbund.kafka_access import BOOTSTRAP_HELP, KafkaUnavailable, resolve_bootstrap
from verbund.publish import send_events
from verbund.sealing import KEY_SERVICE_TOKEN_ENV, KEY_SERVICE_URL_ENV, keyring_from_environment

learner_app = typer.Typer(help="A learner's personal data: erase it everywhere, or export what is held.")

# The notifier's health endpoint, which serves the messages it holds behind the key endpoint's token.
NOTIFIER_URL_ENV = "VERBUND_NOTIFIER_URL"

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")


def erasure_event(network: str, learner: str, now: dt.datetime | None = None) -> LearnerErased:
    """The erasure request; its id is the same every time, so asking twice erases once (the matcher's inbox)."""
    return LearnerErased(
        id=f"erase:{learner}",
        time=now or dt.datetime.now(dt.UTC),
        source="verbund-cli",
        subject=network,
        data=LearnerErasedData(learner_id=learner),
    )


async def key_destroyed(network: str, learner: str, within: float) -> bool | None:
    """Whether the matcher destroyed the learner's key within `within` seconds; None: no key endpoint configured."""
    keyring = keyring_from_environment()
    if keyring is None:
        return None
    deadline = time.monotonic() + within
    try:
        while True:
            try:
                await keyring.key_for(network, f"learner:{learner}")
            except PersonalDataErased:
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.5)
    finally:
        await keyring.close()


@learner_app.command("erase")
def erase_command(
    learner: Annotated[str, typer.Argument(help="The learner's id")],
    network: Annotated[str, typer.Option("--network", "-n", help="The network the learner belongs to")],
    bootstrap: Annotated[str | None, typer.Option("--bootstrap", "-b", help=BOOTSTRAP_HELP)] = None,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for the matcher to destroy the key (0: do not wait)")
    ] = 60.0,
) -> None:
    """Erase LEARNER: publish LearnerErased; the matcher destroys their key, drops them and replans.

    Every copy of their name and contact on every topic is unreadable from then on; the notifier deletes their
    messages and reminders, the console forgets them. Running it again changes nothing.
    """
    for value, what in ((learner, "LEARNER"), (network, "--network")):
        if not _ID.fullmatch(value):
            raise typer.BadParameter(f"{value!r} is not an id (letters, digits, '.', '_', ':', '-')", param_hint=what)
    address = resolve_bootstrap(bootstrap)
    try:
        asyncio.run(send_events([erasure_event(network, learner)], address, topic("inbound")))
    except KafkaUnavailable as exc:
        typer.echo(f"error: {exc}; nothing was sent", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"Erasure of learner {learner} in network {network} requested (event erase:{learner}).")
    if wait <= 0:
        return
    try:
        destroyed = asyncio.run(key_destroyed(network, learner, wait))
    except KeyServiceUnavailable as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if destroyed is None:
        typer.echo("Not waiting: set VERBUND_KEY_SERVICE_URL and VERBUND_KEY_SERVICE_TOKEN to see the key destroyed.")
    elif destroyed:
        typer.echo("Their key is destroyed: their name and contact can no longer be read anywhere.")
    else:
        typer.echo(
            f"error: the matcher has not destroyed the key within {wait:g} s; is it running? The request stays on "
            "the inbound topic and is applied when it reads it; run this command again to check.",
            err=True,
        )
        raise typer.Exit(1)


@learner_app.command("export")
def export_command(
    learner: Annotated[str, typer.Argument(help="The learner's id")],
    network: Annotated[str, typer.Option("--network", "-n", help="The network the learner belongs to")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="The JSON file to write. Default: learner-LEARNER.json")
    ] = None,
    bootstrap: Annotated[str | None, typer.Option("--bootstrap", "-b", help=BOOTSTRAP_HELP)] = None,
) -> None:
    """Write everything Verbund holds about LEARNER into one JSON file (GDPR Art. 15).

    The registration as the matcher applied it, their current plan and open shortfalls, and every event about
    them the topics still hold — registrations, the plan's history, shortfalls, the delivery log — with names
    and contacts opened. Needs VERBUND_KEY_SERVICE_URL and VERBUND_KEY_SERVICE_TOKEN (the matcher's endpoint);
    with VERBUND_NOTIFIER_URL (the notifier's health endpoint) the messages' texts and calendar entries too.
    """
    for value, what in ((learner, "LEARNER"), (network, "--network")):
        if not _ID.fullmatch(value):
            raise typer.BadParameter(f"{value!r} is not an id (letters, digits, '.', '_', ':', '-')", param_hint=what)
    # First: on the stack's broker this names the stack's key endpoint and notifier unless the shell names others.
    address = resolve_bootstrap(bootstrap)
    url, token = os.environ.get(KEY_SERVICE_URL_ENV), os.environ.get(KEY_SERVICE_TOKEN_ENV)
    if not url or not token:
        typer.echo(
            f"error: set {KEY_SERVICE_URL_ENV} and {KEY_SERVICE_TOKEN_ENV} to the matcher's endpoint and token: "
            "the export opens sealed names and reads the matcher's record through it",
            err=True,
        )
        raise typer.Exit(2)
    target = output or Path(f"learner-{learner}.json")

    async def run() -> dict[str, Any]:
        keyring = HttpKeyring(url, token)
        try:
            return await gather(
                address, keyring, url, token, network, learner, notifier_url=os.environ.get(NOTIFIER_URL_ENV) or None
            )
        finally:
            await keyring.close()

    try:
        exported = asyncio.run(run())
    except (KeyServiceUnavailable, httpx.HTTPError, KafkaError) as exc:
        typer.echo(
            f"error: the export could not be gathered ({type(exc).__name__}: {exc}); nothing was written", err=True
        )
        raise typer.Exit(2) from exc
    # Owner-only: the file holds the learner's personal data in clear text.
    handle = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(exported, out, ensure_ascii=False, indent=2)
        out.write("\n")
    counts = ", ".join(
        f"{len(exported[k])} {k.replace('_', ' ')}" for k in ("registrations", "plan_history", "shortfalls", "messages")
    )
    typer.echo(f"Wrote {target}: {counts}.")
