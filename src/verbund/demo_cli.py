"""The `verbund demo` command: its options, and the run of the demo behind them."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from verbund.stack.locations import REPO_ROOT

DEFAULT_SCENARIO = REPO_ROOT / "scenarios" / "plastics.jsonl"


def demo_command(
    scenario: Annotated[
        Path, typer.Option("--scenario", exists=True, dir_okay=False, help="Inbound events to play (JSON Lines/YAML)")
    ] = DEFAULT_SCENARIO,
    bootstrap: Annotated[
        str | None,
        typer.Option(
            "--bootstrap",
            "-b",
            help="Use this Kafka (default: $KAFKA_BOOTSTRAP_SERVERS, else the broker of `verbund stack up`, else "
            "Docker, else a local broker from the cached jars). The demo's topics get a prefix of their own.",
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1.0, help="Seconds to wait for plans and messages")
    ] = 100.0,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the run directory (databases, messages as .eml files)")
    ] = False,
    messages: Annotated[int, typer.Option("--messages", min=0, help="How many sent messages to list")] = 20,
) -> None:
    """Run the plastics-network demo: Kafka, an SMTP sink, the matcher and the notifier, all on this machine.

    Plays the scenario, waits until the plans are published and the messages delivered, shows each
    learner's rotation, the shortfalls with their reasons and the messages sent, then stops everything.
    """
    # The services and OR-Tools take seconds to import: only when the demo really runs.
    from verbund.demo import Demo, DemoIncomplete, DemoOptions, _quiet_service_logs
    from verbund.kafka_access import KafkaUnavailable

    console = Console()
    # The services log to the root logger; the demo shows its own progress instead of their INFO lines.
    logging.basicConfig(level=logging.WARNING)
    # aiokafka reports a young broker's coordinator elections as errors and retries them itself.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    _quiet_service_logs()
    demo = Demo(DemoOptions(scenario, bootstrap, timeout, keep, messages), console)
    try:
        asyncio.run(demo.run())
    except (DemoIncomplete, KafkaUnavailable) as exc:
        console.print(f"[bold red]demo failed:[/] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    except KeyboardInterrupt:
        console.print("demo interrupted; everything it started has been stopped.")
        raise typer.Exit(130) from None
