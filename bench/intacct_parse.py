"""Benchmark: parse 200 readByQuery pages of 1,000 AP bills (plus their 3,000 lines each) page by page.

Pages carry the fields the client selects and are laid out as the real gateway's recorded answers
are (every level indented by four spaces, as the sandbox answers too); ``--layout compact`` drops
the indentation. Pages are generated in memory first (a pool of distinct pages, reused round-robin so the input
does not dwarf what is measured), then parsed through the client's real path —
``protocol.parse_response`` (hardened lxml) → ``bills.parse_bill_page`` /
``bills.parse_bill_line_page`` (the compiled page reader when ``make`` built it; ``reader=``
says which) — one page at a time, each tree dropped before the next. The resident
set size is sampled right after each page is parsed (tree and records alive, the per-page
peak), to show memory does not grow with the number of pages. Rates are given per wall-clock
second and per second of this process's CPU time (the machine may be shared).

Usage: ``python bench/intacct_parse.py [--pages 200] [--bills-per-page 1000] [--pool 20] [--layout indented|compact]``.
The last line printed is ``name=value`` pairs.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from xml.sax.saxutils import escape

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from intacct.bills import BILL_FIELDS, BILL_LINE_FIELDS, parse_bill_line_page, parse_bill_page  # noqa: E402
from intacct.records import PAGE_READER  # noqa: E402
from intacct.protocol import parse_response  # noqa: E402

LINES_PER_BILL = 3
ZONE = timezone(timedelta(hours=-8))
VENDORS = ["Acme Industrial Supply", "Bürotechnik Müller GmbH", "O'Brien & Sons", "Northwind Traders", "Globex <West>"]
STATES = ["Submitted", "Partially Approved", "Posted", "Paid", "Partially Paid", "Selected", "Declined"]
DEPARTMENTS = [("D100", "Finance"), ("D200", "Operations"), ("D300", "Sales"), ("D400", "Engineering"), ("D500", "Facilities")]
LOCATIONS = [("L1", "Seattle"), ("L2", "Berlin"), ("L3", "Austin")]
ACCOUNTS = [("6000", "Office Supplies"), ("6100", "Rent"), ("6200", "Software Subscriptions"), ("6300", "Travel")]


def _envelope(listtype: str, rows: list[str], total: int, remaining: int) -> bytes:
    head = (
        '<?xml version="1.0" encoding="UTF-8"?><response><control><status>success</status>'
        "<senderid>bench</senderid><controlid>bench</controlid><uniqueid>false</uniqueid>"
        "<dtdversion>3.0</dtdversion></control><operation><authentication><status>success</status>"
        "<userid>bench</userid><companyid>BENCH-CO</companyid><locationid></locationid>"
        "<sessiontimestamp>2026-11-23T06:00:00-08:00</sessiontimestamp>"
        "<sessiontimeout>2026-11-24T06:00:00-08:00</sessiontimeout></authentication>"
        "<result><status>success</status><function>readByQuery</function><controlid>q1</controlid>"
        f'<data listtype="{listtype}" count="{len(rows)}" totalcount="{total}" numremaining="{remaining}" resultId="bench-result">'
    )
    return (head + "".join(rows) + "</data></result></operation></response>").encode("utf-8")


def _row(tag: str, fields: tuple[str, ...], values: dict[str, str]) -> str:
    return f"<{tag}>" + "".join(f"<{f}>{escape(values[f])}</{f}>" if values.get(f) else f"<{f}/>" for f in fields) + f"</{tag}>"


def bill_page(page: int, size: int, pages: int, rng: random.Random) -> bytes:
    """One APBILL readByQuery page of ``size`` realistic rows."""
    rows = []
    for i in range(size):
        record_no = page * size + i + 1
        created = date(2026, 1, 1) + timedelta(days=rng.randrange(320))
        total = rng.randrange(1000, 5_000_000) / 100
        paid = total if rng.random() < 0.4 else 0.0
        modified = datetime(2026, 11, 1) + timedelta(seconds=rng.randrange(2_000_000))
        vendor = rng.randrange(len(VENDORS))
        values = {
            "RECORDNO": str(record_no),
            "RECORDID": f"INV-{record_no:07d}",
            "VENDORID": f"V{vendor:04d}",
            "VENDORNAME": VENDORS[vendor],
            "STATE": rng.choice(STATES),
            "DESCRIPTION": "Monthly services — office & facilities" if i % 3 else "",
            "DOCNUMBER": f"PO-{rng.randrange(100000):05d}",
            "WHENCREATED": created.strftime("%m/%d/%Y"),
            "WHENDUE": (created + timedelta(days=30)).strftime("%m/%d/%Y"),
            "WHENPAID": (created + timedelta(days=25)).strftime("%m/%d/%Y") if paid else "",
            "TRX_TOTALENTERED": f"{total:.2f}",
            "TRX_TOTALDUE": f"{total - paid:.2f}",
            "TRX_TOTALPAID": f"{paid:.2f}",
            "CURRENCY": "USD",
            "MEGAENTITYID": "",
            "WHENMODIFIED": modified.strftime("%m/%d/%Y %H:%M:%S"),
            "RECORD_URL": f"https://www-p02.intacct.com/ia/acct/ur.phtml?.r=Zm9vYmFy{record_no:08d}",
        }
        rows.append(_row("apbill", BILL_FIELDS, values))
    return _envelope("apbill", rows, pages * size, (pages - page - 1) * size)


def line_page(page: int, size: int, pages: int, rng: random.Random) -> bytes:
    """One APBILLITEM readByQuery page: LINES_PER_BILL lines for each of ``size`` bills."""
    rows = []
    for i in range(size):
        bill_no = page * size + i + 1
        for line_no in range(1, LINES_PER_BILL + 1):
            account = rng.choice(ACCOUNTS)
            department = rng.choice(DEPARTMENTS)
            location = rng.choice(LOCATIONS)
            values = {
                "RECORDNO": str(bill_no * 10 + line_no),
                "RECORDKEY": str(bill_no),
                "LINE_NO": str(line_no),
                "ACCOUNTNO": account[0],
                "ACCOUNTTITLE": account[1],
                "TRX_AMOUNT": f"{rng.randrange(100, 2_000_000) / 100:.2f}",
                "ENTRYDESCRIPTION": "Line item",
                "DEPARTMENTID": department[0],
                "DEPARTMENTNAME": department[1],
                "LOCATIONID": location[0],
                "LOCATIONNAME": location[1],
                "CLASSID": "C10" if line_no == 1 else "",
                "CLASSNAME": "Recurring" if line_no == 1 else "",
                "PROJECTID": "",
                "PROJECTNAME": "",
            }
            rows.append(_row("apbillitem", BILL_LINE_FIELDS, values))
    count = size * LINES_PER_BILL
    return _envelope("apbillitem", rows, pages * count, (pages - page - 1) * count)


def indented(body: bytes) -> bytes:
    """The same answer laid out like the recorded gateway answers: four spaces per level."""
    root = etree.fromstring(body)
    etree.indent(root, space="    ")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8")


def rss_mb() -> float:
    """Current resident set size in MiB (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return 0.0


def main() -> None:
    """Generate, parse, report."""
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--pages", type=int, default=200)
    options.add_argument("--bills-per-page", type=int, default=1000)
    options.add_argument("--pool", type=int, default=20, help="distinct pages generated per kind")
    options.add_argument("--layout", choices=("indented", "compact"), default="indented",
                         help="indented: as the real gateway lays answers out (default)")
    args = options.parse_args()
    rng = random.Random(20261123)
    pool = min(args.pool, args.pages)
    bill_pages = [bill_page(p, args.bills_per_page, args.pages, rng) for p in range(pool)]
    line_pages = [line_page(p, args.bills_per_page, args.pages, rng) for p in range(pool)]
    if args.layout == "indented":
        bill_pages, line_pages = [indented(b) for b in bill_pages], [indented(b) for b in line_pages]
    print(f"generated {pool} bill pages ({sum(map(len, bill_pages)) / pool / 1024:.0f} KiB each) and "
          f"{pool} line pages ({sum(map(len, line_pages)) / pool / 1024:.0f} KiB each)")  # fmt: skip
    gc.collect()
    baseline = rss_mb()
    samples: list[float] = []
    bills = lines = 0
    checksum = 0
    bill_seconds = line_seconds = 0.0  # wall clock
    bill_cpu = line_cpu = 0.0  # this process's CPU time: what the code costs on a shared machine
    for page in range(args.pages):
        started, cpu = time.perf_counter(), time.process_time()
        result = parse_response(bill_pages[page % pool]).results[0]
        records = parse_bill_page(result, ZONE)
        bill_seconds += time.perf_counter() - started
        bill_cpu += time.process_time() - cpu
        bills += len(records)
        checksum += sum(b.total_due for b in records).to_integral_value()
        started, cpu = time.perf_counter(), time.process_time()
        result = parse_response(line_pages[page % pool]).results[0]
        line_records = parse_bill_line_page(result)
        line_seconds += time.perf_counter() - started
        line_cpu += time.process_time() - cpu
        lines += len(line_records)
        samples.append(rss_mb() - baseline)  # trees and records of this page still alive
        del result, records, line_records
    first = max(samples[: max(1, len(samples) // 10)])
    peak = max(samples)
    print(f"bills: {bills} in {bill_seconds:.2f}s ({bill_cpu:.2f}s CPU); lines: {lines} in {line_seconds:.2f}s "
          f"({line_cpu:.2f}s CPU); checksum {checksum}; load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"RSS above baseline: peak {peak:.1f} MiB over {args.pages} pages, {first:.1f} MiB over the first 10%")
    print(
        f"bills_per_s={bills / bill_seconds:.0f} lines_per_s={lines / line_seconds:.0f} "
        f"bills_per_s_cpu={bills / bill_cpu:.0f} lines_per_s_cpu={lines / line_cpu:.0f} "
        f"bills_with_lines_per_s={bills / (bill_seconds + line_seconds):.0f} "
        f"peak_mb={peak:.1f} peak_mb_first_10pct={first:.1f} pages={args.pages} reader={PAGE_READER} layout={args.layout} "
        f"load_1min={os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    main()
