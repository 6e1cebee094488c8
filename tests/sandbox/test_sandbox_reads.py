"""readByQuery, readMore, read, readUserFormatting and multi-function requests, over HTTP."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from lxml import etree

from intacct.client import READS
from sandbox.objects import OBJECTS
from tests.fakes.clock import FakeClock
from tests.sandbox.helpers import (
    Sandbox,
    error,
    function,
    read_by_query,
    read_more,
    request,
    results,
    rows,
)

BILL_FIELDS = (
    "RECORDNO,RECORDID,VENDORID,VENDORNAME,STATE,DESCRIPTION,DOCNUMBER,WHENCREATED,WHENDUE,WHENPAID,"
    "TOTALENTERED,TOTALDUE,TOTALPAID,CURRENCY,MEGAENTITYID,WHENMODIFIED,RECORD_URL"
)
LINE_FIELDS = (
    "RECORDNO,RECORDKEY,LINE_NO,ACCOUNTNO,ACCOUNTTITLE,AMOUNT,ENTRYDESCRIPTION,DEPARTMENTID,DEPARTMENTNAME,"
    "LOCATIONID,LOCATIONNAME,CLASSID,CLASSNAME,PROJECTID,PROJECTNAME"
)
CLIENT_FIELDS = {spec.object: ",".join(spec.all) for spec in READS}  # every field the client may select
TIMESTAMP = re.compile(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d")
DATE = re.compile(r"\d\d/\d\d/\d{4}")
AMOUNT = re.compile(r"-?\d+\.\d\d")


@pytest.mark.parametrize("obj", sorted(CLIENT_FIELDS))
async def test_every_field_the_client_reads_comes_back_exactly_in_order(sandbox: Sandbox, obj: str) -> None:
    fields = CLIENT_FIELDS[obj]
    (result,) = await sandbox.call(read_by_query(obj, fields, pagesize=5))
    assert result.findtext("status") == "success"
    data = result.find("data")
    assert data.get("listtype") == obj.lower()
    assert len(data) >= 1
    for row in data:
        assert row.tag == obj.lower()
        assert [field.tag for field in row] == fields.split(",")


async def test_star_returns_every_field_and_apbill_rows_carry_their_lines(sandbox: Sandbox) -> None:
    (result,) = await sandbox.call(read_by_query("APBILL", "*", "RECORDNO = 1001"))
    (row,) = result.find("data")
    tags = [child.tag for child in row]
    assert tags == [f.name for f in OBJECTS["APBILL"].fields] + ["APBILLITEMS"]
    lines = row.find("APBILLITEMS")
    assert len(lines) >= 1 and all(line.tag == "apbillitem" for line in lines)
    assert {line.findtext("RECORDKEY") for line in lines} == {"1001"}


async def test_values_are_rendered_like_intacct(sandbox: Sandbox, clock: FakeClock) -> None:
    bills = await sandbox.query("APBILL", BILL_FIELDS)
    assert len(bills) >= 300
    for bill in bills:
        assert TIMESTAMP.fullmatch(bill["WHENMODIFIED"])
        assert DATE.fullmatch(bill["WHENCREATED"]) and DATE.fullmatch(bill["WHENDUE"])
        assert all(AMOUNT.fullmatch(bill[key]) for key in ("TOTALENTERED", "TOTALDUE", "TOTALPAID"))
        assert bill["STATE"] in {"Submitted", "Partially Approved", "Posted", "Declined", "Selected",
                                 "Partially Paid", "Paid", "Reversed"}
        assert re.fullmatch(r"https://sandbox\.intacct\.local/ia/acct/ur\.phtml\?\.r=[A-Za-z0-9_-]+", bill["RECORD_URL"])
        assert bill["CURRENCY"] == "USD" and bill["MEGAENTITYID"] is None
    assert len({bill["RECORD_URL"] for bill in bills}) == len(bills)
    vendors = await sandbox.query("VENDOR", "ONHOLD,STATUS")
    assert {v["ONHOLD"] for v in vendors} == {"true", "false"}
    assert {v["STATUS"] for v in vendors} == {"active", "inactive"}


async def test_timestamps_are_written_in_the_users_gmtoffset(sandbox: Sandbox, clock: FakeClock) -> None:
    clock.advance(minutes=5, seconds=7)  # 14:05:07 UTC = 06:05:07 at -08:00
    status, created = await sandbox.admin("POST", "/sandbox/bills", {"amount": "10.00"})
    record_no = created["record_no"]
    (bill,) = await sandbox.query("APBILL", "WHENMODIFIED,WHENCREATED", f"RECORDNO = {record_no}")
    assert bill == {"WHENMODIFIED": "11/23/2026 06:05:07", "WHENCREATED": "11/23/2026"}
    # and filter values are read in the same offset
    assert await sandbox.query("APBILL", "RECORDNO", "WHENMODIFIED >= '11/23/2026 06:05:07'") == [{"RECORDNO": str(record_no)}]
    assert await sandbox.query("APBILL", "RECORDNO", "WHENMODIFIED > '11/23/2026 06:05:07'") == []


async def test_bill_lines_carry_the_bill_key_and_dimension_names(sandbox: Sandbox) -> None:
    lines = await sandbox.query("APBILLITEM", LINE_FIELDS, "RECORDKEY IN (1001, 1002, 1003)")
    assert {line["RECORDKEY"] for line in lines} == {"1001", "1002", "1003"}
    accounts = {a["ACCOUNTNO"]: a["TITLE"] for a in await sandbox.query("GLACCOUNT", "ACCOUNTNO,TITLE")}
    departments = {d["DEPARTMENTID"]: d["TITLE"] for d in await sandbox.query("DEPARTMENT", "DEPARTMENTID,TITLE")}
    locations = {loc["LOCATIONID"]: loc["NAME"] for loc in await sandbox.query("LOCATION", "LOCATIONID,NAME")}
    for line in lines:
        assert line["ACCOUNTTITLE"] == accounts[line["ACCOUNTNO"]]
        assert line["DEPARTMENTNAME"] == departments[line["DEPARTMENTID"]]
        assert line["LOCATIONNAME"] == locations[line["LOCATIONID"]]
        assert (line["CLASSID"] is None) == (line["CLASSNAME"] is None)
        assert (line["PROJECTID"] is None) == (line["PROJECTNAME"] is None)
    for key in ("1001", "1002", "1003"):
        numbers = [int(line["LINE_NO"]) for line in lines if line["RECORDKEY"] == key]
        assert numbers == list(range(1, len(numbers) + 1))


async def test_read_by_query_and_read_more_page_to_the_end(sandbox: Sandbox) -> None:
    (first,) = await sandbox.call(read_by_query("APBILL", "RECORDNO", pagesize=70))
    data = first.find("data")
    total = int(data.get("totalcount"))
    assert (int(data.get("count")), int(data.get("numremaining"))) == (70, total - 70)
    result_id = data.get("resultId")
    assert result_id
    seen = [row["RECORDNO"] for row in rows(first)]
    remaining = total - 70
    while remaining:
        (page,) = await sandbox.call(read_more(result_id))
        assert page.findtext("function") == "readMore" and page.findtext("status") == "success"
        data = page.find("data")
        assert data.get("listtype") == "apbill" and data.get("resultId") == result_id
        assert int(data.get("totalcount")) == total
        assert int(data.get("count")) == min(70, remaining)
        remaining -= int(data.get("count"))
        assert int(data.get("numremaining")) == remaining
        seen += [row["RECORDNO"] for row in rows(page)]
    assert len(seen) == total == len(set(seen))
    assert seen == sorted(seen, key=int)
    (after,) = await sandbox.call(read_more(result_id))  # the last page closed it
    assert after.findtext("status") == "failure" and error(after)["errorno"] == "readMore failed"


async def test_a_result_that_fits_one_page_has_no_result_id(sandbox: Sandbox) -> None:
    (result,) = await sandbox.call(read_by_query("DEPARTMENT", "DEPARTMENTID"))
    data = result.find("data")
    assert (data.get("count"), data.get("totalcount"), data.get("numremaining"), data.get("resultId")) == ("5", "5", "0", "")


async def test_no_match_is_an_empty_data_element(sandbox: Sandbox) -> None:
    (result,) = await sandbox.call(read_by_query("DEPARTMENT", "DEPARTMENTID", "DEPARTMENTID = 'NONE'"))
    data = result.find("data")
    assert len(data) == 0
    assert dict(data.attrib) == {"listtype": "department", "count": "0", "totalcount": "0", "numremaining": "0", "resultId": ""}


@pytest.mark.parametrize(("pagesize", "count"), [(None, 100), ("", 100), (1, 1), (1000, 1000)])
async def test_pagesize_defaults_to_100_and_allows_up_to_1000(sandbox: Sandbox, pagesize: object, count: int) -> None:
    (result,) = await sandbox.call(read_by_query("APPYMT", "RECORDNO", pagesize=pagesize))
    bills = result.find("data")
    assert int(bills.get("count")) == min(count, int(bills.get("totalcount")))


@pytest.mark.parametrize("pagesize", [1001, 0, 5000, "abc", "-1", "1.5"])
async def test_pagesize_out_of_range_fails_the_function(sandbox: Sandbox, pagesize: object) -> None:
    (result,) = await sandbox.call(read_by_query("APBILL", "RECORDNO", pagesize=pagesize))
    assert result.findtext("status") == "failure"
    assert error(result)["errorno"] == "Query Failed"
    assert "from 1 to 1000" in error(result)["description2"]


async def test_unknown_object_and_unknown_fields_fail_like_intacct(sandbox: Sandbox) -> None:
    bad_object, bad_fields, good = await sandbox.call(
        read_by_query("BADOBJECT", "RECORDNO", controlid="a"),
        read_by_query("APBILL", "RECORDNO,NOPE,TAXID", controlid="b"),
        read_by_query("DEPARTMENT", "DEPARTMENTID", controlid="c"),
    )
    assert error(bad_object) == {"errorno": "Query Failed", "description": "", "correction": "",
                                 "description2": "Object definition BADOBJECT not found"}
    assert error(bad_fields)["errorno"] == "Invalid fields list NOPE,TAXID"
    assert [r.findtext("controlid") for r in (bad_object, bad_fields, good)] == ["a", "b", "c"]
    assert good.findtext("status") == "success"


async def test_a_bad_query_is_a_result_failure_never_a_server_error(sandbox: Sandbox) -> None:
    for query in ("VENDORNAME = 'x' OR 1=1", "NAME ==", "(((", "FOO = 1", "RECORDNO = 'x'", "x" * 300):
        (result,) = await sandbox.call(read_by_query("VENDOR", "RECORDNO", query))
        assert result.findtext("status") == "failure"
        found = error(result)
        assert found["errorno"] == "Query Failed"
        assert found["description2"].startswith("Invalid query: ")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("DEPARTMENTID = 'D300'", ["D300"]),
        ("DEPARTMENTID != 'D300'", ["D100", "D200", "D400", "D500"]),
        ("DEPARTMENTID > 'D300'", ["D400", "D500"]),
        ("DEPARTMENTID >= 'D300' AND DEPARTMENTID < 'D500'", ["D300", "D400"]),
        ("DEPARTMENTID IN ('D100', 'D500', 'D900')", ["D100", "D500"]),
        ("DEPARTMENTID NOT IN ('D100', 'D500')", ["D200", "D300", "D400"]),
        ("TITLE LIKE '%in%'", ["D100", "D300", "D400", "D500"]),
        ("TITLE LIKE 'Fin_nce'", ["D500"]),
        ("TITLE LIKE 'finance'", []),
        ("PARENTID IS NULL AND STATUS = 'T'", ["D100", "D200", "D300", "D400", "D500"]),
        ("STATUS = 'active'", []),
        ("DEPARTMENTID = 'D100' OR DEPARTMENTID = 'D200' AND TITLE = 'Nobody'", ["D100"]),
        ("(DEPARTMENTID = 'D100' OR DEPARTMENTID = 'D200') AND TITLE = 'Operations'", ["D200"]),
        ("TITLE = 'x\\' OR 1=1'", []),
        ("NOT DEPARTMENTID = 'D100'", ["D200", "D300", "D400", "D500"]),
    ],
)
async def test_query_language_over_the_wire(sandbox: Sandbox, query: str, expected: list[str]) -> None:
    found = await sandbox.query("DEPARTMENT", "DEPARTMENTID", query)
    assert [row["DEPARTMENTID"] for row in found] == expected


async def test_quotes_and_ampersands_survive_xml_and_the_query_language(sandbox: Sandbox) -> None:
    assert await sandbox.query("VENDOR", "NAME", "NAME = 'O\\'Brien Abrasives Co.'") == [{"NAME": "O'Brien Abrasives Co."}]
    assert await sandbox.query("VENDOR", "NAME", "NAME = 'Columbia Copper & Wire'") == [{"NAME": "Columbia Copper & Wire"}]
    assert await sandbox.query("VENDOR", "NAME", "NAME LIKE 'O\\'B%' AND RECORDNO > 0") == [{"NAME": "O'Brien Abrasives Co."}]


async def test_state_codes_filter_and_display_values_come_back(sandbox: Sandbox) -> None:
    # APBILL: STATE shows the word, RAWSTATE the code; conditions on STATE compare codes.
    pending = await sandbox.query("APBILL", "STATE,RAWSTATE", "STATE IN ('S', 'PA')")
    assert pending and {(row["STATE"], row["RAWSTATE"]) for row in pending} == {("Submitted", "S"), ("Partially Approved", "PA")}
    assert await sandbox.query("APBILL", "STATE", "STATE = 'Submitted'") == []
    # APPYMT: STATE and RAWSTATE are the one-letter code, DISPLAYSTATE the word.
    payments = await sandbox.query("APPYMT", "STATE,RAWSTATE,DISPLAYSTATE")
    assert payments and all(row["STATE"] == row["RAWSTATE"] and len(row["STATE"]) == 1 for row in payments)
    assert {row["DISPLAYSTATE"] for row in payments} >= {"Confirmed", "Submitted"}
    assert {row["DISPLAYSTATE"] for row in await sandbox.query("APPYMT", "DISPLAYSTATE", "STATE = 'C'")} == {"Confirmed"}
    on_hold = await sandbox.query("VENDOR", "ONHOLD,STATUS", "ONHOLD = 'T'")
    assert on_hold and {row["ONHOLD"] for row in on_hold} == {"true"}
    inactive = await sandbox.query("VENDOR", "STATUS", "STATUS = 'F'")
    assert inactive and {row["STATUS"] for row in inactive} == {"inactive"}


async def test_read_more_with_an_unknown_id_fails_like_intacct(sandbox: Sandbox) -> None:
    (result,) = await sandbox.call(read_more("6465763031V2wi28CoHYQAAF0HcP8AAAAc5"))
    assert result.findtext("status") == "failure" and result.findtext("function") == "readMore"
    assert error(result) == {
        "errorno": "readMore failed", "description": "", "correction": "",
        "description2": "Attempt to readMore with an invalid or expired resultId: 6465763031V2wi28CoHYQAAF0HcP8AAAAc5",
    }


async def _first_page(sandbox: Sandbox, session_id: str | None = None) -> str:
    (result,) = await sandbox.call(read_by_query("APBILL", "RECORDNO", pagesize=10), session_id=session_id)
    return result.find("data").get("resultId")


async def test_result_ids_expire_after_idle_time(sandbox: Sandbox, clock: FakeClock) -> None:
    result_id = await _first_page(sandbox)
    clock.advance(minutes=14)
    (page,) = await sandbox.call(read_more(result_id))
    assert page.findtext("status") == "success"
    clock.advance(minutes=15)
    (page,) = await sandbox.call(read_more(result_id))
    assert page.findtext("status") == "failure" and "invalid or expired resultId" in error(page)["description2"]


async def test_result_ids_die_with_their_session_and_stay_with_it(sandbox: Sandbox, clock: FakeClock) -> None:
    session_id, other = await sandbox.session(), await sandbox.session()
    result_id = await _first_page(sandbox, session_id)
    (elsewhere,) = await sandbox.call(read_more(result_id), session_id=other)
    assert elsewhere.findtext("status") == "failure"
    (page,) = await sandbox.call(read_more(result_id), session_id=session_id)
    assert page.findtext("status") == "success"
    await sandbox.admin("POST", "/sandbox/faults", {"kind": "expire_sessions"})
    await sandbox.post(request([]))  # the fault fires on this request
    new_session = await sandbox.session()
    (page,) = await sandbox.call(read_more(result_id), session_id=new_session)
    assert page.findtext("status") == "failure"


async def test_result_ids_lifetime_is_configurable(make_sandbox, clock: FakeClock) -> None:
    sandbox = await make_sandbox(result_lifetime=timedelta(minutes=2))
    result_id = await _first_page(sandbox)
    clock.advance(minutes=2)
    (page,) = await sandbox.call(read_more(result_id))
    assert page.findtext("status") == "failure"


async def test_read_more_by_object_continues_the_latest_query(sandbox: Sandbox) -> None:
    await _first_page(sandbox)
    (page,) = await sandbox.call(function("readMore", "m", object="APBILL"))
    assert page.findtext("status") == "success"
    assert int(page.find("data").get("count")) == 10


async def test_read_returns_upper_case_rows_and_skips_unknown_keys(sandbox: Sandbox) -> None:
    (result,) = await sandbox.call(function("read", "r", object="VENDOR", keys="101, 102,99999,abc", fields="VENDORID,NAME"))
    data = result.find("data")
    assert dict(data.attrib) == {"listtype": "VENDOR", "count": "2"}
    assert [row.tag for row in data] == ["VENDOR", "VENDOR"]
    assert rows(result) == [{"VENDORID": "V1001", "NAME": "Pacific Steel Supply"},
                            {"VENDORID": "V1002", "NAME": "Cascade Aluminium Co."}]
    (empty,) = await sandbox.call(function("read", "r", object="VENDOR", keys=""))
    assert empty.findtext("status") == "failure"


async def test_read_user_formatting_by_the_users_recordno(sandbox: Sandbox) -> None:
    # Estuary's recorded requests: readByName USERINFO by login id for RECORDNO, then that key.
    user, by_key, missing, unknown, by_login = await sandbox.call(
        function("readByName", "u", object="USERINFO", keys="AP-ADMIN", fields="RECORDNO"),
        function("readUserFormatting", "b", key="5"),
        function("readUserFormatting", "c"),
        function("readUserFormatting", "d", key="6"),
        function("readUserFormatting", "e", userId="ap-admin"),  # not a parameter readUserFormatting takes
    )
    assert user.findtext("data/USERINFO/RECORDNO") == "5" and user.find("data").get("listtype") == "USERINFO"
    formatting = by_key.find("data/userformatting")
    assert [(child.tag, child.text) for child in formatting] == [
        ("recordno", "5"), ("locale", "en_US"), ("dateformat", "/mdY"), ("gmtoffset", "-08:00"), ("clock", "24"),
    ]
    assert [r.findtext("status") for r in (missing, unknown, by_login)] == ["failure"] * 3


async def test_a_company_can_refuse_user_formatting(sandbox: Sandbox) -> None:
    await sandbox.admin("POST", "/sandbox/company", {"refuse_user_formatting": True})
    (refused,) = await sandbox.call(function("readUserFormatting", "b", key="5"))
    assert refused.findtext("status") == "failure" and "permission" in error(refused)["description2"]


async def test_one_failing_function_does_not_fail_the_others(sandbox: Sandbox) -> None:
    found = await sandbox.call(
        read_by_query("DEPARTMENT", "DEPARTMENTID", controlid="one"),
        read_by_query("APBILL", "RECORDNO", "NOPE = 1", controlid="two"),
        function("readUserFormatting", "three", key="5"),
        read_more("gone", controlid="four"),
        function("read", "five", object="LOCATION", keys="1"),
    )
    assert [(r.findtext("controlid"), r.findtext("function"), r.findtext("status")) for r in found] == [
        ("one", "readByQuery", "success"), ("two", "readByQuery", "failure"),
        ("three", "readUserFormatting", "success"), ("four", "readMore", "failure"), ("five", "read", "success"),
    ]


async def test_a_failure_inside_a_transaction_aborts_the_others(sandbox: Sandbox) -> None:
    status, root = await sandbox.post(request(
        [read_by_query("DEPARTMENT", "DEPARTMENTID", controlid="ok"), read_by_query("VENDOR9", controlid="bad")],
        transaction=True,
    ))
    ok, bad = results(root)
    assert ok.findtext("status") == "aborted" and ok.find("data") is None
    assert error(ok)["errorno"] == "XL03000009"
    assert bad.findtext("status") == "failure"
    assert [e.findtext("errorno") for e in bad.findall("errormessage/error")] == ["Query Failed", "XL03000009"]


async def test_only_xml_is_returned(sandbox: Sandbox) -> None:
    (result,) = await sandbox.call(read_by_query("DEPARTMENT", "DEPARTMENTID", returnFormat="json"))
    assert result.findtext("status") == "failure" and "xml only" in error(result)["description2"]


async def test_gzip_is_used_when_the_client_accepts_it(sandbox: Sandbox) -> None:
    response = await sandbox.client.post(
        "/", data=request([read_by_query("APBILL", "RECORDNO", pagesize=1000)]), headers={"Accept-Encoding": "gzip"}
    )
    assert response.headers.get("Content-Encoding") == "gzip"
    root = etree.fromstring(await response.read())  # aiohttp inflates it
    data = root.find("operation/result/data")
    assert data.get("count") == data.get("totalcount") == "320" and len(data) == 320


async def test_record_url_opens_a_page_for_the_record(sandbox: Sandbox) -> None:
    (bill,) = await sandbox.query("APBILL", "RECORDID,RECORD_URL", "RECORDNO = 1001")
    token = bill["RECORD_URL"].split("?.r=", 1)[1]
    page = await sandbox.client.get("/ia/acct/ur.phtml", params={".r": token})
    assert page.status == 200
    assert bill["RECORDID"] in await page.text()
    missing = await sandbox.client.get("/ia/acct/ur.phtml", params={".r": "bm90LWEtcmVjb3Jk"})
    assert missing.status == 404


async def test_web_url_none_links_to_the_sandbox_itself(make_sandbox) -> None:
    sandbox = await make_sandbox(web_url=None)
    (vendor,) = await sandbox.query("VENDOR", "RECORD_URL", "VENDORID = 'V1001'")
    base = str(sandbox.client.make_url("/ia/acct/ur.phtml"))
    assert vendor["RECORD_URL"].startswith(base + "?.r=")
    page = await sandbox.client.get(vendor["RECORD_URL"].replace(str(sandbox.client.make_url("")).rstrip("/"), ""))
    assert "Pacific Steel Supply" in await page.text()


async def test_a_parameter_the_function_does_not_take_fails_it(sandbox: Sandbox) -> None:
    typo, good = await sandbox.call(
        function("readByQuery", "typo", object="DEPARTMENT", fields="DEPARTMENTID", pagesise="5"),
        function("readUserFormatting", "ok", key="5"),
    )
    assert typo.findtext("status") == "failure"
    assert error(typo)["errorno"] == "XL03000003"
    assert "<readByQuery> does not take <pagesise>" in error(typo)["description2"]
    assert good.findtext("status") == "success"
