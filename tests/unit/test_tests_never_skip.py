"""A run of this project's tests cannot pass by skipping: skips fail, and a missing broker or database fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]


def run_pytest(folder: Path, source: str, *plugins: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run pytest in a subprocess on one test file with this project's plugins; exit code and its report.

    The report is pytest's standard output, whose last line is the summary ("1 failed in 0.1s").
    """
    (folder / "test_sample.py").write_text(source, encoding="utf-8")
    args = [sys.executable, "-m", "pytest", "-q", "-ra", "-p", "no:cacheprovider", "--rootdir", str(folder)]
    args += ["-o", "asyncio_default_fixture_loop_scope=session"]
    for plugin in plugins:
        args += ["-p", plugin]
    done = subprocess.run(
        [*args, str(folder / "test_sample.py")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(TESTS), **(env or {})},
        check=False,
    )
    assert not done.stderr.strip() or done.stdout.strip(), done.stderr
    return done.returncode, done.stdout.strip()


@pytest.mark.parametrize(
    "source",
    [
        "import pytest\n\ndef test_it():\n    pytest.skip('no broker here')\n",
        "import pytest\n\n@pytest.mark.skipif(True, reason='no broker here')\ndef test_it():\n    pass\n",
        "import pytest\n\n@pytest.mark.skip(reason='no broker here')\ndef test_it():\n    pass\n",
        "import pytest\n\n@pytest.fixture\ndef broker():\n    pytest.skip('no broker here')\n\n"
        "def test_it(broker):\n    pass\n",
    ],
    ids=["skip-call", "skipif", "skip-mark", "skip-in-fixture"],
)
def test_a_skipped_test_fails_the_run_with_its_reason(tmp_path: Path, source: str) -> None:
    code, output = run_pytest(tmp_path, source, "skip_policy")

    assert code == 1, output
    assert "was skipped: " in output and "no broker here" in output, output
    assert "make test-unit" in output, output
    assert " skipped" not in output.splitlines()[-1], output


def test_a_module_skipped_at_collection_fails_the_run(tmp_path: Path) -> None:
    source = "import pytest\n\nmissing = pytest.importorskip('verbund_no_such_module')\n\ndef test_it():\n    pass\n"

    code, output = run_pytest(tmp_path, source, "skip_policy")

    assert code != 0, output
    assert "was skipped: " in output and "verbund_no_such_module" in output, output


def test_passing_and_expected_failures_are_left_alone(tmp_path: Path) -> None:
    source = (
        "import pytest\n\ndef test_passes():\n    pass\n\n"
        "@pytest.mark.xfail(reason='known', strict=True)\ndef test_known_bug():\n    assert False\n"
    )

    code, output = run_pytest(tmp_path, source, "skip_policy")

    assert code == 0, output
    assert "1 passed, 1 xfailed" in output, output


@pytest.mark.parametrize("ci", ["", "true", "false"])
def test_an_unreachable_broker_fails_the_tests_that_need_it_whatever_ci_says(tmp_path: Path, ci: str) -> None:
    # Port 1 on localhost: nothing listens there, so the session's broker fixture cannot be had.
    source = "def test_needs_the_broker(kafka_bootstrap):\n    pass\n"

    code, output = run_pytest(tmp_path, source, "conftest", env={"KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1", "CI": ci})

    assert code == 1, output
    assert "A Kafka broker could not be had" in output, output
    assert "KAFKA_BOOTSTRAP_SERVERS" in output and "make test-unit" in output, output
    assert "1 error" in output.splitlines()[-1], output


def test_an_unreachable_database_fails_the_tests_that_need_it(tmp_path: Path) -> None:
    source = "def test_needs_a_database(fresh_postgres_url):\n    pass\n"
    url = "postgresql+asyncpg://verbund:secret@127.0.0.1:1/verbund"

    code, output = run_pytest(tmp_path, source, "conftest", env={"VERBUND_TEST_DATABASE_URL": url})

    assert code == 1, output
    assert "could not be had" in output and "PostgreSQL" in output, output
    assert "1 error" in output.splitlines()[-1], output
