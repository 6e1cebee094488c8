"""Benchmark: the compose-box bill search (`composeExtension/query`) answer time over 50,000 bills.

The sandbox (demo seed plus `generate(bills=N)`) runs in a child process; the whole app runs
in-process (`app.build_runtime` + `app.build_web_app`: anonymous CloudAdapter, handler, invoke
service, LiveReads) on a free loopback port; a fake Bot Connector stands in for Teams. The
start-up poll (the baseline) is let finish first and no other job is scheduled. Each request is
the Agents Playground's recorded channel search (tests/fixtures/teams-samples/playground/
invoke-compose-query-channel.json) with its serviceUrl on the fake connector and another text;
the time is from just before the POST to /api/messages until its HTTP answer (the invoke's answer
is the HTTP response: the result page with every bill's card). Texts are all different, a third
each bill numbers, vendor names and amounts, so no answer is shared from an earlier one: each
search reads Intacct (one search function, then the page's lines). LIVE_READS_PER_MINUTE is raised
so the pacing of people's reads does not turn requests away. Percentiles are nearest-rank.

Usage: ``python bench/compose_search.py [--bills 50000] [--requests 60] [--count 25]``. The last
line printed is ``name=value`` pairs.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiohttp  # noqa: E402

from _common import (  # noqa: E402
    FIXTURES,
    BenchError,
    SandboxProcess,
    figures_line,
    load_1min,
    machine_summary,
    percentile,
    running_app,
    sample_ids,
    sandbox_environment,
    temporary_data_dir,
    wait_until,
)
from tests.fakes.bot_connector import FakeBotConnector  # noqa: E402

SEARCH_SAMPLE = FIXTURES / "teams-samples" / "playground" / "invoke-compose-query-channel.json"
TEAMS_BUDGET_SECONDS = 5.0  # Teams waits 5 s for a message extension's answer
TARGET_P95_SECONDS = 1.5
BASELINE_TIMEOUT_SECONDS = 180.0
KINDS = ("number", "vendor", "amount")


def search_activity(service_url: str, text: str, count: int) -> dict:
    """The Playground's recorded search invoke with our serviceUrl and text, in the recorded Teams
    @mention's tenant (the Playground's mock tenant id is no GUID, which ALLOWED_TENANT_IDS takes)."""
    activity = json.loads(SEARCH_SAMPLE.read_text(encoding="utf-8"))
    _, _, tenant = sample_ids()
    activity["serviceUrl"] = service_url
    activity["conversation"]["tenantId"] = activity["channelData"]["tenant"]["id"] = tenant
    activity["value"] = {"commandId": "searchBills", "parameters": [{"name": "query", "value": text}],
                         "queryOptions": {"skip": 0, "count": count}}  # fmt: skip
    return activity


async def texts_to_search(app, requests: int) -> list[tuple[str, str]]:
    """`requests` different (kind, text) pairs taken from the company's bills: numbers, vendor names, amounts."""
    client = app.runtime.companies["DEMO-CO"].context.client
    bills = (await client.query_bills(limit=3000)).bills
    numbers = list(dict.fromkeys(b.bill_number for b in bills))
    # What people type: the first word of a vendor's name (matches every bill of every vendor whose
    # name has it: the heaviest of the three, up to 1,000 bills read). As written: readByQuery's
    # LIKE is case-sensitive, and the search tries the text as typed, lower, upper and capitalised.
    vendors = list(dict.fromkeys(b.vendor_name.split()[0] for b in bills if b.vendor_name and len(b.vendor_name.split()[0]) > 2))
    amounts = list(dict.fromkeys(f"{b.total_entered:,}" for b in bills))
    pools = {"number": numbers, "vendor": vendors, "amount": amounts}
    chosen: list[tuple[str, str]] = []
    for i in range(requests):
        kind = KINDS[i % len(KINDS)]
        pool = pools[kind]
        if not pool:
            raise BenchError(f"the company has too few different {kind}s for {requests} different searches")
        chosen.append((kind, pool.pop(0)))
    return chosen


async def search(http: aiohttp.ClientSession, url: str, activity: dict) -> tuple[float, int]:
    """POST one search; seconds until its answer, and how many results it carried."""
    started = time.perf_counter()
    async with http.post(url, json=copy.deepcopy(activity), timeout=aiohttp.ClientTimeout(total=TEAMS_BUDGET_SECONDS * 4)) as response:
        body = await response.json()
    seconds = time.perf_counter() - started
    extension = (body or {}).get("composeExtension") or {}
    if response.status != 200 or extension.get("type") not in ("result", "message"):
        raise BenchError(f"the search was answered {response.status}: {str(body)[:300]}")
    if extension["type"] == "message":
        raise BenchError(f"the search found nothing or failed: {extension.get('text')!r} for {activity['value']['parameters'][0]['value']!r}")
    return seconds, len(extension.get("attachments") or [])


async def run(bills: int, requests: int, count: int) -> dict[str, object]:
    """Sandbox, app, fake Teams; one warm-up search, then `requests` measured ones."""
    _, _, tenant = sample_ids()
    with SandboxProcess("demo", bills=bills) as sandbox, temporary_data_dir() as tmp:
        async with FakeBotConnector(tenant_id=tenant) as fake, aiohttp.ClientSession() as http:
            environ = sandbox_environment(sandbox, Path(tmp), ALLOWED_TENANT_IDS=tenant, LIVE_READS_PER_MINUTE="6000")
            async with running_app(environ) as app:
                await wait_until(app.baseline_done, timeout=BASELINE_TIMEOUT_SECONDS, what="the start-up baseline poll")
                texts = await texts_to_search(app, requests + 1)
                (_, warm), measured = texts[0], texts[1:]
                first, _ = await search(http, app.messages_url, search_activity(fake.service_url, warm, count))
                before = await sandbox.timings(http)
                answers = []
                for kind, text in measured:
                    seconds, results = await search(http, app.messages_url, search_activity(fake.service_url, text, count))
                    answers.append((kind, seconds, results))
                after = await sandbox.timings(http)
    times = [seconds for _, seconds, _ in answers]
    by_kind = {kind: [s for k, s, _ in answers if k == kind] for kind in KINDS}
    print(f"{sandbox.rows['APBILL']} bills, {len(times)} searches of up to {count} results: p50 {percentile(times, 50):.3f} s, "
          f"p95 {percentile(times, 95):.3f} s, max {max(times):.3f} s, mean {statistics.fmean(times):.3f} s; "
          + ", ".join(f"{kind} p95 {percentile(values, 95):.3f} s ({statistics.fmean(r for k, _, r in answers if k == kind):.1f} results)"
                      for kind, values in by_kind.items())
          + f"; sandbox {(after.seconds - before.seconds) / len(times):.3f} s per search; first {first:.3f} s", flush=True)  # fmt: skip
    return {
        "bills": sandbox.rows["APBILL"],
        "searches": len(times),
        "results_mean": f"{statistics.fmean(r for _, _, r in answers):.1f}",
        "p50_s": percentile(times, 50),
        "p95_s": percentile(times, 95),
        "max_s": max(times),
        **{f"{kind}_p95_s": percentile(values, 95) for kind, values in by_kind.items()},
        "sandbox_s_per_search": (after.seconds - before.seconds) / len(times),
        "over_target": sum(t > TARGET_P95_SECONDS for t in times),
        "over_teams_budget": sum(t > TEAMS_BUDGET_SECONDS for t in times),
        "load_1min": f"{load_1min():.2f}",
    }


def main() -> None:
    """Parse options, run, print the figures last."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bills", type=int, default=50_000, help="bills generated on top of the demo company's")
    parser.add_argument("--requests", type=int, default=60, help="measured searches (a third each numbers, vendors, amounts)")
    parser.add_argument("--count", type=int, default=25, help="results asked per search (Teams asks 25)")
    args = parser.parse_args()
    if args.bills < 0 or args.requests < 3 or not 1 <= args.count <= 50:
        parser.error("--bills must be ≥ 0, --requests ≥ 3, --count 1..50")
    print(machine_summary(), flush=True)
    try:
        figures = asyncio.run(run(args.bills, args.requests, args.count))
    except BenchError as exc:
        raise SystemExit(f"{Path(__file__).name}: {exc}") from None
    print(figures_line(figures))


if __name__ == "__main__":
    main()
