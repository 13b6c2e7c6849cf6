"""Matcher ingestion without Kafka: how fast one process applies, plans and commits batches of inbound events.

python bench/ingest.py                                   # SQLite file, 50 networks, batches of 500 and 5000
python bench/ingest.py --batch 500 --events 20000 --profile
python bench/ingest.py --database-url postgresql+asyncpg://user@host/db
python bench/ingest.py --shape realistic --batch 500 --events 12000 --profile   # networks like scenarios/plastics.jsonl

Feeds the matcher's own batch handler (`handle_batch`: inbox, state, replan, outbox, one transaction) with
the events `bench/pipeline.py` produces, so the two are comparable: the difference between this and the
pipeline's burst rate is what Kafka, the relay and batching add. Networks grow through the run, as there.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import json
import pstats
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pipeline import RealisticShape, learner_event, network_setup
from sqlalchemy import func
from sqlmodel import select
from verbund_matcher.ops.collector import CollectorPolicy
from verbund_matcher.service.ingest import Record, handle_batch
from verbund_matcher.service.replan import PlannerSettings
from verbund_matcher.settings import MatcherSettings
from verbund_matcher.store.database import create_engine, migrate, session_factory
from verbund_matcher.store.networks import NetworkCache
from verbund_matcher.store.tables import OutboxRow

TODAY = dt.date(2030, 12, 1)
# The scenario's own day: its weeks lie ahead, as they do for the pipeline's matcher.
REALISTIC_TODAY = dt.date(2027, 5, 3)
T = TypeVar("T")


def _records(events: list[dict[str, object]], offset: int) -> list[Record]:
    return [
        Record("inbound", 0, offset + i, str(e["subject"]).encode(), json.dumps(e).encode())
        for i, e in enumerate(events)
    ]


async def _run(
    database_url: str,
    networks: int,
    events: int,
    batch: int,
    profile: Path | None,
    shape: RealisticShape | None,
) -> dict[str, float]:
    engine = create_engine(database_url)
    await migrate(engine)
    sessions = session_factory(engine)
    cache = NetworkCache()
    planner = PlannerSettings(workers=1)
    day = REALISTIC_TODAY if shape else TODAY
    ids = [f"bench-{i:03d}" for i in range(networks)]
    setup = [e for n in ids for e in (shape.setup(n) if shape else network_setup(n))]
    await handle_batch(sessions, _records(setup, 0), today=lambda: day, planner=planner, cache=cache)
    stream = []
    for i in range(1, events + 1):
        network = ids[i % networks]
        learner = f"L{i:06d}"
        stream.append(shape.learner(network, learner, i) if shape else learner_event(network, learner, first=i % 60))
    records = _records(stream, len(setup))
    profiler = cProfile.Profile() if profile else None
    # As the matcher does after every committed batch (settings.gc_full_collect_seconds, its default).
    collector = CollectorPolicy(MatcherSettings.model_fields["gc_full_collect_seconds"].default)
    times: list[float] = []
    start = time.perf_counter()
    for lo in range(0, len(records), batch):
        t0 = time.perf_counter()
        if profiler:
            profiler.enable()
        await handle_batch(sessions, records[lo : lo + batch], today=lambda: day, planner=planner, cache=cache)
        collector.after_batch()
        if profiler:
            profiler.disable()
        times.append(time.perf_counter() - t0)
    seconds = time.perf_counter() - start
    async with sessions() as session:
        staged = (await session.exec(select(func.count()).select_from(OutboxRow))).one()
    await engine.dispose()
    if profiler and profile:
        profiler.dump_stats(profile)
    times.sort()
    return {
        "seconds": seconds,
        "rate": events / seconds,
        "p50_batch_ms": times[len(times) // 2] * 1000,
        "max_batch_ms": times[-1] * 1000,
        "staged": staged,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=50)
    parser.add_argument("--events", type=int, default=12_000, help="LearnerRegistered events after the setup")
    parser.add_argument("--batch", type=int, nargs="+", default=[500, 5000], help="records per batch")
    parser.add_argument(
        "--database-url", default=None, help="an empty database (default: a fresh SQLite file per batch size)"
    )
    parser.add_argument(
        "--shape",
        choices=["toy", "realistic"],
        default="toy",
        help="toy: two firms, two modules; realistic: like scenarios/plastics.jsonl (as bench/pipeline.py)",
    )
    parser.add_argument(
        "--capacity-scale", type=int, default=50, help="realistic shape: the scenario's seats times this"
    )
    parser.add_argument(
        "--distinct",
        action="store_true",
        help="realistic shape: every new learner with preferences of its own (as bench/pipeline.py --distinct)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="print where the time goes (cProfile, top 60); the planner then runs in the event loop's thread, so "
        "that the profile sees it",
    )
    parser.add_argument("--sort", default="cumulative", choices=["cumulative", "tottime"], help="profile order")
    parser.add_argument(
        "--callers", nargs="*", default=[], metavar="FUNCTION", help="with --profile: who calls these functions"
    )
    args = parser.parse_args(argv)
    if args.database_url and len(args.batch) > 1:
        parser.error("--database-url needs an empty database per run: give one --batch size")
    shape = RealisticShape(args.capacity_scale, distinct=args.distinct) if args.shape == "realistic" else None
    if args.profile:
        # cProfile sees one thread only: the planner's worker threads would be missing from the profile.
        async def inline(func: Callable[..., T], /, *a: Any, **kw: Any) -> T:
            return func(*a, **kw)

        asyncio.to_thread = inline  # type: ignore[assignment]
    print(f"Ingestion: {args.networks} {args.shape} networks, {args.events} LearnerRegistered events, no Kafka")
    print(f"| {'batch':>6} | {'events/s':>9} | {'p50 batch ms':>12} | {'max batch ms':>12} | {'outbox rows':>11} |")
    print(f"|{'-' * 8}|{'-' * 11}|{'-' * 14}|{'-' * 14}|{'-' * 13}|")
    for batch in args.batch:
        with tempfile.TemporaryDirectory() as tmp:
            url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'ingest.db'}"
            profile = Path(tmp) / "profile.out" if args.profile else None
            r = asyncio.run(_run(url, args.networks, args.events, batch, profile, shape))
            print(
                f"| {batch:>6} | {r['rate']:>9,.0f} | {r['p50_batch_ms']:>12.1f} | {r['max_batch_ms']:>12.1f} "
                f"| {int(r['staged']):>11} |"
            )
            if profile:
                stats = pstats.Stats(str(profile), stream=sys.stderr).sort_stats(args.sort)
                stats.print_stats(60)
                for name in args.callers:
                    stats.print_callers(name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
