"""A service as a process: run its main coroutine, and end with a line an operator can act on when Kafka is away."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Coroutine
from typing import Any

from aiokafka.errors import KafkaConnectionError


def run_service(main: Coroutine[Any, Any, None], *, kafka_bootstrap_servers: str, log: logging.Logger) -> None:
    """`asyncio.run(main)`; a broker that cannot be reached ends the process with exit status 2."""
    try:
        asyncio.run(main)
    except KafkaConnectionError:
        # Said once, in the configured log format, rather than as a traceback a log shipper cannot parse.
        log.error(
            "cannot reach Kafka at %s; start a broker (make stack-up) or set VERBUND_KAFKA_BOOTSTRAP_SERVERS "
            "(or KAFKA_BOOTSTRAP_SERVERS) to a reachable one",
            kafka_bootstrap_servers,
        )
        sys.exit(2)
