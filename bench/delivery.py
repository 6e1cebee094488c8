"""Benchmark: 200 new bills routed over 10 channels, delivered by the notifier under Teams' limits.

The fake Bot Connector (tests/fakes/bot_connector.py) enforces Teams' published rate limits — per
bot per conversation 7 writes in any 1 s, 8 in 2 s, 60 in 30 s, 1800 in 3600 s, and 50 requests
per second per app and tenant — answering 429 Throttled past them. It runs in a child process,
as Teams runs on another machine: its CPU is not the notifier's. Everything else is the real
path on the real clock: 10 channels subscribed by department, 200 BillCreated events fanned out
(20 per channel) and committed in one poll-cycle transaction to a SQLite store in a temporary
directory, then ONE `Notifier.drain_once()` through the real CloudAdapter + TeamsConnector over
HTTP: claims, paced lanes, "sending" commits, posts, and each post's record (posted card,
delivered, audit line) — the lanes' commits merged by bot/delivery/store_writes.py as in production.

The minimum time is computed from first principles: a lower bound (per conversation, the earliest
schedule of its 20 writes under its windows, since its k-th write cannot precede its
(k − limit)-th plus the window; per tenant, 200 writes at 50 per second), and a schedule that
meets every window (a greedy simulation, least-recently-served conversation first) whose length
is therefore achievable. When both agree, that is the exact minimum; the last write's own round
trip is not in it. Measured: from the start of the drain to its end (every row committed as
delivered, posted card and audit line included), and to the last card Teams accepted.

Usage: ``python bench/delivery.py [--channels 10] [--per-channel 20] [--margin 0]``
(``--margin`` lengthens the pacer's windows; see bot.delivery.policy.with_margin). The last line
printed is ``name=value`` pairs; ``load1`` is the machine's 1-minute load average at the end (the
figures depend on it: the notifier's CPU per card is what separates it from the minimum).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import multiprocessing
import os
import re
import sys
import tempfile
import time
from datetime import datetime, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402

from bot.teams.connector import TeamsConnector, channel_reference, close_adapter, create_adapter  # noqa: E402
from bot.context import BotContext, CompanyContext  # noqa: E402
from bot.delivery.policy import PACING_MARGIN_SECONDS, delivery_limits  # noqa: E402
from bot.delivery.notifier import Notifier  # noqa: E402
from bot.pacing import ConversationPacer  # noqa: E402
from cards.links import IntacctLinks  # noqa: E402
from intacct.bills import Bill, BillLine  # noqa: E402
from intacct.client import IntacctClient  # noqa: E402
from intacct.credentials import IntacctCredentials  # noqa: E402
from observability.metrics import Metrics  # noqa: E402
from poller.events import BillCreated  # noqa: E402
from poller.routing import fan_out  # noqa: E402
from store.sql import open_store  # noqa: E402
from store.types import ConversationRecord, RouteFilter  # noqa: E402
from tests.fakes.bot_connector import SEND_LIMITS, TENANT_LIMITS, FakeBotConnector  # noqa: E402

COMPANY = "BENCH-CO"
TENANT = "bench-tenant"
TEAM = "19:bench-team@thread.tacv2"
MAX_EVENTS_PER_CHANNEL = 20  # the poller's default: a bigger burst in one channel becomes a summary


def utc_now() -> datetime:
    """The real clock (it is a benchmark)."""
    return datetime.now(timezone.utc)


# --- the minimum, from first principles ------------------------------------------------------


def conversation_bound(writes: int) -> Fraction:
    """Earliest time of the last of `writes` writes to one conversation (first at 0)."""
    times: list[Fraction] = []
    for k in range(writes):
        bounds = [times[-1] if times else Fraction(0)]
        bounds += [times[k - limit] + Fraction(window) for window, limit in SEND_LIMITS if k >= limit]
        times.append(max(bounds))
    return times[-1]


def tenant_bound(writes: int) -> Fraction:
    """Earliest time of the last of `writes` writes of one tenant (first at 0)."""
    return max(Fraction(window) * ((writes - 1) // limit) for window, limit in TENANT_LIMITS)


def greedy_schedule(conversations: int, per_conversation: int) -> Fraction:
    """Length of a schedule that respects every window: repeatedly give the earliest free slot to
    the conversation that wrote least in the last 2 s. Feasible by construction."""

    def earliest(stamps: list[Fraction], limits, not_before: Fraction) -> Fraction:
        moment = not_before
        for window, limit in limits:
            if len(stamps) >= limit:
                # the window (t − W, t] must hold fewer than `limit`: wait for the limit-th newest to leave
                moment = max(moment, stamps[-limit] + Fraction(window))
        return moment

    sent: dict[int, list[Fraction]] = {c: [] for c in range(conversations)}
    tenant: list[Fraction] = []
    last = Fraction(0)
    for _ in range(conversations * per_conversation):
        best = None
        for c, stamps in sent.items():
            if len(stamps) == per_conversation:
                continue
            own = earliest(stamps, SEND_LIMITS, Fraction(0))
            moment = earliest(tenant, TENANT_LIMITS, own)
            recent = sum(1 for s in stamps if s > moment - 2)
            key = (moment, recent, -(per_conversation - len(stamps)), c)
            best = key if best is None or key < best else best
        moment, _, _, c = best
        sent[c].append(moment)
        tenant.append(moment)
        tenant.sort()
        last = max(last, moment)
    return last


# --- the world ---------------------------------------------------------------------------------


def channel_id(n: int) -> str:
    return f"19:bench-channel-{n:02d}@thread.tacv2"


def department(n: int) -> str:
    return f"D{100 + n}"


def new_bill(record_no: int, dept: str) -> Bill:
    return Bill(
        record_no=record_no, bill_number=f"BENCH-{record_no}", vendor_id="V-100", vendor_name="Acme Office Supply",
        state="Submitted", total_entered=Decimal("1250.00"), total_due=Decimal("1250.00"), currency="USD",
        when_modified=utc_now(),
        lines=(BillLine(record_no=record_no * 10, line_no=1, amount=Decimal("1250.00"), gl_account_no="6100",
                        gl_account_title="Office Furniture", department_id=dept, department_name=f"Department {dept}"),),
    )  # fmt: skip


def channel_activity(service_url: str, channel: str) -> dict:
    """A Teams channel message as the handler receives it (the shape of a recorded one)."""
    return {
        "type": "message", "id": "1", "channelId": "msteams", "serviceUrl": service_url,
        "from": {"id": "29:user", "name": "AP clerk"}, "recipient": {"id": "28:bot", "name": "ml-connector"},
        "conversation": {"id": f"{channel};messageid=1", "isGroup": True, "conversationType": "channel", "tenantId": TENANT},
        "channelData": {"channel": {"id": channel}, "team": {"id": TEAM}, "tenant": {"id": TENANT}},
    }  # fmt: skip


def serve_fake(conn, channels: int) -> None:
    """Child process: the fake Bot Connector (Teams is another machine; its CPU is not ours)."""
    asyncio.run(_serve_fake(conn, channels))


async def _serve_fake(conn, channels: int) -> None:
    async with FakeBotConnector(tenant_id=TENANT, enforce_rate_limits=True) as fake:
        fake.add_team(TEAM, name="Accounts payable", channels={channel_id(n): f"AP {department(n)}" for n in range(channels)})
        conn.send(fake.service_url)
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # "report", once the drain is over
        posts = {
            n: [int(m) for post in fake.posts_in(channel_id(n)) for m in re.findall(r"BENCH-(\d+)", json.dumps(post.card))[:1]]
            for n in range(channels)
        }
        accepted = [c.at for c in fake.calls if c.status < 300]
        conn.send({"posts": posts, "statuses": collections.Counter(c.status for c in fake.calls),
                   "first_accepted": min(accepted) if accepted else None, "last_accepted": max(accepted) if accepted else None})


async def run(channels: int, per_channel: int, margin: float, service_url: str) -> dict[str, object]:
    """Queue the bills as one poll cycle would, then time one drain of the notifier."""
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(None, data_dir=Path(tmp))
        await store.migrate()
        adapter = create_adapter("", "")
        http = aiohttp.ClientSession()
        try:
            now = utc_now()
            for n in range(channels):
                cid = channel_id(n)
                reference = channel_reference(channel_activity(service_url, cid))
                await store.save_conversation(ConversationRecord(cid, reference, "channel", team_id=TEAM, channel_id=cid,
                                                                 tenant_id=TENANT, service_url=service_url, updated_at=now))
                await store.add_route(cid, frozenset({"bills"}), filter=RouteFilter(department=department(n)), company=None,
                                      team_id=None, tenant_id=TENANT, channel_name=f"AP {department(n)}", created_by=None, now=now)
            events = [BillCreated(COMPANY, new_bill(1000 + i, department(i % channels))) for i in range(channels * per_channel)]
            routes = await store.list_routes(active_only=True)
            items = fan_out(events, routes, now=now, max_per_channel=MAX_EVENTS_PER_CHANNEL)
            queued = await store.commit_cycle(COMPANY, watermarks={}, snapshots={}, outbox=items, now=now)

            client = IntacctClient(IntacctCredentials("bench", "-", COMPANY, "bench", "-"), http=http)
            company = CompanyContext(COMPANY, client, IntacctLinks("https://www.intacct.com", COMPANY))
            context = BotContext(store=store, companies={COMPANY: company}, clock=utc_now, metrics=Metrics())
            pacer = ConversationPacer(utc_now, asyncio.sleep, **delivery_limits(margin))
            notifier = Notifier(context, TeamsConnector(adapter, clock=utc_now), pacer, holder="bench", sleep=asyncio.sleep)

            cpu_start, started, started_at = time.process_time(), time.perf_counter(), utc_now()
            report = await notifier.drain_once()
            total = time.perf_counter() - started
            cpu = time.process_time() - cpu_start
            rows = await store.outbox_items()
            return {"queued": queued, "report": report, "total_s": total, "cpu_s": cpu, "started_at": started_at,
                    "undelivered_rows": sum(1 for r in rows if r.status != "delivered")}
        finally:
            await http.close()
            await close_adapter(adapter)
            await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=10)
    parser.add_argument("--per-channel", type=int, default=20)
    parser.add_argument("--margin", type=float, default=PACING_MARGIN_SECONDS, help="seconds added to each pacing window")
    args = parser.parse_args()
    if args.per_channel > MAX_EVENTS_PER_CHANNEL:
        parser.error(f"--per-channel above {MAX_EVENTS_PER_CHANNEL} would be folded into one summary card per channel")

    lower = max(conversation_bound(args.per_channel), tenant_bound(args.channels * args.per_channel))
    feasible = greedy_schedule(args.channels, args.per_channel)
    minimum = float(feasible)
    print(f"limits: per conversation {SEND_LIMITS}, per tenant {TENANT_LIMITS}")
    print(f"minimum: lower bound {float(lower):.3f} s (conversation {float(conversation_bound(args.per_channel)):.3f} s, "
          f"tenant {float(tenant_bound(args.channels * args.per_channel)):.3f} s); a feasible schedule takes {minimum:.3f} s"
          + (" — the exact minimum" if feasible == lower else ""))

    parent, child = multiprocessing.Pipe()
    server = multiprocessing.get_context("spawn").Process(target=serve_fake, args=(child, args.channels), daemon=True)
    server.start()
    try:
        if not parent.poll(60):
            raise SystemExit("the fake Bot Connector did not start")
        result = asyncio.run(run(args.channels, args.per_channel, args.margin, parent.recv()))
        parent.send("report")
        teams = parent.recv()
    finally:
        server.join(timeout=10)
        if server.is_alive():
            server.terminate()

    seen = collections.Counter((n, number) for n, numbers in teams["posts"].items() for number in numbers)
    expected = {(i % args.channels, 1000 + i) for i in range(args.channels * args.per_channel)}
    delivered = len(set(seen) & expected)
    duplicates = sum(count - 1 for count in seen.values())
    lost = max(len(expected - set(seen)), result["undelivered_rows"])
    throttled = teams["statuses"].get(429, 0)
    requests = sum(teams["statuses"].values())
    total = result["total_s"]
    overhead = (total - minimum) / minimum * 100
    last_card = (teams["last_accepted"] - result["started_at"]).total_seconds() if teams["last_accepted"] else float("nan")
    first_card = (teams["first_accepted"] - result["started_at"]).total_seconds() if teams["first_accepted"] else float("nan")
    print(f"drain: {result['report']}")
    print(f"measured: {total:.3f} s for {delivered} cards (the last one in Teams after {last_card:.3f} s), {requests} "
          f"requests ({throttled} answered 429), {result['cpu_s']:.2f} s CPU in the notifier's process; "
          f"{result['undelivered_rows']} rows not delivered; overhead {overhead:.1f}% over the minimum")
    print(
        f"delivered={delivered} duplicates={duplicates} lost={lost} total_s={total:.3f} minimum_s={minimum:.3f} "
        f"overhead_pct={overhead:.1f} throttled_429={throttled} first_card_s={first_card:.3f} last_card_s={last_card:.3f} margin_s={args.margin} "
        f"cpu_s={result['cpu_s']:.2f} load1={os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
