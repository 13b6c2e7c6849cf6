"""The read model's writes (a batch of events per transaction, deduplicated) and the reads behind each page."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from verbund_schemas import Envelope

from ..domain.folding import Fold
from ..domain.views import Overview, TimelineFilter, weeks_of
from .batch_writes import BatchWrites
from .tables import (
    READ_MODEL_TABLES,
    Assignment,
    Change,
    Firm,
    Learner,
    Module,
    Network,
    Offer,
    Plan,
    PlanChange,
    Problem,
    Rejected,
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ReadModel:
    """Folds events into the tables and answers the pages' queries."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        # A network's change numbers are handed out read-modify-write; the consumers of one process take turns.
        self._write = asyncio.Lock()

    async def apply(self, event: Envelope, fold: Fold) -> int | None:
        """Fold one event in; its change number, or None when it was applied before (a redelivery)."""
        return (await self.apply_many([(event, fold)]))[0]

    async def apply_many(self, folded: Sequence[tuple[Envelope, Fold]]) -> list[int | None]:
        """Fold a consumed batch in, in order, in one transaction (one commit per batch, not per event: that
        commit was most of a small event's cost); each event's change number, or None for a redelivery."""
        async with self._write, self._sessions() as session, session.begin():
            writes = BatchWrites(await session.connection())
            await writes.read(folded)
            return await writes.apply(folded)

    async def clear(self) -> None:
        """Delete the whole read model (not the accounts), for a rebuild from the topics."""
        async with self._write, self._sessions() as session, session.begin():
            for name in READ_MODEL_TABLES:
                await session.execute(sa.text(f"DELETE FROM {name}"))  # names are our own constants

    async def network(self, network_id: str) -> Network | None:
        async with self._sessions() as session:
            return await session.get(Network, network_id)

    async def firm_and_offer(self, network_id: str, firm_id: str, offer_id: str | None) -> tuple[bool, str | None]:
        """Whether the firm is a firm of the network, and which firm made the offer (None: not known yet)."""
        async with self._sessions() as session:
            firm = await session.get(Firm, (network_id, firm_id))
            offer = await session.get(Offer, (network_id, offer_id)) if offer_id is not None else None
            return firm is not None, None if offer is None else offer.firm_id

    async def networks(self, ids: list[str]) -> list[Network]:
        async with self._sessions() as session:
            rows = await session.scalars(sa.select(Network).where(col(Network.network_id).in_(ids)))
            found = {n.network_id: n for n in rows}
        return [found.get(i) or Network(network_id=i) for i in sorted(ids)]

    async def overview(self, network_id: str) -> Overview:
        """The overview's numbers as `views.overview` counts them from the rows, but counted by the database:
        a network of 10,000 learners has some 80,000 assignments, too many to load for a page."""
        since = _now() - dt.timedelta(hours=24)
        async with self._sessions() as session:
            active = (col(Learner.network_id) == network_id, col(Learner.withdrawn).is_(False))
            has_phases, short = _has_phases(network_id), _has_open_shortfall(network_id)
            learners, with_phases, partial = (
                await session.execute(
                    sa.select(
                        sa.func.count(),
                        sa.func.count().filter(has_phases),
                        sa.func.count().filter(has_phases, short),
                    ).where(*active)
                )
            ).one()
            # Phases and offers by their weeks: a few hundred distinct spans, whatever the network's size.
            used = await session.execute(
                sa.select(col(Assignment.start_week), col(Assignment.end_week), sa.func.count())
                .where(*_live(network_id))
                .group_by(col(Assignment.start_week), col(Assignment.end_week))
            )
            offered = await session.execute(
                sa.select(col(Offer.first_week), col(Offer.last_week), sa.func.sum(Offer.max_seats))
                .where(col(Offer.network_id) == network_id, col(Offer.withdrawn).is_(False))
                .group_by(col(Offer.first_week), col(Offer.last_week))
            )
            open_problems = dict(
                (
                    await session.execute(
                        sa.select(col(Problem.kind), sa.func.count())
                        .where(col(Problem.network_id) == network_id, col(Problem.resolved_at).is_(None))
                        .group_by(col(Problem.kind))
                    )
                ).all()
            )
            rejected = await session.scalar(
                sa.select(sa.func.count())
                .select_from(Rejected)
                .where(col(Rejected.network_id) == network_id, col(Rejected.at) >= since)
            )
        return Overview(
            learners=int(learners),
            placed=int(with_phases) - int(partial),
            partial=int(partial),
            unplaced=int(learners) - int(with_phases),
            seats_offered=sum(int(seats) * weeks_of(first, last) for first, last, seats in offered.all()),
            seats_used=sum(int(n) * weeks_of(first, last) for first, last, n in used.all()),
            open_shortfalls=int(open_problems.get("shortfall", 0)),
            open_deficits=int(open_problems.get("deficit", 0)),
            rejected_24h=int(rejected or 0),
        )

    async def overview_rows(self, network_id: str) -> OverviewRows:
        since = _now() - dt.timedelta(hours=24)
        async with self._sessions() as session:
            learners = await _all(session, Learner, network_id)
            offers = await _all(session, Offer, network_id)
            assignments = await _all(session, Assignment, network_id)
            problems = await _all(session, Problem, network_id)
            rejected = await session.scalar(
                sa.select(sa.func.count())
                .select_from(Rejected)
                .where(col(Rejected.network_id) == network_id, col(Rejected.at) >= since)
            )
        return OverviewRows(learners, offers, assignments, problems, int(rejected or 0))

    async def problems(self, network_id: str, limit: int = 500) -> list[Problem]:
        async with self._sessions() as session:
            rows = await session.scalars(
                sa.select(Problem)
                .where(col(Problem.network_id) == network_id)
                .order_by(col(Problem.detected_at).desc())
                .limit(limit)
            )
            return list(rows)

    async def learner_page(
        self, network_id: str, page: int, per_page: int
    ) -> tuple[list[tuple[str, str]], int, list[Assignment], tuple[str, str] | None]:
        """The learners of one page (by name), how many there are, their assignments, the network's week span."""
        return await self.learner_timeline(network_id, TimelineFilter(page=page), per_page)

    async def learner_timeline(
        self, network_id: str, wanted: TimelineFilter, per_page: int | None
    ) -> tuple[list[tuple[str, str]], int, list[Assignment], tuple[str, str] | None]:
        """The filtered learners of one page (all of them without `per_page`), how many match, their assignments,
        and the network's week span."""
        async with self._sessions() as session:
            matching = _learner_conditions(network_id, wanted, with_place=True)
            total = int(await session.scalar(sa.select(sa.func.count()).select_from(Learner).where(*matching)) or 0)
            query = sa.select(col(Learner.learner_id), col(Learner.name)).where(*matching)
            query = query.order_by(col(Learner.name), col(Learner.learner_id))
            if per_page is not None:
                query = query.offset(wanted.page * per_page).limit(per_page)
            learners = [(str(i), str(n)) for i, n in (await session.execute(query)).all()]
            ids = [i for i, _ in learners]
            assignments: list[Assignment] = []
            # In slices: an export of a big network must stay under the database's limit of bound parameters.
            for start in range(0, len(ids), 500):
                assignments += await session.scalars(
                    sa.select(Assignment).where(
                        *_live(network_id), col(Assignment.learner_id).in_(ids[start : start + 500])
                    )
                )
            span = await _span(session, network_id)
        return learners, total, assignments, span

    async def firm_timeline(
        self, network_id: str, wanted: TimelineFilter, per_page: int | None
    ) -> tuple[list[tuple[str, str, str, str]], int, list[Assignment], tuple[str, str] | None]:
        """The firm × module rows of one page (firm name, module name), how many match, their assignments
        (narrowed to the learners the filter asks for), and the network's week span."""
        async with self._sessions() as session:
            conditions = [*_live(network_id)]
            if wanted.firm:
                conditions.append(col(Assignment.firm_id) == wanted.firm)
            if wanted.module:
                conditions.append(col(Assignment.module_id) == wanted.module)
            if wanted.about_learners:
                learners = sa.select(col(Learner.learner_id)).where(*_learner_conditions(network_id, wanted))
                conditions.append(col(Assignment.learner_id).in_(learners))
            found = (
                await session.execute(
                    sa.select(col(Assignment.firm_id), col(Assignment.module_id)).where(*conditions).distinct()
                )
            ).all()
            keys = {(str(f), str(m)) for f, m in found}
            if not wanted.about_learners:
                # A firm × module offered but not (yet) used is a row too: empty, which is worth seeing.
                keys |= await _offered_pairs(session, network_id, wanted.firm, wanted.module)
            pairs = await _named_pairs(session, network_id, keys)
            shown = pairs if per_page is None else pairs[wanted.page * per_page : (wanted.page + 1) * per_page]
            firms = sorted({f for f, _, _, _ in shown})
            assignments: list[Assignment] = []
            for start in range(0, len(firms), 500):
                assignments += await session.scalars(
                    sa.select(Assignment).where(*conditions, col(Assignment.firm_id).in_(firms[start : start + 500]))
                )
            span = await _span(session, network_id)
        page_keys = {(f, m) for f, _, m, _ in shown}
        return shown, len(pairs), [a for a in assignments if (a.firm_id, a.module_id) in page_keys], span

    async def utilisation(
        self, network_id: str, firm: str, module: str, page: int, per_page: int | None
    ) -> tuple[list[tuple[str, str, str, str]], int, list[Offer], list[Assignment], tuple[str, str] | None]:
        """The firm × module rows of one page, how many there are, their offers and assignments, the week span."""
        async with self._sessions() as session:
            keys = await _offered_pairs(session, network_id, firm, module)
            conditions = [*_live(network_id)]
            if firm:
                conditions.append(col(Assignment.firm_id) == firm)
            if module:
                conditions.append(col(Assignment.module_id) == module)
            found = await session.execute(
                sa.select(col(Assignment.firm_id), col(Assignment.module_id)).where(*conditions).distinct()
            )
            keys |= {(str(f), str(m)) for f, m in found.all()}
            pairs = await _named_pairs(session, network_id, keys)
            shown = pairs if per_page is None else pairs[page * per_page : (page + 1) * per_page]
            firms = sorted({f for f, _, _, _ in shown})
            offers: list[Offer] = []
            assignments: list[Assignment] = []
            for start in range(0, len(firms), 500):
                some = firms[start : start + 500]
                offers += await session.scalars(
                    sa.select(Offer).where(
                        col(Offer.network_id) == network_id,
                        col(Offer.withdrawn).is_(False),
                        col(Offer.firm_id).in_(some),
                    )
                )
                assignments += await session.scalars(
                    sa.select(Assignment).where(*conditions, col(Assignment.firm_id).in_(some))
                )
            span = await _span(session, network_id)
        return shown, len(pairs), offers, assignments, span

    async def present(self, network_id: str, firm: str, module: str, week: str) -> list[Assignment]:
        """The live assignments at a firm for a module that cover a week."""
        async with self._sessions() as session:
            rows = await session.scalars(
                sa.select(Assignment).where(
                    *_live(network_id),
                    col(Assignment.firm_id) == firm,
                    col(Assignment.module_id) == module,
                    col(Assignment.start_week) <= week,
                    col(Assignment.end_week) >= week,
                )
            )
            return list(rows)

    async def filter_choices(self, network_id: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]], list[str]]:
        """Firms (id, name), modules (id, name) and cohorts (years) a timeline can be narrowed to."""
        async with self._sessions() as session:
            firms = [
                (str(i), str(n))
                for i, n in (
                    await session.execute(
                        sa.select(col(Firm.firm_id), col(Firm.name))
                        .where(col(Firm.network_id) == network_id)
                        .order_by(col(Firm.name), col(Firm.firm_id))
                    )
                ).all()
            ]
            offered = await session.scalars(
                sa.select(col(Offer.module_id)).where(col(Offer.network_id) == network_id).distinct()
            )
            used = await session.scalars(
                sa.select(col(Assignment.module_id)).where(col(Assignment.network_id) == network_id).distinct()
            )
            ids = {str(m) for m in offered} | {str(m) for m in used}
            names = await _module_names(session, network_id, ids)
            modules = sorted(((m, names.get(m, m)) for m in ids), key=lambda m: (m[1], m[0]))
            years = await session.scalars(
                sa.select(sa.func.substr(Learner.first_week, 1, 4))
                .where(col(Learner.network_id) == network_id, col(Learner.first_week).is_not(None))
                .distinct()
            )
            cohorts = sorted(str(y) for y in years if y)
        return firms, modules, cohorts

    async def module_names(self, network_id: str, wanted: set[str] | None = None) -> dict[str, str]:
        """Module names by id, from the curricula first, else from the assignments (`wanted`: the modules that
        must be named; None: every one the network has). Where the curricula name all that are wanted, no
        assignment is read: at 10,000 learners that read took 100 ms of the problems page."""
        async with self._sessions() as session:
            return await _module_names(session, network_id, wanted)

    async def firms_taking_part(self, network_id: str) -> list[tuple[str, str]]:
        """The firms of the network that have not left: (id, name), by name."""
        async with self._sessions() as session:
            rows = await session.execute(
                sa.select(col(Firm.firm_id), col(Firm.name))
                .where(col(Firm.network_id) == network_id, col(Firm.left).is_(False))
                .order_by(col(Firm.name), col(Firm.firm_id))
            )
            return [(str(i), str(n)) for i, n in rows.all()]

    async def learner_names(self, network_id: str, learner_ids: set[str]) -> dict[str, str]:
        """The names of those of the learners who are registered in the network and not withdrawn."""
        if not learner_ids:
            return {}
        async with self._sessions() as session:
            rows = await session.execute(
                sa.select(col(Learner.learner_id), col(Learner.name)).where(
                    col(Learner.network_id) == network_id,
                    col(Learner.withdrawn).is_(False),
                    col(Learner.learner_id).in_(sorted(learner_ids)),
                )
            )
            return {str(i): str(n) for i, n in rows.all()}

    async def history(
        self, network_id: str, page: int, per_page: int | None, lines_per_version: int | None
    ) -> tuple[list[int], int, dict[int, Plan], dict[int, list[PlanChange]], dict[int, dict[str, int]]]:
        """Plan versions of one page (newest first), how many there are, their published plans, their change lines
        (at most `lines_per_version` each) and how many of each kind each version has."""
        async with self._sessions() as session:
            published = await session.scalars(
                sa.select(col(Plan.plan_version)).where(col(Plan.network_id) == network_id)
            )
            changed = await session.scalars(
                sa.select(col(PlanChange.plan_version)).where(col(PlanChange.network_id) == network_id).distinct()
            )
            every = sorted({*published, *changed}, reverse=True)
            versions = every if per_page is None else every[page * per_page : (page + 1) * per_page]
            plans = {
                p.plan_version: p
                for p in await session.scalars(
                    sa.select(Plan).where(col(Plan.network_id) == network_id, col(Plan.plan_version).in_(versions))
                )
            }
            counts: dict[int, dict[str, int]] = {}
            tally = await session.execute(
                sa.select(col(PlanChange.plan_version), col(PlanChange.kind), sa.func.count())
                .where(col(PlanChange.network_id) == network_id, col(PlanChange.plan_version).in_(versions))
                .group_by(col(PlanChange.plan_version), col(PlanChange.kind))
            )
            for version, kind, count in tally.all():
                counts.setdefault(int(version), {})[str(kind)] = int(count)
            lines: dict[int, list[PlanChange]] = {}
            # No lines at all: the CSV export reads them a slice at a time, not a query per version up front.
            for version in versions if lines_per_version != 0 else []:
                # Moves and cancellations first: a first plan makes every assignment, and those matter less.
                query = _version_lines(session, network_id, version)
                if lines_per_version is not None:
                    query = query.limit(lines_per_version)
                lines[version] = list(await session.scalars(query))
        return versions, len(every), plans, lines, counts

    async def history_lines(self, network_id: str, version: int, start: int, limit: int) -> list[PlanChange]:
        """A slice of one plan version's change lines, in the order the history shows them."""
        async with self._sessions() as session:
            query = _version_lines(session, network_id, version).offset(start).limit(limit)
            return list(await session.scalars(query))

    async def rejected(self, network_id: str, page: int, per_page: int | None) -> tuple[list[Rejected], int]:
        """Rejections newest first, one page of them, and how many there are."""
        async with self._sessions() as session:
            mine = col(Rejected.network_id) == network_id
            total = int(await session.scalar(sa.select(sa.func.count()).select_from(Rejected).where(mine)) or 0)
            query = sa.select(Rejected).where(mine).order_by(col(Rejected.at).desc(), col(Rejected.event_id).desc())
            if per_page is not None:
                query = query.offset(page * per_page).limit(per_page)
            return list(await session.scalars(query)), total

    async def calendar_of(
        self, network_id: str, *, learner: str = "", firm: str = ""
    ) -> tuple[str | None, list[Assignment]]:
        """A learner's or a firm's name (None when unknown) and its live assignments."""
        async with self._sessions() as session:
            known: Learner | Firm | None
            if learner:
                known = await session.get(Learner, (network_id, learner))
                where = col(Assignment.learner_id) == learner
            else:
                known = await session.get(Firm, (network_id, firm))
                where = col(Assignment.firm_id) == firm
            if known is None:
                return None, []
            rows = await session.scalars(sa.select(Assignment).where(*_live(network_id), where))
            return known.name, list(rows)

    async def changes_since(self, network_id: str, seq: int) -> list[Change]:
        async with self._sessions() as session:
            rows = await session.scalars(
                sa.select(Change)
                .where(col(Change.network_id) == network_id, col(Change.seq) > seq)
                .order_by(col(Change.seq))
                .limit(1000)
            )
            return list(rows)


@dataclass(frozen=True)
class OverviewRows:
    learners: list[Learner]
    offers: list[Offer]
    assignments: list[Assignment]
    problems: list[Problem]
    rejected_24h: int


async def _all(session: AsyncSession, table: Any, network_id: str) -> list[Any]:
    return list(await session.scalars(sa.select(table).where(table.network_id == network_id)))


def _live(network_id: str) -> tuple[Any, ...]:
    return (col(Assignment.network_id) == network_id, col(Assignment.cancelled).is_(False))


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _learner_conditions(network_id: str, wanted: TimelineFilter, *, with_place: bool = False) -> list[Any]:
    """The learners a filter asks for, as SQL on the learners table (a big network is filtered by the database)."""
    conditions: list[Any] = [col(Learner.network_id) == network_id, col(Learner.withdrawn).is_(False)]
    if wanted.search:
        conditions.append(sa.func.lower(Learner.name).like(_like(wanted.search), escape="\\"))
    if wanted.cohort:
        conditions.append(col(Learner.first_week).like(f"{wanted.cohort}-W%"))
    if with_place and wanted.firm:
        conditions.append(_has_phases(network_id, col(Assignment.firm_id) == wanted.firm))
    if with_place and wanted.module:
        conditions.append(_has_phases(network_id, col(Assignment.module_id) == wanted.module))
    if wanted.status:
        has_phases, short = _has_phases(network_id), _has_open_shortfall(network_id)
        if wanted.status == "unplaced":
            conditions.append(sa.not_(has_phases))
        elif wanted.status == "partial":
            conditions += [has_phases, short]
        else:
            conditions += [has_phases, sa.not_(short)]
    return conditions


def _has_phases(network_id: str, *where: Any) -> Any:
    """The learner (of the outer query) has a live assignment (there): looked up by the learner's index, where
    `learner_id IN (every live assignment)` built a table of some 80,000 ids in a big network for every query."""
    return (
        sa.select(sa.literal(1))
        .where(*_live(network_id), col(Assignment.learner_id) == col(Learner.learner_id), *where)
        .correlate(Learner)
        .exists()
    )


def _has_open_shortfall(network_id: str) -> Any:
    return (
        sa.select(sa.literal(1))
        .where(
            col(Problem.network_id) == network_id,
            col(Problem.learner_id) == col(Learner.learner_id),
            col(Problem.kind) == "shortfall",
            col(Problem.resolved_at).is_(None),
        )
        .correlate(Learner)
        .exists()
    )


async def _span(session: AsyncSession, network_id: str) -> tuple[str, str] | None:
    """The weeks the network's live assignments and offers cover (ISO week texts sort like the weeks)."""
    # Two statements, each answered from its index's first or last entry (one asking for both reads every row).
    placed = (
        await session.scalar(sa.select(sa.func.min(Assignment.start_week)).where(*_live(network_id))),
        await session.scalar(sa.select(sa.func.max(Assignment.end_week)).where(*_live(network_id))),
    )
    offered = (
        await session.execute(
            sa.select(sa.func.min(Offer.first_week), sa.func.max(Offer.last_week)).where(
                col(Offer.network_id) == network_id, col(Offer.withdrawn).is_(False)
            )
        )
    ).one()
    firsts = [w for w in (placed[0], offered[0]) if w]
    lasts = [w for w in (placed[1], offered[1]) if w]
    return (min(firsts), max(lasts)) if firsts and lasts else None


async def _offered_pairs(session: AsyncSession, network_id: str, firm: str, module: str) -> set[tuple[str, str]]:
    conditions = [col(Offer.network_id) == network_id, col(Offer.withdrawn).is_(False)]
    if firm:
        conditions.append(col(Offer.firm_id) == firm)
    if module:
        conditions.append(col(Offer.module_id) == module)
    found = await session.execute(sa.select(col(Offer.firm_id), col(Offer.module_id)).where(*conditions).distinct())
    return {(str(f), str(m)) for f, m in found.all()}


async def _module_names(session: AsyncSession, network_id: str, wanted: set[str] | None = None) -> dict[str, str]:
    """Names from the curricula; where none names a module (a curriculum older than the topics' retention), the
    name its assignments carry. `wanted`: the modules that must be named (None: every one the network has)."""
    curricula = await session.execute(
        sa.select(col(Module.module_id), col(Module.name)).where(col(Module.network_id) == network_id)
    )
    names = {str(m): str(n) for m, n in curricula.all()}
    if wanted is not None and wanted <= names.keys():
        return names
    query = sa.select(col(Assignment.module_id), sa.func.max(Assignment.module_name)).where(
        col(Assignment.network_id) == network_id
    )
    if wanted is not None:
        query = query.where(col(Assignment.module_id).in_(sorted(wanted - names.keys())))
    found = await session.execute(query.group_by(col(Assignment.module_id)))
    return {str(m): str(n) for m, n in found.all()} | names


def _version_lines(session: AsyncSession, network_id: str, version: int) -> Any:
    """One version's change lines, moves and cancellations first (a first plan makes every assignment, and those
    matter less), then by learner and module, compared by code point as Python does: the CSV export reads them in
    slices, and a slice must continue where the one before ended."""
    by_code_point = "C" if session.get_bind().dialect.name == "postgresql" else "BINARY"
    kind = col(PlanChange.kind)
    return (
        sa.select(PlanChange)
        .where(col(PlanChange.network_id) == network_id, col(PlanChange.plan_version) == version)
        .order_by(
            sa.case((kind == "changed", 0), (kind == "cancelled", 1), (kind == "made", 2), else_=3),
            sa.collate(col(PlanChange.learner_name), by_code_point),
            sa.collate(col(PlanChange.module_name), by_code_point),
            col(PlanChange.event_id),
        )
    )


async def _named_pairs(
    session: AsyncSession, network_id: str, keys: set[tuple[str, str]]
) -> list[tuple[str, str, str, str]]:
    """(firm id, firm name, module id, module name) for each pair, by firm name then module name."""
    firms = {
        str(i): str(n)
        for i, n in (
            await session.execute(
                sa.select(col(Firm.firm_id), col(Firm.name)).where(col(Firm.network_id) == network_id)
            )
        ).all()
    }
    modules = await _module_names(session, network_id, {m for _, m in keys})
    named = [(f, firms.get(f, f), m, modules.get(m, m)) for f, m in keys]
    return sorted(named, key=lambda p: (p[1].lower(), p[0], p[3].lower(), p[2]))
