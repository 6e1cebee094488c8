"""Benchmark: "@bot show pending bills" reply time, on the demo company and over 50,000 bills.

For each company size the sandbox (demo seed, plus `generate(bills=N)`) runs in a child process,
the whole app runs in-process (`app.build_runtime` + `app.build_web_app`: anonymous CloudAdapter,
handler, command service, scheduler, notifier) on a free loopback port, and a fake Bot Connector
(tests/fakes/bot_connector.py) stands in for Teams. The start-up poll (the baseline) is let
finish first and no other job is scheduled, so replies are measured alone. Each request is the
recorded channel @mention (tests/fixtures/teams-samples/bot-framework/message-channel-mention.json)
with its serviceUrl pointed at the fake connector; a reply is timed from just before the POST to
/api/messages until the fake connector recorded the reply in the thread. The first request of
each run (cold connector client and caches; the Intacct session already exists, the start-up
poll signed in) is reported apart. Percentiles are nearest-rank.

Usage: ``python bench/chat_reply.py [--bills 50000] [--requests 50] [--demo-requests 50]``. The
last line printed is ``name=value`` pairs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp  # noqa: E402

from _common import (  # noqa: E402
    BenchError,
    SandboxProcess,
    figures_line,
    load_1min,
    machine_summary,
    mention_activity,
    percentile,
    running_app,
    sample_ids,
    sandbox_environment,
    temporary_data_dir,
    utc_now,
    wait_until,
)
from tests.fakes.bot_connector import FakeBotConnector  # noqa: E402

COMMAND = "show pending bills"
REPLY_BUDGET_SECONDS = 15.0  # Teams gives a bot 15 s; a slower reply is a failure, not a figure
BASELINE_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class Run:
    """The replies of one company size."""

    bills: int
    first: float  # the first reply (cold connector client and caches)
    replies: list[float]
    sandbox_seconds: float  # in the sandbox's gateway handler, over the measured replies
    baseline_seconds: float  # app start-up until the baseline poll committed
    summary: str  # the last reply's notification summary ("Bills waiting for approval: Showing 10 of …")

    def line(self) -> str:
        """One human line for the log."""
        r = self.replies
        return (f"{self.bills} bills: {len(r)} replies p50 {percentile(r, 50):.3f} s, p95 {percentile(r, 95):.3f} s, "
                f"max {max(r):.3f} s, mean {statistics.fmean(r):.3f} s (sandbox {self.sandbox_seconds / len(r):.3f} s "
                f"per reply); first reply {self.first:.3f} s; start-up to baseline committed {self.baseline_seconds:.1f} s; "
                f"the reply: {self.summary!r}")  # fmt: skip


async def ask(http: aiohttp.ClientSession, messages_url: str, fake: FakeBotConnector, activity_id: str) -> tuple[float, str]:
    """POST one @mention; the seconds until its reply reached the fake connector, and the reply's summary."""
    activity = mention_activity(fake.service_url, COMMAND, activity_id)
    seen = len(fake.calls)
    started = utc_now()
    async with http.post(messages_url, json=activity, timeout=aiohttp.ClientTimeout(total=REPLY_BUDGET_SECONDS)) as response:
        if response.status >= 300:
            raise BenchError(f"/api/messages answered {response.status}: {(await response.text())[:200]}")
    replies = [c for c in fake.calls[seen:] if c.operation == "reply" and c.activity_id == activity_id]
    if not replies:
        operations = [f"{c.operation} {c.status}" for c in fake.calls[seen:]]
        raise BenchError(f"no reply reached the fake connector for activity {activity_id} (it saw: {operations or 'nothing'})")
    reply = replies[-1]
    if reply.status >= 300:
        raise BenchError(f"the fake connector refused the reply: {reply.status} {reply.body}")
    summary = str(reply.body.get("summary") or "") if isinstance(reply.body, dict) else ""
    if "waiting for approval" not in summary:
        raise BenchError(f"the reply is not the pending-bills card: {str(reply.body)[:300]}")
    return (reply.at - started).total_seconds(), summary


async def run_size(bills: int, requests: int) -> Run:
    """One company size: sandbox, app, fake Teams; `requests` measured replies after a first one."""
    team_id, channel_id, tenant_id = sample_ids()
    with SandboxProcess("demo", bills=bills) as sandbox, temporary_data_dir() as tmp:
        async with FakeBotConnector(tenant_id=tenant_id) as fake, aiohttp.ClientSession() as http:
            fake.add_team(team_id, name="Accounts payable", channels={channel_id: "Invoices"})
            started = time.perf_counter()
            async with running_app(sandbox_environment(sandbox, Path(tmp))) as app:
                await wait_until(app.baseline_done, timeout=BASELINE_TIMEOUT_SECONDS, what="the start-up baseline poll")
                baseline_seconds = time.perf_counter() - started
                stamp = int(datetime.now().timestamp() * 1000)
                first, _ = await ask(http, app.messages_url, fake, str(stamp))
                before = await sandbox.timings(http)
                answers = [await ask(http, app.messages_url, fake, str(stamp + 1 + i)) for i in range(requests)]
                after = await sandbox.timings(http)
    replies = [seconds for seconds, _ in answers]
    result = Run(sandbox.rows["APBILL"], first, replies, after.seconds - before.seconds, baseline_seconds, answers[-1][1])
    print(result.line(), flush=True)
    return result


async def run(bills: int, requests: int, demo_requests: int) -> dict[str, object]:
    """The demo company first, then the big one; returns the figures."""
    demo = await run_size(0, demo_requests)
    big = await run_size(bills, requests)
    return {
        "demo_bills": demo.bills,
        "demo_p50_s": percentile(demo.replies, 50),
        "demo_p95_s": percentile(demo.replies, 95),
        "demo_max_s": max(demo.replies),
        "bills": big.bills,
        "requests": len(big.replies),
        "p50_s": percentile(big.replies, 50),
        "p95_s": percentile(big.replies, 95),
        "max_s": max(big.replies),
        "sandbox_s_per_reply": big.sandbox_seconds / len(big.replies),
        "first_reply_s": big.first,
        "load_1min": f"{load_1min():.2f}",
    }


def main() -> None:
    """Parse options, run, print the figures last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bills", type=int, default=50_000, help="bills generated on top of the demo company's")
    parser.add_argument("--requests", type=int, default=50, help="measured replies over the big company")
    parser.add_argument("--demo-requests", type=int, default=50, help="measured replies over the demo company")
    args = parser.parse_args()
    if args.bills < 0 or args.requests < 1 or args.demo_requests < 1:
        parser.error("--bills must be ≥ 0, --requests and --demo-requests ≥ 1")
    print(machine_summary(), flush=True)
    try:
        figures = asyncio.run(run(args.bills, args.requests, args.demo_requests))
    except BenchError as exc:
        raise SystemExit(f"{Path(__file__).name}: {exc}") from None
    print(figures_line(figures))


if __name__ == "__main__":
    main()
