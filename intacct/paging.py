"""Run several readByQuery reads together: first pages in one request, then batched readMore follow-ups.

Each query's first page goes out in one multi-function request; only queries whose answer says
``numremaining > 0`` get a ``readMore`` in the next request, and the readMores of several
queries share that request. Pages are parsed into records as they arrive, so a response tree is
dropped as soon as its page is read. A readMore refused for an expired resultId restarts that
query once from its first page; any other function failure is raised as its typed error, or,
with ``isolate=True``, kept in that query's outcome: the other queries run to their end, and the
failed one has no records (a half-read object is never handed on as if it were complete).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Awaitable, Callable, Generic, Hashable, Sequence, TypeVar

from intacct.errors import FunctionError, MalformedRecordError, MalformedResponseError, ResultIdExpiredError
from intacct.protocol import MAX_PAGE_SIZE, READ_BY_QUERY, Function, Result, read_by_query, read_more
from intacct.values import Row

log = logging.getLogger(__name__)

T = TypeVar("T")
Execute = Callable[[Sequence[Function]], Awaitable[list[Result]]]

MAX_FUNCTIONS_PER_REQUEST = 10
"""Functions per request: enough for one poll cycle; keeps a single answer far below the size limit."""


@dataclass(frozen=True, slots=True)
class PagedQuery(Generic[T]):
    """One readByQuery to run to its end (or to ``max_rows``), each row parsed by ``parse``."""

    key: Hashable
    object_name: str
    fields: tuple[str, ...]
    query: str
    parse: Callable[[Row], T]
    pagesize: int = MAX_PAGE_SIZE
    max_rows: int | None = None
    parse_page: Callable[[Result], list[T]] | None = None  # a whole page at once, when faster than row by row

    def first_page(self) -> Function:
        """The readByQuery function that starts (or restarts) this query."""
        return read_by_query(self.object_name, self.fields, self.query, pagesize=self.pagesize)


@dataclass(slots=True)
class QueryOutcome(Generic[T]):
    """The records of one query and the total count Intacct reported for it."""

    records: list[T] = field(default_factory=list)
    total: int = 0
    error: FunctionError | MalformedRecordError | MalformedResponseError | None = None  # with isolate=True: why it failed


async def run_queries(
    execute: Execute,
    queries: Sequence[PagedQuery[T]],
    *,
    max_functions_per_request: int = MAX_FUNCTIONS_PER_REQUEST,
    isolate: bool = False,
) -> dict[Hashable, QueryOutcome[T]]:
    """Run every query to its end and return their outcomes by key (see the module docstring).

    With ``isolate``, a query whose function fails (or whose page cannot be read) keeps the
    error in its outcome instead of raising; control, authentication and transport failures
    still raise, since they mean no query got an answer."""
    keys = [q.key for q in queries]
    if len(set(keys)) != len(keys):
        raise ValueError("query keys must be unique")
    outcomes: dict[Hashable, QueryOutcome[T]] = {q.key: QueryOutcome() for q in queries}
    restarted: set[Hashable] = set()
    pending: list[tuple[PagedQuery[T], Function]] = [(q, q.first_page()) for q in queries]
    while pending:
        batch, pending = pending[:max_functions_per_request], pending[max_functions_per_request:]
        results = await execute([function for _, function in batch])
        for (query, function), result in zip(batch, results, strict=True):
            outcome = outcomes[query.key]
            try:
                follow_up = _absorb(query, function, result, outcome, restarted)
            except (FunctionError, MalformedRecordError, MalformedResponseError) as exc:
                if not isolate:
                    raise
                log.warning("intacct %s could not be read: %s", query.object_name, exc)
                outcome.records.clear()
                outcome.total = 0
                outcome.error = exc
                continue
            if follow_up is not None:
                pending.append((query, follow_up))
    return outcomes


def _absorb(
    query: PagedQuery[T], function: Function, result: Result, outcome: QueryOutcome[T], restarted: set[Hashable]
) -> Function | None:
    """Take one page into ``outcome``; return the function that fetches what is left, if anything."""
    if isinstance(result.error, ResultIdExpiredError) and query.key not in restarted:
        restarted.add(query.key)
        log.warning("intacct %s: resultId expired while paging; restarting the query once", query.object_name)
        return query.first_page()
    result.raise_for_error()
    if function.name == READ_BY_QUERY:
        outcome.records.clear()  # a restart begins again from the first page
        outcome.total = result.totalcount if result.totalcount is not None else (result.count or 0)
    limit = query.max_rows
    page_rows = 0
    page = query.parse_page(result) if query.parse_page is not None else map(query.parse, result.rows())
    for record in page:
        if limit is not None and len(outcome.records) >= limit:
            return None
        outcome.records.append(record)
        page_rows += 1
    remaining = result.numremaining or 0
    if remaining <= 0 or (limit is not None and len(outcome.records) >= limit):
        return None
    if not result.result_id:
        raise MalformedResponseError(f"{query.object_name}: numremaining={remaining} but no resultId to read more")
    if not page_rows:
        # An empty page that claims more rows would make us loop for ever.
        raise MalformedResponseError(f"{query.object_name}: empty page with numremaining={remaining}")
    return read_more(result.result_id)
