"""Taking an inbound event the matcher rejected back out of the read model, from what its fold replaced.

The console folds an inbound event when it reads it, before it can know whether the matcher applied it. Each
row write of such a fold is kept with the values it replaced (`before`: those of the columns it set, or None when
it made the row). When the matcher's rejection arrives, the rejected event's writes are taken out and the inbound
writes folded after it on the same rows are laid again over what it replaced, in their order: the row ends as if
the rejected event had never been folded, whatever came after it. Those later writes then remember the values
they now replaced, so a later rejection of one of them is taken out the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# A kept record's writes are stored as JSON: dates and times are tagged so they come back as what they were.
_DATETIME, _DATE = "$datetime", "$date"


@dataclass
class RowWrite:
    """One row an inbound event's fold wrote: `upsert` makes the row when missing, `patch` only changes it."""

    table: str
    key: dict[str, Any]
    kind: str  # upsert | patch
    values: dict[str, Any]
    before: dict[str, Any] | None  # the written columns' values before; None: the row was not there

    def row(self) -> tuple[str, tuple[Any, ...]]:
        return self.table, tuple(self.key.values())


@dataclass(frozen=True)
class RowOutcome:
    """A row after a rejected event is taken out: None deletes it, else these columns get these values."""

    table: str
    key: dict[str, Any]
    values: dict[str, Any] | None
    columns: tuple[str, ...] = ()  # the columns the rejected event and the later writes set


_PLAIN = (str, int, float, bool, type(None))


def _encoded(value: Any) -> Any:
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, dt.datetime):
        return {_DATETIME: value.isoformat()}
    if isinstance(value, dt.date):
        return {_DATE: value.isoformat()}
    if isinstance(value, dict):
        return _encoded_dict(value)
    if isinstance(value, list | tuple):
        return [_encoded(v) for v in value]
    return value


def _encoded_dict(values: dict[str, Any]) -> dict[str, Any]:
    # Nearly every value is a plain one: a fold of every inbound event encodes its writes.
    return {k: v if type(v) in _PLAIN else _encoded(v) for k, v in values.items()}


def _decoded(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_DATETIME}:
            return dt.datetime.fromisoformat(value[_DATETIME])
        if set(value) == {_DATE}:
            return dt.date.fromisoformat(value[_DATE])
        return {k: _decoded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decoded(v) for v in value]
    return value


def stored(writes: Sequence[RowWrite]) -> list[dict[str, Any]]:
    """The writes as the kept record stores them (JSON)."""
    return [
        {
            "table": w.table,
            "key": _encoded_dict(w.key),
            "kind": w.kind,
            "values": _encoded_dict(w.values),
            "before": None if w.before is None else _encoded_dict(w.before),
        }
        for w in writes
    ]


def read_back(kept: Sequence[Mapping[str, Any]]) -> list[RowWrite]:
    """The writes of a kept record, as `stored` wrote them."""
    return [
        RowWrite(
            table=str(w["table"]),
            key=_decoded(w["key"]),
            kind=str(w["kind"]),
            values=_decoded(w["values"]),
            before=None if w["before"] is None else _decoded(w["before"]),
        )
        for w in kept
    ]


def learner_of(writes: Sequence[RowWrite]) -> str | None:
    """The learner whose rows the writes touch (their name is in them): an erasure drops the kept record."""
    return next((str(w.key["learner_id"]) for w in writes if "learner_id" in w.key), None)


def take_out(
    rejected: Sequence[RowWrite], later: Sequence[Sequence[RowWrite]], defaults: Mapping[str, Mapping[str, Any]]
) -> list[RowOutcome]:
    """The rows as they are without the rejected writes, with the later kept writes (oldest first) laid again over
    what the rejected ones replaced. Each later write's `before` is set to what it replaces now."""
    outcomes: list[RowOutcome] = []
    done: set[tuple[str, tuple[Any, ...]]] = set()
    for write in rejected:
        row = write.row()
        if row in done:
            continue
        done.add(row)
        # The event's first write of the row replaced what was there before the event; its others only itself.
        present = write.before is not None
        state: dict[str, Any] = dict(write.before or {})
        columns = {c for w in rejected if w.row() == row for c in w.values}
        if present:
            state |= {c: v for w in reversed(rejected) if w.row() == row and w.before for c, v in w.before.items()}
        for writes in later:
            for after in writes:
                if after.row() != row:
                    continue
                if present:
                    # Columns the rejected write did not set were not changed by it: what `after` replaced there
                    # stays what it replaced.
                    after.before = (after.before or {}) | {c: state[c] for c in after.values if c in state}
                else:
                    after.before = None
                if after.kind == "upsert" and not present:
                    state = dict(defaults.get(write.table, {})) | write.key | after.values
                    present = True
                elif present:
                    state |= after.values
                columns |= set(after.values)
        values = {c: state[c] for c in sorted(columns) if c in state} if present else None
        outcomes.append(RowOutcome(write.table, write.key, values, tuple(sorted(columns))))
    return outcomes
