"""A stand-in for the bot's notification route: a thin aiohttp adapter around parse_notification_request.

It answers the handshake (200 text/plain), 202 for accepted notifications (queued, not handled in
the request), 400 for malformed bodies and 403 when every clientState was refused — the mapping
the bot's real route is expected to use.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator

from aiohttp import web
from aiohttp.test_utils import TestServer

from graph.notifications import (
    ClientStateMismatchError,
    ClientStateVerifier,
    Handshake,
    Notification,
    NotificationFormatError,
    parse_notification_request,
)
from tests.fakes.entra_graph import TestTls


class NotificationReceiver:
    """Serves /notifications and /lifecycle; `accepted` collects what was parsed and verified."""

    def __init__(self) -> None:
        self.verify: ClientStateVerifier | None = None
        self.accepted: list[Notification] = []
        self.url = ""

    @property
    def notification_url(self) -> str:
        """Where Graph posts change notifications."""
        return f"{self.url}/notifications"

    @property
    def lifecycle_url(self) -> str:
        """Where Graph posts lifecycle events."""
        return f"{self.url}/lifecycle"

    async def handle(self, request: web.Request) -> web.Response:
        """The route."""
        assert self.verify is not None, "set receiver.verify first"
        try:
            result = await parse_notification_request(
                request.query, await request.read(), request.headers.get("Content-Type"),
                verify_client_state=self.verify,
            )
        except NotificationFormatError as exc:
            return web.Response(status=400, text=str(exc))
        except ClientStateMismatchError:
            return web.Response(status=403)
        if isinstance(result, Handshake):
            return web.Response(status=200, text=result.token, content_type=result.content_type)
        self.accepted.extend(result)
        return web.Response(status=202)


@asynccontextmanager
async def running_receiver(tls: TestTls) -> AsyncIterator[NotificationReceiver]:
    """Serve a NotificationReceiver over TLS on a random port."""
    receiver = NotificationReceiver()
    app = web.Application()
    app.router.add_post("/notifications", receiver.handle)
    app.router.add_post("/lifecycle", receiver.handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(ssl=tls.server)
    receiver.url = str(server.make_url("")).rstrip("/")
    try:
        yield receiver
    finally:
        await server.close()
