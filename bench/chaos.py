"""Faults under load, the long variants: several faults of each kind while records flow, and the fault table.

python bench/chaos.py                             # every fault kind, twice each, plus one run with each kind once
python bench/chaos.py --faults broker postgres --repeat 2 --rate 4
python bench/chaos.py --copies 2                  # twice the networks (and records)

The harness is the one the short variants in `make test` use (tests/faults): a local broker and PostgreSQL
server of its own (it kills them), the matcher and notifier as processes, an SMTP sink, and a mix of generated
networks with poison records among them sent at a steady rate. After each run it checks what the run left
behind against the fault-free run of the same input and prints one row per run: fault, records, poison,
lost, duplicated (after dedup by id), raw repeats on the topics, mails sent twice, and the recovery time
(from a fault's end until the matcher had applied and published, and the notifier read and mailed, all that
came before it; the longest of the run's faults). Exit status 1 when any run lost or doubled something.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path[:0] = [str(_TESTS / "faults"), str(_TESTS)]

from fault_checks import differences, objective_lines  # noqa: E402 - found through the path set just above
from fault_injection import (  # noqa: E402
    KillBroker,
    KillMatcher,
    KillMatcherWhileRelaying,
    KillNotifier,
    Rebalance,
    StopPostgres,
)
from fault_input import LONG_MIX, SHORT_MIX, build_input  # noqa: E402
from fault_run import Fault, FaultStack, RunReport, RunSettings, run_under_fault, table  # noqa: E402

KINDS: dict[str, type[Fault]] = {
    "matcher": KillMatcher,
    "relay": KillMatcherWhileRelaying,
    "notifier": KillNotifier,
    "broker": KillBroker,
    "postgres": StopPostgres,
    "rebalance": Rebalance,
}


def schedule(count: int, rng: random.Random) -> tuple[float, ...]:
    """When each of `count` faults starts, as shares of the sending time: at random within equal slices."""
    return tuple((k + rng.uniform(0.15, 0.85)) / count for k in range(count))


def findings(report: RunReport, reference: RunReport) -> list[str]:
    verdict = report.verdict
    # Mail is sent at most once: one cut off while being handed over is reported (uncertain), never resent.
    found = [*report.problems, *(f"lost: {line}" for line in verdict.lost)]
    found += [f"duplicated: {line}" for line in verdict.duplicated]
    if verdict.mail_repeats:
        found.append(f"{verdict.mail_repeats} mails arrived twice")
    if report is not reference:
        found += [f"differs from the fault-free run: {line}" for line in differences(verdict, reference.verdict)]
    return found


def describe(report: RunReport, reference: RunReport) -> list[str]:
    out = [f"## {report.fault} ({report.seconds:.0f} s; phases: "]
    out[0] += ", ".join(f"{name} {seconds:.0f} s" for name, seconds in report.phases.items()) + ")"
    for w in report.windows:
        matcher = "never" if w.matcher_recovery is None else f"{w.matcher_recovery:.1f} s"
        everything = "never" if w.recovery is None else f"{w.recovery:.1f} s"
        out.append(f"- {w.fault}: {w.detail or 'injected'}; matcher caught up {matcher}, pipeline {everything}")
    lines, explanations = objective_lines(report.verdict, reference.verdict)
    if report is not reference:
        out += [f"- {line}" for line in lines]
        out += [f"- explained: {line}" for line in explanations]
    published = ", ".join(f"{n} {role}" for role, n in sorted(report.verdict.published.items()))
    out.append(f"- published: {published}; raw repeats: {dict(report.verdict.raw_repeats) or 'none'}")
    out += [f"- note: {line}" for line in report.verdict.notes]
    found = findings(report, reference)
    out += [f"- FINDING: {line}" for line in found[:30]]
    if len(found) > 30:
        out.append(f"- … and {len(found) - 30} more")
    return out


async def run(args: argparse.Namespace, logs: Path) -> list[RunReport]:
    # SIGTERM (and SIGINT, which a shell's background job ignores) stop the run with its clean-up: services,
    # broker and server are stopped, not left behind.
    main_task = asyncio.current_task()
    assert main_task is not None
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(stop_signal, main_task.cancel)
    mix = SHORT_MIX if args.short else LONG_MIX
    fault_input = build_input(mix, seed=args.seed, copies=args.copies, firm_contacts=not args.short)
    print(
        f"input: {len(fault_input.items)} records ({fault_input.poison} poison) of {len(fault_input.networks)} "
        f"networks at {args.rate:g}/s; service logs in {logs}",
        file=sys.stderr,
    )
    rng = random.Random(args.seed)
    plans: list[tuple[str, list[Fault]]] = [("none", [])]
    for name in args.faults:
        plans.append((name, [KINDS[name]() for _ in range(args.repeat)]))
    if args.mixed:
        mixed = [KINDS[name]() for name in args.faults]
        rng.shuffle(mixed)
        plans.append(("mixed", mixed))
    stack = await FaultStack.start()
    reports: list[RunReport] = []
    try:
        for label, faults in plans:
            settings = RunSettings(
                rate=args.rate, fault_times=schedule(len(faults), rng), seed=args.seed, drain_timeout=args.drain_timeout
            )
            started = time.monotonic()
            print(f"run {label}: {len(faults)} fault(s) …", file=sys.stderr)
            report = await run_under_fault(stack, fault_input, faults, logs, settings, label)
            if label == "mixed":
                report.fault = f"all kinds, once each ({len(faults)})"
            print(f"run {label}: {time.monotonic() - started:.0f} s", file=sys.stderr)
            reports.append(report)
    finally:
        await stack.stop()
    return reports


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", nargs="+", choices=sorted(KINDS), default=list(KINDS), help="fault kinds to run")
    parser.add_argument("--repeat", type=int, default=2, help="faults of its kind in each run")
    parser.add_argument("--no-mixed", dest="mixed", action="store_false", help="leave out the run with every kind")
    # The notifier keeps up with about this much of the long mix on two cores; faster, its own lag (not the
    # faults) would set the recovery times.
    parser.add_argument("--rate", type=float, default=4.0, help="inbound records per second")
    parser.add_argument("--copies", type=int, default=1, help="copies of the network mix (records grow with it)")
    parser.add_argument("--seed", type=int, default=7, help="input, fault times and planner seed")
    parser.add_argument("--drain-timeout", type=float, default=600.0, help="seconds a run may take to catch up")
    parser.add_argument("--short", action="store_true", help="the small network mix of the short variants")
    parser.add_argument("--logs", type=Path, default=None, help="where service logs go (default: a new temp dir)")
    args = parser.parse_args(argv)
    logs = args.logs or Path(tempfile.mkdtemp(prefix="verbund-chaos-"))
    logs.mkdir(parents=True, exist_ok=True)
    reports = asyncio.run(run(args, logs))
    reference = reports[0]
    print(table(reports))
    print()
    failed = False
    for report in reports:
        print("\n".join(describe(report, reference)))
        failed = failed or bool(findings(report, reference))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
