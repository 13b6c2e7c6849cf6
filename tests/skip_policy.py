"""Pytest plugin: a skipped test or module is reported as a failure, so a run never passes by skipping."""

from __future__ import annotations

from collections.abc import Generator

import pytest

ADVICE = (
    "A test here never skips: what it needs (broker, database, tool) is started or installed by `make test`, "
    "and a missing one is a failure to fix, not a pass. Only the unit tests: `make test-unit`."
)


def _reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    # A skip's longrepr is (path, line, "Skipped: reason"); anything else is shown as it is.
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2])
    return str(longrepr)


def _as_failure(report: pytest.TestReport | pytest.CollectReport) -> None:
    report.outcome = "failed"
    report.longrepr = f"{report.nodeid} was skipped: {_reason(report)}\n{ADVICE}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    # An expected failure (xfail) is reported through the same "skipped" outcome; it is not a skip.
    if report.skipped and not hasattr(report, "wasxfail"):
        _as_failure(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    # A module-level pytest.skip(allow_module_level=True) or importorskip skips a whole file at collection.
    report = yield
    if report.skipped:
        _as_failure(report)
    return report
