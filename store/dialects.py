"""The only places where SQLite and PostgreSQL need different SQL: upserts and the claim lock.

Everything else in the store is portable SQLAlchemy Core. Both dialects spell an upsert
`INSERT … ON CONFLICT (…) DO UPDATE/NOTHING [WHERE …] [RETURNING …]` (SQLite ≥ 3.35), but
SQLAlchemy exposes it through each dialect's own `insert()` construct, chosen here.
"""

from __future__ import annotations

from typing import Callable, Union

from sqlalchemy import Select, Table
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
