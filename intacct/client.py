"""IntacctClient: the typed surface the poller, the bot and `check` use; `execute` is its only network call.

Every read is a readByQuery with an explicit field list: the fields this company's `lookup`
showed (`check_schema`, run once before the first read and again on the reference schedule), so
an optional field a company lacks is never asked for. Filters typed in chat are pushed into the
Intacct query (escaped by `intacct.query`), never applied after reading everything, except a
state whose stored code is undocumented (`intacct.states`): then the read excludes what
documented codes can exclude and the words are checked here. readByQuery cannot sort, so a page
of at most ``limit`` records is sorted here and comes with the total count of matches
(``BillPage.total``) so a card can say how many more exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from dataclasses import dataclass, field as dataclass_field, replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import chain
from typing import Callable, Iterable, Iterator, Mapping, Sequence, TypeVar

import aiohttp

from intacct.bills import BILL_LINE_OBJECT, BILL_LINE_READ, BILL_OBJECT, BILL_READ, Bill, BillLine, parse_bill, parse_bill_line, parse_bill_line_page, parse_bill_page
from intacct.company import COMPANY_NAME_FIELD, COMPANY_OBJECT, USER_FIELDS, USER_OBJECT, UserFormatting, parse_user_formatting
from intacct.credentials import IntacctCredentials
from intacct.dimensions import DIMENSION_READS, Dimension, DimensionKind, parse_dimension
from intacct.errors import FunctionError, IntacctError, MalformedResponseError, SchemaError, UserFormattingRefusedError
from intacct.paging import PagedQuery, run_queries
from intacct.payments import PAYMENT_OBJECT, PAYMENT_READ, Payment, parse_payment
from intacct.protocol import GET_API_SESSION, MAX_PAGE_SIZE, Function, Result, lookup, read_by_name, read_by_query, read_user_formatting
from intacct.query import Condition, all_of, any_of, clean_search_text, clean_text, field, render
from intacct.schema import FieldInfo, ObjectCheck, ObjectFields, SchemaMissingError, SchemaReport, describe_problem, parse_lookup
from intacct.sessions import Clock, SessionCache, SessionManager
from intacct.states import StateFilter, bill_state_filter, payment_state_filter
from intacct.stats import ClientStats, StatsRecorder
from intacct.transport import DEFAULT_MAX_RESPONSE_BYTES, Jitter, RetryPolicy, Sleep, Transport
from intacct.values import required_int
from intacct.vendors import VENDOR_OBJECT, VENDOR_READ, Vendor, parse_vendor

__all__ = [
    "DEFAULT_ENDPOINT",
    "BillPage",
    "ChangeSet",
    "ClientStats",
    "IntacctClient",
    "IntacctCredentials",
    "PaymentPage",
    "READS",
    "SessionCache",
    "utc_now",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_ENDPOINT = "https://api.intacct.com/ia/xml/xmlgw.phtml"
CHANGE_OBJECTS = (BILL_OBJECT, PAYMENT_OBJECT, VENDOR_OBJECT)
READS: tuple[ObjectFields, ...] = (BILL_READ, BILL_LINE_READ, PAYMENT_READ, VENDOR_READ, *DIMENSION_READS.values())
"""Every object the client reads, with its fields: what `check_schema` looks up (one request)."""
_SPECS = {spec.object: spec for spec in READS}
KEYS_PER_QUERY = 200
"""RECORDKEY/RECORDNO values per ``IN (…)`` list: keeps each query string a few KB."""


def utc_now() -> datetime:
    """The current time, aware, in UTC (the default clock)."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """Records modified since the watermarks (bills without lines) and what reading them cost.

    An object that could not be read (its function failed, a page was unreadable, or this
    company's `lookup` shows it cannot be) is in `failures` with its error, and has no records."""

    bills: list[Bill]
    payments: list[Payment]
    vendors: list[Vendor]
    requests: int
    functions: int
    failures: Mapping[str, IntacctError] = dataclass_field(default_factory=dict)


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
        # The company's definitions (`lookup`): asked once before the first read, then refreshed
        # by check_schema (the reference schedule) or installed from the store (use_schema).
        self._schema: SchemaReport | None = None
        self._schema_lock = asyncio.Lock()

    def __repr__(self) -> str:
        c = self._credentials
        return f"IntacctClient(company={c.company_id!r}, user={c.user_id!r}, entity={c.entity_id!r})"

    @property
    def stats(self) -> ClientStats:
        """Requests, functions (total and per name), retries and errors per code since creation."""
        return self._recorder.totals

    @contextlib.contextmanager
    def counting(self) -> Iterator[ClientStats]:
        """What the calls inside the ``with`` block cost (requests, functions), counted apart from
        whatever else uses the client at the same time (the poller, other people's reads)."""
        with self._recorder.scope() as cost:
            yield cost

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

    # --- the company's definitions -------------------------------------------------------------

    async def lookup(self, object_names: Sequence[str]) -> dict[str, dict[str, FieldInfo] | FunctionError]:
        """`lookup` of each object, in ONE request: its fields, or the error that function got."""
        names = list(dict.fromkeys(object_names))
        results = await self.execute([lookup(name) for name in names])
        found: dict[str, dict[str, FieldInfo] | FunctionError] = {}
        for name, result in zip(names, results, strict=True):
            if result.error is not None:
                found[name] = result.error
                continue
            try:
                found[name] = parse_lookup(result.data_element)
            except ValueError as exc:
                raise MalformedResponseError(f"lookup of {name}: {exc}") from None
        return found

    async def check_schema(self) -> SchemaReport:
        """Look up every object the client reads and decide each one's select list from it.

        Logs one warning per object whose optional fields this company lacks (they are left out
        of every read; cards omit them) and one error per object that cannot be read, each time
        that changes. Control/authentication failures raise; the previous report stays in use."""
        found = await self.lookup([spec.object for spec in READS])
        previous = self._schema.checks if self._schema is not None else {}
        checks = {}
        for spec in READS:
            answer = found[spec.object]
            if not isinstance(answer, FunctionError):
                checks[spec.object] = ObjectCheck(spec, answer)
            elif _not_found(answer):
                checks[spec.object] = ObjectCheck(spec, None, answer.message, missing=True)
            elif spec.object in previous and not previous[spec.object].unverified:
                # A lookup that failed for once (refused, off-line): what was known still holds.
                checks[spec.object] = previous[spec.object]
            else:
                checks[spec.object] = ObjectCheck(spec, None, answer.message)
        report = SchemaReport(checks)
        self._install(report)
        return report

    def use_schema(self, report: SchemaReport) -> None:
        """Install a report made elsewhere (the store's cached one when Intacct cannot be asked)."""
        self._install(report)

    @property
    def schema(self) -> SchemaReport | None:
        """The company's definitions in use (None before the first lookup)."""
        return self._schema

    def _install(self, report: SchemaReport) -> None:
        previous = self._schema
        self._schema = report
        credentials = self._credentials
        for name, dropped in report.dropped().items():
            if previous is None or previous.dropped().get(name) != dropped:
                log.warning(
                    "intacct company %s: %s has no %s; those fields are not read and cards omit them",
                    credentials.company_id, name, ", ".join(dropped),
                )
        for name in report.absent_objects():
            if previous is None or name not in previous.absent_objects():
                log.warning("intacct company %s has no %s (%s); it is not read", credentials.company_id, name, report.checks[name].error)
        for check in report.problems():
            old = previous.checks.get(check.spec.object) if previous is not None else None
            if old is None or old.available or old.missing_required != check.missing_required:
                log.error("intacct company %s: %s", credentials.company_id, describe_problem(check))

    async def _fields(self, object_name: str) -> tuple[str, ...]:
        """The select list of an object in this company (SchemaError when it cannot be read)."""
        if self._schema is None:
            async with self._schema_lock:
                if self._schema is None:
                    await self.check_schema()
        assert self._schema is not None
        try:
            return self._schema.fields(object_name)
        except SchemaMissingError as exc:
            raise SchemaError(str(exc), correction=exc.check.spec.fix or None) from None

    # --- poller --------------------------------------------------------------------------------

    async def read_changes(
        self,
        since: Mapping[str, datetime | None],
        objects: Sequence[str] = CHANGE_OBJECTS,
    ) -> ChangeSet:
        """Records with WHENMODIFIED >= since[object] (every record when None), all pages.

        One request carries a readByQuery per object; readMore follow-ups go only to objects with
        ``numremaining > 0`` and share requests. An object that fails on its own (its function
        failed, a page could not be read, or this company cannot read it) is reported in
        ``ChangeSet.failures`` and the others are returned as usual; control, authentication and
        transport failures raise.
        """
        unknown = [name for name in objects if name not in CHANGE_OBJECTS]
        if unknown or not objects:
            raise ValueError(f"read_changes reads {', '.join(CHANGE_OBJECTS)}; got {list(objects)}")
        failures: dict[str, IntacctError] = {}
        with self._recorder.scope() as cost:
            zone = await self._zone()
            parsers: dict[str, Callable] = {
                BILL_OBJECT: lambda row: parse_bill(row, zone),
                PAYMENT_OBJECT: lambda row: parse_payment(row, zone),
                VENDOR_OBJECT: lambda row: parse_vendor(row, zone),
            }
            page_parsers = {BILL_OBJECT: lambda result: parse_bill_page(result, zone)}  # payments, vendors: row by row
            queries = []
            for name in dict.fromkeys(objects):
                try:
                    fields = await self._fields(name)
                except SchemaError as exc:
                    failures[name] = exc
                    continue
                moment = since.get(name)
                condition = None if moment is None else field("WHENMODIFIED").ge(moment)
                queries.append(PagedQuery(name, name, fields, render(condition, zone.utcoffset(None)), parsers[name],
                                          parse_page=page_parsers.get(name)))  # fmt: skip
            outcomes = await run_queries(self.execute, queries, isolate=True) if queries else {}
        records: dict[str, list] = {}
        for name, outcome in outcomes.items():
            if outcome.error is not None:
                failures[name] = outcome.error
            else:
                records[name] = outcome.records
        return ChangeSet(
            bills=records.get(BILL_OBJECT, []),
            payments=records.get(PAYMENT_OBJECT, []),
            vendors=records.get(VENDOR_OBJECT, []),
            requests=cost.requests,
            functions=cost.functions,
            failures=failures,
        )

    async def fetch_bill_lines(self, record_nos: Iterable[int]) -> dict[int, tuple[BillLine, ...]]:
        """The lines of these bills (RECORDKEY IN (…), chunked), ordered by line number; () when none."""
        keys = sorted({int(n) for n in record_nos})
        if not keys:
            return {}
        fields = await self._fields(BILL_LINE_OBJECT)
        queries = [
            PagedQuery(i, BILL_LINE_OBJECT, fields, render(field("RECORDKEY").in_(chunk)), parse_bill_line,
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
        fields = await self._fields(BILL_OBJECT)
        matches = [field("RECORDID").eq(wanted)]
        if "DOCNUMBER" in fields:
            matches.append(field("DOCNUMBER").eq(wanted))
        if wanted.isascii() and wanted.isdigit() and len(wanted) <= 18:
            matches.append(field("RECORDNO").eq(int(wanted)))
        zone = await self._zone()
        query = PagedQuery("bill", BILL_OBJECT, fields, render(any_of(*matches)), lambda row: parse_bill(row, zone), pagesize=10, max_rows=10)
        bills = (await run_queries(self.execute, [query]))["bill"].records
        if not bills:
            return None

        def rank(bill: Bill) -> tuple[int, int]:
            exact = 0 if bill.bill_number == wanted else 1 if str(bill.record_no) == wanted else 2
            return exact, bill.record_no

        best = min(bills, key=rank)
        lines = await self.fetch_bill_lines([best.record_no])
        return replace(best, lines=lines.get(best.record_no, ()))

    async def read_bill(self, record_no: int) -> Bill | None:
        """The bill with this RECORDNO and its lines, read in ONE request (two functions); None when
        there is none (deleted, or not visible to this user or entity)."""
        record_no = _record_no(record_no)
        bill_fields, line_fields = await self._fields(BILL_OBJECT), await self._fields(BILL_LINE_OBJECT)
        zone = await self._zone()
        queries = [
            PagedQuery("bill", BILL_OBJECT, bill_fields, render(field("RECORDNO").eq(record_no)), lambda row: parse_bill(row, zone),
                       pagesize=1, max_rows=1),
            PagedQuery("lines", BILL_LINE_OBJECT, line_fields, render(field("RECORDKEY").eq(record_no)), parse_bill_line,
                       parse_page=parse_bill_line_page),
        ]  # fmt: skip
        outcomes = await run_queries(self.execute, queries)
        bills = outcomes["bill"].records
        if not bills:
            return None
        lines = sorted((line for key, line in outcomes["lines"].records if key == record_no), key=lambda line: (line.line_no, line.record_no))
        return replace(bills[0], lines=tuple(lines))

    async def read_payment(self, record_no: int) -> Payment | None:
        """The payment (request) with this RECORDNO, or None when there is none."""
        return await self._read_one(PAYMENT_OBJECT, parse_payment, record_no)

    async def read_vendor(self, record_no: int) -> Vendor | None:
        """The vendor with this RECORDNO, or None when there is none."""
        return await self._read_one(VENDOR_OBJECT, parse_vendor, record_no)

    async def _read_one(self, object_name: str, parse: Callable[[Mapping[str, str | None], timezone], T], record_no: int) -> T | None:
        """The record of `object_name` with this RECORDNO (one function), or None."""
        record_no = _record_no(record_no)
        fields, zone = await self._fields(object_name), await self._zone()
        query = PagedQuery(object_name, object_name, fields, render(field("RECORDNO").eq(record_no)), lambda row: parse(row, zone),
                           pagesize=1, max_rows=1)  # fmt: skip
        found = (await run_queries(self.execute, [query]))[object_name].records
        return found[0] if found else None

    async def search_bills(self, text: str, *, limit: int = 100) -> BillPage:
        """Bills a person may mean by `text`, in ONE function, in Intacct's order: its bill number
        (exactly, or starting with it), reference, vendor id or part of the vendor's name, or, when
        the text reads as an amount (`1250`, `1,250.00`), bills whose total or amount due is it.
        Text is escaped like every chat filter (intacct.query); at most ``limit`` come back, with
        Intacct's count of every match."""
        pagesize = _page_size(limit)
        wanted = clean_text(text).strip()
        if not wanted:
            return BillPage([], 0)
        fields = await self._fields(BILL_OBJECT)
        matches: list[Condition] = [field("RECORDID").eq(wanted), field("VENDORID").eq(wanted)]
        if clean_search_text(wanted):
            matches.append(field("RECORDID").starts_with(wanted))
        if "DOCNUMBER" in fields:
            matches.append(field("DOCNUMBER").eq(wanted))
        if "VENDORNAME" in fields and (by_name := _name_contains(wanted, "VENDORNAME")) is not None:
            matches.append(by_name)
        amount = amount_in(wanted)
        if amount is not None:
            matches += [field("TRX_TOTALENTERED").eq(amount), field("TRX_TOTALDUE").eq(amount)]
        zone = await self._zone()
        query = PagedQuery("search", BILL_OBJECT, fields, render(any_of(*matches)), lambda row: parse_bill(row, zone),
                           pagesize=pagesize, max_rows=limit, parse_page=lambda result: parse_bill_page(result, zone))  # fmt: skip
        outcome = (await run_queries(self.execute, [query]))["search"]
        return BillPage(outcome.records[:limit], outcome.total)

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

        ``states`` are STATE words (Submitted, Posted…), ``vendor`` an id or part of a name,
        ``min_amount`` compares with TRX_TOTALENTERED (the bill's own currency), ``department``
        an id or name (its lines' RECORDKEYs are looked up first, then the bills by RECORDNO IN …).
        """
        pagesize = _page_size(limit)
        if states is not None and not (states := list(states)):
            return BillPage([], 0)
        fields = await self._fields(BILL_OBJECT)
        conditions: list[Condition] = []
        states_filter = _state_condition(bill_state_filter(states), conditions) if states is not None else None
        if vendor is not None:
            by_vendor = _id_or_name(vendor, "VENDORID", "VENDORNAME" if "VENDORNAME" in fields else None)
            if by_vendor is None:
                return BillPage([], 0)
            conditions.append(by_vendor)
        if min_amount is not None:
            conditions.append(field("TRX_TOTALENTERED").ge(_amount(min_amount)))
        if due_from is not None:
            conditions.append(field("WHENDUE").ge(due_from))
        if due_to is not None:
            conditions.append(field("WHENDUE").le(due_to))
        if open_only:
            conditions.append(field("TRX_TOTALDUE").gt(0))
        key_groups: list[list[int] | None] = [None]
        if department is not None:
            keys = await self._bill_keys_with_department(department)
            if not keys:
                return BillPage([], 0)
            key_groups = list(_chunks(keys, KEYS_PER_QUERY))
        zone = await self._zone()
        # Words checked here need every candidate row: Intacct's count would include the others.
        max_rows = limit if states_filter is None or states_filter.words is None else None
        queries = []
        for i, group in enumerate(key_groups):
            parts = conditions if group is None else [*conditions, field("RECORDNO").in_(group)]
            condition = all_of(*parts) if parts else None
            queries.append(
                PagedQuery(i, BILL_OBJECT, fields, render(condition), lambda row: parse_bill(row, zone), pagesize=pagesize,
                           max_rows=max_rows, parse_page=lambda result: parse_bill_page(result, zone))  # fmt: skip
            )
        outcomes = await run_queries(self.execute, queries)
        found = list(chain.from_iterable(o.records for o in outcomes.values()))
        total = sum(o.total for o in outcomes.values())
        if states_filter is not None and states_filter.words is not None:
            found = [bill for bill in found if states_filter.keeps(bill.state)]
            total = len(found)
        bills = sorted(found, key=lambda b: (b.due_date or date.max, b.record_no))
        return BillPage(bills[:limit], total)

    async def query_payments(self, *, states: Iterable[str] | None = None, limit: int = 25) -> PaymentPage:
        """Payments in these DISPLAYSTATE words (all when None), at most ``limit``, newest payment date first."""
        pagesize = _page_size(limit)
        if states is not None and not (states := list(states)):
            return PaymentPage([], 0)
        fields = await self._fields(PAYMENT_OBJECT)
        conditions: list[Condition] = []
        states_filter = _state_condition(payment_state_filter(states), conditions) if states is not None else None
        checked_here = states_filter is not None and states_filter.words is not None
        zone = await self._zone()
        query = PagedQuery(
            "payments", PAYMENT_OBJECT, fields, render(all_of(*conditions) if conditions else None),
            lambda row: parse_payment(row, zone), pagesize=pagesize, max_rows=None if checked_here else limit,
        )
        outcome = (await run_queries(self.execute, [query]))["payments"]
        found, total = outcome.records, outcome.total
        if checked_here:
            found = [payment for payment in found if states_filter.keeps(payment.state)]
            total = len(found)
        payments = sorted(found, key=lambda p: (p.payment_date or date.min, p.record_no), reverse=True)
        return PaymentPage(payments[:limit], total)

    async def find_vendors(self, text: str, limit: int = 5) -> list[Vendor]:
        """Vendors whose id is ``text`` (first) or whose name contains it, at most ``limit``."""
        pagesize = _page_size(limit)
        wanted = clean_text(text).strip()
        if not wanted:
            return []
        fields = await self._fields(VENDOR_OBJECT)
        zone = await self._zone()

        def parse(row: Mapping[str, str | None]) -> Vendor:
            return parse_vendor(row, zone)

        # Two functions in one request, so an exact id match is never crowded out of a full page.
        queries = [PagedQuery("id", VENDOR_OBJECT, fields, render(field("VENDORID").eq(wanted)), parse, pagesize=1, max_rows=1)]
        by_name = _name_contains(wanted, "NAME")
        if by_name is not None:
            queries.append(PagedQuery("name", VENDOR_OBJECT, fields, render(by_name), parse, pagesize=pagesize, max_rows=limit))
        outcomes = await run_queries(self.execute, queries)
        found: dict[int, Vendor] = {v.record_no: v for v in outcomes["id"].records}
        named = outcomes["name"].records if "name" in outcomes else []
        for vendor in sorted(named, key=lambda v: (v.name.casefold(), v.record_no)):
            found.setdefault(vendor.record_no, vendor)
        return list(found.values())[:limit]

    # --- reference data and `check` ------------------------------------------------------------

    async def fetch_dimensions(self, kinds: Iterable[DimensionKind]) -> dict[DimensionKind, list[Dimension]]:
        """Every record of each reference object this company has (one request for all first
        pages), sorted by id. A kind the company lacks (no Projects module) comes back empty; a
        kind whose read fails on its own is left out, so the caller keeps what it had."""
        wanted = list(dict.fromkeys(kinds))
        if not wanted:
            return {}
        zone = await self._zone()
        queries, absent = [], []
        for kind in wanted:
            try:
                fields = await self._fields(kind.value)
            except SchemaError:
                absent.append(kind)
                continue
            queries.append(PagedQuery(kind, kind.value, fields, "", _dimension_parser(kind, zone)))
        outcomes: dict = await run_queries(self.execute, queries, isolate=True) if queries else {}
        result: dict[DimensionKind, list[Dimension]] = {kind: [] for kind in absent if _absent_object(self._schema, kind)}
        for kind, outcome in outcomes.items():
            if outcome.error is None:
                result[kind] = sorted(outcome.records, key=lambda d: (d.id, d.record_no))
        return result

    async def fetch_company_name(self) -> str | None:
        """The company's name, read only when this company's own `lookup` shows COMPANY with a NAME
        field (nothing recorded from real Intacct backs that object: intacct/company.py); None when
        it does not, or has no name. A request that fails raises (ask again later)."""
        answer = (await self.lookup([COMPANY_OBJECT]))[COMPANY_OBJECT]
        if isinstance(answer, FunctionError) or COMPANY_NAME_FIELD not in answer:
            why = answer.message if isinstance(answer, FunctionError) else f"its definition has no {COMPANY_NAME_FIELD}"
            log.info("intacct company %s: no company name to read (%s lookup: %s); cards show the company id",
                     self._credentials.company_id, COMPANY_OBJECT, why)
            return None
        (result,) = await self.execute([read_by_query(COMPANY_OBJECT, [COMPANY_NAME_FIELD], pagesize=1)])
        if result.error is not None:
            log.info("intacct company %s: its name could not be read (%s)", self._credentials.company_id, result.error.message)
            return None
        return next((row.get(COMPANY_NAME_FIELD) for row in result.rows() if row.get(COMPANY_NAME_FIELD)), None)

    async def fetch_user_formatting(self) -> UserFormatting:
        """The Web Services user's formatting, whose gmtoffset dates every timestamp: the user's
        RECORDNO by readByName on USERINFO, then readUserFormatting with it as the key."""
        login = self._credentials.user_id
        user = (await self.execute([read_by_name(USER_OBJECT, [login], USER_FIELDS)]))[0]
        _raise_formatting_refused(user.error)
        record_no = next((row.get("RECORDNO") for row in user.rows() if row.get("RECORDNO")), None)
        if not record_no:
            raise MalformedResponseError(f"readByName found no USERINFO for the login {login!r}")
        result = (await self.execute([read_user_formatting(record_no)]))[0]
        _raise_formatting_refused(result.error)
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
        fields = await self._fields(BILL_LINE_OBJECT)
        matches = [field(name).eq(wanted) for name in ("DEPARTMENTID", "DEPARTMENTNAME") if name in fields]
        if not matches:
            raise SchemaError(
                f"{BILL_LINE_OBJECT} has no department fields in this company, so bills cannot be filtered by department",
                correction="Enable departments in the company, or give the role access to them.",
            )
        query = PagedQuery("keys", BILL_LINE_OBJECT, ("RECORDKEY",), render(any_of(*matches)), lambda row: required_int(row, "RECORDKEY"))
        keys = (await run_queries(self.execute, [query]))["keys"].records
        return sorted(set(keys))


FORMATTING_FIX = (
    "Give the Web Services user's role read access to Company > Users (its own user record: readUserFormatting), "
    "or set INTACCT_GMT_OFFSET to the user's time zone, e.g. -08:00."
)


def _raise_formatting_refused(error: FunctionError | None) -> None:
    """A refused USERINFO/readUserFormatting as the error that says what to do (transient ones as they are)."""
    if error is None:
        return
    if error.transient:
        raise error
    raise UserFormattingRefusedError(
        f"The time zone of the Web Services user cannot be read: {error.message}", errorno=error.errorno,
        description=error.description, description2=error.description2, correction=FORMATTING_FIX,
        controlid=error.controlid, function=error.function, level=error.level, details=error.details,
    )


def _not_found(error: FunctionError) -> bool:
    """Whether a failed lookup says the object does not exist ("Object definition X not found", the
    recorded answer for an unknown object: tests/fixtures/intacct-samples/response-result-failure-object-not-found.xml)."""
    return "object definition" in str(error).lower() and "not found" in str(error).lower()


def _absent_object(report: SchemaReport | None, kind: DimensionKind) -> bool:
    """Whether the company lacks this reference object altogether (not merely a field of it)."""
    check = report.checks.get(kind.value) if report is not None else None
    return check is not None and check.missing and check.spec.optional_object


def _state_condition(states: StateFilter, conditions: list[Condition]) -> StateFilter:
    """Add the STATE condition a filter needs (if any) and return the filter."""
    if states.codes_in is not None:
        conditions.append(field("STATE").in_(states.codes_in))
    elif states.codes_out:
        conditions.append(field("STATE").not_in(states.codes_out))
    return states


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


_AMOUNT = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,4})?|\.\d{1,4}")
MAX_AMOUNT_DIGITS = 15  # Intacct amounts fit in 15 significant digits; longer numbers are ids, not amounts


def amount_in(text: str) -> Decimal | None:
    """The amount a search text reads as (`1250`, `1,250.00`, `.50`; thousands separated by commas
    only where they group by three), or None when it is not one."""
    candidate = text.strip()
    if not _AMOUNT.fullmatch(candidate):
        return None
    digits = candidate.replace(",", "")
    if len(digits.replace(".", "").lstrip("0")) > MAX_AMOUNT_DIGITS:
        return None
    return Decimal(digits)


def _record_no(value: int) -> int:
    """A RECORDNO to put in a query: a positive int (bool and other types are programming errors)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"a RECORDNO is an int, not {type(value).__name__}")
    if not 0 < value < 2**63:
        raise ValueError(f"not a RECORDNO: {value}")
    return value


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


def _id_or_name(text: str, id_field: str, name_field: str | None) -> Condition | None:
    wanted = clean_text(text).strip()
    if not wanted:
        return None
    by_name = _name_contains(wanted, name_field) if name_field is not None else None
    return field(id_field).eq(wanted) if by_name is None else any_of(field(id_field).eq(wanted), by_name)
