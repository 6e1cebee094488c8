"""Microsoft Graph on the bot side: the notification URLs, and routes kept in step with channels.

Graph POSTs channel changes for every team that has a route; the route answers within 3 s (202)
— notifications from a tenant not in ALLOWED_TENANT_IDS are dropped, 403 when nothing is left
(bot/tenant_gate.py) — and a background worker applies them: a deleted channel turns its routes inactive, a renamed one
updates the stored name. A periodic job (under a store lease, so one instance does it) creates,
renews and deletes subscriptions to match the teams that have routes.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import AsyncIterator, Awaitable, Callable

from aiohttp import web

from bot import messages, tenant_gate
from bot.context import BotContext
from bot.teams.inbound import MAX_JSON_DEPTH, too_deep
from bot.waiting import sleep_or_wake
from cards.views import GraphState, GraphStatus
from graph.channels import ChannelDiff
from graph.errors import GraphError
from graph.notifications import (
    ClientStateMismatchError,
    DroppedNotifications,
    Handshake,
    NotificationFormatError,
    parse_notification_request,
)
from graph.subscriptions import SubscriptionManager
from graph.worker import NotificationWorker

log = logging.getLogger("mlc.graph")

Sleep = Callable[[float], Awaitable[None]]
SYNC_INTERVAL = timedelta(hours=1)  # renewal needs < 24 h notice; hourly leaves ample margin


class GraphBridge:
    """Glue between the Graph package and the bot's store of routes."""

    def __init__(self, context: BotContext, manager: SubscriptionManager, *, holder: str, sleep: Sleep = asyncio.sleep) -> None:
        self.context = context
        self.manager = manager
        self.holder = holder
        self.sleep = sleep
        self.worker = NotificationWorker(manager.handle)
        self.last_error: str | None = None
        self.last_sync_at: datetime | None = None
        self._sync_requested = asyncio.Event()

    def request_sync(self) -> None:
        """Routes changed: sync the subscriptions now rather than at the next hourly run."""
        self._sync_requested.set()

    # --- channel changes -------------------------------------------------------------------
    async def on_channels_changed(self, diff: ChannelDiff) -> None:
        """Apply what Graph (or a resync) says changed: deleted → routes inactive, renamed → name."""
        store = self.context.store
        for channel_id, name in diff.removed.items():
            changed = await store.set_routes_active(channel_id, False, reason=messages.ROUTE_REASON_CHANNEL_DELETED)
            if changed:
                log.warning("channel %s (%s) was deleted: %d route(s) now inactive", name, channel_id, changed)
        for channel_id, (_, new_name) in diff.renamed.items():
            await store.rename_channel(channel_id, new_name)

    # --- HTTP ------------------------------------------------------------------------------
    async def handle_request(self, request: web.Request) -> web.Response:
        """POST /api/graph/notifications and /api/graph/lifecycle: handshake, or accept and queue.
        Refusals and dropped items are one line each in the context's RefusalLog (a flood: one a minute)."""
        metrics = self.context.metrics
        refusals = self.context.refusals
        endpoint = request.path
        body = await request.read()
        dropped = DroppedNotifications()
        try:
            if too_deep(body):  # before json.loads recurses into it
                raise NotificationFormatError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
            parsed = await parse_notification_request(
                request.query, body, request.content_type, verify_client_state=self.manager.verify_client_state, dropped=dropped
            )
        except NotificationFormatError as exc:
            metrics.graph_notifications.labels("malformed").inc()
            refusals.refused(endpoint, "malformed", str(exc), remote=request.remote)
            return web.Response(status=400, text=f"{exc}\n")
        except ClientStateMismatchError:
            metrics.graph_notifications.labels("wrong_client_state").inc()
            refusals.refused(endpoint, "wrong clientState", f"every item refused: {dropped}", remote=request.remote)
            return web.Response(status=403, text="clientState mismatch\n")
        if isinstance(parsed, Handshake):
            metrics.graph_notifications.labels("handshake").inc()
            return web.Response(text=parsed.token, content_type="text/plain")
        if dropped:
            refusals.refused(endpoint, "items dropped", str(dropped), remote=request.remote)
        gate = self.context.tenant_gate
        allowed = [n for n in parsed if gate.admit(n.tenant_id, surface=tenant_gate.GRAPH, what="Graph notification")]
        if len(allowed) < len(parsed):
            metrics.graph_notifications.labels("refused_tenant").inc(len(parsed) - len(allowed))
            if not allowed:
                return web.Response(status=403, text="tenant not allowed\n")
        self.worker.submit(allowed)
        metrics.graph_notifications.labels("accepted").inc(len(allowed))
        return web.Response(status=202)

    # --- scheduled work --------------------------------------------------------------------
    async def sync(self) -> None:
        """Subscriptions for exactly the teams with active routes; renew what expires within 24 h;
        recreate what Graph dropped without telling us."""
        now = self.context.clock()
        if not await self.context.store.try_lease("graph-subscriptions", self.holder, now=now, ttl_seconds=900):
            return
        routes = await self.context.store.list_routes(active_only=True)
        teams = sorted({r.team_id for r in routes if r.team_id})
        try:
            ensured = await self.manager.ensure(teams)
            renewed = await self.manager.renew_due()
            recovered = await self.manager.recover_lost()
        except GraphError as exc:
            self._failed(str(exc))
            return
        failures = {**ensured.failed, **renewed.failed, **recovered.failed}
        if failures:
            self._failed("; ".join(f"team {team}: {error}" for team, error in sorted(failures.items())))
        elif self.last_error is not None:
            log.info("Graph subscriptions healthy again")
            self.last_error = None
        self.last_sync_at = now

    def _failed(self, message: str) -> None:
        if self.last_error is None:
            log.error("Graph subscriptions failing: %s", message)
        self.last_error = message

    async def status(self) -> GraphStatus:
        """What `status` and /readyz show about Graph."""
        subscriptions = await self.context.store.list_subscriptions()
        renewal = min((s.expires_at for s in subscriptions), default=None)
        state = GraphState.FAILING if self.last_error else GraphState.OK
        return GraphStatus(state, len(subscriptions), renewal - timedelta(hours=24) if renewal else None, self.last_error)

    async def background(self, app: web.Application) -> AsyncIterator[None]:
        """cleanup_ctx: the notification worker and the hourly subscription job."""
        tasks = [asyncio.create_task(self.worker.run(), name="graph-worker"), asyncio.create_task(self._sync_loop(), name="graph-sync")]
        yield
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _sync_loop(self) -> None:
        while True:
            self._sync_requested.clear()
            try:
                await self.sync()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the job must keep running; logged once per streak
                self._failed(f"{type(exc).__name__}: {exc}")
            await self._wait(SYNC_INTERVAL.total_seconds())

    async def _wait(self, seconds: float) -> None:
        """Until the next hourly run or a request_sync(), whichever comes first."""
        await sleep_or_wake(self.sleep, seconds, self._sync_requested)


def graph_off_status() -> GraphStatus:
    """Graph is not configured: the bot works, channel names show as ids."""
    return GraphStatus(GraphState.NOT_CONFIGURED, detail="set GRAPH_TENANT_ID/GRAPH_CLIENT_ID/GRAPH_CLIENT_SECRET (or APP_*) and PUBLIC_URL")
