"""`verbund console`: accounts (coordinators, firm users, learners), firms' API tokens and the read model's rebuild."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import sys
from typing import Annotated

import typer
from aiokafka.errors import KafkaConnectionError
from sqlalchemy.ext.asyncio import AsyncEngine
from verbund_console.app import build
from verbund_console.service.rebuild import rebuild
from verbund_console.settings import ConsoleSettings
from verbund_console.store.accounts import FIRM, LEARNER, AccountListing
from verbund_console.store.api_tokens import ApiTokens, TokenListing
from verbund_console.store.database import create_engine, migrate, session_factory

from verbund.kafka_access import BOOTSTRAP_HELP, resolve_bootstrap, unreachable_message

console_app = typer.Typer(
    help="The web console: coordinators' accounts, firms' API tokens and the read model.", no_args_is_help=True
)

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")

DATABASE_HELP = "The console's database. Default: $VERBUND_CONSOLE_DATABASE_URL, else sqlite:///verbund-console.db."


def _settings(database: str | None) -> ConsoleSettings:
    settings = ConsoleSettings(consume=False)
    if database:
        settings = settings.model_copy(update={"database_url": database})
    return settings


@console_app.command("add-user")
def add_user(
    email: Annotated[str, typer.Argument(help="The person's email address; it is the sign-in name")],
    network: Annotated[list[str], typer.Option("--network", "-n", help="A network they may see (repeatable)")],
    firm: Annotated[
        str | None, typer.Option("--firm", help="A firm user of this firm (one network), not a coordinator")
    ] = None,
    learner: Annotated[
        str | None, typer.Option("--learner", help="This learner (one network), not a coordinator")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input instead of asking")
    ] = False,
    database: Annotated[str | None, typer.Option(help=DATABASE_HELP)] = None,
) -> None:
    """Create an account (or set a new password): a coordinator of the networks, or with --firm a firm user, or
    with --learner a learner, of one network."""
    if "@" not in email:
        raise typer.BadParameter(f"{email!r} is not an email address", param_hint="EMAIL")
    if firm is not None and learner is not None:
        raise typer.BadParameter("give --firm or --learner, not both: an account is a firm user or a learner")
    role, subject = (FIRM, firm) if firm is not None else (LEARNER, learner) if learner is not None else (None, None)
    if subject is not None:
        if len(network) != 1:
            raise typer.BadParameter(
                f"a {role} account belongs to one network: give --network once", param_hint="--network"
            )
        if not subject.strip() or len(subject) > 128:
            raise typer.BadParameter(f"{subject!r} is not a {role} id", param_hint=f"--{role}")
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
            # Coordinator grants only for coordinators: a grant is what opens the network's coordinator pages.
            created = await console.accounts.add_user(email, password, network if role is None else [])
            if role is not None and subject is not None:
                await console.accounts.add_member(email, network[0], role, subject.strip())
            return created
        finally:
            await console.engine.dispose()

    created = asyncio.run(run())
    what = "Created" if created else "Updated"
    if role is None:
        typer.echo(f"{what} {email.strip().lower()}; networks granted: {', '.join(network)}")
    else:
        typer.echo(f"{what} {email.strip().lower()}; {role} {subject} of network {network[0]}")


@console_app.command("remove-user")
def remove_user(
    email: Annotated[str, typer.Argument(help="The account's email address")],
    database: Annotated[str | None, typer.Option(help=DATABASE_HELP)] = None,
) -> None:
    """Remove an account with its networks, firms and learner: its open session ends at its next request. The
    firms' API tokens stay (they belong to the firm; revoke-token ends one)."""
    settings = _settings(database)

    async def run() -> bool:
        await migrate(settings.database_url)
        console = build(settings)
        try:
            return await console.accounts.remove_user(email)
        finally:
            await console.engine.dispose()

    email = email.strip().lower()
    if not asyncio.run(run()):
        typer.echo(f"There is no account {email!r}; `verbund console list-users` shows them.", err=True)
        raise typer.Exit(2)
    typer.echo(f"Removed {email}.")


@console_app.command("remove-member")
def remove_member(
    email: Annotated[str, typer.Argument(help="The account's email address")],
    network: Annotated[str, typer.Option("--network", "-n", help="The network of the firm or learner")],
    firm: Annotated[str | None, typer.Option("--firm", help="The firm the account no longer acts for")] = None,
    learner: Annotated[str | None, typer.Option("--learner", help="The learner the account no longer is")] = None,
    database: Annotated[str | None, typer.Option(help=DATABASE_HELP)] = None,
) -> None:
    """Take a firm (--firm) or a learner (--learner) of one network away from an account; the account stays."""
    if (firm is None) == (learner is None):
        raise typer.BadParameter("give --firm or --learner: the one firm or learner to take away")
    role, subject = (FIRM, firm) if firm is not None else (LEARNER, learner or "")
    settings = _settings(database)

    async def run() -> bool:
        await migrate(settings.database_url)
        console = build(settings)
        try:
            return await console.accounts.remove_member(email, network, role, subject)
        finally:
            await console.engine.dispose()

    email = email.strip().lower()
    if not asyncio.run(run()):
        typer.echo(
            f"{email} is not {role} {subject} of network {network}; `verbund console list-users` shows what each "
            "account is.",
            err=True,
        )
        raise typer.Exit(2)
    typer.echo(f"{email} is no longer {role} {subject} of network {network}.")


@console_app.command("list-users")
def list_users(
    network: Annotated[str | None, typer.Option("--network", "-n", help="Only this network's accounts")] = None,
    database: Annotated[str | None, typer.Option(help=DATABASE_HELP)] = None,
) -> None:
    """List accounts: email, role, network and the firm or learner, a line each (never a password hash)."""
    settings = _settings(database)

    async def run() -> list[AccountListing]:
        await migrate(settings.database_url)
        console = build(settings)
        try:
            return await console.accounts.listing(network)
        finally:
            await console.engine.dispose()

    listing = asyncio.run(run())
    if not listing:
        typer.echo("No accounts" + (f" in network {network}." if network else "."))
        return
    typer.echo(f"{'email':<40} {'role':<12} {'network':<24} subject")
    for line in listing:
        role = line.role or "(nothing)"
        typer.echo(f"{line.email:<40} {role:<12} {line.network_id:<24} {line.subject_id}".rstrip())


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


def _tokens(settings: ConsoleSettings) -> tuple[AsyncEngine, ApiTokens]:
    engine = create_engine(settings.database_url)
    return engine, ApiTokens(session_factory(engine))


@console_app.command("issue-token")
def issue_token(
    network: Annotated[str, typer.Option("--network", "-n", help="The network the firm belongs to")],
    firm: Annotated[str, typer.Option("--firm", "-f", help="The firm the token acts for (its firm_id)")],
    name: Annotated[str, typer.Option("--name", help="What uses it, e.g. 'HR system'")],
    days: Annotated[int, typer.Option("--days", min=1, max=3650, help="Days until it expires")] = 90,
    database: Annotated[str | None, typer.Option(help=DATABASE_HELP)] = None,
) -> None:
    """Issue an API token for a firm's system; it is printed once and stored only as its SHA-256."""
    for label, value in (("--network", network), ("--firm", firm)):
        if not _ID.fullmatch(value):
            raise typer.BadParameter(
                f"{value!r} is not an id (letters, digits, '.', '_', ':' or '-')", param_hint=label
            )
    if not name.strip() or len(name) > 200:
        raise typer.BadParameter("name it in 1 to 200 characters, e.g. 'HR system'", param_hint="--name")
    settings = _settings(database)

    async def run() -> tuple[str, str]:
        await migrate(settings.database_url)
        engine, tokens = _tokens(settings)
        try:
            return await tokens.issue(network, firm, name.strip(), days)
        finally:
            await engine.dispose()

    token_id, token = asyncio.run(run())
    typer.echo(f"Token {token_id} for firm {firm} of network {network} ({name.strip()}), valid {days} days.", err=True)
    typer.echo("It is shown this once; keep it in the firm's system as a secret:", err=True)
    typer.echo(token)


@console_app.command("list-tokens")
def list_tokens(
    network: Annotated[str | None, typer.Option("--network", "-n", help="Only this network's tokens")] = None,
    database: Annotated[str | None, typer.Option(help=DATABASE_HELP)] = None,
) -> None:
    """List API tokens: id, network, firm, name, expiry and whether each is active, expired or revoked."""
    settings = _settings(database)

    async def run() -> list[TokenListing]:
        await migrate(settings.database_url)
        engine, tokens = _tokens(settings)
        try:
            return await tokens.listing(network)
        finally:
            await engine.dispose()

    listing = asyncio.run(run())
    if not listing:
        typer.echo("No API tokens" + (f" for network {network}." if network else "."))
        return
    now = dt.datetime.now(dt.UTC)
    typer.echo("id                network / firm                           name                 expires     state")
    for t in listing:
        where = f"{t.network_id} / {t.firm_id}"
        typer.echo(f"{t.token_id:<17} {where:<40} {t.name[:20]:<20} {t.expires_at:%Y-%m-%d}  {t.state(now)}")


@console_app.command("revoke-token")
def revoke_token(
    token_id: Annotated[str, typer.Argument(help="The token's id, as issue-token and list-tokens show it")],
    database: Annotated[str | None, typer.Option(help=DATABASE_HELP)] = None,
) -> None:
    """Revoke an API token at once; requests with it are refused from now on."""
    settings = _settings(database)

    async def run() -> bool:
        await migrate(settings.database_url)
        engine, tokens = _tokens(settings)
        try:
            return await tokens.revoke(token_id)
        finally:
            await engine.dispose()

    if not asyncio.run(run()):
        typer.echo(f"There is no token {token_id!r}; `verbund console list-tokens` shows them.", err=True)
        raise typer.Exit(2)
    typer.echo(f"Revoked token {token_id}.")
