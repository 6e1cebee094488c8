"""The store interface the app needs, named after what it does; every backend implements it.

Time is always passed in (`now`), never read from a clock inside the store. Datetimes are aware
(UTC on the way out). Methods are coroutines; each is one transaction unless it says otherwise.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable, Mapping, Protocol, Sequence

from store.types import (
    AuditEntry,
    ConversationRecord,
    GraphSubscription,
    NewOutboxItem,
    OutboxItem,
    PollState,
    PostedCard,
    Route,
    RouteFilter,
    Snapshot,
)


class StoreError(Exception):
    """The store could not do what was asked (unreachable, constraint, migration)."""


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
    ) -> int:
        """In ONE transaction: upsert snapshots, advance watermarks (never backwards), insert
        outbox rows (a row whose (event_key, conversation_id) exists is skipped). Returns the
        number of outbox rows actually inserted."""

    async def has_baseline(self, company: str) -> bool:
        """Whether a first (baseline) cycle was ever committed for this company."""

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

    # --- leases (one poller per company across instances) ----------------------------------
    async def try_lease(self, name: str, holder: str, *, now: datetime, ttl_seconds: float) -> bool:
        """Take or renew lease `name` for `holder` until now+ttl; False when another holder's lease
        has not expired."""

    async def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up (only if held by `holder`)."""

    # --- outbox (the notifier) -------------------------------------------------------------
    async def claim_outbox(self, holder: str, *, now: datetime, limit: int, claim_seconds: float) -> list[OutboxItem]:
        """Claim up to `limit` due rows (status pending, or sending with an expired claim, and
        not_before <= now), oldest first, for `claim_seconds`. PostgreSQL uses FOR UPDATE SKIP
        LOCKED so two instances never claim the same row."""

    async def mark_sending(self, item_id: int, holder: str, *, now: datetime) -> bool:
        """Commit "about to send" (attempts + 1) before the network call; False if the claim was lost."""

    async def mark_delivered(self, item_id: int, *, now: datetime, activity_id: str | None) -> None:
        """Commit the successful send."""

    async def mark_retry(self, item_id: int, *, not_before: datetime, error: str) -> None:
        """Release the row to be tried again after `not_before`."""

    async def mark_failed(self, item_id: int, *, now: datetime, error: str) -> None:
        """Give up on the row for good (gone channel, bad payload, too many attempts)."""

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
        """Create a route (or return the identical active one that exists)."""

    async def remove_routes(self, conversation_id: str, event_kinds: frozenset[str] | None = None) -> int:
        """Delete a channel's routes (only those covering these kinds when given); returns how many."""

    async def remove_route(self, route_id: int) -> bool:
        """Delete one route by id."""

    async def list_routes(
        self, *, conversation_id: str | None = None, team_id: str | None = None, active_only: bool = False
    ) -> list[Route]:
        """Routes, optionally of one channel or one team."""

    async def set_routes_active(self, conversation_id: str, active: bool, *, reason: str | None) -> int:
        """Turn a channel's routes off (channel deleted, bot removed, 403/404) or back on."""

    async def rename_channel(self, conversation_id: str, name: str) -> int:
        """Store a channel's new display name on its routes."""

    # --- conversation references -----------------------------------------------------------
    async def save_conversation(self, record: ConversationRecord) -> None:
        """Upsert a conversation reference."""

    async def get_conversation(self, conversation_id: str) -> ConversationRecord | None:
        """One stored reference."""

    async def list_conversations(self, *, team_id: str | None = None) -> list[ConversationRecord]:
        """Stored references, optionally of one team."""

    async def forget_conversations(self, *, conversation_id: str | None = None, team_id: str | None = None) -> int:
        """Delete references (bot uninstalled / removed from a team)."""

    # --- posted cards ----------------------------------------------------------------------
    async def get_posted_card(self, company: str, record_kind: str, record_no: int, conversation_id: str) -> PostedCard | None:
        """Where the card of a record sits in a channel."""

    async def save_posted_card(self, card: PostedCard) -> None:
        """Upsert where the card of a record sits."""

    async def forget_posted_card(self, company: str, record_kind: str, record_no: int, conversation_id: str) -> None:
        """The message is gone (404 ActivityNotFoundInConversation): post anew next time."""

    # --- audit -----------------------------------------------------------------------------
    async def append_audit(self, entry: AuditEntry) -> int:
        """Append one audit line; returns its id."""

    async def list_audit(self, *, since: datetime | None = None, until: datetime | None = None, limit: int | None = None) -> list[AuditEntry]:
        """Audit lines in time order."""

    # --- encrypted credentials (ciphertext only; encryption lives outside the store) --------
    async def save_secret(self, name: str, ciphertext: bytes, *, now: datetime) -> None:
        """Upsert one encrypted secret."""

    async def load_secrets(self) -> dict[str, bytes]:
        """Every stored encrypted secret by name."""

    # --- Microsoft Graph -------------------------------------------------------------------
    async def save_subscription(self, subscription: GraphSubscription) -> None:
        """Upsert a Graph subscription (by id)."""

    async def list_subscriptions(self) -> list[GraphSubscription]:
        """Every Graph subscription the app owns."""

    async def delete_subscription(self, subscription_id: str) -> None:
        """Forget a Graph subscription."""

    async def save_channel_names(self, team_id: str, names: Mapping[str, str], *, now: datetime) -> None:
        """Cache channel id → display name for one team."""

    async def channel_names(self, team_id: str | None = None) -> dict[str, str]:
        """Cached channel id → display name (all teams when team_id is None)."""
