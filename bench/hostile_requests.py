"""Benchmark: floods of hostile requests against the bot's HTTP routes — the event loop's longest
stall and the log lines they cost.

The bot's web server runs in-process on a loopback port: `bot.teams.server.create_web_app` with the
real /api/messages handler (anonymous CloudAdapter, `MlConnectorBot`) and the real Graph
notification route (`app.build_graph_bridge`; Graph itself is never called: a forged
notification is refused on its clientState, checked in memory against the one subscription
stored). A ticker task on the same loop asks to wake every 5 ms and records how late it woke:
its worst lateness is the longest stall a flood caused. Each flood is 100 bodies sent one after
another, built beforehand:

- `graph`: 1,000 notifications per body, each with a wrong clientState (refused: 403);
- `flat`: an activity with 1,000 entities and no `conversation` (refused: 400);
- `deep`: 100,000 `[` (refused before parsing: 400).

Each flood runs against a fresh app (its own SQLite store and refusal log), stopped after it.
Logging is the app's own (`configure_logging`, text format) writing to /dev/null, so each line
costs its formatting, masking and write; lines at WARNING and above are counted from start to
shutdown. A flood
spans less than the refusal log's 60 s interval, so the target is two lines per flood: the first
refusal in full, and the count of the rest written at shutdown.

Usage: ``python bench/hostile_requests.py [--bodies 100] [--items 1000]``. The last line printed
is ``name=value`` pairs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from _common import MENTION_SAMPLE, figures_line, load_1min, machine_summary, percentile, temporary_data_dir, utc_now  # noqa: E402

TICK_SECONDS = 0.005
SUBSCRIPTION = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
TEAM = "5d3f9a10-2b7c-4e8d-9f01-a1b2c3d4e5f6"


class LineCounter(logging.Handler):
    """Counts the records that reach the root logger (what an operator's log would get)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@dataclass
class Flood:
    """One flood's figures."""

    name: str
    statuses: set[int]
    seconds: float
    max_stall_ms: float
    p99_stall_ms: float
    log_lines: int


async def ticker(stalls: list[float], stop: asyncio.Event) -> None:
    """Wake every TICK_SECONDS and record how late each wake-up was."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        asked = loop.time()
        await asyncio.sleep(TICK_SECONDS)
        stalls.append(loop.time() - asked - TICK_SECONDS)


async def flood(name: str, http: aiohttp.ClientSession, url: str, body: bytes, bodies: int) -> Flood:
    """Send `body` `bodies` times, one after another, with the ticker running."""
    stalls: list[float] = []
    stop = asyncio.Event()
    task = asyncio.create_task(ticker(stalls, stop))
    await asyncio.sleep(TICK_SECONDS * 2)
    statuses = set()
    started = time.perf_counter()
    for _ in range(bodies):
        async with http.post(url, data=body, headers={"Content-Type": "application/json"}) as response:
            await response.read()
            statuses.add(response.status)
    seconds = time.perf_counter() - started
    stop.set()
    await task
    return Flood(name, statuses, seconds, max(stalls) * 1000, percentile(stalls, 99) * 1000, 0)


def bodies(items: int) -> dict[str, bytes]:
    """The three hostile bodies."""
    forged = {"subscriptionId": SUBSCRIPTION, "changeType": "deleted", "clientState": "forged",
              "resource": f"teams/{TEAM}/channels/19:x@thread.tacv2"}
    flat = json.loads(MENTION_SAMPLE.read_text())
    del flat["conversation"]
    flat["entities"] = [{"type": "mention", "text": f"<at>{n}</at>"} for n in range(items)]
    return {
        "graph": json.dumps({"value": [forged] * items}).encode(),
        "flat": json.dumps(flat).encode(),
        "deep": b"[" * 100_000,
    }


async def serve_and_flood(name: str, path: str, body: bytes, bodies: int, counter: LineCounter) -> Flood:
    """A fresh bot web app (its own store and refusal log), one flood against it, then shutdown:
    the lines counted include the summary the refusal log writes at shutdown."""
    from app import build_graph_bridge
    from bot.teams.connector import close_adapter, create_adapter
    from bot.context import BotContext
    from bot.teams.handler import MlConnectorBot, make_messages_handler
    from bot.teams.server import create_web_app
    from settings import load_settings
    from store.sql import open_store
    from store.types import GraphSubscription

    with temporary_data_dir() as data_dir:
        store = open_store(None, data_dir=Path(data_dir))
        await store.migrate()
        now = utc_now()
        await store.save_subscription(GraphSubscription(SUBSCRIPTION, TEAM, f"/teams/{TEAM}/channels", "the-real-state",
                                                        now.replace(year=now.year + 1), now))
        settings = load_settings({"GRAPH_TENANT_ID": "bench-tenant", "GRAPH_CLIENT_ID": "bench-client",
                                  "GRAPH_CLIENT_SECRET": "bench-secret", "PUBLIC_URL": "https://bot.example.com"})
        context = BotContext(store=store, companies={}, clock=utc_now)
        adapter = create_adapter("", "")
        http = aiohttp.ClientSession()
        bridge = build_graph_bridge(settings, store, http, context, holder="bench")
        app = create_web_app(context, messages=make_messages_handler(adapter, MlConnectorBot(context)),
                             graph_notifications=bridge.handle_request)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        lines_before = counter.count
        try:
            result = await flood(name, http, f"http://127.0.0.1:{runner.addresses[0][1]}{path}", body, bodies)
        finally:
            await http.close()
            await runner.cleanup()
            await close_adapter(adapter)
            await store.close()
        result.log_lines = counter.count - lines_before
    print(f"{name}: {bodies} bodies of {len(body):,} bytes in {result.seconds:.2f} s, HTTP {sorted(result.statuses)}, "
          f"longest stall {result.max_stall_ms:.1f} ms (p99 {result.p99_stall_ms:.1f} ms), {result.log_lines} log line(s)", flush=True)
    return result


async def main(args: argparse.Namespace) -> None:
    from observability.logs import configure_logging

    print(machine_summary(), flush=True)
    # The app's own log handler (formatting, secret masking, a write per line) into /dev/null, as
    # `serve` logs to stderr: a line costs what it costs in production.
    configure_logging("INFO", "text", stream=open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as the run
    counter = LineCounter()
    logging.getLogger().addHandler(counter)
    built = bodies(args.items)
    results = [
        await serve_and_flood("graph", "/api/graph/notifications", built["graph"], args.bodies, counter),
        await serve_and_flood("flat", "/api/messages", built["flat"], args.bodies, counter),
        await serve_and_flood("deep", "/api/messages", built["deep"], args.bodies, counter),
    ]
    figures: dict[str, object] = {"bodies": args.bodies, "items": args.items}
    for result in results:
        figures[f"{result.name}_max_stall_ms"] = round(result.max_stall_ms, 1)
        figures[f"{result.name}_p99_stall_ms"] = round(result.p99_stall_ms, 1)
        figures[f"{result.name}_log_lines"] = result.log_lines
        figures[f"{result.name}_status"] = "/".join(str(s) for s in sorted(result.statuses))
    figures["load_1min"] = round(load_1min(), 2)
    print(figures_line(figures))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bodies", type=int, default=100)
    parser.add_argument("--items", type=int, default=1000)
    asyncio.run(main(parser.parse_args()))
