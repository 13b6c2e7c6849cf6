"""Running the installed `verbund` command as a user would, pointed at the session's broker."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

VERBUND = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "verbund"


def cli_env(bootstrap: str) -> dict[str, str]:
    return {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "COLUMNS": "200"}


def run_verbund(
    *args: str, bootstrap: str, timeout: float = 120.0, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VERBUND), *args],
        env={**cli_env(bootstrap), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_verbund(*args: str, bootstrap: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(VERBUND), *args],
        env=cli_env(bootstrap),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
