"""Conversions between table rows and the frozen values of store/types.py (no SQL is run here)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, TypeVar

from sqlalchemy import Row

from store.columns import decimal_text
from store.types import (
    AuditEntry,
    ConversationRecord,
    GraphSubscription,
    KeyRingReport,
    NewOutboxItem,
    OutboxItem,
    PollState,
    PostedCard,
    Route,
    RouteFilter,
    Snapshot,
    WakeUpState,
)

T = TypeVar("T")

# Long error texts (a whole HTML error page from a proxy) are cut, visibly, so one bad answer
# cannot bloat a row that is rewritten on every retry.
MAX_ERROR_CHARS = 4000
_CUT_MARK = " …[truncated]"


def clip_error(text: str | None) -> str | None:
    """`text` cut to MAX_ERROR_CHARS, with a visible mark when cut."""
    if text is None or len(text) <= MAX_ERROR_CHARS:
        return text
    return text[: MAX_ERROR_CHARS - len(_CUT_MARK)] + _CUT_MARK


def values_of(item: Any) -> dict[str, Any]:
    """A dataclass's fields as column values (for tables whose columns are named like the fields)."""
    return {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}


def build(cls: type[T], row: Row[Any]) -> T:
    """A dataclass from a row whose columns include every field of `cls`."""
    mapping = row._mapping
    return cls(**{f.name: mapping[f.name] for f in dataclasses.fields(cls)})  # type: ignore[arg-type]


# --- poller state --------------------------------------------------------------------------
def snapshot_from_row(row: Row[Any]) -> Snapshot:
    """A Snapshot from a `snapshots` row."""
    return Snapshot(record_no=row.record_no, when_modified=row.when_modified, fields=dict(row.fields))


# --- outbox --------------------------------------------------------------------------------
def new_outbox_values(item: NewOutboxItem) -> dict[str, Any]:
    """The `outbox` row of a new item: pending, never tried, due at once."""
    return {
        "company": item.company,
        "event_key": item.event_key,
        "event_kind": item.event_kind,
        "record_kind": item.record_kind,
        "record_no": item.record_no,
        "conversation_id": item.conversation_id,
        "route_id": item.route_id,
        "payload": dict(item.payload),
        "created_at": item.created_at,
        "source_modified_at": item.source_modified_at,
        "status": "pending",
        "attempts": 0,
        "not_before": item.created_at,
        "claimed_by": None,
        "claimed_until": None,
        "last_error": None,
        "activity_id": None,
        "finished_at": None,
    }


def outbox_from_row(row: Row[Any]) -> OutboxItem:
    """An OutboxItem from an `outbox` row."""
    item = build(OutboxItem, row)
    return dataclasses.replace(item, payload=dict(row.payload))


# --- routes --------------------------------------------------------------------------------
def kinds_text(kinds: frozenset[str]) -> str:
    """Event kinds as the stored sorted comma list; empty sets and commas inside kinds refused."""
    if not kinds:
        raise ValueError("a route needs at least one event kind")
    for kind in kinds:
        if not isinstance(kind, str) or not kind or "," in kind:
            raise ValueError(f"invalid event kind {kind!r}")
    return ",".join(sorted(kinds))


def kinds_from_text(text: str) -> frozenset[str]:
    """The event kinds of a stored comma list."""
    return frozenset(text.split(","))


def route_identity(company: str | None, kinds: frozenset[str], filter: RouteFilter) -> str:
    """Canonical text of what makes two routes of one channel the same subscription."""
    amount = None if filter.min_amount is None else decimal_text(filter.min_amount)
    parts = [company, sorted(kinds), filter.department, filter.location, filter.vendor, amount, filter.entity]
    return json.dumps(parts, separators=(",", ":"), ensure_ascii=False)


def route_from_row(row: Row[Any]) -> Route:
    """A Route from a `routes` row."""
    return Route(
        id=row.id,
        conversation_id=row.conversation_id,
        event_kinds=kinds_from_text(row.event_kinds),
        filter=RouteFilter(
            department=row.department,
            location=row.location,
            vendor=row.vendor,
            min_amount=row.min_amount,
            entity=row.entity,
        ),
        company=row.company,
        team_id=row.team_id,
        tenant_id=row.tenant_id,
        channel_name=row.channel_name,
        active=bool(row.active),
        inactive_reason=row.inactive_reason,
        created_by=row.created_by,
        created_at=row.created_at,
    )


# --- the rest: columns named like the fields -----------------------------------------------
def conversation_from_row(row: Row[Any]) -> ConversationRecord:
    """A ConversationRecord from a `conversations` row."""
    return dataclasses.replace(build(ConversationRecord, row), reference=dict(row.reference))


def posted_card_from_row(row: Row[Any]) -> PostedCard:
    """A PostedCard from a `posted_cards` row."""
    return build(PostedCard, row)


def audit_values(entry: AuditEntry) -> dict[str, Any]:
    """The `audit` row of an entry (the id is the database's)."""
    values = values_of(entry)
    del values["id"]
    values["error"] = clip_error(entry.error)
    return values


def audit_from_row(row: Row[Any]) -> AuditEntry:
    """An AuditEntry from an `audit` row."""
    return build(AuditEntry, row)


def poll_state_values(state: PollState) -> dict[str, Any]:
    """The `poll_states` row of a state."""
    values = values_of(state)
    values["last_error"] = clip_error(state.last_error)
    return values


def poll_state_from_row(row: Row[Any]) -> PollState:
    """A PollState from a `poll_states` row."""
    return build(PollState, row)


def wakeup_state_from_row(row: Row[Any]) -> WakeUpState:
    """A WakeUpState from a `wakeups` row."""
    return build(WakeUpState, row)


def key_ring_from_row(row: Row[Any]) -> KeyRingReport:
    """A KeyRingReport from a `key_rings` row."""
    return KeyRingReport(row.holder, tuple(f for f in row.fingerprints.split(",") if f), row.reported_at)


def subscription_values(subscription: Any) -> dict[str, Any]:
    """The `graph_subscriptions` row of anything shaped like a GraphSubscription (duck typed)."""
    return {f.name: getattr(subscription, f.name) for f in dataclasses.fields(GraphSubscription)}


def subscription_from_row(row: Row[Any]) -> GraphSubscription:
    """A GraphSubscription from a `graph_subscriptions` row."""
    return build(GraphSubscription, row)
