"""The weekly coordinator digest's content: open shortfalls and seat deficits, learners per firm per week, phases
starting soon."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from verbund_schemas import week_monday, week_of

from .names import Names
from .phases import Phase
from .shortfalls import AnnouncedDeficit, AnnouncedShortfall, shortfall_facts, spans_shown

# A digest names a deficit's first few spans; the message that announced it lists them all.
_DIGEST_SPANS = 5


def digest_weeks(today: dt.date, weeks_ahead: int) -> list[dt.date]:
    """The Mondays a digest written `today` looks at: this week and the `weeks_ahead - 1` after it."""
    monday = week_monday(week_of(today))
    return [monday + dt.timedelta(weeks=i) for i in range(weeks_ahead)]


def digest_context(
    *,
    network_id: str,
    network_name: str,
    today: dt.date,
    weeks_ahead: int,
    phases: Sequence[Phase],
    shortfalls: Sequence[AnnouncedShortfall],
    deficits: Sequence[AnnouncedDeficit],
    names: Names,
) -> dict[str, Any]:
    """What the digest template shows, from the network's phases in the coming weeks and what is open.

    `phases`: the phases not cancelled that overlap the weeks of `digest_weeks`; `shortfalls` in the order
    shown (by learner name), `deficits` too (by firm and module name).
    """
    weeks = digest_weeks(today, weeks_ahead)
    horizon = weeks[0] + dt.timedelta(weeks=weeks_ahead)
    firms: dict[str, tuple[str, list[int]]] = {}
    for a in phases:
        _name, counts = firms.setdefault(a.firm_id, (a.firm_name, [0] * weeks_ahead))
        for i, week in enumerate(weeks):
            if a.start_date <= week <= a.end_date:
                counts[i] += 1
    upcoming = sorted(
        (a for a in phases if today <= a.start_date < horizon),
        key=lambda a: (a.start_date, a.learner_name),
    )
    return {
        "network_id": network_id,
        "network_name": network_name,
        "week": week_of(today),
        "weeks": [week_of(w) for w in weeks],
        "utilisation": [
            {"firm_id": fid, "firm_name": name, "counts": counts}
            for fid, (name, counts) in sorted(firms.items(), key=lambda kv: kv[1][0])
        ],
        "upcoming": [
            {
                "assignment_id": a.assignment_id,
                "learner_name": a.learner_name,
                "module_name": a.module_name,
                "firm_name": a.firm_name,
                "start_date": a.start_date,
            }
            for a in upcoming
        ],
        "shortfalls": [
            {
                "shortfall_id": s.shortfall_id,
                **shortfall_facts(
                    names,
                    learner_name=s.learner_name,
                    group_id=s.group_id,
                    module_id=s.module_id,
                    missing=s.missing,
                    reason=s.reason,
                ),
            }
            for s in shortfalls
        ],
        "deficits": [
            {
                "deficit_id": d.deficit_id,
                "firm_name": d.firm_name,
                "module_name": d.module_name,
                "spans": spans_shown(d.spans[:_DIGEST_SPANS]),
                "spans_omitted": d.spans_omitted + max(0, len(d.spans) - _DIGEST_SPANS),
                "missing_learner_weeks": d.missing_learner_weeks,
            }
            for d in deficits
        ],
    }
