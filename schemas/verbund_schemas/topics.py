"""Topic names, partitions, retention and keys, read from infra/topics.toml (the one definition)."""

from __future__ import annotations

import os
import re
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


# What may follow a family's prefix: a firm id as a Kafka principal and a topic name can both carry it.
_MEMBER = re.compile(r"[a-z0-9][a-z0-9._-]*")


@dataclass(frozen=True)
class TopicFamily:
    """Topics made one per member (a firm): a name prefix, and the partitions and retention of another topic."""

    prefix: str
    like: Topic
    events: tuple[str, ...]
    description: str

    def member(self, member_id: str) -> Topic:
        """The member's topic, as `verbund stack add-client` creates it."""
        if not _MEMBER.fullmatch(member_id) or len(self.prefix + member_id) > 249:
            raise ValueError(
                f"{member_id!r} cannot name a topic: lower-case letters, digits, '.', '_' and '-', starting with a "
                "letter or digit"
            )
        return Topic(
            name=self.prefix + member_id,
            partitions=self.like.partitions,
            retention_ms=self.like.retention_ms,
            cleanup_policy=self.like.cleanup_policy,
            key=self.like.key,
            events=self.events,
            description=self.description,
        )

    def member_of(self, topic_name: str) -> str | None:
        """The member whose topic this is; None for a topic outside the family."""
        if not topic_name.startswith(self.prefix):
            return None
        member_id = topic_name[len(self.prefix) :]
        return member_id if _MEMBER.fullmatch(member_id) else None


def load_families(path: str | None = None) -> dict[str, TopicFamily]:
    """Topic families by role (firm_inbound), with VERBUND_TOPIC_PREFIX in front of their prefix."""
    file = str(path or os.environ.get("VERBUND_TOPICS_FILE") or _DEFAULT_FILE)
    # Keyed by the prefix as well: the demo and tests change it while running, and forget load_topics' cache only.
    return _families(file, os.environ.get("VERBUND_TOPIC_PREFIX", ""))


@cache
def _families(file: str, prefix: str) -> dict[str, TopicFamily]:
    with Path(file).open("rb") as fh:
        raw = tomllib.load(fh)
    families = {}
    for role, spec in raw.get("families", {}).items():
        like = raw["topics"][spec["like"]]
        families[role] = TopicFamily(
            prefix=prefix + spec["name"],
            like=Topic(
                name=prefix + like["name"],
                partitions=int(like["partitions"]),
                retention_ms=int(like["retention_ms"]),
                cleanup_policy=str(like.get("cleanup_policy", "delete")),
                key=str(like["key"]),
                events=tuple(like["events"]),
                description=str(like.get("description", "")),
            ),
            events=tuple(spec["events"]),
            description=str(spec.get("description", "")),
        )
    return families


def firm_inbound() -> TopicFamily:
    """The inbound topics of firms with a Kafka principal of their own, one per firm."""
    return load_families()["firm_inbound"]


def inbound_pattern() -> str:
    """A regular expression for the inbound topic and every firm's inbound topic: what the matcher subscribes to.

    Without braces: FastStream would read `{...}` as a path parameter.
    """
    # A topic name has only letters, digits, '.', '_' and '-': of these only the dot means something to a regex.
    inbound, firms = (name.replace(".", r"\.") for name in (topic("inbound"), firm_inbound().prefix))
    return f"^(?:{inbound}|{firms}[a-z0-9][a-z0-9._-]*)$"


def is_inbound(topic_name: str) -> bool:
    """The inbound topic or a firm's inbound topic."""
    return topic_name == topic("inbound") or firm_inbound().member_of(topic_name) is not None
