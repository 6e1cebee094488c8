"""`poll --once` against the sandbox: leases given back, a skip names the holder, errors are real."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import aiohttp

import app
from store.sql import open_store
from tests.ops.cli_harness import run


async def add_bill(gateway, amount: str = "640.00") -> dict:
    async with aiohttp.ClientSession() as http:
        async with http.post(str(gateway.make_url("/sandbox/bills")), json={"amount": amount}) as response:
            return await response.json()


async def test_two_polls_in_a_row_both_poll(capsys, environ, gateway):
    code, _, err = await run(capsys, ["poll", "--once"], environ)
    assert code == 0 and err.startswith("DEMO-CO: ok;"), err
    bill = await add_bill(gateway)
    code, out, err = await run(capsys, ["poll", "--once"], environ)  # within POLL_LEASE_SECONDS of the first
    assert code == 0 and err.startswith("DEMO-CO: ok; 1 events"), err
    assert out == f"DEMO-CO: BillCreated DEMO-CO|bill|{bill['record_no']}|created\n"


async def test_a_poll_skipped_for_another_instance_says_which_and_exits_3(capsys, environ):
    store = open_store(None, data_dir=Path(environ["DATA_DIR"]))
    await store.migrate()
    now = app.utc_now()
    assert await store.try_lease("poll:DEMO-CO", "ap-host-2:4711:9f3c", now=now, ttl_seconds=300)
    await store.close()
    code, out, err = await run(capsys, ["poll", "--once"], environ)
    assert code == 3 and out == ""
    assert err.startswith("DEMO-CO: skipped: instance ap-host-2:4711:9f3c is polling this company (its lease runs until ")
    until = err.split("runs until ")[1][:19]
    assert until == (now + timedelta(seconds=300)).strftime("%Y-%m-%d %H:%M:%S")
    assert "None" not in err and "FAILED" not in err


async def test_a_failed_poll_prints_its_real_error_and_the_fix(capsys, environ):
    code, out, err = await run(capsys, ["poll", "--once"], environ | {"INTACCT_USER_PASSWORD": "wrong-pass"})
    assert code == 1 and out == ""
    line = err.strip().splitlines()[-1]
    assert line.startswith("DEMO-CO: FAILED: XL03000006") and "Sign-in information is incorrect" in line
    assert "None" not in line and "wrong-pass" not in err
    # …and the failed poll gave its lease back too: the next one polls.
    code, _, err = await run(capsys, ["poll", "--once"], environ)
    assert code == 0 and "DEMO-CO: ok;" in err


async def test_dry_run_in_text_mode_prints_each_event_with_its_card(capsys, environ, gateway):
    await run(capsys, ["poll", "--once"], environ)
    bill = await add_bill(gateway, "1234.56")
    code, out, _ = await run(capsys, ["poll", "--once", "--dry-run"], environ)
    first, card = out.split("\n", 1)
    assert code == 0 and first == f"DEMO-CO: BillCreated DEMO-CO|bill|{bill['record_no']}|created"
    card = json.loads(card)
    assert card["type"] == "AdaptiveCard" and "1,234.56" in str(card)


async def test_backfill_since_works_on_a_first_poll_and_is_refused_after_it(capsys, environ):
    code, out, err = await run(capsys, ["poll", "--once", "--backfill-since", "2000-01-01"], environ)
    assert code == 0 and out.count("BillCreated") > 10, err  # the demo company's bills, announced
    code, out, err = await run(capsys, ["poll", "--once", "--backfill-since", "2000-01-01"], environ)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "--backfill-since only applies to a company's first poll, and DEMO-CO was already polled" in err


async def test_bad_dates_and_a_missing_once_are_usage_errors(capsys, environ):
    code, _, err = await run(capsys, ["poll", "--once", "--backfill-since", "last week"], environ)
    assert code == 2 and "--backfill-since must be a date such as 2026-11-01 (got 'last week')" in err
    code, _, err = await run(capsys, ["poll"], environ)
    assert code == 2 and "python app.py poll --once" in err and err.count("\n") == 1
