"""The notifier's domain composes messages from plain data: importing it loads no database, broker or network."""

from __future__ import annotations

import subprocess
import sys

DOMAIN = (
    "verbund_notifier.domain.change_reasons",
    "verbund_notifier.domain.digest",
    "verbund_notifier.domain.ics",
    "verbund_notifier.domain.messages",
    "verbund_notifier.domain.names",
    "verbund_notifier.domain.outgoing",
    "verbund_notifier.domain.parties",
    "verbund_notifier.domain.phases",
    "verbund_notifier.domain.reasons",
    "verbund_notifier.domain.rendering",
    "verbund_notifier.domain.shortfalls",
)
FORBIDDEN = ("sqlalchemy", "sqlmodel", "faststream", "aiokafka", "aiosmtplib", "httpx", "apscheduler", "asyncio")


def test_importing_the_domain_loads_no_database_broker_mail_or_scheduler_library() -> None:
    script = (
        "import sys\n"
        f"for name in {DOMAIN!r}:\n"
        "    __import__(name)\n"
        f"print(sorted(m for m in {FORBIDDEN!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stdout
