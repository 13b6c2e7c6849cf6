"""The inbound stream of a fault run: several generated networks, later changes, and poison records among them."""

from __future__ import annotations

import importlib.util
import json
import random
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from verbund_schemas import encode_event

SCENARIOS_FILE = Path(__file__).resolve().parents[2] / "bench" / "scenarios.py"
CHANGE_IDS = uuid.UUID("0f6f3a52-93a4-4c4e-8d8e-3f3c8f1b6a10")
"""Namespace of the ids of the later changes (UUID version 5 of network id and change)."""

# Networks by generator name; a name may appear more than once (the copies get network ids of their own).
SHORT_MIX = ("plastics", "tiny", "tiny")
SHORT_SEED = 11
LONG_MIX = ("plastics", "nursing", "it", "s80", "tiny", "tiny")


@dataclass(frozen=True)
class InboundItem:
    """One record as a firm's system (or a broken one) sends it; `poison` names what is wrong with it, if anything."""

    key: bytes | None
    value: bytes | None
    network_id: str | None = None
    event_id: str | None = None
    event_type: str | None = None
    poison: str = ""


@dataclass(frozen=True)
class FaultInput:
    items: tuple[InboundItem, ...]
    networks: tuple[str, ...]

    @property
    def poison(self) -> int:
        return sum(1 for item in self.items if item.poison)

    def index_of_value(self) -> dict[bytes, int]:
        """Input position by the record's exact bytes (every record differs from every other)."""
        return {item.value or b"": i for i, item in enumerate(self.items)}


def _scenarios() -> ModuleType:
    name = "bench_scenarios_for_faults"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SCENARIOS_FILE)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def network_events(generator: str, network_id: str, seed: int, firm_contacts: bool = True) -> list[dict[str, Any]]:
    """A generated network's events under a network id of our choosing (optionally without firms' contacts)."""
    events = [json.loads(encode_event(e)) for e in _scenarios().generate(generator, seed)]
    if not firm_contacts:
        for e in events:
            if e["type"] == "FirmRegistered":
                e["data"].pop("training_contact", None)
    return [e | {"subject": network_id, "id": f"{network_id}:{e['id']}"} for e in events]


def later_changes(events: list[dict[str, Any]], rng: random.Random) -> list[dict[str, Any]]:
    """Learners leaving and offers shrinking or going after plans were published: assignments move or go."""
    network_id = events[0]["subject"]
    learners = [e["data"]["learner_id"] for e in events if e["type"] == "LearnerRegistered"]
    offers = [e["data"] for e in events if e["type"] == "CapacityOffered"]
    changes: list[tuple[str, dict[str, Any]]] = []
    for learner in rng.sample(learners, min(1, len(learners))):
        changes.append(("LearnerWithdrawn", {"learner_id": learner, "reason": "Ausbildung abgebrochen"}))
    picked = rng.sample(offers, min(2, len(offers)))
    if picked:
        fewer = max(1, picked[0]["max_seats"] - 1)
        changes.append(("CapacityChanged", {"offer_id": picked[0]["offer_id"], "max_seats": fewer}))
    if len(picked) > 1:
        changes.append(("CapacityWithdrawn", {"offer_id": picked[1]["offer_id"], "reason": "Maschine defekt"}))
    time = events[-1]["time"]
    return [
        {
            "type": kind,
            "subject": network_id,
            "source": "hr.faults",
            "id": str(uuid.uuid5(CHANGE_IDS, f"{network_id}/{n}/{kind}")),
            "time": time,
            "data": data,
        }
        for n, (kind, data) in enumerate(changes)
    ]


def poison_records(n: int, networks: Sequence[str]) -> list[InboundItem]:
    """The n-th kind of bad input in turn, each record different from every other (its number is in it)."""
    network = networks[n % len(networks)]
    kinds = [
        ("not_json", network.encode(), f"{{not json #{n}".encode()),
        ("not_utf8", network.encode(), b"\xff\xfe\xfa poison #" + str(n).encode()),
        ("no_key_no_json", None, f"<<<{n}>>>".encode()),
        ("unknown_type", network.encode(), _json({"type": "PizzaOrdered", "subject": network, "id": f"p{n}"})),
        (
            "no_id",
            network.encode(),
            _json(
                {
                    "type": "FirmRegistered",
                    "subject": network,
                    "time": "2026-11-02T08:00:00Z",
                    "data": {"firm_id": f"ghost-{n}", "name": "Ohne Kennung", "location": {"city": "Aachen"}},
                }
            ),
        ),
        (
            "key_is_not_subject",
            b"some-other-network",
            _json(_valid_firm(network, f"wrong-key-{n}")),
        ),
        (
            "implausible_week",
            network.encode(),
            _json(
                {
                    "type": "CapacityOffered",
                    "subject": network,
                    "id": f"poison-week-{n}",
                    "time": "2026-11-02T08:00:00Z",
                    "data": {
                        "offer_id": f"poison-offer-{n}",
                        "firm_id": "nowhere",
                        "module_id": "nothing",
                        "first_week": "1900-W01",
                        "last_week": "9999-W52",
                        "max_seats": 3,
                    },
                }
            ),
        ),
        (
            "unknown_firm",
            network.encode(),
            _json(
                {
                    "type": "CapacityOffered",
                    "subject": network,
                    "id": f"poison-firm-{n}",
                    "time": "2026-11-02T08:00:00Z",
                    "data": {
                        "offer_id": f"poison-offer-{n}",
                        "firm_id": f"no-such-firm-{n}",
                        "module_id": "no-such-module",
                        "first_week": "2027-W10",
                        "last_week": "2027-W20",
                        "max_seats": 3,
                    },
                }
            ),
        ),
        ("empty_value", network.encode(), b""),
        ("too_large", network.encode(), _json(_valid_firm(network, f"huge-{n}", padding=300_000))),
    ]
    kind, key, value = kinds[n % len(kinds)]
    return [InboundItem(key=key, value=value, network_id=network, poison=kind)]


def _valid_firm(network: str, firm_id: str, padding: int = 0) -> dict[str, Any]:
    return {
        "type": "FirmRegistered",
        "subject": network,
        "id": f"{firm_id}-event",
        "time": "2026-11-02T08:00:00Z",
        "data": {"firm_id": firm_id, "name": "Fa. " + "x" * padding, "location": {"city": "Aachen"}},
    }


def _json(value: dict[str, Any]) -> bytes:
    return json.dumps(value).encode()


def build_input(
    mix: Sequence[str], *, seed: int, copies: int = 1, poison_share: float = 0.05, firm_contacts: bool = True
) -> FaultInput:
    """The networks of `mix` (each `copies` times), their events interleaved as separate firms would send them
    (in order within a network), with about `poison_share` bad records at random places.

    Without `firm_contacts` only learners and coordinators get mail: a third of it, for runs that must be short.
    """
    rng = random.Random(seed)
    streams: list[list[dict[str, Any]]] = []
    for copy in range(copies):
        for n, generator in enumerate(mix):
            streams.append(network_events(generator, f"{generator}-{copy}-{n}", seed + n, firm_contacts))
    networks = tuple(stream[0]["subject"] for stream in streams)
    # Learners leave and offers change once the networks are planned: after every network's first events.
    changes = [later_changes(stream, random.Random(f"{stream[0]['subject']}/{seed}")) for stream in streams]
    items: list[InboundItem] = []
    poisoned = 0
    for phase in (streams, changes):
        positions = [0] * len(phase)
        remaining = sum(len(s) for s in phase)
        while remaining:
            if rng.random() < poison_share:
                items.extend(poison_records(poisoned, networks))
                poisoned += 1
                continue
            # Networks with more left to send send more often: they all finish at about the same time.
            weights = [len(s) - p for s, p in zip(phase, positions, strict=True)]
            k = rng.choices(range(len(phase)), weights=weights)[0]
            event = phase[k][positions[k]]
            positions[k] += 1
            remaining -= 1
            items.append(
                InboundItem(
                    key=event["subject"].encode(),
                    value=json.dumps(event).encode(),
                    network_id=event["subject"],
                    event_id=event["id"],
                    event_type=event["type"],
                )
            )
    return FaultInput(items=tuple(items), networks=networks)
