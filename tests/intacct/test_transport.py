"""The HTTP choke point over real HTTP: retries with backoff, what is never retried, limits, hostile bodies, logs."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest

from intacct import errors as e
from intacct.protocol import read_by_query
from tests.fakes.clock import FakeClock
from tests.fakes.intacct_gateway import GATEWAY_PATH, FakeIntacctGateway, function_error, http_error, raw, stall
from tests.intacct.test_xmlsafe import BILLION_LAUGHS, XXE

CLOUDFLARE_524 = b"<!DOCTYPE html><html><head><title>524: A timeout occurred</title></head><body><div id='cf-error-details'>Error 524</div></body></html>"


@pytest.fixture(autouse=True)
def company(gateway: FakeIntacctGateway) -> None:
    gateway.add_rows("APPYMT", [{"RECORDNO": "1", "VENDORID": "V1", "VENDORNAME": "Test Company", "STATE": "S", "DISPLAYSTATE": "Submitted", "TRX_TOTALENTERED": "10.00", "CURRENCY": "USD"}])


async def logged_in(make_client, **options):
    client = make_client(**options)
    await client.query_payments(limit=1)
    return client


@pytest.mark.parametrize("status", [500, 502, 503, 524])
async def test_5xx_is_retried_with_exponential_backoff(gateway, make_client, clock: FakeClock, status: int) -> None:
    client = await logged_in(make_client)
    gateway.script(*(http_error(status, CLOUDFLARE_524, "text/html") for _ in range(3)))
    info = await client.query_payments(limit=1)
    assert info.payments[0].vendor_name == "Test Company"
    assert clock.sleeps == [1.0, 2.0, 4.0]  # jitter source pinned to 1.0: full backoff
    assert len(gateway.data_requests) == 1 + 4
    assert client.stats.retries == 3 and client.stats.errors_by_code[f"HTTP {status}"] == 3


async def test_jitter_scales_each_delay_into_half_to_full(gateway, make_client, clock: FakeClock) -> None:
    jitters = iter([0.0, 0.5])
    client = await logged_in(make_client, jitter=lambda: next(jitters))
    gateway.script(http_error(503), http_error(503))
    await client.query_payments(limit=1)
    assert clock.sleeps == [0.5, 1.5]


async def test_retries_are_bounded_then_the_transient_error_is_raised(gateway, make_client, clock: FakeClock, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="intacct")
    client = await logged_in(make_client, max_attempts=3)
    gateway.script(*(http_error(503) for _ in range(5)))
    with pytest.raises(e.IntacctTransportError) as raised:
        await client.query_payments(limit=1)
    assert raised.value.http_status == 503 and raised.value.transient
    assert clock.sleeps == [1.0, 2.0] and len(gateway.data_requests) == 1 + 3
    lines = [r.getMessage() for r in caplog.records if r.name == "intacct.transport" and ("attempt" in r.getMessage() or "giving up" in r.getMessage())]
    # One DEBUG line per retry decision (retry, retry, give up); nothing at WARNING, because the
    # caller logs the failure once per state change.
    assert len(lines) == 3 and all(r.levelname == "DEBUG" for r in caplog.records if r.name == "intacct.transport")
    assert "attempt 1/3 failed" in lines[0] and "retrying in 1.00s" in lines[0] and "giving up" in lines[2]


async def test_429_and_gw_0010_are_retried_honouring_retry_after(gateway, make_client, clock: FakeClock) -> None:
    client = await logged_in(make_client)
    gw_0010 = (
        b"<response><control><status>failure</status></control><errormessage><error><errorno>GW-0010</errorno>"
        b"<description2>Too many concurrent requests</description2></error></errormessage></response>"
    )
    gateway.script(http_error(429, gw_0010, "text/xml", **{"Retry-After": "7"}), raw(gw_0010), http_error(429, b"API rate limit exceeded"))
    await client.query_payments(limit=1)
    assert clock.sleeps == [7.0, 2.0, 4.0]
    assert client.stats.errors_by_code["GW-0010"] == 2 and client.stats.errors_by_code["HTTP 429"] == 1


async def test_a_timeout_is_retried_then_raised(gateway, make_client, clock: FakeClock) -> None:
    client = await logged_in(make_client, timeout_seconds=0.05, max_attempts=2)
    gateway.script(stall(), stall())
    with pytest.raises(e.IntacctTimeoutError):
        await client.query_payments(limit=1)
    assert clock.sleeps == [1.0] and len(gateway.data_requests) == 1 + 2


async def test_network_errors_are_retried(http, clock: FakeClock, credentials) -> None:
    from intacct.client import IntacctClient

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = IntacctClient(credentials, http=http, endpoint_url=f"http://127.0.0.1:{port}{GATEWAY_PATH}", clock=clock, sleep=clock.sleep, jitter=lambda: 1.0)
    with pytest.raises(e.IntacctTransportError, match="network error") as raised:
        await client.query_payments(limit=1)
    assert type(raised.value) is e.IntacctTransportError and clock.sleeps == [1.0, 2.0, 4.0]
    assert client.stats.requests == 4


@pytest.mark.parametrize(
    "reply, error",
    [
        (function_error("APPYMT", "Query Failed", "Object definition APPYMT not found"), e.FunctionError),
        (function_error("APPYMT", "PL04000005", "You do not have permission for API operation READ_BY_QUERY"), e.FunctionError),
        (http_error(400, b"Bad Request"), e.UnexpectedStatusError),
        (http_error(404, b"<html><body>Not found</body></html>", "text/html"), e.UnexpectedStatusError),
        (raw(BILLION_LAUGHS), e.UnsafeResponseError),
        (raw(XXE), e.UnsafeResponseError),
    ],
)
async def test_errors_that_a_retry_cannot_fix_are_raised_at_once(gateway, make_client, clock: FakeClock, reply, error) -> None:
    client = await logged_in(make_client)
    gateway.script(reply)
    with pytest.raises(error):
        await client.query_payments(limit=1)
    assert clock.sleeps == [] and len(gateway.data_requests) == 2


async def test_401_with_an_xml_body_is_parsed(gateway, make_client, samples: Path) -> None:
    body = (samples / "response-http401-gateway-signin-incorrect.xml").read_bytes()
    gateway.script(raw(body, status=401, login=True))
    with pytest.raises(e.LoginFailedError) as raised:
        await make_client().query_payments(limit=1)
    assert (raised.value.errorno, raised.value.http_status) == ("XMLGW_JPP0002", 401)
    assert len(gateway.received) == 1


async def test_an_html_page_on_200_is_retried_once_then_raised(gateway, make_client, clock: FakeClock) -> None:
    client = await logged_in(make_client)
    gateway.script(raw(CLOUDFLARE_524, content_type="text/html"), raw(b"<response><control><status>succ"))
    with pytest.raises(e.MalformedResponseError, match="well-formed"):
        await client.query_payments(limit=1)
    assert clock.sleeps == [1.0] and len(gateway.data_requests) == 3


async def test_malformed_once_then_fine_recovers(gateway, make_client) -> None:
    client = await logged_in(make_client)
    gateway.script(raw(b"<response><control><status>succ"))
    assert (await client.query_payments(limit=1)).payments[0].vendor_name == "Test Company"


async def test_control_characters_from_the_gateway_are_handled(gateway, make_client, caplog) -> None:
    client = await logged_in(make_client)
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?><response><control><status>success</status></control><operation>'
        b"<authentication><status>success</status></authentication><result><status>success</status>"
        b'<function>readByQuery</function><controlid>CID</controlid><data listtype="company" count="1" totalcount="1">'
        b"<company><NAME>Test\x01 Company&#x1F;</NAME><COMPANYID>TEST-CO</COMPANYID></company></data></result></operation></response>"
    )
    gateway.script(raw(body))
    (result,) = await client.execute([read_by_query("COMPANY", ["NAME", "COMPANYID"], pagesize=1, controlid="CID")])
    assert next(result.rows())["NAME"] == "Test Company"
    assert "repaired" in caplog.text


async def test_gzip_answers_are_accepted(gateway, make_client) -> None:
    gateway.gzip = True
    client = make_client()
    assert (await client.query_payments(limit=1)).payments[0].vendor_name == "Test Company"
    assert "gzip" in gateway.data_requests[0].headers.get("Accept-Encoding", "")


async def test_oversize_answers_are_refused_declared_streamed_or_compressed(gateway, make_client, clock: FakeClock) -> None:
    client = await logged_in(make_client, max_response_bytes=4096)
    gateway.script(raw(b"<response>" + b"x" * 10_000 + b"</response>"))
    with pytest.raises(e.ResponseTooLargeError, match="4,096"):
        await client.query_payments(limit=1)
    gateway.gzip = True  # 10 KB of zeros compress to a few bytes: the limit applies after decompression
    gateway.script(raw(b"<response>" + b"0" * 10_000 + b"</response>"))
    with pytest.raises(e.ResponseTooLargeError):
        await client.query_payments(limit=1)
    assert clock.sleeps == []


async def test_by_default_an_answer_over_16_mib_is_refused_unread(gateway, make_client, clock: FakeClock) -> None:
    # Parsing costs ~9.4 MiB per MB of answer (bench/intacct_memory.py); under the old 64 MiB cap
    # a 60 MB answer peaked at 650 MB. The largest real answer (10 pages of 1,000 rows) is ~4 MB.
    client = await logged_in(make_client)
    gateway.script(raw(b"<response>" + b" " * (16 * 1024 * 1024) + b"</response>"))
    with pytest.raises(e.ResponseTooLargeError, match="over the limit of 16,777,216 bytes") as refused:
        await client.query_payments(limit=1)
    assert not refused.value.transient and clock.sleeps == []  # the same answer again would not help


async def test_logs_never_carry_secrets(gateway, make_client, credentials, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="intacct")
    client = make_client()
    gateway.script(http_error(503))
    await client.query_payments(limit=1)
    gateway.expire_sessions()
    await client.query_payments(limit=1)
    text = caplog.text + " ".join(str(r.args) for r in caplog.records)
    assert "intacct request to" in text and "intacct answer HTTP 200" in text  # bodies were logged, redacted
    session_ids = {r.session_id for r in gateway.data_requests}
    for secret in (credentials.sender_password, credentials.user_password, "us3r-Pa55&amp;&lt;x&gt;", *session_ids):
        assert secret not in text, secret
    assert "[REDACTED]" in text


async def test_stats_count_every_request_and_function(gateway, make_client) -> None:
    client = await logged_in(make_client)
    gateway.script(http_error(500))
    await client.query_payments(limit=1)
    stats = client.stats
    assert (stats.requests, stats.functions, stats.retries) == (4, 4, 1)
    assert dict(stats.functions_by_name) == {"getAPISession": 1, "readByQuery": 3}
    assert stats.copy() == stats and stats.copy() is not stats


async def test_requests_are_utf8_xml_posts(gateway, make_client) -> None:
    await logged_in(make_client)
    request = gateway.data_requests[0]
    assert request.headers["Content-Type"].startswith("application/xml")
    assert request.body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
