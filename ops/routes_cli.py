"""`python app.py routes list|add|remove|channels`: manage routes without Teams (same store, same rules).

`routes add` takes any channel of a team the bot is installed in: a standard channel it never saw a
message in gets its team's reference aimed at it (bot/team_channels.py); a private or shared
channel needs the bot added to it in Teams first. `routes channels` lists the installed teams'
channels (from Graph when configured, else the Bot Connector) so operators can find the ids.
"""

from __future__ import annotations

import argparse
from datetime import datetime
from decimal import Decimal, InvalidOperation

from bot.conversations import SCOPE_CHANNEL
from bot.team_channels import ChannelCatalog
from poller.routing import expand_kinds
from store.api import Store
from store.types import RouteFilter

KINDS = frozenset({"bills", "payments", "vendors", "digest", "alerts", "all"})


async def list_routes(store: Store) -> str:
    """A plain-text table of every route."""
    routes = await store.list_routes()
    if not routes:
        return "no routes (subscribe a channel with `@ml-connector subscribe bills` or `routes add`)"
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


async def add_route(store: Store, args: argparse.Namespace, *, now: datetime, catalog: ChannelCatalog | None = None) -> str:
    """Create a route from the command-line options. A channel without a stored reference is looked
    up among the installed teams' channels through `catalog` (raises ValueError when it is none of
    theirs or cannot be posted in; ConnectorError/GraphError when they cannot be listed)."""
    kinds = {k.strip().lower() for k in args.kinds.split(",") if k.strip()}
    unknown = kinds - KINDS
    if not kinds or unknown:
        raise ValueError(f"--kinds takes {', '.join(sorted(KINDS))} (got {args.kinds!r})")
    if not args.channel.startswith("19:"):
        raise ValueError("--channel must be a Teams channel id such as 19:abc…@thread.tacv2")
    try:
        over = Decimal(args.over.replace(",", "")) if args.over else None
    except InvalidOperation:
        raise ValueError(f"--over must be an amount such as 500 or 1200.50 (got {args.over!r})") from None
    record = await store.get_conversation(args.channel)
    note = ""
    if record is not None and record.scope == SCOPE_CHANNEL:
        team_id, tenant_id, name = record.aad_group_id or args.team, record.tenant_id, args.name
    else:
        channel = await catalog.find(args.channel, team=args.team) if catalog is not None else None
        if channel is None:
            raise ValueError(f"{args.channel} is not a channel of any team the bot is installed in "
                             "(`python app.py routes channels` lists them; install the bot in the team first)")
        if await catalog.ensure_reference(channel):  # type: ignore[union-attr]  # catalog found it
            note = f"\nthe bot will start threads in {channel.name or args.channel} through its team's reference"
        team_id, tenant_id, name = channel.team.aad_group_id or args.team, channel.team.tenant_id, args.name or channel.name
    route = await store.add_route(
        args.channel,
        expand_kinds(kinds),
        filter=RouteFilter(args.department, args.location, args.vendor, over, args.entity),
        company=args.company,
        team_id=team_id,
        tenant_id=tenant_id,
        channel_name=name,
        created_by="command line",
        now=now,
    )
    return f"route {route.id}: {','.join(sorted(route.event_kinds))} → {args.channel}{note}"


async def list_channels(store: Store, catalog: ChannelCatalog, *, team: str | None = None) -> str:
    """A plain-text table per installed team of its channels: id, name, kind, whether cards can
    go there, and the routes it has."""
    teams = [t for t in await catalog.installed_teams()
             if team is None or team.lower() in (t.team_id.lower(), (t.aad_group_id or "").lower())]
    if not teams:
        return ("no team the bot is installed in" + (f" matches {team!r}" if team else "")
                + " (add the app to a team in Teams; its install event gives the bot the team's reference)")
    routed: dict[str, list[str]] = {}
    for route in await store.list_routes():
        routed.setdefault(route.conversation_id, []).extend(sorted(route.event_kinds))
    lines = []
    for installed in teams:
        ids = f"Graph id {installed.aad_group_id}" if installed.aad_group_id else "Graph id unknown"
        lines.append(f"team {installed.team_id} ({ids}, tenant {installed.tenant_id or '?'}) — channels from {catalog.source}")
        lines.append(f"  {'channel id':<48} {'name':<24} {'kind':<9} {'cards':<34} routes")
        for channel in await catalog.channels(installed):
            cards = "yes" if channel.postable else "no: add the bot to this channel in Teams"
            kinds = ",".join(sorted(set(routed.get(channel.channel_id, [])))) or "-"
            lines.append(f"  {channel.channel_id:<48} {(channel.name or '?'):<24} {(channel.membership or '?'):<9} {cards:<34} {kinds}")
    return "\n".join(lines)


async def remove_routes(store: Store, args: argparse.Namespace) -> str:
    """Remove one route by id, or every route of a channel."""
    if args.id is not None:
        return f"removed route {args.id}" if await store.remove_route(args.id) else f"no route {args.id}"
    if args.channel:
        return f"removed {await store.remove_routes(args.channel)} route(s) of {args.channel}"
    raise ValueError("give a route id or --channel")
