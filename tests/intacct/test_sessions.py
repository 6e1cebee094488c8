"""Sessions over real HTTP against the fake gateway: login, endpoint, refresh, replay, fail fast, single flight."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from intacct.client import IntacctClient
from intacct.credentials import IntacctCredentials
from intacct.errors import InvalidSessionError, LoginFailedError, SenderAuthenticationError
from intacct.sessions import SessionCache
from tests.fakes.clock import FakeClock
from tests.fakes.intacct_gateway import GATEWAY_PATH, SESSION_PATH, FakeIntacctGateway, invalid_session


@pytest.fixture(autouse=True)
def company(gateway: FakeIntacctGateway) -> None:
    gateway.add_rows("APPYMT", [{"RECORDNO": "1", "VENDORID": "V1", "VENDORNAME": "Test Company", "STATE": "S", "DISPLAYSTATE": "Submitted", "TRX_TOTALENTERED": "10.00", "CURRENCY": "USD"}])


async def test_login_is_alone_then_every_call_uses_the_returned_endpoint_and_session(gateway, make_client) -> None:
    client = make_client()
    await client.query_payments(limit=1)
    await client.query_payments(limit=1)
    login, first, second = gateway.received
    assert login.path == GATEWAY_PATH and login.function_names == ["getAPISession"]
    assert login.login == {"userid": "ws-user", "companyid": "TEST-CO", "password": "us3r-Pa55&<x>"}
    assert login.functions[0].params == {}  # entity goes in the login, not the function
    assert login.control["senderid"] == "mlc-test-sender" and login.control["uniqueid"] == "false"
    assert {first.path, second.path} == {SESSION_PATH}
    assert first.session_id == second.session_id == "fAkESesSiOn0001.." and first.login is None
    assert first.transaction == "false"
    assert gateway.sessions_issued == 1


async def test_entity_login_sends_locationid_and_gets_its_own_session(gateway, http, clock, credentials) -> None:
    gateway.entities = frozenset({"E1"})
    cache = SessionCache()
    top = IntacctClient(credentials, http=http, endpoint_url=gateway.base_url + GATEWAY_PATH, clock=clock, session_cache=cache, gmt_offset=timedelta(0))
    entity_credentials = IntacctCredentials(*[getattr(credentials, f) for f in ("sender_id", "sender_password", "company_id", "user_id", "user_password")], entity_id="E1")
    entity = IntacctClient(entity_credentials, http=http, endpoint_url=gateway.base_url + GATEWAY_PATH, clock=clock, session_cache=cache, gmt_offset=timedelta(0))
    await top.query_payments(limit=1)
    await entity.query_payments(limit=1)
    assert [r.login.get("locationid") for r in gateway.logins] == [None, "E1"]
    assert gateway.sessions_issued == 2  # legal entities never share a session


async def test_clients_sharing_a_cache_share_the_session(gateway, make_client) -> None:
    cache = SessionCache()
    await make_client(session_cache=cache).query_payments(limit=1)
    await make_client(session_cache=cache).query_payments(limit=1)
    assert gateway.sessions_issued == 1


async def test_proactive_refresh_49_minutes_after_issue(gateway, make_client, clock: FakeClock) -> None:
    gateway.session_lifetime = timedelta(hours=24)
    client = make_client()
    await client.query_payments(limit=1)
    clock.advance(minutes=48, seconds=59)
    await client.query_payments(limit=1)
    assert gateway.sessions_issued == 1
    clock.advance(seconds=1)
    await client.query_payments(limit=1)
    assert gateway.sessions_issued == 2 and len(gateway.logins) == 2


async def test_refresh_five_minutes_before_the_last_sessiontimeout_which_slides(gateway, make_client, clock: FakeClock) -> None:
    gateway.session_lifetime = timedelta(minutes=20)
    client = make_client()
    await client.query_payments(limit=1)  # login at 0; the read pushes the timeout to 0+20
    clock.advance(minutes=10)
    await client.query_payments(limit=1)  # still before 15; the answer pushes the timeout to 30
    clock.advance(minutes=14)  # 24: before 30-5, usable only because we kept the newest timeout
    await client.query_payments(limit=1)
    assert gateway.sessions_issued == 1
    clock.advance(minutes=20)  # 44: the timeout seen last is 44, so we are inside the 5-minute margin
    await client.query_payments(limit=1)
    assert gateway.sessions_issued == 2
    assert all(r.session_id for r in gateway.data_requests)


async def test_invalid_session_logs_in_once_and_replays_the_request_once(gateway, make_client) -> None:
    client = make_client()
    await client.query_payments(limit=1)
    gateway.expire_sessions()
    info = await client.query_payments(limit=1)
    assert info.payments[0].vendor_name == "Test Company"
    names = [r.function_names for r in gateway.received]
    assert names == [["getAPISession"], ["readByQuery"], ["readByQuery"], ["getAPISession"], ["readByQuery"]]
    replayed, original = gateway.received[4], gateway.received[2]
    assert [f.controlid for f in replayed.functions] == [f.controlid for f in original.functions]
    assert replayed.session_id != original.session_id


async def test_a_second_invalid_session_is_raised_not_looped(gateway, make_client) -> None:
    client = make_client()
    await client.query_payments(limit=1)
    gateway.script(invalid_session(), invalid_session())
    with pytest.raises(InvalidSessionError):
        await client.query_payments(limit=1)
    assert len(gateway.logins) == 2 and len(gateway.data_requests) == 3


async def test_bad_login_fails_fast_and_is_not_retried_for_a_while(gateway, make_client, credentials, clock: FakeClock) -> None:
    wrong = IntacctCredentials(credentials.sender_id, credentials.sender_password, "TEST-CO", "ws-user", "wrong-password")
    client = make_client(credentials=wrong)
    with pytest.raises(LoginFailedError) as raised:
        await client.query_payments(limit=1)
    assert raised.value.transient is False and "wrong-password" not in str(raised.value)
    assert len(gateway.received) == 1 and client.stats.retries == 0
    clock.advance(minutes=14)
    with pytest.raises(LoginFailedError, match="not retried before"):
        await client.query_payments(limit=1)
    assert len(gateway.received) == 1  # no second attempt: lock-out risk
    clock.advance(minutes=1)
    with pytest.raises(LoginFailedError):
        await client.query_payments(limit=1)
    assert len(gateway.received) == 2


async def test_bad_sender_fails_fast(gateway, make_client, credentials) -> None:
    wrong = IntacctCredentials("mlc-test-sender", "not-the-sender-pw", "TEST-CO", "ws-user", credentials.user_password)
    with pytest.raises(SenderAuthenticationError) as raised:
        await make_client(credentials=wrong).query_payments(limit=1)
    assert len(gateway.received) == 1 and "not-the-sender-pw" not in str(raised.value)


async def test_fifty_concurrent_reads_share_one_login(gateway, make_client) -> None:
    client = make_client(max_concurrent_requests=4)
    infos = await asyncio.gather(*(client.query_payments(limit=1) for _ in range(50)))
    assert {i.payments[0].vendor_name for i in infos} == {"Test Company"}
    assert gateway.sessions_issued == 1 and len(gateway.logins) == 1
    assert len(gateway.data_requests) == 50


async def test_fifty_concurrent_reads_after_expiry_share_one_refresh(gateway, make_client) -> None:
    client = make_client(max_concurrent_requests=50)
    await client.query_payments(limit=1)
    gateway.expire_sessions()
    await asyncio.gather(*(client.query_payments(limit=1) for _ in range(50)))
    assert gateway.sessions_issued == 2


def test_credentials_repr_hides_passwords_and_requires_every_value() -> None:
    credentials = IntacctCredentials("snd", "sender-secret", "CO", "user", "user-secret")
    assert "sender-secret" not in repr(credentials) and "user-secret" not in repr(credentials)
    with pytest.raises(ValueError, match="user_password"):
        IntacctCredentials("snd", "x", "CO", "user", "")
