"""The problem and plan each network was last planned with, kept by one running matcher for repair to re-use."""

from __future__ import annotations

from collections import OrderedDict

from ..planning.model import Plan, Problem


class LastPlans:
    """The last problem and plan per network, so that repair re-uses explanations and sat(s) of learners nothing
    changed for.

    Only an accelerator: repair answers the same without it (a replica that did not plan the network last, or
    after a restart), so it need not follow the database, only stay bounded. Each matcher owns one (its
    Runtime's), so two matchers in one process never see each other's plans.
    """

    def __init__(self, capacity: int = 256) -> None:
        self._plans: OrderedDict[str, tuple[Problem, Plan]] = OrderedDict()
        self._capacity = capacity

    def get(self, network_id: str) -> tuple[Problem, Plan] | None:
        return self._plans.get(network_id)

    def remember(self, network_id: str, problem: Problem, plan: Plan) -> None:
        self._plans[network_id] = (problem, plan)
        self._plans.move_to_end(network_id)
        while len(self._plans) > self._capacity:
            self._plans.popitem(last=False)

    def __contains__(self, network_id: object) -> bool:
        return network_id in self._plans

    def __len__(self) -> int:
        return len(self._plans)
