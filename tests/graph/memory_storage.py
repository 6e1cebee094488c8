"""A tiny in-memory GraphStorage for the graph tests (the real store runs its own contract suite)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping


class MemoryGraphStorage:
    """Subscriptions by id and channel names by team, in dicts; counters for reads and writes."""

    def __init__(self) -> None:
        self.subscriptions: dict[str, Any] = {}
        self.names: dict[str, dict[str, str]] = {}
        self.saved_names = 0
        self.list_calls = 0

    async def save_subscription(self, subscription: Any) -> None:
        """Upsert by id."""
        self.subscriptions[subscription.id] = subscription

    async def list_subscriptions(self) -> list[Any]:
        """Every stored subscription."""
        self.list_calls += 1
        return list(self.subscriptions.values())

    async def delete_subscription(self, subscription_id: str) -> None:
        """Forget one."""
        self.subscriptions.pop(subscription_id, None)

    async def save_channel_names(self, team_id: str, names: Mapping[str, str], *, now: datetime) -> None:
        """Replace one team's map."""
        self.names[team_id] = dict(names)
        self.saved_names += 1

    async def channel_names(self, team_id: str | None = None) -> dict[str, str]:
        """One team's map, or all teams merged."""
        if team_id is not None:
            return dict(self.names.get(team_id, {}))
        return {cid: name for names in self.names.values() for cid, name in names.items()}
