"""InvokeService: answers the three invokes that bring Intacct records into any chat — a pasted
Intacct link (`composeExtension/queryLink`), the compose-box bill search (`composeExtension/query`)
and a card's refresh (`adaptiveCard/action`). No botbuilder here: answers are plain values that
bot/teams/handler.py turns into the invoke responses.

Decisions:
- Read-only: every answer comes from reads (bot/chat/record_cards.py, through the context's LiveReads:
  shared, paced, counted in the company's Intacct usage as `link`, `search`, `refresh`).
- Time: Teams waits 5 s for a message extension's answer (learn.microsoft.com, "Respond to search
  command": "your code has 5 seconds to provide an HTTP response"); the work runs under
  DEADLINE_SECONDS, so the answer goes out in time whatever Intacct does.
- Bad input never becomes an error page: a link that is not Intacct's, not a record, or not
  known gets a small card saying so (with the link back when it is Intacct's); a search that
  cannot run gets the compose extension's `message` answer; an action that is not ours gets
  Universal Actions' error answer (400, `application/vnd.microsoft.error`), one whose record
  cannot be read a message (200, `application/vnd.microsoft.activity.message`).
- Links resolve through the record-link index the poller keeps (store.find_record_links), then
  the record is read live; a list-view link the index does not know is looked up live by its id.
- A refreshed channel notice whose record changed since it was posted is also updated in place
  (the handler sends the update; `record_update` audits it), but only a message this bot posted
  for that record (posted_cards), never someone else's.
- Every invoke answered is one audit line (action link | search | refresh | update) and one
  count in `mlc_invokes{invoke,outcome}`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Awaitable, Sequence, TypeVar
from urllib.parse import urlsplit

from bot import messages
from bot.context import BotContext, CompanyContext
from bot.chat.invoke_values import InvokeValueError, SearchQuery, read_card_action, read_link_query, read_search_query
from bot.live_reads import LiveReadsBusyError
from bot.origin import Origin
from bot.chat.record_cards import Record, RecordCards
from bot.chat.service import intacct_problem
from bot.waiting import DeadlinePassedError, Sleep, within_deadline
from cards.compose import bill_preview, build_link_card, link_preview, record_preview
from cards.elements import Card
from cards.refresh import DETAIL, NOTICE, RefreshRequest, record_fingerprint, refresh_request
from cards.sanitize import DESCRIPTION_LIMIT, clean_text
from intacct import figures
from intacct.bills import Bill
from intacct.errors import IntacctError
from intacct.payments import Payment
from intacct.record_links import OBJECTS, LinkTarget, is_intacct_host, read_link
from store.api import StoreError
from store.types import AuditEntry, PostedCard

log = logging.getLogger(__name__)

T = TypeVar("T")

DEADLINE_SECONDS = 4.0  # within Teams' 5 s for a message extension, with room to send the answer
SEARCH_READ_LIMIT = 1000  # matches read per search: one readByQuery page, one function
_KIND_OF_OBJECT = {name: kind for kind, name in OBJECTS.items()}

LINK, SEARCH, REFRESH = "link", "search", "refresh"
OK = "ok"


@dataclass(frozen=True, slots=True)
class ComposeItem:
    """One result of a compose-extension answer: the card inserted, and its line in the list."""

    card: Card
    preview: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ComposeAnswer:
    """A compose-extension answer: result items (`type: result`), or a text (`type: message`)."""

    items: tuple[ComposeItem, ...] = ()
    text: str | None = None
    no_cache: bool = False  # Teams keeps an unfurled link's answer 30 minutes unless told not to
    outcome: str = OK


@dataclass(frozen=True, slots=True)
class MessageUpdate:
    """A posted message to update in place with the refreshed card."""

    posted: PostedCard
    card: Card


@dataclass(frozen=True, slots=True)
class ActionAnswer:
    """An adaptiveCard/action answer: a card, a text, or (status 400) an error with its code."""

    status: int = 200
    card: Card | None = None
    text: str | None = None
    error_code: str | None = None
    update: MessageUpdate | None = None
    outcome: str = OK


class InvokeService:
    """See the module docstring."""

    def __init__(self, context: BotContext, *, deadline_seconds: float = DEADLINE_SECONDS, sleep: Sleep = asyncio.sleep) -> None:
        self._context = context
        self._cards = RecordCards(context)
        self._deadline = deadline_seconds
        self._sleep = sleep

    # --- pasted links ---------------------------------------------------------------------------
    async def unfurl(self, value: Any, origin: Origin) -> ComposeAnswer:
        """The card for a pasted Intacct link: the record's current card, or a small card saying why not."""
        try:
            url = read_link_query(value)
        except InvokeValueError as bad:
            return await self._compose(LINK, origin, self._link_item(None, bad.message), bad.reason)
        if not is_intacct_host(_host(url), self._web_hosts()):
            return await self._compose(LINK, origin, self._link_item(None, messages.LINK_NOT_INTACCT), "not_intacct")
        target = read_link(url)
        if target is None:
            return await self._compose(LINK, origin, self._link_item(url, messages.LINK_NOT_A_RECORD), "not_a_record")
        try:
            found = await self._within(self._resolve(target, origin))
        except DeadlinePassedError:
            return await self._compose(LINK, origin, self._link_item(url, messages.LINK_SLOW), "timeout")
        except LiveReadsBusyError:
            return await self._compose(LINK, origin, self._link_item(url, messages.LINK_BUSY), "busy")
        except IntacctError as error:
            log.warning("an Intacct link could not be read: %s", error)
            problem = messages.LINK_FAILED.format(problem=intacct_problem(error))
            return await self._compose(LINK, origin, self._link_item(url, problem), "intacct_error")
        if isinstance(found, str):
            return await self._compose(LINK, origin, self._link_item(url, found), "not_known" if found == messages.LINK_NOT_KNOWN else "not_found")
        company, record, card = found
        today = (await company.zone(ask=False)).today(self._context.clock())
        item = ComposeItem(card, record_preview(record, today=today))
        return await self._compose(LINK, origin, item, OK, company=company.key, record=record)

    async def _resolve(self, target: LinkTarget, origin: Origin) -> tuple[CompanyContext, Record, Card] | str:
        """The record a link names, read live, with its card; else the message saying why none."""
        candidates = await self._indexed(target)
        if not candidates and target.kind is not None and target.record_id is not None:
            candidates = await self._found_live(target.kind, target.record_id)
        if not candidates:
            return messages.LINK_NOT_KNOWN
        for company, kind, record_no in candidates:
            record = await self._cards.read(company, kind, record_no, source=LINK)
            if record is not None:
                card = await self._cards.card(company, record, view=DETAIL, user_ids=origin.auto_refresh_users, source=LINK)
                return company, record, card
        return messages.LINK_NOT_FOUND

    async def _indexed(self, target: LinkTarget) -> list[tuple[CompanyContext, str, int]]:
        """What the poller's record-link index says the link opens, in the configured companies' order."""
        try:
            links = await self._context.store.find_record_links([target.key])
        except StoreError as error:
            log.warning("the record-link index cannot be read; the link is looked up in Intacct: %s", error)
            return []
        order = list(self._context.companies)
        known = [link for link in links if link.company in self._context.companies and link.object_name in _KIND_OF_OBJECT]
        known.sort(key=lambda link: order.index(link.company))
        return [(self._context.companies[link.company], _KIND_OF_OBJECT[link.object_name], link.record_no) for link in known]

    async def _found_live(self, kind: str, record_id: str) -> list[tuple[CompanyContext, str, int]]:
        """A list link's record looked up by its id in every company (the index did not know it)."""
        found = []
        for company in self._context.companies.values():
            record_no = await self._context.live_reads.read(company.key, company.client, LINK, ("find", kind, record_id),
                                                            lambda company=company: _find(company, kind, record_id))  # fmt: skip
            if record_no is not None:
                found.append((company, kind, record_no))
        return found

    # --- compose-box search ---------------------------------------------------------------------
    async def search(self, value: Any, origin: Origin) -> ComposeAnswer:
        """One page of the bills matching a search, each with the card it inserts."""
        try:
            query = read_search_query(value)
        except InvokeValueError as bad:
            return await self._compose(SEARCH, origin, None, bad.reason, text=bad.message)
        if not self._context.companies:
            return await self._compose(SEARCH, origin, None, "no_company", text=messages.INVOKE_NO_COMPANY)
        try:
            answer = await self._within(self._search(query, origin))
        except DeadlinePassedError:
            return await self._compose(SEARCH, origin, None, "timeout", text=messages.SEARCH_SLOW)
        return await self._compose(SEARCH, origin, None, answer.outcome, text=answer.text, items=answer.items)

    async def _search(self, query: SearchQuery, origin: Origin) -> ComposeAnswer:
        companies = list(self._context.companies.values())
        pages = await asyncio.gather(*(self._search_one(company, query.text) for company in companies), return_exceptions=True)
        found: list[tuple[CompanyContext, Bill]] = []
        problems: list[tuple[str, str]] = []  # (outcome, text)
        for company, page in zip(companies, pages, strict=True):
            if isinstance(page, LiveReadsBusyError):
                problems.append(("busy", messages.SEARCH_BUSY.format(seconds=page.wait_seconds)))
            elif isinstance(page, IntacctError):
                log.warning("company %s: a compose-box search failed in Intacct: %s", company.key, page)
                problem = intacct_problem(page)
                text = problem if len(companies) == 1 else messages.SEARCH_FAILED_FOR.format(company=company.key, problem=problem)
                problems.append(("intacct_error", text))
            elif isinstance(page, BaseException):
                raise page
            else:
                found.extend((company, bill) for bill in page)
        if not found and problems:
            outcome, text = problems[0]
            return ComposeAnswer(text=text, outcome=outcome)
        now = self._context.clock()
        today = {company.key: (await company.zone(ask=False)).today(now) for company in companies}  # the AP team's day
        found.sort(key=lambda pair: search_order(pair[1], query.text, today[pair[0].key]))
        window = found[query.skip : query.skip + query.count]
        if not window:
            if query.skip:
                return ComposeAnswer(outcome=OK)  # past the last result: an empty page ends the list
            return ComposeAnswer(text=messages.SEARCH_NOTHING.format(text=messages.quote_value(clean_text(query.text, DESCRIPTION_LIMIT))),
                                 outcome="not_found")  # fmt: skip
        items = await self._result_items(window, origin)
        return ComposeAnswer(items=items, outcome=problems[0][0] if problems else OK)

    async def _search_one(self, company: CompanyContext, text: str) -> list[Bill]:
        async def read() -> list[Bill]:
            return (await company.client.search_bills(text, limit=SEARCH_READ_LIMIT)).bills

        return await self._context.live_reads.read(company.key, company.client, SEARCH, ("search", text), read)

    async def _result_items(self, window: Sequence[tuple[CompanyContext, Bill]], origin: Origin) -> tuple[ComposeItem, ...]:
        """The cards of one page of results, each bill with its first lines (one read per company)."""
        lines: dict[tuple[str, int], Bill] = {}
        for company in dict.fromkeys(company for company, _ in window):
            bills = [bill for owner, bill in window if owner is company]
            numbers = tuple(sorted(bill.record_no for bill in bills))

            async def read(company: CompanyContext = company, numbers: tuple[int, ...] = numbers):
                return await company.client.fetch_bill_lines(numbers)

            by_bill = await self._context.live_reads.read(company.key, company.client, SEARCH, ("lines", numbers), read)
            for bill in bills:
                lines[(company.key, bill.record_no)] = _with_lines(bill, by_bill.get(bill.record_no, ()))
        several = len(self._context.companies) > 1
        items = []
        for company, bill in window:
            zone = await company.zone(ask=False)
            today = zone.today(self._context.clock())
            lined = lines[(company.key, bill.record_no)]
            card = self._cards.search_result_card(company, lined, today=today, zone=zone, user_ids=origin.auto_refresh_users)
            preview = bill_preview(bill, today=today)
            if several:
                preview["subtitle"] = f"{company.key} · {preview['subtitle']}"
            items.append(ComposeItem(card, preview))
        return tuple(items)

    # --- card refresh ---------------------------------------------------------------------------
    async def refresh(self, value: Any, origin: Origin, reply_to_id: str | None) -> ActionAnswer:
        """The record's current card for a card's refresh; for a channel notice whose record changed,
        also the in-place update of the message (sent by the handler)."""
        try:
            action = read_card_action(value)
        except InvokeValueError as bad:
            return await self._act(origin, reply_to_id, None, ActionAnswer(400, text=bad.message, error_code="BadRequest", outcome=bad.reason))
        request = refresh_request(action.verb, action.data)
        if request is None:
            return await self._act(origin, reply_to_id, None, ActionAnswer(400, text=messages.ACTION_NOT_OURS, error_code="NotSupported",
                                                                           outcome="not_ours"))  # fmt: skip
        company = self._context.companies.get(request.ref.company)
        if company is None:
            text = messages.REFRESH_NO_COMPANY.format(company=clean_text(request.ref.company, DESCRIPTION_LIMIT))
            return await self._act(origin, reply_to_id, request, ActionAnswer(text=text, outcome="no_company"))
        try:
            answer = await self._within(self._refreshed(company, request, origin, reply_to_id))
        except DeadlinePassedError:
            answer = ActionAnswer(text=messages.REFRESH_SLOW, outcome="timeout")
        except LiveReadsBusyError as busy:
            answer = ActionAnswer(text=messages.REFRESH_BUSY.format(seconds=busy.wait_seconds), outcome="busy")
        except IntacctError as error:
            log.warning("company %s: a card's refresh failed in Intacct: %s", company.key, error)
            answer = ActionAnswer(text=messages.REFRESH_FAILED.format(problem=intacct_problem(error)), outcome="intacct_error")
        return await self._act(origin, reply_to_id, request, answer)

    async def _refreshed(self, company: CompanyContext, request: RefreshRequest, origin: Origin, reply_to_id: str | None) -> ActionAnswer:
        ref = request.ref
        record = await self._cards.read(company, ref.kind, ref.record_no, source=REFRESH)
        if record is None:
            return ActionAnswer(text=messages.REFRESH_GONE.format(kind=messages.RECORD_KIND_NAMES[ref.kind]), outcome="gone")
        users = () if ref.view == NOTICE else origin.auto_refresh_users
        card = await self._cards.card(company, record, view=ref.view, user_ids=users, source=REFRESH)
        update = None
        if ref.view == NOTICE and reply_to_id and request.fingerprint != record_fingerprint(record):
            posted = await self._posted(company.key, ref.kind, ref.record_no, origin)
            if posted is not None and posted.activity_id == reply_to_id:
                update = MessageUpdate(posted, card)
        return ActionAnswer(card=card, update=update)

    async def _posted(self, company: str, kind: str, record_no: int, origin: Origin) -> PostedCard | None:
        """Where this bot posted the record's card in the invoke's channel, if it did."""
        channel = origin.channel_id or origin.conversation_id.split(";", 1)[0]
        try:
            return await self._context.store.get_posted_card(company, kind, record_no, channel)
        except StoreError as error:
            log.warning("where a refreshed card was posted cannot be read; the message is not updated: %s", error)
            return None

    async def record_update(self, update: MessageUpdate, *, error: str | None) -> None:
        """Audit the in-place update the handler sent (or failed to send) for a refresh, and note
        on the posted card when it was last updated."""
        posted = update.posted
        await self._audit(AuditEntry(at=self._context.clock(), action="update", outcome="failed" if error else OK, company=posted.company,
                                     record_kind=posted.record_kind, record_no=posted.record_no, conversation_id=posted.conversation_id,
                                     activity_id=posted.activity_id, error=error))  # fmt: skip
        if error is None:
            try:
                await self._context.store.save_posted_card(replace(posted, updated_at=self._context.clock()))
            except StoreError as store_error:
                log.warning("could not note the in-place update of %s %s: %s", posted.record_kind, posted.record_no, store_error)

    # --- answering, auditing, counting ----------------------------------------------------------
    async def _within(self, work: Awaitable[T]) -> T:
        return await within_deadline(work, self._deadline, self._sleep)

    def _link_item(self, url: str | None, message: str) -> ComposeItem:
        return ComposeItem(build_link_card(url, message), link_preview(message))

    async def _compose(self, invoke: str, origin: Origin, item: ComposeItem | None, outcome: str, *, text: str | None = None,
                       items: Sequence[ComposeItem] = (), company: str | None = None, record: Record | None = None) -> ComposeAnswer:  # fmt: skip
        """Count, audit and build a compose-extension answer."""
        answer = ComposeAnswer(items=(item,) if item is not None else tuple(items), text=text, no_cache=invoke == LINK, outcome=outcome)
        kind = _kind(record) if record is not None else ("bill" if invoke == SEARCH else None)
        await self._finish(invoke, outcome, AuditEntry(at=self._context.clock(), action=invoke, outcome=outcome, company=company,
                                                       record_kind=kind, record_no=record.record_no if record is not None else None,
                                                       conversation_id=origin.conversation_id,
                                                       error=None if outcome == OK else outcome))  # fmt: skip
        return answer

    async def _act(self, origin: Origin, reply_to_id: str | None, request: RefreshRequest | None, answer: ActionAnswer) -> ActionAnswer:
        """Count and audit an adaptiveCard/action answer."""
        ref = request.ref if request is not None else None
        await self._finish(REFRESH, answer.outcome, AuditEntry(
            at=self._context.clock(), action=REFRESH, outcome=answer.outcome, company=ref.company if ref else None,
            record_kind=ref.kind if ref else None, record_no=ref.record_no if ref else None, conversation_id=origin.conversation_id,
            activity_id=reply_to_id, error=None if answer.outcome == OK else answer.outcome))  # fmt: skip
        return answer

    async def _finish(self, invoke: str, outcome: str, entry: AuditEntry) -> None:
        self._context.metrics.invokes.labels(invoke=invoke, outcome=outcome).inc()
        await self._audit(entry)

    async def _audit(self, entry: AuditEntry) -> None:
        try:
            await self._context.store.append_audit(entry)
        except StoreError as error:
            log.warning("could not write the audit line of a %s (%s): %s", entry.action, entry.outcome, error)

    def _web_hosts(self) -> frozenset[str]:
        """The configured Intacct web hosts (INTACCT_WEB_URL of every company): links to them are Intacct's too."""
        return frozenset(host for company in self._context.companies.values() if (host := _host(company.links.web_url)))


def search_order(bill: Bill, text: str, today: date) -> tuple[bool, bool, bool, date, int]:
    """Results in the order a person looks for them: the bill whose number is what was typed, then
    open bills soonest due (those without a due date last), then the rest, newest first."""
    exact = bill.bill_number.casefold() == text.casefold()
    is_open = figures.OPEN_BILLS.includes(bill, today)
    due = bill.due_date or date.max
    return (not exact, not is_open, bill.due_date is None, due if is_open else date.max, -bill.record_no)


async def _find(company: CompanyContext, kind: str, record_id: str) -> int | None:
    """The RECORDNO a list link's id names in one company (a bill's number, a payment's RECORDNO, a vendor's id)."""
    client = company.client
    if kind == "bill":
        bill = await client.find_bill(record_id)
        return bill.record_no if bill is not None else None
    if kind == "payment":
        if not (record_id.isascii() and record_id.isdigit() and 0 < int(record_id) < 2**63):
            return None
        payment = await client.read_payment(int(record_id))
        return payment.record_no if payment is not None else None
    exact = [vendor for vendor in await client.find_vendors(record_id, limit=5) if vendor.vendor_id == record_id]
    return exact[0].record_no if exact else None


def _with_lines(bill: Bill, lines: Sequence[Any]) -> Bill:
    return replace(bill, lines=tuple(lines))


def _kind(record: Record) -> str:
    return "bill" if isinstance(record, Bill) else "payment" if isinstance(record, Payment) else "vendor"


def _host(url: str) -> str | None:
    """The host of an http(s) URL (None for any other scheme, or a URL that does not parse)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return parts.hostname if parts.scheme.lower() in ("http", "https") else None
