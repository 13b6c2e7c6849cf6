"""A learner's phase as last announced: what reminders and digests tell, and its calendar SEQUENCE."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Phase:
    assignment_id: str
    network_id: str
    learner_id: str
    learner_name: str
    module_id: str
    module_name: str
    firm_id: str
    firm_name: str
    start_week: str
    end_week: str
    start_date: dt.date
    end_date: dt.date
    sequence: int = 0  # grows with every version, so a calendar entry is replaced, not duplicated
    cancelled: bool = False
    plan_version: int = 1
