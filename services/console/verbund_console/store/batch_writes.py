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

from ..domain.folding import Accepted, Effect, Ensure, Fold, Forget, Patch, Undo, Upsert
from ..domain.rejected_inbound import RowWrite, learner_of, read_back, stored, take_out
from .tables import (
    AppliedEvent,
    Assignment,
    Change,
    ConsoleTable,
    Firm,
    InboundFate,
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
    "inbound_fates": InboundFate,
}

# Of a stored row, a batch needs only whether it is there, its plan version (an older version never overwrites a
# newer one) and a network's last change number; not the whole row as an ORM object: building those objects and
# the session's bookkeeping of them were most of a folded event's cost.
_TRACKED = ("plan_version", "last_seq")

# How long what an inbound event's fold replaced is kept when no plan version names the event as applied: the
# matcher's rejection follows the event within seconds, and a rebuild reads both topics within minutes.
KEPT_FOR = dt.timedelta(days=7)

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
        # Inbound events a plan version named as applied, per network; and whether the batch folded inbound ones.
        self._accepted: dict[str, set[str]] = defaultdict(set)
        self._folded_inbound = False
        self._at = _now()

    async def read(self, folded: Sequence[tuple[Envelope, Fold]]) -> None:
        """Every row the batch's events will look at, a few queries per table instead of one per event and effect."""
        wanted: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
        own: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
        # Tables read whole, not only the tracked columns: those an inbound event writes (what it replaces is kept
        # for a rejection) and the inbound events' fates.
        whole: set[str] = set()
        for event, fold in folded:
            mine = (event.network_id, event.id)
            wanted["applied_events"].add(mine)
            wanted["networks"].add((event.network_id,))
            if fold.inbound:
                wanted["inbound_fates"].add(mine)
                whole.add("inbound_fates")
            for effect in fold.effects:
                if isinstance(effect, Forget | Accepted):
                    continue
                if isinstance(effect, Undo) or fold.inbound:
                    whole.add(effect.table)
                key = tuple(effect.key.values())
                # A row keyed by the event's own id (its plan history line, its rejection) is written in the
                # transaction that marks the event applied: it is there only if the event was applied before.
                (own if key == mine else wanted)[effect.table].add(key)
        for name, keys in wanted.items():
            await self._read_rows(name, keys, whole=name in whole)
        for name, keys in own.items():
            for key in keys:
                self._rows[name].setdefault(key, None)

    async def _read_rows(self, name: str, keys: set[tuple[Any, ...]], *, whole: bool = False) -> None:
        table = _table(TABLES[name])
        key_columns = list(table.primary_key.columns)
        tracked = [c for c in table.c if not c.primary_key] if whole else [table.c[c] for c in _TRACKED if c in table.c]
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
            fate = self._row("inbound_fates", (network_id, event.id)) if fold.inbound else None
            if self._row("applied_events", tuple(applied_key.values())) is not None:
                resent = (
                    fate is not None
                    and fate.values["fate"] == "folded"
                    and fold.origin not in ("", fate.values["position"])
                )
                if fate is not None and resent:
                    # The same event sent again: the matcher applies this copy if it rejects the first.
                    fate.set({"resent": fold.origin})
                seqs.append(None)
                continue
            if fate is not None and fate.values["fate"] == "rejected" and _same(fate.values["position"], fold.origin):
                # The matcher's rejection was read first: the event is not folded. Nor is it marked applied, so
                # the same event sent again, which the matcher may apply, is folded when it comes.
                seqs.append(None)
                continue
            self._insert("applied_events", applied_key, {})
            writes: list[RowWrite] = []
            for effect in fold.effects:
                if fold.inbound and isinstance(effect, Upsert | Patch):
                    writes += self._replaced(effect)
                await self._carry_out(effect)
            network = self._row("networks", (network_id,)) or self._insert("networks", {"network_id": network_id}, {})
            seq = int(network.values["last_seq"] or 0) + 1
            network.set({"last_seq": seq})
            if writes:
                self._keep(network_id, event.id, fold.origin, seq, writes)
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
        await self._settle()
        return seqs

    def _replaced(self, effect: Upsert | Patch) -> list[RowWrite]:
        """The row write an inbound effect is about to make, with the values it replaces (none for a patch of a
        row that is not there: it writes nothing)."""
        row = self._row(effect.table, tuple(effect.key.values()))
        kind = "upsert" if isinstance(effect, Upsert) else "patch"
        if row is None and kind == "patch":
            return []
        before = None if row is None else {c: row.values.get(c) for c in effect.values}
        return [RowWrite(effect.table, dict(effect.key), kind, dict(effect.values), before)]

    def _keep(self, network_id: str, event_id: str, origin: str, seq: int, writes: list[RowWrite]) -> None:
        values = {
            "fate": "folded",
            "position": origin,
            "resent": None,
            "seq": seq,
            "at": self._at,
            "learner_id": learner_of(writes),
            "accepted": False,
            "writes": stored(writes),
        }
        self._folded_inbound = True
        fate = self._row("inbound_fates", (network_id, event_id))
        if fate is None:
            self._insert("inbound_fates", {"network_id": network_id, "event_id": event_id}, values)
        else:
            fate.set(values)  # rejected where it was first read; this copy is another

    async def _carry_out(self, effect: Effect) -> None:
        if isinstance(effect, Forget):
            # Its statements go to the database: what this batch folded before must be there first.
            await self.write()
            await _forget(self._connection, effect.network_id, effect.learner_id)
            # What the learner's inbound events replaced holds their name too.
            fates = _table(InboundFate)
            await self._connection.execute(
                sa.delete(fates).where(
                    fates.c.network_id == effect.network_id,
                    fates.c.learner_id == effect.learner_id,
                    fates.c.fate == "folded",
                )
            )
            kept = self._rows["inbound_fates"]
            for key, row in kept.items():
                if row is not None and key[0] == effect.network_id and row.values["learner_id"] == effect.learner_id:
                    kept[key] = None
            return
        if isinstance(effect, Accepted):
            self._accepted[effect.network_id].update(effect.event_ids)
            return
        if isinstance(effect, Undo):
            await self._undo(effect)
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

    async def _undo(self, effect: Undo) -> None:
        """The matcher rejected an inbound event: take its fold out, or mark it so it is never folded."""
        fate = self._row("inbound_fates", tuple(effect.key.values()))
        if fate is None:
            self._insert("inbound_fates", effect.key, {"fate": "rejected", "position": effect.origin, "at": _now()})
            return
        kept = fate.values
        if kept["fate"] == "rejected":
            return
        if not _same(kept["position"], effect.origin):
            if kept["resent"] == effect.origin:
                fate.set({"resent": None})  # the copy read again was rejected; the one folded stands
            return
        if kept["resent"]:
            # The same event read again elsewhere stands in for the rejected copy: the matcher applies that one.
            fate.set({"position": kept["resent"], "resent": None})
            return
        await self._take_out(effect.network_id, effect.event_id, fate)

    async def _take_out(self, network_id: str, event_id: str, fate: _Row) -> None:
        """Every row the rejected event wrote goes back to what it replaced, with the inbound writes folded after
        it laid over again (domain/rejected_inbound.py)."""
        await self.write()  # the rows as this batch left them are in the database, and read from there
        fates = _table(InboundFate)
        learner_id = fate.values["learner_id"]
        # Only writes to the same rows matter: a learner's rows are written only by that learner's events.
        same_rows = fates.c.learner_id == learner_id if learner_id is not None else fates.c.learner_id.is_(None)
        found = await self._connection.execute(
            sa.select(fates.c.event_id, fates.c.writes)
            .where(
                fates.c.network_id == network_id,
                fates.c.fate == "folded",
                fates.c.seq > fate.values["seq"],
                same_rows,
            )
            .order_by(fates.c.seq)
        )
        later = [(str(i), read_back(w)) for i, w in found.all()]
        rejected = read_back(fate.values["writes"])
        tables = {w.table for w in rejected}
        defaults = {name: self._defaults.setdefault(name, _defaults(TABLES[name])) for name in tables}
        before = {i: stored(w) for i, w in later}
        for outcome in take_out(rejected, [w for _, w in later], defaults):
            table = _table(TABLES[outcome.table])
            key = tuple(outcome.key.values())
            where = [table.c[k] == v for k, v in outcome.key.items()]
            values = outcome.values
            if values is None and outcome.table == "networks":
                # A network's row also holds its change numbers and plan: it stays, with its defaults back.
                values = {c: defaults["networks"].get(c) for c in outcome.columns}
            if values is None:
                await self._connection.execute(sa.delete(table).where(*where))
                if key in self._rows[outcome.table]:
                    self._rows[outcome.table][key] = None
            elif values:
                await self._connection.execute(sa.update(table).where(*where).values(**values))
                cached = self._rows[outcome.table].get(key)
                if cached is not None:
                    cached.values.update(values)
        for later_id, writes in later:
            if stored(writes) != before[later_id]:
                now_stored = stored(writes)
                await self._connection.execute(
                    sa.update(fates)
                    .where(fates.c.network_id == network_id, fates.c.event_id == later_id)
                    .values(writes=now_stored)
                )
                cached = self._rows["inbound_fates"].get((network_id, later_id))
                if cached is not None:
                    cached.values["writes"] = now_stored
        if learner_id is not None:
            # The live pages' log line of the rejected registration named the learner: the network never held it.
            changes = _table(Change)
            await self._connection.execute(
                sa.update(changes)
                .where(changes.c.network_id == network_id, changes.c.seq == fate.values["seq"])
                .values(subject=learner_id)
            )
        # Kept as rejected, without what it wrote: a redelivery of that record is not folded again.
        fate.set({"fate": "rejected", "seq": None, "writes": [], "learner_id": None, "accepted": False})
        # No longer applied: the same event sent again, which the matcher may apply, is folded when it comes.
        applied = _table(AppliedEvent)
        await self._connection.execute(
            sa.delete(applied).where(applied.c.network_id == network_id, applied.c.event_id == event_id)
        )
        if (network_id, event_id) in self._rows["applied_events"]:
            self._rows["applied_events"][(network_id, event_id)] = None

    async def _settle(self) -> None:
        """Drop what no rejection can need any more: folds a plan version named as applied, once no older fold
        still awaiting its fate could have them laid over again; and everything kept longer than KEPT_FOR."""
        fates = _table(InboundFate)
        for network_id, ids in self._accepted.items():
            named = sorted(ids)
            for start in range(0, len(named), _KEYS_PER_READ):
                await self._connection.execute(
                    sa.update(fates)
                    .where(
                        fates.c.network_id == network_id,
                        fates.c.fate == "folded",
                        fates.c.event_id.in_(named[start : start + _KEYS_PER_READ]),
                    )
                    .values(accepted=True)
                )
            folded = (fates.c.network_id == network_id, fates.c.fate == "folded")
            awaiting = await self._connection.scalar(
                sa.select(sa.func.min(fates.c.seq)).where(*folded, fates.c.accepted.is_(False))
            )
            older = (fates.c.seq < awaiting,) if awaiting is not None else ()
            await self._connection.execute(sa.delete(fates).where(*folded, fates.c.accepted.is_(True), *older))
        self._accepted.clear()
        if self._folded_inbound:
            await self._connection.execute(sa.delete(fates).where(fates.c.at < _now() - KEPT_FOR))
            self._folded_inbound = False

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


def _same(kept: str, read: str) -> bool:
    """Whether two positions ("topic:partition:offset") are one record's; an unknown one matches any."""
    return not kept or not read or kept == read


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
