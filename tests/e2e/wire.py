"""Reading Verbund's topics in end-to-end tests: one network's decoded events, waiting until one shows up."""

from __future__ import annotations

from collections.abc import Callable

from kafka_tools import consume
from verbund_schemas import Envelope, decode_event


async def wait_for_event(
    bootstrap: str,
    topic: str,
    network: str,
    matches: Callable[[Envelope], bool],
    timeout: float = 90.0,  # noqa: ASYNC109 - kafka_tools.consume raises with what arrived
) -> Envelope:
    """The first event on `topic` keyed by `network` for which `matches` holds (reading from the beginning)."""

    def found(records: list) -> bool:  # type: ignore[type-arg]
        return any(_match(r, network, matches) for r in records)

    records = await consume(bootstrap, topic, until=found, timeout=timeout)
    return next(decode_event(r.value) for r in records if _match(r, network, matches))


def _match(record: object, network: str, matches: Callable[[Envelope], bool]) -> bool:
    key = getattr(record, "key", None)
    value = getattr(record, "value", None)
    if key != network.encode() or value is None:
        return False
    try:
        return matches(decode_event(value))
    except ValueError:
        return False
