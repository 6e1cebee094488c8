"""`python app.py routes list|add|remove`: manage routes without Teams (same store, same rules)."""

from __future__ import annotations

import argparse
from datetime import datetime
from decimal import Decimal, InvalidOperation

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


async def add_route(store: Store, args: argparse.Namespace, *, now: datetime) -> str:
    """Create a route from the command-line options."""
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
    route = await store.add_route(
        args.channel,
        expand_kinds(kinds),
        filter=RouteFilter(args.department, args.location, args.vendor, over, args.entity),
        company=args.company,
        team_id=args.team,
        tenant_id=None,
        channel_name=args.name,
        created_by="command line",
        now=now,
    )
    warning = ""
    if await store.get_conversation(args.channel) is None:
        warning = "\nwarning: the bot has no conversation reference for this channel yet; install it in the team (or @mention it there) so it can post"
    return f"route {route.id}: {','.join(sorted(route.event_kinds))} → {args.channel}{warning}"


async def remove_routes(store: Store, args: argparse.Namespace) -> str:
    """Remove one route by id, or every route of a channel."""
    if args.id is not None:
        return f"removed route {args.id}" if await store.remove_route(args.id) else f"no route {args.id}"
    if args.channel:
        return f"removed {await store.remove_routes(args.channel)} route(s) of {args.channel}"
    raise ValueError("give a route id or --channel")
