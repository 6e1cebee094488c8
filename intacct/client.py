"""IntacctClient: the typed surface the poller, the bot and `check` use; `execute` is its only network call.

Every read is a readByQuery with an explicit field list; filters typed in chat are pushed into
the Intacct query (escaped by `intacct.query`), never applied after reading everything.
readByQuery cannot sort, so a page of at most ``limit`` records is sorted here and comes with
Intacct's total count of matches (``BillPage.total``) so a card can say how many more exist.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import chain
from typing import Callable, Iterable, Mapping, Sequence

import aiohttp

from intacct.bills import BILL_FIELDS, BILL_LINE_FIELDS, BILL_LINE_OBJECT, BILL_OBJECT, Bill, BillLine, parse_bill, parse_bill_line, parse_bill_line_page, parse_bill_page
from intacct.company import COMPANY_FIELDS, COMPANY_OBJECT, CompanyInfo, UserFormatting, parse_company, parse_user_formatting
from intacct.credentials import IntacctCredentials
from intacct.dimensions import Dimension, DimensionKind, dimension_fields, parse_dimension
from intacct.errors import MalformedResponseError
from intacct.paging import PagedQuery, run_queries
from intacct.payments import PAYMENT_FIELDS, PAYMENT_OBJECT, Payment, parse_payment
from intacct.protocol import GET_API_SESSION, MAX_PAGE_SIZE, Function, Result, read_user_formatting
from intacct.query import Condition, all_of, any_of, clean_search_text, clean_text, field, render
from intacct.sessions import Clock, SessionCache, SessionManager
from intacct.states import bill_state_codes, payment_state_codes
from intacct.stats import ClientStats, StatsRecorder
from intacct.transport import DEFAULT_MAX_RESPONSE_BYTES, Jitter, RetryPolicy, Sleep, Transport
from intacct.values import required_int
from intacct.vendors import VENDOR_FIELDS, VENDOR_OBJECT, Vendor, parse_vendor

__all__ = [
    "DEFAULT_ENDPOINT",
    "BillPage",
    "ChangeSet",
    "ClientStats",
    "IntacctClient",
    "IntacctCredentials",
    "PaymentPage",
    "SessionCache",
    "utc_now",
]

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://api.intacct.com/ia/xml/xmlgw.phtml"
CHANGE_OBJECTS = (BILL_OBJECT, PAYMENT_OBJECT, VENDOR_OBJECT)
KEYS_PER_QUERY = 200
"""RECORDKEY/RECORDNO values per ``IN (…)`` list: keeps each query string a few KB."""


def utc_now() -> datetime:
    """The current time, aware, in UTC (the default clock)."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """Records modified since the watermarks (bills without lines) and what reading them cost."""

    bills: list[Bill]
    payments: list[Payment]
    vendors: list[Vendor]
    requests: int
    functions: int


@dataclass(frozen=True, slots=True)
class BillPage:
    """Up to ``limit`` matching bills and how many match in Intacct in all."""

    bills: list[Bill]
    total: int

    @property
    def more(self) -> int:
        """How many matching bills are not on this page."""
        return max(0, self.total - len(self.bills))


@dataclass(frozen=True, slots=True)
class PaymentPage:
    """Up to ``limit`` matching payments and how many match in Intacct in all."""

    payments: list[Payment]
    total: int

    @property
    def more(self) -> int:
        """How many matching payments are not on this page."""
        return max(0, self.total - len(self.payments))


class IntacctClient:
    """Reads one Intacct company (or entity) through the XML gateway and returns typed records."""

    def __init__(
        self,
        credentials: IntacctCredentials,
        *,
        http: aiohttp.ClientSession,
        endpoint_url: str = DEFAULT_ENDPOINT,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
        jitter: Jitter = random.random,
        gmt_offset: timedelta | None = None,
        timeout_seconds: float = 60,
        max_attempts: int = 4,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        session_cache: SessionCache | None = None,
        max_concurrent_requests: int = 1,
    ) -> None:
        self._credentials = credentials
        self._recorder = StatsRecorder()
        transport = Transport(
            http,
            stats=self._recorder,
            sleep=sleep,
            jitter=jitter,
            timeout_seconds=timeout_seconds,
            max_response_bytes=max_response_bytes,
            retry=RetryPolicy(max_attempts=max_attempts),
            max_concurrent_requests=max_concurrent_requests,
        )
        self._sessions = SessionManager(
            credentials, transport=transport, cache=session_cache or SessionCache(), login_url=endpoint_url, clock=clock
        )
        # A configured offset wins; otherwise readUserFormatting is asked once, on first need.
        self._configured_offset = gmt_offset
        self._offset = gmt_offset
        self._offset_lock = asyncio.Lock()

    def __repr__(self) -> str:
        c = self._credentials
        return f"IntacctClient(company={c.company_id!r}, user={c.user_id!r}, entity={c.entity_id!r})"

    @property
    def stats(self) -> ClientStats:
        """Requests, functions (total and per name), retries and errors per code since creation."""
        return self._recorder.totals

    # --- the one network call ------------------------------------------------------------------

    async def execute(self, functions: Sequence[Function]) -> list[Result]:
        """Send the functions in ONE session-authenticated request; one Result per function, in order.

        Control- and authentication-level failures raise their typed error (after the session
        replay and transient retries); a failed function is reported in its Result, whose
        `raise_for_error()` raises it, so one failure never hides its siblings' data.
        """
        functions = list(functions)
        if not functions:
            return []
        if any(f.name == GET_API_SESSION for f in functions):
            raise ValueError("sessions are managed by the client; do not send getAPISession through execute")
        response = await self._sessions.send(functions)
        by_controlid = {result.controlid: result for result in response.results}
        if len(response.results) != len(functions) or any(f.controlid not in by_controlid for f in functions):
            raise MalformedResponseError(
                f"{len(functions)} function(s) sent, {len(response.results)} result(s) received with different controlids"
            )
        return [by_controlid[f.controlid] for f in functions]

    # --- poller --------------------------------------------------------------------------------

    async def read_changes(
        self,
        since: Mapping[str, datetime | None],
        objects: Sequence[str] = CHANGE_OBJECTS,
    ) -> ChangeSet:
        """Records with WHENMODIFIED >= since[object] (every record when None), all pages.

        One request carries a readByQuery per object; readMore follow-ups go only to objects with
        ``numremaining > 0`` and share requests. Raises the typed error of a failed function.
        """
        unknown = [name for name in objects if name not in CHANGE_OBJECTS]
        if unknown or not objects:
            raise ValueError(f"read_changes reads {', '.join(CHANGE_OBJECTS)}; got {list(objects)}")
        with self._recorder.scope() as cost:
            zone = await self._zone()
            parsers: dict[str, Callable] = {
                BILL_OBJECT: lambda row: parse_bill(row, zone),
                PAYMENT_OBJECT: lambda row: parse_payment(row, zone),
                VENDOR_OBJECT: lambda row: parse_vendor(row, zone),
            }
            page_parsers = {BILL_OBJECT: lambda result: parse_bill_page(result, zone)}  # payments, vendors: row by row
            fields = {BILL_OBJECT: BILL_FIELDS, PAYMENT_OBJECT: PAYMENT_FIELDS, VENDOR_OBJECT: VENDOR_FIELDS}
            queries = []
            for name in dict.fromkeys(objects):
                moment = since.get(name)
                condition = None if moment is None else field("WHENMODIFIED").ge(moment)
                queries.append(PagedQuery(name, name, fields[name], render(condition, zone.utcoffset(None)), parsers[name],
                                          parse_page=page_parsers.get(name)))  # fmt: skip
            outcomes = await run_queries(self.execute, queries)
        records = {name: outcome.records for name, outcome in outcomes.items()}
        return ChangeSet(
            bills=records.get(BILL_OBJECT, []),
            payments=records.get(PAYMENT_OBJECT, []),
            vendors=records.get(VENDOR_OBJECT, []),
            requests=cost.requests,
            functions=cost.functions,
        )

    async def fetch_bill_lines(self, record_nos: Iterable[int]) -> dict[int, tuple[BillLine, ...]]:
        """The lines of these bills (RECORDKEY IN (…), chunked), ordered by line number; () when none."""
        keys = sorted({int(n) for n in record_nos})
        if not keys:
            return {}
        queries = [
            PagedQuery(i, BILL_LINE_OBJECT, BILL_LINE_FIELDS, render(field("RECORDKEY").in_(chunk)), parse_bill_line,
                       parse_page=parse_bill_line_page)  # fmt: skip
            for i, chunk in enumerate(_chunks(keys, KEYS_PER_QUERY))
        ]
        outcomes = await run_queries(self.execute, queries)
        lines: dict[int, list[BillLine]] = {key: [] for key in keys}
        for key, line in chain.from_iterable(o.records for o in outcomes.values()):
            lines.setdefault(key, []).append(line)
        return {key: tuple(sorted(found, key=lambda line: (line.line_no, line.record_no))) for key, found in lines.items()}

    # --- the bot -------------------------------------------------------------------------------

    async def find_bill(self, id_or_number: str) -> Bill | None:
        """The bill whose bill number (RECORDID), RECORDNO or reference (DOCNUMBER) is this, with lines."""
        wanted = clean_text(id_or_number).strip()
        if not wanted:
            return None
        matches = [field("RECORDID").eq(wanted), field("DOCNUMBER").eq(wanted)]
        if wanted.isascii() and wanted.isdigit() and len(wanted) <= 18:
            matches.append(field("RECORDNO").eq(int(wanted)))
        zone = await self._zone()
        query = PagedQuery("bill", BILL_OBJECT, BILL_FIELDS, render(any_of(*matches)), lambda row: parse_bill(row, zone), pagesize=10, max_rows=10)
        bills = (await run_queries(self.execute, [query]))["bill"].records
        if not bills:
            return None

        def rank(bill: Bill) -> tuple[int, int]:
            exact = 0 if bill.bill_number == wanted else 1 if str(bill.record_no) == wanted else 2
            return exact, bill.record_no

        best = min(bills, key=rank)
        lines = await self.fetch_bill_lines([best.record_no])
        return replace(best, lines=lines.get(best.record_no, ()))

    async def query_bills(
        self,
        *,
        states: Iterable[str] | None = None,
        vendor: str | None = None,
        min_amount: Decimal | int | str | None = None,
        department: str | None = None,
        due_from: date | None = None,
        due_to: date | None = None,
        open_only: bool = False,
        limit: int = 25,
    ) -> BillPage:
        """Bills matching every given filter, filtered by Intacct; at most ``limit`` (paged past 1,000), by due date.

        ``states`` are display values (Submitted, Posted…), ``vendor`` an id or part of a name,
        ``min_amount`` compares with TOTALENTERED, ``department`` an id or name (its lines'
        RECORDKEYs are looked up first, then the bills by RECORDNO IN …).
        """
        pagesize = _page_size(limit)
        conditions: list[Condition] = []
        if states is not None:
            codes = bill_state_codes(states)
            if not codes:
                return BillPage([], 0)
            conditions.append(field("STATE").in_(codes))
        if vendor is not None:
            by_vendor = _id_or_name(vendor, "VENDORID", "VENDORNAME")
            if by_vendor is None:
                return BillPage([], 0)
            conditions.append(by_vendor)
        if min_amount is not None:
            conditions.append(field("TOTALENTERED").ge(_amount(min_amount)))
        if due_from is not None:
            conditions.append(field("WHENDUE").ge(due_from))
        if due_to is not None:
            conditions.append(field("WHENDUE").le(due_to))
        if open_only:
            conditions.append(field("TOTALDUE").gt(0))
        key_groups: list[list[int] | None] = [None]
        if department is not None:
            keys = await self._bill_keys_with_department(department)
            if not keys:
                return BillPage([], 0)
            key_groups = list(_chunks(keys, KEYS_PER_QUERY))
        zone = await self._zone()
        queries = []
        for i, group in enumerate(key_groups):
            parts = conditions if group is None else [*conditions, field("RECORDNO").in_(group)]
            condition = all_of(*parts) if parts else None
            queries.append(
                PagedQuery(i, BILL_OBJECT, BILL_FIELDS, render(condition), lambda row: parse_bill(row, zone), pagesize=pagesize,
                           max_rows=limit, parse_page=lambda result: parse_bill_page(result, zone))  # fmt: skip
            )
        outcomes = await run_queries(self.execute, queries)
        bills = sorted(chain.from_iterable(o.records for o in outcomes.values()), key=lambda b: (b.due_date or date.max, b.record_no))
        return BillPage(bills[:limit], sum(o.total for o in outcomes.values()))

    async def query_payments(self, *, states: Iterable[str] | None = None, limit: int = 25) -> PaymentPage:
        """Payments in these display states (all when None), at most ``limit``, newest payment date first."""
        pagesize = _page_size(limit)
        condition = None
        if states is not None:
            codes = payment_state_codes(states)
            if not codes:
                return PaymentPage([], 0)
            condition = field("STATE").in_(codes)
        zone = await self._zone()
        query = PagedQuery(
            "payments", PAYMENT_OBJECT, PAYMENT_FIELDS, render(condition), lambda row: parse_payment(row, zone), pagesize=pagesize, max_rows=limit
        )
        outcome = (await run_queries(self.execute, [query]))["payments"]
        payments = sorted(outcome.records, key=lambda p: (p.payment_date or date.min, p.record_no), reverse=True)
        return PaymentPage(payments, outcome.total)

    async def find_vendors(self, text: str, limit: int = 5) -> list[Vendor]:
        """Vendors whose id is ``text`` (first) or whose name contains it, at most ``limit``."""
        pagesize = _page_size(limit)
        wanted = clean_text(text).strip()
        if not wanted:
            return []
        zone = await self._zone()

        def parse(row: Mapping[str, str | None]) -> Vendor:
            return parse_vendor(row, zone)

        # Two functions in one request, so an exact id match is never crowded out of a full page.
        queries = [PagedQuery("id", VENDOR_OBJECT, VENDOR_FIELDS, render(field("VENDORID").eq(wanted)), parse, pagesize=1, max_rows=1)]
        by_name = _name_contains(wanted, "NAME")
        if by_name is not None:
            queries.append(PagedQuery("name", VENDOR_OBJECT, VENDOR_FIELDS, render(by_name), parse, pagesize=pagesize, max_rows=limit))
        outcomes = await run_queries(self.execute, queries)
        found: dict[int, Vendor] = {v.record_no: v for v in outcomes["id"].records}
        named = outcomes["name"].records if "name" in outcomes else []
        for vendor in sorted(named, key=lambda v: (v.name.casefold(), v.record_no)):
            found.setdefault(vendor.record_no, vendor)
        return list(found.values())[:limit]

    # --- reference data and `check` ------------------------------------------------------------

    async def fetch_dimensions(self, kinds: Iterable[DimensionKind]) -> dict[DimensionKind, list[Dimension]]:
        """Every record of each reference object (one request for all first pages), sorted by id."""
        wanted = list(dict.fromkeys(kinds))
        if not wanted:
            return {}
        zone = await self._zone()
        queries = [
            PagedQuery(kind, kind.value, dimension_fields(kind), "", _dimension_parser(kind, zone))
            for kind in wanted
        ]
        outcomes = await run_queries(self.execute, queries)
        return {kind: sorted(outcomes[kind].records, key=lambda d: (d.id, d.record_no)) for kind in wanted}

    async def fetch_company_info(self) -> CompanyInfo:
        """The company's id and name (readByQuery on COMPANY, one row) and the entity logged into."""
        credentials = self._credentials

        def parse(row: Mapping[str, str | None]) -> CompanyInfo:
            return parse_company(row, company_id=credentials.company_id, entity_id=credentials.entity_id)

        query = PagedQuery("company", COMPANY_OBJECT, COMPANY_FIELDS, "", parse, pagesize=1, max_rows=1)
        records = (await run_queries(self.execute, [query]))["company"].records
        if not records:
            raise MalformedResponseError("readByQuery on COMPANY returned no row")
        return records[0]

    async def fetch_user_formatting(self) -> UserFormatting:
        """The Web Services user's formatting (readUserFormatting), whose gmtoffset dates every timestamp."""
        result = (await self.execute([read_user_formatting(self._credentials.user_id)]))[0].raise_for_error()
        row = next(result.rows(), None)
        if row is None:
            raise MalformedResponseError("readUserFormatting returned no <userformatting>")
        formatting = parse_user_formatting(row)
        if formatting.date_format != "/mdY" or formatting.clock != 24:
            # Timestamps are parsed as MM/DD/YYYY HH:MM:SS; other preferences may change them.
            log.warning(
                "intacct user %s formats dates as %r with a %d-hour clock; ml-connector expects '/mdY' and 24",
                self._credentials.user_id, formatting.date_format, formatting.clock,
            )  # fmt: skip
        if self._configured_offset is None:
            self._offset = formatting.gmt_offset
        return formatting

    async def time_zone(self) -> timezone:
        """The Intacct user's zone (the configured offset, else readUserFormatting's, read once)."""
        return await self._zone()

    @property
    def known_time_zone(self) -> timezone | None:
        """The Intacct user's zone if already known (configured, or read), without a request."""
        return None if self._offset is None else timezone(self._offset)

    async def _zone(self) -> timezone:
        """The zone of Intacct timestamps: the configured offset, else the user's, read once."""
        if self._offset is None:
            async with self._offset_lock:
                if self._offset is None:
                    await self.fetch_user_formatting()
        assert self._offset is not None
        return timezone(self._offset)

    async def _bill_keys_with_department(self, department: str) -> list[int]:
        wanted = clean_text(department).strip()
        if not wanted:
            return []
        condition = any_of(field("DEPARTMENTID").eq(wanted), field("DEPARTMENTNAME").eq(wanted))
        query = PagedQuery("keys", BILL_LINE_OBJECT, ("RECORDKEY",), render(condition), lambda row: required_int(row, "RECORDKEY"))
        keys = (await run_queries(self.execute, [query]))["keys"].records
        return sorted(set(keys))


def _dimension_parser(kind: DimensionKind, zone: timezone) -> Callable[[Mapping[str, str | None]], Dimension]:
    return lambda row: parse_dimension(kind, row, zone)


def _page_size(limit: int) -> int:
    """The readByQuery pagesize for reading ``limit`` rows (more than 1,000 → readMore pages)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    return min(limit, MAX_PAGE_SIZE)


def _amount(value: Decimal | int | str) -> Decimal | int:
    if isinstance(value, (bool, float)):
        raise TypeError("pass amounts as Decimal, int or str, not float or bool")
    if isinstance(value, int):
        return value
    try:
        return Decimal(value)
    except ArithmeticError:
        raise ValueError(f"not an amount: {str(value)[:20]!r}") from None


def _chunks(values: list[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _name_contains(text: str, name_field: str) -> Condition | None:
    """NAME LIKE '%text%' in the usual spellings (readByQuery compares case-sensitively)."""
    search = clean_search_text(text)
    if not search:
        return None
    variants = dict.fromkeys((search, search.lower(), search.upper(), search.title()))
    return any_of(*(field(name_field).contains(v) for v in variants))


def _id_or_name(text: str, id_field: str, name_field: str) -> Condition | None:
    wanted = clean_text(text).strip()
    if not wanted:
        return None
    by_name = _name_contains(wanted, name_field)
    return field(id_field).eq(wanted) if by_name is None else any_of(field(id_field).eq(wanted), by_name)
