"""`python -m verbund_matcher`: run one matcher replica until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import signal

from .ops.logs import configure_logging
from .runner import run_matcher
from .settings import MatcherSettings


async def _main() -> None:
    settings = MatcherSettings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with run_matcher(settings):
        await stop.wait()


def main() -> None:
    asyncio.run(_main())


if __name__ == "__main__":
    main()
