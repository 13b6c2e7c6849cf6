"""Entry point: `python -m verbund_notifier` runs the notifier with settings from the environment."""

from __future__ import annotations

import asyncio
import logging
import sys

from aiokafka.errors import KafkaConnectionError
from verbund_runtime.logs import configure_logging

from .app import build
from .settings import NotifierSettings

log = logging.getLogger("verbund_notifier")


def main() -> None:
    settings = NotifierSettings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    try:
        asyncio.run(build(settings).app.run())
    except KafkaConnectionError:
        # Said once, in the configured log format, rather than as a traceback a log shipper cannot parse.
        log.error(
            "cannot reach Kafka at %s; start a broker (make stack-up) or set VERBUND_KAFKA_BOOTSTRAP_SERVERS "
            "(or KAFKA_BOOTSTRAP_SERVERS) to a reachable one",
            settings.kafka_bootstrap_servers,
        )
        sys.exit(2)


if __name__ == "__main__":
    main()
