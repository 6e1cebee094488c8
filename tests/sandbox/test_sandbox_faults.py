"""Injected faults: every kind on the wire, counts, order, targeting, and bad fault requests."""

from __future__ import annotations

import pytest
from lxml import etree

from tests.fakes.clock import FakeClock
from tests.sandbox.helpers import Sandbox, error, get_api_session, parse, read_by_query, request, results


@pytest.fixture
async def sandbox(empty_sandbox: Sandbox) -> Sandbox:
    """The empty company: faults need only the credentials and the reference data, and it builds faster."""
    return empty_sandbox


DEPARTMENTS = read_by_query("DEPARTMENT", "DEPARTMENTID", controlid="dept")


async def _fault(sandbox: Sandbox, **payload: object) -> dict:
    status, body = await sandbox.admin("POST", "/sandbox/faults", payload)
    assert status == 201, body
    return body


async def _raw(sandbox: Sandbox, body: bytes | None = None) -> tuple[int, str, bytes]:
    response = await sandbox.client.post("/ia/xml/xmlgw.phtml", data=body or request([DEPARTMENTS]))
    return response.status, response.headers["Content-Type"], await response.read()


@pytest.mark.parametrize(("kind", "status"), [("http_500", 500), ("http_503", 503)])
async def test_http_errors_answer_html_then_recover(sandbox: Sandbox, kind: str, status: int) -> None:
    await _fault(sandbox, kind=kind, count=2)
    for _ in range(2):
        got, content_type, body = await _raw(sandbox)
        assert got == status and content_type.startswith("text/html")
        assert f"{status}".encode() in body and b"<response>" not in body
    got, _, body = await _raw(sandbox)
    assert got == 200 and parse(body).findtext("control/status") == "success"


async def test_503_looks_like_a_cdn_page(sandbox: Sandbox) -> None:
    await _fault(sandbox, kind="http_503")
    _, _, body = await _raw(sandbox)
    assert b"cf-error-details" in body


async def test_concurrency_limit_is_a_429_with_gw_0010(sandbox: Sandbox) -> None:
    await _fault(sandbox, kind="concurrency_limit")
    status, content_type, body = await _raw(sandbox)
    assert status == 429 and content_type.startswith("text/xml")
    root = parse(body)
    assert root.findtext("control/status") == "failure" and root.find("operation") is None
    assert error(root)["errorno"] == "GW-0010"
    assert (await _raw(sandbox))[0] == 200


async def test_delay_waits_on_the_injected_sleep_then_answers(sandbox: Sandbox, clock: FakeClock) -> None:
    await _fault(sandbox, kind="delay", seconds=42)
    status, _, body = await _raw(sandbox)
    assert status == 200 and parse(body).findtext("operation/result/status") == "success"
    assert clock.sleeps == [42.0]
    # the answer was produced after the wait: its timestamp is the clock's time after sleeping
    assert parse(body).findtext("operation/authentication/sessiontimestamp") == "2026-11-23T06:00:42-08:00"


async def test_delay_has_a_default(sandbox: Sandbox, clock: FakeClock) -> None:
    body = await _fault(sandbox, kind="delay")
    assert body["queued"] == {"kind": "delay", "remaining": 1, "seconds": 5.0}
    await _raw(sandbox)
    assert clock.sleeps == [5.0]


async def test_malformed_xml_is_a_cut_body(sandbox: Sandbox) -> None:
    await _fault(sandbox, kind="malformed_xml")
    status, _, body = await _raw(sandbox)
    assert status == 200
    with pytest.raises(etree.XMLSyntaxError):
        parse(body)
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')


async def test_control_chars_land_inside_a_value(sandbox: Sandbox) -> None:
    await _fault(sandbox, kind="control_chars")
    status, _, body = await _raw(sandbox)
    assert status == 200
    assert b"<DEPARTMENTID>D100\x01\x0b\x1b</DEPARTMENTID>" in body
    with pytest.raises(etree.XMLSyntaxError):
        parse(body)
    recovered = etree.fromstring(body, etree.XMLParser(recover=True))
    assert recovered.findtext("operation/result/status") == "success"


async def test_control_chars_without_data_corrupt_the_controlid(sandbox: Sandbox) -> None:
    await _fault(sandbox, kind="control_chars")
    _, _, body = await _raw(sandbox, request([]))
    assert b"<controlid>req-1\x01\x0b\x1b</controlid>" in body


async def test_error_response_fails_one_function_of_the_next_request(sandbox: Sandbox) -> None:
    await _fault(sandbox, kind="error_response")
    first, second = await sandbox.call(DEPARTMENTS, read_by_query("LOCATION", controlid="loc"))
    assert first.findtext("status") == "failure" and second.findtext("status") == "success"
    assert error(first)["errorno"] == "BL01001973" and first.findtext("controlid") == "dept"
    (again,) = await sandbox.call(DEPARTMENTS)
    assert again.findtext("status") == "success"


@pytest.mark.parametrize("target", ["loc", "LOCATION", "location", "readByQuery"])
async def test_error_response_targets_a_controlid_object_or_function(sandbox: Sandbox, target: str) -> None:
    await _fault(sandbox, kind="error_response", function=target)
    found = await sandbox.call(read_by_query("LOCATION", controlid="loc"), DEPARTMENTS)
    assert [r.findtext("status") for r in found] == ["failure", "success"]


async def test_a_targeted_error_response_waits_for_a_matching_request(sandbox: Sandbox) -> None:
    await _fault(sandbox, kind="error_response", function="APBILL", transient=True, count=2)
    session_id = await sandbox.session()  # getAPISession alone: not a target
    (dept,) = await sandbox.call(DEPARTMENTS, session_id=session_id)
    assert dept.findtext("status") == "success"
    dept, bill = await sandbox.call(DEPARTMENTS, read_by_query("APBILL", "RECORDNO", controlid="bills"),
                                    session_id=session_id)
    assert dept.findtext("status") == "success" and bill.findtext("status") == "failure"
    assert error(bill) == {"errorno": "Service Unavailable", "description": "",
                           "description2": "The Service is Temporarily Off-line", "correction": "Please Try Again Later"}
    assert (await sandbox.admin("GET", "/sandbox/faults"))[1]["pending"] == [
        {"kind": "error_response", "remaining": 1, "function": "APBILL", "transient": True}
    ]


async def test_expire_sessions_invalidates_every_live_session(sandbox: Sandbox) -> None:
    one, two = await sandbox.session(), await sandbox.session()
    await _fault(sandbox, kind="expire_sessions")
    for session_id in (one, two):
        status, root = await sandbox.post(request([DEPARTMENTS], session_id=session_id))
        assert root.findtext("operation/authentication/status") == "failure"
        assert error(root.find("operation"))["description2"].startswith("Invalid session")
    fresh = await sandbox.session()  # the next session works (the fault was used up)
    await sandbox.call(DEPARTMENTS, session_id=fresh)


async def test_faults_fire_in_the_order_they_were_queued(sandbox: Sandbox, clock: FakeClock) -> None:
    await _fault(sandbox, kind="http_503")
    await _fault(sandbox, kind="delay", seconds=3)
    await _fault(sandbox, kind="concurrency_limit")
    statuses = [(await _raw(sandbox))[0] for _ in range(4)]
    assert statuses == [503, 200, 429, 200]
    assert clock.sleeps == [3.0]


async def test_faulted_requests_are_counted(sandbox: Sandbox) -> None:
    await _fault(sandbox, kind="http_500")
    await _raw(sandbox)
    await _raw(sandbox)
    stats = (await sandbox.admin("GET", "/sandbox/stats"))[1]
    assert stats["requests"] == 2 and stats["functions"] == {"readByQuery": 1}


async def test_a_fault_does_not_touch_the_admin_api(sandbox: Sandbox) -> None:
    await _fault(sandbox, kind="http_500")
    assert (await sandbox.admin("GET", "/sandbox/stats"))[0] == 200
    assert (await _raw(sandbox))[0] == 500


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "kind must be one of"),
        ({"kind": "meteor"}, "kind must be one of"),
        ({"kind": "http_500", "count": 0}, "count must be an integer"),
        ({"kind": "http_500", "count": "2"}, "count must be an integer"),
        ({"kind": "http_500", "count": True}, "count must be an integer"),
        ({"kind": "http_500", "seconds": 3}, "seconds applies to the delay fault only"),
        ({"kind": "delay", "seconds": -1}, "seconds must be a number"),
        ({"kind": "delay", "seconds": 100000}, "seconds must be a number"),
        ({"kind": "http_503", "function": "x"}, "function applies to the error_response fault only"),
        ({"kind": "error_response", "function": 5}, "function must be"),
        ({"kind": "error_response", "transient": "yes"}, "transient must be true or false"),
        ({"kind": "http_500", "extra": 1}, "unknown field(s) ['extra']"),
    ],
)
async def test_bad_fault_requests_are_400(sandbox: Sandbox, payload: dict, message: str) -> None:
    status, body = await sandbox.admin("POST", "/sandbox/faults", payload)
    assert status == 400 and message in body["error"]
    assert (await sandbox.admin("GET", "/sandbox/faults"))[1] == {"pending": []}


async def test_a_fault_hits_requests_that_fail_authentication_too(sandbox: Sandbox) -> None:
    await _fault(sandbox, kind="http_500")
    status, _, _ = await _raw(sandbox, request([get_api_session()], session_id="bogus"))
    assert status == 500
    status, root = await sandbox.post(request([get_api_session()], session_id="bogus"))
    assert status == 200 and results(root) == []
