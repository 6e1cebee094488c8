"""The notifier's test world: a real SQLite store, the fake Bot Connector over HTTP, the real
CloudAdapter (anonymous) + TeamsConnector, and channels installed and subscribed the way the
handler does it; rows are written through fan_out + commit_cycle, as the poller writes them."""

from __future__ import annotations

import asyncio
import copy
import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

from bot.teams.connector import TeamsConnector, channel_reference
from bot.context import BotContext, CompanyContext
from bot.delivery.notifier import Notifier
from bot.pacing import ConversationPacer
from cards.links import IntacctLinks
from intacct.bills import Bill, BillLine
from intacct.client import IntacctClient
from intacct.credentials import IntacctCredentials
from intacct.vendors import Vendor
from observability.metrics import Metrics
from poller.codec import event_from_payload
from poller.events import AlertRaised, BillCreated, BillStateChanged, Event, VendorStatusChanged
from poller.routing import fan_out
from store.sql import SqlStore
from store.types import AuditEntry, ConversationRecord, OutboxItem, RouteFilter
from tests.conftest import FIXTURES
from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.clock import FakeClock

COMPANY = "DEMO-CO"
TENANT = "50612dbb-0237-4969-b378-8d42590f9c00"
AP_TEAM = "19:ap-team@thread.tacv2"  # a team's id is also its General channel's id
AP = "19:ap-bills@thread.tacv2"
AP2 = "19:ap-payments@thread.tacv2"
OPS_TEAM = "19:ops-team@thread.tacv2"
OPS = "19:ops-alerts@thread.tacv2"
BILL_KINDS = frozenset({"bills", "payments", "vendors", "digest"})


def bill(record_no: int, state: str = "Submitted", *, lines: int = 2, modified: datetime | None = None, **fields: Any) -> Bill:
    """A bill as the poller hands it over (lines named)."""
    values: dict[str, Any] = dict(
        record_no=record_no,
        bill_number=f"INV-{record_no}",
        vendor_id="V-100",
        vendor_name="Acme Office Supply",
        state=state,
        total_entered=Decimal("1250.00"),
        total_due=Decimal("1250.00"),
        currency="USD",
        due_date=datetime(2026, 12, 7).date(),
        when_modified=modified,
        lines=tuple(
            BillLine(record_no=9000 + n, line_no=n, amount=Decimal("10.00"), gl_account_no="6100",
                     gl_account_title="Office Furniture", memo=f"line {n} " + "desk chair " * 8,
                     department_id="D100", department_name="Operations")
            for n in range(1, lines + 1)
        ),
    )  # fmt: skip
    values.update(fields)
    return Bill(**values)


def vendor(record_no: int = 77) -> Vendor:
    """A vendor for VendorStatusChanged (a card that is never updated in place)."""
    return Vendor(record_no=record_no, vendor_id="V-100", name="Acme Office Supply", status="active", on_hold=True)


def created(record_no: int, **fields: Any) -> BillCreated:
    """A new bill event."""
    return BillCreated(COMPANY, bill(record_no, **fields))


def changed(record_no: int, old: str, new: str, *, at: datetime, **fields: Any) -> BillStateChanged:
    """A bill state change (same old/new: a details-only change)."""
    return BillStateChanged(COMPANY, bill(record_no, new, modified=at, **fields), old, new)


def vendor_held(at: datetime) -> VendorStatusChanged:
    """A vendor put on hold."""
    return VendorStatusChanged(COMPANY, replace(vendor(), when_modified=at), "active", "active", False, True)


class GatedSleep:
    """A sleep that never ends by itself (only a wake-up, a stop or a cancel ends the wait); each
    call is recorded and signalled, so a test knows when the code under test is waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.entered = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.entered.set()
        await asyncio.get_running_loop().create_future()

    async def next_wait(self) -> None:
        """Until the code under test starts its next wait (a guard, not a sleep: 5 s = a hang)."""
        await asyncio.wait_for(self.entered.wait(), 5)
        self.entered.clear()


@dataclass
class World:
    """Everything a notifier test touches; see the module docstring."""

    clock: FakeClock
    store: SqlStore
    fake: FakeBotConnector
    teams: TeamsConnector
    context: BotContext
    pacer: ConversationPacer
    teams_installed: set[str] = field(default_factory=set)

    def notifier(self, holder: str = "notifier-a", *, pacer: ConversationPacer | None = None, **options: Any) -> Notifier:
        """A notifier on this world (the world's pacer, FakeClock sleep, jitter fixed at 0.5)."""
        options.setdefault("sleep", self.clock.sleep)
        options.setdefault("jitter", lambda: 0.5)
        return Notifier(self.context, self.teams, pacer or self.pacer, holder=holder, **options)

    async def install(self, channel_id: str, team_id: str, *, name: str) -> ConversationRecord:
        """The bot is in the team, and the handler stored the channel's reference (from a real
        Teams activity of that channel, re-pointed at the fake)."""
        if team_id not in self.teams_installed:
            self.fake.add_team(team_id, name="Team", channels={channel_id: name}, tenant_id=TENANT)
            self.teams_installed.add(team_id)
        else:
            self.fake.add_channel(team_id, channel_id, name)
        activity = json.loads((FIXTURES / "teams-samples/bot-framework/message-channel-mention.json").read_text("utf-8"))
        activity = copy.deepcopy(activity)
        activity["serviceUrl"] = self.fake.service_url
        activity["conversation"]["id"] = f"{channel_id};messageid=1759881511856"
        activity["channelData"].update(teamsChannelId=channel_id, teamsTeamId=team_id, channel={"id": channel_id}, team={"id": team_id})
        record = ConversationRecord(
            conversation_id=channel_id,
            reference=channel_reference(activity),
            scope="channel",
            team_id=team_id,
            channel_id=channel_id,
            tenant_id=TENANT,
            service_url=self.fake.service_url,
            updated_at=self.clock(),
        )
        await self.store.save_conversation(record)
        return record

    async def subscribe(self, channel_id: str, kinds: frozenset[str] = BILL_KINDS, *, name: str | None = None) -> None:
        """`@bot subscribe …` in that channel."""
        await self.store.add_route(channel_id, kinds, filter=RouteFilter(), company=None, team_id=None, tenant_id=TENANT,
                                   channel_name=name, created_by=None, now=self.clock())

    async def queue(self, *events: Event) -> int:
        """Fan the events out over the active routes and commit them as a poll cycle does."""
        routes = await self.store.list_routes(active_only=True)
        items = fan_out(list(events), routes, now=self.clock(), max_per_channel=50)
        return await self.store.commit_cycle(COMPANY, watermarks={}, snapshots={}, outbox=items, now=self.clock())

    async def rows(self, status: str | None = None) -> list[OutboxItem]:
        """Outbox rows, oldest first."""
        return await self.store.outbox_items(status=status)

    async def audit(self) -> list[AuditEntry]:
        """The audit trail."""
        return await self.store.list_audit()

    async def alerts(self, conversation_id: str = OPS) -> list[AlertRaised]:
        """Alerts queued (whatever their state) for a channel."""
        return [e for e in (event_from_payload(dict(i.payload)) for i in await self.rows() if i.conversation_id == conversation_id)
                if isinstance(e, AlertRaised)]

    def posts(self, channel_id: str) -> list:
        """Top-level posts in a channel of the fake Teams."""
        return self.fake.posts_in(channel_id)

    def ops(self, operation: str, channel_id: str | None = None) -> list:
        """Calls of one operation the fake answered (optionally in one channel and its threads)."""
        return [c for c in self.fake.calls_of(operation)
                if channel_id is None or (c.conversation_id or "").partition(";")[0] == channel_id]

    def advance_past(self, moment: datetime) -> None:
        """Move the clock just past `moment`."""
        if moment >= self.clock():
            self.clock.set(moment + timedelta(milliseconds=1))


async def make_world(clock: FakeClock, tmp_path: Path, *, enforce_rate_limits: bool = False, **fake_options: Any):
    """Build a World; an async generator for fixtures (closes everything after the test)."""
    from bot.teams.connector import close_adapter, create_adapter
    from store.sql import open_store

    store = open_store(None, data_dir=tmp_path)
    await store.migrate()
    http = aiohttp.ClientSession()
    adapter = create_adapter("", "", "MultiTenant", "")
    try:
        async with FakeBotConnector(clock=clock, tenant_id=TENANT, enforce_rate_limits=enforce_rate_limits, **fake_options) as fake:
            client = IntacctClient(IntacctCredentials("mlc-sandbox", "sandbox-secret", COMPANY, "ap-admin", "demo-pass"), http=http, clock=clock)
            company = CompanyContext(COMPANY, client, IntacctLinks("https://www.intacct.com", COMPANY), timezone="America/Los_Angeles")
            context = BotContext(store=store, companies={COMPANY: company}, clock=clock, metrics=Metrics())
            teams = TeamsConnector(adapter, app_id="", clock=clock)
            yield World(clock, store, fake, teams, context, ConversationPacer(clock, clock.sleep))
    finally:
        await close_adapter(adapter)
        await http.close()
        await store.close()


async def ap_and_ops_world(clock: FakeClock, tmp_path: Path):
    """`make_world` with the AP channel subscribed to bills and the operators' channel to alerts
    (the notifier tests' usual fixture: `world = pytest.fixture(ap_and_ops_world, name="world")`)."""
    async for built in make_world(clock, tmp_path):
        await built.install(AP, AP_TEAM, name="AP bills")
        await built.install(OPS, OPS_TEAM, name="Ops")
        await built.subscribe(AP, name="AP bills")
        await built.subscribe(OPS, frozenset({"alerts"}), name="Ops")
        yield built
