"""`verbund console`: coordinators' accounts and the rebuild of the console's read model."""

from __future__ import annotations

import asyncio
import sys
from typing import Annotated

import typer
from aiokafka.errors import KafkaConnectionError
from verbund_console.app import build
from verbund_console.service.rebuild import rebuild
from verbund_console.settings import ConsoleSettings
from verbund_console.store.database import migrate

from verbund.kafka_access import BOOTSTRAP_HELP, resolve_bootstrap, unreachable_message

console_app = typer.Typer(help="The coordinators' web console: accounts and read model.", no_args_is_help=True)

DATABASE_HELP = "The console's database. Default: $VERBUND_CONSOLE_DATABASE_URL, else sqlite:///verbund-console.db."


def _settings(database: str | None) -> ConsoleSettings:
    settings = ConsoleSettings(consume=False)
    if database:
        settings = settings.model_copy(update={"database_url": database})
    return settings


@console_app.command("add-user")
def add_user(
    email: Annotated[str, typer.Argument(help="The coordinator's email address; it is the sign-in name")],
    network: Annotated[list[str], typer.Option("--network", "-n", help="A network they may see (repeatable)")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input instead of asking")
    ] = False,
    database: Annotated[str | None, typer.Option(help=DATABASE_HELP)] = None,
) -> None:
    """Create a coordinator account (or set a new password) and grant it networks."""
    if "@" not in email:
        raise typer.BadParameter(f"{email!r} is not an email address", param_hint="EMAIL")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 12:
        typer.echo("The password is shorter than 12 characters; choose a longer one.", err=True)
        raise typer.Exit(2)
    settings = _settings(database)

    async def run() -> bool:
        await migrate(settings.database_url)
        console = build(settings)
        try:
            return await console.accounts.add_user(email, password, network)
        finally:
            await console.engine.dispose()

    created = asyncio.run(run())
    what = "Created" if created else "Updated"
    typer.echo(f"{what} {email.strip().lower()}; networks granted: {', '.join(network)}")


@console_app.command("rebuild")
def rebuild_command(
    bootstrap: Annotated[str | None, typer.Option(help=BOOTSTRAP_HELP)] = None,
    database: Annotated[str | None, typer.Option(help=DATABASE_HELP)] = None,
) -> None:
    """Delete the console's read model and fold every topic in again from its start (accounts are kept)."""
    settings = _settings(database)
    servers = resolve_bootstrap(bootstrap)

    async def run() -> dict[str, int]:
        await migrate(settings.database_url)
        console = build(settings)
        try:
            return await rebuild(console.read_model, console.ingest, servers)
        finally:
            await console.engine.dispose()

    try:
        applied = asyncio.run(run())
    except KafkaConnectionError as exc:
        typer.echo(unreachable_message(servers, exc), err=True)
        raise typer.Exit(2) from exc
    typer.echo("Rebuilt the read model: " + ", ".join(f"{role} {n}" for role, n in applied.items()) + " events")
