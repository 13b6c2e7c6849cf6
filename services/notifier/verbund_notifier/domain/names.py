"""Names messages show instead of ids: modules and groups from the curricula, firms and learners from the directory."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Names:
    """What the notifier knows of a network's names; an id it knows no name for stands for itself."""

    modules: Mapping[str, str] = field(default_factory=dict)
    groups: Mapping[str, str] = field(default_factory=dict)
    firms: Mapping[str, str] = field(default_factory=dict)
    learners: Mapping[str, str] = field(default_factory=dict)

    def module(self, module_id: str) -> str:
        return self.modules.get(module_id, module_id)

    def group(self, group_id: str) -> str:
        return self.groups.get(group_id, group_id)

    def firm(self, firm_id: str) -> str:
        return self.firms.get(firm_id, firm_id)

    def learner(self, learner_id: str) -> str:
        return self.learners.get(learner_id, learner_id)
