"""Topic names, partitions, retention and keys, read from infra/topics.toml (the one definition)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

_DEFAULT_FILE = Path(__file__).resolve().parents[2] / "infra" / "topics.toml"


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    retention_ms: int
    cleanup_policy: str
    key: str
    events: tuple[str, ...]
    description: str


@cache
def load_topics(path: str | None = None) -> dict[str, Topic]:
    """Topics by role (inbound, assignments, ...); VERBUND_TOPICS_FILE overrides the file."""
    file = Path(path or os.environ.get("VERBUND_TOPICS_FILE") or _DEFAULT_FILE)
    with file.open("rb") as fh:
        raw = tomllib.load(fh)
    prefix = os.environ.get("VERBUND_TOPIC_PREFIX", "")
    return {
        role: Topic(
            name=prefix + spec["name"],
            partitions=int(spec["partitions"]),
            retention_ms=int(spec["retention_ms"]),
            cleanup_policy=str(spec.get("cleanup_policy", "delete")),
            key=str(spec["key"]),
            events=tuple(spec["events"]),
            description=str(spec.get("description", "")),
        )
        for role, spec in raw["topics"].items()
    }


def topic(role: str) -> str:
    """The topic name for a role: inbound, assignments, shortfalls, rejected, notifications."""
    return load_topics()[role].name
