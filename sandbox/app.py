"""The sandbox's aiohttp application: the gateway route, the admin API, record pages, activity."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from aiohttp import web

from sandbox.activity import activity_context
from sandbox.admin import add_admin_routes
from sandbox.errors import SandboxConfigError
from sandbox.gateway import handle_gateway_request
from sandbox.links import RECORD_PAGE_PATH, parse_record_token, record_page
from sandbox.objects import OBJECTS
from sandbox.state import (
    DEFAULT_RESULT_LIFETIME,
    DEFAULT_RNG_SEED,
    DEFAULT_SESSION_LIFETIME,
    DEFAULT_WEB_URL,
    SANDBOX_STATE,
    Clock,
    SandboxState,
    Sleep,
)
from sandbox.webhooks import WebhookConfig, webhooks_context

log = logging.getLogger(__name__)

GATEWAY_PATH = "/ia/xml/xmlgw.phtml"
SESSION_PATH = "/ia/xml/session/xmlgw.phtml"
"""Where getAPISession sends a session's requests: not the login URL, so a client that keeps
sending to the login URL is seen (`/sandbox/stats` counts requests per path)."""
MAX_REQUEST_BYTES = 4 * 1024 * 1024


def create_sandbox_app(
    seed: str = "demo",
    *,
    clock: Clock,
    sleep: Sleep = asyncio.sleep,
    session_lifetime: timedelta = DEFAULT_SESSION_LIFETIME,
    result_lifetime: timedelta = DEFAULT_RESULT_LIFETIME,
    web_url: str | None = DEFAULT_WEB_URL,
    activity_interval: float | None = None,
    rng_seed: int = DEFAULT_RNG_SEED,
    webhook: WebhookConfig | None = None,
) -> web.Application:
    """An Intacct gateway emulator with a seeded company ("demo" or "empty").

    POST /ia/xml/xmlgw.phtml (and POST /) is the gateway, and POST /ia/xml/session/xmlgw.phtml the
    endpoint getAPISession hands out (the same gateway); /sandbox/* the admin API; GET
    /ia/acct/ur.phtml shows the record a RECORD_URL points to. `web_url=None` builds RECORD_URLs
    from the URL each request came to. `activity_interval` (seconds) starts the demo activity.
    `webhook` makes it call that URL after every change, as Intacct's triggers do (webhooks.py).
    The state is `app[SANDBOX_STATE]`.
    """
    if activity_interval is not None and activity_interval <= 0:
        raise SandboxConfigError("activity_interval must be a positive number of seconds")
    state = SandboxState(
        seed, clock=clock, sleep=sleep, session_lifetime=session_lifetime, result_lifetime=result_lifetime,
        web_url=web_url, rng_seed=rng_seed,
    )
    state.webhooks.configure(webhook)
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app[SANDBOX_STATE] = state
    app.cleanup_ctx.append(webhooks_context(state.webhooks))
    app.router.add_post(GATEWAY_PATH, _gateway)
    app.router.add_post(SESSION_PATH, _gateway)
    app.router.add_post("/", _gateway)
    app.router.add_get(RECORD_PAGE_PATH, _record_page)
    add_admin_routes(app)
    if activity_interval is not None:
        app.cleanup_ctx.append(activity_context(activity_interval))
    return app


async def _gateway(request: web.Request) -> web.StreamResponse:
    """The thin HTTP adapter around gateway.handle_gateway_request."""
    state = request.app[SANDBOX_STATE]
    base = f"{request.scheme}://{request.host}"
    body = await request.read()
    state.stats.count_path(request.path)
    reply = await handle_gateway_request(
        state, body, endpoint_url=base + SESSION_PATH, web_url=state.web_url or base
    )
    response = web.Response(status=reply.status, body=reply.body, content_type=reply.content_type, charset="utf-8")
    # Compressed only when the request's Accept-Encoding allows it, as Intacct does; clients must cope.
    response.enable_compression()
    return response


async def _record_page(request: web.Request) -> web.Response:
    """GET /ia/acct/ur.phtml?.r=<token>: the record a RECORD_URL names, as a small HTML page."""
    state = request.app[SANDBOX_STATE]
    parsed = parse_record_token(request.query.get(".r", ""))
    obj = OBJECTS.get(parsed[0]) if parsed else None
    row = state.company.table(obj.name).get(parsed[1]) if obj and parsed else None
    if obj is None or row is None:
        return web.Response(status=404, text="No such record in the Intacct sandbox.", content_type="text/plain")
    page = record_page(state.company.name, obj, row, state.company.user.zone)
    return web.Response(text=page, content_type="text/html")
