"""readByQuery result ids: the rest of a query's matches, kept for readMore until they expire.

A cursor snapshots the RECORDNOs that matched when readByQuery ran (so totalcount and paging stay
stable) and renders the rows as they are when each page is read. It belongs to the principal
that ran the query and, when the query came with a session, to that session: it dies with the
session, after `lifetime` without a readMore, or once its last page has been read. Intacct does
not document the lifetime; the sandbox makes it a parameter.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from sandbox.sessions import Principal

MAX_CURSORS = 1000  # a client that never finishes paging cannot grow memory without bound

SessionLive = Callable[[str, datetime], bool]


@dataclass(slots=True)
class Cursor:
    """The remaining pages of one readByQuery."""

    result_id: str
    principal: Principal
    session_id: str | None = field(repr=False)
    object_name: str
    fields: tuple[str, ...]
    record_nos: list[int] = field(repr=False)
    position: int
    pagesize: int
    last_used: datetime
    star: bool = False  # fields were `*`: APBILL rows carry their lines

    @property
    def remaining(self) -> int:
        """How many matches have not been returned yet."""
        return len(self.record_nos) - self.position


class CursorStore:
    """The open cursors of one sandbox."""

    def __init__(self, lifetime: timedelta) -> None:
        if lifetime <= timedelta(0):
            raise ValueError("the result id lifetime must be positive")
        self.lifetime = lifetime
        self._cursors: dict[str, Cursor] = {}

    def __len__(self) -> int:
        return len(self._cursors)

    def open(
        self,
        *,
        principal: Principal,
        session_id: str | None,
        object_name: str,
        fields: tuple[str, ...],
        record_nos: list[int],
        position: int,
        pagesize: int,
        now: datetime,
        star: bool = False,
    ) -> Cursor:
        """Keep the rest of a query for readMore; returns the cursor with its new result id."""
        while len(self._cursors) >= MAX_CURSORS:
            oldest = min(self._cursors.values(), key=lambda c: c.last_used)
            del self._cursors[oldest.result_id]
        cursor = Cursor(
            secrets.token_hex(5) + secrets.token_urlsafe(18), principal, session_id, object_name, fields,
            record_nos, position, pagesize, now, star,
        )
        self._cursors[cursor.result_id] = cursor
        return cursor

    def find(
        self, result_id: str, principal: Principal, session_id: str | None, now: datetime, session_live: SessionLive
    ) -> Cursor | None:
        """The live cursor with this id for this caller, or None (unknown, expired, someone else's)."""
        self.prune(now, session_live)
        cursor = self._cursors.get(result_id)
        if cursor is None or not self._belongs(cursor, principal, session_id):
            return None
        return cursor

    def latest_for_object(
        self, object_name: str, principal: Principal, session_id: str | None, now: datetime, session_live: SessionLive
    ) -> Cursor | None:
        """The caller's most recently used cursor on an object (readMore by <object>)."""
        self.prune(now, session_live)
        mine = [
            c for c in self._cursors.values()
            if c.object_name == object_name and self._belongs(c, principal, session_id)
        ]
        return max(mine, key=lambda c: c.last_used, default=None)

    def close(self, result_id: str) -> None:
        """Forget a cursor (its last page was read)."""
        self._cursors.pop(result_id, None)

    def prune(self, now: datetime, session_live: SessionLive) -> None:
        """Drop cursors idle longer than the lifetime or whose session is gone."""
        dead = [
            rid for rid, c in self._cursors.items()
            if now - c.last_used >= self.lifetime or (c.session_id is not None and not session_live(c.session_id, now))
        ]
        for rid in dead:
            del self._cursors[rid]

    def clear(self) -> None:
        """Forget every cursor (reset)."""
        self._cursors.clear()

    @staticmethod
    def _belongs(cursor: Cursor, principal: Principal, session_id: str | None) -> bool:
        if cursor.principal != principal:
            return False
        return cursor.session_id is None or cursor.session_id == session_id
