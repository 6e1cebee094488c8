"""The whole service in-process, for the fault matrix: wired as app.py wires it, on a FakeClock.

`running_service()` builds what `build_runtime` + `build_web_app` build — the store (migrated), an
IntacctClient to the sandbox, the PollCoordinator, the Notifier with the Teams pacer, the bot
behind /api/messages, and optionally the Graph bridge — with two differences that make faults
testable in seconds: every wait (the client's retry back-off, the pacer, the notifier) is the
FakeClock's sleep, which advances time instead of waiting; and the scheduler is `tick()`: advance
the clock one second, run the poll job as the scheduler would, drain the outbox as the notifier's
loop would. A fault is injected on the far side of a protocol (sandbox, fake Bot Connector, fake
Graph, the database server); "recovers by itself" means `run_until()` reaches the expected end
state by ticking alone.

The poller's own back-off (30 s, doubling, jitter fixed at ½ here) is part of what is tested, so
`run_until` is given fake minutes, not seconds.
"""

from __future__ import annotations

import contextlib
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, AsyncIterator, Awaitable, Callable

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.teams.connector import TeamsConnector, close_adapter, create_adapter
from bot.context import BotContext, BotPolicy, CompanyContext
from bot.delivery.deliverer import DrainReport
from bot.delivery.policy import delivery_limits
from bot.teams.handler import MlConnectorBot, make_messages_handler
from bot.delivery.notifier import Notifier
from bot.pacing import ConversationPacer
from bot.teams.server import create_web_app
from cards.links import IntacctLinks
from intacct.client import IntacctClient
from observability.metrics import Metrics
from poller.coordinator import CycleOutcome, PollCoordinator, PollerConfig
from store.sql import SqlStore, open_store
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.clock import FakeClock
from tests.fakes.gateway_log import GatewayLog, running_logged_sandbox
from tests.fakes.sandbox import DEMO_CREDENTIALS, RunningSandbox
from tests.fakes.entra_graph import TENANT_ID as GRAPH_TENANT_ID
from tests.fakes.teams_activities import CHANNEL_ID, INSTALL, TEAM_ID, TENANT_ID, add_playground_team, mention, post_activity, sample
from tests.fakes.teams_ledger import ChannelLedger

COMPANY = "DEMO-CO"
HOLDER = "instance-under-test"
OPS_CHANNEL = "19:ops-alerts@thread.tacv2"  # the operators' channel, in the Playground's team


@dataclass
class Service:
    """The running service and the far sides it talks to (see the module docstring)."""

    clock: FakeClock
    sandbox: RunningSandbox
    gateway: GatewayLog
    fake: FakeBotConnector
    store: SqlStore
    client: IntacctClient
    coordinator: PollCoordinator
    notifier: Notifier
    context: BotContext
    bot_url: str
    http: aiohttp.ClientSession
    polls: list[CycleOutcome] = field(default_factory=list)
    drains: list[DrainReport] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    # --- the scheduler ---------------------------------------------------------------------
    async def tick(self, seconds: float = 1.0) -> None:
        """One second of the service's life: the poll job fires, then the notifier drains."""
        self.clock.advance(seconds)
        self.polls.append(await self.coordinator.poll())
        try:
            self.drains.append(await self.notifier.drain_once())
        except Exception as exc:  # noqa: BLE001 - the notifier's run loop logs and retries; so does the tick
            self.drains.append(DrainReport(errors=[f"{type(exc).__name__}: {exc}"]))

    async def run_until(self, condition: Callable[[], Awaitable[bool]], *, what: str, fake_seconds: float = 900,
                        step: float = 1.0) -> float:
        """Tick (at least once: the scheduler has to run for anything to happen) until
        `condition()` holds; the fake seconds that passed, waits inside a tick included. Fails
        with what the service did."""
        started = self.clock()
        while True:
            await self.tick(step)
            waited = (self.clock() - started).total_seconds()
            if await condition():
                return waited
            if waited >= fake_seconds:
                failed = [p.error for p in self.polls if p.error][-3:]
                errors = [e for d in self.drains for e in d.errors][-3:]
                raise AssertionError(f"{what}: not reached after {fake_seconds:g} fake seconds; last poll errors "
                                     f"{failed}, drain errors {errors}, outbox {await self._depth()}")

    async def _depth(self) -> str:
        try:
            return str(await self.store.outbox_depth())
        except Exception as exc:  # noqa: BLE001 - a diagnostic only
            return f"unknown ({type(exc).__name__})"

    # --- Teams -------------------------------------------------------------------------------
    async def say(self, text: str, *, channel_id: str = CHANNEL_ID) -> int:
        """A person @mentions the bot; the HTTP status of /api/messages."""
        return await post_activity(self.http, self.bot_url, mention(text, self.fake.service_url, channel_id=channel_id))

    async def subscribe(self) -> None:
        """Install the bot, subscribe Announcements to everything and the ops channel to alerts
        (through /api/messages), then commit the baseline (the first poll posts nothing)."""
        for name in INSTALL:
            assert await post_activity(self.http, self.bot_url, sample(name, self.fake.service_url)) in (200, 201)
        assert await self.say("subscribe all") in (200, 201)
        assert await self.say("subscribe alerts", channel_id=OPS_CHANNEL) in (200, 201)
        assert len(await self.store.list_routes(active_only=True)) == 2
        await self.tick()
        assert self.polls[-1].ok and await self.store.has_baseline(COMPANY), self.polls[-1].error

    def ledger(self, channel_id: str = CHANNEL_ID) -> ChannelLedger:
        """What Teams shows in a channel, grouped by record."""
        return ChannelLedger.read(self.fake, channel_id)

    def alerts(self) -> list[str]:
        """Fallback texts of the cards in the operators' channel, oldest first."""
        return [m.card.get("fallbackText", "") for m in self.fake.posts_in(OPS_CHANNEL) if m.card]

    async def outbox_settled(self) -> bool:
        """No row pending or sending."""
        return await self.store.outbox_depth() == 0

    async def admin_faults(self) -> list[dict[str, Any]]:
        """Gateway faults still queued in the sandbox (empty once the service met them all)."""
        return (await self.sandbox.admin("GET", "/sandbox/faults"))["pending"]

    def failed_polls(self) -> list[CycleOutcome]:
        """Poll jobs that ran and failed."""
        return [p for p in self.polls if not p.ok and not p.skipped]


@asynccontextmanager
async def running_service(
    clock: FakeClock,
    tmp_path: Path,
    *,
    database_url: str | None = None,
    client_timeout: float = 60.0,
    sandbox_options: dict[str, Any] | None = None,
    fake_options: dict[str, Any] | None = None,
    max_events_per_channel: int = 20,
    graph: Callable[[BotContext, SqlStore, str], Any] | None = None,
) -> AsyncIterator[Service]:
    """Start the far sides and the service; `graph(context, store, public_url)` may return a
    GraphBridge whose notification routes are then served too (its background is not started:
    the test runs `sync()` as the hourly job would)."""
    log = GatewayLog()
    sandbox_options = {"clock": clock, "sleep": clock.sleep, **(sandbox_options or {})}
    store = open_store(database_url, data_dir=tmp_path)
    await store.migrate()
    http = aiohttp.ClientSession()
    adapter = create_adapter("", "", "MultiTenant", "")
    server: TestServer | None = None
    try:
        async with running_logged_sandbox(log, "demo", **sandbox_options) as sandbox, \
                FakeBotConnector(clock=clock, tenant_id=TENANT_ID, **(fake_options or {})) as fake:
            add_playground_team(fake)
            fake.add_channel(TEAM_ID, OPS_CHANNEL, "Ops")
            metrics = Metrics()
            client = IntacctClient(DEMO_CREDENTIALS, http=http, endpoint_url=sandbox.gateway_url, clock=clock, sleep=clock.sleep,
                                   jitter=lambda: 0.5, timeout_seconds=client_timeout)
            company = CompanyContext(COMPANY, client, IntacctLinks(sandbox.url, COMPANY), "UTC")
            # The Playground's tenant and the fake Graph's (in a real tenant they are one); the
            # Playground's mock people are unknown to any Graph, so anyone routes.
            policy = BotPolicy(allowed_tenant_ids=frozenset({TENANT_ID, GRAPH_TENANT_ID}), route_admins=("anyone",))
            context = BotContext(store=store, companies={COMPANY: company}, clock=clock, metrics=metrics, policy=policy)
            coordinator = PollCoordinator(
                PollerConfig(COMPANY, HOLDER, overlap=timedelta(minutes=5), max_events_per_channel=max_events_per_channel),
                client, store, clock=clock, jitter=lambda: 0.5, metrics=metrics,
            )
            notifier = Notifier(context, TeamsConnector(adapter, app_id="", clock=clock),
                                ConversationPacer(clock, clock.sleep, **delivery_limits()), holder=HOLDER, sleep=clock.sleep,
                                jitter=lambda: 0.5)
            coordinator.on_outbox = notifier.wake
            bridge_box: dict[str, Any] = {}

            async def graph_route(request: web.Request) -> web.StreamResponse:
                return await bridge_box["bridge"].handle_request(request)

            app = create_web_app(context, messages=make_messages_handler(adapter, MlConnectorBot(context)),
                                 graph_notifications=graph_route if graph else None, graph_lifecycle=graph_route if graph else None)
            server = TestServer(app, host="127.0.0.1")
            await server.start_server()
            bot_url = str(server.make_url("")).rstrip("/")
            service = Service(clock, sandbox, log, fake, store, client, coordinator, notifier, context, bot_url, http)
            if graph is not None:
                bridge_box["bridge"] = service.extras["bridge"] = graph(context, store, bot_url)
            yield service
    finally:
        if server is not None:
            await server.close()
        with contextlib.suppress(Exception):
            await close_adapter(adapter)
        await http.close()
        await store.close()
