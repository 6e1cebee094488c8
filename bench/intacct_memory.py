"""Benchmark: peak memory of reading one large Intacct answer through the client, per MB of answer.

The gateway is the scripted fake (tests/fakes/intacct_gateway.py) in this process; the client
runs in a child process of its own (`--child`), so its resident set is the client's alone. The
child signs in and reads a small APBILL page first (imports, session, caches warm), resets its
peak (`/proc/self/clear_refs` ← 5), then reads the changed bills once more through
`IntacctClient.read_changes` — the poller's path: transport (size cap), hardened parse, page
reader — and the fake answers that one request with a single page of N bills, as many as make
the answer the size asked for. Rows are the realistic short ones of `intacct_parse.py` (many
small fields: the most tree per MB, so the worst case per MB). The child reports its peak
resident set above the baseline (`VmHWM`) and whether the answer was parsed or refused.

Default sizes: a 10 MB and a 50 MB answer, and one just under the client's cap (the largest it
parses, so the most it can cost). `--max-response-mb` sets the cap (e.g. 64, the cap before
issue 16, for comparison). Linux only (/proc).

Usage: ``python bench/intacct_memory.py [--sizes 10,50] [--max-response-mb N]``. The last line
printed is ``name=value`` pairs.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, BenchError, figures_line, load_1min, machine_summary, utc_now  # noqa: E402

MB = 1024 * 1024
SENDER = ("mlc-bench-sender", "bench-sender-pw")
LOGIN = ("BENCH-CO", "bench-user", "bench-user-pw")


def _status(name: str) -> float:
    """A /proc/self/status figure in MiB (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) / 1024
    raise BenchError(f"/proc/self/status has no {name} (this benchmark needs Linux)")


async def child(url: str, max_response_mb: float) -> dict[str, object]:
    """Warm up, reset the peak, read the big answer; the figures as a dict."""
    import aiohttp

    from intacct.client import IntacctClient
    from intacct.credentials import IntacctCredentials
    from intacct.errors import IntacctError

    credentials = IntacctCredentials(SENDER[0], SENDER[1], LOGIN[0], LOGIN[1], LOGIN[2])
    async with aiohttp.ClientSession() as http:
        client = IntacctClient(credentials, http=http, endpoint_url=url, gmt_offset=timedelta(hours=-8),
                               max_response_bytes=int(max_response_mb * MB), max_attempts=1)
        await client.read_changes({"APBILL": None}, objects=("APBILL",))
        gc.collect()
        Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
        baseline = _status("VmRSS")
        try:
            changes = await client.read_changes({"APBILL": None}, objects=("APBILL",))
            outcome, bills = "parsed", len(changes.bills)
        except IntacctError as error:
            outcome, bills = f"refused:{type(error).__name__}", 0
        peak = _status("VmHWM") - baseline
    return {"baseline_mb": round(baseline, 1), "peak_mb": round(peak, 1), "outcome": outcome, "bills": bills}


def big_page_rows(megabytes: float):
    """Bill row elements adding up to about `megabytes` of answer."""
    from lxml import etree

    from intacct_parse import bill_page

    sample = bill_page(0, 1000, 1, random.Random(1))
    per_row = len(sample) / 1000
    count = max(1, int(megabytes * MB / per_row))
    page = etree.fromstring(bill_page(0, count, 1, random.Random(20261123)))
    data = page.find("operation/result/data")
    return list(data), count


async def measure(size_mb: float, max_response_mb: float) -> dict[str, object]:
    """One answer of `size_mb` through a child process's client."""
    from aiohttp import web

    from tests.fakes.intacct_gateway import GATEWAY_PATH, FakeIntacctGateway, normal, tampered

    gateway = FakeIntacctGateway(utc_now, sender_id=SENDER[0], sender_password=SENDER[1], company_id=LOGIN[0],
                                 user_id=LOGIN[1], user_password=LOGIN[2])
    rows, count = big_page_rows(size_mb)
    gateway.add_rows("APBILL", [{"RECORDNO": "1", "RECORDID": "WARM-1", "STATE": "Submitted",
                                 "WHENMODIFIED": "11/01/2026 10:00:00", "TOTALENTERED": "1.00", "TOTALDUE": "1.00"}])

    def fill(result) -> None:
        data = result.find("data")
        for row in list(data):
            data.remove(row)
        data.extend(rows)
        data.set("count", str(count))
        data.set("totalcount", str(count))

    gateway.script(normal(), normal(), tampered(fill))  # the lookup before the first read, the warm-up read, the big one
    runner = web.AppRunner(gateway.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    gateway.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    url = gateway.base_url + GATEWAY_PATH
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--child", url, "--max-response-mb", str(max_response_mb),
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        out, err = await process.communicate()
    finally:
        await runner.cleanup()
    if process.returncode != 0:
        raise BenchError(f"the client process failed: {err.decode()[-2000:]}")
    figures = json.loads(out.decode().strip().splitlines()[-1])
    answer = gateway.received[-1]  # the big request
    figures.update(size_mb=size_mb, rows=count, functions=len(answer.functions))
    return figures


async def main(args: argparse.Namespace) -> None:
    from intacct.transport import DEFAULT_MAX_RESPONSE_BYTES

    cap_mb = args.max_response_mb or DEFAULT_MAX_RESPONSE_BYTES / MB
    sizes = [float(s) for s in args.sizes.split(",")]
    print(machine_summary(), flush=True)
    print(f"client cap (max_response_bytes): {cap_mb:g} MiB", flush=True)
    figures: dict[str, object] = {"cap_mb": round(cap_mb, 1)}
    named = [(f"{size:g}mb", size) for size in sizes] + [("at_cap", cap_mb * 0.98)]
    for name, size in named:
        result = await measure(size, cap_mb)
        per_mb = result["peak_mb"] / size if result["outcome"] == "parsed" else None
        print(f"{size:6.1f} MB answer ({result['rows']:,} bills): {result['outcome']}, peak {result['peak_mb']} MiB above "
              f"{result['baseline_mb']} MiB" + (f" = {per_mb:.1f} MiB per MB" if per_mb is not None else ""), flush=True)
        figures[f"peak_mb_{name}"] = result["peak_mb"]
        figures[f"outcome_{name}"] = str(result["outcome"]).split(":")[0]
        if name == "at_cap" and per_mb is not None:
            figures["peak_mb_per_mb"] = round(per_mb, 2)
    figures["load_1min"] = round(load_1min(), 2)
    print(figures_line(figures))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,50", help="answer sizes in MB, comma separated")
    parser.add_argument("--max-response-mb", type=float, default=0, help="the client's cap (default: the client's own)")
    parser.add_argument("--child", metavar="URL", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(asyncio.run(child(options.child, options.max_response_mb))))
    else:
        asyncio.run(main(options))
