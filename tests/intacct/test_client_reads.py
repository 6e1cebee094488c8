"""High-level reads over real HTTP: batching, readMore paging, restarts, partial failures, pushed-down filters."""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from intacct import errors as e
from intacct.dimensions import DimensionKind
from intacct.protocol import read_by_query, read_more
from tests.fakes.clock import FakeClock
from tests.fakes.intacct_gateway import FakeIntacctGateway, forget_cursors, function_error, normal, tampered

UTC = timezone.utc


def bills(n: int, start: int = 1, **extra: str) -> list[dict[str, str]]:
    return [
        {
            "RECORDNO": str(i), "RECORDID": f"INV-{i}", "VENDORID": "V1", "VENDORNAME": "Acme Ltd", "STATE": "Submitted",
            "TRX_TOTALENTERED": "100.00", "TRX_TOTALDUE": "100.00", "TRX_TOTALPAID": "0.00", "CURRENCY": "USD",
            "WHENCREATED": "11/01/2026", "WHENDUE": f"12/{(i % 28) + 1:02d}/2026", "WHENMODIFIED": "11/23/2026 05:59:59",
            "RECORD_URL": f"https://sandbox.intacct.local/ia/acct/ur.phtml?.r=b{i}", **extra,
        }  # fmt: skip
        for i in range(start, start + n)
    ]


def payments(n: int, state: tuple[str, str] = ("A", "Approved")) -> list[dict[str, str]]:
    code, word = state
    return [
        {"RECORDNO": str(i), "VENDORID": "V1", "STATE": code, "DISPLAYSTATE": word, "TRX_TOTALENTERED": "10.00", "CURRENCY": "USD",
         "WHENCREATED": f"11/{i:02d}/2026"}
        for i in range(1, n + 1)
    ]  # fmt: skip


def vendors(n: int) -> list[dict[str, str]]:
    return [
        {"RECORDNO": str(i), "VENDORID": f"V{i}", "NAME": f"Vendor {i}", "STATUS": "active", "ONHOLD": "false", "DISPLAYCONTACT.EMAIL1": f"ap{i}@v.test"}
        for i in range(1, n + 1)
    ]


def lines(bill_nos: list[int], per_bill: int = 3, department: str = "D100") -> list[dict[str, str]]:
    return [
        {"RECORDNO": str(b * 10 + n), "RECORDKEY": str(b), "LINE_NO": str(n), "ACCOUNTNO": "6000", "TRX_AMOUNT": "10.00", "DEPARTMENTID": department}
        for b in bill_nos
        for n in range(per_bill, 0, -1)  # out of order on purpose
    ]


def query_of(request, index: int = 0) -> str:
    return request.functions[index].params["query"] or ""


async def test_read_changes_batches_first_pages_then_only_the_needed_readmores(gateway: FakeIntacctGateway, make_client) -> None:
    gateway.add_rows("APBILL", bills(2500))
    gateway.add_rows("APPYMT", payments(3))
    gateway.add_rows("VENDOR", vendors(1200))
    client = make_client()
    since = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
    changes = await client.read_changes({"APBILL": since, "APPYMT": None, "VENDOR": since})
    assert (len(changes.bills), len(changes.payments), len(changes.vendors)) == (2500, 3, 1200)
    data = gateway.data_requests
    assert [r.function_names for r in data] == [["readByQuery"] * 3, ["readMore", "readMore"], ["readMore"]]
    first = data[0]
    assert [f.params["object"] for f in first.functions] == ["APBILL", "APPYMT", "VENDOR"]
    assert query_of(first, 0) == "WHENMODIFIED >= '11/23/2026 06:00:00'"  # 14:00 UTC in the user's -08:00
    assert query_of(first, 1) == ""
    assert all(f.params["pagesize"] == "1000" and "*" not in f.params["fields"] for f in first.functions)
    assert first.functions[0].params["fields"].startswith("RECORDNO,RECORDID,VENDORID")
    assert (changes.requests, changes.functions) == (4, 7)  # login + 3 data requests; 1 + 3 + 2 + 1 functions
    bill = changes.bills[0]
    assert bill.record_no == 1 and bill.when_modified == datetime(2026, 11, 23, 13, 59, 59, tzinfo=UTC) and bill.lines == ()
    assert [b.record_no for b in changes.bills] == list(range(1, 2501))


async def test_read_changes_counts_only_its_own_requests(gateway, make_client) -> None:
    gateway.add_rows("APBILL", bills(5))
    gateway.add_rows("APPYMT", [])
    gateway.add_rows("VENDOR", [])
    client = make_client()
    await client.query_payments(limit=1)
    changes = await client.read_changes({"APBILL": None, "APPYMT": None, "VENDOR": None})
    assert (changes.requests, changes.functions) == (1, 3)
    assert client.stats.requests == 3


async def test_unknown_objects_and_naive_datetimes_are_refused(make_client) -> None:
    client = make_client()
    with pytest.raises(ValueError):
        await client.read_changes({}, objects=("GLACCOUNT",))
    with pytest.raises(ValueError, match="aware"):
        await client.read_changes({"APBILL": datetime(2026, 1, 1)}, objects=("APBILL",))


async def test_an_expired_result_id_restarts_that_query_once(gateway, make_client) -> None:
    gateway.add_rows("APBILL", bills(2500))
    gateway.add_rows("VENDOR", vendors(1500))
    client = make_client()
    gateway.script(normal(), forget_cursors())  # the cursors die between the first pages and the readMores
    changes = await client.read_changes({"APBILL": None, "VENDOR": None}, objects=("APBILL", "VENDOR"))
    assert [b.record_no for b in changes.bills] == list(range(1, 2501))  # no duplicates from the restart
    assert [v.record_no for v in changes.vendors] == list(range(1, 1501))
    assert [r.function_names for r in gateway.data_requests] == [
        ["readByQuery", "readByQuery"],
        ["readMore", "readMore"],  # both refused: invalid or expired resultId
        ["readByQuery", "readByQuery"],  # each query restarted once
        ["readMore", "readMore"],
        ["readMore"],
    ]
    assert client.stats.errors_by_code["readMore failed"] == 2


async def test_a_result_id_that_expires_twice_fails_that_object(gateway, make_client) -> None:
    gateway.add_rows("APBILL", bills(1001))
    client = make_client()
    gateway.script(normal(), forget_cursors(), normal(), forget_cursors())
    changes = await client.read_changes({"APBILL": None}, objects=("APBILL",))
    assert isinstance(changes.failures["APBILL"], e.ResultIdExpiredError) and changes.bills == []
    assert len(gateway.data_requests) == 4
    gateway.script(normal(), forget_cursors(), normal(), forget_cursors())
    with pytest.raises(e.ResultIdExpiredError):
        await client.query_bills(limit=1001)


async def test_one_failing_function_does_not_hide_the_others(gateway, make_client) -> None:
    gateway.add_rows("APBILL", bills(2))
    gateway.add_rows("VENDOR", vendors(2))
    client = make_client()
    gateway.script(function_error("VENDOR", "PL04000005", "You do not have permission for API operation READ_BY_QUERY on VENDOR"))
    functions = [read_by_query("APBILL", ["RECORDNO"]), read_by_query("VENDOR", ["RECORDNO"])]
    ok, failed = await client.execute(functions)
    assert ok.ok and [row["RECORDNO"] for row in ok.rows()] == ["1", "2"]
    assert isinstance(failed.error, e.FunctionError) and failed.error.controlid == functions[1].controlid
    gateway.script(function_error("VENDOR", "PL04000005", "You do not have permission for API operation READ_BY_QUERY on VENDOR"))
    changes = await client.read_changes({"APBILL": None, "VENDOR": None}, objects=("APBILL", "VENDOR"))
    assert [b.record_no for b in changes.bills] == [1, 2] and changes.vendors == []
    failure = changes.failures["VENDOR"]
    assert isinstance(failure, e.FunctionError) and "permission" in str(failure)
    assert failure.controlid == gateway.data_requests[-1].functions[1].controlid and set(changes.failures) == {"VENDOR"}
    gateway.script(function_error("VENDOR", "PL04000005", "You do not have permission for API operation READ_BY_QUERY on VENDOR"))
    with pytest.raises(e.FunctionError, match="permission"):
        await client.find_vendors("V1")  # a read of one object raises its failure


async def test_transient_failure_of_every_function_retries_the_request(gateway, make_client, clock: FakeClock) -> None:
    gateway.add_rows("APBILL", bills(1))
    client = make_client()
    gateway.script(function_error("APBILL", "XL03000099", "The Service is Temporarily Off-line"))
    changes = await client.read_changes({"APBILL": None}, objects=("APBILL",))
    assert len(changes.bills) == 1 and clock.sleeps == [1.0]


async def test_results_are_matched_by_controlid(gateway, make_client) -> None:
    client = make_client()
    gateway.script(tampered(lambda result: setattr(result.find("controlid"), "text", "someone-else")))
    with pytest.raises(e.MalformedResponseError, match="controlid"):
        await client.execute([read_more("x")])


async def test_user_offset_is_read_once_when_not_configured(gateway, make_client) -> None:
    gateway.gmt_offset = "+05:30"
    gateway.add_rows("APBILL", bills(1))
    client = make_client(gmt_offset=None)
    results = await asyncio.gather(*(client.read_changes({"APBILL": datetime(2026, 11, 23, 14, 0, tzinfo=UTC)}, objects=("APBILL",)) for _ in range(5)))
    names = [r.function_names for r in gateway.data_requests]
    assert names[:2] == [["readByName"], ["readUserFormatting"]] and names.count(["readUserFormatting"]) == 1
    # Estuary's recorded requests: the user's RECORDNO by readByName on USERINFO, then it is the key.
    assert gateway.data_requests[0].functions[0].params == {"object": "USERINFO", "keys": "ws-user", "fields": "RECORDNO", "returnFormat": "xml"}
    assert gateway.data_requests[1].functions[0].params == {"key": "7"}
    assert query_of(gateway.data_requests[2]) == "WHENMODIFIED >= '11/23/2026 19:30:00'"
    assert results[0].bills[0].when_modified == datetime(2026, 11, 23, 0, 29, 59, tzinfo=UTC)
    formatting = await client.fetch_user_formatting()
    assert formatting.gmt_offset == timedelta(hours=5, minutes=30) and formatting.locale == "en_US" and formatting.clock == 24


async def test_fetch_bill_lines_is_chunked_into_one_request(gateway, make_client) -> None:
    keys = list(range(1, 451))
    gateway.add_rows("APBILLITEM", lines(keys))
    gateway.filters["APBILLITEM"] = lambda q: (lambda wanted: lambda row: int(row["RECORDKEY"]) in wanted)(set(map(int, re.findall(r"\d+", q))))
    client = make_client()
    found = await client.fetch_bill_lines([*keys, 999, 3])
    requests = gateway.data_requests
    assert requests[0].function_names == ["readByQuery"] * 3  # 451 distinct keys → 200 + 200 + 51, one request
    assert query_of(requests[0], 0).startswith("RECORDKEY IN (1, 2, 3,") and query_of(requests[0], 2).endswith("450, 999)")
    assert len(requests) == 1  # 600 lines per full chunk fit in one page each
    assert found[999] == () and len(found) == 451
    assert all([line.line_no for line in found[key]] == [1, 2, 3] for key in keys)
    assert found[7][0].department_id == "D100" and found[7][0].amount == Decimal("10.00")
    assert await client.fetch_bill_lines([]) == {}


async def test_find_bill_with_lines_in_line_order(gateway, make_client) -> None:
    gateway.add_rows("APBILL", bills(1, start=42))
    gateway.add_rows("APBILLITEM", lines([42]))
    gateway.filters["APBILLITEM"] = lambda q: lambda row: f"RECORDKEY IN ({row['RECORDKEY']})" == q
    client = make_client()
    bill = await client.find_bill(" INV-42 ")
    assert bill is not None and bill.record_no == 42 and [line.line_no for line in bill.lines] == [1, 2, 3]
    assert query_of(gateway.data_requests[0]) == "(RECORDID = 'INV-42' OR DOCNUMBER = 'INV-42')"
    await client.find_bill("42")
    assert query_of(gateway.data_requests[2]) == "(RECORDID = '42' OR DOCNUMBER = '42' OR RECORDNO = 42)"
    gateway.tables["APBILL"] = []
    assert await client.find_bill("nope' OR 1=1") is None
    assert query_of(gateway.data_requests[-1]) == r"(RECORDID = 'nope\' OR 1=1' OR DOCNUMBER = 'nope\' OR 1=1')"
    assert await client.find_bill("  \x00 ") is None


async def test_query_bills_pushes_every_filter_into_intacct(gateway, make_client) -> None:
    gateway.add_rows("APBILL", bills(30))
    client = make_client()
    page = await client.query_bills(
        states=["Submitted", "Partially Approved"], vendor="acme", min_amount=Decimal("500"),
        due_from=date(2026, 12, 1), due_to=date(2026, 12, 31), open_only=True, limit=10,
    )  # fmt: skip
    (request,) = gateway.data_requests
    assert query_of(request) == (
        "(STATE IN ('S', 'PA') AND (VENDORID = 'acme' OR VENDORNAME LIKE '%acme%' OR VENDORNAME LIKE '%ACME%'"
        " OR VENDORNAME LIKE '%Acme%') AND TRX_TOTALENTERED >= 500 AND WHENDUE >= '12/01/2026' AND WHENDUE <= '12/31/2026'"
        " AND TRX_TOTALDUE > 0)"
    )
    assert request.functions[0].params["pagesize"] == "10"
    assert (len(page.bills), page.total, page.more) == (10, 30, 20)
    assert [b.due_date for b in page.bills] == sorted(b.due_date for b in page.bills)


async def test_department_filter_looks_up_line_keys_then_bills_by_recordno(gateway, make_client) -> None:
    gateway.add_rows("APBILLITEM", lines(list(range(1, 251)), department="D100") + lines([900], department="D200"))
    gateway.filters["APBILLITEM"] = lambda q: lambda row: row["DEPARTMENTID"] == "D100"
    gateway.add_rows("APBILL", bills(300))
    gateway.filters["APBILL"] = lambda q: lambda row: f" {row['RECORDNO']}," in q.replace("(", " ").replace(")", ",")
    client = make_client()
    page = await client.query_bills(states=["Submitted"], department="D100", limit=5)
    keys_request, bills_request = gateway.data_requests
    assert query_of(keys_request) == "(DEPARTMENTID = 'D100' OR DEPARTMENTNAME = 'D100')"
    assert keys_request.functions[0].params["fields"] == "RECORDKEY"
    assert bills_request.function_names == ["readByQuery", "readByQuery"]  # 250 keys → 2 chunks, one request
    assert query_of(bills_request, 0).startswith("(STATE IN ('S') AND RECORDNO IN (1, 2, ")
    assert re.search(r"RECORDNO IN \(201, .*, 250\)\)$", query_of(bills_request, 1))
    assert page.total == 250 and len(page.bills) == 5


async def test_department_without_bills_sends_no_bill_query(gateway, make_client) -> None:
    gateway.add_rows("APBILLITEM", [])
    client = make_client()
    page = await client.query_bills(department="NOPE")
    assert (page.bills, page.total) == ([], 0) and len(gateway.data_requests) == 1


async def test_query_bills_validation(make_client) -> None:
    client = make_client()
    with pytest.raises(ValueError):
        await client.query_bills(limit=0)
    with pytest.raises(TypeError):
        await client.query_bills(min_amount=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        await client.query_bills(min_amount="lots")
    assert (await client.query_bills(states=[])).total == 0


async def test_a_limit_above_one_page_reads_more_pages_and_stops_at_the_limit(gateway, make_client) -> None:
    gateway.add_rows("APBILL", bills(3000))
    client = make_client()
    page = await client.query_bills(open_only=True, limit=2500)
    assert [r.function_names for r in gateway.data_requests] == [["readByQuery"], ["readMore"], ["readMore"]]
    assert gateway.data_requests[0].functions[0].params["pagesize"] == "1000"
    assert (len(page.bills), page.total, page.more) == (2500, 3000, 500)


async def test_query_payments_in_documented_states_is_filtered_by_intacct(gateway, make_client) -> None:
    gateway.add_rows("APPYMT", payments(12))
    client = make_client()
    page = await client.query_payments(states=["Approved", "Confirmed"], limit=5)
    assert query_of(gateway.data_requests[0]) == "STATE IN ('A', 'C')"
    assert (len(page.payments), page.total, page.more) == (5, 12, 7)
    assert page.payments[0].payment_date > page.payments[-1].payment_date


async def test_query_payments_in_undocumented_states_checks_the_words_itself(gateway, make_client) -> None:
    # Delivered has no documented code: read what is not Draft/Confirmed/Voided, keep the words.
    gateway.add_rows("APPYMT", payments(3) + [
        {**row, "RECORDNO": str(10 + i), "STATE": code, "DISPLAYSTATE": word}
        for i, (row, (code, word)) in enumerate(zip(payments(3), [("K", "Delivered"), ("W", "Print Voided"), ("S", "Submitted")]))
    ])  # fmt: skip
    client = make_client()
    page = await client.query_payments(states=["Approved", "Delivered"], limit=2)
    assert query_of(gateway.data_requests[0]) == "STATE NOT IN ('D', 'S', 'C', 'V')"
    assert gateway.data_requests[0].functions[0].params["pagesize"] == "2"
    assert {p.state for p in page.payments} <= {"Approved", "Delivered"} and (len(page.payments), page.total) == (2, 4)


async def test_find_vendors_puts_the_exact_id_first(gateway, make_client) -> None:
    gateway.add_rows("VENDOR", vendors(8))
    gateway.filters["VENDOR"] = lambda q: (lambda row: f"VENDORID = '{row['VENDORID']}'" == q) if q.startswith("VENDORID") else (lambda row: True)
    client = make_client()
    found = await client.find_vendors("V7", limit=3)
    (request,) = gateway.data_requests
    assert request.function_names == ["readByQuery", "readByQuery"]
    assert query_of(request, 0) == "VENDORID = 'V7'"
    assert query_of(request, 1) == "(NAME LIKE '%V7%' OR NAME LIKE '%v7%')"
    assert [v.vendor_id for v in found] == ["V7", "V1", "V2"] and found[0].email == "ap7@v.test"
    assert await client.find_vendors("%_%") == []  # nothing left to search by name: only the id lookup is sent
    assert query_of(gateway.data_requests[-1]) == "VENDORID = '%_%'" and len(gateway.data_requests[-1].functions) == 1


async def test_fetch_dimensions_reads_every_kind_in_one_request(gateway, make_client) -> None:
    gateway.add_rows("GLACCOUNT", [{"RECORDNO": "2", "ACCOUNTNO": "6000", "TITLE": "Supplies", "STATUS": "active"}, {"RECORDNO": "1", "ACCOUNTNO": "1000", "TITLE": "Cash"}])
    gateway.add_rows("DEPARTMENT", [{"RECORDNO": str(i), "DEPARTMENTID": f"D{i:04d}", "TITLE": f"Dept {i}"} for i in range(1, 1101)])
    client = make_client()
    found = await client.fetch_dimensions([DimensionKind.GL_ACCOUNT, DimensionKind.DEPARTMENT, DimensionKind.GL_ACCOUNT])
    assert [r.function_names for r in gateway.data_requests] == [["readByQuery", "readByQuery"], ["readMore"]]
    assert [d.id for d in found[DimensionKind.GL_ACCOUNT]] == ["1000", "6000"]
    assert len(found[DimensionKind.DEPARTMENT]) == 1100
    assert gateway.data_requests[0].functions[1].params["fields"] == "RECORDNO,DEPARTMENTID,TITLE,STATUS,WHENMODIFIED"
    assert await client.fetch_dimensions([]) == {}


async def test_a_refused_user_formatting_names_the_permission_and_the_fallback(gateway, make_client) -> None:
    client = make_client(gmt_offset=None)
    gateway.script(normal(), function_error("readUserFormatting", "PL04000005", "You do not have permission for API operation READ"))
    with pytest.raises(e.UserFormattingRefusedError) as refused:
        await client.fetch_user_formatting()
    assert "Company > Users" in refused.value.correction and "INTACCT_GMT_OFFSET" in refused.value.correction
    assert refused.value.errorno == "PL04000005"


async def test_execute_refuses_sessions_and_accepts_nothing(make_client) -> None:
    from intacct.protocol import get_api_session

    client = make_client()
    assert await client.execute([]) == []
    with pytest.raises(ValueError):
        await client.execute([get_api_session()])
    assert "us3r" not in repr(client) and "TEST-CO" in repr(client)


async def test_an_empty_page_claiming_more_rows_is_malformed_not_a_loop(gateway, make_client) -> None:
    gateway.add_rows("APBILL", bills(3))
    client = make_client()

    def empty_but_more(result) -> None:
        data = result.find("data")
        for row in list(data):
            data.remove(row)
        data.set("numremaining", "3")
        data.set("resultId", "rid-stuck")

    gateway.script(tampered(empty_but_more))
    changes = await client.read_changes({"APBILL": None}, objects=("APBILL",))
    assert isinstance(changes.failures["APBILL"], e.MalformedResponseError) and "empty page" in str(changes.failures["APBILL"])
    gateway.script(tampered(empty_but_more))
    with pytest.raises(e.MalformedResponseError, match="empty page"):
        await client.query_bills()
