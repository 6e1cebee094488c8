"""Envelope, sender check, sign-in and sessions, over HTTP against the demo company."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from lxml import etree

from tests.fakes.clock import FakeClock
from tests.sandbox.helpers import (
    LOGIN,
    Sandbox,
    error,
    function,
    get_api_session,
    read_by_query,
    request,
    results,
)


@pytest.fixture
async def sandbox(empty_sandbox: Sandbox) -> Sandbox:
    """The empty company: sign-in and sessions need only the credentials and the reference data, and it builds faster."""
    return empty_sandbox


COMPANY_QUERY = read_by_query("GLACCOUNT", "ACCOUNTNO,TITLE", query="ACCOUNTNO = '1000'", controlid="company")


async def test_login_and_get_api_session_returns_session_endpoint_and_timestamps(sandbox: Sandbox, clock: FakeClock) -> None:
    status, root = await sandbox.post(request([get_api_session()]))
    assert status == 200
    assert root.findtext("control/status") == "success"
    assert root.findtext("control/senderid") == "mlc-sandbox"
    assert root.findtext("control/controlid") == "req-1"
    auth = root.find("operation/authentication")
    assert [child.tag for child in auth] == [
        "status", "userid", "companyid", "locationid", "sessiontimestamp", "sessiontimeout"
    ]
    assert auth.findtext("status") == "success"
    assert auth.findtext("userid") == "ap-admin" and auth.findtext("companyid") == "DEMO-CO"
    # ISO 8601 with the user's -08:00 offset; the fake clock says 14:00 UTC
    assert auth.findtext("sessiontimestamp") == "2026-11-23T06:00:00-08:00"
    assert auth.findtext("sessiontimeout") == "2026-11-23T06:50:00-08:00"
    (result,) = results(root)
    assert result.findtext("status") == "success" and result.findtext("function") == "getAPISession"
    assert result.findtext("controlid") == "session"
    api = result.find("data/api")
    assert len(api.findtext("sessionid")) > 20
    # Not the login URL, so a client that never switches to the returned endpoint is seen.
    assert api.findtext("endpoint") == str(sandbox.client.make_url("/ia/xml/session/xmlgw.phtml"))
    assert api.find("locationid") is not None and api.findtext("locationid") == ""


@pytest.mark.parametrize(
    "sender", [("mlc-sandbox", "wrong"), ("someone-else", "sandbox-secret"), ("MLC-SANDBOX", "sandbox-secret")]
)
async def test_wrong_sender_credentials_fail_at_control_level(sandbox: Sandbox, sender: tuple[str, str]) -> None:
    status, root = await sandbox.post(request([get_api_session()], sender=sender))
    assert status == 200
    assert root.findtext("control/status") == "failure"
    assert root.find("operation") is None
    assert error(root) == {
        "errorno": "XL03000006", "description": "", "correction": "",
        "description2": "Incorrect Intacct XML Partner ID or password.",
    }


@pytest.mark.parametrize(
    "login",
    [
        {**LOGIN, "password": "Demo-pass"},
        {**LOGIN, "userid": "someone"},
        {**LOGIN, "companyid": "OTHER-CO"},
        {**LOGIN, "clientid": "CLIENT1"},
        {**LOGIN, "locationid": "E100"},
        {**LOGIN, "companyid": "DEMO-CO|E100"},
    ],
)
async def test_wrong_sign_in_fails_at_authentication_level(sandbox: Sandbox, login: dict[str, str]) -> None:
    status, root = await sandbox.post(request([get_api_session()], login=login))
    assert status == 200
    assert root.findtext("control/status") == "success"
    assert root.findtext("operation/authentication/status") == "failure"
    assert results(root) == []
    found = error(root.find("operation"))
    assert found["errorno"] == "XL03000006"
    assert found["description2"] == "Sign-in information is incorrect"
    assert "demo-pass" not in etree.tostring(root).decode().lower()


@pytest.mark.parametrize(
    "login",
    [
        {**LOGIN, "companyid": "demo-co", "userid": "AP-ADMIN"},
        {**LOGIN, "locationid": ""},
        {**LOGIN, "companyid": "DEMO-CO|"},
    ],
)
async def test_ids_are_case_insensitive_and_an_empty_entity_is_the_top_level(sandbox: Sandbox, login: dict[str, str]) -> None:
    (result,) = await sandbox.call(COMPANY_QUERY, login=login)
    assert result.findtext("data/glaccount/TITLE") == "Cash - Operating Account"


async def test_unknown_or_empty_session_is_an_invalid_session(sandbox: Sandbox) -> None:
    for session_id in ("not-a-session", ""):
        status, root = await sandbox.post(request([COMPANY_QUERY], session_id=session_id))
        assert status == 200
        assert root.findtext("control/status") == "success"
        auth = root.find("operation/authentication")
        assert auth.findtext("status") == "failure"
        assert auth.findtext("userid") == "" and auth.findtext("companyid") == ""
        assert auth.find("sessiontimeout") is None
        found = error(root.find("operation"))
        assert found["errorno"] == "XL03000006" and found["description2"].startswith("Invalid session")
        assert results(root) == []


async def test_session_expires_after_its_lifetime_without_calls(sandbox: Sandbox, clock: FakeClock) -> None:
    session_id = await sandbox.session()
    clock.advance(minutes=49, seconds=59)
    await sandbox.call(COMPANY_QUERY, session_id=session_id)  # still valid, and slid forward
    clock.advance(minutes=50)
    status, root = await sandbox.post(request([COMPANY_QUERY], session_id=session_id))
    assert root.findtext("operation/authentication/status") == "failure"
    assert error(root.find("operation"))["description2"].startswith("Invalid session")


async def test_every_call_slides_the_timeout(sandbox: Sandbox, clock: FakeClock) -> None:
    session_id = await sandbox.session()
    timeouts = []
    for _ in range(4):
        clock.advance(minutes=40)
        status, root = await sandbox.post(request([COMPANY_QUERY], session_id=session_id))
        assert root.findtext("operation/authentication/status") == "success"
        timeouts.append(datetime.fromisoformat(root.findtext("operation/authentication/sessiontimeout")))
        stamp = datetime.fromisoformat(root.findtext("operation/authentication/sessiontimestamp"))
        assert timeouts[-1] - stamp == timedelta(minutes=50)
    assert [b - a for a, b in zip(timeouts, timeouts[1:])] == [timedelta(minutes=40)] * 3


async def test_session_lifetime_is_configurable(make_sandbox, clock: FakeClock) -> None:
    sandbox = await make_sandbox(session_lifetime=timedelta(hours=12))
    status, root = await sandbox.post(request([get_api_session()]))
    assert root.findtext("operation/authentication/sessiontimeout") == "2026-11-23T18:00:00-08:00"
    session_id = root.findtext("operation/result/data/api/sessionid")
    clock.advance(hours=11)
    await sandbox.call(COMPANY_QUERY, session_id=session_id)


async def test_a_login_request_reports_what_a_session_would_get(sandbox: Sandbox, clock: FakeClock) -> None:
    status, root = await sandbox.post(request([COMPANY_QUERY]))
    auth = root.find("operation/authentication")
    assert auth.findtext("sessiontimestamp") == "2026-11-23T06:00:00-08:00"
    assert auth.findtext("sessiontimeout") == "2026-11-23T06:50:00-08:00"


async def test_get_api_session_must_be_alone(sandbox: Sandbox) -> None:
    first, second = await sandbox.call(get_api_session(), COMPANY_QUERY)
    assert first.findtext("status") == "failure"
    assert error(first)["errorno"] == "Get API Session Failed"
    assert "only function" in error(first)["description2"]
    assert second.findtext("status") == "success"  # the other function still ran


async def test_get_api_session_with_a_session_returns_that_session(sandbox: Sandbox) -> None:
    session_id = await sandbox.session()
    (result,) = await sandbox.call(get_api_session(), session_id=session_id)
    assert result.findtext("data/api/sessionid") == session_id
    (top,) = await sandbox.call(get_api_session(""), session_id=session_id)
    new_id = top.findtext("data/api/sessionid")
    assert new_id and new_id != session_id
    await sandbox.call(COMPANY_QUERY, session_id=new_id)


async def test_get_api_session_refuses_an_unknown_entity(sandbox: Sandbox) -> None:
    (result,) = await sandbox.call(get_api_session("E100"))
    assert result.findtext("status") == "failure"
    assert error(result) == {
        "errorno": "Get API Session Failed", "description": "", "description2": "Invalid entity ID E100.",
        "correction": "Use an entity ID of this company, or an empty locationid for the top level.",
    }


async def test_the_endpoint_follows_the_host_the_request_came_to(sandbox: Sandbox) -> None:
    response = await sandbox.client.post("/", data=request([get_api_session()]), headers={"Host": "gw.example.test:9000"})
    root = etree.fromstring(await response.read())
    assert root.findtext("operation/result/data/api/endpoint") == "http://gw.example.test:9000/ia/xml/session/xmlgw.phtml"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"<request><control></request>", "Opening and ending tag mismatch"),
        (b"", "empty"),
        (b"not xml at all", "Start tag expected"),
        (b"<request>\x01</request>", "PCDATA invalid Char value 1"),
        (b"<response/>", "the root element must be <request>"),
        (b"<request><operation/></request>", "<request> must start with <control>"),
        (b"<request>" + b"<a>" * 300 + b"</a>" * 300 + b"</request>", "Excessive depth in document"),
    ],
)
async def test_malformed_requests_fail_at_control_level_with_xl03000003(sandbox: Sandbox, body: bytes, detail: str) -> None:
    status, root = await sandbox.post(body)
    assert status == 200
    assert root.findtext("control/status") == "failure"
    assert root.find("operation") is None
    found = error(root)
    assert found["errorno"] == "XL03000003"
    assert found["description2"].startswith("XML Parse schema error: ")
    assert detail in found["description2"]


def _envelope(operation: str, control: str | None = None) -> bytes:
    control = control or (
        "<control><senderid>mlc-sandbox</senderid><password>sandbox-secret</password><controlid>c</controlid>"
        "<uniqueid>false</uniqueid><dtdversion>3.0</dtdversion></control>"
    )
    return f"<request>{control}{operation}</request>".encode()


LOGIN_XML = "<login><userid>ap-admin</userid><companyid>DEMO-CO</companyid><password>demo-pass</password></login>"


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (_envelope(f"<operation><authentication>{LOGIN_XML}<sessionid>x</sessionid></authentication><content/></operation>"),
         "exactly one of <login> or <sessionid>"),
        (_envelope("<operation><authentication/><content/></operation>"), "exactly one of <login> or <sessionid>"),
        (_envelope("<operation><content/></operation>"), "must start with <authentication>"),
        (_envelope(f"<operation><authentication>{LOGIN_XML}</authentication></operation>"), "must contain <content>"),
        (_envelope(f"<operation><authentication>{LOGIN_XML}</authentication>"
                   "<content><function><getAPISession/></function></content></operation>"),
         "controlid of 1 to 256"),
        (_envelope(f"<operation><authentication>{LOGIN_XML}</authentication>"
                   "<content><function controlid='a'/></content></operation>"),
         "exactly one function"),
        (_envelope(f"<operation><authentication>{LOGIN_XML}</authentication><content><readMore/></content></operation>"),
         "may hold only <function>"),
        (_envelope("<operation><authentication><login><userid>a</userid></login></authentication><content/></operation>"),
         "<login> is missing <companyid>, <password>"),
        (_envelope("<operation/>", control="<control><senderid>x</senderid></control>"), "<control> is missing <password>"),
    ],
)
async def test_schema_violations_fail_at_control_level(sandbox: Sandbox, body: bytes, detail: str) -> None:
    status, root = await sandbox.post(body)
    assert root.findtext("control/status") == "failure"
    found = error(root)
    assert found["errorno"] == "XL03000003"
    assert detail in found["description2"]


async def test_a_doctype_is_refused_so_entities_never_expand(sandbox: Sandbox) -> None:
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE request [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
        b"<request><control><senderid>&d;</senderid></control></request>"
    )
    external = (
        b'<?xml version="1.0"?><!DOCTYPE request [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<request><control><senderid>&x;</senderid><password>p</password><controlid>c</controlid>"
        b"<dtdversion>3.0</dtdversion></control></request>"
    )
    for body in (laughs, external):
        status, root = await sandbox.post(body)
        assert root.findtext("control/status") == "failure"
        assert "DOCTYPE is not allowed" in error(root)["description2"]
        assert "root:" not in etree.tostring(root).decode()
        assert root.findtext("control/senderid") == ""


async def test_the_control_block_is_echoed_when_the_request_parses(sandbox: Sandbox) -> None:
    status, root = await sandbox.post(request([get_api_session()], control_extra={"dtdversion": "2.1", "controlid": "abc"}))
    assert root.findtext("control/status") == "failure"
    assert root.findtext("control/controlid") == "abc" and root.findtext("control/dtdversion") == "2.1"
    assert error(root)["errorno"] == "XL03000003" and "dtdversion" in error(root)["description2"]


async def test_a_transport_policy_is_refused_like_intacct(sandbox: Sandbox) -> None:
    status, root = await sandbox.post(request([get_api_session()], control_extra={"policyid": "test"}))
    assert error(root) == {
        "errorno": "XL03000006", "description": "", "description2": "test is not a valid transport policy.",
        "correction": "",
    }


async def test_answers_are_indented_by_four_spaces_like_the_recorded_gateway(sandbox: Sandbox, samples) -> None:
    recorded = (samples / "response-multi-function-partial-failure-apbill.xml").read_text()
    assert "\n    <control>\n        <status>success</status>" in recorded  # a real capture's layout
    for whitespace in (False, True):
        answer = await sandbox.client.post("/", data=request([COMPANY_QUERY], whitespace=whitespace))
        text = await answer.text()
        assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<response>\n    <control>\n        <status>success</status>')
        assert "\n                <glaccount>\n                    <ACCOUNTNO>1000</ACCOUNTNO>" in text
        assert answer.headers["Content-Type"].startswith("text/xml")


async def test_an_empty_content_authenticates_and_returns_no_results(sandbox: Sandbox) -> None:
    status, root = await sandbox.post(request([]))
    assert root.findtext("operation/authentication/status") == "success"
    assert results(root) == []


async def test_unsupported_functions_fail_alone(sandbox: Sandbox) -> None:
    inspect, company = await sandbox.call(function("inspect", "l", object="APBILL"), COMPANY_QUERY)
    assert inspect.findtext("status") == "failure"
    assert error(inspect)["errorno"] == "Function Not Supported"
    assert "does not implement inspect" in error(inspect)["description2"]
    assert company.findtext("status") == "success"


async def test_no_secret_is_echoed_in_any_response(sandbox: Sandbox) -> None:
    session_id = await sandbox.session()
    bodies = []
    for body in (request([COMPANY_QUERY]), request([COMPANY_QUERY], session_id=session_id),
                 request([COMPANY_QUERY], login={**LOGIN, "password": "demo-pass-wrong"}),
                 request([COMPANY_QUERY], sender=("mlc-sandbox", "sandbox-secret-wrong"))):
        response = await sandbox.client.post("/", data=body)
        bodies.append(await response.text())
    for text in bodies:
        assert "sandbox-secret" not in text and "demo-pass" not in text and session_id not in text
