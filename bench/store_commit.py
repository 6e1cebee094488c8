"""Benchmark: one poll cycle's commit of 10,000 changed bill snapshots into a SQLite store on disk.

The poller commits a cycle's snapshots, watermarks and outbox in one transaction
(`SqlStore.commit_cycle`). A busy catch-up after downtime can change thousands of bills at once,
and the cycle holds SQLite's write lock while it commits, so this is the figure that says how long
the notifier and the chat side may wait behind it. The store is a real file in a temporary
directory (the commit's fsync counts); the statements are warmed by a small commit first. The
test suite checks how the commit is batched (tests/store/test_efficiency.py: a handful of
executemany round trips, not one per row); this script measures what that costs in seconds.

Usage: ``python bench/store_commit.py [--snapshots 10000] [--rounds 5]``. The last line printed is
``name=value`` pairs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, figures_line, load_1min, machine_summary, temporary_data_dir  # noqa: E402

sys.path.insert(0, str(ROOT))

from store.sql import open_store  # noqa: E402
from store.types import Snapshot  # noqa: E402

COMPANY = "BENCH-CO"
T0 = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)


def snapshots(count: int, state: str) -> dict[str, list[Snapshot]]:
    """`count` bill snapshots shaped like the poller's."""
    return {"APBILL": [Snapshot(n, T0 - timedelta(seconds=n), {"state": state, "due": "2026-12-01",
                                                              "total": f"{n}.00", "paid": "0.00"})
                       for n in range(1, count + 1)]}


async def commit_seconds(data_dir: Path, count: int, rounds: int) -> list[float]:
    """Seconds per commit of `count` changed snapshots, `rounds` times, on one store."""
    store = open_store(None, data_dir=data_dir)
    try:
        await store.migrate()
        await store.commit_cycle(COMPANY, watermarks={"APBILL": T0}, snapshots=snapshots(10, "Submitted"),
                                 outbox=[], now=T0)  # warm the statement cache
        seconds = []
        for n in range(rounds):
            batch = snapshots(count, "Posted" if n % 2 == 0 else "Paid")  # every row changes each round
            started = time.perf_counter()
            await store.commit_cycle(COMPANY, watermarks={"APBILL": T0}, snapshots=batch, outbox=[], now=T0)
            seconds.append(time.perf_counter() - started)
        stored = await store.load_all_snapshots(COMPANY, "APBILL")
        if len(stored) != count:
            raise SystemExit(f"store_commit: {len(stored)} snapshots stored, expected {count}")
        return seconds
    finally:
        await store.close()


def main() -> None:
    """Run the rounds and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshots", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(machine_summary())
    with temporary_data_dir() as tmp:
        seconds = asyncio.run(commit_seconds(Path(tmp), args.snapshots, args.rounds))
    print(f"commit of {args.snapshots} snapshots, {args.rounds} rounds: " + ", ".join(f"{s:.3f}" for s in seconds) + " s")
    print(figures_line({"snapshots": args.snapshots, "median_s": statistics.median(seconds),
                        "max_s": max(seconds), "load_1min": load_1min()}))


if __name__ == "__main__":
    main()
