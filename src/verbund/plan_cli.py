"""`verbund plan`: plan every network in an events file offline, through the matcher's own code path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from verbund_matcher.domain.network import NetworkState, Rejection
from verbund_matcher.domain.problem_builder import (
    Placement,
    build_problem,
    week_end_date,
    week_label,
    week_start_date,
)
from verbund_schemas import INBOUND_TYPES, Envelope, InvalidEvent, decode_event

from .plan_file import (
    NetworkPlan,
    PlanFile,
    PlanFileError,
    PlannedAssignment,
    PlannedShortfall,
    PlannedSuggestion,
    gap_percent,
    read_plan_file,
    write_plan_file,
)

if TYPE_CHECKING:
    from verbund_matcher.planning.model import Plan, Problem

# Exit codes, so scripts can tell a bad input file from a planner defect.
EXIT_REJECTED = 1  # some events were well-formed but contradicted the state; the rest was planned
EXIT_INVALID = 2  # the events file (or --previous) is unreadable or has schema errors; nothing planned
EXIT_UNSOUND = 3  # the planner returned a plan the independent validator rejects


class SolverChoice(StrEnum):
    AUTO = "auto"  # repair when --previous holds a plan for the network, otherwise a full solve
    SOLVE = "solve"
    REPAIR = "repair"


@dataclass(frozen=True)
class LineProblem:
    """Something wrong with one line of the events file."""

    line: int
    message: str
    details: tuple[str, ...] = ()


@dataclass
class FoldedNetworks:
    states: dict[str, NetworkState] = field(default_factory=dict)
    rejected: list[LineProblem] = field(default_factory=list)
    applied: int = 0


def read_events(lines: Iterable[str]) -> tuple[list[tuple[int, Envelope]], list[LineProblem]]:
    """Decode every non-blank line; collect every bad line instead of stopping at the first."""
    events: list[tuple[int, Envelope]] = []
    problems: list[LineProblem] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            events.append((number, decode_event(line, INBOUND_TYPES)))
        except InvalidEvent as exc:
            problems.append(LineProblem(number, exc.reason, tuple(exc.errors)))
    return events, problems


def fold_networks(events: Iterable[tuple[int, Envelope]]) -> FoldedNetworks:
    """Apply events in file order to one NetworkState per subject, as the matcher does per Kafka key."""
    folded = FoldedNetworks()
    for number, event in events:
        state = folded.states.setdefault(event.subject, NetworkState(event.subject))
        try:
            state.apply(event)
            folded.applied += 1
        except Rejection as exc:
            folded.rejected.append(LineProblem(number, f"{event.type} {event.id} rejected: {exc.reason}"))
    return folded


def previous_placements(previous: PlanFile | None, network_id: str) -> list[Placement]:
    plan = previous.network(network_id) if previous else None
    if plan is None:
        return []
    return [Placement(a.learner_id, a.module_id, a.firm_id, a.start_week) for a in plan.assignments]


def plan_network(
    state: NetworkState,
    *,
    today: dt.date,
    previous: list[Placement],
    solver: SolverChoice,
    time_limit: float,
    workers: int,
    seed: int,
) -> NetworkPlan:
    """Build the matcher's Problem for one network, solve or repair it, validate it, and describe it."""
    # The planner pulls in OR-Tools, which is slow to import; only `plan` pays for it.
    from verbund_matcher import planning

    problem = build_problem(state, today=today, previous=previous)
    use_repair = solver is SolverChoice.REPAIR or (solver is SolverChoice.AUTO and bool(previous))
    if use_repair:
        plan = planning.repair(problem)
    else:
        plan = planning.solve(problem, time_limit=time_limit, workers=workers, seed=seed)
    violations = list(planning.validate(problem, plan))
    return describe_plan(state, problem, plan, violations)


def describe_plan(state: NetworkState, problem: Problem, plan: Plan, violations: list[str]) -> NetworkPlan:
    learners = {ln.id: ln for ln in problem.learners}
    frozen = set(problem.frozen)
    assignments = []
    for a in sorted(plan.assignments, key=lambda a: (a.learner_id, a.start, a.module_id)):
        end = a.start + problem.modules[a.module_id].duration - 1
        assignments.append(
            PlannedAssignment(
                learner_id=a.learner_id,
                learner_name=learners[a.learner_id].name if a.learner_id in learners else a.learner_id,
                module_id=a.module_id,
                module_name=problem.modules[a.module_id].name,
                firm_id=a.firm_id,
                firm_name=problem.firms[a.firm_id].name if a.firm_id in problem.firms else a.firm_id,
                start_index=a.start,
                end_index=end,
                start_week=week_label(problem, a.start),
                end_week=week_label(problem, end),
                start_date=week_start_date(problem, a.start),
                end_date=week_end_date(problem, end),
                frozen=a in frozen,
            )
        )
    shortfalls = [
        PlannedShortfall(
            learner_id=s.learner_id,
            learner_name=learners[s.learner_id].name if s.learner_id in learners else s.learner_id,
            group_id=s.group_id,
            module_id=s.module_id,
            missing=s.missing,
            reason=str(s.reason),
            message=s.message,
            competing_learners=list(s.competing_learners),
            suggestions=[
                PlannedSuggestion(
                    module_id=g.module_id,
                    firm_id=g.firm_id,
                    first_index=g.first_week,
                    last_index=g.last_week,
                    first_week=week_label(problem, g.first_week),
                    last_week=week_label(problem, g.last_week),
                    seats=g.seats,
                )
                for g in s.suggestions
            ],
        )
        for s in plan.shortfalls
    ]
    return NetworkPlan(
        network_id=state.network_id,
        name=state.config.name if state.config else state.network_id,
        origin_week=week_label(problem, 0),
        origin=problem.origin,
        learners=len(problem.learners),
        firms=len(problem.firms),
        offers=len(problem.offers),
        solver=plan.solver,
        status=plan.status,
        seconds=round(plan.seconds, 3),
        objective=plan.objective,
        bound=plan.bound,
        gap_percent=gap_percent(plan.objective, plan.bound),
        moved=plan.moved,
        sat=dict(plan.sat),
        assignments=assignments,
        shortfalls=shortfalls,
        violations=violations,
    )


def report_line_problems(console: Console, path: Path, problems: list[LineProblem]) -> None:
    for p in problems:
        console.print(f"[bold red]{path}:{p.line}[/]: {p.message}", highlight=False)
        for detail in p.details:
            console.print(f"    - {detail}", highlight=False)


def render_summary(console: Console, plan_file: PlanFile, output: Path) -> None:
    table = Table(title=f"Plans written to {output}", title_justify="left")
    for column in ("network", "learners", "assignments", "shortfalls", "objective", "bound", "gap", "time"):
        table.add_column(column, justify="left" if column == "network" else "right")
    table.add_column("solver / status")
    for n in plan_file.networks:
        table.add_row(
            f"{n.name} ({n.network_id})",
            str(n.learners),
            str(len(n.assignments)),
            str(len(n.shortfalls)),
            str(n.objective),
            "—" if n.bound is None else str(n.bound),
            "—" if n.gap_percent is None else f"{n.gap_percent:.2f} %",
            f"{n.seconds:.1f} s",
            f"{n.solver} / {n.status}" + (f", {n.moved} moved" if n.moved else ""),
        )
    console.print(table)
    shortfalls = [(n, s) for n in plan_file.networks for s in n.shortfalls]
    if shortfalls:
        short = Table(title="Shortfalls", title_justify="left")
        for column in ("network", "learner", "group / module", "reason", "what is missing"):
            short.add_column(column)
        shown = 25
        for n, s in shortfalls[:shown]:
            short.add_row(
                n.network_id,
                f"{s.learner_name} ({s.learner_id})",
                f"{s.group_id} / {s.module_id or '—'}",
                s.reason,
                s.message,
            )
        console.print(short)
        if len(shortfalls) > shown:
            console.print(f"… and {len(shortfalls) - shown} more shortfalls in the plan file.")
    for n in plan_file.networks:
        for v in n.violations:
            console.print(f"[bold red]{n.network_id}: the plan breaks a rule: {v}[/]", highlight=False)


def plan_command(
    events: Annotated[
        Path,
        typer.Argument(
            metavar="EVENTS.jsonl", help="JSON Lines file of inbound events (one event per line), applied in order"
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", metavar="PLAN.json", help="Where to write the plan (JSON)")
    ] = Path("plan.json"),
    time_limit: Annotated[float, typer.Option(min=0.1, help="Seconds the solver may take per network")] = 10.0,
    workers: Annotated[int, typer.Option(min=1, max=64, help="CP-SAT search workers")] = 2,
    seed: Annotated[int, typer.Option(help="Random seed of the solver, for repeatable plans")] = 0,
    previous: Annotated[
        Path | None,
        typer.Option(help="A plan file written by this command: the published plan to keep stable"),
    ] = None,
    today: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Plan as of this date (assignments before it are frozen)"),
    ] = None,
    solver: Annotated[
        SolverChoice,
        typer.Option(help="auto: repair the --previous plan when there is one, otherwise solve afresh"),
    ] = SolverChoice.AUTO,
) -> None:
    """Plan every network in an events file and write the plans to a file.

    Events are applied in file order, per network (the subject), exactly as the matcher applies them. With
    --previous the published plan is kept stable: --solver auto repairs it (keeps what is still valid, moves
    only what must move, as the matcher does after a change); --solver solve plans afresh and counts every
    change to the previous plan against the objective. Exit codes: 0 planned; 1 some events were rejected
    (the rest was planned); 2 unreadable input, nothing planned; 3 a plan failed the independent validator.
    """
    out = Console()
    err = Console(stderr=True)
    try:
        with events.open(encoding="utf-8") as handle:
            decoded, invalid = read_events(handle)
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"[bold red]cannot read events file {events}: {exc}[/]", highlight=False)
        raise typer.Exit(EXIT_INVALID) from exc
    if invalid:
        report_line_problems(err, events, invalid)
        err.print(
            f"[bold red]{len(invalid)} of the lines in {events} are not valid inbound events; nothing was "
            "planned.[/] Fix those lines and run again.",
            highlight=False,
        )
        raise typer.Exit(EXIT_INVALID)
    if not decoded:
        err.print(f"[bold red]{events} holds no events; nothing to plan.[/]", highlight=False)
        raise typer.Exit(EXIT_INVALID)

    previous_plan: PlanFile | None = None
    if previous is not None:
        try:
            previous_plan = read_plan_file(previous)
        except PlanFileError as exc:
            err.print(f"[bold red]{exc}[/]", highlight=False)
            raise typer.Exit(EXIT_INVALID) from exc

    folded = fold_networks(decoded)
    if folded.rejected:
        report_line_problems(err, events, folded.rejected)
        err.print(
            f"[yellow]{len(folded.rejected)} events were rejected (left out, as the matcher would); "
            "the rest is planned.[/]",
            highlight=False,
        )

    day = today.date() if today else dt.date.today()
    plans = []
    for network_id, state in folded.states.items():
        if not state.learners:
            err.print(f"[yellow]network {network_id!r} has no learners; nothing to plan there.[/]")
            continue
        with out.status(f"planning {network_id} ({len(state.learners)} learners) …"):
            plans.append(
                plan_network(
                    state,
                    today=day,
                    previous=previous_placements(previous_plan, network_id),
                    solver=solver,
                    time_limit=time_limit,
                    workers=workers,
                    seed=seed,
                )
            )
    plan_file = PlanFile(created=dt.datetime.now(dt.UTC), events_file=str(events), today=day, networks=plans)
    write_plan_file(plan_file, output)
    render_summary(out, plan_file, output)
    if any(n.violations for n in plans):
        raise typer.Exit(EXIT_UNSOUND)
    if folded.rejected:
        raise typer.Exit(EXIT_REJECTED)
