"""`python -m verbund_matcher`: run one matcher replica until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal

from verbund_runtime.logs import configure_logging
from verbund_runtime.process import run_service

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
    run_service(_main(settings), kafka_bootstrap_servers=settings.kafka_bootstrap_servers, log=log)


if __name__ == "__main__":
    main()
