"""Inputs of the cards that are not Intacct records: status, subscriptions, alerts, help (frozen values).

The bot fills these from the store, the scheduler and Graph; the cards package never imports
those packages (import direction), so the shapes are its own.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from poller.events import AlertKind

__all__ = [
    "AlertKind",
    "AlertView",
    "CommandHelp",
    "CompanyStatus",
    "DEFAULT_HELP",
    "GraphState",
    "GraphStatus",
    "HelpView",
    "RouteView",
    "ScheduleView",
    "StatusView",
    "SubscriptionsView",
]


@dataclass(frozen=True, slots=True)
class ScheduleView:
    """A schedule as people read it: how often, which days, which hours, in which zone.

    `every_seconds` for repeating runs (with `start`/`end` minutes of the day bounding them), or
    `at_minutes` (minutes of the day) for runs at set times; `weekdays` 0 = Monday. `expression`
    is the configured text, shown as is when the shape is too unusual for words (`words=False`).
    """

    expression: str
    timezone: str
    words: bool = True
    every_seconds: int | None = None
    at_minutes: tuple[int, ...] = ()
    start_minute: int | None = None
    end_minute: int | None = None
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)


@dataclass(frozen=True, slots=True)
class CompanyStatus:
    """One company's polling health, as `status` shows it."""

    company: str
    name: str | None = None
    schedule: ScheduleView | None = None
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    next_poll_at: datetime | None = None
    last_error: str | None = None  # already free of secrets (the client redacts)
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    functions_last_cycle: int = 0
    monthly_transactions_estimate: int | None = None  # API transactions a month at this schedule
    outbox_depth: int | None = None  # this company's undelivered posts, when known
    wakeups: tuple[str, ...] = ()  # Intacct wake-up kinds it takes ("platform_trigger", "smart_event"); empty: off
    last_wakeup_at: datetime | None = None  # when the last authentic wake-up arrived (any instance)
    people_functions_today: int = 0  # Intacct functions people's reads used today (UTC): commands, links, searches, refreshes
    people_functions_month: int = 0  # … and this calendar month (UTC)


class GraphState(enum.Enum):
    """How the Microsoft Graph side is doing."""

    OK = "ok"
    NOT_CONFIGURED = "not configured"
    FAILING = "failing"


@dataclass(frozen=True, slots=True)
class GraphStatus:
    """Graph token and channel-subscription health."""

    state: GraphState
    subscriptions: int = 0
    next_renewal_at: datetime | None = None
    detail: str | None = None  # e.g. the last Graph error code and message


@dataclass(frozen=True, slots=True)
class RouteView:
    """One route (a channel's subscription) as the subscriptions and status cards show it."""

    route_id: int
    conversation_id: str
    event_kinds: tuple[str, ...]
    channel_name: str | None = None
    company: str | None = None  # None = every configured company
    company_name: str | None = None  # the company's name in Intacct, when known
    department: str | None = None
    location: str | None = None
    vendor: str | None = None
    min_amount: Decimal | None = None
    entity: str | None = None
    active: bool = True
    inactive_reason: str | None = None  # e.g. "channel deleted", "bot removed from team (403)"


@dataclass(frozen=True, slots=True)
class StatusView:
    """Everything the `status` card shows."""

    now: datetime
    companies: tuple[CompanyStatus, ...]
    outbox_depth: int
    graph: GraphStatus
    inactive_routes: tuple[RouteView, ...] = ()
    version: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionsView:
    """The routes of one channel or team, for the `subscriptions` card."""

    routes: tuple[RouteView, ...]
    scope: str | None = None  # e.g. "this channel", or a team name


@dataclass(frozen=True, slots=True)
class AlertView:
    """Something operators must know; built from a poller AlertRaised event or by the bot."""

    kind: AlertKind
    company: str | None
    at: datetime
    summary: str  # one line, free of secrets
    detail: str | None = None  # e.g. Intacct's errorno, description and description2
    fix: str | None = None  # e.g. Intacct's <correction>, or what to do
    subject: str | None = None  # e.g. the gone channel's conversation id
    channel_name: str | None = None
    consecutive_failures: int = 0
    failing_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class CommandHelp:
    """One chat command: how to type it and what it does."""

    syntax: str
    description: str


@dataclass(frozen=True, slots=True)
class HelpView:
    """The commands to list and the words around them; the bot owns these texts (bot/messages.py)
    and passes them in, DEFAULT_HELP is only a sensible default."""

    commands: tuple[CommandHelp, ...]
    title: str = "What I can do"
    intro: str | None = None
    notice: str | None = None  # shown first, as a warning: e.g. "I didn't understand “shwo bills”."
    examples: tuple[str, ...] = field(default=())
    notes: tuple[str, ...] = field(default=())  # shown last, e.g. how amounts may be written


DEFAULT_HELP = HelpView(
    commands=(
        CommandHelp(
            "show pending bills [vendor X] [over N] [department D]",
            "Bills waiting for approval, soonest due first.",
        ),
        CommandHelp("show bill <number>", "One bill with its lines."),
        CommandHelp("show vendor <name or id>", "A vendor's status and terms."),
        CommandHelp("show payments [pending]", "Payment requests; pending: those waiting for approval."),
        CommandHelp("due this week", "Open bills due from today to Sunday."),
        CommandHelp(
            "subscribe bills|payments|vendors|digest [department D] [location L] [vendor V] [over N]",
            "Post these changes in this channel.",
        ),
        CommandHelp("unsubscribe [bills|payments|vendors|digest]", "Stop posting them here."),
        CommandHelp("subscriptions", "What this channel receives."),
        CommandHelp("status", "Polling health, quota use and delivery backlog."),
        CommandHelp("help", "This list."),
    ),
    intro="Mention me with one of these commands. Approvals happen in Sage Intacct; I never change anything there.",
    examples=("show pending bills over 5000", "subscribe bills department D100"),
)
