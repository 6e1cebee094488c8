"""Values and small helpers shared by the store tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import event

from store.sql import SqlStore, open_store
from store.types import NewOutboxItem

CHANNEL = "19:ap-approvals@thread.tacv2"
OTHER_CHANNEL = "19:finance@thread.tacv2"
T0 = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)
PLUS_FIVE = timezone(timedelta(hours=5))


def new_item(key: str, *, conversation: str = CHANNEL, record_no: int = 1, at: datetime = T0, **extra) -> NewOutboxItem:
    """A bill event fanned out to one channel."""
    return NewOutboxItem(
        company="DEMO-CO",
        event_key=key,
        event_kind="bills",
        record_kind="bill",
        record_no=record_no,
        conversation_id=conversation,
        route_id=7,
        payload=extra.pop("payload", {"type": "BillCreated", "data": {"record_no": record_no}}),
        created_at=at,
        **extra,
    )


async def commit(
    store: SqlStore, *, outbox=(), snapshots=None, watermarks=None, now: datetime = T0, links=(), company: str = "DEMO-CO"
) -> int:
    """A poll cycle commit (for DEMO-CO unless told)."""
    return await store.commit_cycle(
        company, watermarks=watermarks or {}, snapshots=snapshots or {}, outbox=list(outbox), now=now, links=list(links)
    )


def count_statements(store: SqlStore) -> list[str]:
    """Every SQL statement the store's engine sends from now on."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        seen.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", record)
    return seen


@dataclass
class Backend:
    """One test's database: open as many stores on it as the test needs (closed at teardown)."""

    name: str
    url: str | None  # None: the default SQLite file in data_dir
    data_dir: Path
    opened: list[SqlStore] = field(default_factory=list)

    def open(self) -> SqlStore:
        """A new store (its own engine and pool) on this test's database."""
        store = open_store(self.url, data_dir=self.data_dir)
        self.opened.append(store)
        return store

    async def close_all(self) -> None:
        """Dispose every engine the test opened."""
        for store in self.opened:
            await store.close()
