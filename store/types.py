"""Plain values that cross the store interface (frozen dataclasses, no SQL types)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Mapping


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the poller remembers of one record: the fields whose change makes an event."""

    record_no: int
    when_modified: datetime | None
    fields: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class RecordLink:
    """One link a card shows for a record (its RECORD_URL token or its list view, as keyed by
    intacct/record_links.py) and the record it opens, as the poller last saw it."""

    company: str
    key: str  # "r:<token>" or "<list object>:<id>"
    object_name: str  # APBILL | APPYMT | VENDOR
    record_no: int


@dataclass(frozen=True, slots=True)
class IntacctUsage:
    """What people's reads cost in Intacct on one day (UTC): requests and functions (billed
    transactions) by source (command, link, search, refresh)."""

    company: str
    day: date
    source: str
    requests: int
    functions: int


@dataclass(frozen=True, slots=True)
class NewOutboxItem:
    """An event fanned out to one conversation, written in the poll cycle's transaction."""

    company: str
    event_key: str
    event_kind: str  # EventKind value: bills | payments | vendors | digest
    record_kind: str  # bill | payment | vendor | digest | summary
    record_no: int
    conversation_id: str  # the channel's own conversation id (a new post goes there)
    route_id: int | None
    payload: Mapping[str, Any]  # poller.codec.event_to_payload(event)
    created_at: datetime
    source_modified_at: datetime | None = None  # Intacct WHENMODIFIED, for the latency histogram


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """An outbox row as the notifier claims it."""

    id: int
    company: str
    event_key: str
    event_kind: str
    record_kind: str
    record_no: int
    conversation_id: str
    route_id: int | None
    payload: Mapping[str, Any]
    created_at: datetime
    status: str  # pending | sending | delivered | failed
    attempts: int
    not_before: datetime
    source_modified_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class RouteFilter:
    """Optional narrowing of a route; None means "any"."""

    department: str | None = None
    location: str | None = None
    vendor: str | None = None
    min_amount: Decimal | None = None
    entity: str | None = None


@dataclass(frozen=True, slots=True)
class Route:
    """A channel's subscription to some event kinds of some company (or all companies)."""

    id: int
    conversation_id: str  # channel id (19:…@thread.tacv2), the target of new posts
    event_kinds: frozenset[str]  # EventKind values, plus "alerts" for the operators' channel
    filter: RouteFilter = field(default_factory=RouteFilter)
    company: str | None = None  # None = every configured company
    team_id: str | None = None  # Graph team id (aadGroupId GUID) when known
    tenant_id: str | None = None
    channel_name: str | None = None
    active: bool = True
    inactive_reason: str | None = None
    created_by: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    """A stored Bot Framework conversation reference (wire JSON, camelCase)."""

    conversation_id: str
    reference: Mapping[str, Any]
    scope: str  # channel | thread | personal | groupChat
    team_id: str | None = None  # Teams thread id of the team (19:…)
    aad_group_id: str | None = None  # Graph team id
    channel_id: str | None = None
    tenant_id: str | None = None
    service_url: str | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PostedCard:
    """Where the card for one record sits in one channel, so a later change updates it in place."""

    company: str
    record_kind: str
    record_no: int
    conversation_id: str  # the channel
    thread_conversation_id: str  # "<channel>;messageid=<id>" returned by create_conversation
    activity_id: str
    posted_at: datetime
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit trail: a post, an update, a reply or a final failure."""

    at: datetime
    action: str  # post | update | reply | failure | alert
    outcome: str  # ok | gone | failed | shrunk
    company: str | None = None
    event_key: str | None = None
    record_kind: str | None = None
    record_no: int | None = None
    conversation_id: str | None = None
    activity_id: str | None = None
    error: str | None = None
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Delivery:
    """A row Teams took, as `record_deliveries` commits it: the row delivered (with Teams'
    activity id), where its card now sits (bills and payments, else None), and the audit line."""

    item_id: int
    at: datetime
    activity_id: str | None
    posted_card: PostedCard | None
    audit: AuditEntry


@dataclass(frozen=True, slots=True)
class PollState:
    """Last poll outcome per company, shared by every instance (for `status` and /readyz)."""

    company: str
    last_attempt_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    functions_last_cycle: int = 0
    events_last_cycle: int = 0


@dataclass(frozen=True, slots=True)
class WakeUpState:
    """Intacct wake-ups of one company, shared by every instance (status, the broken-trigger alert)."""

    company: str
    last_at: datetime | None = None  # when the last authentic wake-up arrived
    last_kind: str | None = None  # "platform_trigger" or "smart_event"
    received: int = 0  # authentic wake-ups so far (repeats of one delivery not counted)
    trigger_alert_at: datetime | None = None  # "wake-ups stopped" was alerted (cleared by the next wake-up)


@dataclass(frozen=True, slots=True)
class KeyRingReport:
    """Which master keys a running instance holds (fingerprints, newest first), reported while it runs."""

    holder: str  # the instance (host:pid:random), as in leases
    fingerprints: tuple[str, ...]
    reported_at: datetime


@dataclass(frozen=True, slots=True)
class GraphSubscription:
    """A Microsoft Graph change-notification subscription the app owns."""

    id: str
    team_id: str
    resource: str
    client_state: str = field(repr=False)  # a shared secret with Graph
    expires_at: datetime
    created_at: datetime
