"""SqlStore: the `Store` contract on SQLAlchemy Core, one class for SQLite and PostgreSQL.

Every method is one transaction (`_transaction`), and every failure of the database or of the
driver leaves it as a `StoreError` raised from the original (including "cannot connect"). A naive
datetime is a programming error and stays a `ValueError` (`NaiveDatetimeError`). Write
transactions start with `BEGIN IMMEDIATE` on SQLite (see store/engine.py); the two statements that
differ per dialect come from store/dialects.py.

SQLite admits one writer at a time. Concurrent write transactions of one process would meet in
SQLite's busy handler, which sleeps in growing steps (1, 2, 5 … 100 ms) and retries: with ten
concurrent writers, 2 ms commits took 0.19 s at the 95th percentile and 1.3 s at worst. So on
SQLite a store's write transactions take turns (`WriteTurns`) before they begin, and only writers
in other processes still meet the busy handler. The turns go in arrival order, except that
"sending" marks go first: a send waits for each of them, while claims and delivery records wait
for nobody. PostgreSQL has row locks: no turns.

Outbox state machine (one row = one event for one conversation):

    pending --claim--> pending+claim --mark_sending--> sending --mark_delivered--> delivered
       ^                                                  |  \\--mark_failed--> failed
       +------- mark_retry | mark_unsent (not_before) ----+

`record_delivery` / `record_failure` are mark_delivered / mark_failed with the card's place and
the audit line in the same transaction; `mark_unsent` is mark_retry for a row whose send never
happened, so the attempt that mark_sending counted is taken back; `mark_sending_many` and
`record_deliveries` do the same for many rows in one transaction.

A claim is `claimed_by` + `claimed_until`; a row whose claim expired is claimable again, whether
still pending (the holder died before sending) or sending (it died mid-send: the one send in
flight may repeat, which `attempts` > 0 on the claimed item makes visible).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import deque
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, AsyncIterator, Collection, Iterable, Mapping, Sequence

import asyncpg
from alembic.util.exc import CommandError
from sqlalchemy import Select, and_, bindparam, case, delete, exists, func, or_, select, update
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError, StatementError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store import rows
from store import schema as db
from store.api import StoreError
from store.columns import NaiveDatetimeError, require_aware
from store.dialects import lock_claim_candidates, serialize_claims, upsert_factory
from store.engine import SQLITE_BEGIN, create_engine, normalize_url, safe_url_text
from store.migrate import upgrade_to_head
from store.types import (
    AuditEntry,
    ConversationRecord,
    Delivery,
    GraphSubscription,
    IntacctUsage,
    KeyRingReport,
    NewOutboxItem,
    OutboxItem,
    PollState,
    PostedCard,
    RecordLink,
    Route,
    RouteFilter,
    Snapshot,
    WakeUpState,
)

log = logging.getLogger(__name__)

# Record numbers per IN (…) list: 1,000 (a poll page) is one query; far below SQLite's 32,766 and
# asyncpg's 32,767 bound-parameter limits.
IN_CHUNK = 1000

_OPEN = ("pending", "sending")

# The notifier's per-row statements, built once: constructing a statement costs more CPU than
# SQLite takes to run it, and these run several times per card. Values arrive as bound parameters.
_MARK_SENDING = (
    update(db.outbox)
    .where(
        db.outbox.c.id == bindparam("item_id"),
        db.outbox.c.claimed_by == bindparam("holder"),
        db.outbox.c.claimed_until > bindparam("now"),
        db.outbox.c.status.in_(_OPEN),
    )
    .values(status="sending", attempts=db.outbox.c.attempts + 1)
)
_MARK_DELIVERED = (
    update(db.outbox)
    .where(db.outbox.c.id == bindparam("item_id"))
    .values(status="delivered", activity_id=bindparam("activity_id"), finished_at=bindparam("now"),
            claimed_by=None, claimed_until=None)
)  # fmt: skip
_MARK_SENDING_MANY = (
    update(db.outbox)
    .where(
        db.outbox.c.id.in_(bindparam("item_ids", expanding=True)),
        db.outbox.c.claimed_by == bindparam("holder"),
        db.outbox.c.claimed_until > bindparam("now"),
        db.outbox.c.status.in_(_OPEN),
    )
    .values(status="sending", attempts=db.outbox.c.attempts + 1)
    .returning(db.outbox.c.id)
)
_APPEND_AUDIT = db.audit.insert()
_OUTBOX_STATUS = select(db.outbox.c.status).where(db.outbox.c.id == bindparam("item_id"))
_OUTBOX_IDS = select(db.outbox.c.id).where(db.outbox.c.id.in_(bindparam("item_ids", expanding=True)))

# Driver errors that can escape SQLAlchemy's wrapping, e.g. while a pooled connection is opened
# (asyncpg's connect raises OSError or its own errors unwrapped).
_DRIVER_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    sqlite3.Error,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


class WriteTurns:
    """One write transaction at a time: urgent ones first, each group in arrival order."""

    def __init__(self) -> None:
        self._busy = False
        self._waiting: tuple[deque[asyncio.Future[None]], deque[asyncio.Future[None]]] = (deque(), deque())

    @asynccontextmanager
    async def turn(self, *, urgent: bool) -> AsyncIterator[None]:
        """Hold the turn for the body of the `async with`."""
        await self._acquire(urgent)
        try:
            yield
        finally:
            self._release()

    async def _acquire(self, urgent: bool) -> None:
        if not self._busy:
            self._busy = True
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._waiting[0 if urgent else 1]
        queue.append(turn)
        try:
            await turn  # _release hands the turn over with _busy still True
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._release()  # the turn arrived together with the cancellation: pass it on
            else:
                queue.remove(turn)
            raise

    def _release(self) -> None:
        for queue in self._waiting:
            while queue:
                turn = queue.popleft()
                if not turn.done():
                    turn.set_result(None)
                    return
        self._busy = False


def open_store(database_url: str | None, *, data_dir: Path) -> SqlStore:
    """A store on `database_url` (None → SQLite file `data_dir/ml-connector.db`); no I/O but
    creating that file. Call `migrate()` before use."""
    url = normalize_url(database_url, data_dir=data_dir)
    return SqlStore(create_engine(url), url)


class SqlStore:
    """The Store on SQLite or PostgreSQL (use `open_store`)."""

    def __init__(self, engine: AsyncEngine, url: URL) -> None:
        self._engine = engine
        self._url_text = safe_url_text(url)
        self._dialect = engine.dialect.name
        self._upsert = upsert_factory(self._dialect)
        self._write_turns = WriteTurns() if self._dialect == "sqlite" else None
        key = ("company", "record_kind", "record_no", "conversation_id")
        upsert = self._upsert(db.posted_cards)
        # Built once like the statements above; the values come as parameters of each execution.
        self._upsert_posted_card = upsert.on_conflict_do_update(
            index_elements=list(key), set_={c.name: upsert.excluded[c.name] for c in db.posted_cards.c if c.name not in key}
        )

    def __repr__(self) -> str:
        return f"SqlStore({self._url_text})"

    @property
    def dialect_name(self) -> str:
        """`sqlite` or `postgresql`."""
        return self._dialect

    @property
    def engine(self) -> AsyncEngine:
        """The underlying engine (for tests and diagnostics; the app uses the methods)."""
        return self._engine

    @asynccontextmanager
    async def _transaction(self, operation: str, *, write: bool = False, urgent: bool = False) -> AsyncIterator[AsyncConnection]:
        """One transaction; database and driver errors leave as StoreError naming `operation`.
        A write transaction on SQLite first waits for its turn, `urgent` ones before the others
        (see the module docstring); no method may open a write transaction while it holds one."""
        turn: AbstractAsyncContextManager[Any] = nullcontext()
        if write and self._write_turns is not None:
            turn = self._write_turns.turn(urgent=urgent)
        try:
            async with turn, self._engine.connect() as conn:
                if write and self._dialect == "sqlite":
                    await conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
                async with conn.begin():
                    yield conn
        except StatementError as exc:
            if isinstance(exc.orig, NaiveDatetimeError):
                raise exc.orig from None
            raise self._error(operation, exc) from exc
        except (SQLAlchemyError, *_DRIVER_ERRORS) as exc:
            raise self._error(operation, exc) from exc

    def _error(self, operation: str, exc: BaseException) -> StoreError:
        return StoreError(f"{operation} failed: {_describe(exc)}", unreachable=_unreachable(exc), database=self._url_text)

    # --- lifecycle -------------------------------------------------------------------------
    async def migrate(self) -> None:
        """Bring the schema to the newest migration (alembic); safe to call on every start, and
        from several instances at once (store/migrate.py explains the locking)."""
        try:
            async with self._transaction("migrate", write=True) as conn:
                await conn.run_sync(upgrade_to_head)
        except CommandError as exc:  # e.g. the database is at a revision this code does not know
            raise StoreError(f"migrate failed: {exc}", database=self._url_text) from exc

    async def ping(self) -> None:
        """Raise StoreError when the database cannot be reached."""
        async with self._transaction("ping") as conn:
            await conn.execute(select(1))

    async def close(self) -> None:
        """Release connections."""
        await self._engine.dispose()

    # --- poller state ----------------------------------------------------------------------
    async def get_watermarks(self, company: str) -> dict[str, datetime]:
        """Per object name (APBILL, APPYMT, VENDOR…), the newest WHENMODIFIED already processed."""
        query = select(db.watermarks.c.object_name, db.watermarks.c.watermark).where(db.watermarks.c.company == company)
        async with self._transaction("get_watermarks") as conn:
            return {name: mark for name, mark in (await conn.execute(query)).all()}

    async def load_snapshots(self, company: str, object_name: str, record_nos: Iterable[int]) -> dict[int, Snapshot]:
        """The stored snapshots of these records (missing ones are simply absent); one query per
        IN_CHUNK record numbers."""
        wanted = sorted(set(record_nos))
        found: dict[int, Snapshot] = {}
        async with self._transaction("load_snapshots") as conn:
            for start in range(0, len(wanted), IN_CHUNK):
                query = self._snapshots_of(company, object_name).where(
                    db.snapshots.c.record_no.in_(wanted[start : start + IN_CHUNK])
                )
                for row in await conn.execute(query):
                    found[row.record_no] = rows.snapshot_from_row(row)
        return found

    async def load_all_snapshots(self, company: str, object_name: str) -> dict[int, Snapshot]:
        """Every stored snapshot of one object (reconciliation of open records)."""
        async with self._transaction("load_all_snapshots") as conn:
            result = await conn.execute(self._snapshots_of(company, object_name))
            return {row.record_no: rows.snapshot_from_row(row) for row in result}

    @staticmethod
    def _snapshots_of(company: str, object_name: str) -> Select[Any]:
        return select(db.snapshots.c.record_no, db.snapshots.c.when_modified, db.snapshots.c.fields).where(
            db.snapshots.c.company == company, db.snapshots.c.object_name == object_name
        )

    async def commit_cycle(
        self,
        company: str,
        *,
        watermarks: Mapping[str, datetime],
        snapshots: Mapping[str, Sequence[Snapshot]],
        outbox: Sequence[NewOutboxItem],
        now: datetime,
        links: Sequence[RecordLink] = (),
    ) -> int:
        """In ONE transaction: upsert snapshots and record links, advance watermarks (never
        backwards), mark the company's baseline done, insert outbox rows (a row whose
        (event_key, conversation_id) exists is skipped). Returns the number of outbox rows
        actually inserted. Any failure rolls all of it back."""
        now = require_aware(now, "now")
        snapshot_rows = _snapshot_rows(company, snapshots, now)
        link_rows = _link_rows(company, links, now)
        watermark_rows = [
            {"company": company, "object_name": name, "watermark": mark, "updated_at": now}
            for name, mark in sorted(watermarks.items())
        ]
        outbox_rows = [rows.new_outbox_values(item) for item in outbox]
        async with self._transaction("commit_cycle", write=True) as conn:
            if snapshot_rows:
                await conn.execute(self._upsert_snapshots(), snapshot_rows)
            if link_rows:
                await conn.execute(self._upsert_links(), link_rows)
            if watermark_rows:
                await conn.execute(self._advance_watermarks(), watermark_rows)
            await conn.execute(self._record_baseline(company, now))
            # Last, so a bad row fails after everything else was written: all of it rolls back.
            return await self._insert_outbox(conn, outbox_rows)

    async def enqueue_outbox(self, outbox: Sequence[NewOutboxItem]) -> int:
        """Insert outbox rows outside a poll cycle (alerts, digests) with the same dedupe;
        watermarks, snapshots and the baseline are untouched. Returns the rows inserted."""
        outbox_rows = [rows.new_outbox_values(item) for item in outbox]
        async with self._transaction("enqueue_outbox", write=True) as conn:
            return await self._insert_outbox(conn, outbox_rows)

    async def _insert_outbox(self, conn: AsyncConnection, outbox_rows: list[dict[str, Any]]) -> int:
        if not outbox_rows:
            return 0
        insert = self._upsert(db.outbox).on_conflict_do_nothing(index_elements=["event_key", "conversation_id"])
        # RETURNING yields only the rows ON CONFLICT DO NOTHING actually inserted.
        result = await conn.execute(insert.returning(db.outbox.c.id), outbox_rows)
        return len(result.all())

    def _upsert_snapshots(self) -> Any:
        stmt = self._upsert(db.snapshots)
        return stmt.on_conflict_do_update(
            index_elements=["company", "object_name", "record_no"],
            set_={
                "when_modified": stmt.excluded.when_modified,
                "fields": stmt.excluded.fields,
                "updated_at": stmt.excluded.updated_at,
            },
        )

    def _upsert_links(self) -> Any:
        stmt = self._upsert(db.record_links)
        return stmt.on_conflict_do_update(
            index_elements=["company", "link_key"],
            set_={"object_name": stmt.excluded.object_name, "record_no": stmt.excluded.record_no, "updated_at": stmt.excluded.updated_at},
        )

    async def find_record_links(self, keys: Collection[str]) -> list[RecordLink]:
        """The records these link keys open, in every company, by company and key."""
        wanted = sorted(set(keys))
        found: list[RecordLink] = []
        async with self._transaction("find_record_links") as conn:
            for start in range(0, len(wanted), IN_CHUNK):
                query = (
                    select(db.record_links)
                    .where(db.record_links.c.link_key.in_(wanted[start : start + IN_CHUNK]))
                    .order_by(db.record_links.c.company, db.record_links.c.link_key)
                )
                found.extend(RecordLink(row.company, row.link_key, row.object_name, row.record_no) for row in await conn.execute(query))
        return found

    def _advance_watermarks(self) -> Any:
        stmt = self._upsert(db.watermarks)
        return stmt.on_conflict_do_update(
            index_elements=["company", "object_name"],
            set_={"watermark": stmt.excluded.watermark, "updated_at": stmt.excluded.updated_at},
            # Never backwards: an overlapping or late cycle cannot un-process changes.
            where=db.watermarks.c.watermark < stmt.excluded.watermark,
        )

    def _record_baseline(self, company: str, now: datetime) -> Any:
        stmt = self._upsert(db.baselines).values(company=company, first_cycle_at=now, last_cycle_at=now)
        return stmt.on_conflict_do_update(
            index_elements=["company"], set_={"last_cycle_at": stmt.excluded.last_cycle_at}
        )

    async def has_baseline(self, company: str) -> bool:
        """Whether a first (baseline) cycle was ever committed for this company (even one that
        found no records)."""
        query = select(db.baselines.c.company).where(db.baselines.c.company == company)
        async with self._transaction("has_baseline") as conn:
            return (await conn.execute(query)).first() is not None

    # --- reference data --------------------------------------------------------------------
    async def save_reference(self, company: str, kind: str, names: Mapping[str, str], now: datetime) -> None:
        """Replace the cached id → name map of one reference object (GLACCOUNT, DEPARTMENT…)."""
        stmt = self._upsert(db.reference_maps).values(company=company, kind=kind, names=dict(names), loaded_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=["company", "kind"],
            set_={"names": stmt.excluded.names, "loaded_at": stmt.excluded.loaded_at},
        )
        async with self._transaction("save_reference", write=True) as conn:
            await conn.execute(stmt)

    async def load_reference(self, company: str, kind: str) -> dict[str, str]:
        """The cached id → name map (empty when never loaded)."""
        query = select(db.reference_maps.c.names).where(
            db.reference_maps.c.company == company, db.reference_maps.c.kind == kind
        )
        async with self._transaction("load_reference") as conn:
            names = (await conn.execute(query)).scalar_one_or_none()
        return dict(names) if names is not None else {}

    async def reference_loaded_at(self, company: str, kind: str) -> datetime | None:
        """When the map was last saved."""
        query = select(db.reference_maps.c.loaded_at).where(
            db.reference_maps.c.company == company, db.reference_maps.c.kind == kind
        )
        async with self._transaction("reference_loaded_at") as conn:
            return (await conn.execute(query)).scalar_one_or_none()

    # --- poll status -----------------------------------------------------------------------
    async def record_poll(self, state: PollState) -> None:
        """Upsert the last poll outcome of a company."""
        values = rows.poll_state_values(state)
        stmt = self._upsert(db.poll_states).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["company"],
            set_={name: stmt.excluded[name] for name in values if name != "company"},
        )
        async with self._transaction("record_poll", write=True) as conn:
            await conn.execute(stmt)

    async def poll_states(self) -> list[PollState]:
        """Every company's last poll outcome, by company."""
        async with self._transaction("poll_states") as conn:
            result = await conn.execute(select(db.poll_states).order_by(db.poll_states.c.company))
            return [rows.poll_state_from_row(row) for row in result]

    # --- Intacct usage of people's reads -----------------------------------------------------
    async def add_intacct_usage(self, company: str, *, day: date, source: str, requests: int, functions: int) -> None:
        """Upsert the day's row, adding to what other instances counted (one atomic statement)."""
        if requests < 0 or functions < 0:
            raise ValueError("usage counts cannot be negative")
        stmt = self._upsert(db.intacct_usage).values(company=company, day=day, source=source, requests=requests, functions=functions)
        stmt = stmt.on_conflict_do_update(
            index_elements=["company", "day", "source"],
            set_={"requests": db.intacct_usage.c.requests + requests, "functions": db.intacct_usage.c.functions + functions},
        )
        async with self._transaction("add_intacct_usage", write=True) as conn:
            await conn.execute(stmt)

    async def intacct_usage(self, *, since: date) -> list[IntacctUsage]:
        """Every count from `since` on, by company, day and source."""
        table = db.intacct_usage
        query = select(table).where(table.c.day >= since).order_by(table.c.company, table.c.day, table.c.source)
        async with self._transaction("intacct_usage") as conn:
            return [IntacctUsage(row.company, row.day, row.source, int(row.requests), int(row.functions)) for row in await conn.execute(query)]

    # --- Intacct wake-ups -------------------------------------------------------------------
    async def record_wakeup(self, company: str, *, kind: str, now: datetime) -> int:
        """Upsert the company's row: last arrival and kind, received + 1, alert cleared."""
        now = require_aware(now, "now")
        stmt = self._upsert(db.wakeups).values(company=company, last_at=now, last_kind=kind, received=1, trigger_alert_at=None)
        stmt = stmt.on_conflict_do_update(
            index_elements=["company"],
            set_={"last_at": now, "last_kind": kind, "received": db.wakeups.c.received + 1, "trigger_alert_at": None},
        ).returning(db.wakeups.c.received)
        async with self._transaction("record_wakeup", write=True) as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def wakeup_states(self) -> list[WakeUpState]:
        """Every company's wake-up row, by company."""
        async with self._transaction("wakeup_states") as conn:
            result = await conn.execute(select(db.wakeups).order_by(db.wakeups.c.company))
            return [rows.wakeup_state_from_row(row) for row in result]

    async def raise_trigger_alert(self, company: str, *, now: datetime) -> bool:
        """One atomic statement: insert the row alerted, or set the alert where none is set; of
        several racing instances exactly one gets True."""
        now = require_aware(now, "now")
        stmt = self._upsert(db.wakeups).values(company=company, last_at=None, last_kind=None, received=0, trigger_alert_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=["company"],
            set_={"trigger_alert_at": now},
            where=db.wakeups.c.trigger_alert_at.is_(None),
        ).returning(db.wakeups.c.company)
        async with self._transaction("raise_trigger_alert", write=True) as conn:
            return (await conn.execute(stmt)).first() is not None

    # --- leases (one poller per company across instances) ----------------------------------
    async def try_lease(self, name: str, holder: str, *, now: datetime, ttl_seconds: float) -> bool:
        """Take or renew lease `name` for `holder` until now+ttl; False when another holder's lease
        has not expired. One atomic statement: insert, or update when the lease is ours or
        expired, so of two racing holders exactly one wins."""
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        now = require_aware(now, "now")
        stmt = self._upsert(db.leases).values(
            name=name, holder=holder, acquired_at=now, expires_at=now + timedelta(seconds=ttl_seconds)
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["name"],
            set_={
                "holder": stmt.excluded.holder,
                "expires_at": stmt.excluded.expires_at,
                # A renewal keeps the original acquisition time; a takeover starts a new one.
                "acquired_at": _same_holder_keeps(stmt, db.leases.c.acquired_at),
            },
            where=or_(db.leases.c.holder == stmt.excluded.holder, db.leases.c.expires_at <= now),
        ).returning(db.leases.c.holder)
        async with self._transaction("try_lease", write=True) as conn:
            return (await conn.execute(stmt)).first() is not None

    async def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up (only if held by `holder`)."""
        stmt = delete(db.leases).where(db.leases.c.name == name, db.leases.c.holder == holder)
        async with self._transaction("release_lease", write=True) as conn:
            await conn.execute(stmt)

    async def count_leases(self, prefix: str, *, now: datetime) -> int:
        """How many leases whose name starts with `prefix` have not expired at `now`."""
        now = require_aware(now, "now")
        stmt = select(func.count()).select_from(db.leases).where(
            func.substr(db.leases.c.name, 1, len(prefix)) == prefix, db.leases.c.expires_at > now
        )
        async with self._transaction("count_leases") as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def lease_holder(self, name: str, *, now: datetime) -> tuple[str, datetime] | None:
        """Who holds lease `name` and until when; None when nobody does (or it expired)."""
        now = require_aware(now, "now")
        query = select(db.leases.c.holder, db.leases.c.expires_at).where(db.leases.c.name == name, db.leases.c.expires_at > now)
        async with self._transaction("lease_holder") as conn:
            row = (await conn.execute(query)).first()
        return (row.holder, row.expires_at) if row is not None else None

    # --- outbox (the notifier) -------------------------------------------------------------
    async def claim_outbox(self, holder: str, *, now: datetime, limit: int, claim_seconds: float) -> list[OutboxItem]:
        """Claim up to `limit` due rows (status pending, or sending with an expired claim, and
        not_before <= now), oldest first, for `claim_seconds`.

        Per (company, record, conversation) only the oldest unfinished row is ever due: a later
        change of a record waits until the earlier one is delivered or failed, so a bill's state
        change never overtakes (or races, on another instance) the post of its first card.
        A conversation belongs to one holder at a time: while another holder's claim on one of its
        open rows lasts, none of its rows are due here. Teams' limits count per conversation and
        each instance paces only its own writes, so two instances posting into one channel would
        run into 429s. PostgreSQL uses FOR UPDATE SKIP LOCKED so two instances never claim the
        same row, and an advisory lock so that claims take turns (store/dialects.py); SQLite holds
        its write lock (BEGIN IMMEDIATE) across the select and the update.
        """
        if claim_seconds <= 0:
            raise ValueError("claim_seconds must be positive")
        now = require_aware(now, "now")
        if limit <= 0:
            return []
        earlier = db.outbox.alias("earlier")
        blocked = exists().where(
            earlier.c.conversation_id == db.outbox.c.conversation_id,
            earlier.c.company == db.outbox.c.company,
            earlier.c.record_kind == db.outbox.c.record_kind,
            earlier.c.record_no == db.outbox.c.record_no,
            earlier.c.id < db.outbox.c.id,
            earlier.c.status.in_(_OPEN),
        )
        other = db.outbox.alias("other")
        held_elsewhere = exists().where(
            other.c.conversation_id == db.outbox.c.conversation_id,
            other.c.status.in_(_OPEN),
            other.c.claimed_until > now,
            other.c.claimed_by != holder,
        )
        due = (
            select(db.outbox)
            .where(
                db.outbox.c.status.in_(_OPEN),
                db.outbox.c.not_before <= now,
                or_(db.outbox.c.claimed_until.is_(None), db.outbox.c.claimed_until <= now),
                ~blocked,
                ~held_elsewhere,
            )
            .order_by(db.outbox.c.id)
            .limit(limit)
        )
        in_turn = serialize_claims(self._dialect)
        async with self._transaction("claim_outbox", write=True) as conn:
            if in_turn is not None:
                await conn.execute(in_turn)
            claimed = (await conn.execute(lock_claim_candidates(due, self._dialect))).all()
            if claimed:
                await conn.execute(
                    update(db.outbox)
                    .where(db.outbox.c.id.in_([row.id for row in claimed]))
                    .values(claimed_by=holder, claimed_until=now + timedelta(seconds=claim_seconds))
                )
        return [rows.outbox_from_row(row) for row in claimed]

    async def mark_sending(self, item_id: int, holder: str, *, now: datetime) -> bool:
        """Commit "about to send" (attempts + 1) before the network call; False if the claim was
        lost (expired, or taken by another holder, or the row is already finished)."""
        async with self._transaction("mark_sending", write=True, urgent=True) as conn:
            changed = (await conn.execute(_MARK_SENDING, {"item_id": item_id, "holder": holder, "now": now})).rowcount == 1
            if not changed:
                await self._require_outbox_row(conn, item_id)
            return changed

    async def mark_sending_many(self, item_ids: Sequence[int], holder: str, *, now: datetime) -> set[int]:
        """mark_sending for several rows in ONE transaction (one statement); returns the ids
        marked. StoreError, and nothing marked, when one of the ids does not exist."""
        wanted = set(item_ids)
        if not wanted:
            return set()
        async with self._transaction("mark_sending_many", write=True, urgent=True) as conn:
            result = await conn.execute(_MARK_SENDING_MANY, {"item_ids": sorted(wanted), "holder": holder, "now": now})
            marked = {item_id for (item_id,) in result.all()}
            if marked != wanted:
                await self._require_outbox_rows(conn, wanted - marked)
            return marked

    async def mark_delivered(self, item_id: int, *, now: datetime, activity_id: str | None) -> None:
        """Commit the successful send (whatever the row's state: the message is out there)."""
        async with self._transaction("mark_delivered", write=True) as conn:
            values = {"item_id": item_id, "now": now, "activity_id": activity_id}
            if (await conn.execute(_MARK_DELIVERED, values)).rowcount == 0:
                await self._require_outbox_row(conn, item_id)

    async def mark_retry(self, item_id: int, *, not_before: datetime, error: str) -> None:
        """Release the row to be tried again after `not_before` (a finished row stays finished)."""
        await self._settle(
            "mark_retry",
            item_id,
            status="pending",
            not_before=not_before,
            last_error=rows.clip_error(error),
            claimed_by=None,
            claimed_until=None,
        )

    async def mark_failed(self, item_id: int, *, now: datetime, error: str) -> None:
        """Give up on the row for good (gone channel, bad payload, too many attempts); a row
        already delivered stays delivered. The mark_* methods raise StoreError for an unknown id."""
        await self._settle(
            "mark_failed",
            item_id,
            status="failed",
            finished_at=now,
            last_error=rows.clip_error(error),
            claimed_by=None,
            claimed_until=None,
        )

    async def mark_unsent(self, item_id: int, *, not_before: datetime, error: str) -> None:
        """Like mark_retry, for a row marked "sending" whose send certainly did not happen: the
        attempt mark_sending counted is taken back (never below zero)."""
        await self._settle(
            "mark_unsent",
            item_id,
            status="pending",
            attempts=case((db.outbox.c.attempts > 0, db.outbox.c.attempts - 1), else_=0),
            not_before=not_before,
            last_error=rows.clip_error(error),
            claimed_by=None,
            claimed_until=None,
        )

    async def record_delivery(
        self, item_id: int, *, now: datetime, activity_id: str | None, posted_card: PostedCard | None, audit: AuditEntry
    ) -> None:
        """In ONE transaction: mark_delivered, save_posted_card (when given) and append_audit; an
        unknown id raises StoreError and nothing is written."""
        await self._record_deliveries("record_delivery", [Delivery(item_id, now, activity_id, posted_card, audit)])

    async def record_deliveries(self, deliveries: Sequence[Delivery]) -> None:
        """record_delivery for several rows in ONE transaction, each kind of write one batched
        statement; StoreError, and nothing written, when one of the rows does not exist."""
        await self._record_deliveries("record_deliveries", deliveries)

    async def _record_deliveries(self, operation: str, deliveries: Sequence[Delivery]) -> None:
        if not deliveries:
            return
        delivered = [{"item_id": d.item_id, "now": d.at, "activity_id": d.activity_id} for d in deliveries]
        cards = [rows.values_of(d.posted_card) for d in deliveries if d.posted_card is not None]
        lines = [rows.audit_values(d.audit) for d in deliveries]
        async with self._transaction(operation, write=True) as conn:
            ids = {d.item_id for d in deliveries}
            result = await conn.execute(_MARK_DELIVERED, delivered)
            # asyncpg cannot count the rows of a batched UPDATE: then a query checks the ids.
            counted = result.supports_sane_multi_rowcount() if len(delivered) > 1 else result.supports_sane_rowcount()
            if not counted or result.rowcount != len(ids):
                await self._require_outbox_rows(conn, ids)
            if cards:
                await conn.execute(self._upsert_posted_card, cards)
            await conn.execute(_APPEND_AUDIT, lines)

    async def record_failure(self, item_id: int, *, now: datetime, error: str, audit: AuditEntry) -> None:
        """In ONE transaction: mark_failed and append_audit (the line is written even when another
        holder finished the row first: it records what this one saw)."""
        values = {"status": "failed", "finished_at": now, "last_error": rows.clip_error(error),
                  "claimed_by": None, "claimed_until": None}  # fmt: skip
        async with self._transaction("record_failure", write=True) as conn:
            await self._settle_in(conn, "record_failure", item_id, values)
            await conn.execute(_APPEND_AUDIT, rows.audit_values(audit))

    async def _settle(self, operation: str, item_id: int, **values: Any) -> None:
        async with self._transaction(operation, write=True) as conn:
            await self._settle_in(conn, operation, item_id, values)

    async def _settle_in(self, conn: AsyncConnection, operation: str, item_id: int, values: Mapping[str, Any]) -> None:
        stmt = update(db.outbox).where(db.outbox.c.id == item_id, db.outbox.c.status.in_(_OPEN)).values(**values)
        if (await conn.execute(stmt)).rowcount == 0:
            status = await self._require_outbox_row(conn, item_id)
            # Another instance finished it first (its claim had expired under us): keep that.
            log.warning("%s: outbox row %s is already %s; left unchanged", operation, item_id, status)

    @staticmethod
    async def _require_outbox_rows(conn: AsyncConnection, item_ids: set[int]) -> None:
        found = {item_id for (item_id,) in (await conn.execute(_OUTBOX_IDS, {"item_ids": sorted(item_ids)})).all()}
        missing = sorted(item_ids - found)
        if missing:
            raise StoreError(f"outbox rows {', '.join(map(str, missing))} do not exist")

    @staticmethod
    async def _require_outbox_row(conn: AsyncConnection, item_id: int) -> str:
        status = (await conn.execute(_OUTBOX_STATUS, {"item_id": item_id})).scalar_one_or_none()
        if status is None:
            raise StoreError(f"outbox row {item_id} does not exist")
        return status

    async def prune_outbox(self, *, finished_before: datetime) -> int:
        """Delete delivered and failed rows finished before `finished_before`; returns how many."""
        stmt = delete(db.outbox).where(db.outbox.c.status.in_(("delivered", "failed")), db.outbox.c.finished_at < finished_before)
        async with self._transaction("prune_outbox", write=True) as conn:
            return (await conn.execute(stmt)).rowcount

    async def outbox_depth(self) -> int:
        """Rows still pending or sending."""
        query = select(func.count()).select_from(db.outbox).where(db.outbox.c.status.in_(_OPEN))
        async with self._transaction("outbox_depth") as conn:
            return (await conn.execute(query)).scalar_one()

    async def outbox_items(self, *, status: str | None = None, limit: int = 1000) -> list[OutboxItem]:
        """Rows for inspection (tests, `status`), oldest first."""
        query = select(db.outbox).order_by(db.outbox.c.id).limit(limit)
        if status is not None:
            query = query.where(db.outbox.c.status == status)
        async with self._transaction("outbox_items") as conn:
            return [rows.outbox_from_row(row) for row in await conn.execute(query)]

    # --- routes ----------------------------------------------------------------------------
    async def add_route(
        self,
        conversation_id: str,
        event_kinds: frozenset[str],
        *,
        filter: RouteFilter,
        company: str | None,
        team_id: str | None,
        tenant_id: str | None,
        channel_name: str | None,
        created_by: str | None,
        now: datetime,
    ) -> Route:
        """Create a route, or return the identical one of this channel (same kinds, filter and
        company) that exists; an identical inactive route is switched back on, since a person just
        subscribed from that channel. Known team, tenant and channel name are refreshed."""
        values = {
            "conversation_id": conversation_id,
            "identity": rows.route_identity(company, event_kinds, filter),
            "event_kinds": rows.kinds_text(event_kinds),
            "company": company,
            **rows.values_of(filter),
            "team_id": team_id,
            "tenant_id": tenant_id,
            "channel_name": channel_name,
            "active": True,
            "inactive_reason": None,
            "created_by": created_by,
            "created_at": now,
        }
        stmt = self._upsert(db.routes).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["conversation_id", "identity"],
            set_={
                "active": True,
                "inactive_reason": None,
                "team_id": func.coalesce(stmt.excluded.team_id, db.routes.c.team_id),
                "tenant_id": func.coalesce(stmt.excluded.tenant_id, db.routes.c.tenant_id),
                "channel_name": func.coalesce(stmt.excluded.channel_name, db.routes.c.channel_name),
            },
        ).returning(*db.routes.c)
        async with self._transaction("add_route", write=True) as conn:
            return rows.route_from_row((await conn.execute(stmt)).one())

    async def remove_routes(self, conversation_id: str, event_kinds: frozenset[str] | None = None) -> int:
        """Unsubscribe a channel; returns how many routes were deleted or narrowed.

        Without kinds every route of the channel goes. With kinds, each route sharing some of them
        loses those kinds: deleted when nothing is left (or when what is left duplicates another
        route of the channel), otherwise kept for its remaining kinds (`unsubscribe bills` on a
        bills+payments route leaves a payments route).
        """
        if event_kinds is None:
            async with self._transaction("remove_routes", write=True) as conn:
                result = await conn.execute(delete(db.routes).where(db.routes.c.conversation_id == conversation_id))
                return result.rowcount
        rows.kinds_text(event_kinds)  # validates
        changed = 0
        async with self._transaction("remove_routes", write=True) as conn:
            channel = (await conn.execute(select(db.routes).where(db.routes.c.conversation_id == conversation_id))).all()
            identities = {row.identity for row in channel}
            for row in channel:
                route = rows.route_from_row(row)
                if not route.event_kinds & event_kinds:
                    continue
                changed += 1
                remaining = route.event_kinds - event_kinds
                identity = rows.route_identity(route.company, remaining, route.filter) if remaining else None
                identities.discard(row.identity)
                if identity is None or identity in identities:
                    await conn.execute(delete(db.routes).where(db.routes.c.id == row.id))
                    continue
                identities.add(identity)
                await conn.execute(
                    update(db.routes)
                    .where(db.routes.c.id == row.id)
                    .values(identity=identity, event_kinds=rows.kinds_text(remaining))
                )
        return changed

    async def remove_route(self, route_id: int) -> bool:
        """Delete one route by id."""
        async with self._transaction("remove_route", write=True) as conn:
            return (await conn.execute(delete(db.routes).where(db.routes.c.id == route_id))).rowcount == 1

    async def list_routes(
        self, *, conversation_id: str | None = None, team_id: str | None = None, active_only: bool = False
    ) -> list[Route]:
        """Routes, optionally of one channel or one team, oldest first."""
        query = select(db.routes).order_by(db.routes.c.id)
        if conversation_id is not None:
            query = query.where(db.routes.c.conversation_id == conversation_id)
        if team_id is not None:
            query = query.where(db.routes.c.team_id == team_id)
        if active_only:
            query = query.where(db.routes.c.active.is_(True))
        async with self._transaction("list_routes") as conn:
            return [rows.route_from_row(row) for row in await conn.execute(query)]

    async def set_routes_active(self, conversation_id: str, active: bool, *, reason: str | None) -> int:
        """Turn a channel's routes off (channel deleted, bot removed, 403/404) or back on; returns
        how many routes changed state (0 when all already were), so a caller alerts only once."""
        stmt = (
            update(db.routes)
            .where(db.routes.c.conversation_id == conversation_id, db.routes.c.active.is_not(active))
            .values(active=active, inactive_reason=None if active else reason)
        )
        async with self._transaction("set_routes_active", write=True) as conn:
            return (await conn.execute(stmt)).rowcount

    async def rename_channel(self, conversation_id: str, name: str) -> int:
        """Store a channel's new display name on its routes; returns how many routes it has."""
        stmt = update(db.routes).where(db.routes.c.conversation_id == conversation_id).values(channel_name=name)
        async with self._transaction("rename_channel", write=True) as conn:
            return (await conn.execute(stmt)).rowcount

    # --- conversation references -----------------------------------------------------------
    async def save_conversation(self, record: ConversationRecord) -> None:
        """Upsert a conversation reference."""
        values = rows.values_of(record)
        values["reference"] = dict(record.reference)
        stmt = self._upsert(db.conversations).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["conversation_id"],
            set_={name: stmt.excluded[name] for name in values if name != "conversation_id"},
        )
        async with self._transaction("save_conversation", write=True) as conn:
            await conn.execute(stmt)

    async def get_conversation(self, conversation_id: str) -> ConversationRecord | None:
        """One stored reference."""
        query = select(db.conversations).where(db.conversations.c.conversation_id == conversation_id)
        async with self._transaction("get_conversation") as conn:
            row = (await conn.execute(query)).first()
        return rows.conversation_from_row(row) if row is not None else None

    async def get_conversations(self, conversation_ids: Iterable[str]) -> dict[str, ConversationRecord]:
        """Several stored references by conversation id (missing ones are absent); one query per
        IN_CHUNK ids."""
        wanted = sorted(set(conversation_ids))
        found: dict[str, ConversationRecord] = {}
        async with self._transaction("get_conversations") as conn:
            for start in range(0, len(wanted), IN_CHUNK):
                query = select(db.conversations).where(db.conversations.c.conversation_id.in_(wanted[start : start + IN_CHUNK]))
                for row in await conn.execute(query):
                    found[row.conversation_id] = rows.conversation_from_row(row)
        return found

    async def list_conversations(self, *, team_id: str | None = None) -> list[ConversationRecord]:
        """Stored references, optionally of one team, by conversation id."""
        query = select(db.conversations).order_by(db.conversations.c.conversation_id)
        if team_id is not None:
            query = query.where(db.conversations.c.team_id == team_id)
        async with self._transaction("list_conversations") as conn:
            return [rows.conversation_from_row(row) for row in await conn.execute(query)]

    async def forget_conversations(self, *, conversation_id: str | None = None, team_id: str | None = None) -> int:
        """Delete references (bot uninstalled / removed from a team); at least one selector is
        required, ValueError otherwise (both: the conversation only if it is in that team)."""
        if conversation_id is None and team_id is None:
            raise ValueError("forget_conversations needs conversation_id or team_id")
        stmt = delete(db.conversations)
        if conversation_id is not None:
            stmt = stmt.where(db.conversations.c.conversation_id == conversation_id)
        if team_id is not None:
            stmt = stmt.where(db.conversations.c.team_id == team_id)
        async with self._transaction("forget_conversations", write=True) as conn:
            return (await conn.execute(stmt)).rowcount

    # --- posted cards ----------------------------------------------------------------------
    async def get_posted_card(self, company: str, record_kind: str, record_no: int, conversation_id: str) -> PostedCard | None:
        """Where the card of a record sits in a channel."""
        query = select(db.posted_cards).where(_posted_card_key(company, record_kind, record_no, conversation_id))
        async with self._transaction("get_posted_card") as conn:
            row = (await conn.execute(query)).first()
        return rows.posted_card_from_row(row) if row is not None else None

    async def save_posted_card(self, card: PostedCard) -> None:
        """Upsert where the card of a record sits."""
        async with self._transaction("save_posted_card", write=True) as conn:
            await conn.execute(self._upsert_posted_card, rows.values_of(card))

    async def forget_posted_card(self, company: str, record_kind: str, record_no: int, conversation_id: str) -> None:
        """The message is gone (404 ActivityNotFoundInConversation): post anew next time."""
        stmt = delete(db.posted_cards).where(_posted_card_key(company, record_kind, record_no, conversation_id))
        async with self._transaction("forget_posted_card", write=True) as conn:
            await conn.execute(stmt)

    # --- audit -----------------------------------------------------------------------------
    async def append_audit(self, entry: AuditEntry) -> int:
        """Append one audit line; returns its id (the entry's own id is ignored)."""
        async with self._transaction("append_audit", write=True) as conn:
            return (await conn.execute(_APPEND_AUDIT.returning(db.audit.c.id), rows.audit_values(entry))).scalar_one()

    async def list_audit(self, *, since: datetime | None = None, until: datetime | None = None, limit: int | None = None) -> list[AuditEntry]:
        """Audit lines in time order (ties in insertion order), `since` <= at < `until`; `limit`
        keeps the oldest ones."""
        query = select(db.audit).order_by(db.audit.c.at, db.audit.c.id)
        if since is not None:
            query = query.where(db.audit.c.at >= since)
        if until is not None:
            query = query.where(db.audit.c.at < until)
        if limit is not None:
            query = query.limit(limit)
        async with self._transaction("list_audit") as conn:
            return [rows.audit_from_row(row) for row in await conn.execute(query)]

    # --- encrypted credentials (ciphertext only; encryption lives outside the store) --------
    async def save_secret(self, name: str, ciphertext: bytes, *, now: datetime) -> None:
        """Upsert one encrypted secret."""
        stmt = self._upsert(db.secrets).values(name=name, ciphertext=bytes(ciphertext), updated_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=["name"],
            set_={"ciphertext": stmt.excluded.ciphertext, "updated_at": stmt.excluded.updated_at},
        )
        async with self._transaction("save_secret", write=True) as conn:
            await conn.execute(stmt)

    async def load_secrets(self) -> dict[str, bytes]:
        """Every stored encrypted secret by name."""
        async with self._transaction("load_secrets") as conn:
            result = await conn.execute(select(db.secrets.c.name, db.secrets.c.ciphertext))
            return {name: bytes(ciphertext) for name, ciphertext in result.all()}

    async def delete_secrets(self, names: Collection[str]) -> int:
        """Forget these stored secrets; returns how many there were."""
        if not names:
            return 0
        async with self._transaction("delete_secrets", write=True) as conn:
            result = await conn.execute(delete(db.secrets).where(db.secrets.c.name.in_(sorted(names))))
            return result.rowcount

    async def report_key_ring(self, holder: str, fingerprints: Sequence[str], *, now: datetime) -> None:
        """Record (upsert) which master keys running instance `holder` holds."""
        text = ",".join(fingerprints)
        if any("," in f or not f for f in fingerprints):
            raise ValueError("a key fingerprint is a non-empty text without commas")
        stmt = self._upsert(db.key_rings).values(holder=holder, fingerprints=text, reported_at=require_aware(now, "now"))
        stmt = stmt.on_conflict_do_update(
            index_elements=["holder"],
            set_={"fingerprints": stmt.excluded.fingerprints, "reported_at": stmt.excluded.reported_at},
        )
        async with self._transaction("report_key_ring", write=True) as conn:
            await conn.execute(stmt)

    async def key_ring_reports(self, *, since: datetime) -> list[KeyRingReport]:
        """The instances' key-ring reports made at or after `since`, by holder."""
        query = select(db.key_rings).where(db.key_rings.c.reported_at >= require_aware(since, "since")).order_by(db.key_rings.c.holder)
        async with self._transaction("key_ring_reports") as conn:
            return [rows.key_ring_from_row(row) for row in await conn.execute(query)]

    async def forget_key_ring(self, holder: str) -> None:
        """The instance stopped: drop its report."""
        async with self._transaction("forget_key_ring", write=True) as conn:
            await conn.execute(delete(db.key_rings).where(db.key_rings.c.holder == holder))

    # --- Microsoft Graph -------------------------------------------------------------------
    async def save_subscription(self, subscription: GraphSubscription) -> None:
        """Upsert a Graph subscription (by id); any object with GraphSubscription's attributes
        will do (graph/ hands over its own record type)."""
        values = rows.subscription_values(subscription)
        stmt = self._upsert(db.graph_subscriptions).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["id"], set_={name: stmt.excluded[name] for name in values if name != "id"}
        )
        async with self._transaction("save_subscription", write=True) as conn:
            await conn.execute(stmt)

    async def list_subscriptions(self) -> list[GraphSubscription]:
        """Every Graph subscription the app owns, soonest expiry first."""
        query = select(db.graph_subscriptions).order_by(db.graph_subscriptions.c.expires_at, db.graph_subscriptions.c.id)
        async with self._transaction("list_subscriptions") as conn:
            return [rows.subscription_from_row(row) for row in await conn.execute(query)]

    async def delete_subscription(self, subscription_id: str) -> None:
        """Forget a Graph subscription."""
        stmt = delete(db.graph_subscriptions).where(db.graph_subscriptions.c.id == subscription_id)
        async with self._transaction("delete_subscription", write=True) as conn:
            await conn.execute(stmt)

    async def save_channel_names(self, team_id: str, names: Mapping[str, str], *, now: datetime) -> None:
        """Replace the cached channel id → display name map of one team (a full channel listing;
        channels missing from it are forgotten)."""
        values = [{"team_id": team_id, "channel_id": cid, "name": name, "updated_at": now} for cid, name in names.items()]
        async with self._transaction("save_channel_names", write=True) as conn:
            await conn.execute(delete(db.channel_names).where(db.channel_names.c.team_id == team_id))
            if values:
                await conn.execute(db.channel_names.insert(), values)

    async def channel_names(self, team_id: str | None = None) -> dict[str, str]:
        """Cached channel id → display name (all teams when team_id is None)."""
        query = select(db.channel_names.c.channel_id, db.channel_names.c.name)
        if team_id is not None:
            query = query.where(db.channel_names.c.team_id == team_id)
        async with self._transaction("channel_names") as conn:
            return {cid: name for cid, name in (await conn.execute(query)).all()}


def _snapshot_rows(company: str, by_object: Mapping[str, Sequence[Snapshot]], now: datetime) -> list[dict[str, Any]]:
    # Last one wins per record, like sequential upserts would (and PostgreSQL refuses one
    # statement that upserts the same key twice).
    unique: dict[tuple[str, int], dict[str, Any]] = {}
    for object_name, items in by_object.items():
        for snap in items:
            unique[(object_name, snap.record_no)] = {
                "company": company,
                "object_name": object_name,
                "record_no": snap.record_no,
                "when_modified": snap.when_modified,
                "fields": dict(snap.fields),
                "updated_at": now,
            }
    return list(unique.values())


def _link_rows(company: str, links: Sequence[RecordLink], now: datetime) -> list[dict[str, Any]]:
    # Last one wins per key (a bill number that moved to a recreated bill names the new one).
    unique = {
        link.key: {"company": company, "link_key": link.key, "object_name": link.object_name, "record_no": link.record_no, "updated_at": now}
        for link in links
        if link.company == company
    }
    return list(unique.values())


def _same_holder_keeps(stmt: Any, column: Any) -> Any:
    return case((db.leases.c.holder == stmt.excluded.holder, column), else_=stmt.excluded.acquired_at)


def _posted_card_key(company: str, record_kind: str, record_no: int, conversation_id: str) -> Any:
    return and_(
        db.posted_cards.c.company == company,
        db.posted_cards.c.record_kind == record_kind,
        db.posted_cards.c.record_no == record_no,
        db.posted_cards.c.conversation_id == conversation_id,
    )


# Failures that mean "the database is not there right now" (down, restarting, socket or host
# missing, refused, timed out), as opposed to one that refuses a statement.
_UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.CannotConnectNowError,  # "the database system is starting up / shutting down"
    asyncpg.ConnectionDoesNotExistError,  # the connection went away mid-way (server stopped)
    asyncpg.AdminShutdownError,
)


def _unreachable(exc: BaseException) -> bool:
    """Whether `exc`, or what it was raised from, says the database cannot be reached."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _UNREACHABLE):
            return True
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return False


def _describe(exc: BaseException) -> str:
    """A one-line cause without SQL parameters (hidden by the engine) or connection secrets."""
    cause: BaseException = exc
    if isinstance(exc, StatementError) and isinstance(exc.orig, BaseException):
        cause = exc.orig
        # SQLAlchemy's asyncpg adapter raises its DB-API "Error" from the real asyncpg error.
        if cause.__cause__ is not None and type(cause).__module__.startswith("sqlalchemy"):
            cause = cause.__cause__
    if isinstance(cause, OSError):
        return f"cannot reach the database ({type(cause).__name__}: {cause.strerror or cause})"
    lines = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {lines[0]}" if lines else type(cause).__name__
