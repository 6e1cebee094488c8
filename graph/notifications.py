"""Framework-neutral reading of what Graph POSTs to the notification and lifecycle URLs.

One call, `parse_notification_request(query, body, content_type, verify_client_state=…)`, turns a
request into either a `Handshake` (answer 200, text/plain, the token verbatim) or the accepted
`ChannelChanged` / `LifecycleEvent` values (answer 202, then do the work in the background:
Graph wants an answer within 3 s). Parsing is cheap; `verify_client_state` should be an in-memory
lookup (SubscriptionManager.verify_client_state is).

Rejections (the route turns them into 4xx):

    NotificationError               the request is not something we act on
    ├── NotificationFormatError     not JSON, no `value` list, body too large → 400
    └── ClientStateMismatchError    every item had a missing or wrong clientState → 403

An item with a wrong or missing clientState is dropped; the others in the same POST are still
accepted, so one stale subscription cannot make Graph redeliver good notifications for hours.
Dropped items are tallied in a `DroppedNotifications` (never with a clientState value) and
logged as ONE line per request, not one per item: a forged batch of a thousand items is one line.
A caller that passes its own tally logs it itself (the bot's route sums floods up per interval).
"""

from __future__ import annotations

import enum
import json
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Awaitable, Callable, ClassVar, Mapping
from urllib.parse import unquote

from graph.errors import GraphProtocolError
from graph.models import parse_graph_datetime

log = logging.getLogger(__name__)

# Graph batches notifications; even a large batch of channel changes is a few KB per item.
MAX_BODY_BYTES = 1024 * 1024
CHANGE_TYPES = frozenset({"created", "updated", "deleted"})
_CHANNEL_RESOURCE = (
    re.compile(r"^/?teams\('([^']+)'\)/channels\('([^']+)'\)$", re.IGNORECASE),
    re.compile(r"^/?teams/([^/]+)/channels/([^/]+)$", re.IGNORECASE),
)

# (subscription id, clientState received) → whether it is the one we gave that subscription.
ClientStateVerifier = Callable[[str, str], Awaitable[bool]]


class NotificationError(Exception):
    """The notification request is not something we act on."""


class NotificationFormatError(NotificationError):
    """The body is not a Graph notification batch (not JSON, no `value` list, too large)."""


class ClientStateMismatchError(NotificationError):
    """Every item carried a missing or wrong clientState: not from a subscription of ours."""


@dataclass(frozen=True, slots=True)
class Handshake:
    """Graph's validation request: answer 200 with `token` as the text/plain body, within 10 s."""

    token: str
    content_type: ClassVar[str] = "text/plain"


class LifecycleEventKind(enum.Enum):
    """The lifecycle events Graph sends to lifecycleNotificationUrl."""

    REAUTHORIZATION_REQUIRED = "reauthorizationRequired"
    SUBSCRIPTION_REMOVED = "subscriptionRemoved"
    MISSED = "missed"


@dataclass(frozen=True, slots=True)
class ChannelChanged:
    """A channel of a team was created, renamed/updated or deleted (notification without resource data)."""

    team_id: str
    channel_id: str
    change_type: str  # created | updated | deleted
    subscription_id: str = ""
    tenant_id: str | None = None  # the notification's tenantId (Graph sends it with every notification)


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    """Graph says something happened to a subscription itself."""

    subscription_id: str
    kind: LifecycleEventKind
    tenant_id: str | None = None
    subscription_expires_at: datetime | None = None


# What parse_notification_request accepts from a batch.
Notification = ChannelChanged | LifecycleEvent

# Why an item was dropped: fixed labels (they are counted, so nothing from the request goes in).
NO_CLIENT_STATE = "no clientState"
WRONG_CLIENT_STATE = "wrong clientState (or not our subscription)"
UNKNOWN_CHANGE_TYPE = "changeType not created/updated/deleted"
NOT_A_CHANNEL = "resource not a team channel"
UNKNOWN_LIFECYCLE_EVENT = "unknown lifecycle event"


@dataclass
class DroppedNotifications:
    """The items of notification requests that were not accepted, counted by reason."""

    reasons: Counter[str] = field(default_factory=Counter)
    first_subscription: str | None = None  # for the log line; clipped, it comes from the request

    def add(self, reason: str, subscription_id: str) -> None:
        """Count one dropped item."""
        self.reasons[reason] += 1
        if self.first_subscription is None:
            self.first_subscription = _clipped(subscription_id)

    def __bool__(self) -> bool:
        return bool(self.reasons)

    def __str__(self) -> str:
        counts = ", ".join(f"{count} {reason}" for reason, count in sorted(self.reasons.items()))
        return f"dropped {sum(self.reasons.values())} Graph notification(s): {counts} (the first for subscription {self.first_subscription})"


async def parse_notification_request(
    query: Mapping[str, str],
    body: bytes,
    content_type: str | None,
    *,
    verify_client_state: ClientStateVerifier,
    dropped: DroppedNotifications | None = None,
) -> Handshake | list[Notification]:
    """Read one POST to the notification or lifecycle URL.

    `query` must be already URL-decoded (aiohttp's `request.query` is), so the handshake token is
    echoed exactly as Graph generated it. Raises NotificationFormatError or ClientStateMismatchError.
    Items not accepted are counted in `dropped`; without one, they are logged here in one line.
    """
    token = query.get("validationToken")
    if token is not None:
        return Handshake(token)
    items = _items(body, content_type)
    tally = dropped if dropped is not None else DroppedNotifications()
    before = sum(tally.reasons.values())
    accepted: list[Notification] = []
    refused = 0
    for item in items:
        subscription_id = item.get("subscriptionId")
        if not isinstance(subscription_id, str) or not subscription_id:
            raise NotificationFormatError("a notification without subscriptionId")
        state = item.get("clientState")
        if not isinstance(state, str) or not state:
            tally.add(NO_CLIENT_STATE, subscription_id)
            refused += 1
            continue
        if not await verify_client_state(subscription_id, state):
            tally.add(WRONG_CLIENT_STATE, subscription_id)
            refused += 1
            continue
        parsed = _lifecycle(item, subscription_id) if "lifecycleEvent" in item else _change(item, subscription_id)
        if isinstance(parsed, str):
            tally.add(parsed, subscription_id)
        else:
            accepted.append(parsed)
    if dropped is None and sum(tally.reasons.values()) > before:
        log.warning("%s", tally)
    if refused and refused == len(items):
        raise ClientStateMismatchError(f"{refused} notification(s) refused: clientState missing or wrong")
    return accepted


def _items(body: bytes, content_type: str | None) -> list[Mapping[str, Any]]:
    if len(body) > MAX_BODY_BYTES:
        raise NotificationFormatError(f"notification body over {MAX_BODY_BYTES} bytes")
    if content_type and "json" not in content_type.lower():
        raise NotificationFormatError(f"notification body is {content_type}, not JSON")
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise NotificationFormatError("notification body is not JSON") from exc
    items = document.get("value") if isinstance(document, dict) else None
    if not isinstance(items, list) or not items or not all(isinstance(item, dict) for item in items):
        raise NotificationFormatError("notification body has no `value` list of objects")
    return items


def _change(item: Mapping[str, Any], subscription_id: str) -> ChannelChanged | str:
    """A channel change, or why it is dropped (anything we did not subscribe to)."""
    change_type = str(item.get("changeType") or "").lower()
    resource = str(item.get("resource") or "")
    if change_type not in CHANGE_TYPES:
        return UNKNOWN_CHANGE_TYPE
    for pattern in _CHANNEL_RESOURCE:
        match = pattern.match(resource)
        if match:
            team_id, channel_id = (unquote(part) for part in match.groups())
            tenant = item.get("tenantId")
            return ChannelChanged(team_id, channel_id, change_type, subscription_id, tenant if isinstance(tenant, str) else None)
    return NOT_A_CHANNEL


def _lifecycle(item: Mapping[str, Any], subscription_id: str) -> LifecycleEvent | str:
    """A lifecycle event, or why it is dropped (an event name Graph added after this was written)."""
    name = item.get("lifecycleEvent")
    try:
        kind = LifecycleEventKind(name)
    except ValueError:
        log.debug("dropped unknown Graph lifecycle event %s (subscription %s)", _clipped(name), _clipped(subscription_id))
        return UNKNOWN_LIFECYCLE_EVENT
    expires = item.get("subscriptionExpirationDateTime")
    try:
        expires_at = parse_graph_datetime(expires) if isinstance(expires, str) else None
    except GraphProtocolError:
        # Informative only: the event still has to be acted on.
        log.warning("Graph lifecycle event for subscription %s has an unreadable expiry %s", _clipped(subscription_id), _clipped(expires))
        expires_at = None
    tenant = item.get("tenantId")
    return LifecycleEvent(subscription_id, kind, tenant if isinstance(tenant, str) else None, expires_at)


def _clipped(value: object) -> str:
    """A value from the request for a log line: quoted (no line breaks survive repr) and short."""
    text = repr(value)
    return text if len(text) <= 80 else text[:79] + "…"
