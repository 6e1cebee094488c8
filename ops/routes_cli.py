"""`python app.py routes list|add|remove|channels`: manage routes without Teams (same store, same rules).

`add` checks what Teams would: the kinds exist, the channel is a Teams channel id (or the link
Teams' "Get link to channel" gives, from which the team id and name come too), the company is
one that is configured, and the channel is one the bot can post in: a channel it heard from, or
any standard channel of a team it is installed in (its team's reference is aimed at it,
bot/teams/team_channels.py); a private or shared channel needs the bot added to it in Teams first.
`remove` of a route or channel that has none fails (exit 1). `channels` lists the installed
teams' channels (from Graph when configured, else the Bot Connector) so operators find the ids.
"""

from __future__ import annotations

import argparse
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Sequence
from urllib.parse import parse_qs, unquote, urlsplit

from bot.origin import SCOPE_CHANNEL
from bot.teams.team_channels import ChannelCatalog
from ops import messages
from ops.cli import CommandError, ExitCode
from poller.routing import expand_kinds
from store.api import Store
from store.types import RouteFilter

KINDS = frozenset({"bills", "payments", "vendors", "digest", "alerts", "all"})
# A channel's conversation id: "19:<opaque>@thread.tacv2" (older teams: "@thread.skype"), as in
# tests/fixtures/teams-samples (bot-framework and graph). A thread inside it adds ";messageid=…".
CHANNEL_ID = re.compile(r"^19:[^\s;]+@thread\.(tacv2|skype)$")
# Graph's channel `webUrl`, the link Teams' "Get link to channel" copies
# (tests/fixtures/teams-samples/graph/notification-channel-decrypted-resource.json):
# https://teams.microsoft.com/l/channel/<url-encoded channel id>/<name>?groupId=<team id>&tenantId=<tenant>
CHANNEL_LINK_PATH = re.compile(r"^/l/channel/([^/]+)/([^/]*)$")


async def list_routes(store: Store) -> str:
    """A plain-text table of every route."""
    routes = await store.list_routes()
    if not routes:
        return messages.ROUTES_NONE
    lines = [f"{'id':>4}  {'active':<8} {'kinds':<32} {'channel':<40} filters"]
    for r in routes:
        f = r.filter
        filters = ", ".join(
            f"{name} {value}"
            for name, value in (("company", r.company), ("department", f.department), ("location", f.location),
                                ("vendor", f.vendor), ("over", f.min_amount), ("entity", f.entity))
            if value is not None
        )
        state = "yes" if r.active else f"no ({r.inactive_reason or 'inactive'})"
        channel = f"{r.channel_name} [{r.conversation_id}]" if r.channel_name else r.conversation_id
        lines.append(f"{r.id:>4}  {state:<8} {','.join(sorted(r.event_kinds)):<32} {channel:<40} {filters}")
    return "\n".join(lines)


def parse_channel(text: str) -> tuple[str, str | None, str | None]:
    """(channel id, team's Graph id, channel name) from a channel id or a "Get link to channel" link; CommandError otherwise."""
    text = text.strip()
    parts = urlsplit(text)
    if parts.scheme == "https" and parts.netloc == "teams.microsoft.com":
        match = CHANNEL_LINK_PATH.match(parts.path)
        if match is None:
            raise CommandError(messages.ROUTES_NOT_A_CHANNEL_LINK.format(link=text), ExitCode.USAGE)
        channel, name = unquote(match.group(1)), unquote(match.group(2)) or None
        team = (parse_qs(parts.query).get("groupId") or [None])[0]
    else:
        channel, team, name = text, None, None
    if ";messageid=" in channel:
        raise CommandError(messages.ROUTES_THREAD_NOT_CHANNEL.format(channel=channel.split(";")[0]), ExitCode.USAGE)
    if not CHANNEL_ID.match(channel):
        raise CommandError(messages.ROUTES_BAD_CHANNEL.format(channel=text), ExitCode.USAGE)
    return channel, team, name


def check_company(company: str | None, configured: Sequence[str]) -> None:
    """A route's company must be one that is polled (else its route would never receive a card)."""
    if company is None or company in configured:
        return
    if not configured:
        raise CommandError(messages.ROUTES_NO_COMPANIES.format(company=company), ExitCode.USAGE)
    raise CommandError(messages.ROUTES_UNKNOWN_COMPANY.format(company=company, companies=", ".join(configured)), ExitCode.USAGE)


async def add_route(store: Store, args: argparse.Namespace, *, now: datetime, companies: Sequence[str] = (),
                    catalog: ChannelCatalog | None = None) -> str:
    """Create a route from the command-line options, every option checked before anything is written.
    A channel without a stored reference is looked up among the installed teams' channels through
    `catalog` (CommandError, exit 2, when it is none of theirs or cannot be posted in;
    ConnectorError/GraphError when they cannot be listed)."""
    kinds = {k.strip().lower() for k in args.kinds.split(",") if k.strip()}
    unknown = kinds - KINDS
    if not kinds or unknown:
        raise CommandError(messages.ROUTES_BAD_KINDS.format(kinds=", ".join(sorted(KINDS)), given=args.kinds), ExitCode.USAGE)
    channel_id, linked_team, linked_name = parse_channel(args.channel)
    check_company(args.company, companies)
    try:
        over = Decimal(args.over.replace(",", "")) if args.over else None
    except InvalidOperation:
        over = None
    if args.over and (over is None or not over.is_finite() or over < 0):
        raise CommandError(messages.ROUTES_BAD_OVER.format(over=args.over), ExitCode.USAGE)
    team_hint = args.team or linked_team
    record = await store.get_conversation(channel_id)
    note = ""
    if record is not None and record.scope == SCOPE_CHANNEL:
        team_id, tenant_id, name = record.aad_group_id or team_hint, record.tenant_id, args.name or linked_name
    else:
        channel = await catalog.find(channel_id, team=team_hint) if catalog is not None else None
        if channel is None:
            raise CommandError(messages.ROUTES_NOT_INSTALLED.format(channel=channel_id), ExitCode.USAGE)
        try:
            if await catalog.ensure_reference(channel):  # type: ignore[union-attr]  # catalog found it
                note = "\n" + messages.ROUTES_THROUGH_TEAM.format(channel=channel.name or channel_id)
        except ValueError as exc:  # a private or shared channel the bot was not added to
            raise CommandError(str(exc), ExitCode.USAGE) from None
        team_id, tenant_id = channel.team.aad_group_id or team_hint, channel.team.tenant_id
        name = args.name or linked_name or channel.name
    route = await store.add_route(
        channel_id,
        expand_kinds(kinds),
        filter=RouteFilter(args.department, args.location, args.vendor, over, args.entity),
        company=args.company,
        team_id=team_id,
        tenant_id=tenant_id,
        channel_name=name,
        created_by="command line",
        now=now,
    )
    return messages.ROUTES_ADDED.format(id=route.id, kinds=",".join(sorted(route.event_kinds)), channel=channel_id) + note


async def list_channels(store: Store, catalog: ChannelCatalog, *, team: str | None = None) -> str:
    """A plain-text table per installed team of its channels: id, name, kind, whether cards can
    go there, and the routes it has."""
    teams = [t for t in await catalog.installed_teams() if team is None or t.is_named(team)]
    if not teams:
        return messages.ROUTES_NO_TEAMS.format(matching=f" matches {team!r}" if team else "")
    routed: dict[str, list[str]] = {}
    for route in await store.list_routes():
        routed.setdefault(route.conversation_id, []).extend(sorted(route.event_kinds))
    lines = []
    for installed in teams:
        ids = f"Graph id {installed.aad_group_id}" if installed.aad_group_id else "Graph id unknown"
        lines.append(f"team {installed.team_id} ({ids}, tenant {installed.tenant_id or '?'}) — channels from {catalog.source}")
        lines.append(f"  {'channel id':<48} {'name':<24} {'kind':<9} {'cards':<34} routes")
        for channel in await catalog.channels(installed):
            cards = "yes" if channel.postable else messages.ROUTES_CHANNEL_NEEDS_BOT
            kinds = ",".join(sorted(set(routed.get(channel.channel_id, [])))) or "-"
            lines.append(f"  {channel.channel_id:<48} {(channel.name or '?'):<24} {(channel.membership or '?'):<9} {cards:<34} {kinds}")
    return "\n".join(lines)


async def remove_routes(store: Store, args: argparse.Namespace) -> str:
    """Remove one route by id, or every route of a channel; CommandError (exit 1) when there is none."""
    if args.id is not None:
        if not await store.remove_route(args.id):
            raise CommandError(messages.ROUTES_NO_SUCH_ID.format(id=args.id))
        return messages.ROUTES_REMOVED.format(id=args.id)
    if args.channel:
        channel, _, _ = parse_channel(args.channel)
        count = await store.remove_routes(channel)
        if not count:
            raise CommandError(messages.ROUTES_NONE_FOR_CHANNEL.format(channel=channel))
        return messages.ROUTES_REMOVED_CHANNEL.format(count=count, channel=channel)
    raise CommandError(messages.ROUTES_REMOVE_WHAT, ExitCode.USAGE)
