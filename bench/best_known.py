"""Best plans known for the benchmark family, kept with the plans themselves, and the family's result table.

`python bench/best_known.py` stores the generator's reference plans where nothing better is known. Each
instance's best plan is a gzip'd JSON file in bench/best_known/: the objective, what found it, and every
assignment. It is never trusted as stored: before any comparison the plan is rebuilt against the instance's
events and checked by the validator, and its objective is recomputed by the evaluator.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import statistics
from pathlib import Path
from typing import Any

STORE = Path(__file__).with_name("best_known")
# The day the benchmark plans as of: before every scenario's first week, so nothing is frozen.
TODAY = dt.date(2026, 11, 2)


def _problem(events_path: Path) -> Any:
    from verbund_matcher.domain.problem_builder import build_problem

    from verbund.plan_cli import fold_networks, read_events

    with events_path.open(encoding="utf-8") as handle:
        events, invalid = read_events(handle)
    if invalid:
        raise SystemExit(f"{events_path}: {len(invalid)} invalid lines")
    (state,) = fold_networks(events).states.values()
    return build_problem(state, today=TODAY)


def _judge(problem: Any, rows: list[list[Any]]) -> tuple[bool, int]:
    """(meets every hard rule, design objective) of a plan given as [learner, module, firm, start] rows."""
    from verbund_matcher import planning
    from verbund_matcher.planning.model import Assignment, Plan

    assignments = tuple(Assignment(str(a), str(b), str(c), int(d)) for a, b, c, d in rows)
    evaluation = planning.evaluate(problem, assignments)
    plan = Plan(assignments=assignments, sat=dict(evaluation.sat), objective=evaluation.objective)
    complete = (
        not planning.validate(problem, plan)
        and not planning.seat_deficits(problem, assignments)
        and not planning.explain(problem, assignments)
    )
    return complete, evaluation.objective


def load(name: str) -> dict[str, Any] | None:
    path = STORE / f"{name}.json.gz"
    if not path.exists():
        return None
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        stored: dict[str, Any] = json.load(handle)
    return stored


def save(name: str, objective: int, found_by: str, rows: list[list[Any]]) -> None:
    STORE.mkdir(exist_ok=True)
    record = {"instance": name, "objective": objective, "found_by": found_by, "assignments": sorted(rows)}
    # mtime=0: the same plan gives the same bytes, so git sees only real changes.
    with (
        (STORE / f"{name}.json.gz").open("wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed,
    ):
        packed.write(json.dumps(record, separators=(",", ":")).encode("utf-8"))


def compare(name: str, events_path: Path, plan_out: Path, row: dict[str, Any], *, update: bool) -> dict[str, Any]:
    """Judge a run's plan against the instance and the best known plan; store it when it is the new best."""
    problem = _problem(events_path)
    rows = json.loads(plan_out.read_text(encoding="utf-8"))
    complete, objective = _judge(problem, rows)
    best = load(name)
    best_objective: int | None = None
    if best is not None:
        best_complete, best_objective = _judge(problem, best["assignments"])
        if not best_complete or best_objective != best["objective"]:
            raise SystemExit(f"bench/best_known/{name}.json.gz no longer holds for the instance; remove or re-run")
    updated = False
    if complete and (best_objective is None or objective > best_objective) and update:
        found_by = f"{row['solver_arg']} seed {row['seed']}, {row.get('seconds', 0):.0f} s"
        save(name, objective, found_by, rows)
        best_objective, updated = objective, True
    ratio = objective / best_objective if complete and best_objective else None
    return {"complete": complete, "best_known": best_objective, "ratio": ratio, "updated": updated}


def print_family_table(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Demanding weekly minimums (27 instances, feasible by construction)", title_justify="left")
    columns = ("instance", "solver", "learners", "hard rules", "deficit", "unplaced", "objective", "best known")
    for column in (*columns, "ratio", "gap to bound %", "time s", "peak MB"):
        table.add_column(column, justify="left" if column in ("instance", "solver", "hard rules") else "right")
    ratios: list[float] = []
    complete = 0
    for r in rows:
        if "error" in r:
            table.add_row(r["scenario"], r["solver_arg"], *["—"] * 10, r["error"])
            continue
        complete += int(r["complete"])
        if r["ratio"] is not None:
            ratios.append(r["ratio"])
        bound_gap = (
            f"{100.0 * (r['bound'] - r['objective']) / max(abs(r['bound']), 1):.2f}" if r["bound"] is not None else "—"
        )
        table.add_row(
            r["scenario"],
            r["solver_arg"],
            str(r["learners"]),
            "met" if r["complete"] else "BROKEN",
            str(r["deficit"]),
            str(r["unplaced"]),
            str(r["objective"]),
            "—" if r["best_known"] is None else str(r["best_known"]) + (" (new)" if r["updated"] else ""),
            "—" if r["ratio"] is None else f"{r['ratio']:.3f}",
            bound_gap,
            f"{r['seconds']:.1f}",
            f"{r['peak_mb']:.0f}",
        )
    console = Console(width=200)
    console.print(table)
    measured = [r for r in rows if "error" not in r]
    console.print(f"every hard rule met: {complete} of {len(measured)}")
    if ratios:
        console.print(
            f"objective / best known, plans meeting every rule: median {statistics.median(ratios):.3f}, "
            f"worst {min(ratios):.3f} (a plan breaking a rule has no ratio)"
        )


def seed_with_references() -> None:
    """Store each instance's reference plan where nothing better is known: a floor any complete plan must beat."""
    import importlib.util
    import sys
    import tempfile

    spec = importlib.util.spec_from_file_location("bench_scenarios", Path(__file__).with_name("scenarios.py"))
    assert spec is not None and spec.loader is not None
    scenarios = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = scenarios
    spec.loader.exec_module(scenarios)
    for name, (size, seed) in scenarios.TIGHT.items():
        events, reference = scenarios.tight(size, seed)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "events.jsonl"
            path.write_text(scenarios.to_jsonl(events), encoding="utf-8")
            problem = _problem(path)
        shift = (dt.date.fromisocalendar(2027, 1, 1) - problem.origin).days // 7
        rows: list[list[Any]] = [[s, m, f, w + shift] for s, m, f, w in reference]
        complete, objective = _judge(problem, rows)
        if not complete:
            raise SystemExit(f"{name}: the reference plan breaks a rule; the generator is wrong")
        stored = load(name)
        if stored is None or stored["objective"] < objective:
            save(name, objective, "the generator's reference plan", rows)
        print(f"{name}: reference {objective}, best known {max(objective, stored['objective'] if stored else 0)}")


if __name__ == "__main__":
    seed_with_references()
