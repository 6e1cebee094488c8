"""The current card of one bill, payment or vendor: read live from Intacct (through LiveReads) and
built with its refresh. What an unfurled link, a search result, a card's refresh, `show bill` and
`show vendor` all answer with, so each record kind looks the same wherever it is asked for.

Views (cards/refresh.py): `detail` is the card made for a person (a bill with every line, GL
account and cost center; a vendor with its open bills), refreshed by itself for that person;
`notice` is the card the notifier posts into a channel, refreshed by hand — its refresh shows the
record's current state (a vendor's refreshed notice is its vendor card: the change it announced is
history by then).
"""

from __future__ import annotations

from typing import Sequence

from bot.context import BotContext, CompanyContext
from cards.bills import build_bill_card, build_bill_detail_card
from cards.elements import Card
from cards.payments import build_payment_card
from cards.refresh import DETAIL, NOTICE, RecordRef, with_refresh
from cards.vendors import build_vendor_card
from intacct import figures
from intacct.bills import Bill
from intacct.payments import Payment
from intacct.vendors import Vendor

Record = Bill | Payment | Vendor
DEFAULT_FETCH_LIMIT = 1000  # a vendor's open bills: one readByQuery page, one function
SEARCH_MAX_LINES = 8  # lines on a bill card inserted from the search results (the full card comes with a refresh)
SEARCH_MAX_BYTES = 8_000  # each search result's card; Teams gets up to 25 of them in one answer


class RecordCards:
    """Reads records and builds their cards for the bot's parts (see the module docstring)."""

    def __init__(self, context: BotContext, *, fetch_limit: int = DEFAULT_FETCH_LIMIT, max_items: int = 10) -> None:
        self._context = context
        self._fetch_limit = fetch_limit
        self._max_items = max_items

    async def read(self, company: CompanyContext, kind: str, record_no: int, *, source: str) -> Record | None:
        """The record as Intacct has it now (a bill with its lines), None when it is gone; shared
        and paced by the context's LiveReads (LiveReadsBusyError when its budget is spent)."""
        client = company.client
        readers = {"bill": client.read_bill, "payment": client.read_payment, "vendor": client.read_vendor}
        read = readers[kind]
        return await self._context.live_reads.read(company.key, client, source, (kind, record_no), lambda: read(record_no))

    async def card(self, company: CompanyContext, record: Record, *, view: str = DETAIL, user_ids: Sequence[str] = (),
                   source: str = "refresh") -> Card:  # fmt: skip
        """The record's card in `view`, with its refresh (auto for `user_ids`). A vendor's card reads
        its open bills (one more read, shared and paced like the record's)."""
        zone = await company.zone()
        today = zone.today(self._context.clock())
        links = company.links
        if isinstance(record, Bill):
            kind = "bill"
            if view == NOTICE:
                card = build_bill_card(record, links=links, today=today)
            else:
                card = build_bill_detail_card(record, links=links, today=today, zone=zone)
        elif isinstance(record, Payment):
            kind, card = "payment", build_payment_card(record, links=links, today=today)
        else:
            kind = "vendor"
            bills, tally = await self.open_bills(company, record, source=source)
            card = build_vendor_card(record, links=links, today=today, zone=zone, open_bills=bills, open_bills_tally=tally,
                                     max_items=self._max_items)  # fmt: skip
        return with_refresh(card, RecordRef(company.key, kind, record.record_no, view), record, user_ids=user_ids)

    def search_result_card(self, company: CompanyContext, bill: Bill, *, today, zone, user_ids: Sequence[str]) -> Card:
        """A bill's card as a search result inserts it: the detail card, fewer lines (its refresh brings them all)."""
        card = build_bill_detail_card(bill, links=company.links, today=today, zone=zone, max_lines=SEARCH_MAX_LINES,
                                      max_bytes=SEARCH_MAX_BYTES)  # fmt: skip
        return with_refresh(card, RecordRef(company.key, "bill", bill.record_no, DETAIL), bill, user_ids=user_ids)

    async def open_bills(self, company: CompanyContext, vendor: Vendor, *, source: str) -> tuple[list[Bill], figures.Tally]:
        """The vendor's open bills (at most one page of them) and their figure for the whole result."""
        today = (await company.zone()).today(self._context.clock())

        async def read():
            return await company.client.query_bills(**figures.OPEN_BILLS.query(today), vendor=vendor.vendor_id, limit=self._fetch_limit)

        page = await self._context.live_reads.read(company.key, company.client, source, ("open-bills", vendor.vendor_id, today), read)
        # The vendor filter also matches names containing the id: keep this vendor's bills only.
        own = [bill for bill in page.bills if bill.vendor_id == vendor.vendor_id]
        total = page.total if len(own) == len(page.bills) else len(own)
        return own, figures.tally(own, figures.amount_due, count=total)
