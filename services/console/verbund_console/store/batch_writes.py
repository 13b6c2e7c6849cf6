"""A consumed batch folded into the read model: its rows read up front, its writes one statement per table."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from verbund_schemas import Envelope

from ..domain.folding import Ensure, Fold, Forget, Patch, Upsert
from .tables import (
    AppliedEvent,
    Assignment,
    Change,
    ConsoleTable,
    Firm,
    Learner,
    Module,
    Network,
    Offer,
    PlacementAnswer,
    Plan,
    PlanChange,
    Problem,
    Rejected,
)

TABLES: dict[str, type[ConsoleTable]] = {
    "applied_events": AppliedEvent,
    "networks": Network,
    "learners": Learner,
    "firms": Firm,
    "modules": Module,
    "offers": Offer,
    "assignments": Assignment,
    "problems": Problem,
    "rejected": Rejected,
    "plans": Plan,
    "plan_changes": PlanChange,
    "placement_answers": PlacementAnswer,
}

# Of a stored row, a batch needs only whether it is there, its plan version (an older version never overwrites a
# newer one) and a network's last change number; not the whole row as an ORM object: building those objects and
# the session's bookkeeping of them were most of a folded event's cost.
_TRACKED = ("plan_version", "last_seq")

# Keys a statement names at most (SQLite's limit of bound parameters is 32,766; PostgreSQL's 32,767).
_KEYS_PER_READ = 500


def _table(model: type[ConsoleTable]) -> sa.Table:
    table: sa.Table = model.__table__  # type: ignore[attr-defined]
    return table


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _defaults(model: type[ConsoleTable]) -> dict[str, Any]:
    """The values a model's constructor gives a column left out, so an inserted row is the one the model makes."""
    made: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if info.default_factory is not None:
            made[name] = info.default_factory()  # type: ignore[call-arg]
        elif not info.is_required():
            made[name] = info.default
    return made


@dataclass
class _Row:
    """A row as the batch knows it: the tracked columns read (or the whole row when the batch inserts it), and
    what the batch set on it since its last write."""

    values: dict[str, Any]
    new: bool
    changed: dict[str, Any] = field(default_factory=dict)

    def set(self, values: dict[str, Any]) -> None:
        self.values.update(values)
        if not self.new:
            self.changed.update(values)


class BatchWrites:
    """The rows one batch touches, by table and primary key (None: not in the table), and its pending writes."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._rows: dict[str, dict[tuple[Any, ...], _Row | None]] = defaultdict(dict)
        self._changes: list[dict[str, Any]] = []
        # New rows in the order the events made them: a table's rows then lie in the file in the order they
        # came (a learner's phases together), as the pages read them; in key order they took twice as long.
        self._new: dict[str, list[_Row]] = defaultdict(list)
        self._defaults: dict[str, dict[str, Any]] = {}

    async def read(self, folded: Sequence[tuple[Envelope, Fold]]) -> None:
        """Every row the batch's events will look at, a few queries per table instead of one per event and effect."""
        wanted: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
        own: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
        for event, fold in folded:
            mine = (event.network_id, event.id)
            wanted["applied_events"].add(mine)
            wanted["networks"].add((event.network_id,))
            for effect in fold.effects:
                if isinstance(effect, Forget):
                    continue
                key = tuple(effect.key.values())
                # A row keyed by the event's own id (its plan history line, its rejection) is written in the
                # transaction that marks the event applied: it is there only if the event was applied before.
                (own if key == mine else wanted)[effect.table].add(key)
        for name, keys in wanted.items():
            await self._read_rows(name, keys)
        for name, keys in own.items():
            for key in keys:
                self._rows[name].setdefault(key, None)

    async def _read_rows(self, name: str, keys: set[tuple[Any, ...]]) -> None:
        table = _table(TABLES[name])
        key_columns = list(table.primary_key.columns)
        tracked = [table.c[c] for c in _TRACKED if c in table.c]
        found = self._rows[name]
        found.update(dict.fromkeys(keys))
        # Keys of one network (a batch is mostly one) are looked up by the network and the rest of the key.
        by_network: dict[Any, list[tuple[Any, ...]]] = defaultdict(list)
        for key in keys:
            by_network[key[0]].append(key)
        for network_id, some in by_network.items():
            some.sort()
            for start in range(0, len(some), _KEYS_PER_READ):
                chunk = some[start : start + _KEYS_PER_READ]
                where = key_columns[0] == network_id
                if len(key_columns) == 2:
                    where = sa.and_(where, key_columns[1].in_([k[1] for k in chunk]))
                elif len(key_columns) > 2:
                    where = sa.and_(where, sa.tuple_(*key_columns[1:]).in_([k[1:] for k in chunk]))
                query = sa.select(*key_columns, *tracked).where(where)
                for row in await self._connection.execute(query):
                    stored = tuple(row)
                    known = dict(zip([c.name for c in tracked], stored[len(key_columns) :], strict=True))
                    found[stored[: len(key_columns)]] = _Row(known, new=False)

    def _row(self, name: str, key: tuple[Any, ...]) -> _Row | None:
        return self._rows[name].get(key)

    def _insert(self, name: str, key: dict[str, Any], values: dict[str, Any]) -> _Row:
        if name not in self._defaults:
            self._defaults[name] = _defaults(TABLES[name])
        row = _Row(self._defaults[name] | key | values, new=True)
        self._rows[name][tuple(key.values())] = row
        self._new[name].append(row)
        return row

    async def apply(self, folded: Sequence[tuple[Envelope, Fold]]) -> list[int | None]:
        """Fold the events in, in order; each event's change number, or None for one applied before."""
        seqs: list[int | None] = []
        for event, fold in folded:
            network_id = event.network_id
            applied_key = {"network_id": network_id, "event_id": event.id}
            if self._row("applied_events", tuple(applied_key.values())) is not None:
                seqs.append(None)
                continue
            self._insert("applied_events", applied_key, {})
            for effect in fold.effects:
                await self._carry_out(effect)
            network = self._row("networks", (network_id,)) or self._insert("networks", {"network_id": network_id}, {})
            seq = int(network.values["last_seq"] or 0) + 1
            network.set({"last_seq": seq})
            self._changes.append(
                {
                    "network_id": network_id,
                    "seq": seq,
                    "event_type": event.type,
                    "subject": fold.subject[:200],
                    "at": _now(),
                }
            )
            seqs.append(seq)
        await self.write()
        return seqs

    async def _carry_out(self, effect: Upsert | Patch | Ensure | Forget) -> None:
        if isinstance(effect, Forget):
            # Its statements go to the database: what this batch folded before must be there first.
            await self.write()
            await _forget(self._connection, effect.network_id, effect.learner_id)
            return
        row = self._row(effect.table, tuple(effect.key.values()))
        if row is None:
            if not isinstance(effect, Patch):
                self._insert(effect.table, effect.key, effect.values)
            return
        if isinstance(effect, Ensure):
            return
        stored = row.values.get("plan_version")
        if effect.version is not None and stored is not None and stored > effect.version:
            return
        row.set(effect.values)

    async def write(self) -> None:
        """The batch's pending writes: per table, one INSERT of its new rows and one UPDATE per set of changed
        columns, each executed with every row's parameters at once."""
        for name, rows in self._rows.items():
            table = _table(TABLES[name])
            new = self._new.pop(name, [])
            if new:
                await self._connection.execute(sa.insert(table), [row.values for row in new])
            updates: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
            key_names = [c.name for c in table.primary_key.columns]
            for key, row in rows.items():
                if row is not None and row.changed:
                    where = {f"key_{k}": v for k, v in zip(key_names, key, strict=True)}
                    updates[tuple(sorted(row.changed))].append(row.changed | where)
            for parameters in updates.values():
                # The SET clause is the parameters' column names; the key's go by other names.
                statement = sa.update(table).where(*(table.c[k] == sa.bindparam(f"key_{k}") for k in key_names))
                await self._connection.execute(statement, parameters)
            for row in new:
                row.new = False
            for row in rows.values():
                if row is not None:
                    row.changed = {}
        if self._changes:
            await self._connection.execute(sa.insert(_table(Change)), self._changes)
            self._changes = []


async def _forget(connection: AsyncConnection, network_id: str, learner_id: str) -> None:
    """The learner's name leaves the read model: their id stands where it stood (the plan's history stays whole).

    Later events name them by id only (sealed under the destroyed key, or published empty by the matcher), and
    a rebuild skips their sealed registration, so the name does not come back.
    """
    learners = _table(Learner)
    mine = (learners.c.network_id == network_id, learners.c.learner_id == learner_id)
    names: set[str] = {str(n) for n in (await connection.execute(sa.select(learners.c.name).where(*mine))).scalars()}
    await connection.execute(sa.update(learners).where(*mine).values(name=learner_id, withdrawn=True))
    for model in (Assignment, PlanChange, Problem):
        table = _table(model)
        theirs = (table.c.network_id == network_id, table.c.learner_id == learner_id)
        names.update(
            n for n in (await connection.execute(sa.select(table.c.learner_name).where(*theirs))).scalars() if n
        )
        await connection.execute(sa.update(table).where(*theirs).values(learner_name=learner_id))
    rejected, changes = _table(Rejected), _table(Change)
    for name in sorted(n for n in names if n and n.strip() and n != learner_id):
        # Refused records of the network that carried the name in clear text (from before sealing), and the
        # live pages' log lines about the learner.
        await connection.execute(
            sa.update(rejected)
            .where(rejected.c.network_id == network_id, rejected.c.original_text.contains(name))
            .values(original_text=None, original_base64=None)
        )
        await connection.execute(
            sa.update(changes)
            .where(changes.c.network_id == network_id, changes.c.subject == name)
            .values(subject=learner_id)
        )
