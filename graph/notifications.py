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

An item with a wrong or missing clientState is dropped (and logged, without any clientState
value); the others in the same POST are still accepted, so one stale subscription cannot make
Graph redeliver good notifications for hours.
"""

from __future__ import annotations

import enum
import json
import logging
import re
from dataclasses import dataclass
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


async def parse_notification_request(
    query: Mapping[str, str],
    body: bytes,
    content_type: str | None,
    *,
    verify_client_state: ClientStateVerifier,
) -> Handshake | list[Notification]:
    """Read one POST to the notification or lifecycle URL.

    `query` must be already URL-decoded (aiohttp's `request.query` is), so the handshake token is
    echoed exactly as Graph generated it. Raises NotificationFormatError or ClientStateMismatchError.
    """
    token = query.get("validationToken")
    if token is not None:
        return Handshake(token)
    items = _items(body, content_type)
    accepted: list[Notification] = []
    refused = 0
    for item in items:
        subscription_id = item.get("subscriptionId")
        if not isinstance(subscription_id, str) or not subscription_id:
            raise NotificationFormatError("a notification without subscriptionId")
        state = item.get("clientState")
        if not isinstance(state, str) or not state:
            log.warning("refused a Graph notification for subscription %s: no clientState", subscription_id)
            refused += 1
            continue
        if not await verify_client_state(subscription_id, state):
            log.warning("refused a Graph notification for subscription %s: clientState does not match "
                        "(or the subscription is not ours)", subscription_id)
            refused += 1
            continue
        parsed = _lifecycle(item, subscription_id) if "lifecycleEvent" in item else _change(item, subscription_id)
        if parsed is not None:
            accepted.append(parsed)
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


def _change(item: Mapping[str, Any], subscription_id: str) -> ChannelChanged | None:
    """A channel change, or None (logged) for anything we did not subscribe to."""
    change_type = str(item.get("changeType") or "").lower()
    resource = str(item.get("resource") or "")
    if change_type not in CHANGE_TYPES:
        log.warning("ignored a Graph notification with changeType %r (subscription %s)", change_type, subscription_id)
        return None
    for pattern in _CHANNEL_RESOURCE:
        match = pattern.match(resource)
        if match:
            team_id, channel_id = (unquote(part) for part in match.groups())
            tenant = item.get("tenantId")
            return ChannelChanged(team_id, channel_id, change_type, subscription_id, tenant if isinstance(tenant, str) else None)
    log.warning("ignored a Graph notification for resource %r: not a team channel (subscription %s)",
                resource, subscription_id)
    return None


def _lifecycle(item: Mapping[str, Any], subscription_id: str) -> LifecycleEvent | None:
    """A lifecycle event, or None (logged) for an event name Graph added after this was written."""
    name = item.get("lifecycleEvent")
    try:
        kind = LifecycleEventKind(name)
    except ValueError:
        log.warning("ignored unknown Graph lifecycle event %r (subscription %s)", name, subscription_id)
        return None
    expires = item.get("subscriptionExpirationDateTime")
    try:
        expires_at = parse_graph_datetime(expires) if isinstance(expires, str) else None
    except GraphProtocolError:
        # Informative only: the event still has to be acted on.
        log.warning("Graph lifecycle event for subscription %s has an unreadable expiry %r", subscription_id, expires)
        expires_at = None
    tenant = item.get("tenantId")
    return LifecycleEvent(subscription_id, kind, tenant if isinstance(tenant, str) else None, expires_at)
