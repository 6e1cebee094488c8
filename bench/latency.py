"""Benchmark (issues 9 and 18): end-to-end latency from a bill created in Intacct to its card in Teams.

Two modes. **Poll** (default): POLL_SCHEDULE=every 10s, nothing else. **Push** (`--push`): Intacct
wake-ups on (INTACCT_EVENTS_SECRET) and the sandbox calling the app's /api/intacct/events after
every change, as Intacct's triggers do, with the regular poll only every 15 minutes (`--poll-every
900`): the card should follow within seconds (issue 18: p99 under 5 s).

The sandbox (demo seed) runs in a child process; the whole app runs in-process
(`app.build_runtime` + `app.build_web_app`: scheduler, poller, wake-ups, notifier, anonymous
CloudAdapter) on a free loopback port, with a fake Bot Connector (tests/fakes/bot_connector.py)
as Teams and one channel subscribed to bills (its conversation reference, whose serviceUrl is the
fake connector, and a route, stored as `@bot subscribe bills` would). After the start-up baseline
poll, bills are created through the sandbox's admin API at random moments (uniform, seeded) over
the span; a bill's latency runs from just before its POST /sandbox/bills to the moment the fake
connector accepted the new post carrying its bill number; the share after the poll's commit
(outbox row created → card accepted) is printed too. When polling, the interval dominates: a bill
waits on average half an interval for the next poll. Other schedules (digest, reconcile,
reference) are off. Percentiles are nearest-rank (p99 of 60 samples is the maximum).

Usage: ``python bench/latency.py [--push] [--bills 60] [--span 90] [--poll-every 10|900] [--seed 9]``.
The last line printed is ``name=value`` pairs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import secrets
import statistics
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp  # noqa: E402

from _common import (  # noqa: E402
    COMPANY,
    BenchError,
    SandboxProcess,
    figures_line,
    load_1min,
    machine_summary,
    percentile,
    running_app,
    sample_ids,
    sandbox_environment,
    subscribe_channel,
    temporary_data_dir,
    utc_now,
    wait_until,
)
from bot.wakeups.intacct_events import events_url  # noqa: E402
from tests.fakes.bot_connector import FakeBotConnector  # noqa: E402

BASELINE_TIMEOUT_SECONDS = 60.0
DRAIN_MARGIN_SECONDS = 30.0  # after the last bill: one more poll interval plus this, then give up


def arrivals(fake: FakeBotConnector, numbers: dict[str, datetime]) -> dict[str, datetime]:
    """When the fake connector accepted the first new post carrying each bill number."""
    seen: dict[str, datetime] = {}
    for call in fake.calls:
        if call.operation != "create" or call.status >= 300:
            continue
        text = json.dumps(call.body)
        for number in numbers:
            # Whole bill numbers only: INV-1010-1033 must not match INV-1010-10335.
            if number not in seen and re.search(rf"(?<![\w-]){re.escape(number)}(?![\w-])", text):
                seen[number] = call.at
    return seen


async def run(bills: int, span: float, poll_every: int, seed: int, push: bool = False) -> dict[str, object]:
    """Create the bills on their schedule, wait for every card; returns the figures."""
    team_id, channel_id, tenant_id = sample_ids()
    rng = random.Random(seed)
    moments = sorted(rng.uniform(0, span) for _ in range(bills))
    created: dict[str, datetime] = {}
    record_nos: dict[str, int] = {}
    with SandboxProcess("demo") as sandbox, temporary_data_dir() as tmp:
        async with FakeBotConnector(tenant_id=tenant_id) as fake, aiohttp.ClientSession() as http:
            fake.add_team(team_id, name="Accounts payable", channels={channel_id: "Invoices"})

            async def subscribe(runtime) -> None:
                await subscribe_channel(runtime.store, fake.service_url, frozenset({"bills"}), now=utc_now())

            secret = secrets.token_urlsafe(24)
            wakeups = {"INTACCT_EVENTS_SECRET": secret} if push else {}
            environ = sandbox_environment(sandbox, Path(tmp), POLL_SCHEDULE=f"every {poll_every}s", **wakeups)
            async with running_app(environ, before_start=subscribe) as app:
                await wait_until(app.baseline_done, timeout=BASELINE_TIMEOUT_SECONDS, what="the start-up baseline poll")
                if push:  # the sandbox calls the app after every change, as Intacct's triggers do
                    await sandbox.admin(http, "POST", "/sandbox/webhooks", {"url": events_url(app.url, COMPANY), "secret": secret})
                polls_before = _polls(app)
                mode = "wake-ups on" if push else "no wake-ups"
                print(f"baseline done; creating {bills} bills over {span:g} s (poll every {poll_every} s, {mode})", flush=True)
                origin = time.perf_counter()
                for moment in moments:
                    delay = origin + moment - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    sent = utc_now()
                    bill = await sandbox.admin(http, "POST", "/sandbox/bills", {})
                    created[bill["bill_number"]] = sent
                    record_nos[bill["bill_number"]] = bill["record_no"]

                async def all_arrived() -> bool:
                    return len(arrivals(fake, created)) == len(created)

                drain = (min(poll_every, 10) if push else poll_every) + DRAIN_MARGIN_SECONDS
                try:
                    await wait_until(all_arrived, timeout=drain, what="every card")
                except BenchError:
                    pass  # reported below as lost cards
                polls = _polls(app) - polls_before
                woken = app.runtime.metrics.wakeups.labels(COMPANY, "smart_event", "accepted")._value.get()
                seen = arrivals(fake, created)
                # When each bill's outbox row was committed by the poll that found it.
                committed = {item.record_no: item.created_at for item in await app.runtime.store.outbox_items(limit=10 * bills)
                             if item.record_kind == "bill"}
                statuses: dict[int, int] = {}
                for call in fake.calls:
                    statuses[call.status] = statuses.get(call.status, 0) + 1

    latencies = [(seen[number] - sent).total_seconds() for number, sent in created.items() if number in seen]
    # The app's own share: from the commit of the poll that found the bill to the card in Teams.
    after_commit = [(seen[n] - committed[record_nos[n]]).total_seconds() for n in created if n in seen and record_nos[n] in committed]
    lost = len(created) - len(latencies)
    if not latencies:
        raise BenchError(f"no card arrived for any of the {len(created)} bills (the fake connector answered {statuses})")
    print(f"{len(latencies)} of {len(created)} cards arrived; latency min {min(latencies):.3f} s, mean "
          f"{statistics.fmean(latencies):.3f} s, p50 {percentile(latencies, 50):.3f} s, p90 {percentile(latencies, 90):.3f} s, "
          f"p99 {percentile(latencies, 99):.3f} s, max {max(latencies):.3f} s; fake connector answers {statuses}")  # fmt: skip
    # One commit per poll: rows sharing a created_at came from one cycle. Past 7 cards in 1 s (8 in
    # 2 s) to one channel, Teams' limits make the notifier pace the rest: a big batch waits.
    per_poll = Counter(committed.values())
    if after_commit:
        print(f"of which from the poll's commit to the card in Teams: p50 {percentile(after_commit, 50):.3f} s, "
              f"p99 {percentile(after_commit, 99):.3f} s, max {max(after_commit):.3f} s ({len(after_commit)} bills; "
              f"{len(per_poll)} polls found bills, at most {max(per_poll.values())} in one)")  # fmt: skip
    if lost:
        print(f"PROBLEM: {lost} bills never reached the channel", flush=True)
    print(f"{polls} poll cycles ran for them ({int(woken)} wake-ups accepted)")
    return {
        "mode": "push" if push else "poll",
        "bills": len(created),
        "delivered": len(latencies),
        "lost": lost,
        "poll_every_s": poll_every,
        "span_s": span,
        "p50_s": percentile(latencies, 50),
        "p99_s": percentile(latencies, 99),
        "mean_s": statistics.fmean(latencies),
        "min_s": min(latencies),
        "max_s": max(latencies),
        "commit_to_card_p50_s": percentile(after_commit, 50) if after_commit else "none",
        "commit_to_card_p99_s": percentile(after_commit, 99) if after_commit else "none",
        "max_bills_per_poll": max(per_poll.values()) if per_poll else 0,
        "polls": polls,
        "wakeups": int(woken),
        "load_1min": f"{load_1min():.2f}",
    }


def _polls(app) -> int:
    """Poll cycles the app ran so far (scheduled, wake-up and recheck), from its own metrics."""
    counter = app.runtime.metrics.polls.labels(COMPANY, "poll", "ok")
    return int(counter._value.get())


def main() -> None:
    """Parse options, run, print the figures last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--push", action="store_true", help="Intacct wake-ups on: the sandbox calls the app after every change")
    parser.add_argument("--bills", type=int, default=60)
    parser.add_argument("--span", type=float, default=90.0, help="seconds over which the bills are created")
    parser.add_argument("--poll-every", type=int, default=None, help="POLL_SCHEDULE=every N s (default 10; 900 with --push)")
    parser.add_argument("--seed", type=int, default=9, help="random moments are drawn from this seed")
    args = parser.parse_args()
    if args.poll_every is None:
        args.poll_every = 900 if args.push else 10
    if args.bills < 1 or args.span <= 0 or args.poll_every < 1:
        parser.error("--bills, --span and --poll-every must be positive")
    print(machine_summary(), flush=True)
    try:
        figures = asyncio.run(run(args.bills, args.span, args.poll_every, args.seed, args.push))
    except BenchError as exc:
        raise SystemExit(f"{Path(__file__).name}: {exc}") from None
    print(figures_line(figures))


if __name__ == "__main__":
    main()
