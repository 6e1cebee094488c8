"""A cached directory of channel names per team, so people see channel names, not 19:… ids.

Names come from `GET /teams/{team}/channels`, are kept for a TTL (injected clock), persisted in
the store (so a restart or a Graph outage still has names), and are corrected at once by change
notifications (`apply`). Every refresh is compared with the names known before it; a non-empty
`ChannelDiff` (channels added, renamed, removed) goes to the `on_change` callback, which is how
routes learn that their channel was renamed or deleted.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Awaitable, Callable, Mapping

from graph.client import GraphClient
from graph.errors import GraphError, GraphNotFoundError
from graph.notifications import ChannelChanged
from graph.storage import ChannelNameStorage

log = logging.getLogger(__name__)

DEFAULT_TTL = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class ChannelDiff:
    """What changed in one team's channels since the names we knew."""

    team_id: str
    added: Mapping[str, str] = field(default_factory=dict)  # id → name
    renamed: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # id → (old, new)
    removed: Mapping[str, str] = field(default_factory=dict)  # id → last known name

    @property
    def changed(self) -> bool:
        """Whether anything changed at all."""
        return bool(self.added or self.renamed or self.removed)


ChannelChangeCallback = Callable[[ChannelDiff], Awaitable[None]]


@dataclass(slots=True)
class _Entry:
    names: dict[str, str]
    fetched_at: datetime | None  # None: known from storage or invalidated, not fresh from Graph


def diff_names(team_id: str, before: Mapping[str, str], after: Mapping[str, str]) -> ChannelDiff:
    """Compare two id → name maps of one team."""
    return ChannelDiff(
        team_id,
        added={cid: name for cid, name in after.items() if cid not in before},
        renamed={cid: (before[cid], name) for cid, name in after.items() if cid in before and before[cid] != name},
        removed={cid: name for cid, name in before.items() if cid not in after},
    )


class ChannelDirectory:
    """Channel names per team: cached for `ttl`, persisted, refreshed by notifications."""

    def __init__(
        self,
        client: GraphClient,
        storage: ChannelNameStorage | None = None,
        *,
        clock: Callable[[], datetime],
        ttl: timedelta = DEFAULT_TTL,
        on_change: ChannelChangeCallback | None = None,
    ) -> None:
        self._client = client
        self._storage = storage
        self._clock = clock
        self._ttl = ttl
        self._on_change = on_change
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._failing: set[str] = set()  # teams whose last refresh failed (log once per streak)

    async def names(self, team_id: str) -> dict[str, str]:
        """Channel id → display name of a team, from Graph when the cache is older than the TTL."""
        async with self._lock(team_id):
            entry = self._entries.get(team_id)
            if entry is not None and entry.fetched_at is not None and self._clock() - entry.fetched_at < self._ttl:
                return dict(entry.names)
            diff, names = await self._refresh(team_id)
        await self._report(diff)
        return names

    async def label(self, team_id: str | None, channel_id: str) -> str:
        """The channel's display name for people to read. When Graph cannot be asked, the last
        stored name; the id only when no name was ever known."""
        if team_id is None:
            return channel_id
        try:
            return (await self.names(team_id)).get(channel_id) or channel_id
        except GraphError as error:
            if team_id not in self._failing:
                self._failing.add(team_id)
                log.warning("cannot read channel names of team %s from Graph (%s); using stored names", team_id, error)
            known = await self._known(team_id)
            return known.get(channel_id) or channel_id

    def invalidate(self, team_id: str) -> None:
        """Make the next `names` call ask Graph (a channel was renamed or deleted elsewhere)."""
        entry = self._entries.get(team_id)
        if entry is not None:
            entry.fetched_at = None

    async def resync(self, team_id: str) -> ChannelDiff:
        """List the team's channels from Graph now, store them, and report what changed."""
        async with self._lock(team_id):
            diff, _ = await self._refresh(team_id)
        await self._report(diff)
        return diff

    async def apply(self, change: ChannelChanged) -> ChannelDiff:
        """Bring one channel up to date after a change notification, and report what changed."""
        async with self._lock(change.team_id):
            before = await self._known(change.team_id)
            after = dict(before)
            if change.change_type == "deleted":
                after.pop(change.channel_id, None)
            else:
                try:
                    channel = await self._client.get_channel(change.team_id, change.channel_id)
                except GraphNotFoundError:
                    after.pop(change.channel_id, None)  # deleted again before we could look
                else:
                    after[channel.id] = channel.display_name
            previous = self._entries.get(change.team_id)
            diff = await self._commit(change.team_id, before, after, previous.fetched_at if previous else None)
        await self._report(diff)
        return diff

    async def _refresh(self, team_id: str) -> tuple[ChannelDiff, dict[str, str]]:
        """List from Graph and commit; the caller holds the team's lock."""
        before = await self._known(team_id)
        channels = await self._client.list_channels(team_id)
        after = {channel.id: channel.display_name for channel in channels}
        if team_id in self._failing:
            self._failing.discard(team_id)
            log.info("channel names of team %s readable from Graph again", team_id)
        return await self._commit(team_id, before, after, self._clock()), dict(after)

    async def _commit(
        self, team_id: str, before: Mapping[str, str], after: dict[str, str], fetched_at: datetime | None
    ) -> ChannelDiff:
        self._entries[team_id] = _Entry(after, fetched_at)
        diff = diff_names(team_id, before, after)
        if self._storage is not None and diff.changed:
            await self._storage.save_channel_names(team_id, after, now=self._clock())
        return diff

    async def _report(self, diff: ChannelDiff) -> None:
        # Called outside the team's lock, so the callback may itself ask for channel names.
        if diff.changed and self._on_change is not None:
            await self._on_change(diff)

    async def _known(self, team_id: str) -> dict[str, str]:
        """The names we knew last: memory, else the store, else nothing."""
        entry = self._entries.get(team_id)
        if entry is not None:
            return dict(entry.names)
        if self._storage is None:
            return {}
        names = await self._storage.channel_names(team_id)
        self._entries[team_id] = _Entry(dict(names), None)
        return dict(names)

    def _lock(self, team_id: str) -> asyncio.Lock:
        return self._locks.setdefault(team_id, asyncio.Lock())
