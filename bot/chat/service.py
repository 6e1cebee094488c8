"""CommandService: runs one parsed chat command and returns what to reply (cards and texts).

Decisions, so the handler only translates:

- Several companies: a read-only command asks every configured company at once, each under its
  own deadline, and answers with one card per company (configuration order) titled with the
  company key (one company: no key in titles). A company that fails or is slow gets a text naming
  it while the others still answer. `show bill` / `show vendor` answer only from the companies
  where something matched. Routes are company-independent (company None = every company).
- Deadline: Intacct and Graph work runs under a deadline (default 10 s), so the reply, sent
  afterwards, stays inside Teams' 15 s budget whatever they do; past it the work is cancelled and
  the person reads a polite "try again". The wait uses the injected `sleep`.
- Failures become texts naming the problem (Intacct's errorno and description, Graph's error,
  the database): never a stack trace, never a secret (the clients' messages carry none).
  Anything unexpected propagates to the handler's on_turn_error.
- Routing commands (subscribe, unsubscribe) work in team channels only and need RouteAdmins'
  yes; `subscriptions` and `status` are read-only and open to everyone in an allowed tenant.
- Values people typed are echoed only through `cards.sanitize.clean_text` (no mention, link or
  markup can form); cards sanitise their own fields.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Awaitable, Callable, Iterable, Protocol, Sequence, TypeVar, cast

from bot import messages
from bot.chat.admins import GraphMembership, RouteAdmins
from bot.chat.commands import (
    COMMANDS,
    Command,
    DueThisWeek,
    InvalidCommand,
    ListSubscriptions,
    ShowBill,
    ShowHelp,
    ShowPayments,
    ShowPendingBills,
    ShowStatus,
    ShowVendor,
    Subscribe,
    Unknown,
    Unsubscribe,
)
from bot.context import BotContext, CompanyContext
from bot.live_reads import LiveReadsBusyError
from bot.origin import Origin
from bot.chat.record_cards import RecordCards
from bot.chat.status import KIND_ORDER, company_status, peoples_reads, route_view
from bot.waiting import DeadlinePassedError, Sleep, within_deadline
from cards import texts as card_texts
from cards.bills import build_bill_list_card
from cards.elements import Card
from cards.format import day, money
from cards.help import build_help_card, build_welcome_card
from cards.payments import build_payments_list_card
from cards.sanitize import DESCRIPTION_LIMIT, NAME_LIMIT, clean_text
from cards.status import build_status_card, build_subscriptions_card
from cards.views import (
    CommandHelp,
    GraphState,
    GraphStatus,
    HelpView,
    StatusView,
    SubscriptionsView,
)
from intacct import figures
from intacct.client import BillPage
from intacct.company import UTC_ZONE, TeamZone
from intacct.errors import AuthenticationError, IntacctError, IntacctResponseError, IntacctTransportError
from store.api import StoreError
from store.types import RouteFilter

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_TIMEOUT_SECONDS = 10.0  # + sending the reply, well inside Teams' 15 s
DEFAULT_MAX_ITEMS = 10  # bills or payments on a list card
# readByQuery cannot sort: read this many matches (still ONE function, one billed transaction, up
# to 1,000), sort them here, and show the first `max_items`, so "soonest due first" is true and
# the list's total covers the whole result (beyond 1,000 matches the card says whose amounts).
DEFAULT_FETCH_LIMIT = 1000
MAX_VENDOR_CHOICES = 5


OK = "ok"
HELP = "help"
UNKNOWN = "unknown"
INVALID = "invalid"
REFUSED = "refused"
NOT_FOUND = "not_found"
TIMEOUT = "timeout"
INTACCT_ERROR = "intacct_error"
STORE_ERROR = "store_error"
NO_COMPANY = "no_company"

_COMMAND_NAMES: dict[type, str] = {
    ShowPendingBills: "show_pending_bills",
    ShowBill: "show_bill",
    ShowVendor: "show_vendor",
    ShowPayments: "show_payments",
    DueThisWeek: "due_this_week",
    ShowStatus: "status",
    ShowHelp: "help",
    Subscribe: "subscribe",
    Unsubscribe: "unsubscribe",
    ListSubscriptions: "subscriptions",
    Unknown: "unknown",
    InvalidCommand: "invalid",
}


@dataclass(frozen=True, slots=True)
class ReplyMessage:
    """One message to send back: a card, a text, or a text shown above a card."""

    card: Card | None = None
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """What to answer a command with, and how it went (`outcome`, for metrics, logs and tests)."""

    messages: tuple[ReplyMessage, ...]
    outcome: str


class ChannelLabels(Protocol):
    """The part of graph.channels.ChannelDirectory the service uses."""

    async def label(self, team_id: str | None, channel_id: str) -> str:
        """A channel's display name (its id when no name is known)."""


def command_name(command: Command) -> str:
    """The metrics label of a command (`show_pending_bills`, `subscribe`, …)."""
    return _COMMAND_NAMES.get(type(command), "unknown")


def help_view(notice: str | None = None) -> HelpView:
    """The help card's content: every command of the catalogue, with our texts around it."""
    return HelpView(
        commands=tuple(CommandHelp(spec.syntax, spec.description) for spec in COMMANDS),
        title=messages.HELP_TITLE,
        intro=messages.HELP_INTRO,
        notice=notice,
        examples=messages.HELP_EXAMPLES,
        notes=(messages.HELP_AMOUNTS,),
    )


def welcome_card(team_name: str | None = None) -> Card:
    """The card posted once when the bot is installed."""
    return build_welcome_card(help_view(), team_name=team_name)


class CommandService:
    """Runs chat commands against Intacct, the store and Graph; see the module docstring."""

    def __init__(
        self,
        context: BotContext,
        *,
        admins: RouteAdmins | None = None,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        sleep: Sleep = asyncio.sleep,
        max_items: int = DEFAULT_MAX_ITEMS,
        fetch_limit: int = DEFAULT_FETCH_LIMIT,
    ) -> None:
        if timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        if not 1 <= max_items <= fetch_limit:
            raise ValueError("need 1 <= max_items <= fetch_limit")
        self._context = context
        graph = cast("GraphMembership | None", context.graph_members)
        self._admins = admins or RouteAdmins(context.policy.route_admins, graph)
        self._timeout = timeout_seconds
        self._sleep = sleep
        self._max_items = max_items
        self._fetch_limit = fetch_limit
        self._cards = RecordCards(context, fetch_limit=fetch_limit, max_items=max_items)

    async def run(self, command: Command, origin: Origin) -> Reply:
        """The reply to one command sent from `origin` (never raises for Intacct, Graph or store
        trouble, nor for a deadline; see the module docstring)."""
        name = command_name(command)
        started = time.perf_counter()
        reply = await self._dispatch(command, origin)
        self._context.metrics.commands.labels(command=name).inc()
        log.debug("command %s → %s in %.0f ms", name, reply.outcome, (time.perf_counter() - started) * 1000)
        return reply

    async def _dispatch(self, command: Command, origin: Origin) -> Reply:
        if isinstance(command, ShowPendingBills):
            return await self._pending_bills(command)
        if isinstance(command, DueThisWeek):
            return await self._due_this_week()
        if isinstance(command, ShowBill):
            return await self._bill(command, origin)
        if isinstance(command, ShowVendor):
            return await self._vendor(command, origin)
        if isinstance(command, ShowPayments):
            return await self._payments(command)
        if isinstance(command, ShowStatus):
            return await self._status(origin)
        if isinstance(command, ListSubscriptions):
            return await self._guarded(self._subscriptions(origin))
        if isinstance(command, Subscribe):
            return await self._guarded(self._subscribe(command, origin))
        if isinstance(command, Unsubscribe):
            return await self._guarded(self._unsubscribe(command, origin))
        if isinstance(command, InvalidCommand):
            return Reply((ReplyMessage(card=build_help_card(help_view(command.message))),), INVALID)
        if isinstance(command, Unknown):
            notice = messages.PARSE_UNKNOWN.format(text=messages.quote_value(command.text))
            return Reply((ReplyMessage(card=build_help_card(help_view(notice))),), UNKNOWN)
        return Reply((ReplyMessage(card=build_help_card(help_view())),), HELP)

    # --- Intacct reads --------------------------------------------------------------------------
    async def _pending_bills(self, command: ShowPendingBills) -> Reply:
        filters = describe_filters(vendor=command.vendor, min_amount=command.min_amount, department=command.department)

        async def one(company: CompanyContext) -> ReplyMessage:
            today = (await company.zone()).today(self._context.clock())
            page = await company.client.query_bills(
                **figures.PENDING_APPROVAL.query(today),
                vendor=command.vendor,
                min_amount=command.min_amount,
                department=command.department,
                limit=self._fetch_limit,
            )
            return self._bill_list(company, page, today, card_texts.PENDING_BILLS, filters)

        return await self._each_company(one)

    async def _due_this_week(self) -> Reply:
        async def one(company: CompanyContext) -> ReplyMessage:
            today = (await company.zone()).today(self._context.clock())
            sunday = figures.week_end(today)
            page = await company.client.query_bills(**figures.DUE_THIS_WEEK.query(today), limit=self._fetch_limit)
            if not page.bills:
                return ReplyMessage(text=self._for(company, messages.ANSWER_NOTHING_DUE.format(start=day(today), end=day(sunday))))
            range_text = messages.ANSWER_DUE_RANGE.format(start=day(today), end=day(sunday))
            return self._bill_list(company, page, today, card_texts.DUE_THIS_WEEK, range_text)

        return await self._each_company(one)

    def _bill_list(self, company: CompanyContext, page: BillPage, today: date, title: str, filters: str | None) -> ReplyMessage:
        """A list card of a page of bills; every list counts the same figure (amount due)."""
        card = build_bill_list_card(
            page.bills,
            links=company.links,
            today=today,
            title=self._title(title, company),
            tally=figures.tally(page.bills, figures.amount_due, count=page.total),
            filters=filters,
            max_items=self._max_items,
        )
        return ReplyMessage(card=card)

    async def _bill(self, command: ShowBill, origin: Origin) -> Reply:
        async def one(company: CompanyContext) -> ReplyMessage | None:
            bill = await company.client.find_bill(command.ref)
            if bill is None:
                return None
            card = await self._cards.card(company, bill, user_ids=origin.auto_refresh_users, source="command")
            return ReplyMessage(card=card, text=self._company_label(company))

        not_found = messages.ANSWER_BILL_NOT_FOUND.format(ref=shown(command.ref))
        return await self._each_company(one, not_found=not_found)

    async def _vendor(self, command: ShowVendor, origin: Origin) -> Reply:
        wanted = command.text.strip().casefold()

        async def one(company: CompanyContext) -> ReplyMessage | None:
            vendors = await company.client.find_vendors(command.text, limit=MAX_VENDOR_CHOICES)
            if not vendors and command.text != command.text.upper():
                # Intacct compares ids case-sensitively and ids are usually upper case: people
                # type "v1005" for V1005. One more read, only when nothing matched as typed.
                vendors = await company.client.find_vendors(command.text.upper(), limit=MAX_VENDOR_CHOICES)
            if not vendors:
                return None
            exact = [v for v in vendors if wanted in (v.vendor_id.casefold(), v.name.casefold())]
            if len(vendors) > 1 and len(exact) != 1:
                choices = messages.ANSWER_CHOICE_JOINER.join(
                    messages.ANSWER_VENDOR_CHOICE.format(name=clean_text(v.name, NAME_LIMIT), vendor_id=clean_text(v.vendor_id, NAME_LIMIT))
                    for v in vendors
                )
                text = messages.ANSWER_VENDOR_CHOICES.format(
                    text=shown(command.text), choices=choices, example=clean_text(vendors[0].vendor_id, NAME_LIMIT)
                )
                return ReplyMessage(text=self._for(company, text))
            vendor = exact[0] if exact else vendors[0]
            card = await self._cards.card(company, vendor, user_ids=origin.auto_refresh_users, source="command")
            return ReplyMessage(card=card, text=self._company_label(company))

        not_found = messages.ANSWER_VENDOR_NOT_FOUND.format(text=shown(command.text))
        return await self._each_company(one, not_found=not_found)

    async def _payments(self, command: ShowPayments) -> Reply:
        title = card_texts.PENDING_PAYMENTS if command.pending_only else card_texts.PAYMENTS

        async def one(company: CompanyContext) -> ReplyMessage:
            states = figures.PAYMENTS_PENDING_APPROVAL.query() if command.pending_only else {}
            page = await company.client.query_payments(**states, limit=self._fetch_limit)
            card = build_payments_list_card(
                page.payments,
                links=company.links,
                today=(await company.zone()).today(self._context.clock()),
                title=self._title(title, company),
                tally=figures.tally(page.payments, figures.payment_amount, count=page.total),
                max_items=self._max_items,
            )
            return ReplyMessage(card=card)

        return await self._each_company(one)

    async def _each_company(
        self, ask: Callable[[CompanyContext], Awaitable[ReplyMessage | None]], *, not_found: str | None = None
    ) -> Reply:
        """Ask every company at once, each under the deadline; one message per company that
        answered something, one text per company that failed, `not_found` when none matched."""
        companies = list(self._context.companies.values())
        if not companies:
            return Reply((ReplyMessage(text=messages.ANSWER_NO_COMPANY),), NO_COMPANY)
        results = await asyncio.gather(*(self._ask(company, ask) for company in companies))
        outcomes = [outcome for _, outcome in results]
        answers = [answer for answer, _ in results if answer is not None]  # in configuration order
        if OK not in outcomes and NOT_FOUND in outcomes and not_found is not None:
            answers.insert(0, ReplyMessage(text=not_found))  # before the companies that could not say
        failures = [outcome for outcome in outcomes if outcome not in (OK, NOT_FOUND)]
        outcome = failures[0] if failures else (OK if OK in outcomes else NOT_FOUND)
        return Reply(tuple(answers), outcome)

    async def _ask(
        self, company: CompanyContext, ask: Callable[[CompanyContext], Awaitable[ReplyMessage | None]]
    ) -> tuple[ReplyMessage | None, str]:
        try:
            async with self._context.live_reads.counted(company.key, company.client, "command"):
                answer = await self._within_deadline(ask(company))
        except LiveReadsBusyError as busy:
            log.info("company %s: a chat command waits for Intacct's budget of people's reads (%s)", company.key, busy)
            return ReplyMessage(text=self._for(company, messages.SEARCH_BUSY.format(seconds=busy.wait_seconds))), TIMEOUT
        except DeadlinePassedError:
            log.warning("company %s: Intacct did not answer within %.0f s; the command was cancelled", company.key, self._timeout)
            return ReplyMessage(text=self._for(company, messages.FAILED_INTACCT_SLOW)), TIMEOUT
        except IntacctError as error:
            log.warning("company %s: Intacct failed a chat command: %s", company.key, error)
            return ReplyMessage(text=self._for(company, intacct_problem(error))), INTACCT_ERROR
        return answer, OK if answer is not None else NOT_FOUND

    # --- status and routes ------------------------------------------------------------------
    async def _status(self, origin: Origin) -> Reply:
        try:
            view = await self._within_deadline(self._status_view(origin))
        except DeadlinePassedError:
            return Reply((ReplyMessage(text=messages.FAILED_SLOW),), TIMEOUT)
        except StoreError as error:
            log.warning("status: the store failed: %s", error)
            return Reply((ReplyMessage(text=messages.FAILED_STORE),), STORE_ERROR)
        answers = [ReplyMessage(card=build_status_card(view, zone=await self._operators_zone()))]
        if origin.in_channel:
            subscriptions = await self._guarded(self._subscriptions(origin))
            answers.extend(subscriptions.messages)
        return Reply(tuple(answers), OK)

    async def _status_view(self, origin: Origin) -> StatusView:
        """The status source's view, or one built from the store when app.py wired none."""
        context = self._context
        if context.status is not None:
            return await context.status.status_view()
        store = context.store
        states = {state.company: state for state in await store.poll_states()}
        keys = list(context.companies) + sorted(set(states) - set(context.companies))
        today, month = await peoples_reads(store, context.clock())
        companies = tuple([
            replace(company_status(key, states.get(key)), name=await self._known_name(key), people_functions_today=today.get(key, 0),
                    people_functions_month=month.get(key, 0))
            for key in keys
        ])  # fmt: skip
        # Only this tenant's channels: a multi-tenant bot must not show one customer another's.
        inactive = tuple(
            route_view(route)
            for route in await store.list_routes()
            if not route.active and route.tenant_id in (None, origin.tenant_id)
        )
        if context.channel_names is None and context.graph_members is None:
            graph = GraphStatus(GraphState.NOT_CONFIGURED)
        else:
            graph = GraphStatus(GraphState.OK, subscriptions=len(await store.list_subscriptions()))
        return StatusView(
            now=context.clock(), companies=companies, outbox_depth=await store.outbox_depth(), graph=graph, inactive_routes=inactive
        )

    async def _subscriptions(self, origin: Origin) -> Reply:
        if not origin.in_channel:
            return Reply((ReplyMessage(text=messages.ROUTES_CHANNEL_ONLY),), REFUSED)
        return Reply((ReplyMessage(card=await self._subscriptions_card(origin)),), OK)

    async def _subscribe(self, command: Subscribe, origin: Origin) -> Reply:
        refusal = await self._may_change_routes(origin)
        if refusal is not None:
            return refusal
        assert origin.channel_id is not None  # _may_change_routes checked in_channel
        route_filter = RouteFilter(
            department=command.department,
            location=command.location,
            vendor=command.vendor,
            min_amount=command.min_amount,
            entity=command.entity,
        )
        route = await self._context.store.add_route(
            origin.channel_id,
            command.kinds,
            filter=route_filter,
            company=None,
            team_id=origin.aad_group_id,
            tenant_id=origin.tenant_id,
            channel_name=await self._channel_label(origin, origin.channel_id, None),
            created_by=origin.user_id or origin.user_name,
            now=self._context.clock(),
        )
        log.info("channel %s subscribed to %s (route %d)", origin.channel_id, ",".join(sorted(route.event_kinds)), route.id)
        self._context.notify_routes_changed()
        texts = []
        others = [kind for kind in KIND_ORDER if kind in command.kinds and kind != "alerts"]
        if others:
            filters = describe_filters(
                vendor=command.vendor, min_amount=command.min_amount, department=command.department,
                location=command.location, entity=command.entity,
            )  # fmt: skip
            texts.append(
                messages.ROUTES_SUBSCRIBED.format(
                    kinds=kind_names(others), filters=messages.ROUTES_FILTERS.format(filters=filters) if filters else ""
                )
            )
        if "alerts" in command.kinds:
            texts.append(messages.ROUTES_ALERTS)
        return Reply((ReplyMessage(text=" ".join(texts), card=await self._subscriptions_card(origin)),), OK)

    async def _unsubscribe(self, command: Unsubscribe, origin: Origin) -> Reply:
        refusal = await self._may_change_routes(origin)
        if refusal is not None:
            return refusal
        assert origin.channel_id is not None
        changed = await self._context.store.remove_routes(origin.channel_id, command.kinds)
        if changed:
            self._context.notify_routes_changed()
        if command.kinds is None:
            text = messages.ROUTES_UNSUBSCRIBED_ALL if changed else messages.ROUTES_NOTHING_AT_ALL
        else:
            names = kind_names([kind for kind in KIND_ORDER if kind in command.kinds])
            text = (messages.ROUTES_UNSUBSCRIBED if changed else messages.ROUTES_NOTHING_TO_REMOVE).format(kinds=names)
        log.info("channel %s unsubscribed from %s (%d route(s) changed)", origin.channel_id, sorted(command.kinds or ["everything"]), changed)
        return Reply((ReplyMessage(text=text, card=await self._subscriptions_card(origin)),), OK)

    async def _may_change_routes(self, origin: Origin) -> Reply | None:
        """None when the sender may change this channel's routes, else the refusal to send."""
        if not origin.in_channel:
            return Reply((ReplyMessage(text=messages.ROUTES_CHANNEL_ONLY),), REFUSED)
        decision = await self._admins.check(user_id=origin.user_id, aad_group_id=origin.aad_group_id)
        if decision.allowed:
            return None
        log.info("routing change refused in %s for user %s (%s)", origin.channel_id, origin.user_id, decision.basis)
        return Reply((ReplyMessage(text=decision.refusal),), REFUSED)

    async def _subscriptions_card(self, origin: Origin) -> Card:
        assert origin.channel_id is not None
        routes = await self._context.store.list_routes(conversation_id=origin.channel_id)
        stored = next((route.channel_name for route in routes if route.channel_name), None)
        label = await self._channel_label(origin, origin.channel_id, stored)
        views = [
            route_view(route, label, company_name=await self._known_name(route.company) if route.company else None)
            for route in routes
        ]
        return build_subscriptions_card(SubscriptionsView(tuple(views), scope=label or messages.ROUTES_SCOPE))

    async def _known_name(self, key: str) -> str | None:
        """A configured company's name in Intacct, if already read (status answers without Intacct)."""
        company = self._context.companies.get(key)
        return await company.known_name() if company is not None else None

    async def _operators_zone(self) -> TeamZone:
        """The zone of the operators' cards: the AP team's when every company shares one, else UTC."""
        zones = {zone.name: zone for zone in [await c.zone(ask=False) for c in self._context.companies.values()]}
        return next(iter(zones.values())) if len(zones) == 1 else UTC_ZONE

    async def _channel_label(self, origin: Origin, channel_id: str, stored: str | None) -> str | None:
        """A channel's display name: Graph's (via the channel directory) when configured, else the
        one stored on the route (renames keep it current), else None (cards show the id)."""
        directory = cast("ChannelLabels | None", self._context.channel_names)
        if directory is None or not origin.aad_group_id:
            return stored
        label = await directory.label(origin.aad_group_id, channel_id)
        return label if label != channel_id else stored

    async def _guarded(self, work: Awaitable[Reply]) -> Reply:
        """Routing work under the deadline, with the store's and Graph's failures as texts."""
        try:
            return await self._within_deadline(work)
        except DeadlinePassedError:
            log.warning("a routing command did not finish within %.0f s; it was cancelled", self._timeout)
            return Reply((ReplyMessage(text=messages.FAILED_SLOW),), TIMEOUT)
        except StoreError as error:
            log.warning("a routing command failed in the store: %s", error)
            return Reply((ReplyMessage(text=messages.FAILED_STORE),), STORE_ERROR)

    # --- helpers --------------------------------------------------------------------------------
    async def _within_deadline(self, work: Awaitable[T]) -> T:
        """The work's result, or DeadlinePassedError once `sleep(timeout)` returns first (bot.waiting.within_deadline)."""
        return await within_deadline(work, self._timeout, self._sleep)

    def _title(self, title: str, company: CompanyContext) -> str:
        if len(self._context.companies) <= 1:
            return title
        return messages.ANSWER_TITLE_FOR_COMPANY.format(title=title, company=company.key)

    def _company_label(self, company: CompanyContext) -> str | None:
        """Above a card whose builder takes no title (bill detail, vendor): which company it is."""
        return company.key if len(self._context.companies) > 1 else None

    def _for(self, company: CompanyContext, text: str) -> str:
        if len(self._context.companies) <= 1:
            return text
        return messages.ANSWER_FOR_COMPANY.format(company=company.key, text=text)


def shown(value: str) -> str:
    """A person's input, made inert (no mention, link or markup) and quoted, for a reply text."""
    return messages.quote_value(clean_text(value, DESCRIPTION_LIMIT))


def describe_filters(
    *,
    vendor: str | None = None,
    min_amount: Decimal | None = None,
    department: str | None = None,
    location: str | None = None,
    entity: str | None = None,
) -> str | None:
    """`department D100 · vendor Acme · over 1,000.00`, or None without filters (values cleaned)."""
    parts = [  # the order of the subscriptions card (cards.status.route_filters)
        messages.FILTER_DEPARTMENT.format(value=clean_text(department, NAME_LIMIT)) if department else None,
        messages.FILTER_LOCATION.format(value=clean_text(location, NAME_LIMIT)) if location else None,
        messages.FILTER_VENDOR.format(value=clean_text(vendor, NAME_LIMIT)) if vendor else None,
        messages.FILTER_OVER.format(value=money(min_amount)) if min_amount is not None else None,
        messages.FILTER_ENTITY.format(value=clean_text(entity, NAME_LIMIT)) if entity else None,
    ]
    kept = [part for part in parts if part]
    return messages.FILTER_JOINER.join(kept) if kept else None


def kind_names(kinds: Sequence[str]) -> str:
    """`new and changed bills, payment requests and the daily digest`."""
    names = [messages.KIND_NAMES.get(kind, kind) for kind in kinds]
    if len(names) <= 1:
        return "".join(names)
    return messages.KIND_JOINER.join(names[:-1]) + messages.KIND_LAST_JOINER + names[-1]


def intacct_problem(error: IntacctError) -> str:
    """The text a person reads for an Intacct failure: what kind, and Intacct's own words."""
    parts: Iterable[str | None] = (error.errorno, error.description, error.description2)
    problem = " ".join(part for part in parts if part) or error.message
    problem = clean_text(problem, DESCRIPTION_LIMIT)
    if isinstance(error, AuthenticationError):
        return messages.FAILED_INTACCT_AUTH.format(problem=problem)
    if isinstance(error, IntacctTransportError):
        return messages.FAILED_INTACCT_UNREACHABLE.format(problem=problem)
    if isinstance(error, IntacctResponseError):
        return messages.FAILED_INTACCT_UNREADABLE.format(problem=problem)
    return messages.FAILED_INTACCT_ERROR.format(problem=problem)
