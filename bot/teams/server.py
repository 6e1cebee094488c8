"""The aiohttp application: /api/messages, health, readiness, metrics, the Graph notification URLs and
Intacct's wake-up URL.

Background work (poll scheduler, notifier, Graph jobs) starts and stops with the app through
`cleanup_ctx` entries that app.py passes in, so SIGTERM → aiohttp shutdown → every task ends.
"""

from __future__ import annotations

import json
import logging
from typing import AsyncIterator, Awaitable, Callable, Sequence

from aiohttp import web

from bot.context import BotContext
from observability.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE

log = logging.getLogger("mlc.bot")

CleanupContext = Callable[[web.Application], AsyncIterator[None]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CONTEXT = web.AppKey("context", BotContext)
EVENTS_PATH = "/api/intacct/events"  # Intacct's wake-ups (bot/wakeups/intacct_events.py)


def create_web_app(
    context: BotContext,
    *,
    messages: Handler,
    graph_notifications: Handler | None = None,
    graph_lifecycle: Handler | None = None,
    intacct_events: Handler | None = None,
    background: Sequence[CleanupContext] = (),
) -> web.Application:
    """Wire the routes. `messages` is the bot's /api/messages handler (bot/teams/handler.py builds it
    around CloudAdapter.process); bodies above the policy's size limit are refused with 413 by
    aiohttp before any handler runs."""
    app = web.Application(client_max_size=context.policy.max_request_bytes)
    app[CONTEXT] = context
    app.router.add_post("/api/messages", messages)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    if graph_notifications is not None:
        app.router.add_post("/api/graph/notifications", graph_notifications)
    if graph_lifecycle is not None:
        app.router.add_post("/api/graph/lifecycle", graph_lifecycle)
    if intacct_events is not None:
        app.router.add_post(EVENTS_PATH, intacct_events)
    app.cleanup_ctx.extend(background)
    app.on_cleanup.append(_flush_refusals)
    return app


async def _flush_refusals(app: web.Application) -> None:
    """At shutdown, log the refusals still only counted (bot/refusals.py)."""
    app[CONTEXT].refusals.flush()


async def healthz(request: web.Request) -> web.Response:
    """Alive: the process answers HTTP."""
    return web.Response(text="ok\n")


async def readyz(request: web.Request) -> web.Response:
    """Ready: the store answers, and per company the last poll state (503 when the store is down
    or every company is failing)."""
    context = request.app[CONTEXT]
    body: dict = {"store": "ok", "companies": {}, "graph": None}
    status = 200
    try:
        await context.store.ping()
    except Exception as exc:  # noqa: BLE001 - readiness reports, it does not raise
        body["store"] = f"unreachable: {type(exc).__name__}"
        status = 503
    if context.status is not None and status == 200:
        try:
            view = await context.status.status_view()
        except Exception as exc:  # noqa: BLE001
            body["status_error"] = type(exc).__name__
        else:
            for company in view.companies:
                body["companies"][company.company] = {
                    "last_success_at": company.last_success_at.isoformat() if company.last_success_at else None,
                    "last_error": company.last_error,
                    "consecutive_failures": company.consecutive_failures,
                    "state": "failing" if company.consecutive_failures else ("ok" if company.last_success_at else "waiting"),
                }
            body["outbox_depth"] = view.outbox_depth
            body["graph"] = {"state": view.graph.state.value, "subscriptions": view.graph.subscriptions, "detail": view.graph.detail}
            states = [c["state"] for c in body["companies"].values()]
            if states and all(s == "failing" for s in states):
                status = 503
    return web.Response(status=status, text=json.dumps(body, indent=2) + "\n", content_type="application/json")


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text exposition."""
    context = request.app[CONTEXT]
    return web.Response(body=context.metrics.render(), headers={"Content-Type": METRICS_CONTENT_TYPE})
