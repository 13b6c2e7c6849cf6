"""Which Kafka broker the CLI talks to, and turning connection failures into messages a user can act on."""

from __future__ import annotations

import os

DEFAULT_BOOTSTRAP = "localhost:9092"
BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"
BOOTSTRAP_HELP = (
    "Kafka bootstrap servers, host:port[,host:port]. Default: $KAFKA_BOOTSTRAP_SERVERS, "
    f"else the broker `verbund stack up` started, else {DEFAULT_BOOTSTRAP}."
)


class KafkaUnavailable(RuntimeError):
    """The broker cannot be reached or lacks a topic; the message says what to do."""


def resolve_bootstrap(given: str | None) -> str:
    """The --bootstrap option, else KAFKA_BOOTSTRAP_SERVERS, else the local stack's broker, else localhost."""
    if given:
        return given
    from_env = os.environ.get(BOOTSTRAP_ENV, "").strip()
    if from_env:
        return from_env
    return _local_stack_bootstrap() or DEFAULT_BOOTSTRAP


def _local_stack_bootstrap() -> str | None:
    """The broker `verbund stack up` left running, if any."""
    from verbund.stack.background import running_kafka_bootstrap

    try:
        return running_kafka_bootstrap()
    except Exception:
        # A damaged state file must not stop publish/watch: the user can still name a broker.
        return None


def unreachable_message(bootstrap: str, error: BaseException) -> str:
    return (
        f"cannot reach Kafka at {bootstrap} ({error.__class__.__name__}: {error}). "
        "Start the local broker with `verbund stack up`, or point to yours with --bootstrap "
        f"or {BOOTSTRAP_ENV}."
    )


def missing_topic_message(topic: str, bootstrap: str) -> str:
    return (
        f"topic {topic!r} does not exist on {bootstrap}. `verbund stack up` creates Verbund's topics; "
        "on another cluster create them as infra/topics.toml defines them "
        "(check VERBUND_TOPIC_PREFIX if you use one)."
    )
