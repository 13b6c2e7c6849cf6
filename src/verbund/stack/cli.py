"""`verbund stack up|down|status|fetch`: the local Kafka broker (and PostgreSQL), mail sink and console."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

import typer
from verbund_runtime.kafka import KafkaSecurity
from verbund_schemas.topics import firm_inbound, load_topics

from verbund.stack import background
from verbund.stack.access import (
    FIRM_PRINCIPAL,
    AccessSetupError,
    alter_scram_user,
    firm_of_principal,
    grant,
    grants_for,
    new_password,
    revoke_all,
)
from verbund.stack.kafka_local import (
    KafkaStartError,
    broker_answers,
    fetch_kafka_jars,
    find_java,
    kafka_jars_cached,
    run_coroutine,
)
from verbund.stack.kafka_local import kafka_version as default_kafka_version
from verbund.stack.postgres_local import PostgresStartError
from verbund.stack.services import ServiceStartError, service_running
from verbund.stack.topics import TopicReport, TopicSetupError, ensure_topics

stack_app = typer.Typer(
    help="Run a real Apache Kafka broker (and PostgreSQL), a mail sink and the console locally, without Docker.",
    no_args_is_help=True,
)


def _fail(message: str) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


@stack_app.command()
def up(
    postgres: Annotated[bool, typer.Option("--postgres", help="Also start a PostgreSQL server.")] = False,
    port: Annotated[
        int | None,
        typer.Option(help="Kafka port on 127.0.0.1 (default 9092 if free, else any free port; 0: any free)."),
    ] = None,
    pg_port: Annotated[
        int | None,
        typer.Option(help="PostgreSQL port (default 5433 if free, else any free port; 0: any free)."),
    ] = None,
    smtp_port: Annotated[
        int | None,
        typer.Option(help="Mail sink's SMTP port (default 1025 if free, else any free port; 0: any free)."),
    ] = None,
    console_port: Annotated[
        int | None,
        typer.Option(help="Console's web port (default 8090 if free, else any free port; 0: any free)."),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each server to answer.")] = 120.0,
) -> None:
    """Start the broker, the mail sink and the console in the background, create the topics, say how to use them."""
    try:
        result = background.up(
            postgres=postgres,
            kafka_port=port,
            postgres_port=pg_port,
            timeout=timeout,
            smtp_port=smtp_port,
            console_port=console_port,
        )
    except (KafkaStartError, PostgresStartError, TopicSetupError, ServiceStartError, FileNotFoundError) as exc:
        raise _fail(str(exc)) from None
    state = result.state
    assert state.kafka is not None
    verb = "started" if result.kafka_started else "already running"
    typer.echo(f"Kafka {state.kafka.version} {verb} on {state.kafka.bootstrap_servers} (pid {state.kafka.pid})")
    typer.echo(f"  log: {state.kafka.log_file}")
    typer.echo(
        f"  SASL/SCRAM and ACLs; passwords of admin, matcher, notifier, console, cli in "
        f"{background.kafka_credentials_dir()} (firms: verbund stack add-client FIRM)"
    )
    if result.topics is not None:
        if result.topics.created:
            typer.echo(f"  topics created: {', '.join(result.topics.created)}")
        if result.topics.existing:
            typer.echo(f"  topics present: {', '.join(result.topics.existing)}")
        for name, wanted, actual in result.topics.partition_mismatches:
            typer.secho(f"  topic {name} has {actual} partitions, topics.toml says {wanted}", fg=typer.colors.YELLOW)
    if state.postgres is not None:
        verb = "started" if result.postgres_started else "already running"
        typer.echo(f"PostgreSQL {verb} on 127.0.0.1:{state.postgres.port}")
        typer.echo(f"  url: {state.postgres.url}")
        typer.echo(f"  log: {state.postgres.log_file}")
    for name in (background.MAIL_SINK, background.CONSOLE):
        service = state.services[name]
        verb = "started" if name in result.services_started else "already running"
        typer.echo(f"{name.capitalize()} {verb} on {service.url} (pid {service.pid})")
        typer.echo(f"  log: {service.log_file}")
    typer.echo(f"  messages: {background.mail_dir()} (read them in the console under /mail)")
    typer.echo(
        "  sign-in: verbund console add-user EMAIL --network NETWORK (after the eval below, it adds to this console)"
    )
    typer.echo("\nUse it from this shell:")
    for line in background.export_lines(state):
        typer.echo(f"  {line}")
    typer.echo('or: eval "$(verbund stack status --env)"')
    typer.echo("Stop it with: verbund stack down")


@stack_app.command()
def down() -> None:
    """Stop what `verbund stack up` started and delete its data."""
    result = background.down()
    if not (result.kafka_stopped or result.postgres_stopped or result.services_stopped):
        typer.echo("Nothing was running.")
        return
    for name in result.services_stopped:
        typer.echo(f"{name.capitalize()} stopped.")
    if result.kafka_stopped:
        typer.echo("Kafka stopped.")
    if result.postgres_stopped:
        typer.echo("PostgreSQL stopped.")


@stack_app.command()
def status(
    env: Annotated[
        bool, typer.Option("--env", help='Print only export lines, for eval "$(verbund stack status --env)".')
    ] = False,
) -> None:
    """Show what `verbund stack up` started and whether it answers."""
    state = background.load_state()
    if env:
        for line in background.export_lines(state):
            typer.echo(line)
        return
    running = False
    if state.kafka is not None and background.kafka_running(state.kafka):
        answers = run_coroutine(
            broker_answers(state.kafka.bootstrap_servers, security=background.stack_credentials().admin)
        )
        health = "answers" if answers else "does NOT answer metadata requests (see the log)"
        typer.echo(
            f"Kafka {state.kafka.version}: running on {state.kafka.bootstrap_servers}, pid {state.kafka.pid}, {health}"
        )
        typer.echo(f"  log: {state.kafka.log_file}")
        running = True
    else:
        typer.echo("Kafka: not running")
    if state.postgres is not None and background.postgres_running(state.postgres):
        typer.echo(f"PostgreSQL: running on 127.0.0.1:{state.postgres.port}")
        typer.echo(f"  url: {state.postgres.url}")
        running = True
    else:
        typer.echo("PostgreSQL: not running")
    for name, service in state.services.items():
        if service_running(service):
            typer.echo(f"{name.capitalize()}: running on {service.url}, pid {service.pid}")
            typer.echo(f"  log: {service.log_file}")
            retention = background.retention_status(service) if name == "matcher" else None
            if retention is not None:
                typer.echo(f"  {retention}")
            running = True
        else:
            typer.echo(f"{name.capitalize()}: not running (log: {service.log_file})")
    if state.topic_prefix:
        typer.echo(f"Topic prefix of the services: {state.topic_prefix}")
    sign_in = background.stack_dir() / background.DEMO_SIGN_IN
    if sign_in.is_file():
        typer.echo(f"Demo sign-in: {sign_in}")
    if not running:
        typer.echo("Start it with: verbund stack up [--postgres]")


@stack_app.command()
def topics(
    bootstrap: Annotated[
        str | None,
        typer.Option(
            envvar="KAFKA_BOOTSTRAP_SERVERS",
            help="Kafka to create the topics on (default: $KAFKA_BOOTSTRAP_SERVERS, else the `up` broker).",
        ),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the cluster.")] = 120.0,
) -> None:
    """Create Verbund's topics (infra/topics.toml, VERBUND_TOPIC_PREFIX) on a cluster; existing ones are kept."""
    target = bootstrap or background.running_kafka_bootstrap()
    if not target:
        raise _fail("No Kafka given: pass --bootstrap host:port, set KAFKA_BOOTSTRAP_SERVERS, or `verbund stack up`.")
    stack = background.running_kafka_bootstrap()
    security = background.stack_credentials().admin if target == stack else KafkaSecurity.from_env()
    try:
        report = run_coroutine(_ensure_topics_when_reachable(target, timeout, security))
    except (TopicSetupError, TimeoutError, OSError) as exc:
        raise _fail(f"Could not create the topics on {target}: {exc}") from None
    typer.echo(f"Kafka {target}: created {len(report.created)}, present {len(report.existing)}")
    for name in report.created:
        typer.echo(f"  created {name}")
    for name, wanted, actual in report.partition_mismatches:
        typer.secho(f"  topic {name} has {actual} partitions, topics.toml says {wanted}", fg=typer.colors.YELLOW)


async def _ensure_topics_when_reachable(bootstrap: str, timeout_s: float, security: KafkaSecurity) -> TopicReport:
    # A job next to a starting cluster (compose, Kubernetes) may run before the brokers answer.
    deadline = time.monotonic() + timeout_s
    while not await broker_answers(bootstrap, security=security):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no broker answered within {timeout_s:.0f} s")
        await asyncio.sleep(1.0)
    return await ensure_topics(bootstrap, timeout_s=timeout_s, security=security)


def _firm_principal(firm: str) -> str:
    principal = firm if firm.startswith("firm-") else f"firm-{firm}"
    if not FIRM_PRINCIPAL.match(principal):
        raise _fail(
            f"{firm!r} is not a usable firm principal: lower-case letters, digits, '.', '_' and '-', "
            "at most 63 characters after 'firm-' (e.g. firm-mueller-kunststoff)."
        )
    return principal


def _running_broker() -> tuple[background.KafkaState, KafkaSecurity]:
    state = background.load_state()
    if state.kafka is None or not background.kafka_running(state.kafka):
        raise _fail("The local broker is not running: start it with `verbund stack up`.")
    return state.kafka, background.stack_credentials().admin


@stack_app.command("add-client")
def add_client(
    firm: Annotated[str, typer.Argument(help="The firm's id (its principal is firm-<id>), e.g. mueller-kunststoff.")],
) -> None:
    """Create a firm's machine principal on the local broker and the firm's own inbound topic, the only topic it
    may produce to, and print its password once; again for the same firm gives it a new password (the old one
    stops working)."""
    principal = _firm_principal(firm)
    own_topic = firm_inbound().member(firm_of_principal(principal))
    kafka, admin = _running_broker()
    password = new_password()
    try:
        run_coroutine(ensure_topics(kafka.bootstrap_servers, [own_topic], security=admin))
        alter_scram_user(
            find_java(),
            fetch_kafka_jars(kafka.version),
            kafka.bootstrap_servers,
            admin,
            principal,
            password,
            background.stack_dir(),
        )
        run_coroutine(grant(kafka.bootstrap_servers, admin, principal, grants_for(principal, load_topics())))
    except (AccessSetupError, KafkaStartError, TopicSetupError, TimeoutError) as exc:
        raise _fail(str(exc)) from None
    inbound = own_topic.name
    typer.echo(
        f"Kafka principal {principal} on {kafka.bootstrap_servers}: may produce to {inbound}, nothing else; "
        "the matcher takes every event on it as sent by the firm."
    )
    typer.echo("Its password is shown this once; it is not stored anywhere (`add-client` again makes a new one):")
    typer.echo(f"  VERBUND_KAFKA_USERNAME={principal}")
    typer.echo(f"  VERBUND_KAFKA_PASSWORD={password}")
    typer.echo("  VERBUND_KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT  VERBUND_KAFKA_SASL_MECHANISM=SCRAM-SHA-512")
    typer.echo(
        f"kcat: kcat -b {kafka.bootstrap_servers} -X security.protocol=SASL_PLAINTEXT "
        f"-X sasl.mechanisms=SCRAM-SHA-512 -X sasl.username={principal} -X sasl.password=... -P -t {inbound} -K '\\t'"
    )


@stack_app.command("remove-client")
def remove_client(
    firm: Annotated[str, typer.Argument(help="The firm's id or principal (firm-<id>).")],
) -> None:
    """Revoke a firm's machine principal: its SCRAM credential and every ACL naming it are deleted. The firm's
    topic stays, so what it sent before is still read; its records go with the topic's retention."""
    principal = _firm_principal(firm)
    kafka, admin = _running_broker()
    try:
        alter_scram_user(
            find_java(),
            fetch_kafka_jars(kafka.version),
            kafka.bootstrap_servers,
            admin,
            principal,
            None,
            background.stack_dir(),
        )
        run_coroutine(revoke_all(kafka.bootstrap_servers, admin, principal))
    except (AccessSetupError, KafkaStartError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"Kafka principal {principal} removed: it can no longer sign in, and it has no ACLs left.")


@stack_app.command()
def fetch(
    version: Annotated[
        str | None, typer.Option(help="Kafka release (default: VERBUND_KAFKA_VERSION or 4.1.1).")
    ] = None,
) -> None:
    """Download Apache Kafka's jars from Maven Central into the cache (nothing happens when they are there)."""
    version = version or default_kafka_version()
    cached = kafka_jars_cached(version)
    try:
        libs = fetch_kafka_jars(version)
    except (KafkaStartError, FileNotFoundError) as exc:
        raise _fail(str(exc)) from None
    jars = sum(1 for _ in libs.glob("*.jar"))
    typer.echo(f"Kafka {version}: {jars} jars {'already ' if cached else ''}in {libs}")


if __name__ == "__main__":
    stack_app()
