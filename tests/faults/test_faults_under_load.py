"""Faults under load: the services as processes, records at a steady rate, and one fault in the middle of them.

Each run is compared with the fault-free run of the same input (the `fault_free` fixture): the matcher's state
and each record's outcome must be the same, nothing lost or doubled on any topic after dedup by id, the plan the
topic replays must be the matcher's and pass the validator, and every mail must arrive, once. A notifier killed
while the mail server was receiving a mail does not send it again: it reports it as NotificationFailed, uncertain
(counted in the table's `uncertain` column, not as lost).
`make chaos` (bench/chaos.py) runs longer variants with several faults each and prints the table.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fault_checks import differences, objective_lines
from fault_injection import KillBroker, StopPostgres
from fault_input import FaultInput
from fault_run import SHORT_RUN, Fault, FaultStack, RunReport, run_under_fault, table

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]


def findings(report: RunReport, reference: RunReport | None, allowed_mail_repeats: int = 0) -> list[str]:
    """Everything wrong with a run, one line each (empty: the run is as it must be)."""
    verdict = report.verdict
    found = [*report.problems, *(f"lost: {line}" for line in verdict.lost)]
    found += [f"duplicated: {line}" for line in verdict.duplicated]
    if verdict.mail_repeats > allowed_mail_repeats:
        found.append(f"{verdict.mail_repeats} mails arrived twice (at most {allowed_mail_repeats} allowed)")
    if reference is not None:
        found += [f"differs from the fault-free run: {line}" for line in differences(verdict, reference.verdict)]
    return found


def summary(report: RunReport, reference: RunReport) -> str:
    lines, explanations = objective_lines(report.verdict, reference.verdict)
    windows = [
        f"{w.fault}: {w.detail or 'injected'}; caught up "
        + ("never" if w.recovery is None else f"{w.recovery:.1f} s after it ended")
        for w in report.windows
    ]
    return "\n".join([table([reference, report]), *windows, *lines, *explanations, *report.verdict.notes])


def judge(report: RunReport, fault_free: RunReport, allowed_mail_repeats: int = 0) -> None:
    print(summary(report, fault_free))
    found = findings(report, fault_free, allowed_mail_repeats)
    assert found == [], "\n".join([*found[:40], summary(report, fault_free)])
    assert len(report.windows) == 1 and report.windows[0].recovery is not None


async def alone(fault: Fault, label: str, stack: FaultStack, short_input: FaultInput, logs: Path) -> RunReport:
    return await run_under_fault(stack, short_input, [fault], logs, SHORT_RUN, label)


def test_without_faults_every_record_is_applied_or_rejected_once_and_the_replayed_plan_is_valid(
    fault_free: RunReport, short_input: FaultInput
) -> None:
    found = findings(fault_free, None)
    assert found == [], "\n".join(found[:40])
    outcomes = fault_free.verdict.outcomes
    poison = {i for i, item in enumerate(short_input.items) if item.poison}
    assert poison and {outcomes[i] for i in poison} == {"rejected"}
    assert {outcomes[i] for i in range(len(short_input.items)) if i not in poison} == {"applied"}
    assert set(fault_free.verdict.plans) == set(short_input.networks)
    assert all(plan.assignments > 0 for plan in fault_free.verdict.plans.values())
    assert fault_free.verdict.mails > 0


def test_kill_9_of_the_matcher_under_load_loses_and_doubles_nothing(
    side_by_side: dict[str, RunReport], fault_free: RunReport
) -> None:
    judge(side_by_side["matcher"], fault_free)


def test_kill_9_of_the_notifier_under_load_loses_no_mail_and_repeats_none(
    side_by_side: dict[str, RunReport], fault_free: RunReport
) -> None:
    judge(side_by_side["notifier"], fault_free, allowed_mail_repeats=0)


def test_a_rebalance_onto_a_second_matcher_whose_predecessor_is_killed_loses_and_doubles_nothing(
    side_by_side: dict[str, RunReport], fault_free: RunReport
) -> None:
    judge(side_by_side["rebalance"], fault_free)


async def test_kill_9_of_the_broker_and_a_restart_under_load_lose_and_double_nothing(
    fault_stack: FaultStack, short_input: FaultInput, fault_logs: Path, fault_free: RunReport
) -> None:
    judge(await alone(KillBroker(), "broker", fault_stack, short_input, fault_logs), fault_free)


async def test_postgres_stopped_immediately_and_restarted_under_load_loses_nothing_and_repeats_no_mail(
    fault_stack: FaultStack, short_input: FaultInput, fault_logs: Path, fault_free: RunReport
) -> None:
    # A mail sent while the server is away is recorded as sent once it is back; it does not go again.
    report = await alone(StopPostgres(), "postgres", fault_stack, short_input, fault_logs)
    judge(report, fault_free, allowed_mail_repeats=0)
