"""ml-connector's composition root and command line (docs/architecture.md §6).

    python app.py [serve]                      the bot, the poller, the notifier, the schedules
    python app.py demo                         all of it on the sandbox + the Agents Playground
    python app.py sandbox [--port] [--seed] [--webhook-url URL --webhook-secret S]
                                               only the Intacct gateway emulator
    python app.py poll --once [--dry-run] [--json] [--backfill-since DATE]
    python app.py check                        every configured system: ok, or what to fix
    python app.py setup [--rotate-key]         store credentials encrypted
    python app.py audit [--since] [--until] [--format csv|json]
    python app.py package                      appPackage/build/ml-connector.zip
    python app.py routes list|add|remove|channels

This is the only module that wires packages together; nothing happens at import time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import functools
import getpass
import logging
import os
import secrets
import signal
import socket
import sys
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, AsyncIterator, Callable, Mapping, Sequence

import aiohttp
from aiohttp import web

from ops import messages
from settings import CompanySettings, Settings, SettingsError, load_settings, read_env_file

if TYPE_CHECKING:
    from bot.delivery.policy import DeliveryPolicy
    from bot.refusals import RefusalLog

log = logging.getLogger("mlc")
ROOT = Path(__file__).resolve().parent
VERSION = "0.1.0"
DEMO_ENV = {
    "INTACCT_SENDER_ID": "mlc-sandbox",
    "INTACCT_SENDER_PASSWORD": "sandbox-secret",
    "INTACCT_COMPANY_ID": "DEMO-CO",
    "INTACCT_USER_ID": "ap-admin",
    "INTACCT_USER_PASSWORD": "demo-pass",
    "POLL_SCHEDULE": "every 15m",  # the fallback: the sandbox wakes the poller after every change
    "DIGEST_SCHEDULE": "every 1h",
    "RECONCILE_SCHEDULE": "every 15m",
    "REFERENCE_SCHEDULE": "every 30m",
    "APP_ID": "",
    "APP_PASSWORD": "",
    "APP_TYPE": "",
    "PUBLIC_URL": "",
    # The Playground's people are mock users no Graph knows: anyone in its team may subscribe.
    "ROUTE_ADMINS": "anyone",
    "ALLOWED_TENANT_IDS": "",
}


def utc_now() -> datetime:
    """The wall clock, aware UTC (the one real clock of the process)."""
    return datetime.now(timezone.utc)


# --- settings ---------------------------------------------------------------------------------


def config_values(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment over the `.env` file (ML_CONNECTOR_ENV_FILE, default `.env`): the raw keys every command reads."""
    return {**read_env_file(Path(environ.get("ML_CONNECTOR_ENV_FILE", ".env"))), **environ}


def load_runtime_settings(environ: Mapping[str, str]) -> Settings:
    """Settings from the environment and .env, with secrets stored by `setup` filling the gaps."""
    raw = config_values(environ)
    stored = asyncio.run(read_stored_secrets(raw))
    return load_settings(raw, stored_secrets=stored)


def data_and_key_paths(raw: Mapping[str, str]) -> tuple[Path, Path]:
    """(DATA_DIR, the master key file) from the raw keys, with the defaults settings use: what the
    commands that look for stored secrets need before the settings can be read."""
    data_dir = Path(raw.get("DATA_DIR") or "data")
    return data_dir, Path(raw.get("ML_CONNECTOR_KEY_FILE") or data_dir / "master.key")


@contextlib.asynccontextmanager
async def migrated_store(database_url: str | None, data_dir: Path) -> AsyncIterator[object]:
    """The store (SQLite in `data_dir` when `database_url` is empty), migrated, closed on the way out:
    for the commands that read or write a few rows and stop."""
    from store.sql import open_store

    store = open_store(database_url or None, data_dir=data_dir)
    try:
        await store.migrate()
        yield store
    finally:
        await store.close()


async def read_stored_secrets(raw: Mapping[str, str]) -> dict[str, str]:
    """Decrypt what `setup` stored. Fail closed: a stored value the key ring cannot open (or any
    stored value without a key ring) is a LockedCredentialsError naming the fix, never skipped —
    skipping APP_PASSWORD would start the bot unauthenticated, skipping an Intacct password would
    fall back to the environment's."""
    from ops.vault import find_key_ring, open_stored
    from store.engine import SQLITE_FILE_NAME

    data_dir, key_file = data_and_key_paths(raw)
    if not raw.get("DATABASE_URL") and not (data_dir / SQLITE_FILE_NAME).exists():
        return {}  # no database yet: nothing can be stored (and none is created just to look)
    async with migrated_store(raw.get("DATABASE_URL"), data_dir) as store:
        secrets = await store.load_secrets()
    return open_stored(secrets, find_key_ring(raw.get("ML_CONNECTOR_MASTER_KEY") or "", key_file), key_file=key_file)


def key_ring_exists(raw: Mapping[str, str]) -> bool:
    """Whether a master key is configured or its file exists: only then can `setup` have stored secrets."""
    _, key_file = data_and_key_paths(raw)
    return bool(raw.get("ML_CONNECTOR_MASTER_KEY")) or key_file.exists()


def configure_logs(settings: Settings, *, stream=None) -> None:
    """Logging with every configured secret masked (to stderr, or `stream`)."""
    from observability.logs import configure_logging

    secrets = [settings.app_password.reveal(), settings.graph_client_secret.reveal(), settings.master_key.reveal(), settings.database_url.reveal(),
               settings.events_client_secret.reveal()]
    for company in settings.companies:
        secrets += [company.sender_password.reveal(), company.user_password.reveal(), company.events_secret.reveal()]
    configure_logging(settings.log_level, settings.log_format, stream=stream, secrets=secrets)


# --- the runtime --------------------------------------------------------------------------------


@dataclass
class CompanyRuntime:
    """One company's client, bot context and poller."""

    settings: CompanySettings
    context: object  # bot.context.CompanyContext
    coordinator: object  # poller.coordinator.PollCoordinator


@dataclass
class Runtime:
    """Everything `serve`, `demo` and `poll` run on; `close()` releases it."""

    settings: Settings
    store: object
    http: aiohttp.ClientSession
    metrics: object
    companies: dict[str, CompanyRuntime]
    holder: str
    clock: Callable[[], datetime] = utc_now
    closers: list = field(default_factory=list)

    async def close(self) -> None:
        """Close in reverse order of opening."""
        for close in reversed(self.closers):
            with contextlib.suppress(Exception):
                await close()
        await self.http.close()
        await self.store.close()


async def build_runtime(settings: Settings, *, backfill_since: datetime | None = None, clock: Callable[[], datetime] = utc_now,
                        http: aiohttp.ClientSession | None = None) -> Runtime:
    """Store (migrated), one Intacct client + poller per company, metrics. `http` is the one HTTP
    client of everything (a new session by default; tests give one whose network reaches their
    fakes); the runtime closes it."""
    from bot.context import CompanyContext
    from cards.links import IntacctLinks
    from intacct.client import IntacctClient
    from intacct.credentials import IntacctCredentials
    from observability.metrics import Metrics
    from poller.coordinator import PollCoordinator, PollerConfig
    from store.sql import open_store

    if not settings.companies:
        raise SettingsError([messages.NO_COMPANY])
    store = open_store(settings.database_url.reveal() or None, data_dir=settings.data_dir)
    try:
        await store.migrate()
    except BaseException:
        await store.close()
        raise
    http = http or aiohttp.ClientSession()
    metrics = Metrics()
    holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    runtime = Runtime(settings, store, http, metrics, {}, holder, clock)
    for company in settings.companies:
        client = IntacctClient(
            IntacctCredentials(company.sender_id, company.sender_password.reveal(), company.company_id, company.user_id,
                               company.user_password.reveal(), company.entity_id),
            http=http,
            endpoint_url=company.endpoint_url,
            clock=clock,
            gmt_offset=_offset(company.gmt_offset),
        )
        context = CompanyContext(company.key, client, IntacctLinks(company.web_url, company.company_id), company.team_timezone)
        coordinator = PollCoordinator(
            PollerConfig(
                company.key,
                holder,
                timezone=company.poll_timezone,
                team_timezone=company.team_timezone,
                overlap=timedelta(seconds=settings.poll_overlap_seconds),
                max_events_per_channel=settings.max_events_per_cycle_per_channel,
                backfill_since=backfill_since,
                lease_seconds=settings.poll_lease_seconds,
            ),
            client,
            store,
            clock=clock,
            metrics=metrics,
        )
        runtime.companies[company.key] = CompanyRuntime(company, context, coordinator)
    metrics.watch_intacct(lambda: [(key, c.context.client.stats) for key, c in runtime.companies.items()])
    return runtime


def _offset(text: str | None) -> timedelta | None:
    if not text:
        return None
    sign = -1 if text.startswith("-") else 1
    hours, minutes = text[1:].split(":")
    return sign * timedelta(hours=int(hours), minutes=int(minutes))


def usage_estimate(company: CompanySettings, settings: Settings):
    """The schedules' monthly Intacct transactions when nothing changes."""
    from poller.schedules import estimate_usage

    return estimate_usage(
        poll_schedule=company.poll_schedule,
        poll_timezone=company.poll_timezone,
        reference_schedule=settings.reference_schedule,
        reconcile_schedule=settings.reconcile_schedule,
        digest_schedule=company.digest_schedule,
        start=utc_now(),
    )


ENTRA_TIMEOUT_SECONDS = 30.0  # one token request of the bot's (msal's own session has no timeout)


def open_adapter(settings: Settings, http: aiohttp.ClientSession, *, clock: Callable[[], datetime] = utc_now,
                 timeout_seconds: float | None = None, token_http_client=None):
    """The bot's CloudAdapter: inbound signing keys and outbound Entra token requests both go
    through `http` (the runtime's aiohttp session: its timeouts, TLS settings and proxies), msal
    running in worker threads. Call inside the event loop; close with bot.teams.connector.close_adapter."""
    from bot.teams.connector import DEFAULT_TIMEOUT_SECONDS, create_adapter
    from graph.msal_http import LoopHttpClient

    if token_http_client is None:
        token_http_client = LoopHttpClient(http, asyncio.get_running_loop(), timeout_seconds=ENTRA_TIMEOUT_SECONDS)
    return create_adapter(settings.app_id, settings.app_password.reveal(), settings.app_type, settings.app_tenant_id,
                          clock=clock, http=http, timeout_seconds=timeout_seconds or DEFAULT_TIMEOUT_SECONDS,
                          token_http_client=token_http_client)


async def build_web_app(runtime: Runtime) -> tuple[web.Application, object]:
    """The bot, notifier, schedules and Graph around the runtime; returns (app, bot context)."""
    from bot.teams.connector import TeamsConnector, close_adapter
    from bot.context import BotContext, BotPolicy
    from bot.teams.graph_bridge import graph_off_status
    from bot.teams.handler import MlConnectorBot, make_messages_handler
    from bot.delivery.policy import delivery_limits
    from bot.delivery.notifier import Notifier
    from bot.pacing import ConversationPacer
    from bot.teams.server import create_web_app
    from bot.delivery.tenant_share import TenantBudgetShare, heartbeat_for
    from bot.chat.status import StatusBuilder, company_facts
    from bot.wakeups.loop import wakeups_context
    from ops.key_rotation import report_key_ring_while_serving
    from ops.vault import find_key_ring
    from poller.runner import CompanySchedule, PollScheduler
    from store.retention import PRUNE_SCHEDULE, prune_finished_outbox

    settings, store, clock = runtime.settings, runtime.store, runtime.clock
    policy, send_timeout = delivery_timing(settings.outbox_claim_seconds)
    adapter = open_adapter(settings, runtime.http, clock=clock, timeout_seconds=send_timeout)
    runtime.closers.append(lambda: close_adapter(adapter))
    connector = TeamsConnector(adapter, app_id=settings.app_id, clock=clock)
    pacer = ConversationPacer(clock, asyncio.sleep, **delivery_limits())  # cards and chat replies share Teams' budget
    context = BotContext(
        store=store,
        companies={key: c.context for key, c in runtime.companies.items()},
        clock=clock,
        metrics=runtime.metrics,
        policy=BotPolicy(settings.app_id, settings.allowed_tenant_ids, settings.route_admins, settings.max_request_bytes,
                         settings.live_reads_per_minute),
        pacer=pacer,
    )
    notifier = Notifier(context, connector, pacer, holder=runtime.holder, sleep=asyncio.sleep,
                        claim_seconds=settings.outbox_claim_seconds, policy=policy)
    scheduler = PollScheduler([
        (c.coordinator, CompanySchedule(c.settings.poll_schedule, c.settings.digest_schedule, settings.reconcile_schedule,
                                        settings.reference_schedule, c.settings.poll_timezone))
        for c in runtime.companies.values()
    ], maintenance=[("prune outbox", PRUNE_SCHEDULE,
                     functools.partial(prune_finished_outbox, runtime.store, clock, retention_days=settings.outbox_retention_days))])
    for company in runtime.companies.values():
        company.coordinator.on_outbox = notifier.wake
    wakeups, events = build_wakeups(settings, runtime, context.refusals)

    bridge = None
    graph_status = None
    if settings.graph_enabled:
        bridge = build_graph_bridge(settings, store, runtime.http, context, holder=runtime.holder, clock=clock)
        graph_status = bridge.status
    estimates = {c.settings.key: await asyncio.to_thread(usage_estimate, c.settings, settings) for c in runtime.companies.values()}
    context.status = StatusBuilder(
        store,
        [company_facts(c.settings.key, c.settings.poll_schedule, c.settings.poll_timezone, estimates[c.settings.key].total,
                       wakeups=settings.wakeup_kinds(c.settings))
         for c in runtime.companies.values()],
        clock=clock,
        next_poll=lambda key: scheduler.next_run(key),
        graph=graph_status or _async_value(graph_off_status()),
        channel_label=getattr(context.channel_names, "label", None),
        company_name=lambda key: runtime.companies[key].context.known_name(),
        version=VERSION,
    )
    bot = MlConnectorBot(context)
    share = TenantBudgetShare(store, pacer, holder=runtime.holder, clock=clock,
                              heartbeat_seconds=heartbeat_for(settings.outbox_claim_seconds))
    background = [_budget_share_context(share), _scheduler_context(scheduler), _notifier_context(notifier),
                  _company_names_context(runtime),
                  # which master keys this instance holds, so a key rotation can wait for every instance
                  report_key_ring_while_serving(store, runtime.holder, find_key_ring(settings.master_key.reveal(), settings.key_file),
                                                clock=clock)]
    if wakeups is not None:
        background.append(wakeups_context(wakeups, clock=clock))
    if bridge is not None:
        background.append(bridge.background)
    app = create_web_app(
        context,
        messages=make_messages_handler(adapter, bot),
        graph_notifications=bridge.handle_request if bridge else None,
        graph_lifecycle=bridge.handle_request if bridge else None,
        intacct_events=events.handle if events else None,
        background=background,
    )
    return app, context


def build_wakeups(settings: Settings, runtime: Runtime, refusals: RefusalLog):
    """(WakeUps, the /api/intacct/events endpoint) for the companies that take Intacct wake-ups,
    or (None, None) when none does. Each such company's regular poll then checks that its
    changes were announced (the broken-trigger alert)."""
    from bot.wakeups.intacct_events import IntacctEventsEndpoint, WakeUpAccess, events_url
    from intacct.wakeups import PlatformTriggerKeys
    from poller.wakeups import WakeUpPolicy, WakeUps

    enabled = {key: c for key, c in runtime.companies.items() if settings.wakeup_kinds(c.settings)}
    if not enabled:
        return None, None
    keys = None
    if settings.platform_triggers_enabled:
        keys = PlatformTriggerKeys(settings.events_client_id, settings.events_client_secret.reveal(), settings.events_issuer,
                                   timedelta(seconds=settings.events_max_age_seconds))
    policy = WakeUpPolicy(min_interval=timedelta(seconds=settings.wakeup_min_interval_seconds),
                          max_per_hour=settings.wakeup_max_polls_per_hour)
    public_url = settings.public_url
    wakeups = WakeUps({key: c.coordinator for key, c in enabled.items()}, runtime.store, clock=runtime.clock, policy=policy,
                      fallback_url=(lambda key: events_url(public_url, key)) if public_url else None)
    for company in enabled.values():
        company.coordinator.after_poll = wakeups.check_announced
    access = WakeUpAccess.build({key: c.settings.events_secret.reveal() for key, c in enabled.items()}, keys)
    return wakeups, IntacctEventsEndpoint(wakeups, access, clock=runtime.clock, metrics=runtime.metrics, refusals=refusals)


def delivery_timing(claim_seconds: float) -> tuple[DeliveryPolicy, float]:
    """(DeliveryPolicy, Bot Connector timeout) for an outbox claim of `claim_seconds`.

    A send must end before its claim does, or another instance may send the row too (bot/delivery/notifier.py):
    the notifier only starts a send with `send_budget_seconds` of claim left, and the budget covers
    the connector's timeout with half again as slack (45 s over 30 s by default). A claim under a
    minute shrinks the timeout to half the claim and the budget with it, so OUTBOX_CLAIM_SECONDS
    below 46, which the notifier refused at start-up, works too (a dead instance's rows come back
    within seconds).
    """
    from bot.teams.connector import DEFAULT_TIMEOUT_SECONDS
    from bot.delivery.policy import DeliveryPolicy

    defaults = DeliveryPolicy()
    timeout = min(DEFAULT_TIMEOUT_SECONDS, claim_seconds / 2)
    budget = min(defaults.send_budget_seconds, timeout * 1.5)
    return replace(defaults, send_budget_seconds=budget), timeout


def build_graph_bridge(settings: Settings, store, http: aiohttp.ClientSession, context, *, holder: str,
                       clock: Callable[[], datetime] = utc_now, sleep=asyncio.sleep):
    """Graph client, channel directory and subscription manager, glued to the bot's routes."""
    from bot.teams.graph_bridge import GraphBridge
    from graph.channels import ChannelDirectory
    from graph.client import GraphClient
    from graph.subscriptions import SubscriptionManager
    from graph.tokens import EntraTokenProvider, GraphCredentials

    tokens = EntraTokenProvider(
        GraphCredentials(settings.graph_tenant_id, settings.graph_client_id, settings.graph_client_secret.reveal(), settings.graph_authority_host),
        http=http,
    )
    client = GraphClient(tokens, http=http, base_url=settings.graph_base_url, clock=clock, sleep=sleep)
    bridge: GraphBridge | None = None

    async def on_change(diff) -> None:
        if bridge is not None:
            await bridge.on_channels_changed(diff)

    directory = ChannelDirectory(client, store, clock=clock, on_change=on_change)
    manager = SubscriptionManager(
        client,
        store,
        notification_url=f"{settings.public_url}/api/graph/notifications",
        lifecycle_url=f"{settings.public_url}/api/graph/lifecycle",
        clock=clock,
        directory=directory,
    )
    bridge = GraphBridge(context, manager, holder=holder, sleep=sleep)
    context.routes_changed = bridge.request_sync
    context.channel_names = directory
    context.graph_members = client
    return bridge


def _async_value(value):
    async def get():
        return value

    return get


def _scheduler_context(scheduler):
    async def run(app: web.Application) -> AsyncIterator[None]:
        scheduler.start()
        yield
        await scheduler.stop()

    return run


def _budget_share_context(share):
    """Teams' per-tenant budget shared with the other instances, from before the first send to after the last."""

    async def run(app: web.Application) -> AsyncIterator[None]:
        await share.join()
        task = asyncio.create_task(share.run(), name="teams-budget-share")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await share.leave()

    return run


def _company_names_context(runtime: Runtime):
    """Reads each company's name from Intacct once, in the background, for the cards that show it."""

    async def read_names() -> None:
        for company in runtime.companies.values():
            await company.context.name()  # logs and returns None when Intacct cannot say

    async def run(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(read_names(), name="company names")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return run


def _notifier_context(notifier):
    async def run(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(notifier.run(), name="notifier")
        yield
        await notifier.stop()  # lets the sends in flight finish: no row is left "sending"
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return run


async def serve_until_stopped(app: web.Application, host: str, port: int, *, on_started: Callable[[str], object] | None = None) -> None:
    """Serve until SIGINT/SIGTERM, then shut down cleanly (cleanup contexts stop every task)."""
    from ops.serving import bind_listener, serve_on

    listener = bind_listener(host, port)
    stop = asyncio.Event()
    try:
        runner = await serve_on(app, listener)
        try:
            with _stopped_by_signals(stop):
                log.info("listening on http://%s:%d (POST /api/messages)", host, port)
                if on_started is not None:
                    result = on_started(f"http://127.0.0.1:{port}")
                    if asyncio.iscoroutine(result):
                        await result
                await stop.wait()
                log.info("stopping")
        finally:
            await runner.cleanup()
    finally:
        listener.close()


# --- commands -----------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Run everything on PORT until SIGINT/SIGTERM (listening at once, even while the database is down)."""
    from ops.cli import ExitCode

    async def main() -> None:
        stop = asyncio.Event()
        with _stopped_by_signals(stop):
            await serve(environ, stop=stop)

    asyncio.run(main())
    return ExitCode.OK


async def serve(environ: Mapping[str, str], *, stop: asyncio.Event, clock: Callable[[], datetime] = utc_now,
                sleep=asyncio.sleep, on_listening: Callable[[int], None] | None = None,
                on_ready: Callable[[], None] | None = None) -> None:
    """`serve`: bind PORT, answer /readyz 503 while the database cannot be reached (retrying with
    back-off, ops/serving.py), then run the bot, poller, notifier and schedules until `stop` is set.
    `on_listening(port)` and `on_ready()` tell a caller when each phase began."""
    from ops.serving import StartupState, bind_listener, retry_until_reachable, serve_on, starting_app

    from ops.check import anonymous_mode_problem
    from ops.cli import CommandError, ExitCode

    raw = config_values(environ)
    boot = load_settings(raw, without_companies=True)  # the companies' secrets may wait in the database
    problem = anonymous_mode_problem(boot)
    if problem is not None and not key_ring_exists(raw):  # else APP_ID may be a stored secret: open_runtime decides
        raise CommandError(problem, ExitCode.USAGE)
    configure_logs(boot)
    listener = bind_listener(boot.host, boot.port)
    state = StartupState()
    front = await serve_on(starting_app(state), listener)
    back = runtime = None
    try:
        port = listener.getsockname()[1]
        log.info("listening on http://%s:%d (POST /api/messages)", boot.host, port)
        if on_listening is not None:
            on_listening(port)
        runtime = await retry_until_reachable(functools.partial(open_runtime, raw, clock=clock), state, clock=clock,
                                              sleep=sleep, stop=stop)
        if runtime is None:
            return
        app, _ = await build_web_app(runtime)
        back = await serve_on(app, listener)  # both serve the socket for a moment: no connection is refused
        await front.cleanup()
        front = None
        if on_ready is not None:
            on_ready()
        await stop.wait()
        log.info("stopping")
    finally:
        for runner in (front, back):
            if runner is not None:
                await runner.cleanup()  # the real app's cleanup contexts stop the scheduler and the notifier
        if runtime is not None:
            await runtime.close()
        listener.close()


async def open_runtime(raw: Mapping[str, str], *, clock: Callable[[], datetime] = utc_now) -> Runtime:
    """Settings with the stored secrets, then the runtime; StoreError while the database cannot be
    reached, CommandError (exit 2) when the settings would serve unauthenticated requests to the network."""
    from ops.check import anonymous_mode_problem
    from ops.cli import CommandError, ExitCode

    settings = load_settings(raw, stored_secrets=await read_stored_secrets(raw))  # APP_ID may be a stored one
    problem = anonymous_mode_problem(settings)
    if problem is not None:
        raise CommandError(problem, ExitCode.USAGE)
    configure_logs(settings)
    for warning in settings.warnings:
        log.warning("configuration: %s", warning)
    if not settings.app_id:
        log.warning("anonymous mode (APP_ID is empty): requests are not authenticated and only a Bot Connector on this "
                    "machine is answered%s", " — ALLOW_ANONYMOUS_ON_NETWORK is set, so anyone who reaches "
                    f"{settings.host}:{settings.port} can read AP data" if settings.allow_anonymous_on_network else "")
    return await build_runtime(settings, clock=clock)


@contextlib.contextmanager
def _stopped_by_signals(stop: asyncio.Event):
    """Set `stop` on SIGINT/SIGTERM while inside."""
    loop = asyncio.get_running_loop()
    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (RuntimeError, ValueError):  # not the main thread (a command run in-process): no signals arrive there
            break
        handled.append(sig)
    try:
        yield
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)


def cmd_sandbox(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Run only the Intacct gateway emulator (optionally calling a wake-up URL after every change)."""
    from sandbox import WebhookConfig, run_sandbox
    from ops.cli import ExitCode, port_in_use
    from observability.logs import configure_logging

    configure_logging(environ.get("LOG_LEVEL", "INFO"))

    def ready(url: str) -> None:
        print(f"Intacct sandbox ({args.seed}) at {url}/ia/xml/xmlgw.phtml — sender mlc-sandbox/sandbox-secret, "
              f"company DEMO-CO, user ap-admin/demo-pass; admin API under {url}/sandbox/", flush=True)
        if webhook is not None:
            print(f"After every change it POSTs to {webhook.url} (Smart-Event-style secret, Intacct's retries)", flush=True)

    webhook = None
    if args.webhook_url or args.webhook_secret:
        if not (args.webhook_url and args.webhook_secret):
            print("ml-connector: --webhook-url and --webhook-secret go together", file=sys.stderr)
            return 2
        if not args.webhook_url.startswith(("http://", "https://")):
            print(f"ml-connector: --webhook-url must be an http(s) URL (got {args.webhook_url!r})", file=sys.stderr)
            return 2
        webhook = WebhookConfig(args.webhook_url, args.webhook_secret)

    async def main() -> None:
        task = asyncio.create_task(run_sandbox(args.host, args.port, args.seed, on_ready=ready,
                                               activity_interval=args.activity, webhook=webhook))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        done, _ = await asyncio.wait([task, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        for finished in done:
            if finished is task and task.exception():
                raise task.exception()

    try:
        asyncio.run(main())
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise port_in_use(args.host, args.port, messages.PORT_FIX_SANDBOX) from None
        raise
    return ExitCode.OK


DEMO_DATA_DIR = ROOT / "data" / "demo"  # or DATA_DIR/demo when DATA_DIR is set


def forget_last_demo(data_dir: Path) -> None:
    """Start the demo's store empty. Its sandbox is seeded anew on every run, so what the last run
    stored would be wrong about it: the first new bill (the same number and data as last time's)
    would look known and never be announced."""
    from store.engine import SQLITE_FILE_NAME

    for suffix in ("", "-wal", "-shm"):
        (data_dir / f"{SQLITE_FILE_NAME}{suffix}").unlink(missing_ok=True)


async def demo_invokes_hint(runtime: Runtime) -> str:
    """How to try the compose-box search and a pasted link in the Playground, with a pending bill's
    number and RECORD_URL read from the demo company (generic words when Intacct cannot say)."""
    from bot.chat.invoke_values import SEARCH_COMMAND_ID, SEARCH_PARAMETER
    from intacct.errors import IntacctError

    example, link = "", messages.DEMO_NO_LINK
    company = next(iter(runtime.companies.values()), None)
    if company is not None:
        try:
            bills = (await company.context.client.query_bills(states=["Submitted"], limit=1)).bills
        except IntacctError:
            bills = []
        if bills:
            example, link = f" (e.g. {bills[0].bill_number})", bills[0].record_url or link
    return messages.DEMO_TRY_INVOKES.format(command=SEARCH_COMMAND_ID, parameter=SEARCH_PARAMETER, example=example, link=link)


def cmd_demo(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """The embedded default: sandbox + SQLite + anonymous bot + Agents Playground."""
    from sandbox import run_sandbox
    from observability.logs import configure_logging
    from ops.cli import ExitCode
    from ops.playground import PlaygroundError, start_playground

    configure_logging(environ.get("LOG_LEVEL", "INFO"))

    async def main() -> None:
        sandbox_url: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        sandbox = asyncio.create_task(run_sandbox("127.0.0.1", 0, "demo", web_url=None, activity_interval=args.activity,
                                                  on_ready=sandbox_url.set_result))
        url = await sandbox_url
        events_secret = secrets.token_urlsafe(24)  # this run's Smart-Event-style secret between sandbox and bot
        env = {**environ, **DEMO_ENV, "INTACCT_ENDPOINT_URL": f"{url}/ia/xml/xmlgw.phtml", "INTACCT_WEB_URL": url,
               "DATA_DIR": str(Path(environ["DATA_DIR"]) / "demo" if environ.get("DATA_DIR") else DEMO_DATA_DIR), "DATABASE_URL": "",
               "INTACCT_EVENTS_SECRET": events_secret}
        settings = load_settings(env)
        forget_last_demo(settings.data_dir)
        runtime = await build_runtime(settings)
        playground = None
        try:
            app, context = await build_web_app(runtime)

            async def started(bot_url: str) -> None:
                nonlocal playground
                await wire_sandbox_wakeups(runtime.http, url, bot_url, company="DEMO-CO", secret=events_secret)
                print(f"\nIntacct sandbox: {url} (a change every {args.activity:g} s)")
                print(f"Bot endpoint:    {bot_url}/api/messages (anonymous)")
                print(f"Wake-ups:        the sandbox calls {bot_url}/api/intacct/events after every change, so cards "
                      "appear within seconds (the regular poll runs every 15 minutes)")
                if args.no_playground:
                    return
                try:
                    playground = await start_playground(f"{bot_url}/api/messages", port=args.playground_port, http=runtime.http,
                                                        work_dir=settings.data_dir / "playground")
                    config = await playground.config()
                    team = config["teams"][0]["id"]  # its General channel has the team's id
                    await playground.install(team)
                    await playground.say(team, "subscribe all", bot_id=config["bot"]["id"], user_id=config["currentUser"]["id"])
                    print(f"\nOpen {playground.url} — the team's General channel is subscribed to bills, payments, vendor "
                          "changes and the digest. Try: @Test Bot show pending bills\n", flush=True)
                    print(await demo_invokes_hint(runtime), flush=True)
                except PlaygroundError as exc:
                    print(f"\nAgents Playground not started ({exc}). The bot still runs at {bot_url}/api/messages.\n", flush=True)

            await serve_until_stopped(app, "127.0.0.1", settings.port, on_started=started)
        finally:
            if playground is not None:
                await playground.stop()
            await runtime.close()
            sandbox.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sandbox

    asyncio.run(main())
    return ExitCode.OK


async def wire_sandbox_wakeups(http: aiohttp.ClientSession, sandbox_url: str, bot_url: str, *, company: str, secret: str) -> None:
    """Make the sandbox call the bot's /api/intacct/events after every change (its admin API)."""
    from bot.wakeups.intacct_events import events_url

    async with http.post(f"{sandbox_url}/sandbox/webhooks", json={"url": events_url(bot_url, company), "secret": secret}) as response:
        if response.status != 201:
            raise RuntimeError(f"the sandbox refused the webhook set-up ({response.status}): {await response.text()}")


def cmd_poll(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """One cycle for every company; prints events (and with --dry-run their cards), gives the leases back."""
    from ops.cli import CommandError, ExitCode
    from ops.poll_once import PollTarget, poll_once, refuse_backfill_after_baseline

    if not args.once:
        raise CommandError(messages.POLL_NEEDS_ONCE, ExitCode.USAGE)
    backfill = _parse_day(args.backfill_since) if args.backfill_since else None
    settings = load_runtime_settings(environ)
    configure_logs(settings)

    async def main() -> int:
        runtime = await build_runtime(settings, backfill_since=backfill)
        try:
            if backfill is not None:
                await refuse_backfill_after_baseline(runtime.store, list(runtime.companies))
            targets = [PollTarget(key, c.coordinator, c.context) for key, c in runtime.companies.items()]
            code = await poll_once(targets, clock=runtime.clock, dry_run=args.dry_run, as_json=args.json, out=sys.stdout, err=sys.stderr)
            if not args.dry_run:
                await _deliver_once(runtime)
        finally:
            await runtime.close()
        return code

    return asyncio.run(main())


async def _deliver_once(runtime: Runtime) -> None:
    """Post what the cycle queued (poll without --dry-run delivers like serve would)."""
    from bot.teams.connector import TeamsConnector, close_adapter
    from bot.context import BotContext
    from bot.delivery.policy import delivery_limits
    from bot.delivery.notifier import Notifier
    from bot.pacing import ConversationPacer

    settings = runtime.settings
    adapter = open_adapter(settings, runtime.http, clock=runtime.clock)
    try:
        context = BotContext(runtime.store, {k: c.context for k, c in runtime.companies.items()}, runtime.clock, runtime.metrics)
        notifier = Notifier(context, TeamsConnector(adapter, app_id=settings.app_id),
                            ConversationPacer(runtime.clock, asyncio.sleep, **delivery_limits()), holder=runtime.holder, sleep=asyncio.sleep)
        await notifier.drain_once()
    finally:
        await close_adapter(adapter)


def cmd_check(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Ping every configured system: 0 when all say ok, 1 when one fails, 2 when the configuration is wrong."""
    from ops.cli import ExitCode

    settings = load_runtime_settings(environ)
    if not settings.companies:
        raise SettingsError([messages.NO_COMPANY])
    configure_logs(settings)
    results = asyncio.run(_checks(settings))
    for ok, text in results:
        print(("WARN  " if ok is None else "ok    " if ok else "FAIL  ") + text)
    return ExitCode.OK if all(ok is not False for ok, _ in results) else ExitCode.FAILED  # a warning does not fail


async def _checks(settings: Settings, *, token_http_client=None, http: aiohttp.ClientSession | None = None) -> list[tuple[bool | None, str]]:
    """(True ok | None warning | False failed, line) per system; `token_http_client` carries the
    bot's Entra requests, `http` everything (tests: a session that reaches their fakes)."""
    from bot.teams.connector import close_adapter
    from ops.check import (
        check_bot,
        check_configuration,
        check_graph_access,
        check_intacct,
        check_master_key,
        check_store,
        check_wakeups,
    )
    from ops.cli import store_failure
    from ops.vault import find_key_ring
    from store.api import StoreError

    results = list(check_configuration(settings))
    try:
        runtime = await build_runtime(settings, http=http)
    except SettingsError as exc:
        return [(False, f"Settings: {exc}")]
    except StoreError as exc:  # the store may be unreachable: check says so, with the fix
        return [(False, f"Store: {store_failure(exc)}")]
    adapter = open_adapter(settings, runtime.http, clock=runtime.clock, token_http_client=token_http_client)
    try:
        description = "PostgreSQL" if settings.database_url.reveal().startswith("postgres") else f"SQLite in {settings.data_dir}"
        results.append(await check_store(runtime.store, description))
        results += await check_master_key(runtime.store, find_key_ring(settings.master_key.reveal(), settings.key_file),
                                          key_file=settings.key_file, now=runtime.clock())
        try:
            wakeups = {w.company: w for w in await runtime.store.wakeup_states()}
        except Exception:  # noqa: BLE001 - the store line above already says what is wrong
            wakeups = {}
        for company in runtime.companies.values():
            estimate = await asyncio.to_thread(usage_estimate, company.settings, settings)
            woken = bool(settings.wakeup_kinds(company.settings))
            results += await check_intacct(company.settings, company.context.client, estimate,
                                           max_wakeup_polls_per_hour=settings.wakeup_max_polls_per_hour if woken else None)
            results += check_wakeups(settings, company.settings, wakeups.get(company.settings.key), now=runtime.clock())
        results.append(await check_bot(settings, adapter))
        teams = sorted({r.team_id for r in await runtime.store.list_routes(active_only=True) if r.team_id})
        results += await check_graph_access(settings, runtime.http, teams, clock=runtime.clock)
    finally:
        await close_adapter(adapter)
        await runtime.close()
    return [(None if r.warning else r.ok, r.text) for r in results]


def cmd_setup(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Store credentials encrypted (asked on a terminal, or from the environment or a file), discard
    what the key cannot open (--reset), or take the master key rotation's next step (--rotate-key)."""
    from ops.cli import CommandError, ExitCode
    from ops.key_rotation import RotationRefusedError, rotate_master_key
    from ops.setup import SetupError, SetupInputError, discard_locked, run_setup
    from ops.vault import LockedCredentialsError, find_key_ring

    raw = config_values(environ)
    data_dir, key_file = data_and_key_paths(raw)
    master_key = raw.get("ML_CONNECTOR_MASTER_KEY", "")
    if args.rotate_key and args.reset:
        raise CommandError(messages.SETUP_RESET_WITH_ROTATE, ExitCode.USAGE)
    source = None if args.rotate_key else setup_source(args, environ)
    confirm = reset_confirmation(args, source)

    async def test(values: Mapping[str, str]) -> list[tuple[bool | None, str]]:
        try:
            settings = load_settings({**raw, **values})
        except SettingsError as exc:
            return [(False, str(exc))]
        return await _checks(settings)

    async def main() -> int:
        try:
            async with migrated_store(raw.get("DATABASE_URL"), data_dir) as store:
                if source is None:
                    await rotate_master_key(store, find_key_ring(master_key, key_file), key_file=key_file, say=print, now=utc_now)
                else:
                    if confirm is not None:
                        await discard_locked(store, find_key_ring(master_key, key_file), key_file=key_file, confirm=confirm, say=print)
                    await run_setup(store, master_key=master_key, key_file=key_file, source=source, say=print, test=test, now=utc_now)
        except (SetupInputError, LockedCredentialsError) as exc:
            raise CommandError(messages.SETUP_FAILED.format(error=exc), ExitCode.USAGE) from None
        except (SetupError, RotationRefusedError) as exc:
            raise CommandError(messages.SETUP_FAILED.format(error=exc)) from None
        return ExitCode.OK

    return asyncio.run(main())


def reset_confirmation(args: argparse.Namespace, source) -> Callable[[str], bool] | None:
    """How `setup --reset` is confirmed: by typing DISCARD on a terminal, or by --yes for a run from
    the environment or a file; None without --reset."""
    from ops.cli import CommandError, ExitCode
    from ops.setup import Interactive

    if not args.reset:
        if args.yes:
            raise CommandError(messages.SETUP_YES_WITHOUT_RESET, ExitCode.USAGE)
        return None
    if isinstance(source, Interactive):
        return lambda question: source.ask(question, False).strip() == "DISCARD"
    if not args.yes:
        raise CommandError(messages.SETUP_RESET_NEEDS_CONFIRMATION, ExitCode.USAGE)
    return lambda question: True


def setup_source(args: argparse.Namespace, environ: Mapping[str, str], *, stdin=None):
    """Where `setup` takes its values: --from-env, --from-file, else a terminal (refused without one)."""
    from ops.cli import CommandError, ExitCode
    from ops.setup import Given, Interactive, SetupInputError, read_values_file

    if args.from_env:
        return Given(config_values(environ), messages.SOURCE_ENVIRONMENT)
    if args.from_file:
        try:
            values = read_values_file(Path(args.from_file))
        except SetupInputError as exc:
            raise CommandError(str(exc), ExitCode.USAGE) from None
        return Given(values, messages.SOURCE_FILE.format(path=args.from_file), strict=True)
    if not (stdin or sys.stdin).isatty():
        raise CommandError(messages.SETUP_NEEDS_TERMINAL, ExitCode.USAGE)

    def ask(prompt: str, secret: bool) -> str:
        return getpass.getpass(prompt) if secret else input(prompt)

    return Interactive(ask)


def cmd_audit(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Export the audit trail."""
    from ops.audit_export import parse_range, to_csv, to_json
    from ops.cli import ExitCode

    since, until = parse_range(args.since, args.until)
    settings = load_runtime_settings(environ)

    async def main() -> list:
        async with migrated_store(settings.database_url.reveal(), settings.data_dir) as store:
            return await store.list_audit(since=since, until=until)

    entries = asyncio.run(main())
    sys.stdout.write(to_csv(entries) if args.format == "csv" else to_json(entries))
    return ExitCode.OK


def cmd_package(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """Write the Teams app package with the real bot id and the publisher's pages."""
    from ops.cli import CommandError, ExitCode
    from ops.package import PackageError, PackageSettingsError, Publisher, write_package

    settings = load_runtime_settings(environ)
    publisher = Publisher(settings.app_id, settings.teams_app_developer, settings.teams_app_website_url,
                          settings.teams_app_privacy_url, settings.teams_app_terms_url, settings.public_url,
                          tuple(company.web_url for company in settings.companies))
    try:
        path = write_package(publisher, output=Path(args.output) if args.output else None, rsc=args.rsc)
    except PackageSettingsError as exc:
        raise CommandError(str(exc), ExitCode.USAGE) from None
    except PackageError as exc:
        raise CommandError(str(exc)) from None
    print(messages.PACKAGE_WRITTEN.format(path=path))
    return ExitCode.OK


def cmd_routes(args: argparse.Namespace, environ: Mapping[str, str]) -> int:
    """List, add or remove routes without Teams; list the installed teams' channels."""
    from bot.teams.errors import ConnectorError
    from graph.errors import GraphError
    from ops.cli import CommandError, ExitCode
    from ops.routes_cli import add_route, list_channels, list_routes, remove_routes

    settings = load_runtime_settings(environ)

    async def main() -> int:
        try:
            async with migrated_store(settings.database_url.reveal(), settings.data_dir) as store:
                if args.action == "list":
                    print(await list_routes(store))
                elif args.action == "remove":
                    print(await remove_routes(store, args))
                else:
                    async with channel_catalog(settings, store) as catalog:
                        if args.action == "add":
                            print(await add_route(store, args, companies=[c.key for c in settings.companies], now=utc_now(),
                                                  catalog=catalog))
                        else:
                            print(await list_channels(store, catalog, team=args.team))
        except (ConnectorError, GraphError) as exc:
            raise CommandError(messages.ROUTES_CHANNELS_UNREADABLE.format(error=exc)) from None
        return ExitCode.OK

    return asyncio.run(main())


@contextlib.asynccontextmanager
async def channel_catalog(settings: Settings, store, *, http: aiohttp.ClientSession | None = None) -> AsyncIterator[object]:
    """A bot.teams.team_channels.ChannelCatalog over the bot's own credentials (and Graph when configured);
    `http` replaces the session it opens (tests)."""
    from bot.teams.connector import TeamsConnector, close_adapter
    from bot.teams.team_channels import ChannelCatalog
    from graph.client import GraphClient
    from graph.tokens import EntraTokenProvider, GraphCredentials

    session = http or aiohttp.ClientSession()
    adapter = open_adapter(settings, session)
    try:
        graph = None
        if settings.graph_enabled:
            tokens = EntraTokenProvider(GraphCredentials(settings.graph_tenant_id, settings.graph_client_id,
                                                         settings.graph_client_secret.reveal(), settings.graph_authority_host),
                                        http=session)
            graph = GraphClient(tokens, http=session, base_url=settings.graph_base_url)
        yield ChannelCatalog(store, TeamsConnector(adapter, app_id=settings.app_id), utc_now, graph=graph)
    finally:
        await close_adapter(adapter)
        if http is None:
            await session.close()


def _parse_day(text: str) -> datetime:
    from ops.cli import CommandError, ExitCode

    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), timezone.utc)
    except ValueError:
        raise CommandError(messages.POLL_BAD_DATE.format(text=text), ExitCode.USAGE) from None


# --- the parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """Every command and option (docs/architecture.md §6.1)."""
    parser = argparse.ArgumentParser(prog="python app.py", description="ml-connector: Sage Intacct AP changes as Teams cards.")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the bot, poller, notifier and schedules (default)")
    demo = sub.add_parser("demo", help="everything on the sandbox, with the Agents Playground")
    demo.add_argument("--activity", type=float, default=20.0, help="seconds between demo changes (default 20)")
    demo.add_argument("--playground-port", type=int, default=56150)
    demo.add_argument("--no-playground", action="store_true", help="do not start the Agents Playground")
    sandbox = sub.add_parser("sandbox", help="only the Intacct gateway emulator")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8090)
    sandbox.add_argument("--seed", choices=("demo", "empty"), default="demo")
    sandbox.add_argument("--activity", type=float, default=None, help="make a change every N seconds")
    sandbox.add_argument("--webhook-url", metavar="URL", help="POST here after every change, as Intacct's triggers do "
                                                             "(e.g. http://127.0.0.1:3978/api/intacct/events?company=DEMO-CO)")
    sandbox.add_argument("--webhook-secret", metavar="S", help="the secret those calls carry (the bot's INTACCT_EVENTS_SECRET)")
    poll = sub.add_parser("poll", help="one poll cycle for every company")
    poll.add_argument("--once", action="store_true", required=False)
    poll.add_argument("--dry-run", action="store_true", help="post nothing, commit nothing; print events and cards")
    poll.add_argument("--json", action="store_true", help="one JSON object per event on stdout")
    poll.add_argument("--backfill-since", metavar="DATE", help="first run: emit what changed since DATE instead of a silent baseline")
    sub.add_parser("check", help="ping every configured system")
    setup = sub.add_parser("setup", help="store credentials encrypted (asked on a terminal, or --from-env / --from-file)")
    setup_mode = setup.add_mutually_exclusive_group()
    setup_mode.add_argument("--from-env", action="store_true",
                            help="take the credentials from the environment (and .env) instead of asking")
    setup_mode.add_argument("--from-file", metavar="FILE", help="take the credentials from a file of KEY=value lines instead of asking")
    setup_mode.add_argument("--rotate-key", action="store_true",
                            help="the master key rotation's next step: add a new key first, then (run again once every "
                                 "instance holds it) re-encrypt and retire the old one")
    setup.add_argument("--reset", action="store_true",
                       help="discard the stored values the master key cannot open (confirmed), then store them anew")
    setup.add_argument("--yes", action="store_true", help="confirm --reset without a terminal (with --from-env or --from-file)")
    audit = sub.add_parser("audit", help="export the audit trail")
    audit.add_argument("--since", help="from this ISO date or date-time, e.g. 2026-11-01 or 2026-11-01T08:00 (UTC unless an offset is given)")
    audit.add_argument("--until", help="up to this ISO date or date-time (same forms as --since)")
    audit.add_argument("--format", choices=("csv", "json"), default="csv")
    package = sub.add_parser("package", help="write the Teams app package (appPackage/build/ml-connector.zip)")
    package.add_argument("--output", metavar="FILE", help="where to write the zip (default appPackage/build/ml-connector.zip)")
    package.add_argument("--rsc", action="store_true",
                         help="ask each team for the Graph permissions at install (resource-specific consent) instead of tenant-wide")
    routes = sub.add_parser("routes", help="manage routes without Teams")
    routes_sub = routes.add_subparsers(dest="action", required=True)
    routes_sub.add_parser("list")
    add = routes_sub.add_parser("add")
    add.add_argument("--channel", required=True, help="channel id (19:…@thread.tacv2), or the channel's “Get link to channel” link")
    add.add_argument("--kinds", required=True, help="comma list: bills,payments,vendors,digest,alerts or all")
    add.add_argument("--company", help="only this configured company's changes (default: every company)")
    add.add_argument("--team", help="the channel's team (its 19:… id or Graph id), when several teams are installed")
    add.add_argument("--name", help="channel display name")
    add.add_argument("--department")
    add.add_argument("--location")
    add.add_argument("--vendor")
    add.add_argument("--over", help="minimum amount")
    add.add_argument("--entity")
    remove = routes_sub.add_parser("remove")
    remove.add_argument("id", nargs="?", type=int, help="route id (see `routes list`)")
    remove.add_argument("--channel", help="remove every route of this channel")
    channels = routes_sub.add_parser("channels", help="the channels of the teams the bot is installed in, with their ids")
    channels.add_argument("--team", help="only this team (its 19:… id or Graph id)")
    return parser


COMMANDS = {
    "serve": cmd_serve,
    "demo": cmd_demo,
    "sandbox": cmd_sandbox,
    "poll": cmd_poll,
    "check": cmd_check,
    "setup": cmd_setup,
    "audit": cmd_audit,
    "package": cmd_package,
    "routes": cmd_routes,
}


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Parse the command line and run one command; its exit code follows ops/cli.py's ExitCode."""
    from ops.cli import ExitCode, explain_failure

    args = build_parser().parse_args(argv)  # a usage error exits with 2 here, argparse's own convention
    try:
        return int(COMMANDS[args.command or "serve"](args, os.environ if environ is None else environ))
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except Exception as exc:  # noqa: BLE001 - no traceback reaches a person: one line and the exit code
        text, code = explain_failure(exc)
        print(f"ml-connector: {text}", file=sys.stderr)
        return int(code)


if __name__ == "__main__":
    sys.exit(main())
