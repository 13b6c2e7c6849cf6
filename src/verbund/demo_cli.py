"""The `verbund demo` command: its options, the run of the demo behind them, and what is left running."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from verbund.stack.locations import REPO_ROOT

DEFAULT_SCENARIO = REPO_ROOT / "scenarios" / "plastics.jsonl"
STOP_HINT = "Stop everything with: verbund stack down"


def demo_command(
    scenario: Annotated[
        Path, typer.Option("--scenario", exists=True, dir_okay=False, help="Inbound events to play (JSON Lines/YAML)")
    ] = DEFAULT_SCENARIO,
    bootstrap: Annotated[
        str | None,
        typer.Option(
            "--bootstrap",
            "-b",
            help="Use this Kafka (default: $KAFKA_BOOTSTRAP_SERVERS, else the broker of `verbund stack up`, "
            "started when none runs). The demo's topics get a prefix of their own.",
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1.0, help="Seconds to wait for plans and messages")
    ] = 100.0,
    messages: Annotated[int, typer.Option("--messages", min=0, help="How many sent messages to list")] = 20,
) -> None:
    """Run the plastics-network demo: Kafka, a mail sink, the console, the matcher and the notifier on this machine.

    Plays the scenario, waits until the plans are published and the messages delivered, shows each learner's
    rotation, the shortfalls with their reasons and the messages sent, and prints the console's address with a
    demo sign-in. Everything keeps running in the background; `verbund stack down` stops it.
    """
    # The services and OR-Tools take seconds to import: only when the demo really runs.
    from verbund.demo import Demo, DemoIncomplete, DemoOptions
    from verbund.kafka_access import KafkaUnavailable
    from verbund.stack.kafka_local import KafkaStartError
    from verbund.stack.services import ServiceStartError
    from verbund.stack.topics import TopicSetupError

    console = Console()
    logging.basicConfig(level=logging.WARNING)
    # aiokafka reports a young broker's coordinator elections as errors and retries them itself.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    demo = Demo(DemoOptions(scenario, bootstrap, timeout, messages), console)
    try:
        sign_in = asyncio.run(demo.run())
    except (DemoIncomplete, KafkaUnavailable, KafkaStartError, ServiceStartError, TopicSetupError) as exc:
        console.print(f"[bold red]demo failed:[/] {exc}", highlight=False)
        console.print(f"What started keeps running, for a look at its logs (verbund stack status). {STOP_HINT}")
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        console.print(f"demo interrupted; what it started keeps running. {STOP_HINT}")
        raise typer.Exit(130) from None
    # Plain lines, never wrapped or cut: people copy them, scripts and tests read them.
    lines = [
        "Demo complete. Kafka, the mail sink, the console, the matcher and the notifier keep running.",
        f"Console: {sign_in.console_url}",
        f"Sign in as: {sign_in.email}",
        f"Password: {sign_in.password}",
        f"Mail the notifier sent: {sign_in.console_url}mail",
        *(
            [
                f"A firm's own page: {sign_in.firm_page}",
                f"Firm user: {sign_in.firm_email}",
                f"Firm password: {sign_in.firm_password}",
            ]
            if sign_in.firm_email
            else []
        ),
        'Publish more (the plan changes live): eval "$(verbund stack status --env)"; verbund publish FILE',
        STOP_HINT,
    ]
    console.print("\n".join(lines), soft_wrap=True, highlight=False, markup=False)
