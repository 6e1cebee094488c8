"""Where the bot may post: references stored on install and on every message, forgotten on
uninstall, and routes kept in step with channel and team events.

Per channel two kinds of reference are kept apart (teams-bot-and-graph.md §1.5):

- the channel's own, scope "channel": conversation.id is the bare channel id (`19:…@thread.tacv2`),
  so a send starts a NEW thread. Routes and the notifier name a channel by this id;
- a thread's, scope "thread": conversation.id is `<channel>;messageid=<root>`, a send replies in it.

Chats keep one reference each (scope "personal" or "groupChat"). Every record carries the team's
Teams id (`19:…`, = General's channel id), its Graph id (channelData.team.aadGroupId), the tenant
and the service URL. Only install and team events carry the aadGroupId; messages inherit it from
the records of their team (cached here: a team's ids never change). When no record has it (the
install events were missed, or came before this store existed), `remember` and `install` ask the
Bot Connector through the `team_lookup` the handler passes (TeamsInfo.get_team_details), at most
once per LOOKUP_RETRY per team while it fails.

Teams announces an install twice (installationUpdate "add", then conversationUpdate with the bot
in membersAdded): `install` says "new" once, so one welcome card is posted. A per-conversation
lock settles the two arrivals inside one process, a store lease across instances. An install
also switches back on the team's routes that were switched off because the bot had been removed
(or the notifier found it gone: PRESENCE_REASONS); so does a message from such a channel.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable, Iterable, Mapping, Protocol

from bot import messages
from bot.teams.errors import ConnectorError
from bot.origin import SCOPE_CHANNEL, Origin, split_conversation_id
from store.api import Store, StoreError
from store.types import ConversationRecord

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# Why a route may be off that the bot's presence heals: an install, or a message from the channel,
# proves Teams accepts the bot there again (a deleted channel's routes are not among them).
PRESENCE_REASONS = frozenset(
    {
        messages.ROUTE_REASON_BOT_REMOVED,
        messages.NOTIFIER_GONE_REASONS["BotNotInConversationRoster"],
        messages.NOTIFIER_GONE_REASONS["BotDisabledByAdmin"],
        # A 404 "conversation not found" may be Teams not knowing the channel for a while; a message
        # from the channel proves it exists (a channelDeleted event sets another reason, which stays).
        messages.NOTIFIER_GONE_REASONS["ConversationNotFound"],
        messages.NOTIFIER_NO_REFERENCE,
        messages.NOTIFIER_BAD_REFERENCE,
    }
)

WELCOME_WINDOW = timedelta(minutes=10)  # the two install events arrive seconds apart
LOOKUP_RETRY = timedelta(minutes=10)  # a team whose Graph id the Bot Connector would not give is asked again after this

# Teams' id of a team (19:…) → its Graph id (aadGroupId), asked of the Bot Connector; raises on failure.
TeamLookup = Callable[[str], Awaitable[str | None]]


class ChannelNames(Protocol):
    """The part of graph.channels.ChannelDirectory this module uses."""

    def invalidate(self, team_id: str) -> None:
        """Forget the cached names of a team."""


class ConversationBook:
    """Stores and forgets conversation references and follows channel and team lifecycle events."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        channel_names: ChannelNames | None = None,
        holder: str | None = None,
        welcome_window: timedelta = WELCOME_WINDOW,
    ) -> None:
        self._store = store
        self._clock = clock
        self._channel_names = channel_names
        self._holder = holder or f"welcome-{uuid.uuid4().hex}"
        self._welcome_window = welcome_window
        self._aad_group_ids: dict[str, str] = {}  # team id (19:…) → aadGroupId
        self._lookup_failed: dict[str, datetime] = {}  # team id → when the Bot Connector last failed to say
        self._locks: dict[str, asyncio.Lock] = {}
        self._store_failing = False

    # --- every message ------------------------------------------------------------------------
    async def remember(
        self,
        origin: Origin,
        reference: Mapping[str, Any],
        channel_reference: Mapping[str, Any] | None = None,
        *,
        team_lookup: TeamLookup | None = None,
    ) -> Origin:
        """Store the conversation's reference and, in a channel, the channel's own; returns the
        origin with the team's aadGroupId filled in when it is known. The channel's routes that
        were off because the bot seemed gone (PRESENCE_REASONS) come back on.

        A store failure is logged (once until the store answers again) and not raised: answering
        the person matters more than refreshing a reference that is usually stored already.
        """
        try:
            origin = await self._with_group_id(origin, team_lookup)
            await self._save(origin, reference, channel_reference)
            if origin.in_channel and channel_reference is not None:
                await self._reactivate({origin.channel_id or ""}, PRESENCE_REASONS)
        except StoreError as error:
            if not self._store_failing:
                self._store_failing = True
                log.warning("cannot store conversation references (%s); answering anyway", error)
            return origin
        if self._store_failing:
            self._store_failing = False
            log.info("storing conversation references works again")
        return origin

    # --- install and uninstall ------------------------------------------------------------------
    async def install(
        self,
        origin: Origin,
        reference: Mapping[str, Any],
        channel_reference: Mapping[str, Any] | None = None,
        *,
        team_lookup: TeamLookup | None = None,
    ) -> bool:
        """The bot was added (installationUpdate add, or the bot in membersAdded): store the
        references and switch back on the team's routes that were off because the bot was gone
        (PRESENCE_REASONS). True only the first time (post the welcome card then)."""
        origin = await self._with_group_id(origin, team_lookup)
        key = origin.channel_id if origin.in_channel else origin.conversation_id
        async with self._lock(key):
            known = await self._store.get_conversation(key) is not None
            await self._save(origin, reference, channel_reference)
            channels = await self._team_route_channels(origin) | ({origin.channel_id} if origin.channel_id else set())
            await self._reactivate(channels, PRESENCE_REASONS)
            if known:
                return False
            return await self._store.try_lease(
                f"welcome:{key}", self._holder, now=self._clock(), ttl_seconds=self._welcome_window.total_seconds()
            )

    async def uninstall(self, origin: Origin) -> int:
        """The bot was removed (installationUpdate remove, or the bot in membersRemoved): switch
        the routes off with a reason and forget the references. Returns how many routes changed."""
        origin = await self._with_group_id(origin)
        if origin.team_id is None:  # a personal or group chat
            changed = await self._store.set_routes_active(
                origin.conversation_id, False, reason=messages.ROUTE_REASON_BOT_REMOVED_CHAT
            )
            await self._store.forget_conversations(conversation_id=origin.conversation_id)
        else:
            changed = await self._deactivate(await self._team_channels(origin), messages.ROUTE_REASON_BOT_REMOVED)
            await self._store.forget_conversations(team_id=origin.team_id)
        log.info("bot removed from %s: %d route(s) switched off, references forgotten", _where(origin), changed)
        return changed

    # --- channel events -------------------------------------------------------------------------
    async def channel_renamed(self, origin: Origin, channel_id: str, name: str) -> int:
        """Store a channel's new name on its routes; returns how many routes it has."""
        origin = await self._with_group_id(origin)
        changed = await self._store.rename_channel(channel_id, name)
        self._invalidate(origin)
        return changed

    async def channel_deleted(self, origin: Origin, channel_id: str) -> int:
        """Switch the channel's routes off ("channel deleted") and forget its references."""
        origin = await self._with_group_id(origin)
        changed = await self._store.set_routes_active(channel_id, False, reason=messages.ROUTE_REASON_CHANNEL_DELETED)
        if origin.team_id is not None:
            for record in await self._store.list_conversations(team_id=origin.team_id):
                if record.channel_id == channel_id or record.conversation_id == channel_id:
                    await self._store.forget_conversations(conversation_id=record.conversation_id)
        self._invalidate(origin)
        log.info("channel %s deleted: %d route(s) switched off", channel_id, changed)
        return changed

    async def channel_restored(self, origin: Origin, channel_reference: Mapping[str, Any]) -> int:
        """Store the restored channel's reference again and switch its routes back on."""
        origin = await self._with_group_id(origin)
        channel_id = origin.channel_id or str(channel_reference["conversation"]["id"])
        await self._save_channel(origin, channel_id, channel_reference)
        changed = await self._store.set_routes_active(channel_id, True, reason=None)
        self._invalidate(origin)
        return changed

    # --- team events ----------------------------------------------------------------------------
    async def team_deleted(self, origin: Origin) -> int:
        """Switch every route of the team off ("team deleted") and forget its references."""
        origin = await self._with_group_id(origin)
        changed = await self._deactivate(await self._team_channels(origin), messages.ROUTE_REASON_TEAM_DELETED)
        if origin.team_id is not None:
            await self._store.forget_conversations(team_id=origin.team_id)
        return changed

    async def team_archived(self, origin: Origin) -> int:
        """Switch every route of the team off ("team archived"); references stay for unarchiving."""
        origin = await self._with_group_id(origin)
        return await self._deactivate(await self._team_channels(origin), messages.ROUTE_REASON_TEAM_ARCHIVED)

    async def team_back(self, origin: Origin, channel_reference: Mapping[str, Any] | None) -> int:
        """The team was unarchived or restored: store its reference again and switch back on the
        routes that its archiving or deletion had switched off."""
        origin = await self._with_group_id(origin)
        if channel_reference is not None and origin.channel_id:
            await self._save_channel(origin, origin.channel_id, channel_reference)
        reasons = {messages.ROUTE_REASON_TEAM_ARCHIVED, messages.ROUTE_REASON_TEAM_DELETED}
        return await self._reactivate(await self._team_channels(origin), reasons)

    # --- helpers --------------------------------------------------------------------------------
    async def _with_group_id(self, origin: Origin, team_lookup: TeamLookup | None = None) -> Origin:
        """The origin with its team's aadGroupId: from the activity, the cache, the stored records,
        or (with `team_lookup`) the Bot Connector."""
        if origin.team_id is None:
            return origin
        if origin.aad_group_id:
            self._aad_group_ids[origin.team_id] = origin.aad_group_id
            return origin
        known = self._aad_group_ids.get(origin.team_id)
        if known is None:
            records = await self._store.list_conversations(team_id=origin.team_id)
            known = next((r.aad_group_id for r in records if r.aad_group_id), None)
        if known is None and team_lookup is not None:
            known = await self._look_up(origin.team_id, team_lookup)
        if known is not None:
            self._aad_group_ids[origin.team_id] = known
        return replace(origin, aad_group_id=known) if known else origin

    async def _look_up(self, team_id: str, team_lookup: TeamLookup) -> str | None:
        failed_at = self._lookup_failed.get(team_id)
        if failed_at is not None and self._clock() - failed_at < LOOKUP_RETRY:
            return None
        try:
            found = await team_lookup(team_id)
        except ConnectorError as error:
            if failed_at is None:
                log.warning("team %s: the Bot Connector would not give its Graph id (%s); asking again in %d minutes",
                            team_id, error, LOOKUP_RETRY.total_seconds() // 60)
            self._lookup_failed[team_id] = self._clock()
            return None
        self._lookup_failed.pop(team_id, None)
        if found:
            log.info("team %s: Graph id %s recovered from the Bot Connector (its install events were missed)", team_id, found)
        return found or None

    async def _save(self, origin: Origin, reference: Mapping[str, Any], channel_reference: Mapping[str, Any] | None) -> None:
        scope = origin.scope
        if scope != SCOPE_CHANNEL:
            await self._store.save_conversation(self._record(origin, origin.conversation_id, scope, reference))
        if origin.in_channel and channel_reference is not None:
            await self._save_channel(origin, origin.channel_id or "", channel_reference)

    async def _save_channel(self, origin: Origin, channel_id: str, channel_reference: Mapping[str, Any]) -> None:
        await self._store.save_conversation(self._record(origin, channel_id, SCOPE_CHANNEL, channel_reference))

    def _record(self, origin: Origin, conversation_id: str, scope: str, reference: Mapping[str, Any]) -> ConversationRecord:
        return ConversationRecord(
            conversation_id=conversation_id,
            reference=dict(reference),
            scope=scope,
            team_id=origin.team_id,
            aad_group_id=origin.aad_group_id,
            channel_id=origin.channel_id if origin.in_channel else None,
            tenant_id=origin.tenant_id,
            service_url=origin.service_url,
            updated_at=self._clock(),
        )

    async def _team_channels(self, origin: Origin) -> set[str]:
        """Every channel of the team the store knows: General, stored references, routed channels."""
        channels = await self._team_route_channels(origin)
        if origin.team_id is not None:
            channels.add(origin.team_id)
            for record in await self._store.list_conversations(team_id=origin.team_id):
                channels.add(record.channel_id or split_conversation_id(record.conversation_id)[0])
        return channels

    async def _team_route_channels(self, origin: Origin) -> set[str]:
        if not origin.aad_group_id:
            return set()
        return {route.conversation_id for route in await self._store.list_routes(team_id=origin.aad_group_id)}

    async def _deactivate(self, channels: Iterable[str], reason: str) -> int:
        changed = 0
        for channel_id in sorted(channels):
            changed += await self._store.set_routes_active(channel_id, False, reason=reason)
        return changed

    async def _reactivate(self, channels: Iterable[str], reasons: set[str]) -> int:
        """Switch back on the routes of the channels whose routes are off for one of `reasons`
        (a channel whose routes are off because it was deleted stays off)."""
        wanted = set(channels)
        if not wanted:
            return 0
        to_switch = set()
        for channel_id in wanted:
            for route in await self._store.list_routes(conversation_id=channel_id):
                if not route.active and route.inactive_reason in reasons:
                    to_switch.add(channel_id)
        changed = 0
        for channel_id in sorted(to_switch):
            changed += await self._store.set_routes_active(channel_id, True, reason=None)
        return changed

    def _invalidate(self, origin: Origin) -> None:
        if self._channel_names is not None and origin.aad_group_id:
            self._channel_names.invalidate(origin.aad_group_id)

    def _lock(self, key: str) -> asyncio.Lock:
        return self._locks.setdefault(key, asyncio.Lock())


def _where(origin: Origin) -> str:
    return f"team {origin.team_id}" if origin.team_id else f"chat {origin.conversation_id}"
