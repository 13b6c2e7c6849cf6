"""`verbund plan`: plan every network in an events file offline, through the matcher's own code path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text
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
    PlannedDeficit,
    PlannedShortfall,
    PlannedSuggestion,
    RejectedEvent,
    gap_percent,
    read_plan_file,
    write_plan_file,
)

if TYPE_CHECKING:
    from verbund_matcher.planning.model import Plan, Problem, SeatDeficit


class PlanExit(IntEnum):
    """Exit status of `verbund plan`, so a script can act on the plan without reading it.

    1 is left to Python (an uncaught error) and 2 is also what the option parser uses for bad options.
    """

    COMPLETE = 0  # every network's plan meets every hard rule
    BAD_INPUT = 2  # unreadable or invalid events file, bad --previous or bad options; nothing planned
    PARTIAL = 3  # a plan leaves weeks below a minimum or requirements unplaced; the plan file names each one
    # The validator finds a broken rule the plan does not declare: a planner defect, or a started (frozen)
    # assignment whose seats were withdrawn, which the input asks to keep.
    UNDECLARED_VIOLATION = 4
    REJECTED_EVENTS = 5  # some events contradicted the network's state and were left out; the rest is complete


EXIT_CODES_HELP = (
    "Exit status:\n"
    "0  complete: every plan meets every hard rule\n"
    "2  bad input: invalid events file, options or --previous; nothing planned\n"
    "3  partial: weeks below a minimum or unplaced requirements (see the summary)\n"
    "4  the validator finds a broken rule the plan does not declare\n"
    "5  complete, but some events were rejected and left out\n"
    "If several apply: 4 before 3 before 5. The plan file is written unless 2."
)

# How many deficits, shortfalls and violations of one network the summary shows; the plan file has them all.
SHOWN_PER_LIST = 10


class SolverChoice(StrEnum):
    AUTO = "auto"  # repair when --previous holds a plan for the network, otherwise a full solve
    SOLVE = "solve"  # a full solve; the planner picks its strategy
    REPAIR = "repair"
    # A full solve with one strategy of the planner.
    CONSTRUCT = "construct"
    CPSAT = "cpsat"
    LNS = "lns"


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
    deterministic: bool = False,
) -> NetworkPlan:
    """Build the matcher's Problem for one network, solve or repair it, validate it, and describe it."""
    # The planner pulls in OR-Tools, which is slow to import; only `plan` pays for it.
    from verbund_matcher import planning

    problem = build_problem(state, today=today, previous=previous)
    use_repair = solver is SolverChoice.REPAIR or (solver is SolverChoice.AUTO and bool(previous))
    if use_repair:
        plan = planning.repair(problem)
    else:
        strategy = "auto" if solver in (SolverChoice.AUTO, SolverChoice.SOLVE) else str(solver)
        plan = planning.solve(
            problem, time_limit=time_limit, workers=workers, seed=seed, strategy=strategy, deterministic=deterministic
        )
    violations = list(planning.validate(problem, plan))
    return describe_plan(state, problem, plan, violations)


@dataclass(frozen=True)
class DeficitSpan:
    """Consecutive weeks of one firm x module with the same minimum and the same planned count."""

    firm_id: str
    module_id: str
    first_week: int
    last_week: int
    required: int
    assigned: int


def deficit_spans(deficits: Iterable[SeatDeficit]) -> list[DeficitSpan]:
    """Join a plan's per-week deficits into spans, ordered by firm, module and week."""
    spans: list[DeficitSpan] = []
    for d in sorted(deficits, key=lambda d: (d.firm_id, d.module_id, d.week)):
        last = spans[-1] if spans else None
        if (
            last is not None
            and (last.firm_id, last.module_id, last.required, last.assigned)
            == (d.firm_id, d.module_id, d.required, d.assigned)
            and last.last_week + 1 == d.week
        ):
            spans[-1] = DeficitSpan(d.firm_id, d.module_id, last.first_week, d.week, d.required, d.assigned)
        else:
            spans.append(DeficitSpan(d.firm_id, d.module_id, d.week, d.week, d.required, d.assigned))
    return spans


def describe_deficits(problem: Problem, deficits: Iterable[SeatDeficit]) -> list[PlannedDeficit]:
    described = []
    for span in deficit_spans(deficits):
        weeks = span.last_week - span.first_week + 1
        missing = span.required - span.assigned
        described.append(
            PlannedDeficit(
                firm_id=span.firm_id,
                firm_name=problem.firms[span.firm_id].name if span.firm_id in problem.firms else span.firm_id,
                module_id=span.module_id,
                module_name=(
                    problem.modules[span.module_id].name if span.module_id in problem.modules else span.module_id
                ),
                first_index=span.first_week,
                last_index=span.last_week,
                first_week=week_label(problem, span.first_week),
                last_week=week_label(problem, span.last_week),
                weeks=weeks,
                minimum=span.required,
                planned=span.assigned,
                missing=missing,
                missing_learner_weeks=weeks * missing,
            )
        )
    return described


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
            module_name=problem.modules[s.module_id].name if s.module_id and s.module_id in problem.modules else None,
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
    deficits = describe_deficits(problem, plan.deficits)
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
        complete=not (deficits or shortfalls or violations),
        deficits=deficits,
        missing_learner_weeks=sum(d.missing_learner_weeks for d in deficits),
        unplaced_modules=sum(s.missing for s in shortfalls),
    )


def exit_status(plan_file: PlanFile) -> PlanExit:
    """What the exit status says about a written plan file (see EXIT_CODES_HELP for the order)."""
    if any(n.violations for n in plan_file.networks):
        return PlanExit.UNDECLARED_VIOLATION
    if not plan_file.complete:
        return PlanExit.PARTIAL
    if plan_file.rejected_events:
        return PlanExit.REJECTED_EVENTS
    return PlanExit.COMPLETE


def report_line_problems(console: Console, path: Path, problems: list[LineProblem]) -> None:
    for p in problems:
        console.print(f"[bold red]{path}:{p.line}[/]: {escape(p.message)}", highlight=False)
        for detail in p.details:
            console.print(f"    - {escape(detail)}", highlight=False)


def week_span(first: str, last: str) -> str:
    """ISO week labels as a span: 2028-W10..W14, 2027-W50..2028-W03, or one week."""
    if first == last:
        return first
    if first[:4] == last[:4]:
        return f"{first}..{last[5:]}"
    return f"{first}..{last}"


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def deficit_line(d: PlannedDeficit) -> str:
    span = week_span(d.first_week, d.last_week)
    return f"{d.firm_name}, {d.module_name}: {span} planned {d.planned} of minimum {d.minimum}"


def shortfall_line(s: PlannedShortfall) -> str:
    # The message already names the learner, the group and the module; the id and code are what a
    # coordinator searches the plan file for.
    return f"{s.learner_id} ({s.reason}): {s.message}"


def network_verdict(n: NetworkPlan) -> str:
    if n.complete:
        return "meets every hard rule."
    broken = []
    if n.deficits:
        broken.append(
            f"{plural(len(n.deficits), 'span')} of weeks below a firm's minimum "
            f"({plural(n.missing_learner_weeks, 'learner-week')} missing)"
        )
    if n.shortfalls:
        broken.append(
            f"{plural(len(n.shortfalls), 'requirement')} unplaced ({plural(n.unplaced_modules, 'module')} missing)"
        )
    if n.violations:
        broken.append(f"{plural(len(n.violations), 'broken rule')} the plan does not declare")
    return "does NOT meet every hard rule: " + "; ".join(broken) + "."


def print_indented(console: Console, text: Text, indent: int, first: str = "") -> None:
    """Print `text` wrapped to the console width, every line indented (the first after `first`).

    Rich's Padding and grids fill lines with spaces to the full width, which piped output keeps.
    """
    width = max(console.width - indent, 20)
    for number, line in enumerate(text.wrap(console, width)):
        line.rstrip()
        prefix = first.rjust(indent) if number == 0 else " " * indent
        console.print(Text(prefix) + line, soft_wrap=True)


def render_list(console: Console, title: str, lines: Sequence[str], output: Path, style: str = "") -> None:
    if not lines:
        return
    print_indented(console, Text(f"{title}:", style="bold"), 2)
    for line in lines[:SHOWN_PER_LIST]:
        # Names come from the events file: plain Text, so brackets in them are not read as markup.
        print_indented(console, Text(line, style=style), 6, first="- ")
    if len(lines) > SHOWN_PER_LIST:
        print_indented(console, Text(f"… and {len(lines) - SHOWN_PER_LIST} more in {output}"), 6)


def render_network(console: Console, n: NetworkPlan, output: Path) -> None:
    print_indented(console, Text(f"{n.name} ({n.network_id})", style="bold"), 0)
    figures = [
        f"{plural(n.learners, 'learner')}, {plural(len(n.assignments), 'assignment')}",
        f"{n.solver} / {n.status} in {n.seconds:.1f} s" + (f", {n.moved} moved" if n.moved else ""),
        f"objective {n.objective}"
        + ("" if n.bound is None else f", bound {n.bound}")
        + ("" if n.gap_percent is None else f" (gap {n.gap_percent:.2f} %)"),
    ]
    print_indented(console, Text(" · ".join(figures)), 2)
    print_indented(console, Text(f"The plan {network_verdict(n)}", style="green" if n.complete else "bold red"), 2)
    render_list(console, "Weeks below a firm's minimum", [deficit_line(d) for d in n.deficits], output)
    render_list(console, "Unplaced requirements", [shortfall_line(s) for s in n.shortfalls], output)
    render_list(
        console,
        "Broken rules the plan does not declare (found by the validator)",
        n.violations,
        output,
        style="red",
    )


def render_summary(console: Console, plan_file: PlanFile, output: Path) -> None:
    """What was planned and, plainly, whether each plan meets every hard rule; readable at 80 columns."""
    print_indented(console, Text(f"Plans written to {output}", style="bold"), 0)
    for n in plan_file.networks:
        console.print()
        render_network(console, n, output)
    console.print()
    partial = [n for n in plan_file.networks if not n.complete]
    if not plan_file.networks:
        verdict = Text("No network had learners; nothing was planned.")
    elif not partial:
        verdict = Text("Every plan meets every hard rule.", style="bold green")
    else:
        which = (
            "The plan does not"
            if len(plan_file.networks) == 1
            else f"{len(partial)} of {len(plan_file.networks)} plans do not"
        )
        verdict = Text(
            f"{which} meet every hard rule; {output} names every week below a minimum and every unplaced requirement.",
            style="bold red",
        )
    if plan_file.rejected_events:
        verdict.append(
            f" {plural(len(plan_file.rejected_events), 'event was', 'events were')} rejected and left out "
            "(listed above and in the plan file).",
            style="yellow",
        )
    print_indented(console, verdict, 0)


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
        typer.Option(
            help="auto: repair the --previous plan when there is one, otherwise solve afresh; solve: afresh; "
            "construct, cpsat, lns: afresh with that planner strategy"
        ),
    ] = SolverChoice.AUTO,
    deterministic: Annotated[
        bool,
        typer.Option(
            help="Repeatable to the byte: --time-limit counts the solver's deterministic work (about a second "
            "each on two cores) instead of seconds, and PLAN.json holds no clock readings. Same events, --seed, "
            "--workers and --today: the same file."
        ),
    ] = False,
) -> None:
    """Plan every network in an events file and write the plans to a file.

    Events are applied in file order, per network (the subject), exactly as the matcher applies them. With
    --previous the published plan is kept stable: --solver auto repairs it (keeps what is still valid, moves
    only what must move, as the matcher does after a change); --solver solve plans afresh and counts every
    change to the previous plan against the objective. construct, cpsat and lns solve afresh with that
    strategy of the planner. The summary says whether each plan meets every hard rule; the exit status says
    it too (below).
    """
    out = Console()
    err = Console(stderr=True)
    try:
        with events.open(encoding="utf-8") as handle:
            decoded, invalid = read_events(handle)
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"[bold red]cannot read events file {events}: {exc}[/]", highlight=False)
        raise typer.Exit(PlanExit.BAD_INPUT) from exc
    if invalid:
        report_line_problems(err, events, invalid)
        err.print(
            f"[bold red]{len(invalid)} of the lines in {events} are not valid inbound events; nothing was "
            "planned.[/] Fix those lines and run again.",
            highlight=False,
        )
        raise typer.Exit(PlanExit.BAD_INPUT)
    if not decoded:
        err.print(f"[bold red]{events} holds no events; nothing to plan.[/]", highlight=False)
        raise typer.Exit(PlanExit.BAD_INPUT)

    previous_plan: PlanFile | None = None
    if previous is not None:
        try:
            previous_plan = read_plan_file(previous)
        except PlanFileError as exc:
            err.print(f"[bold red]{exc}[/]", highlight=False)
            raise typer.Exit(PlanExit.BAD_INPUT) from exc

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
        # On stderr, so a piped summary holds no spinner frames.
        with err.status(f"planning {network_id} ({len(state.learners)} learners) …"):
            plans.append(
                plan_network(
                    state,
                    today=day,
                    previous=previous_placements(previous_plan, network_id),
                    solver=solver,
                    time_limit=time_limit,
                    workers=workers,
                    seed=seed,
                    deterministic=deterministic,
                )
            )
    if deterministic:
        # Wall-clock readings would make two runs differ: the file says when its newest event happened instead.
        plans = [p.model_copy(update={"seconds": 0.0}) for p in plans]
        stamps = [e.time for _, e in decoded if e.time is not None]
        created = max(stamps) if stamps else dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    else:
        created = dt.datetime.now(dt.UTC)
    plan_file = PlanFile.of(
        plans,
        created=created,
        events_file=str(events),
        today=day,
        rejected_events=[RejectedEvent(line=r.line, message=r.message) for r in folded.rejected],
    )
    write_plan_file(plan_file, output)
    render_summary(out, plan_file, output)
    raise typer.Exit(exit_status(plan_file))
