"""What graph/ needs persisted (subscriptions, channel names), as a protocol the store meets by duck typing.

The method names and argument shapes are those of `store.api.Store`; `StoredSubscription` has the
fields of `store.types.GraphSubscription`, so the store can read either by attribute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Mapping, Protocol, Sequence


class SubscriptionRecord(Protocol):
    """The fields of a stored subscription (store.types.GraphSubscription has exactly these)."""

    @property
    def id(self) -> str:
        """Graph's subscription id."""

    @property
    def team_id(self) -> str:
        """The team (Microsoft 365 group GUID) whose channels it watches."""

    @property
    def resource(self) -> str:
        """The subscribed resource, `/teams/{team_id}/channels`."""

    @property
    def client_state(self) -> str:
        """The secret Graph echoes in every notification."""

    @property
    def expires_at(self) -> datetime:
        """When Graph deletes it unless renewed."""

    @property
    def created_at(self) -> datetime:
        """When we created it."""


@dataclass(frozen=True, slots=True)
class StoredSubscription:
    """graph/'s own record of a subscription, handed to `save_subscription`."""

    id: str
    team_id: str
    resource: str
    client_state: str = field(repr=False)
    expires_at: datetime
    created_at: datetime

    @classmethod
    def copy_of(cls, record: SubscriptionRecord, *, expires_at: datetime) -> "StoredSubscription":
        """The same subscription with a new expiry (after a renewal)."""
        return cls(record.id, record.team_id, record.resource, record.client_state, expires_at, record.created_at)


class ChannelNameStorage(Protocol):
    """Where the channel directory keeps the last known channel names (survives restarts)."""

    async def save_channel_names(self, team_id: str, names: Mapping[str, str], *, now: datetime) -> None:
        """Replace the cached channel id → display name map of one team."""

    async def channel_names(self, team_id: str | None = None) -> dict[str, str]:
        """Cached channel id → display name (all teams when team_id is None)."""


class GraphStorage(ChannelNameStorage, Protocol):
    """The store methods graph/ calls (same names and arguments as store.api.Store)."""

    async def save_subscription(self, subscription: StoredSubscription) -> None:
        """Upsert a subscription (by id)."""

    async def list_subscriptions(self) -> Sequence[SubscriptionRecord]:
        """Every subscription the app owns."""

    async def delete_subscription(self, subscription_id: str) -> None:
        """Forget a subscription."""
