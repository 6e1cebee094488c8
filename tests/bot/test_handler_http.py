"""/api/messages as an HTTP endpoint: Bot Framework authentication with APP_ID set (tokens minted
with our own key, served by a local OpenID endpoint), body size, content type and malformed bodies."""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any

import pytest

from tests.bot.bot_harness import BotHarness, bot_harness
from tests.fakes.bot_openid import OpenIdKeys, channel_token, keypair

APP_ID = "5b1f0f8e-2d7c-4f31-9a55-1c0de0b0a7e1"


token = functools.partial(channel_token, app_id=APP_ID)


@pytest.fixture(scope="module")
def keys() -> tuple[Any, Any, dict[str, Any]]:
    """Our signing key, a stranger's key, and our public JWK."""
    signing, public = keypair()
    stranger, _ = keypair()
    return signing, stranger, public


async def test_with_app_id_only_a_valid_bot_framework_token_gets_in(clock, fixtures_dir: Path, tmp_path: Path, keys):
    signing, stranger, public = keys
    with OpenIdKeys({"keys": [public]}) as openid:
        options = {"app_id": APP_ID, "app_password": "not-used-inbound", "openid_metadata_url": openid.metadata_url}
        async with bot_harness(clock, fixtures_dir, tmp_path, adapter_options=options) as harness:
            event = harness.sample("playground/conversation-update-channel-renamed.json")
            url = event["serviceUrl"]

            async def post(headers: dict[str, str]) -> int:
                return await harness.post(event, headers=headers)

            statuses = {
                "missing": await post({}),
                "forged": await post({"Authorization": f"Bearer {token(stranger, url)}"}),
                "expired": await post({"Authorization": f"Bearer {token(signing, url, exp=int(time.time()) - 600)}"}),
                "other bot": await post({"Authorization": f"Bearer {token(signing, url, aud='someone-else')}"}),
                "garbage": await post({"Authorization": "Bearer not.a.jwt"}),
                "valid": await post({"Authorization": f"Bearer {token(signing, url)}"}),
            }
            metrics = (await (await harness.client.get("/metrics")).read()).decode()

    assert statuses == {"missing": 401, "forged": 401, "expired": 401, "other bot": 401, "garbage": 401, "valid": 201}
    assert 'mlc_inbound_activities_total{outcome="unauthorized",type="unknown"} 5.0' in metrics
    assert 'mlc_inbound_activities_total{outcome="handled",type="conversationUpdate"} 1.0' in metrics


@pytest.fixture
async def harness(clock, fixtures_dir: Path, tmp_path: Path):
    async with bot_harness(clock, fixtures_dir, tmp_path) as running:
        yield running


async def test_a_300_kb_body_is_refused_with_413_before_the_bot_sees_it(harness: BotHarness):
    activity = harness.message("show vendor " + "x" * 300_000)

    assert await harness.post(activity) == 413
    assert harness.fake.calls == [] and await harness.store.list_conversations() == []


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"show pending bills", "text/plain", 415),
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"text": "no type"}', "application/json", 400),
    ],
)
async def test_bodies_that_are_not_activities_are_refused(harness: BotHarness, body: bytes, content_type: str, status: int):
    response = await harness.client.post("/api/messages", data=body, headers={"Content-Type": content_type})

    assert response.status == status
    assert harness.fake.calls == []


async def test_only_post_is_served(harness: BotHarness):
    response = await harness.client.get("/api/messages")

    assert response.status == 405
