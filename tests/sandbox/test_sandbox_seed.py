"""The seeded companies, read back through the gateway: shape, realism, consistency, determinism."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from sandbox.errors import SandboxConfigError
from sandbox.state import SandboxState
from tests.fakes.clock import FakeClock
from tests.sandbox.helpers import Sandbox

TODAY = datetime(2026, 11, 23).date()  # the fake clock's date at -08:00


def _date(text: str) -> datetime:
    return datetime.strptime(text, "%m/%d/%Y")


async def test_demo_company_shape(sandbox: Sandbox) -> None:
    vendors = await sandbox.query("VENDOR", "VENDORID,STATUS,ONHOLD")
    assert len(vendors) >= 40
    assert any(v["ONHOLD"] == "true" for v in vendors) and any(v["STATUS"] == "inactive" for v in vendors)
    bills = await sandbox.query("APBILL", "RECORDNO,STATE,WHENDUE,TOTALENTERED,TOTALDUE,TOTALPAID,WHENMODIFIED")
    assert len(bills) >= 300
    states = Counter(b["STATE"] for b in bills)
    assert states.most_common(1)[0][0] == "Paid"
    for state in ("Submitted", "Partially Approved", "Posted", "Declined", "Selected", "Partially Paid"):
        assert states[state] >= 3, states
    open_due = [_date(b["WHENDUE"]).date() for b in bills if b["STATE"] in ("Posted", "Submitted", "Partially Approved")]
    assert any(due < TODAY for due in open_due), "some open bills are overdue"
    assert any(due >= TODAY for due in open_due), "some open bills are not due yet"
    lines = await sandbox.query("APBILLITEM", "RECORDKEY,AMOUNT,DEPARTMENTID,LOCATIONID,CLASSID,PROJECTID")
    per_bill = Counter(line["RECORDKEY"] for line in lines)
    assert set(per_bill) == {b["RECORDNO"] for b in bills}
    assert set(per_bill.values()) <= {1, 2, 3, 4, 5} and max(per_bill.values()) >= 4
    assert len({line["DEPARTMENTID"] for line in lines}) == 5
    assert len({line["LOCATIONID"] for line in lines}) == 3
    assert 0 < sum(line["CLASSID"] is not None for line in lines) < len(lines)
    assert 0 < sum(line["PROJECTID"] is not None for line in lines) < len(lines)
    assert 25 <= len(await sandbox.query("GLACCOUNT", "ACCOUNTNO")) <= 40
    assert len(await sandbox.query("DEPARTMENT", "DEPARTMENTID")) == 5
    assert len(await sandbox.query("LOCATION", "LOCATIONID")) == 3
    assert len(await sandbox.query("CLASS", "CLASSID")) >= 3 and len(await sandbox.query("PROJECT", "PROJECTID")) >= 3
    assert len(await sandbox.query("APPYMT", "RECORDNO")) >= 50
    assert await sandbox.query("USERINFO", "RECORDNO,LOGINID") == [{"RECORDNO": "5", "LOGINID": "ap-admin"}]


async def test_no_record_is_modified_after_now(sandbox: Sandbox) -> None:
    for obj in ("APBILL", "APBILLITEM", "APPYMT", "VENDOR", "GLACCOUNT", "DEPARTMENT"):
        assert await sandbox.query(obj, "RECORDNO", "WHENMODIFIED > '11/23/2026 06:00:00'") == []


async def test_totals_lines_and_payments_agree(sandbox: Sandbox) -> None:
    fields = "RECORDNO,STATE,TOTALENTERED,TOTALDUE,TOTALPAID,TOTALSELECTED,WHENPAID,VENDORID"
    bills = {b["RECORDNO"]: b for b in await sandbox.query("APBILL", fields)}
    line_sums: Counter[str] = Counter()
    for line in await sandbox.query("APBILLITEM", "RECORDKEY,AMOUNT,VENDORID"):
        line_sums[line["RECORDKEY"]] += Decimal(line["AMOUNT"])
        assert line["VENDORID"] == bills[line["RECORDKEY"]]["VENDORID"]
    for record_no, bill in bills.items():
        entered, due, paid = (Decimal(bill[k]) for k in ("TOTALENTERED", "TOTALDUE", "TOTALPAID"))
        assert line_sums[record_no] == entered
        if bill["STATE"] == "Reversed":
            assert due == 0
        else:
            assert due == entered - paid
        assert (bill["STATE"] == "Paid") == (paid == entered)
        assert (bill["WHENPAID"] is not None) == (bill["STATE"] in ("Paid", "Partially Paid"))
        if bill["STATE"] == "Selected":
            assert Decimal(bill["TOTALSELECTED"]) == due
    payments = await sandbox.query("APPYMT", "DISPLAYSTATE,TOTALENTERED,TOTALPAID,TOTALDUE,TRX_TOTALENTERED")
    open_requests = [p for p in payments if p["DISPLAYSTATE"] in ("Submitted", "Partially Approved", "Approved", "Delivered")]
    assert len(open_requests) == sum(b["STATE"] == "Selected" for b in bills.values())
    assert Counter(p["DISPLAYSTATE"] for p in payments)["Confirmed"] == sum(
        b["STATE"] in ("Paid", "Partially Paid") for b in bills.values()
    )
    for payment in payments:
        entered, paid, due = (Decimal(payment[k]) for k in ("TOTALENTERED", "TOTALPAID", "TOTALDUE"))
        assert payment["TRX_TOTALENTERED"] == payment["TOTALENTERED"]  # one currency
        assert (paid, due) == ((entered, 0) if payment["DISPLAYSTATE"] == "Confirmed" else (0, entered))


async def test_empty_company_has_the_same_reference_data_and_nothing_else(sandbox: Sandbox, empty_sandbox: Sandbox) -> None:
    for obj in ("VENDOR", "APBILL", "APBILLITEM", "APPYMT"):
        assert await empty_sandbox.query(obj, "RECORDNO") == []
    for obj, fields in (("GLACCOUNT", "ACCOUNTNO,TITLE"), ("DEPARTMENT", "DEPARTMENTID,TITLE"),
                        ("LOCATION", "LOCATIONID,NAME"), ("CLASS", "CLASSID,NAME"), ("PROJECT", "PROJECTID,NAME"),
                        ("USERINFO", "RECORDNO,LOGINID")):
        assert await empty_sandbox.query(obj, fields) == await sandbox.query(obj, fields)


async def test_the_same_seed_and_clock_give_the_same_company(make_sandbox) -> None:
    dumps = []
    for rng_seed in (11, 11, 12):
        sandbox = await make_sandbox("demo", rng_seed=rng_seed, clock=FakeClock())
        dumps.append([await sandbox.query(obj) for obj in ("VENDOR", "APBILL", "APBILLITEM", "APPYMT")])
    assert dumps[0] == dumps[1]
    assert dumps[0] != dumps[2]


async def test_dates_follow_the_clock(make_sandbox) -> None:
    later = FakeClock(datetime(2027, 3, 1, 20, 0, tzinfo=timezone.utc))
    sandbox = await make_sandbox("demo", clock=later)
    bills = await sandbox.query("APBILL", "WHENCREATED")
    newest = max(_date(b["WHENCREATED"]) for b in bills)
    assert datetime(2027, 2, 1) <= newest <= datetime(2027, 3, 1)


def test_bulk_generation_adds_rows_deterministically(clock: FakeClock) -> None:
    states = [SandboxState("empty", clock=clock, rng_seed=3) for _ in range(2)]
    for state in states:
        state.generate(vendors=50, bills=400, payments=20)
    first, second = (s.company.tables for s in states)
    assert len(first["VENDOR"]) == 50 and len(first["APBILL"]) == 400
    assert len(first["APPYMT"]) >= 20 and len(first["APBILLITEM"]) >= 400
    for name in ("VENDOR", "APBILL", "APBILLITEM", "APPYMT"):
        assert list(first[name]) == list(second[name])


def test_generating_bills_without_vendors_adds_one(clock: FakeClock) -> None:
    state = SandboxState("empty", clock=clock)
    state.generate(bills=10)
    assert len(state.company.tables["VENDOR"]) == 1 and len(state.company.tables["APBILL"]) == 10


def test_bad_configuration_is_refused(clock: FakeClock) -> None:
    with pytest.raises(SandboxConfigError, match="unknown seed"):
        SandboxState("full", clock=clock)
    with pytest.raises(SandboxConfigError, match="aware"):
        SandboxState("demo", clock=lambda: datetime(2026, 1, 1))
    with pytest.raises(SandboxConfigError, match="positive"):
        SandboxState("demo", clock=clock, session_lifetime=timedelta(0))
    with pytest.raises(ValueError, match="negative"):
        SandboxState("empty", clock=clock).generate(bills=-1)
