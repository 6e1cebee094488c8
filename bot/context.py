"""What the Teams side needs at run time, built once by app.py and handed to the bot's parts.

No botbuilder here: the handler, the command service, the notifier and the HTTP routes all take
a `BotContext` (plus, where they send, a `TeamsConnector`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable, Mapping, Protocol
from zoneinfo import ZoneInfo

from bot.pacing import ConversationPacer
from bot.tenant_gate import TenantGate
from bot.refusals import RefusalLog
from cards.links import IntacctLinks
from cards.views import StatusView
from intacct.client import IntacctClient
from observability.metrics import Metrics
from store.api import Store

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class CompanyContext:
    """One polled company as the bot sees it: its client (shared with its poller: one request in
    flight per company), its deep links, and the time zone of its AP calendar."""

    key: str
    client: IntacctClient
    links: IntacctLinks
    timezone: str = "UTC"

    def today(self, now: datetime) -> date:
        """The company's local date (for "overdue by N days", "due this week")."""
        return now.astimezone(ZoneInfo(self.timezone)).date()


@dataclass(frozen=True)
class BotPolicy:
    """Who may talk to the bot and change routing (ALLOWED_TENANT_IDS, ROUTE_ADMINS), as settings.py
    resolved them. The defaults admit nobody and leave routing to team owners: a context built
    without a policy is closed, not open."""

    app_id: str = ""
    allowed_tenant_ids: frozenset[str] = frozenset()  # "*" = any tenant (bot.tenant_gate.ANY_TENANT)
    route_admins: tuple[str, ...] = ("team-owners",)  # "anyone"; "team-owners"; AAD object ids; "group:<id>"
    max_request_bytes: int = 256 * 1024


class StatusSource(Protocol):
    """Builds the `status` view (poll health, next polls, outbox, Graph), shared by the `status`
    command and /readyz."""

    async def status_view(self) -> StatusView:
        """The current status."""


@dataclass
class BotContext:
    """Everything the bot's parts share."""

    store: Store
    companies: Mapping[str, CompanyContext]
    clock: Clock
    metrics: Metrics = field(default_factory=Metrics)
    policy: BotPolicy = field(default_factory=BotPolicy)
    status: StatusSource | None = None
    channel_names: object | None = None  # graph.channels.ChannelDirectory when Graph is configured
    graph_members: object | None = None  # graph.client.GraphClient for ROUTE_ADMINS checks, when configured
    routes_changed: Callable[[], None] | None = None  # e.g. the Graph bridge's request_sync
    pacer: ConversationPacer | None = None  # the notifier's: chat replies count in the same per-channel budget
    tenant_gate: TenantGate = field(init=False)  # ALLOWED_TENANT_IDS on every inbound surface
    refusals: RefusalLog = field(init=False)  # every inbound route logs its refused requests here

    def __post_init__(self) -> None:
        self.tenant_gate = TenantGate(self.policy.allowed_tenant_ids, self.metrics)
        self.refusals = RefusalLog(self.clock)

    def notify_routes_changed(self) -> None:
        """Tell whoever follows routes (Graph subscriptions) that they changed."""
        if self.routes_changed is not None:
            self.routes_changed()

    def company(self, key: str | None = None) -> CompanyContext | None:
        """A company by key, or the only one when there is exactly one."""
        if key is not None:
            return self.companies.get(key)
        return next(iter(self.companies.values())) if len(self.companies) == 1 else None
