"""The only places where SQLite and PostgreSQL need different SQL: upserts and the claim locks.

Everything else in the store is portable SQLAlchemy Core. Both dialects spell an upsert
`INSERT … ON CONFLICT (…) DO UPDATE/NOTHING [WHERE …] [RETURNING …]` (SQLite ≥ 3.35), but
SQLAlchemy exposes it through each dialect's own `insert()` construct, chosen here.
"""

from __future__ import annotations

from typing import Callable, Union

from sqlalchemy import Select, Table, TextClause, text
from sqlalchemy.dialects import postgresql, sqlite

Insert = Union[postgresql.Insert, sqlite.Insert]


def upsert_factory(dialect_name: str) -> Callable[[Table], Insert]:
    """The dialect's `insert()` that offers `on_conflict_do_update` / `on_conflict_do_nothing`."""
    if dialect_name == "postgresql":
        return postgresql.insert
    if dialect_name == "sqlite":
        return sqlite.insert
    raise ValueError(f"unsupported dialect {dialect_name!r}")


def lock_claim_candidates(query: Select, dialect_name: str) -> Select:
    """Make the outbox claim's SELECT safe against concurrent claimers.

    PostgreSQL: `FOR UPDATE SKIP LOCKED` locks the chosen rows until the claim commits and makes a
    concurrent claimer skip them instead of waiting or taking them too, so several instances
    never claim the same row. SQLite has no row locks: the claim runs in a `BEGIN IMMEDIATE`
    transaction (the whole-database write lock) instead, so the query is left unchanged.
    """
    if dialect_name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


CLAIM_LOCK_KEY = 0x6D6C635F6F7574  # "mlc_out": the advisory lock that takes outbox claims in turn


def serialize_claims(dialect_name: str) -> TextClause | None:
    """The statement that makes outbox claims take turns across instances, if the dialect needs one.

    A claim hands a conversation to one holder at a time, and decides that from the claims it can
    see. Two PostgreSQL claims running side by side (READ COMMITTED) would not see each other's and
    could both take rows of one channel, so each first takes a transaction-scoped advisory lock (a
    claim lasts milliseconds). SQLite's `BEGIN IMMEDIATE` already lets one writer in at a time."""
    if dialect_name == "postgresql":
        return text(f"SELECT pg_advisory_xact_lock({CLAIM_LOCK_KEY})")
    return None
