"""Runs the real `verbund plan` on every named scenario and prints a table: does each plan meet every hard rule?"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parent
VERBUND = Path(sys.executable).with_name("verbund")


def _scenarios() -> object:
    spec = importlib.util.spec_from_file_location("bench_scenarios", HERE / "scenarios.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_scenarios"] = module
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scenarios", nargs="*", help="names (default: every named scenario)")
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    names = args.scenarios or [
        line.split()[0]
        for line in subprocess.run(
            [sys.executable, str(HERE / "scenarios.py"), "--list"], capture_output=True, text=True, check=True
        ).stdout.splitlines()
        if line.strip()
    ]
    table = Table(title=f"verbund plan on every scenario (time limit {args.time_limit:g} s, {args.workers} workers)")
    columns = (
        "scenario",
        "exit",
        "complete",
        "learners",
        "assignments",
        "shortfalls",
        "deficit learner-weeks",
        "violations",
        "solver",
        "wall s",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in ("scenario", "solver") else "right")
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            events, plan = Path(tmp) / f"{name}.jsonl", Path(tmp) / f"{name}.plan.json"
            subprocess.run(
                [sys.executable, str(HERE / "scenarios.py"), name, "--seed", str(args.seed), "-o", str(events)],
                check=True,
                capture_output=True,
            )
            started = time.perf_counter()
            run = subprocess.run(
                [
                    str(VERBUND),
                    "plan",
                    str(events),
                    "-o",
                    str(plan),
                    "--time-limit",
                    str(args.time_limit),
                    "--workers",
                    str(args.workers),
                ],
                capture_output=True,
                text=True,
            )
            wall = time.perf_counter() - started
            if not plan.exists():
                table.add_row(name, str(run.returncode), "", "", "", "", "", "no plan", "", f"{wall:.1f}")
                sys.stderr.write(run.stdout[-2000:] + run.stderr[-2000:])
                continue
            # A partial plan exits 3 and is still written: the verdict comes from the file, not the exit status.
            written = json.loads(plan.read_text())
            networks = written["networks"]
            table.add_row(
                name,
                str(run.returncode),
                "yes" if written.get("complete") else "no",
                str(sum(len(n["sat"]) for n in networks)),
                str(sum(len(n["assignments"]) for n in networks)),
                str(sum(len(n["shortfalls"]) for n in networks)),
                str(written.get("missing_learner_weeks", "")),
                str(sum(len(n["violations"]) for n in networks)),
                ", ".join(sorted({n["solver"] for n in networks})),
                f"{wall:.1f}",
            )
    Console(width=140).print(table)


if __name__ == "__main__":
    main()
