"""Networks whose best plan is unique (every learner fits exactly one way), as inbound event streams.

Two runs that end in the same state must then publish the same final plan, however their batches fell,
which is what the crash and scale-out tests compare.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from verbund_schemas import week_at

ORIGIN = "2031-W01"
CURRICULUM = "C-FORCED"


def _learner(network: str, learner: str, first: int) -> dict[str, Any]:
    return {
        "learner_id": learner,
        "name": f"Learner {learner}",
        "contact": {"name": f"Learner {learner}", "email": f"{learner.lower()}@example.org"},
        "curriculum_id": CURRICULUM,
        "first_week": week_at(ORIGIN, first),
        # Two modules of two weeks each, M2 after M1, in a window of exactly four weeks: one way to fit.
        "last_week": week_at(ORIGIN, first + 3),
    }


@dataclass
class ForcedNetwork:
    """Builds the events of one network; `events()` is the stream, `expected()` its final plan."""

    network_id: str
    seed: int = 0

    def setup(self) -> list[dict[str, Any]]:
        n = self.network_id
        return [
            self._event("NetworkConfigured", {"name": f"Network {n}", "notice_period_weeks": 0}),
            self._event(
                "CurriculumPublished",
                {
                    "curriculum_id": CURRICULUM,
                    "name": "Forced",
                    "modules": [
                        {"module_id": "M1", "name": "Grundlagen", "duration_weeks": 2},
                        {"module_id": "M2", "name": "Vertiefung", "duration_weeks": 2},
                    ],
                    "groups": [{"group_id": "G", "name": "Pflicht", "module_ids": ["M1", "M2"], "required": 2}],
                    "precedence": [{"module_id": "M2", "requires": "M1"}],
                },
            ),
            self._event("FirmRegistered", {"firm_id": "F1", "name": "Firm One", "location": {"city": "Aachen"}}),
            self._event("FirmRegistered", {"firm_id": "F2", "name": "Firm Two", "location": {"city": "Köln"}}),
            self._event("CapacityOffered", self._offer("O1", "F1", "M1")),
            self._event("CapacityOffered", self._offer("O2", "F2", "M2")),
        ]

    def stream(self, length: int) -> list[dict[str, Any]]:
        """Setup, then registrations, moves and withdrawals of learners until `length` events."""
        rng = random.Random(f"{self.network_id}:{self.seed}")
        events = self.setup()
        self.final: dict[str, int] = {}
        registered: dict[str, int] = {}
        withdrawn: set[str] = set()
        counter = 0
        while len(events) < length:
            roll = rng.random()
            if not registered or roll < 0.4:
                if withdrawn and rng.random() < 0.5:
                    learner = sorted(withdrawn)[rng.randrange(len(withdrawn))]
                    withdrawn.discard(learner)
                else:
                    counter += 1
                    learner = f"L{counter:04d}"
                first = rng.randrange(0, 40)
                registered[learner] = first
                events.append(self._event("LearnerRegistered", _learner(self.network_id, learner, first)))
            elif roll < 0.8:
                learner = sorted(registered)[rng.randrange(len(registered))]
                first = rng.randrange(0, 40)
                registered[learner] = first
                events.append(self._event("LearnerUpdated", _learner(self.network_id, learner, first)))
            else:
                learner = sorted(registered)[rng.randrange(len(registered))]
                del registered[learner]
                withdrawn.add(learner)
                events.append(self._event("LearnerWithdrawn", {"learner_id": learner, "reason": "moved away"}))
        self.final = dict(registered)
        return events

    def registered(self, learners: int = 2) -> list[dict[str, Any]]:
        """Setup and `learners` registrations: a plan with assignments, whatever the network's id (a random
        stream may withdraw everyone it registered, and then nothing is published)."""
        events = self.setup()
        self.final = {}
        for i in range(learners):
            learner = f"L{i:04d}"
            self.final[learner] = 3 * i
            events.append(self._event("LearnerRegistered", _learner(self.network_id, learner, 3 * i)))
        return events

    def expected(self) -> dict[str, tuple[str, str]]:
        """Final plan: assignment id -> (firm, start week)."""
        out = {}
        for learner, first in self.final.items():
            out[f"{self.network_id}:{learner}:M1"] = ("F1", week_at(ORIGIN, first))
            out[f"{self.network_id}:{learner}:M2"] = ("F2", week_at(ORIGIN, first + 2))
        return out

    def _offer(self, offer: str, firm: str, module: str) -> dict[str, Any]:
        return {
            "offer_id": offer,
            "firm_id": firm,
            "module_id": module,
            "first_week": ORIGIN,
            "last_week": week_at(ORIGIN, 60),
            "max_seats": 1000,
        }

    def _event(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        self._n = getattr(self, "_n", 0) + 1
        return {
            "type": kind,
            "id": f"{self.network_id}-{self._n:06d}",
            "time": "2030-11-04T08:00:00Z",
            "source": "test-firm-system",
            "subject": self.network_id,
            "data": data,
        }


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode("utf-8")
