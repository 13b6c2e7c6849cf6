"""Which Kafka broker the CLI talks to and as whom, and turning connection failures into messages a user can act on."""

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
    """The --bootstrap option, else KAFKA_BOOTSTRAP_SERVERS, else the local stack's broker, else localhost.

    For the local stack's broker this process then connects as the stack's `cli` principal (see
    use_stack_credentials); any other cluster gets the VERBUND_KAFKA_* security of the environment.
    """
    chosen = given or os.environ.get(BOOTSTRAP_ENV, "").strip() or _local_stack_bootstrap() or DEFAULT_BOOTSTRAP
    use_stack_credentials(chosen)
    return chosen


def _same_address(a: str, b: str) -> bool:
    def normal(servers: str) -> set[str]:
        return {s.strip().replace("localhost:", "127.0.0.1:") for s in servers.split(",") if s.strip()}

    return normal(a) == normal(b)


def use_stack_credentials(bootstrap: str) -> bool:
    """When `bootstrap` is the broker `verbund stack up` runs, authenticate this process as the stack's `cli`
    principal from here on (its password file; the client helpers read VERBUND_KAFKA_*). True when it did.

    While the stack's matcher runs, names are sealed and opened through its key endpoint too, and while its
    notifier runs a learner's export includes the messages it holds, unless this shell names endpoints of its own.
    """
    from verbund.stack.background import principal_environment, stack_endpoints

    stack = _local_stack_bootstrap()
    if stack is None or not _same_address(stack, bootstrap):
        return False
    os.environ.update(principal_environment("cli"))
    for name, value in stack_endpoints().items():
        os.environ.setdefault(name, value)
    return True


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
        f"or {BOOTSTRAP_ENV}; a broker that asks for SASL needs VERBUND_KAFKA_USERNAME and VERBUND_KAFKA_PASSWORD "
        "(docs/security.md)."
    )


def missing_topic_message(topic: str, bootstrap: str) -> str:
    return (
        f"topic {topic!r} does not exist on {bootstrap}. `verbund stack up` creates Verbund's topics; "
        "on another cluster create them as infra/topics.toml defines them "
        "(check VERBUND_TOPIC_PREFIX if you use one)."
    )
