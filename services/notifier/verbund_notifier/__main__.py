"""Entry point: `python -m verbund_notifier` runs the notifier with settings from the environment."""

from __future__ import annotations

import asyncio
import logging
import os

from .app import build


def main() -> None:
    logging.basicConfig(
        level=os.environ.get("VERBUND_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    asyncio.run(build().app.run())


if __name__ == "__main__":
    main()
