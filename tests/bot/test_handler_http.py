"""/api/messages as an HTTP endpoint: Bot Framework authentication with APP_ID set (tokens minted
with our own key, served by a local OpenID endpoint), body size, content type and malformed bodies."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.bot.bot_harness import BotHarness, bot_harness

APP_ID = "5b1f0f8e-2d7c-4f31-9a55-1c0de0b0a7e1"
ISSUER = "https://api.botframework.com"  # what Bot Framework channel tokens carry


class OpenIdKeys:
    """OpenID metadata and a JWKS on a random loopback port (botbuilder fetches them with blocking
    `requests`, so this endpoint answers from its own thread)."""

    def __init__(self, public_jwk: dict[str, Any]) -> None:
        prefix = f"/{id(self)}"  # botbuilder caches keys per metadata URL: one URL per test
        documents = {
            f"{prefix}/.well-known/openidconfiguration": None,
            f"{prefix}/keys": json.dumps({"keys": [public_jwk]}).encode(),
        }

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                body = documents.get(self.path)
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body or b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        base = f"http://127.0.0.1:{self._server.server_address[1]}{prefix}"
        documents[f"{prefix}/.well-known/openidconfiguration"] = json.dumps({"issuer": ISSUER, "jwks_uri": f"{base}/keys"}).encode()
        self.metadata_url = f"{base}/.well-known/openidconfiguration"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> OpenIdKeys:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def keypair() -> tuple[Any, dict[str, Any]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    public.update({"kid": "k1", "use": "sig", "endorsements": ["msteams"]})
    return key, public


def token(key: Any, service_url: str, **claims: Any) -> str:
    now = int(time.time())  # PyJWT checks exp/nbf against the wall clock
    payload = {"iss": ISSUER, "aud": APP_ID, "serviceurl": service_url, "nbf": now - 60, "exp": now + 3600, **claims}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture(scope="module")
def keys() -> tuple[Any, Any, dict[str, Any]]:
    """Our signing key, a stranger's key, and our public JWK."""
    signing, public = keypair()
    stranger, _ = keypair()
    return signing, stranger, public


async def test_with_app_id_only_a_valid_bot_framework_token_gets_in(clock, shared_dir: Path, tmp_path: Path, keys):
    signing, stranger, public = keys
    with OpenIdKeys(public) as openid:
        options = {"app_id": APP_ID, "app_password": "not-used-inbound", "openid_metadata_url": openid.metadata_url}
        async with bot_harness(clock, shared_dir, tmp_path, adapter_options=options) as harness:
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
async def harness(clock, shared_dir: Path, tmp_path: Path):
    async with bot_harness(clock, shared_dir, tmp_path) as running:
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
