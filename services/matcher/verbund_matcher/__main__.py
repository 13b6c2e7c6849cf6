"""`python -m verbund_matcher`: run one matcher replica until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

from aiokafka.errors import KafkaConnectionError
from verbund_runtime.logs import configure_logging

from .runner import run_matcher
from .settings import MatcherSettings

log = logging.getLogger("verbund_matcher")


async def _main(settings: MatcherSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with run_matcher(settings):
        await stop.wait()


def main() -> None:
    settings = MatcherSettings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    try:
        asyncio.run(_main(settings))
    except KafkaConnectionError:
        log.error(
            "cannot reach Kafka at %s; start a broker (make stack-up) or set VERBUND_KAFKA_BOOTSTRAP_SERVERS "
            "(or KAFKA_BOOTSTRAP_SERVERS) to a reachable one",
            settings.kafka_bootstrap_servers,
        )
        sys.exit(2)


if __name__ == "__main__":
    main()
