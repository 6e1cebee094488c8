"""The channels of the teams the bot is installed in, and references to post in any standard one.

A bot installed in a team may start a thread in any of the team's standard channels (Learn, "Send
proactive messages": a new channel conversation needs only the team's service URL and tenant and
the channel's id), so a channel the bot has never seen a message in can still get cards: its
reference is the team's stored one aimed at that channel (`reference_for`). Private and shared
channels are different: the bot must have been added to each one itself, and then it has their
reference from their install event.

Which channels a team has: Graph (`GET /teams/{aadGroupId}/channels`, with each channel's
membershipType) when Graph is configured, else the Bot Connector (`GET /v3/teams/{teamId}/
conversations`, TeamsInfo.get_team_channels), plus the channels the bot holds references for.
Used by `python app.py routes add` and `routes channels` (ops/routes_cli.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Mapping, Protocol

from bot.teams.connector import TeamChannel, TeamsConnector, thread_reference
from bot.origin import SCOPE_CHANNEL
from store.api import Store
from store.types import ConversationRecord

Clock = Callable[[], datetime]

STANDARD = "standard"
PRIVATE = "private"
SHARED = "shared"


class GraphChannels(Protocol):
    """The part of graph.client.GraphClient used here."""

    async def list_channels(self, team_id: str) -> list[Any]:
        """The team's channels (graph.models.Channel: id, display_name, membership_type)."""


@dataclass(frozen=True, slots=True)
class InstalledTeam:
    """A team the bot holds references in: its ids, tenant, and a reference to ask the Bot Connector with."""

    team_id: str  # Teams' id, 19:… (= General's channel id)
    aad_group_id: str | None
    tenant_id: str | None
    reference: Mapping[str, Any]

    def is_named(self, team: str) -> bool:
        """Whether `team` names this team: its 19:… id or its Graph id, in any case."""
        return team.lower() in (self.team_id.lower(), (self.aad_group_id or "").lower())


@dataclass(frozen=True, slots=True)
class KnownChannel:
    """One channel of an installed team."""

    team: InstalledTeam
    channel_id: str
    name: str | None
    membership: str | None  # standard | private | shared; None when the source does not say
    has_reference: bool  # the bot holds this channel's own reference (it was installed or spoken to there)

    @property
    def postable(self) -> bool:
        """Whether the bot may start threads here: any standard channel (or one whose kind is not
        known: the Bot Connector's list does not say), other kinds only once the bot was added."""
        return self.has_reference or self.membership in (STANDARD, None)


class ChannelCatalog:
    """Lists installed teams and their channels; stores a reference for a standard channel on demand."""

    def __init__(self, store: Store, teams: TeamsConnector, clock: Clock, *, graph: GraphChannels | None = None) -> None:
        self._store = store
        self._teams = teams
        self._clock = clock
        self._graph = graph

    @property
    def source(self) -> str:
        """Where channel lists come from."""
        return "Microsoft Graph" if self._graph is not None else "the Bot Connector"

    async def installed_teams(self) -> list[InstalledTeam]:
        """Every team the bot holds a channel reference in, by name then id."""
        by_team: dict[str, list[ConversationRecord]] = {}
        for record in await self._store.list_conversations():
            if record.team_id and record.scope == SCOPE_CHANNEL:
                by_team.setdefault(record.team_id, []).append(record)
        teams = []
        for team_id, records in by_team.items():
            general = next((r for r in records if r.conversation_id == team_id), records[0])
            aad = next((r.aad_group_id for r in records if r.aad_group_id), None)
            tenant = next((r.tenant_id for r in records if r.tenant_id), None)
            teams.append(InstalledTeam(team_id, aad, tenant, general.reference))
        return sorted(teams, key=lambda t: t.team_id)

    async def channels(self, team: InstalledTeam) -> list[KnownChannel]:
        """The team's channels from Graph or the Bot Connector, and every channel the bot holds a
        reference for (General first, then by name). Raises ConnectorError or GraphError."""
        referenced = {r.conversation_id for r in await self._store.list_conversations(team_id=team.team_id) if r.scope == SCOPE_CHANNEL}
        listed: dict[str, KnownChannel] = {}
        if self._graph is not None and team.aad_group_id:
            for channel in await self._graph.list_channels(team.aad_group_id):
                listed[channel.id] = KnownChannel(team, channel.id, channel.display_name, channel.membership_type,
                                                  channel.id in referenced)
        else:
            found: list[TeamChannel] = await self._teams.team_channels(team.reference, team.team_id)
            for channel in found:
                # The Bot Connector says nothing of a channel's kind; Teams names General nothing.
                name = channel.name if channel.name or channel.channel_id != team.team_id else "General"
                listed[channel.channel_id] = KnownChannel(team, channel.channel_id, name, None, channel.channel_id in referenced)
        for channel_id in referenced - set(listed):
            listed[channel_id] = KnownChannel(team, channel_id, None, None, True)
        return sorted(listed.values(), key=lambda c: (c.channel_id != team.team_id, (c.name or "").lower(), c.channel_id))

    async def find(self, channel_id: str, *, team: str | None = None) -> KnownChannel | None:
        """The channel among the installed teams (only the one named by `team`, a 19:… or Graph id,
        when given), or None."""
        for installed in await self.installed_teams():
            if team is not None and not installed.is_named(team):
                continue
            for channel in await self.channels(installed):
                if channel.channel_id == channel_id:
                    return channel
        return None

    async def ensure_reference(self, channel: KnownChannel) -> bool:
        """Store a reference for a standard channel the bot has none for (its team's reference aimed
        at it); True when one was stored. A private or shared channel needs the bot added there."""
        if channel.has_reference:
            return False
        if not channel.postable:
            raise ValueError(f"{channel.channel_id} is a {channel.membership} channel: add the bot to that channel in Teams "
                             "first (private and shared channels need it added to each)")
        team = channel.team
        reference = reference_for(team.reference, channel.channel_id)
        await self._store.save_conversation(ConversationRecord(
            conversation_id=channel.channel_id, reference=reference, scope=SCOPE_CHANNEL, team_id=team.team_id,
            aad_group_id=team.aad_group_id, channel_id=channel.channel_id, tenant_id=team.tenant_id,
            service_url=str(reference.get("serviceUrl") or ""), updated_at=self._clock(),
        ))
        return True


def reference_for(team_reference: Mapping[str, Any], channel_id: str) -> dict[str, Any]:
    """A reference for a new thread in another channel of the same team: the team's service URL,
    tenant, bot and channel type, aimed at `channel_id`."""
    reference = thread_reference(team_reference, channel_id)
    conversation = dict(reference.get("conversation") or {})
    conversation["conversationType"] = "channel"
    conversation.pop("name", None)
    reference["conversation"] = conversation
    return reference
