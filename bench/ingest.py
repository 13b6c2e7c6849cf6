"""Matcher ingestion without Kafka: how fast one process applies, plans and commits batches of inbound events.

python bench/ingest.py                                   # SQLite file, 50 networks, batches of 500 and 5000
python bench/ingest.py --batch 500 --events 20000 --profile
python bench/ingest.py --database-url postgresql+asyncpg://user@host/db

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
from collections.abc import Sequence
from pathlib import Path

from pipeline import learner_event, network_setup
from sqlalchemy import func
from sqlmodel import select
from verbund_matcher.service.ingest import Record, handle_batch
from verbund_matcher.service.replan import PlannerSettings
from verbund_matcher.store.database import create_engine, migrate, session_factory
from verbund_matcher.store.networks import NetworkCache
from verbund_matcher.store.tables import OutboxRow

TODAY = dt.date(2030, 12, 1)


def _records(events: list[dict[str, object]], offset: int) -> list[Record]:
    return [
        Record("inbound", 0, offset + i, str(e["subject"]).encode(), json.dumps(e).encode())
        for i, e in enumerate(events)
    ]


async def _run(database_url: str, networks: int, events: int, batch: int, profile: Path | None) -> dict[str, float]:
    engine = create_engine(database_url)
    await migrate(engine)
    sessions = session_factory(engine)
    cache = NetworkCache()
    planner = PlannerSettings(workers=1)
    ids = [f"bench-{i:03d}" for i in range(networks)]
    setup = [e for n in ids for e in network_setup(n)]
    await handle_batch(sessions, _records(setup, 0), today=lambda: TODAY, planner=planner, cache=cache)
    stream = []
    for i in range(1, events + 1):
        network = ids[i % networks]
        stream.append(learner_event(network, f"L{i:06d}", first=i % 60))
    records = _records(stream, len(setup))
    profiler = cProfile.Profile() if profile else None
    times: list[float] = []
    start = time.perf_counter()
    for lo in range(0, len(records), batch):
        t0 = time.perf_counter()
        if profiler:
            profiler.enable()
        await handle_batch(sessions, records[lo : lo + batch], today=lambda: TODAY, planner=planner, cache=cache)
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
    parser.add_argument("--profile", action="store_true", help="print where the time goes (cProfile, top 60)")
    parser.add_argument("--sort", default="cumulative", choices=["cumulative", "tottime"], help="profile order")
    args = parser.parse_args(argv)
    if args.database_url and len(args.batch) > 1:
        parser.error("--database-url needs an empty database per run: give one --batch size")
    print(f"Ingestion: {args.networks} networks, {args.events} LearnerRegistered events, no Kafka")
    print(f"| {'batch':>6} | {'events/s':>9} | {'p50 batch ms':>12} | {'max batch ms':>12} | {'outbox rows':>11} |")
    print(f"|{'-' * 8}|{'-' * 11}|{'-' * 14}|{'-' * 14}|{'-' * 13}|")
    for batch in args.batch:
        with tempfile.TemporaryDirectory() as tmp:
            url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'ingest.db'}"
            profile = Path(tmp) / "profile.out" if args.profile else None
            r = asyncio.run(_run(url, args.networks, args.events, batch, profile))
            print(
                f"| {batch:>6} | {r['rate']:>9,.0f} | {r['p50_batch_ms']:>12.1f} | {r['max_batch_ms']:>12.1f} "
                f"| {int(r['staged']):>11} |"
            )
            if profile:
                pstats.Stats(str(profile), stream=sys.stderr).sort_stats(args.sort).print_stats(60)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
