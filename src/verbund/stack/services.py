"""Python processes the local stack leaves running in the background: mail sink, console, the demo's services."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from verbund.stack.processes import log_tail, pid_alive, terminate


class ServiceStartError(RuntimeError):
    """A background service exited or did not answer in time; the message holds the end of its log."""


@dataclass
class ServiceState:
    """One background process as `verbund stack up` (or the demo) recorded it in the state file."""

    name: str
    pid: int
    module: str
    log_file: str
    # Where it answers (smtp://…, http://…): what `status` prints and what a restart must give again.
    url: str
    # The settings it was started with (never secrets: those are read from files of their own).
    env: dict[str, str] = field(default_factory=dict)


def service_running(state: ServiceState) -> bool:
    """Whether the recorded pid is still this service (pids are reused after a reboot)."""
    if not pid_alive(state.pid):
        return False
    try:
        cmdline = Path(f"/proc/{state.pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return True
    return state.module in cmdline


def start_service(
    name: str,
    module: str,
    *,
    url: str,
    env: dict[str, str],
    run_dir: Path,
    args: tuple[str, ...] = (),
    secret_env: dict[str, str] | None = None,
) -> ServiceState:
    """`python -m module` detached from this process (it outlives the command), logging into run_dir/NAME.log."""
    run_dir.mkdir(parents=True, exist_ok=True)
    log_file = run_dir / f"{name.replace(' ', '-')}.log"
    with log_file.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=run_dir,
            env={**os.environ, **env, **(secret_env or {})},
            # Its own session: Ctrl-C in the shell that ran `up` or the demo does not reach it.
            start_new_session=True,
        )
    return ServiceState(name=name, pid=process.pid, module=module, log_file=str(log_file), url=url, env=env)


def wait_until_answering(state: ServiceState, answers: Callable[[], bool], timeout: float) -> None:
    """Poll `answers` until it is true; a service that exits or stays silent is stopped and reported with its log."""
    deadline = time.monotonic() + timeout
    while not answers():
        if not pid_alive(state.pid):
            raise ServiceStartError(
                f"The {state.name} exited during start.\n--- {state.log_file} (last lines) ---\n"
                f"{log_tail(Path(state.log_file))}"
            )
        if time.monotonic() > deadline:
            stop_service(state)
            raise ServiceStartError(
                f"The {state.name} did not answer on {state.url} within {timeout:.0f} s.\n"
                f"--- {state.log_file} (last lines) ---\n{log_tail(Path(state.log_file))}"
            )
        time.sleep(0.2)


def stop_service(state: ServiceState, timeout: float = 30.0) -> bool:
    """SIGTERM (SIGKILL after `timeout`); True when it was running."""
    if not service_running(state):
        return False
    terminate(state.pid, timeout=timeout)
    return True
