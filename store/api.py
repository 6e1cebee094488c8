"""The store interface the app needs, named after what it does; every backend implements it.

Time is always passed in (`now`), never read from a clock inside the store. Datetimes are aware
(UTC on the way out); a naive one is a programming error (ValueError). Methods are coroutines;
each is one transaction unless it says otherwise. Every database failure, "unreachable"
included, is raised as StoreError (from the original error). A backend with a single writer
(SQLite) queues its write transactions in-process, so callers may write concurrently.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Collection, Iterable, Mapping, Protocol, Sequence

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


class StoreError(Exception):
    """The store could not do what was asked (unreachable, constraint, migration).

    `unreachable` says the database could not be reached at all (down, starting up, no such
    socket or host: waiting may help); `database` names it with its password masked."""

    def __init__(self, message: str, *, unreachable: bool = False, database: str | None = None) -> None:
        super().__init__(message)
        self.unreachable = unreachable
        self.database = database


class Store(Protocol):
    """Everything ml-connector persists."""

    # --- lifecycle -------------------------------------------------------------------------
    async def migrate(self) -> None:
        """Bring the schema to the newest migration (alembic); safe to call on every start."""

    async def ping(self) -> None:
        """Raise StoreError when the database cannot be reached."""

    async def close(self) -> None:
        """Release connections."""

    # --- poller state ----------------------------------------------------------------------
    async def get_watermarks(self, company: str) -> dict[str, datetime]:
        """Per object name (APBILL, APPYMT, VENDOR…), the newest WHENMODIFIED already processed."""

    async def load_snapshots(self, company: str, object_name: str, record_nos: Iterable[int]) -> dict[int, Snapshot]:
        """The stored snapshots of these records (missing ones are simply absent)."""

    async def load_all_snapshots(self, company: str, object_name: str) -> dict[int, Snapshot]:
        """Every stored snapshot of one object (reconciliation of open records)."""

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
        """In ONE transaction: upsert snapshots and the record links of the records read (a key
        now naming another record moves to it), advance watermarks (never backwards), mark the
        company's baseline done, insert outbox rows (a row whose (event_key, conversation_id)
        exists is skipped). Returns the number of outbox rows actually inserted. Any failure
        rolls all of it back. Only poll cycles call this: other outbox rows use enqueue_outbox."""

    async def enqueue_outbox(self, outbox: Sequence[NewOutboxItem]) -> int:
        """Insert outbox rows outside a poll cycle (operators' alerts, digests) with the same
        (event_key, conversation_id) dedupe, in one transaction; watermarks, snapshots and the
        baseline are untouched (an alert before the first poll must not fake a baseline).
        Returns the number of rows actually inserted."""

    async def has_baseline(self, company: str) -> bool:
        """Whether a first (baseline) cycle was ever committed for this company (even one that
        found no records)."""

    async def find_record_links(self, keys: Collection[str]) -> list[RecordLink]:
        """The records these link keys open, in every company (a key may be known in several)."""

    # --- reference data --------------------------------------------------------------------
    async def save_reference(self, company: str, kind: str, names: Mapping[str, str], now: datetime) -> None:
        """Replace the cached id → name map of one reference object (GLACCOUNT, DEPARTMENT…)."""

    async def load_reference(self, company: str, kind: str) -> dict[str, str]:
        """The cached id → name map (empty when never loaded)."""

    async def reference_loaded_at(self, company: str, kind: str) -> datetime | None:
        """When the map was last saved."""

    # --- poll status -----------------------------------------------------------------------
    async def record_poll(self, state: PollState) -> None:
        """Upsert the last poll outcome of a company."""

    async def poll_states(self) -> list[PollState]:
        """Every company's last poll outcome."""

    # --- Intacct usage of people's reads -----------------------------------------------------
    async def add_intacct_usage(self, company: str, *, day: date, source: str, requests: int, functions: int) -> None:
        """Add one read's cost to the company's count for that day and source (atomic across instances)."""

    async def intacct_usage(self, *, since: date) -> list[IntacctUsage]:
        """Every count from `since` on, by company, day and source."""

    # --- Intacct wake-ups -------------------------------------------------------------------
    async def record_wakeup(self, company: str, *, kind: str, now: datetime) -> int:
        """Note an authentic wake-up: last arrival and kind, one more received, and any "the
        trigger is broken" alert cleared (wake-ups arrive again). Returns the new count, by which
        every instance tells new wake-ups from those it has seen (clocks may differ, counts not)."""

    async def wakeup_states(self) -> list[WakeUpState]:
        """Every company's wake-up record (companies never woken up and never alerted are absent)."""

    async def raise_trigger_alert(self, company: str, *, now: datetime) -> bool:
        """Mark "wake-ups stopped arriving" as alerted unless it already is; True only for the
        one caller (of every instance) that marked it, which then tells the operators."""

    # --- leases (one poller per company across instances) ----------------------------------
    async def try_lease(self, name: str, holder: str, *, now: datetime, ttl_seconds: float) -> bool:
        """Take or renew lease `name` for `holder` until now+ttl; False when another holder's lease
        has not expired."""

    async def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up (only if held by `holder`)."""

    async def count_leases(self, prefix: str, *, now: datetime) -> int:
        """How many leases whose name starts with `prefix` have not expired at `now`."""

    async def lease_holder(self, name: str, *, now: datetime) -> tuple[str, datetime] | None:
        """Who holds lease `name` and until when; None when nobody does (or it expired)."""

    # --- outbox (the notifier) -------------------------------------------------------------
    async def claim_outbox(self, holder: str, *, now: datetime, limit: int, claim_seconds: float) -> list[OutboxItem]:
        """Claim up to `limit` due rows (status pending, or sending with an expired claim, and
        not_before <= now), oldest first, for `claim_seconds`. PostgreSQL uses FOR UPDATE SKIP
        LOCKED so two instances never claim the same row.

        Per (company, record_kind, record_no, conversation_id) only the oldest unfinished row is
        due: a record's later change waits until its earlier one is delivered or failed, so an
        update never overtakes (or races, on another instance) the first post of the card. A
        claimed item with status "sending" was being sent by a holder that died: that one send
        may already have happened."""

    async def mark_sending(self, item_id: int, holder: str, *, now: datetime) -> bool:
        """Commit "about to send" (attempts + 1) before the network call; False if the claim was
        lost (expired, taken by another holder, or the row already finished)."""

    async def mark_sending_many(self, item_ids: Sequence[int], holder: str, *, now: datetime) -> set[int]:
        """mark_sending for several rows in ONE transaction; returns the ids marked (the others'
        claims were lost). StoreError, and nothing marked, when one of the ids does not exist."""

    async def mark_delivered(self, item_id: int, *, now: datetime, activity_id: str | None) -> None:
        """Commit the successful send (whatever the row's state: the message is out there)."""

    async def mark_retry(self, item_id: int, *, not_before: datetime, error: str) -> None:
        """Release the row to be tried again after `not_before` (a finished row stays finished)."""

    async def mark_failed(self, item_id: int, *, now: datetime, error: str) -> None:
        """Give up on the row for good (gone channel, bad payload, too many attempts); a row
        already delivered stays delivered. The mark_* methods raise StoreError for an unknown id."""

    async def mark_unsent(self, item_id: int, *, not_before: datetime, error: str) -> None:
        """Like mark_retry, for a row marked "sending" whose send certainly did not happen (the
        notifier stopped first, or Teams refused the bot itself): the attempt mark_sending counted
        is taken back, so a long pause cannot use up the row's retries."""

    async def record_delivery(
        self, item_id: int, *, now: datetime, activity_id: str | None, posted_card: PostedCard | None, audit: AuditEntry
    ) -> None:
        """In ONE transaction: mark_delivered, save_posted_card (when given) and append_audit.
        StoreError for an unknown id, and then none of it is written."""

    async def record_deliveries(self, deliveries: Sequence[Delivery]) -> None:
        """record_delivery for several rows in ONE transaction; StoreError, and nothing written,
        when one of the rows does not exist."""

    async def record_failure(self, item_id: int, *, now: datetime, error: str, audit: AuditEntry) -> None:
        """In ONE transaction: mark_failed and append_audit (the line is written even when
        another holder finished the row first: it records what this one saw)."""

    async def prune_outbox(self, *, finished_before: datetime) -> int:
        """Delete delivered and failed rows that finished before `finished_before` (the audit
        trail keeps what became of them); returns how many. Pending and sending rows stay."""

    async def outbox_depth(self) -> int:
        """Rows still pending or sending."""

    async def outbox_items(self, *, status: str | None = None, limit: int = 1000) -> list[OutboxItem]:
        """Rows for inspection (tests, `status`)."""

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
        company) that exists; an identical inactive route is switched back on (someone just
        subscribed from that channel). Known team, tenant and channel name are refreshed."""

    async def remove_routes(self, conversation_id: str, event_kinds: frozenset[str] | None = None) -> int:
        """Unsubscribe a channel; returns how many routes were deleted or narrowed. Without kinds
        every route of the channel goes; with kinds each route sharing some of them loses them,
        and is deleted when none is left (`unsubscribe bills` on a bills+payments route leaves a
        payments route)."""

    async def remove_route(self, route_id: int) -> bool:
        """Delete one route by id."""

    async def list_routes(
        self, *, conversation_id: str | None = None, team_id: str | None = None, active_only: bool = False
    ) -> list[Route]:
        """Routes, optionally of one channel or one team, oldest first."""

    async def set_routes_active(self, conversation_id: str, active: bool, *, reason: str | None) -> int:
        """Turn a channel's routes off (channel deleted, bot removed, 403/404) or back on; returns
        how many changed state (0 when all already were), so a caller alerts only once."""

    async def rename_channel(self, conversation_id: str, name: str) -> int:
        """Store a channel's new display name on its routes; returns how many it has."""

    # --- conversation references -----------------------------------------------------------
    async def save_conversation(self, record: ConversationRecord) -> None:
        """Upsert a conversation reference."""

    async def get_conversation(self, conversation_id: str) -> ConversationRecord | None:
        """One stored reference."""

    async def get_conversations(self, conversation_ids: Iterable[str]) -> dict[str, ConversationRecord]:
        """Several stored references by conversation id, in one query (missing ones are absent)."""

    async def list_conversations(self, *, team_id: str | None = None) -> list[ConversationRecord]:
        """Stored references, optionally of one team."""

    async def forget_conversations(self, *, conversation_id: str | None = None, team_id: str | None = None) -> int:
        """Delete references (bot uninstalled / removed from a team); at least one selector is
        required (ValueError otherwise)."""

    # --- posted cards ----------------------------------------------------------------------
    async def get_posted_card(self, company: str, record_kind: str, record_no: int, conversation_id: str) -> PostedCard | None:
        """Where the card of a record sits in a channel."""

    async def save_posted_card(self, card: PostedCard) -> None:
        """Upsert where the card of a record sits."""

    async def forget_posted_card(self, company: str, record_kind: str, record_no: int, conversation_id: str) -> None:
        """The message is gone (404 ActivityNotFoundInConversation): post anew next time."""

    # --- audit -----------------------------------------------------------------------------
    async def append_audit(self, entry: AuditEntry) -> int:
        """Append one audit line; returns its id (the entry's own id is ignored)."""

    async def list_audit(self, *, since: datetime | None = None, until: datetime | None = None, limit: int | None = None) -> list[AuditEntry]:
        """Audit lines in time order (ties in insertion order), since <= at < until; `limit`
        keeps the oldest ones."""

    # --- encrypted credentials (ciphertext only; encryption lives outside the store) --------
    async def save_secret(self, name: str, ciphertext: bytes, *, now: datetime) -> None:
        """Upsert one encrypted secret."""

    async def load_secrets(self) -> dict[str, bytes]:
        """Every stored encrypted secret by name."""

    async def delete_secrets(self, names: Collection[str]) -> int:
        """Forget these stored secrets; returns how many there were."""

    async def report_key_ring(self, holder: str, fingerprints: Sequence[str], *, now: datetime) -> None:
        """Record (upsert) which master keys running instance `holder` holds."""

    async def key_ring_reports(self, *, since: datetime) -> list[KeyRingReport]:
        """The instances' key-ring reports made at or after `since`, by holder."""

    async def forget_key_ring(self, holder: str) -> None:
        """The instance stopped: drop its report."""

    # --- Microsoft Graph -------------------------------------------------------------------
    async def save_subscription(self, subscription: GraphSubscription) -> None:
        """Upsert a Graph subscription (by id)."""

    async def list_subscriptions(self) -> list[GraphSubscription]:
        """Every Graph subscription the app owns."""

    async def delete_subscription(self, subscription_id: str) -> None:
        """Forget a Graph subscription."""

    async def save_channel_names(self, team_id: str, names: Mapping[str, str], *, now: datetime) -> None:
        """Replace the cached channel id → display name map of one team (a full channel listing:
        channels missing from `names` are forgotten)."""

    async def channel_names(self, team_id: str | None = None) -> dict[str, str]:
        """Cached channel id → display name (all teams when team_id is None)."""
