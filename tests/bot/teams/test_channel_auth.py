"""Inbound authentication on /api/messages through production's public-cloud path: the bot fetches
https://login.botframework.com/… itself, and only the network is pointed at a local server
(tests/fakes/bot_openid.py). Tokens that cannot be valid never cost a network call; keys come
asynchronously, under a timeout, cached and refreshed ahead of expiry; an unreachable endpoint
means 503 and one log line, never a 500 or a traceback."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

import jwt
import pytest

from bot.teams.channel_auth import OPENID_METADATA_URL, BotFrameworkSigningKeys
from tests.bot.bot_harness import BotHarness, bot_harness
from tests.fakes.bot_openid import keypair, running_bot_openid
from tests.fakes.bot_openid import channel_token as mint

APP_ID = "5b1f0f8e-2d7c-4f31-9a55-1c0de0b0a7e1"
TENANT = "7f3c1a52-3d2e-4b8a-9d61-0c8e2f4a9b10"
EVENT = "playground/conversation-update-channel-renamed.json"


@pytest.fixture(scope="module")
def signing() -> tuple[Any, dict[str, Any]]:
    """Our signing key and its public JWK (endorsed for msteams)."""
    return keypair("k1")


def authenticated(**options: Any) -> dict[str, Any]:
    return {"app_id": APP_ID, "app_password": "not-used-inbound", "app_type": "SingleTenant", "app_tenant_id": TENANT, **options}


def token(harness: BotHarness, key: Any, service_url: str | None = None, **claims: Any) -> dict[str, str]:
    """An Authorization header with a channel token dated by the harness's clock."""
    minted = mint(key, service_url or harness.fake.service_url, app_id=APP_ID, now=harness.clock().timestamp(), **claims)
    return {"Authorization": f"Bearer {minted}"}


@asynccontextmanager
async def authenticated_harness(clock, fixtures_dir: Path, tmp_path: Path, public: dict[str, Any]) -> AsyncIterator[tuple[Any, BotHarness]]:
    """The local login.botframework.com publishing `public`, and the bot harness fetching from it."""
    async with running_bot_openid([public]) as openid, bot_harness(
        clock, fixtures_dir, tmp_path, adapter_options=authenticated(http=openid.session)
    ) as harness:
        yield openid, harness


def _b64(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def keys_of(harness: BotHarness) -> BotFrameworkSigningKeys:
    """The signing-key cache of the harness's adapter."""
    return harness.adapter.bot_framework_authentication.validator.keys


# --- tokens that cannot be valid: 401 without a network call ------------------------------------


async def test_tokens_that_cannot_be_valid_get_401_without_any_network_call(clock, fixtures_dir: Path, tmp_path: Path, signing, caplog):
    key, _ = signing
    # Production's adapter as it is: its own session, the real metadata URL; the machine is offline.
    async with bot_harness(clock, fixtures_dir, tmp_path, adapter_options=authenticated()) as harness:
        event = harness.sample(EVENT)
        now = clock().timestamp()
        claims = {"iss": "https://api.botframework.com", "aud": APP_ID, "serviceurl": harness.fake.service_url,
                  "nbf": now - 60, "exp": now + 3600}
        cases = {
            "alg none": f"Bearer {_b64({'alg': 'none', 'typ': 'JWT', 'kid': 'k1'})}.{_b64(claims)}.",
            "HS256": f"Bearer {jwt.encode(claims, 'shared-secret-that-anyone-could-guess', algorithm='HS256', headers={'kid': 'k1'})}",
            "garbage": "Bearer not.a.jwt",
            "no bearer": "Basic dXNlcjpwYXNz",
            "no kid": f"Bearer {jwt.encode(claims, key, algorithm='RS256')}",
            "wrong issuer": token(harness, key, iss="https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/")["Authorization"],
            "other bot": token(harness, key, aud="someone-else")["Authorization"],
            "expired": token(harness, key, exp=int(now) - 400)["Authorization"],
            "not yet valid": token(harness, key, nbf=int(now) + 400)["Authorization"],
            "other serviceUrl": token(harness, key, "https://attacker.example/")["Authorization"],
        }
        with caplog.at_level(logging.DEBUG):
            statuses = {name: await harness.post(event, headers={"Authorization": header}) for name, header in cases.items()}
            statuses["missing"] = await harness.post(event)
            started = time.perf_counter()
            health = await harness.client.get("/healthz")
            health_ms = (time.perf_counter() - started) * 1000

    assert set(statuses.values()) == {401}, statuses
    assert keys_of(harness).fetches == 0  # not one of them reached for the keys
    assert health.status == 200 and health_ms < 500
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
    assert harness.fake.calls == [] and await harness.store.list_conversations() == []


# --- valid tokens: keys fetched once, asynchronously, cached --------------------------------------


async def test_a_valid_token_gets_in_and_the_keys_are_fetched_once(clock, fixtures_dir: Path, tmp_path: Path, signing):
    key, public = signing
    stranger, _ = keypair("k1")
    async with authenticated_harness(clock, fixtures_dir, tmp_path, public) as (openid, harness):
        event = harness.sample(EVENT)
        first = await harness.post(event, headers=token(harness, key))
        second = await harness.post(event, headers=token(harness, key))
        forged = await harness.post(event, headers=token(harness, stranger))
        unknown_key = await harness.post(event, headers=token(harness, key, kid="k9"))

    assert (first, second, forged, unknown_key) == (201, 201, 401, 401)
    assert openid.fake.requests == ["/v1/.well-known/openidconfiguration", "/v1/.well-known/keys"]


async def test_a_key_not_endorsed_for_teams_is_refused(clock, fixtures_dir: Path, tmp_path: Path):
    key, public = keypair("k1", endorsements=("webchat",))
    async with authenticated_harness(clock, fixtures_dir, tmp_path, public) as (openid, harness):
        status = await harness.post(harness.sample(EVENT), headers=token(harness, key))

    assert status == 401


async def test_keys_are_refreshed_ahead_of_expiry_while_the_old_ones_answer(clock, fixtures_dir: Path, tmp_path: Path, signing):
    key, public = signing
    async with authenticated_harness(clock, fixtures_dir, tmp_path, public) as (openid, harness):
        event = harness.sample(EVENT)
        assert await harness.post(event, headers=token(harness, key)) == 201
        clock.advance(hours=25)
        openid.fake.stall()  # the refresh hangs: the cached keys must still answer at once
        assert await harness.post(event, headers=token(harness, key)) == 201
        openid.fake.release()
        await asyncio.wait_for(openid.fake.wait_for_requests(4), 10)

    assert openid.fake.metadata_requests == 2


async def test_a_rolled_key_is_looked_up_at_most_once_an_hour(clock, fixtures_dir: Path, tmp_path: Path, signing):
    key, public = signing
    new_key, new_public = keypair("k2")
    async with authenticated_harness(clock, fixtures_dir, tmp_path, public) as (openid, harness):
        event = harness.sample(EVENT)
        assert await harness.post(event, headers=token(harness, key)) == 201
        openid.fake.keys = [public, new_public]  # Microsoft publishes a new key
        early = await harness.post(event, headers=token(harness, new_key, kid="k2"))
        clock.advance(minutes=61)
        later = await harness.post(event, headers=token(harness, new_key, kid="k2"))

    assert (early, later) == (401, 201)
    assert openid.fake.metadata_requests == 2


# --- keys that cannot be had: 503, one log line, no traceback --------------------------------------


async def test_unreachable_keys_mean_503_and_one_log_line_then_recovery(clock, fixtures_dir: Path, tmp_path: Path, signing, caplog):
    key, public = signing
    async with authenticated_harness(clock, fixtures_dir, tmp_path, public) as (openid, harness):
        event = harness.sample(EVENT)
        openid.go_offline()
        with caplog.at_level(logging.INFO):
            down = [await harness.post(event, headers=token(harness, key)) for _ in range(3)]
            garbage = await harness.post(event, headers={"Authorization": "Bearer not.a.jwt"})
            health = await harness.client.get("/healthz")
            metrics = (await (await harness.client.get("/metrics")).read()).decode()
            openid.come_back()
            clock.advance(seconds=31)
            back = await harness.post(event, headers=token(harness, key))

    assert down == [503, 503, 503] and garbage == 401 and back == 201
    assert health.status == 200
    assert keys_of(harness).fetches == 2  # the failed one, then one after the retry interval: not one per request
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and OPENID_METADATA_URL in errors[0].getMessage() and "503" in errors[0].getMessage()
    assert any("fetched again" in r.getMessage() for r in caplog.records)
    assert not [r for r in caplog.records if r.exc_info]
    assert 'mlc_inbound_activities_total{outcome="keys_unavailable",type="unknown"} 3.0' in metrics


async def test_a_hung_key_endpoint_never_stalls_the_event_loop(clock, fixtures_dir: Path, tmp_path: Path, signing):
    key, public = signing
    async with running_bot_openid([public]) as openid:
        keys = BotFrameworkSigningKeys(openid.session, clock=clock, timeout_seconds=0.5)
        async with bot_harness(clock, fixtures_dir, tmp_path, adapter_options=authenticated(signing_keys=keys)) as harness:
            openid.fake.stall()
            waiting = asyncio.ensure_future(harness.post(harness.sample(EVENT), headers=token(harness, key)))
            await openid.fake.wait_for_requests(1)
            started = time.perf_counter()
            health = await harness.client.get("/healthz")  # answered while the fetch hangs
            health_ms = (time.perf_counter() - started) * 1000
            status = await waiting
            openid.fake.release()

    assert health.status == 200 and health_ms < 400 and not waiting.cancelled()
    assert status == 503



# --- who may change a stored reference (its serviceUrl above all) -----------------------------------


async def test_anonymous_mode_never_takes_a_service_url_off_this_machine(clock, fixtures_dir: Path, tmp_path: Path):
    async with bot_harness(clock, fixtures_dir, tmp_path) as harness:
        await harness.install()
        before = {r.conversation_id: r.service_url for r in await harness.store.list_conversations()}
        rerouted = await harness.post(harness.message("subscribe all", serviceUrl="https://attacker.example/teams/"))
        sneaky = await harness.post(harness.message("help", serviceUrl="http://127.0.0.1.attacker.example/"))
        after = {r.conversation_id: r.service_url for r in await harness.store.list_conversations()}
        routes = await harness.store.list_routes()
        local = harness.fake.service_url

    assert (rerouted, sneaky) == (401, 401)
    assert before and after == before and all(url == local for url in after.values())
    assert routes == []


async def test_an_authenticated_reference_changes_only_to_the_service_url_its_token_vouches_for(
    clock, fixtures_dir: Path, tmp_path: Path, signing
):
    key, public = signing
    async with authenticated_harness(clock, fixtures_dir, tmp_path, public) as (openid, harness):
        vouched = token(harness, key)  # serviceurl claim = the fake Bot Connector
        assert await harness.post(harness.message("help"), headers=vouched) == 201
        before = {r.conversation_id: r.service_url for r in await harness.store.list_conversations()}
        moved = await harness.post(harness.message("help", serviceUrl="https://attacker.example/teams/"), headers=vouched)
        after = {r.conversation_id: r.service_url for r in await harness.store.list_conversations()}

    assert moved == 401
    assert before and after == before
