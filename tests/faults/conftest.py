"""Fault runs: a broker and PostgreSQL of their own (runs kill them), one input, and the fault-free run of it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fault_injection import KillMatcher, KillNotifier, Rebalance
from fault_input import SHORT_MIX, SHORT_SEED, FaultInput, build_input
from fault_run import SHORT_RUN, Fault, FaultStack, RunReport, run_under_fault


@pytest.fixture(scope="module")
async def fault_stack() -> AsyncIterator[FaultStack]:
    """A local broker and PostgreSQL server for the fault runs only: killing them disturbs no other test."""
    try:
        stack = await FaultStack.start()
    except Exception as exc:
        pytest.fail(
            f"The fault runs need a local Kafka broker and PostgreSQL server of their own (they kill them), and "
            f"one could not be started: {type(exc).__name__}: {exc}\n`make test` installs Java, the Kafka jars and "
            "PostgreSQL; see docs/operations.md, troubleshooting the local broker.",
            pytrace=False,
        )
    yield stack
    await stack.stop()


@pytest.fixture(scope="module")
def short_input() -> FaultInput:
    return build_input(SHORT_MIX, seed=SHORT_SEED, firm_contacts=False)


@pytest.fixture(scope="module")
def fault_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the services of every run write their logs (named for the run), to read when a run fails."""
    return tmp_path_factory.mktemp("fault-runs")


@pytest.fixture(scope="module")
async def side_by_side(fault_stack: FaultStack, short_input: FaultInput, fault_logs: Path) -> dict[str, RunReport]:
    """The fault-free run, and the runs whose fault stays inside their own pipeline (kill -9 of a service, a
    rebalance), at the same time on the shared broker and server: none disturbs another, and together they
    take little longer than one. Faults of the broker or the server hit every run, so those run alone."""
    runs: dict[str, list[Fault]] = {
        "none": [],
        "matcher": [KillMatcher()],
        "notifier": [KillNotifier()],
        "rebalance": [Rebalance()],
    }
    reports = await asyncio.gather(
        *(
            run_under_fault(
                fault_stack, short_input, faults, fault_logs, SHORT_RUN if faults else SHORT_RUN.without_faults(), label
            )
            for label, faults in runs.items()
        )
    )
    return dict(zip(runs, reports, strict=True))


@pytest.fixture(scope="module")
def fault_free(side_by_side: dict[str, RunReport]) -> RunReport:
    """The input without any fault: what every run under a fault is compared with."""
    return side_by_side["none"]
