"""Incremental repair after a small change: keep what is still valid, re-place only what must move."""

from __future__ import annotations

from time import perf_counter

from .construct import construct
from .model import Plan, Problem
from .outcome import make_plan


def repair(problem: Problem) -> Plan:
    started = perf_counter()
    return make_plan(problem, construct(problem), solver="repair", started=started)
