"""A local login.botframework.com: the Bot Framework's OpenID metadata and signing keys, served over
TLS on a random loopback port, and channel tokens minted with our own key.

Production's code runs unchanged against it: the bot fetches the real URLs
(https://login.botframework.com/v1/.well-known/openidconfiguration, then the metadata's
`jwks_uri`), and only the network is pointed here, by an aiohttp session whose resolver sends
login.botframework.com to this server and which trusts the test CA (`session`). Shapes follow
Learn, "Authenticate requests from the Bot Connector service to your bot" (steps 2 and 3): the
metadata document names `issuer`, `jwks_uri` and `id_token_signing_alg_values_supported`; each
key carries `endorsements`, the channel ids it may sign for.
"""

from __future__ import annotations

import asyncio
import json
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator

import aiohttp
import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from tests.fakes.entra_graph import TestTls, make_test_tls
from tests.fakes.network import RedirectingResolver, closed_port, redirected_session

HOST = "login.botframework.com"
METADATA_PATH = "/v1/.well-known/openidconfiguration"
KEYS_PATH = "/v1/.well-known/keys"
ISSUER = "https://api.botframework.com"  # what Bot Framework channel tokens carry


class FakeBotFrameworkOpenId:
    """The two documents, with scripting: `fail_next(status)`, `stall()` / `release()`, `keys` to swap."""

    def __init__(self, keys: list[dict[str, Any]]) -> None:
        self.keys = keys
        self.requests: list[str] = []
        self._failures: list[int] = []
        self._released = asyncio.Event()
        self._released.set()
        self._arrived = asyncio.Condition()

    def fail_next(self, status: int, times: int = 1) -> None:
        """The next `times` requests answer `status`."""
        self._failures += [status] * times

    def stall(self) -> None:
        """Requests get no answer until `release()` (a hung login.botframework.com)."""
        self._released.clear()

    def release(self) -> None:
        """Answer stalled requests."""
        self._released.set()

    async def wait_for_requests(self, count: int) -> None:
        """Until `count` requests have arrived."""
        async with self._arrived:
            await self._arrived.wait_for(lambda: len(self.requests) >= count)

    @property
    def metadata_requests(self) -> int:
        """How many times the metadata document was asked for."""
        return self.requests.count(METADATA_PATH)

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application()
        app.router.add_get(METADATA_PATH, self._metadata)
        app.router.add_get(KEYS_PATH, self._keys)
        return app

    async def _answer(self, request: web.Request, body: dict[str, Any]) -> web.Response:
        self.requests.append(request.path)
        async with self._arrived:
            self._arrived.notify_all()
        await self._released.wait()
        if self._failures:
            return web.Response(status=self._failures.pop(0), text="<html>error</html>", content_type="text/html")
        return web.json_response(body)

    async def _metadata(self, request: web.Request) -> web.Response:
        return await self._answer(request, {
            "issuer": ISSUER,
            "authorization_endpoint": "https://invalid.botframework.com",
            "jwks_uri": f"https://{HOST}{KEYS_PATH}",
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        })

    async def _keys(self, request: web.Request) -> web.Response:
        return await self._answer(request, {"keys": list(self.keys)})


@dataclass
class RunningOpenId:
    """A started fake and the session that reaches it as login.botframework.com."""

    fake: FakeBotFrameworkOpenId
    session: aiohttp.ClientSession
    resolver: RedirectingResolver
    port: int

    def go_offline(self) -> None:
        """login.botframework.com stops answering: connections are refused."""
        self.resolver.targets[HOST] = closed_port()

    def come_back(self) -> None:
        """login.botframework.com answers again."""
        self.resolver.targets[HOST] = self.port


@asynccontextmanager
async def running_bot_openid(keys: list[dict[str, Any]], *, tls: TestTls | None = None) -> AsyncIterator[RunningOpenId]:
    """Serve the fake over TLS for the duration of the block."""
    tls = tls or make_test_tls(HOST)
    fake = FakeBotFrameworkOpenId(keys)
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server(ssl=tls.server)
    resolver = RedirectingResolver({HOST: server.port})
    session = redirected_session(resolver, tls)
    try:
        yield RunningOpenId(fake, session, resolver, server.port)
    finally:
        fake.release()
        await session.close()
        await server.close()


def keypair(kid: str = "k1", endorsements: tuple[str, ...] = ("msteams",)) -> tuple[Any, dict[str, Any]]:
    """(private key, public JWK endorsed for `endorsements`) for signing channel tokens."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    public.update({"kid": kid, "use": "sig", "endorsements": list(endorsements)})
    return key, public


def channel_token(key: Any, service_url: str, *, app_id: str, kid: str = "k1", now: float | None = None, **claims: Any) -> str:
    """A Bot Framework channel token for `app_id`, valid for an hour from `now` (default: the wall
    clock); `claims` override any claim."""
    moment = int(time.time() if now is None else now)
    payload = {"iss": ISSUER, "aud": app_id, "serviceurl": service_url, "nbf": moment - 60, "exp": moment + 3600, **claims}
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})
