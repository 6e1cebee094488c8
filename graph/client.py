"""The Microsoft Graph v1.0 client: channels and change-notification subscriptions, app-only.

Every request goes through `_request`, the one choke point that adds the bearer token, maps
failures onto `graph.errors`, and retries: 429/503/504 wait for `Retry-After` (or back off
exponentially with jitter when Graph sent none), other 5xx and network errors back off, a 401
drops the token and tries once more with a fresh one. Attempts are bounded and sleeping is
injected. A POST that creates something is retried only on 429/503, the answers that mean Graph
did not process it, so a retry never makes a duplicate subscription.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Iterable, Mapping
from urllib.parse import quote
from uuid import UUID

import aiohttp
from yarl import URL

from graph.errors import (
    GraphError,
    GraphNetworkError,
    GraphProtocolError,
    GraphThrottledError,
    error_from_response,
)
from graph.models import Channel, Subscription, format_graph_datetime
from graph.tokens import TokenProvider

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://graph.microsoft.com/v1.0"
# Least-privileged application permission for listing/reading channels and for subscribing to
# /teams/{id}/channels (teams-bot-and-graph.md §4.2): named in 403 messages.
CHANNEL_PERMISSION = "Channel.ReadBasic.All"
DEFAULT_CHANGE_TYPE = "created,updated,deleted"
# Least-privileged application permissions for the route-administration checks (§4.2 and Learn's
# "team list members" / "user checkMemberGroups" pages), named in 403 messages.
TEAM_MEMBER_PERMISSION = "TeamMember.Read.All"
GROUP_MEMBER_PERMISSION = "GroupMember.Read.All (with User.Read.All)"
MAX_GROUPS_PER_CHECK = 20  # checkMemberGroups evaluates at most 20 group ids per request
# Answers after which Graph has certainly not acted on the request, so even a creating POST may repeat.
_NOT_PROCESSED_STATUSES = frozenset({429, 503})

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True, slots=True)
class GraphStats:
    """Counters for `status` and metrics: requests sent, retries, and errors by class name."""

    requests: int
    retries: int
    errors: Mapping[str, int]


class GraphClient:
    """Async Graph client for the few calls ml-connector makes (see module docstring for retries)."""

    def __init__(
        self,
        token_provider: TokenProvider,
        *,
        http: aiohttp.ClientSession,
        base_url: str = DEFAULT_BASE_URL,
        clock: Clock = _utc_now,
        sleep: Sleep = asyncio.sleep,
        max_attempts: int = 4,
        jitter: Callable[[], float] = random.random,
        timeout_seconds: float = 30.0,
        backoff_base_seconds: float = 1.0,
        backoff_cap_seconds: float = 30.0,
        max_retry_after_seconds: float = 300.0,
        max_response_bytes: int = 8 * 1024 * 1024,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._tokens = token_provider
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._clock = clock
        self._sleep = sleep
        self._max_attempts = max_attempts
        self._jitter = jitter
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._backoff_base = backoff_base_seconds
        self._backoff_cap = backoff_cap_seconds
        self._max_retry_after = max_retry_after_seconds
        self._max_response_bytes = max_response_bytes
        self._requests = 0
        self._retries = 0
        self._errors: dict[str, int] = {}

    @property
    def stats(self) -> GraphStats:
        """A snapshot of the request counters."""
        return GraphStats(self._requests, self._retries, dict(self._errors))

    # --- channels --------------------------------------------------------------------------
    async def list_channels(self, team_id: str) -> list[Channel]:
        """Every channel of a team (`team_id` = the Microsoft 365 group GUID), all pages."""
        items = await self._get_all(f"/teams/{_segment(team_id)}/channels", permission=CHANNEL_PERMISSION)
        return [Channel.from_graph(item) for item in items]

    async def get_channel(self, team_id: str, channel_id: str) -> Channel:
        """One channel (the 19:…@thread.tacv2 id is URL-encoded into the path)."""
        body = await self._request(
            "GET", f"/teams/{_segment(team_id)}/channels/{_segment(channel_id)}", permission=CHANNEL_PERMISSION
        )
        return Channel.from_graph(_object(body, "channel"))

    # --- people: who may administer routes -------------------------------------------------
    async def team_member_roles(self, team_id: str, user_id: str) -> frozenset[str] | None:
        """The roles of Entra user `user_id` in a team (`{"owner"}`; empty for a plain member;
        `{"guest"}` for a guest), or None when the user is not a member of the team."""
        user = _object_id(user_id, "user id")
        member_filter = f"(microsoft.graph.aadUserConversationMember/userId eq '{user}')"
        target = f"/teams/{_segment(team_id)}/members?$filter={quote(member_filter, safe='')}"
        members = await self._get_all(target, permission=TEAM_MEMBER_PERMISSION)
        found = [m for m in members if str(m.get("userId", "")).lower() == user]
        if not found:
            return None
        roles = found[0].get("roles")
        if not isinstance(roles, list):
            raise GraphProtocolError("Graph sent a team member without a `roles` list")
        return frozenset(str(role).lower() for role in roles)

    async def member_groups(self, user_id: str, group_ids: Iterable[str]) -> frozenset[str]:
        """Which of `group_ids` the user belongs to, directly or through nested groups
        (POST /users/{id}/checkMemberGroups, at most 20 ids per request). Ids come back lower case."""
        user = _object_id(user_id, "user id")
        wanted = list(dict.fromkeys(_object_id(group, "group id") for group in group_ids))
        member_of: set[str] = set()
        for start in range(0, len(wanted), MAX_GROUPS_PER_CHECK):
            chunk = wanted[start : start + MAX_GROUPS_PER_CHECK]
            # A read despite the POST: repeating it changes nothing, so it is retried like a GET.
            body = _object(
                await self._request(
                    "POST", f"/users/{_segment(user)}/checkMemberGroups",
                    json_body={"groupIds": chunk}, permission=GROUP_MEMBER_PERMISSION,
                ),
                "checkMemberGroups result",
            )
            value = body.get("value")
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise GraphProtocolError("Graph answered checkMemberGroups without a `value` list of ids")
            member_of.update(item.lower() for item in value)
        return frozenset(member_of & set(wanted))

    # --- subscriptions ---------------------------------------------------------------------
    async def create_subscription(
        self,
        resource: str,
        notification_url: str,
        lifecycle_url: str | None,
        client_state: str,
        expires_at: datetime,
        change_type: str = DEFAULT_CHANGE_TYPE,
    ) -> Subscription:
        """POST /subscriptions (Graph first runs the validation handshake on both URLs)."""
        payload: dict[str, Any] = {
            "changeType": change_type,
            "notificationUrl": notification_url,
            "resource": resource,
            "expirationDateTime": format_graph_datetime(expires_at),
            "clientState": client_state,
        }
        if lifecycle_url is not None:
            payload["lifecycleNotificationUrl"] = lifecycle_url
        body = await self._request(
            "POST", "/subscriptions", json_body=payload, permission=CHANNEL_PERMISSION,
            creates=True, redact=(client_state,),
        )
        return Subscription.from_graph(_object(body, "subscription"))

    async def renew_subscription(self, subscription_id: str, expires_at: datetime) -> Subscription:
        """PATCH /subscriptions/{id} with a new expiry (404 once Graph has deleted it)."""
        body = await self._request(
            "PATCH", f"/subscriptions/{_segment(subscription_id)}",
            json_body={"expirationDateTime": format_graph_datetime(expires_at)},
        )
        return Subscription.from_graph(_object(body, "subscription"))

    async def reauthorize_subscription(self, subscription_id: str) -> None:
        """POST /subscriptions/{id}/reauthorize (answer to a reauthorizationRequired event)."""
        await self._request("POST", f"/subscriptions/{_segment(subscription_id)}/reauthorize")

    async def delete_subscription(self, subscription_id: str) -> None:
        """DELETE /subscriptions/{id}."""
        await self._request("DELETE", f"/subscriptions/{_segment(subscription_id)}")

    async def list_subscriptions(self) -> list[Subscription]:
        """Every subscription this app owns, all pages."""
        return [Subscription.from_graph(item) for item in await self._get_all("/subscriptions")]

    # --- the choke point -------------------------------------------------------------------
    async def _get_all(self, path: str, *, permission: str | None = None) -> list[Mapping[str, Any]]:
        """GET a collection and follow `@odata.nextLink` (only ever to our own base URL)."""
        items: list[Mapping[str, Any]] = []
        target: str | None = path
        while target is not None:
            body = _object(await self._request("GET", target, permission=permission), "collection")
            page = body.get("value")
            if not isinstance(page, list) or not all(isinstance(item, dict) for item in page):
                raise GraphProtocolError(f"Graph answered GET {path} without a `value` list")
            items.extend(page)
            next_link = body.get("@odata.nextLink")
            target = next_link if isinstance(next_link, str) and next_link else None
        return items

    async def _request(
        self,
        method: str,
        target: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        permission: str | None = None,
        creates: bool = False,
        redact: tuple[str, ...] = (),
    ) -> Any:
        """Send one logical request (with retries) and return the decoded JSON body (None for 204).

        `target` is a path under the base URL or an absolute URL that starts with it (a nextLink);
        `creates` marks a POST that must not run twice; `redact` lists values never to quote."""
        url = self._url(target)
        path = url.path
        attempt = 0
        token_renewed = False
        while True:
            attempt += 1
            try:
                token = await self._tokens.get_token()
                status, body, headers = await self._send(method, url, token, json_body)
                if 200 <= status < 300:
                    return _decode(body, method, path)
                if status == 401 and not token_renewed:
                    # Entra may revoke a token before msal's cache says it expired: try once more
                    # with a fresh one, without counting the attempt.
                    token_renewed = True
                    self._tokens.invalidate(token)
                    attempt -= 1
                    continue
                raise error_from_response(
                    status, body, headers, method=method, path=path, permission=permission,
                    now=self._clock(), redact=redact,
                )
            except GraphError as error:
                delay = self._retry_delay(error, attempt, creates)
                if delay is None:
                    self._errors[type(error).__name__] = self._errors.get(type(error).__name__, 0) + 1
                    raise
                self._retries += 1
                log.warning("Graph %s %s failed (%s); attempt %d of %d, retrying in %.1f s",
                            method, path, error, attempt, self._max_attempts, delay)
                await self._sleep(delay)

    def _retry_delay(self, error: GraphError, attempt: int, creates: bool) -> float | None:
        """Seconds to wait before the next attempt, or None when the error must be raised."""
        if not error.transient or attempt >= self._max_attempts:
            return None
        if creates and error.status not in _NOT_PROCESSED_STATUSES:
            return None
        if isinstance(error, GraphThrottledError) and error.retry_after is not None:
            if error.retry_after > self._max_retry_after:
                return None  # a long pause is the scheduler's business, not a request's
            return error.retry_after
        backoff = min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1))
        return backoff * (0.5 + self._jitter() / 2)

    async def _send(
        self, method: str, url: URL, token: str, json_body: Mapping[str, Any] | None
    ) -> tuple[int, bytes, Mapping[str, str]]:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._requests += 1
        try:
            async with self._http.request(
                method, url, headers=headers, json=json_body, timeout=self._timeout
            ) as response:
                body = await self._read(response)
                return response.status, body, response.headers
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise GraphNetworkError(f"could not reach Graph for {method} {url.path}: {type(exc).__name__}") from exc

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(65536):
            size += len(chunk)
            if size > self._max_response_bytes:
                raise GraphProtocolError(f"Graph answer over {self._max_response_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def _url(self, target: str) -> URL:
        if target.startswith(("https://", "http://")):
            # Never send the bearer token anywhere but Graph, whatever a nextLink says.
            if not target.startswith(self._base_url + "/"):
                raise GraphProtocolError("Graph sent a nextLink outside its base URL")
            return URL(target, encoded=True)
        return URL(self._base_url + target, encoded=True)


def _segment(value: str) -> str:
    """One path segment, percent-encoded (19:abc@thread.tacv2 → 19%3Aabc%40thread.tacv2)."""
    if not value:
        raise ValueError("empty Graph id")
    return quote(value, safe="")


def _object_id(value: str, what: str) -> str:
    """An Entra object id (GUID), lower case; anything else is refused before it reaches an
    OData filter or a URL (ValueError)."""
    try:
        return str(UUID(str(value).strip()))
    except ValueError:
        raise ValueError(f"not an Entra object id ({what})") from None


def _decode(body: bytes, method: str, path: str) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except ValueError as exc:
        raise GraphProtocolError(f"Graph answered {method} {path} with a body that is not JSON") from exc


def _object(body: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(body, dict):
        raise GraphProtocolError(f"Graph answered without a {what} object")
    return body

