"""What the Teams side needs at run time, built once by app.py and handed to the bot's parts.

No botbuilder here: the handler, the command service, the notifier and the HTTP routes all take
a `BotContext` (plus, where they send, a `TeamsConnector`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
import logging
from datetime import datetime
from typing import Callable, Mapping, Protocol

from bot.live_reads import DEFAULT_PER_MINUTE, LiveReads
from bot.pacing import ConversationPacer
from bot.tenant_gate import TenantGate
from bot.refusals import RefusalLog
from cards.links import IntacctLinks
from cards.views import StatusView
from intacct.client import IntacctClient
from intacct.company import UTC_ZONE, TeamZone
from intacct.errors import IntacctError
from observability.metrics import Metrics
from store.api import Store

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class CompanyContext:
    """One polled company as the bot sees it: its client (shared with its poller: one request in
    flight per company), its deep links, and the AP team's time zone (`timezone`: an IANA zone
    configured for this company, else None for the Intacct user's own zone)."""

    key: str
    client: IntacctClient
    links: IntacctLinks
    timezone: str | None = None
    _known: dict[str, str] = field(default_factory=dict, repr=False, compare=False)

    async def zone(self, *, ask: bool = True) -> TeamZone:
        """The AP team's zone, the one every card of this company shows dates and times in.

        Without `ask`, no request goes to Intacct: the Intacct user's zone as far as the client
        already knows it (the poller reads it at its first poll), else UTC, which the card names.
        """
        if self.timezone:
            return TeamZone.from_name(self.timezone)
        if ask:
            return TeamZone.from_offset((await self.client.time_zone()).utcoffset(None))
        known = self.client.known_time_zone
        return UTC_ZONE if known is None else TeamZone.from_offset(known.utcoffset(None))

    async def name(self) -> str | None:
        """The company's name in Intacct (read once; None when the company's `lookup` offers none,
        and while Intacct cannot say, in which case it is asked again next time)."""
        if "name" not in self._known:
            try:
                self._known["name"] = await self.client.fetch_company_name() or ""
            except IntacctError as error:
                log.info("company %s: its name could not be read from Intacct (%s); cards show its key", self.key, error)
                return None
        return self._known["name"] or None

    async def known_name(self) -> str | None:
        """The company's name if already read, without a request."""
        return self._known.get("name") or None


@dataclass(frozen=True)
class BotPolicy:
    """Who may talk to the bot and change routing (ALLOWED_TENANT_IDS, ROUTE_ADMINS), as settings.py
    resolved them. The defaults admit nobody and leave routing to team owners: a context built
    without a policy is closed, not open."""

    app_id: str = ""
    allowed_tenant_ids: frozenset[str] = frozenset()  # "*" = any tenant (bot.tenant_gate.ANY_TENANT)
    route_admins: tuple[str, ...] = ("team-owners",)  # "anyone"; "team-owners"; AAD object ids; "group:<id>"
    max_request_bytes: int = 256 * 1024
    live_reads_per_minute: int = DEFAULT_PER_MINUTE  # LIVE_READS_PER_MINUTE: people's Intacct reads per company


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
    live_reads: LiveReads = field(init=False)  # people's reads of Intacct: shared, paced, counted

    def __post_init__(self) -> None:
        self.tenant_gate = TenantGate(self.policy.allowed_tenant_ids, self.metrics)
        self.refusals = RefusalLog(self.clock)
        self.live_reads = LiveReads(self.store, self.clock, self.metrics, per_minute=self.policy.live_reads_per_minute)

    def notify_routes_changed(self) -> None:
        """Tell whoever follows routes (Graph subscriptions) that they changed."""
        if self.routes_changed is not None:
            self.routes_changed()

    def company(self, key: str | None = None) -> CompanyContext | None:
        """A company by key, or the only one when there is exactly one."""
        if key is not None:
            return self.companies.get(key)
        return next(iter(self.companies.values())) if len(self.companies) == 1 else None
