"""Entry point: `python -m verbund_notifier` runs the notifier with settings from the environment."""

from __future__ import annotations

import logging

from verbund_runtime.logs import configure_logging
from verbund_runtime.process import run_service

from .app import build
from .settings import NotifierSettings

log = logging.getLogger("verbund_notifier")


def main() -> None:
    settings = NotifierSettings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    run_service(build(settings).app.run(), kafka_bootstrap_servers=settings.kafka_bootstrap_servers, log=log)


if __name__ == "__main__":
    main()
