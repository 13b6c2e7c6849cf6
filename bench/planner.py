"""Planner benchmark: scenarios × solvers, each run in its own process, printed as a table.

    .venv/bin/python bench/planner.py --scenarios s40,s80 --solvers construct,cpsat,lns,repair --time-limit 60
    .venv/bin/python bench/planner.py --scenarios tight --solvers auto --seeds 0 --time-limit 60

`tight` stands for the 27 networks with demanding weekly minimums (bench/scenarios.py --list). For them the
table also says whether the plan meets every hard rule (minimum seats, requirements) and how its objective
compares with the best plan known for the instance, kept with the plan itself in bench/best_known/. A run that
meets every rule and beats the stored plan replaces it (after the validator accepted it), unless --no-update.

Every run is a fresh subprocess, so peak memory is the child's own `ru_maxrss` (whole process: interpreter,
OR-Tools, problem and solve) and one run cannot warm caches for the next. The scenario goes through the same
path as `verbund plan`: events → NetworkState → build_problem → planning.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def _load_sibling(name: str) -> Any:
    """A sibling script of bench/ by path, as a module."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _load_scenarios() -> Any:
    """bench/scenarios.py by path: a sibling script, and `scenarios/` at the top is a folder of event files."""
    spec = importlib.util.spec_from_file_location("bench_scenarios", Path(__file__).with_name("scenarios.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


scenarios = _load_scenarios()
best_known = _load_sibling("best_known")

# repair withdraws the offer holding the most assignments (worst case); repair-least the one holding fewest.
SOLVERS = ("construct", "cpsat", "lns", "auto", "repair", "repair-least")
# Before every scenario's first week, so nothing is frozen and the whole horizon is planned.
TODAY = dt.date(2026, 11, 2)


def run_one(
    events_path: Path,
    solver: str,
    time_limit: float,
    workers: int,
    seed: int,
    repair_base: str = "auto",
    plan_out: Path | None = None,
    deterministic: bool = False,
) -> dict[str, Any]:
    """One measured run (in the child process)."""
    from verbund_matcher import planning
    from verbund_matcher.domain.problem_builder import build_problem, placement_of
    from verbund_schemas import CapacityWithdrawn

    from verbund.plan_cli import fold_networks, read_events

    with events_path.open(encoding="utf-8") as handle:
        events, invalid = read_events(handle)
    if invalid:
        raise SystemExit(f"{events_path}: {len(invalid)} invalid lines, first: {invalid[0]}")
    folded = fold_networks(events)
    if folded.rejected:
        raise SystemExit(f"{events_path}: rejected events, first: {folded.rejected[0]}")
    (state,) = folded.states.values()
    problem = build_problem(state, today=TODAY)
    result: dict[str, Any] = {"learners": len(problem.learners), "firms": len(problem.firms)}
    if solver.startswith("repair"):
        base = planning.solve(problem, time_limit=time_limit, workers=workers, seed=seed, strategy=repair_base)
        # Withdraw the offer that holds the most assignments: the hardest single capacity loss.
        held: dict[str, int] = {}
        for offer in problem.offers:
            held[offer.id] = sum(
                1
                for a in base.assignments
                if a.firm_id == offer.firm_id
                and a.module_id == offer.module_id
                and offer.first_week <= a.start <= offer.last_week
            )
        # Prefer an offer whose module other firms also offer, so the loss can be absorbed by moving people.
        elsewhere = {
            o.id
            for o in problem.offers
            if any(p.module_id == o.module_id and p.firm_id != o.firm_id for p in problem.offers)
        }
        if solver == "repair-least":
            victim = min((o for o in held if held[o] > 0), key=lambda o: (o not in elsewhere, held[o]))
        else:
            victim = max(held, key=lambda o: (o in elsewhere, held[o]))
        state.apply(
            CapacityWithdrawn.model_validate(
                {
                    "id": f"bench-withdraw-{victim}",
                    "time": dt.datetime.now(dt.UTC),
                    "subject": state.network_id,
                    "data": {"offer_id": victim, "reason": "benchmark"},
                }
            )
        )
        before = problem
        problem = build_problem(state, today=TODAY, previous=[placement_of(problem, a) for a in base.assignments])
        result |= {"withdrawn": victim, "held": held[victim], "base_objective": base.objective}
        started = time.perf_counter()
        # As the matcher does: the last problem and plan let repair re-use explanations nothing changed for.
        plan = planning.repair(problem, last=(before, base))
    else:
        started = time.perf_counter()
        plan = planning.solve(
            problem, time_limit=time_limit, workers=workers, seed=seed, strategy=solver, deterministic=deterministic
        )
    wall = time.perf_counter() - started
    if plan_out is not None:
        plan_out.write_text(json.dumps([list(a) for a in plan.assignments]), encoding="utf-8")
    violations = planning.validate(problem, plan)
    check = planning.evaluate(problem, plan.assignments)
    result |= {
        "objective": plan.objective,
        "evaluated": check.objective,
        "bound": plan.bound,
        "status": plan.status,
        "solver": plan.solver,
        "seconds": round(wall, 3),
        "assignments": len(plan.assignments),
        "shortfalls": len(plan.shortfalls),
        "unplaced": sum(max(1, s.missing) for s in plan.shortfalls),
        "deficit": planning.missing_seats(plan.deficits),
        "violations": len(violations),
        "first_violation": violations[0] if violations else "",
        "moved": plan.moved,
        # Where the solve's time went (construct, feasibility, search, top_up, explain, assembly).
        "phases": {phase: round(seconds, 2) for phase, seconds in plan.phases.items()},
        # Linux reports kilobytes.
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        # CPU seconds of the whole process, every thread: what the run cost whatever else shared the cores.
        "cpu_seconds": round(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]), 1),
    }
    return result


def gap(objective: int | None, bound: int | None) -> float | None:
    if objective is None or bound is None:
        return None
    return 0.0 if bound == objective else 100.0 * (bound - objective) / max(abs(bound), 1)


def spawn(
    events_path: Path, solver: str, args: argparse.Namespace, seed: int, plan_out: Path | None = None
) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--child",
        str(events_path),
        solver,
        str(args.time_limit),
        str(args.workers),
        str(seed),
        args.repair_base,
        str(plan_out or ""),
        "1" if args.deterministic else "0",
    ]
    budget = args.time_limit * (2 if solver.startswith("repair") else 1) + args.grace
    started = time.perf_counter()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=budget, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"no answer within {budget:.0f} s"}
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": f"exit {done.returncode}: {tail}"}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_seconds"] = round(time.perf_counter() - started, 1)
    return result


def print_table(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Planner benchmark", title_justify="left")
    for column in (
        "scenario",
        "seed",
        "solver",
        "learners",
        "objective",
        "bound",
        "gap %",
        "time s",
        "peak MB",
        "validator",
        "shortfalls",
        "moved",
        "status",
    ):
        table.add_column(column, justify="left" if column in ("scenario", "solver", "validator", "status") else "right")
    # LNS proves no bound of its own; every run of a scenario is measured against the best bound any run proved.
    best: dict[tuple[str, int], int] = {}
    for r in rows:
        if r.get("bound") is not None and not r["solver_arg"].startswith("repair"):
            key = (r["scenario"], r["seed"])
            best[key] = min(best.get(key, r["bound"]), r["bound"])
    for r in rows:
        if "error" in r:
            table.add_row(r["scenario"], str(r["seed"]), r["solver_arg"], *["—"] * 9, r["error"])
            continue
        known = r["bound"] if r["bound"] is not None else best.get((r["scenario"], r["seed"]))
        if r["solver_arg"].startswith("repair"):
            known = r["bound"]
        g = gap(r["objective"], known)
        table.add_row(
            r["scenario"],
            str(r["seed"]),
            r["solver_arg"],
            str(r["learners"]),
            str(r["objective"]),
            "—" if r["bound"] is None else str(r["bound"]),
            "—" if g is None else f"{g:.2f}",
            f"{r['seconds']:.2f}",
            f"{r['peak_mb']:.0f}",
            "ok" if r["violations"] == 0 else f"{r['violations']} violations",
            str(r["shortfalls"]),
            str(r["moved"]) if r["solver_arg"].startswith("repair") else "—",
            f"{r['solver']}: {r['status']}",
        )
    console = Console(width=200)
    console.print(table)
    console.print("¹ to the run's own bound, or (no bound of its own) to the best bound proved for the scenario")
    for r in rows:
        if r.get("phases"):
            spent = ", ".join(f"{phase} {seconds:.1f}" for phase, seconds in r["phases"].items())
            console.print(f"{r['scenario']} seed {r['seed']} {r['solver_arg']}, seconds by phase: {spent}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--child":
        path, solver, limit, workers, seed, repair_base, plan_path, deterministic = argv[1:9]
        result = run_one(
            Path(path),
            solver,
            float(limit),
            int(workers),
            int(seed),
            repair_base,
            Path(plan_path) if plan_path else None,
            deterministic == "1",
        )
        print(json.dumps(result))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="tiny,s40,s80", help="comma-separated names (bench/scenarios.py)")
    parser.add_argument("--solvers", default="construct,cpsat,lns,repair", help=f"comma-separated: {SOLVERS}")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve")
    parser.add_argument("--workers", type=int, default=2, help="CP-SAT workers")
    parser.add_argument("--seeds", default="1", help="comma-separated scenario/solver seeds")
    parser.add_argument("--grace", type=float, default=300.0, help="extra seconds before a run counts as hung")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--deterministic", action="store_true", help="budgets in deterministic work (repeatable plans)")
    parser.add_argument("--no-update", action="store_true", help="never replace a best known plan")
    parser.add_argument(
        "--repair-base",
        default="auto",
        help="strategy of the (untimed) solve whose plan repair starts from; construct is quicker to set up",
    )
    args = parser.parse_args(argv)
    solvers = args.solvers.split(",")
    unknown = [s for s in solvers if s not in SOLVERS]
    if unknown:
        parser.error(f"unknown solvers {unknown}; choose from {SOLVERS}")
    rows: list[dict[str, Any]] = []
    names = [n for part in args.scenarios.split(",") for n in (sorted(scenarios.TIGHT) if part == "tight" else [part])]
    with tempfile.TemporaryDirectory(prefix="verbund-bench-") as tmp:
        for name in names:
            for number in (int(s) for s in args.seeds.split(",")):
                events = Path(tmp) / f"{name}-{number}.jsonl"
                events.write_text(scenarios.to_jsonl(scenarios.generate(name, number)), encoding="utf-8")
                for solver in solvers:
                    print(f"… {name} seed {number} {solver}", file=sys.stderr, flush=True)
                    row = {"scenario": name, "seed": number, "solver": solver, "solver_arg": solver}
                    plan_out = Path(tmp) / f"{name}-{number}-{solver}.plan.json"
                    row |= spawn(events, solver, args, number, plan_out)
                    if name in scenarios.TIGHT and "error" not in row:
                        row |= best_known.compare(name, events, plan_out, row, update=not args.no_update)
                    rows.append(row)
                    print(json.dumps(row), file=sys.stderr, flush=True)
    print_table(rows)
    if any(r["scenario"] in scenarios.TIGHT for r in rows):
        best_known.print_family_table([r for r in rows if r["scenario"] in scenarios.TIGHT])
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
