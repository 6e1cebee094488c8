"""The admin API (docs/architecture.md §6.4): every endpoint, its validation, and what the gateway then shows."""

from __future__ import annotations

import pytest

from tests.fakes.clock import FakeClock
from tests.sandbox.helpers import Sandbox, read_by_query, request

BILL = "RECORDNO,RECORDID,VENDORID,VENDORNAME,STATE,TOTALENTERED,TOTALDUE,TOTALPAID,WHENDUE,WHENPAID,WHENMODIFIED"


async def _bill(sandbox: Sandbox, record_no: int) -> dict:
    (bill,) = await sandbox.query("APBILL", BILL, f"RECORDNO = {record_no}")
    return bill


async def test_add_bill_with_defaults_is_submitted_and_dated_now(sandbox: Sandbox, clock: FakeClock) -> None:
    clock.advance(hours=1)
    status, body = await sandbox.admin("POST", "/sandbox/bills")
    assert status == 201
    assert set(body) >= {"record_no", "bill_number"}
    bill = await _bill(sandbox, body["record_no"])
    assert bill["RECORDID"] == body["bill_number"] and bill["STATE"] == "Submitted"
    assert bill["WHENMODIFIED"] == "11/23/2026 07:00:00"
    assert bill["TOTALDUE"] == bill["TOTALENTERED"] and bill["TOTALPAID"] == "0.00"
    vendors = await sandbox.query("VENDOR", "VENDORID,STATUS,ONHOLD", f"VENDORID = '{bill['VENDORID']}'")
    assert vendors == [{"VENDORID": bill["VENDORID"], "STATUS": "active", "ONHOLD": "false"}]
    lines = await sandbox.query("APBILLITEM", "AMOUNT", f"RECORDKEY = {body['record_no']}")
    assert 1 <= len(lines) <= 5
    assert sum(float(line["AMOUNT"]) for line in lines) == pytest.approx(float(bill["TOTALENTERED"]))


async def test_add_bill_with_every_option(sandbox: Sandbox) -> None:
    status, body = await sandbox.admin("POST", "/sandbox/bills", {
        "vendor_id": "V1003", "amount": 1234.5, "due_date": "2026-12-24", "department_id": "D300",
        "location_id": "L200", "description": "Resin for Q1",
    })
    assert status == 201
    assert body["vendor_id"] == "V1003" and body["total_entered"] == "1234.50" and body["due_date"] == "2026-12-24"
    bill = await _bill(sandbox, body["record_no"])
    assert (bill["VENDORNAME"], bill["TOTALENTERED"], bill["WHENDUE"]) == ("Summit Polymers LLC", "1234.50", "12/24/2026")
    lines = await sandbox.query(
        "APBILLITEM", "DEPARTMENTID,DEPARTMENTNAME,LOCATIONID,VENDORID", f"RECORDKEY = {body['record_no']}"
    )
    assert lines and all(line == {"DEPARTMENTID": "D300", "DEPARTMENTNAME": "Engineering", "LOCATIONID": "L200",
                                  "VENDORID": "V1003"} for line in lines)


async def test_add_bill_with_explicit_lines(sandbox: Sandbox) -> None:
    status, body = await sandbox.admin("POST", "/sandbox/bills", {
        "vendor_id": "V1001", "amount": "150.25",
        "lines": [
            {"amount": "100.00", "account_no": "5100", "department_id": "D200", "class_id": "C10", "memo": "Coil"},
            {"amount": 50.25, "account_no": "5200", "project_id": "P1002"},
        ],
    })
    assert status == 201
    lines = await sandbox.query(
        "APBILLITEM", "LINE_NO,AMOUNT,ACCOUNTNO,ACCOUNTTITLE,DEPARTMENTID,CLASSNAME,PROJECTNAME,ENTRYDESCRIPTION",
        f"RECORDKEY = {body['record_no']}",
    )
    assert lines == [
        {"LINE_NO": "1", "AMOUNT": "100.00", "ACCOUNTNO": "5100", "ACCOUNTTITLE": "Raw Materials", "DEPARTMENTID": "D200",
         "CLASSNAME": "Industrial", "PROJECTNAME": None, "ENTRYDESCRIPTION": "Coil"},
        {"LINE_NO": "2", "AMOUNT": "50.25", "ACCOUNTNO": "5200", "ACCOUNTTITLE": "Freight In", "DEPARTMENTID": None,
         "CLASSNAME": None, "PROJECTNAME": "Austin Plant Expansion", "ENTRYDESCRIPTION": None},
    ]


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"vendor_id": "V9999"}, 404, "vendor V9999 does not exist"),
        ({"department_id": "D999"}, 404, "department D999 does not exist"),
        ({"lines": [{"amount": 5, "account_no": "9999"}]}, 404, "glaccount 9999 does not exist"),
        ({"amount": -5}, 400, "amount must be at least 0.01"),
        ({"amount": "lots"}, 400, "amount must be a number"),
        ({"amount": True}, 400, "amount must be a number"),
        ({"amount": "NaN"}, 400, "amount must be at least 0.01"),
        ({"amount": 10, "lines": [{"amount": 5}]}, 400, "differs from the sum of the lines"),
        ({"lines": []}, 400, "lines must be a list of 1 to 100 objects"),
        ({"lines": [{"account_no": "5100"}]}, 400, "line 1: amount is required"),
        ({"lines": [{"amount": 5, "color": "red"}]}, 400, "line 1: unknown field(s) ['color']"),
        ({"due_date": "12/24/2026"}, 400, "due_date must be a date written YYYY-MM-DD"),
        ({"due_date": "2026-02-30"}, 400, "due_date must be a date written YYYY-MM-DD"),
        ({"description": "bad\x01char"}, 400, "description contains characters XML cannot carry"),
        ({"description": ""}, 400, "description must be a non-empty string"),
        ({"vendor": "V1001"}, 400, "unknown field(s) ['vendor']"),
        ([1, 2], 400, "the body must be a JSON object"),
    ],
)
async def test_add_bill_rejects_bad_input(sandbox: Sandbox, payload: object, status: int, message: str) -> None:
    got, body = await sandbox.admin("POST", "/sandbox/bills", payload)
    assert got == status
    assert message in body["error"]


async def test_invalid_json_is_a_400(sandbox: Sandbox) -> None:
    response = await sandbox.client.post("/sandbox/bills", data=b"{not json")
    assert response.status == 400
    assert (await response.json()) == {"error": "the body must be a JSON object"}


@pytest.mark.parametrize(
    ("name", "display"),
    [("Submitted", "Submitted"), ("partially approved", "Partially Approved"), ("Approved", "Posted"),
     ("Posted", "Posted"), ("Declined", "Declined"), ("Selected", "Selected"), ("Partially Paid", "Partially Paid"),
     ("PAID", "Paid"), ("Reversed", "Reversed"), ("Draft", "Draft")],
)
async def test_bill_state_accepts_display_names(sandbox: Sandbox, clock: FakeClock, name: str, display: str) -> None:
    status, created = await sandbox.admin("POST", "/sandbox/bills", {"amount": "200.00"})
    clock.advance(minutes=3)
    status, body = await sandbox.admin("POST", f"/sandbox/bills/{created['record_no']}/state", {"state": name})
    assert status == 200
    assert body == {"record_no": created["record_no"], "state": display, "previous_state": "Submitted"}
    bill = await _bill(sandbox, created["record_no"])
    assert bill["STATE"] == display
    expected_paid = {"Paid": "200.00", "Partially Paid": "100.00"}.get(display, "0.00")
    expected_due = {"Paid": "0.00", "Partially Paid": "100.00", "Reversed": "0.00"}.get(display, "200.00")
    assert (bill["TOTALPAID"], bill["TOTALDUE"]) == (expected_paid, expected_due)
    assert bill["WHENPAID"] == ("11/23/2026" if display in ("Paid", "Partially Paid") else None)
    changed = display != "Submitted"
    assert bill["WHENMODIFIED"] == ("11/23/2026 06:03:00" if changed else "11/23/2026 06:00:00")


async def test_bill_state_errors(sandbox: Sandbox) -> None:
    assert (await sandbox.admin("POST", "/sandbox/bills/1001/state", {"state": "Lost"}))[0] == 400
    assert (await sandbox.admin("POST", "/sandbox/bills/1001/state", {}))[0] == 400
    assert (await sandbox.admin("POST", "/sandbox/bills/abc/state", {"state": "Paid"}))[0] == 400
    status, body = await sandbox.admin("POST", "/sandbox/bills/999999/state", {"state": "Paid"})
    assert status == 404 and body == {"error": "bill 999999 does not exist"}


async def test_payment_lifecycle_moves_the_bill(sandbox: Sandbox, clock: FakeClock) -> None:
    _, created = await sandbox.admin("POST", "/sandbox/bills", {"amount": "300.00", "vendor_id": "V1010"})
    record_no = created["record_no"]
    status, refused = await sandbox.admin("POST", "/sandbox/payments", {"bill_record_no": record_no})
    assert status == 400 and "is Submitted" in refused["error"]
    await sandbox.admin("POST", f"/sandbox/bills/{record_no}/state", {"state": "Approved"})
    status, payment = await sandbox.admin("POST", "/sandbox/payments", {"bill_record_no": record_no, "amount": 120})
    assert status == 201
    assert payment["state"] == "Submitted" and payment["amount"] == "120.00" and payment["vendor_id"] == "V1010"
    assert (await _bill(sandbox, record_no))["STATE"] == "Selected"
    (row,) = await sandbox.query("APPYMT", "VENDORNAME,STATE,RAWSTATE,DISPLAYSTATE,TRX_TOTALENTERED,TRX_TOTALDUE,WHENCREATED,DESCRIPTION",
                                 f"RECORDNO = {payment['record_no']}")
    assert row == {"VENDORNAME": "Evergreen Facility Services", "STATE": "S", "RAWSTATE": "S", "DISPLAYSTATE": "Submitted",
                   "TRX_TOTALENTERED": "120.00", "TRX_TOTALDUE": "120.00", "WHENCREATED": "11/23/2026",
                   "DESCRIPTION": f"Payment for bill {created['bill_number']}"}
    for state in ("Approved", "Delivered", "Confirmed"):
        clock.advance(minutes=1)
        status, moved = await sandbox.admin("POST", f"/sandbox/payments/{payment['record_no']}/state", {"state": state})
        assert status == 200 and moved["state"] == state
    bill = await _bill(sandbox, record_no)
    assert (bill["STATE"], bill["TOTALPAID"], bill["TOTALDUE"]) == ("Partially Paid", "120.00", "180.00")
    _, rest = await sandbox.admin("POST", "/sandbox/payments", {"bill_record_no": record_no})
    assert rest["amount"] == "180.00"
    await sandbox.admin("POST", f"/sandbox/payments/{rest['record_no']}/state", {"state": "Complete"})  # an alias of Confirmed
    bill = await _bill(sandbox, record_no)
    assert (bill["STATE"], bill["TOTALPAID"], bill["TOTALDUE"], bill["WHENPAID"]) == ("Paid", "300.00", "0.00", "11/23/2026")


async def test_declined_or_voided_payments_give_the_bill_back(sandbox: Sandbox) -> None:
    _, created = await sandbox.admin("POST", "/sandbox/bills", {"amount": "80.00"})
    await sandbox.admin("POST", f"/sandbox/bills/{created['record_no']}/state", {"state": "Posted"})
    _, payment = await sandbox.admin("POST", "/sandbox/payments", {"bill_record_no": created["record_no"]})
    await sandbox.admin("POST", f"/sandbox/payments/{payment['record_no']}/state", {"state": "Declined"})
    assert (await _bill(sandbox, created["record_no"]))["STATE"] == "Posted"
    await sandbox.admin("POST", f"/sandbox/payments/{payment['record_no']}/state", {"state": "Submitted"})
    assert (await _bill(sandbox, created["record_no"]))["STATE"] == "Selected"  # resubmitted: open again
    await sandbox.admin("POST", f"/sandbox/payments/{payment['record_no']}/state", {"state": "Voided"})
    assert (await _bill(sandbox, created["record_no"]))["STATE"] == "Posted"
    _, payment = await sandbox.admin("POST", "/sandbox/payments", {"bill_record_no": created["record_no"]})
    await sandbox.admin("POST", f"/sandbox/payments/{payment['record_no']}/state", {"state": "Complete"})
    assert (await _bill(sandbox, created["record_no"]))["STATE"] == "Paid"
    await sandbox.admin("POST", f"/sandbox/payments/{payment['record_no']}/state", {"state": "Voided"})
    bill = await _bill(sandbox, created["record_no"])
    assert (bill["STATE"], bill["TOTALDUE"], bill["TOTALPAID"]) == ("Posted", "80.00", "0.00")


async def test_payment_without_a_bill_pays_the_oldest_open_posted_bill(sandbox: Sandbox) -> None:
    open_bills = await sandbox.query("APBILL", "RECORDNO,TOTALDUE", "RAWSTATE IN ('A', 'T') AND TOTALDUE > 0")
    status, payment = await sandbox.admin("POST", "/sandbox/payments", {})
    assert status == 201
    assert payment["bill_record_no"] == int(open_bills[0]["RECORDNO"])
    assert payment["amount"] == open_bills[0]["TOTALDUE"]


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"bill_record_no": 999999}, 404, "bill 999999 does not exist"),
        ({"bill_record_no": "1001"}, 400, "bill_record_no must be an integer"),
        ({"amount": 0}, 400, "amount must be at least 0.01"),
        ({"amount": 10_000_000}, 400, "at most the bill's"),
        ({"state": "Submitted"}, 400, "unknown field(s) ['state']"),
    ],
)
async def test_add_payment_rejects_bad_input(sandbox: Sandbox, payload: dict, status: int, message: str) -> None:
    got, body = await sandbox.admin("POST", "/sandbox/payments", payload)
    assert got == status and message in body["error"]


async def test_payment_state_errors(sandbox: Sandbox) -> None:
    status, body = await sandbox.admin("POST", "/sandbox/payments/999999/state", {"state": "Complete"})
    assert status == 404 and body["error"] == "payment 999999 does not exist"
    status, body = await sandbox.admin("POST", "/sandbox/payments/701/state", {"state": "Paid"})
    assert status == 400 and "state must be one of" in body["error"]


async def test_no_payable_bill_in_the_empty_company_is_a_400(empty_sandbox: Sandbox) -> None:
    status, body = await empty_sandbox.admin("POST", "/sandbox/payments", {})
    assert status == 400 and "give bill_record_no" in body["error"]


async def test_vendor_status_and_hold(sandbox: Sandbox, clock: FakeClock) -> None:
    clock.advance(minutes=10)
    status, body = await sandbox.admin("POST", "/sandbox/vendors/V1001/status", {"on_hold": True})
    assert status == 200 and body == {"vendor_id": "V1001", "status": "active", "on_hold": True, "changed": True}
    status, body = await sandbox.admin("POST", "/sandbox/vendors/V1001/status", {"status": "inactive", "on_hold": False})
    assert body == {"vendor_id": "V1001", "status": "inactive", "on_hold": False, "changed": True}
    (vendor,) = await sandbox.query("VENDOR", "STATUS,ONHOLD,WHENMODIFIED", "VENDORID = 'V1001'")
    assert vendor == {"STATUS": "inactive", "ONHOLD": "false", "WHENMODIFIED": "11/23/2026 06:10:00"}
    clock.advance(minutes=10)
    _, body = await sandbox.admin("POST", "/sandbox/vendors/V1001/status", {"status": "inactive"})
    assert body["changed"] is False
    (vendor,) = await sandbox.query("VENDOR", "WHENMODIFIED", "VENDORID = 'V1001'")
    assert vendor["WHENMODIFIED"] == "11/23/2026 06:10:00"  # nothing changed, nothing bumped


@pytest.mark.parametrize(
    ("path", "payload", "status"),
    [
        ("/sandbox/vendors/V9999/status", {"on_hold": True}, 404),
        ("/sandbox/vendors/V1001/status", {}, 400),
        ("/sandbox/vendors/V1001/status", {"status": "Active"}, 400),
        ("/sandbox/vendors/V1001/status", {"on_hold": "yes"}, 400),
    ],
)
async def test_vendor_status_errors(sandbox: Sandbox, path: str, payload: dict, status: int) -> None:
    got, body = await sandbox.admin("POST", path, payload)
    assert got == status and body["error"]


async def test_stats_count_requests_functions_and_sessions(sandbox: Sandbox) -> None:
    assert (await sandbox.admin("GET", "/sandbox/stats")) == (200, {"requests": 0, "functions": {}, "paths": {}, "sessions_issued": 0})
    session_id = await sandbox.session()
    await sandbox.call(read_by_query("DEPARTMENT"), read_by_query("LOCATION"), session_id=session_id)
    await sandbox.post(request([read_by_query("DEPARTMENT")], session_id="bogus"))  # refused: no function ran
    await sandbox.post(b"<broken")
    await sandbox.admin("POST", "/sandbox/bills")  # the admin API is not gateway traffic
    status, stats = await sandbox.admin("GET", "/sandbox/stats")
    assert stats == {"requests": 4, "functions": {"getAPISession": 1, "readByQuery": 2}, "paths": {"/ia/xml/xmlgw.phtml": 4}, "sessions_issued": 1}


async def test_reset_goes_back_to_the_seed(sandbox: Sandbox, clock: FakeClock) -> None:
    before = await sandbox.query("APBILL", "RECORDNO,STATE,WHENMODIFIED")
    session_id = await sandbox.session()
    _, created = await sandbox.admin("POST", "/sandbox/bills")
    await sandbox.admin("POST", "/sandbox/bills/1001/state", {"state": "Paid"})
    await sandbox.admin("POST", "/sandbox/faults", {"kind": "http_500", "count": 3})
    status, body = await sandbox.admin("POST", "/sandbox/reset")
    assert status == 200 and body == {"status": "reset", "seed": "demo"}
    assert (await sandbox.admin("GET", "/sandbox/stats"))[1] == {"requests": 0, "functions": {}, "paths": {}, "sessions_issued": 0}
    assert (await sandbox.admin("GET", "/sandbox/faults"))[1] == {"pending": []}
    after = await sandbox.query("APBILL", "RECORDNO,STATE,WHENMODIFIED", session_id=session_id)  # sessions survive
    assert after == before
    assert all(int(row["RECORDNO"]) != created["record_no"] for row in after)


async def test_empty_company_gets_a_vendor_with_its_first_bill(empty_sandbox: Sandbox) -> None:
    assert await empty_sandbox.query("VENDOR", "VENDORID") == []
    status, created = await empty_sandbox.admin("POST", "/sandbox/bills", {"amount": 99})
    assert status == 201
    assert await empty_sandbox.query("VENDOR", "VENDORID") == [{"VENDORID": created["vendor_id"]}]
