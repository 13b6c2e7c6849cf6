"""The local stack's key endpoint and the notifier's messages: the token kept private, each address given to the
console at once and to the command line only while its service runs."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from verbund.kafka_access import use_stack_credentials
from verbund.stack import background
from verbund.stack.background import KafkaState, StackState
from verbund.stack.services import ServiceState


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> StackState:
    """A recorded stack in a run directory of the test's own, with a key port and no key endpoint in the shell."""
    monkeypatch.setenv("VERBUND_RUN_DIR", str(tmp_path))
    for name in ("VERBUND_KEY_SERVICE_URL", "VERBUND_KEY_SERVICE_TOKEN", "VERBUND_NOTIFIER_URL"):
        # Set, then removed: monkeypatch then restores the variable as it was after the test, whatever the code
        # under test wrote into os.environ meanwhile.
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    state = StackState(key_service_port=18181, notifier_port=18184)
    background.save_state(state)
    return state


def _matcher_running(state: StackState) -> None:
    # This very process stands in for the matcher: its pid is alive and its command line names python.
    state.services["matcher"] = ServiceState(
        name="matcher", pid=os.getpid(), module="python", log_file="matcher.log", url="http://127.0.0.1:18181"
    )
    background.save_state(state)


def _notifier_running(state: StackState) -> None:
    state.services["notifier"] = ServiceState(
        name="notifier", pid=os.getpid(), module="python", log_file="notifier.log", url="http://127.0.0.1:18184"
    )
    background.save_state(state)


def test_the_key_token_is_made_once_readable_by_its_owner_only_and_kept(stack: StackState) -> None:
    token = background.key_service_token()
    path = background.stack_dir() / "key-service-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(token) >= 32 and background.key_service_token() == token


def test_the_matcher_is_started_with_the_token_the_master_key_file_and_the_recorded_port(stack: StackState) -> None:
    started = background.matcher_key_environment(background.load_state())
    assert started == {
        "VERBUND_HEALTH_PORT": "18181",
        "VERBUND_KEY_SERVICE_TOKEN": background.key_service_token(),
        "VERBUND_MASTER_KEY_FILE": str(background.stack_dir() / "matcher-master.key"),
    }


def test_the_command_line_gets_the_key_endpoint_only_while_the_stacks_matcher_runs(stack: StackState) -> None:
    assert background.stack_key_service() == {}
    assert not any("VERBUND_KEY_SERVICE" in line for line in background.export_lines(background.load_state()))

    _matcher_running(stack)
    assert background.stack_key_service() == {
        "VERBUND_KEY_SERVICE_URL": "http://127.0.0.1:18181",
        "VERBUND_KEY_SERVICE_TOKEN": background.key_service_token(),
    }
    lines = background.export_lines(background.load_state())
    assert "export VERBUND_KEY_SERVICE_URL=http://127.0.0.1:18181" in lines
    # The token is read from its file when the line runs: `stack status --env` never prints it.
    assert not any(background.key_service_token() in line for line in lines)
    assert any(line.startswith('export VERBUND_KEY_SERVICE_TOKEN="$(cat ') for line in lines)


def test_a_command_talking_to_the_stacks_broker_seals_through_its_matcher_unless_the_shell_names_another(
    stack: StackState, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack.kafka = KafkaState(
        pid=os.getpid(), bootstrap_servers="127.0.0.1:19092", run_dir="x", log_file="x", version="4"
    )
    _matcher_running(stack)
    # The recorded pid is not a broker: say it runs, as `kafka_running` would for the stack's own.
    monkeypatch.setattr(background, "kafka_running", lambda _: True)
    monkeypatch.setattr(background, "principal_environment", lambda _: {})

    assert use_stack_credentials("127.0.0.1:19092")
    assert os.environ["VERBUND_KEY_SERVICE_URL"] == "http://127.0.0.1:18181"
    assert os.environ["VERBUND_KEY_SERVICE_TOKEN"] == background.key_service_token()

    monkeypatch.setenv("VERBUND_KEY_SERVICE_URL", "https://keys.example.org")
    assert use_stack_credentials("127.0.0.1:19092")
    assert os.environ["VERBUND_KEY_SERVICE_URL"] == "https://keys.example.org"


def test_the_console_is_told_the_key_endpoint_and_the_notifiers_messages_before_either_service_runs(
    stack: StackState,
) -> None:
    handed = background.console_endpoints(background.load_state())
    assert handed == {
        "VERBUND_KEY_SERVICE_URL": "http://127.0.0.1:18181",
        "VERBUND_NOTIFIER_URL": "http://127.0.0.1:18184",
    }
    # Addresses only: the token reaches the console apart from what the state file records.
    assert background.key_service_token() not in str(handed)


def test_the_command_line_gets_the_notifiers_messages_only_while_the_stacks_notifier_runs(stack: StackState) -> None:
    _matcher_running(stack)
    assert "VERBUND_NOTIFIER_URL" not in background.stack_endpoints()
    assert not any("VERBUND_NOTIFIER_URL" in line for line in background.export_lines(background.load_state()))

    _notifier_running(stack)
    assert background.stack_endpoints() == {
        "VERBUND_KEY_SERVICE_URL": "http://127.0.0.1:18181",
        "VERBUND_KEY_SERVICE_TOKEN": background.key_service_token(),
        "VERBUND_NOTIFIER_URL": "http://127.0.0.1:18184",
    }
    assert "export VERBUND_NOTIFIER_URL=http://127.0.0.1:18184" in background.export_lines(background.load_state())


def test_a_learner_export_on_the_stacks_broker_reads_the_stacks_notifier_unless_the_shell_names_another(
    stack: StackState, monkeypatch: pytest.MonkeyPatch
) -> None:
    stack.kafka = KafkaState(
        pid=os.getpid(), bootstrap_servers="127.0.0.1:19092", run_dir="x", log_file="x", version="4"
    )
    _matcher_running(stack)
    _notifier_running(stack)
    monkeypatch.setattr(background, "kafka_running", lambda _: True)
    monkeypatch.setattr(background, "principal_environment", lambda _: {})

    assert use_stack_credentials("127.0.0.1:19092")
    assert os.environ["VERBUND_NOTIFIER_URL"] == "http://127.0.0.1:18184"

    monkeypatch.setenv("VERBUND_NOTIFIER_URL", "https://notifier.example.org")
    assert use_stack_credentials("127.0.0.1:19092")
    assert os.environ["VERBUND_NOTIFIER_URL"] == "https://notifier.example.org"


def test_a_recorded_port_another_process_took_is_replaced_unless_the_stacks_own_service_holds_it(
    stack: StackState,
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        stack.notifier_port = port
        moved = background._service_port(stack, "notifier", stack.notifier_port, background.DEFAULT_NOTIFIER_PORT)
        assert moved != port
        _notifier_running(stack)
        assert background._service_port(stack, "notifier", port, background.DEFAULT_NOTIFIER_PORT) == port
