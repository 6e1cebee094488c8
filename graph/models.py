"""Graph values the app uses (channels, subscriptions), their JSON parsers and Graph's time format."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping

from graph.errors import GraphProtocolError


@dataclass(frozen=True, slots=True)
class Channel:
    """A Teams channel as Graph lists it (`id` is the 19:…@thread.tacv2 id)."""

    id: str
    display_name: str
    membership_type: str | None = None  # standard | private | shared

    @classmethod
    def from_graph(cls, item: Mapping[str, Any]) -> "Channel":
        """Parse one element of `GET /teams/{id}/channels`."""
        return cls(
            id=_required_str(item, "id", "channel"),
            display_name=_required_str(item, "displayName", "channel"),
            membership_type=item.get("membershipType") if isinstance(item.get("membershipType"), str) else None,
        )


@dataclass(frozen=True, slots=True)
class Subscription:
    """A change-notification subscription as Graph returns it."""

    id: str
    resource: str
    change_type: str
    notification_url: str
    expires_at: datetime
    lifecycle_notification_url: str | None = None
    client_state: str | None = field(default=None, repr=False)  # a secret: never in a repr

    @classmethod
    def from_graph(cls, item: Mapping[str, Any]) -> "Subscription":
        """Parse the body of `POST/PATCH /subscriptions` or an element of `GET /subscriptions`."""
        lifecycle = item.get("lifecycleNotificationUrl")
        state = item.get("clientState")
        return cls(
            id=_required_str(item, "id", "subscription"),
            resource=_required_str(item, "resource", "subscription"),
            change_type=_required_str(item, "changeType", "subscription"),
            notification_url=_required_str(item, "notificationUrl", "subscription"),
            expires_at=parse_graph_datetime(_required_str(item, "expirationDateTime", "subscription")),
            lifecycle_notification_url=lifecycle if isinstance(lifecycle, str) else None,
            client_state=state if isinstance(state, str) else None,
        )


def format_graph_datetime(moment: datetime) -> str:
    """An aware datetime as Graph writes it: UTC, `Z` suffix (`2026-11-26T14:00:00.000000Z`)."""
    if moment.tzinfo is None:
        raise ValueError("Graph times must be timezone-aware")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_graph_datetime(text: str) -> datetime:
    """Read Graph's ISO 8601 times (7 fractional digits, `Z` or an offset); naive means UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise GraphProtocolError(f"Graph sent an unreadable time {text!r}") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _required_str(item: Mapping[str, Any], key: str, what: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise GraphProtocolError(f"Graph sent a {what} without {key}")
    return value
