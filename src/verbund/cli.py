"""The `verbund` command: stack, publish, watch, plan, demo, parked, console, learner, contact."""

from __future__ import annotations

import typer

from .console_cli import console_app
from .contact_cli import contact_app
from .demo_cli import demo_command
from .learner_cli import learner_app
from .parked import parked_app
from .plan_cli import EXIT_CODES_HELP, plan_command
from .publish import publish_command
from .stack.cli import stack_app
from .watch import watch_command

app = typer.Typer(help="Verbund: plans training rotations for networks of companies.", no_args_is_help=True)


@app.callback()
def main() -> None:
    """Verbund command line."""


app.command("plan", epilog=EXIT_CODES_HELP)(plan_command)
app.command("publish")(publish_command)
app.command("watch")(watch_command)
app.add_typer(stack_app, name="stack")
app.command("demo")(demo_command)
app.add_typer(parked_app, name="parked")
app.add_typer(console_app, name="console")
app.add_typer(learner_app, name="learner")
app.add_typer(contact_app, name="contact")
