"""A protocol-faithful fake Bot Connector: the Teams service a bot posts to (its `serviceUrl`).

It serves the Bot Framework v3 REST API the way the Microsoft 365 Agents Playground's mock
connector and real Teams do (Microsoft Learn's Bot Connector REST reference and botbuilder 4.17's client):

    POST   {prefix}/v3/conversations                              create (a new thread in a channel,
                                                                  or a 1:1 chat) → 201 {id, activityId}
    POST   {prefix}/v3/conversations/{id}/activities              send → 201 {id}
    POST   {prefix}/v3/conversations/{id}/activities/{activityId} reply → 201 {id}
    PUT    {prefix}/v3/conversations/{id}/activities/{activityId} update → 200 {id}
    DELETE {prefix}/v3/conversations/{id}/activities/{activityId} delete → 200 (Playground: 501)
    GET    {prefix}/v3/conversations/{id}/members[/{memberId}], /pagedmembers
    GET    {prefix}/v3/teams/{teamId}, /v3/teams/{teamId}/conversations

Teams' rules it keeps: a channel is `19:…`, a thread in it `<channel>;messageid=<root id>` whose
root id is the activity id of the first post; sending to the bare channel id starts a new thread;
activity ids are millisecond timestamps; an update may name the thread or the bare channel (like
the Playground); the bot cannot edit a user's message (403 NotEnoughPermissions); a conversation
never installed answers 404 ConversationNotFound, one the bot was removed from 403
BotNotInConversationRoster; a body over 28 KB answers 413 MessageSizeTooBig; errors have Teams'
body `{"error": {"code", "message"}}`, except 503/504 which come as a gateway's HTML page. Rate
limits (off unless asked) are Teams' published ones, per bot per conversation — a channel and its
threads count as one conversation — plus 50 requests/s per tenant; past them: 429 Throttled with
Retry-After. Team owners: Teams' member APIs report `userRole` "user" (or "guest"), never "owner"
(msteams-docs issues #1990, #6381); owners are only visible through Graph, so the fake does not
invent an owner flag.

Authentication, when `auth` is given, is as strict as the real service can be known to be: the
bearer token must be an Entra token (signed with the fake Entra's keys, tests/fakes/entra_graph.py)
for the Bot Connector (`aud` https://api.botframework.com), naming the registered bot (`appid`) and
issued by the tenant the registration says — the bot's own for a single-tenant bot, botframework.com
for a multi-tenant one (Learn, "Authentication with the Bot Connector API": bot-to-connector
tokens) — and not expired by the injected clock. Anything else: 401 "Authorization has been
denied for this request." without Teams' error envelope, as the real service answers.

Every request is recorded (`calls`), every message kept with its history (`messages`), times come
from the injected clock. `fail_next` scripts failures, globally or per conversation.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Iterable, Mapping

from aiohttp import web
from aiohttp.test_utils import TestServer

from tests.fakes.entra_graph import BOT_FRAMEWORK_AUDIENCE, entra_claims

Clock = Callable[[], datetime]

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
THREAD_MARKER = ";messageid="
MAX_PAYLOAD_BYTES = 28 * 1024
# Teams, per bot per conversation ("thread" = a chat or a channel): (window seconds, requests).
SEND_LIMITS = ((1.0, 7), (2.0, 8), (30.0, 60), (3600.0, 1800))
READ_LIMITS = ((1.0, 14), (2.0, 16), (30.0, 120), (3600.0, 3600))
TENANT_LIMITS = ((1.0, 50),)
WRITE_OPERATIONS = frozenset({"create", "send", "reply", "update", "delete"})

_DEFAULT_CODES = {
    400: "BadArgument",
    401: "BotNotRegistered",
    403: "BotNotInConversationRoster",
    404: "ConversationNotFound",
    412: "PreconditionFailed",
    413: "MessageSizeTooBig",
    429: "Throttled",
    500: "ServiceError",
    502: "ServiceError",
}
_GATEWAY_STATUSES = (503, 504)  # answered by a gateway in front of Teams: an HTML page, no code


@dataclass(frozen=True)
class BotRegistration:
    """What the Bot Connector knows of the bot that calls it: its app id and the tenant its tokens
    must come from (single-tenant: its own; multi-tenant: botframework.com's)."""

    app_id: str
    token_tenant: str


@dataclass
class Fault:
    """A scripted failure: the next `remaining` matching requests get this answer."""

    status: int
    code: str | None
    message: str
    remaining: int
    retry_after: str | None = None
    conversation_id: str | None = None  # None = any; a channel id also matches its threads
    operations: frozenset[str] | None = None  # None = any operation


@dataclass
class Call:
    """One request the fake answered."""

    at: datetime
    method: str
    operation: str
    conversation_id: str | None
    activity_id: str | None
    status: int
    body: Any
    authorized: bool | None  # None when no token is required


@dataclass
class Message:
    """A message as it now stands in the fake Teams, with every version it had."""

    conversation_id: str  # the thread (`<channel>;messageid=<root>`) or the chat it sits in
    activity_id: str
    payload: dict[str, Any]
    posted_at: datetime
    from_bot: bool = True
    reply_to_id: str | None = None
    updated_at: datetime | None = None
    deleted: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_thread_root(self) -> bool:
        """Whether this message opened its thread (a top-level post in a channel)."""
        return self.conversation_id.endswith(THREAD_MARKER + self.activity_id)

    @property
    def cards(self) -> list[dict[str, Any]]:
        """The Adaptive Cards attached to the current version."""
        return [a.get("content") for a in self.payload.get("attachments") or [] if a.get("contentType") == ADAPTIVE_CARD]

    @property
    def card(self) -> dict[str, Any] | None:
        """The first Adaptive Card of the current version."""
        cards = self.cards
        return cards[0] if cards else None


@dataclass
class _Member:
    id: str
    name: str
    aad_object_id: str | None
    user_role: str
    email: str | None
    tenant_id: str | None

    def wire(self) -> dict[str, Any]:
        given, _, surname = self.name.partition(" ")
        return {
            "id": self.id,
            "name": self.name,
            "givenName": given,
            "surname": surname,
            "email": self.email,
            "userPrincipalName": self.email,
            "aadObjectId": self.aad_object_id,
            "objectId": self.aad_object_id,  # Teams' roster calls use this key; single-member calls the other
            "tenantId": self.tenant_id,
            "userRole": self.user_role,
        }


@dataclass
class _Team:
    id: str
    name: str
    aad_group_id: str | None
    tenant_id: str
    channels: dict[str, str | None]  # id → name (General: the team id, no name)
    # Private and shared channels the bot was not added to: Teams has no roster with the bot there.
    without_bot: set[str] = field(default_factory=set)
    members: dict[str, _Member] = field(default_factory=dict)
    installed: bool = True


@dataclass
class _Chat:
    id: str
    kind: str  # personal | groupChat
    tenant_id: str
    members: dict[str, _Member] = field(default_factory=dict)
    installed: bool = True


class _ConnectorRefusal(Exception):
    def __init__(self, status: int, code: str | None, message: str, retry_after: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.retry_after = status, code, message, retry_after


class FakeBotConnector:
    """The fake service; `async with FakeBotConnector(clock=…) as fake:` then use `fake.service_url`."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        prefix: str = "/_connector",
        enforce_rate_limits: bool = False,
        max_payload_bytes: int = MAX_PAYLOAD_BYTES,
        auth: BotRegistration | None = None,
        delete_supported: bool = True,
        tenant_id: str = "tenant-1",
    ) -> None:
        self.clock: Clock = clock or (lambda: datetime.now(timezone.utc))
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.enforce_rate_limits = enforce_rate_limits
        self.max_payload_bytes = max_payload_bytes
        self.auth = auth
        self.delete_supported = delete_supported
        self.tenant_id = tenant_id
        self.calls: list[Call] = []
        self.messages: dict[str, Message] = {}
        self.faults: list[Fault] = []
        self._teams: dict[str, _Team] = {}
        self._chats: dict[str, _Chat] = {}
        self._last_id = 0
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._stalls = 0
        self._released = asyncio.Event()
        self._server: TestServer | None = None
        # Awaited with (operation, conversation id) as each request arrives: lets a test look at
        # the sender's side (its database, say) at the moment Teams sees a request.
        self.on_request: Callable[[str, str | None], Awaitable[None]] | None = None

    # --- lifecycle --------------------------------------------------------------------------
    def app(self) -> web.Application:
        """The aiohttp application (routes under `prefix`)."""
        app = web.Application(client_max_size=4 * 1024 * 1024)
        p = self.prefix
        app.router.add_post(f"{p}/v3/conversations", self._create)
        app.router.add_post(f"{p}/v3/conversations/{{cid}}/activities", self._send)
        app.router.add_post(f"{p}/v3/conversations/{{cid}}/activities/{{aid}}", self._send)
        app.router.add_put(f"{p}/v3/conversations/{{cid}}/activities/{{aid}}", self._update)
        app.router.add_delete(f"{p}/v3/conversations/{{cid}}/activities/{{aid}}", self._delete)
        app.router.add_get(f"{p}/v3/conversations/{{cid}}/members", self._members)
        app.router.add_get(f"{p}/v3/conversations/{{cid}}/members/{{mid}}", self._member)
        app.router.add_get(f"{p}/v3/conversations/{{cid}}/pagedmembers", self._paged_members)
        app.router.add_get(f"{p}/v3/teams/{{tid}}", self._team_details)
        app.router.add_get(f"{p}/v3/teams/{{tid}}/conversations", self._team_conversations)
        return app

    async def start(self) -> str:
        """Listen on a random loopback port; returns the service URL (with a trailing slash, as Teams)."""
        self._server = TestServer(self.app(), host="127.0.0.1", port=0)
        await self._server.start_server()
        return self.service_url

    async def close(self) -> None:
        """Stop listening (stalled requests are let go first)."""
        self.release()
        if self._server is not None:
            await self._server.close()
            self._server = None

    async def __aenter__(self) -> FakeBotConnector:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def service_url(self) -> str:
        """The `serviceUrl` activities from this fake carry."""
        if self._server is None:
            raise RuntimeError("the fake connector is not started")
        return str(self._server.make_url(self.prefix + "/"))

    # --- the world --------------------------------------------------------------------------
    def add_team(
        self,
        team_id: str,
        *,
        name: str = "Team",
        aad_group_id: str | None = None,
        channels: Mapping[str, str] | None = None,
        tenant_id: str | None = None,
    ) -> None:
        """Install the bot in a team: General (id = team id) plus `channels` (id → name)."""
        self._teams[team_id] = _Team(team_id, name, aad_group_id, tenant_id or self.tenant_id, {team_id: None, **dict(channels or {})})

    def add_channel(self, team_id: str, channel_id: str, name: str, *, bot_added: bool = True) -> None:
        """A channel was created in an installed team. `bot_added=False`: a private or shared channel
        the bot was not added to (apps are added to each of those separately): posting there
        answers 403 BotNotInConversationRoster."""
        team = self._teams[team_id]
        team.channels[channel_id] = name
        if not bot_added:
            team.without_bot.add(channel_id)

    def delete_channel(self, channel_id: str) -> None:
        """A channel was deleted: posting there now answers 404 ConversationNotFound."""
        for team in self._teams.values():
            team.channels.pop(channel_id, None)

    def uninstall(self, team_or_chat_id: str) -> None:
        """The bot was removed: its conversations answer 403 BotNotInConversationRoster."""
        (self._teams.get(team_or_chat_id) or self._chats[team_or_chat_id]).installed = False

    def add_chat(self, conversation_id: str, *, kind: str = "personal", tenant_id: str | None = None) -> None:
        """Install the bot in a personal or group chat."""
        self._chats[conversation_id] = _Chat(conversation_id, kind, tenant_id or self.tenant_id)

    def add_member(
        self,
        team_or_chat_id: str,
        member_id: str,
        name: str,
        *,
        aad_object_id: str | None = None,
        user_role: str = "user",
        email: str | None = None,
    ) -> None:
        """A person in a team (all its channels) or chat; `user_role` is "user" or "guest" as in Teams."""
        place = self._teams.get(team_or_chat_id) or self._chats[team_or_chat_id]
        place.members[member_id] = _Member(member_id, name, aad_object_id, user_role, email, place.tenant_id)

    def add_user_message(self, conversation_id: str, text: str = "", *, activity_id: str | None = None) -> Message:
        """A person posted: in a bare channel this opens a thread (returned message's conversation)."""
        self._conversation_or_refusal(conversation_id, "send")
        activity_id = activity_id or self._next_id()
        payload = {"type": "message", "id": activity_id, "text": text, "from": {"id": "user"}}
        return self._store(conversation_id, activity_id, payload, from_bot=False, reply_to_id=None)

    # --- scripting ----------------------------------------------------------------------------
    def fail_next(
        self,
        status: int,
        code: str | None = None,
        *,
        times: int = 1,
        retry_after: float | str | None = None,
        conversation_id: str | None = None,
        operations: Iterable[str] | None = None,
        message: str | None = None,
    ) -> Fault:
        """The next `times` matching requests answer `status` (with Teams' code for it by default).

        `conversation_id` limits the fault to one conversation (a channel id covers its threads
        and new threads created in it); `operations` to some of create, send, reply, update,
        delete, get_members, get_member, get_paged_members, get_team, get_team_conversations.
        """
        if code is None and status not in _GATEWAY_STATUSES:
            code = _DEFAULT_CODES.get(status)
        fault = Fault(
            status=status,
            code=code,
            message=message or f"scripted {status} {code or ''}".strip(),
            remaining=times,
            retry_after=None if retry_after is None else (retry_after if isinstance(retry_after, str) else _seconds_text(retry_after)),
            conversation_id=conversation_id,
            operations=frozenset(operations) if operations is not None else None,
        )
        self.faults.append(fault)
        return fault

    def stall_next(self, times: int = 1) -> None:
        """The next `times` requests get no answer until `release()` (a hung service, for timeouts)."""
        self._stalls += times
        self._released.clear()

    def release(self) -> None:
        """Let stalled requests go on (they are then answered normally)."""
        self._stalls = 0
        self._released.set()

    # --- inspection ---------------------------------------------------------------------------
    def posts_in(self, channel_id: str) -> list[Message]:
        """Top-level posts (thread roots) in a channel, oldest first."""
        return [m for m in self.messages.values() if m.is_thread_root and _base(m.conversation_id) == channel_id]

    def replies_in(self, thread_conversation_id: str) -> list[Message]:
        """Messages in a thread other than its root, oldest first."""
        return [m for m in self.messages.values() if m.conversation_id == thread_conversation_id and not m.is_thread_root]

    def calls_of(self, operation: str) -> list[Call]:
        """Recorded calls of one operation."""
        return [c for c in self.calls if c.operation == operation]

    # --- handlers -----------------------------------------------------------------------------
    async def _create(self, request: web.Request) -> web.Response:
        async def op(body: Any) -> web.Response:
            if not isinstance(body, dict):
                raise _ConnectorRefusal(400, "BadArgument", "body must be ConversationParameters JSON")
            activity = body.get("activity")
            if body.get("isGroup"):
                channel = ((body.get("channelData") or {}).get("channel") or {}).get("id")
                if not channel:
                    raise _ConnectorRefusal(400, "BadArgument", "channelData.channel.id is required for a channel post")
                self._conversation_or_refusal(channel, "create")
                self._check_message(activity)
                activity_id = self._next_id()
                thread_id = f"{_base(channel)}{THREAD_MARKER}{activity_id}"
                self._store(thread_id, activity_id, activity, from_bot=True, reply_to_id=None)
                return web.json_response({"id": thread_id, "activityId": activity_id}, status=201)
            members = body.get("members") or []
            user_id = members[0].get("id") if members and isinstance(members[0], dict) else None
            known = user_id is not None and any(user_id in place.members for place in [*self._teams.values(), *self._chats.values()])
            if not known:
                raise _ConnectorRefusal(403, "ForbiddenOperationException", "the user has not installed the app")
            chat_id = f"a:{user_id}"
            self._chats.setdefault(chat_id, _Chat(chat_id, "personal", self.tenant_id))
            result: dict[str, Any] = {"id": chat_id}
            if activity:
                self._check_message(activity)
                result["activityId"] = self._next_id()
                self._store(chat_id, result["activityId"], activity, from_bot=True, reply_to_id=None)
            return web.json_response(result, status=201)

        body_channel = await self._peek_channel(request)
        return await self._handle(request, "create", body_channel, None, op)

    async def _send(self, request: web.Request) -> web.Response:
        cid, reply_to = request.match_info["cid"], request.match_info.get("aid")

        async def op(body: Any) -> web.Response:
            self._conversation_or_refusal(cid, "send")
            self._check_message(body)
            activity_id = self._next_id()
            self._store(cid, activity_id, body, from_bot=True, reply_to_id=reply_to)
            return web.json_response({"id": activity_id}, status=201)

        return await self._handle(request, "reply" if reply_to else "send", cid, reply_to, op)

    async def _update(self, request: web.Request) -> web.Response:
        cid, aid = request.match_info["cid"], request.match_info["aid"]

        async def op(body: Any) -> web.Response:
            self._conversation_or_refusal(cid, "update")
            self._check_message(body)
            message = self._message_in(cid, aid)
            if not message.from_bot:
                raise _ConnectorRefusal(403, "NotEnoughPermissions", "the bot cannot edit a message it did not send")
            message.payload = dict(body)
            message.history.append(dict(body))
            message.updated_at = self.clock()
            return web.json_response({"id": aid}, status=200)

        return await self._handle(request, "update", cid, aid, op)

    async def _delete(self, request: web.Request) -> web.Response:
        cid, aid = request.match_info["cid"], request.match_info["aid"]

        async def op(_: Any) -> web.Response:
            if not self.delete_supported:
                raise _ConnectorRefusal(501, "DeleteActivityAPINotImplemented", "The API to delete activity is not implemented yet")
            self._conversation_or_refusal(cid, "delete")
            message = self._message_in(cid, aid)
            if not message.from_bot:
                raise _ConnectorRefusal(403, "NotEnoughPermissions", "the bot cannot delete a message it did not send")
            message.deleted = True
            return web.Response(status=200)

        return await self._handle(request, "delete", cid, aid, op)

    async def _members(self, request: web.Request) -> web.Response:
        cid = request.match_info["cid"]

        async def op(_: Any) -> web.Response:
            return web.json_response([m.wire() for m in self._members_of(cid)])

        return await self._handle(request, "get_members", cid, None, op)

    async def _member(self, request: web.Request) -> web.Response:
        cid, mid = request.match_info["cid"], request.match_info["mid"]

        async def op(_: Any) -> web.Response:
            for member in self._members_of(cid):
                if member.id == mid or member.aad_object_id == mid:
                    return web.json_response(member.wire())
            raise _ConnectorRefusal(404, "MemberNotFoundInConversation", "member not found in the conversation")

        return await self._handle(request, "get_member", cid, None, op)

    async def _paged_members(self, request: web.Request) -> web.Response:
        cid = request.match_info["cid"]

        async def op(_: Any) -> web.Response:
            members = sorted(self._members_of(cid), key=lambda m: m.id)
            try:
                # Teams: pages hold at least 50 members (a smaller pageSize is raised) and at most 500.
                size = max(50, min(500, int(request.query.get("pageSize") or 50)))
                start = int(request.query.get("continuationToken") or 0)
            except ValueError:
                raise _ConnectorRefusal(400, "BadArgument", "pageSize and continuationToken must be numbers") from None
            page = members[start : start + size]
            token = str(start + size) if start + size < len(members) else None
            return web.json_response({"members": [m.wire() for m in page], "continuationToken": token})

        return await self._handle(request, "get_paged_members", cid, None, op)

    async def _team_details(self, request: web.Request) -> web.Response:
        tid = request.match_info["tid"]

        async def op(_: Any) -> web.Response:
            team = self._team_or_refusal(tid)
            return web.json_response(
                {
                    "id": team.id,
                    "name": team.name,
                    "aadGroupId": team.aad_group_id,
                    "channelCount": len(team.channels),
                    "memberCount": len(team.members),
                    "type": "standard",
                }
            )

        return await self._handle(request, "get_team", tid, None, op)

    async def _team_conversations(self, request: web.Request) -> web.Response:
        tid = request.match_info["tid"]

        async def op(_: Any) -> web.Response:
            team = self._team_or_refusal(tid)
            return web.json_response({"conversations": [{"id": cid, "name": name} for cid, name in team.channels.items()]})

        return await self._handle(request, "get_team_conversations", tid, None, op)

    # --- the pipeline every request goes through ---------------------------------------------
    async def _handle(
        self, request: web.Request, operation: str, conversation_id: str | None, activity_id: str | None, op: Any
    ) -> web.Response:
        raw = await request.read()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        if self.on_request is not None:
            await self.on_request(operation, conversation_id)
        if self._stalls > 0:
            self._stalls -= 1
            await self._released.wait()
        authorized: bool | None = None
        try:
            if self.auth is not None:
                authorized = self._authorized(request.headers.get("Authorization", ""))
                if not authorized:
                    # The real service answers a bad token without Teams' error envelope.
                    return self._record(operation, conversation_id, activity_id, body, authorized, web.json_response(
                        {"message": "Authorization has been denied for this request."}, status=401))
            fault = self._take_fault(operation, conversation_id)
            if fault is not None:
                raise _ConnectorRefusal(fault.status, fault.code, fault.message, fault.retry_after)
            if operation in ("create", "send", "reply", "update") and len(raw) > self.max_payload_bytes:
                detail = f"message is {len(raw)} bytes; the limit is {self.max_payload_bytes}"
                raise _ConnectorRefusal(413, "MessageSizeTooBig", detail)
            self._check_rate(operation, conversation_id)
            if isinstance(body, str):
                raise _ConnectorRefusal(400, "BadArgument", "body is not JSON")
            response = await op(body)
        except _ConnectorRefusal as refusal:
            response = _error_response(refusal)
        return self._record(operation, conversation_id, activity_id, body, authorized, response)

    def _record(
        self,
        operation: str,
        conversation_id: str | None,
        activity_id: str | None,
        body: Any,
        authorized: bool | None,
        response: web.Response,
    ) -> web.Response:
        method = {"create": "POST", "send": "POST", "reply": "POST", "update": "PUT", "delete": "DELETE"}.get(operation, "GET")
        now = self.clock()
        self.calls.append(Call(now, method, operation, conversation_id, activity_id, response.status, body, authorized))
        if self.enforce_rate_limits and response.status < 300:  # refused requests do not count
            for window_key, _ in self._rate_checks(operation, conversation_id):
                self._windows.setdefault(window_key, deque()).append(now.timestamp())
        return response

    def _authorized(self, header: str) -> bool:
        assert self.auth is not None
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer" or not token:
            return False
        claims = entra_claims(token, audience=BOT_FRAMEWORK_AUDIENCE, now=self.clock())
        return claims is not None and claims.get("appid") == self.auth.app_id and claims.get("tid") == self.auth.token_tenant

    def _take_fault(self, operation: str, conversation_id: str | None) -> Fault | None:
        # Faults aimed at this conversation win over global ones.
        candidates = [f for f in self.faults if f.remaining > 0 and (f.operations is None or operation in f.operations)]
        here = {conversation_id, _base(conversation_id)} if conversation_id is not None else set()
        specific = [f for f in candidates if f.conversation_id is not None and f.conversation_id in here]
        chosen = (specific or [f for f in candidates if f.conversation_id is None] or [None])[0]
        if chosen is not None:
            chosen.remaining -= 1
        return chosen

    def _check_rate(self, operation: str, conversation_id: str | None) -> None:
        if not self.enforce_rate_limits:
            return
        now = self.clock().timestamp()
        wait = 0.0
        for window_key, limits in self._rate_checks(operation, conversation_id):
            stamps = self._windows.setdefault(window_key, deque())
            horizon = max(w for w, _ in limits)
            while stamps and stamps[0] <= now - horizon:
                stamps.popleft()
            for window, limit in limits:
                inside = [s for s in stamps if s > now - window]  # the window is (now - W, now]
                if len(inside) >= limit:
                    wait = max(wait, inside[len(inside) - limit] + window - now)
        if wait > 0:
            raise _ConnectorRefusal(429, "Throttled", "rate limit exceeded", _seconds_text(max(1, math.ceil(wait))))

    def _rate_checks(self, operation: str, conversation_id: str | None) -> list[tuple[tuple[str, str], tuple[tuple[float, int], ...]]]:
        # A channel and its threads are one conversation for Teams' limits; the tenant has its own.
        bucket = "write" if operation in WRITE_OPERATIONS else "read"
        key = _base(conversation_id or "")
        return [((bucket, key), SEND_LIMITS if bucket == "write" else READ_LIMITS), (("tenant", self._tenant_of(key)), TENANT_LIMITS)]

    # --- state helpers ----------------------------------------------------------------------
    async def _peek_channel(self, request: web.Request) -> str | None:
        try:
            body = json.loads(await request.read() or b"null")
        except ValueError:
            return None
        if isinstance(body, dict):
            return ((body.get("channelData") or {}).get("channel") or {}).get("id")
        return None

    def _conversation_or_refusal(self, conversation_id: str, operation: str) -> None:
        base = _base(conversation_id)
        chat = self._chats.get(base)
        team = next((t for t in self._teams.values() if base in t.channels), None)
        place = chat or team
        if place is None:
            raise _ConnectorRefusal(404, "ConversationNotFound", "Conversation not found.")
        if not place.installed or (team is not None and base in team.without_bot):
            raise _ConnectorRefusal(403, "BotNotInConversationRoster", "The bot is not part of the conversation roster.")

    def _team_or_refusal(self, team_id: str) -> _Team:
        team = self._teams.get(team_id)
        if team is None:
            raise _ConnectorRefusal(404, "TeamNotFound", "Team not found.")
        if not team.installed:
            raise _ConnectorRefusal(403, "BotNotInConversationRoster", "The bot is not part of the conversation roster.")
        return team

    def _chat_of(self, conversation_id: str) -> _Chat | None:
        return self._chats.get(_base(conversation_id))

    def _members_of(self, conversation_id: str) -> list[_Member]:
        self._conversation_or_refusal(conversation_id, "get_members")
        base = _base(conversation_id)
        place = self._chats.get(base) or next(t for t in self._teams.values() if base in t.channels)
        return list(place.members.values())

    def _tenant_of(self, base: str) -> str:
        place = self._chats.get(base) or next((t for t in self._teams.values() if base in t.channels), None)
        return place.tenant_id if place is not None else self.tenant_id

    def _message_in(self, conversation_id: str, activity_id: str) -> Message:
        message = self.messages.get(activity_id)
        if message is None or message.deleted or _base(message.conversation_id) != _base(conversation_id):
            raise _ConnectorRefusal(404, "ActivityNotFoundInConversation", "The activity was not found in the conversation.")
        return message

    def _check_message(self, activity: Any) -> None:
        if not isinstance(activity, dict) or activity.get("type", "message") != "message":
            raise _ConnectorRefusal(400, "BadArgument", "a message activity is required")
        if not activity.get("text") and not activity.get("attachments"):
            raise _ConnectorRefusal(400, "BadSyntax", "Activity must include non empty 'text' field or at least 1 attachment")

    def _store(
        self, conversation_id: str, activity_id: str, payload: dict[str, Any], *, from_bot: bool, reply_to_id: str | None
    ) -> Message:
        if THREAD_MARKER not in conversation_id and self._chat_of(conversation_id) is None:
            conversation_id = f"{conversation_id}{THREAD_MARKER}{activity_id}"
        message = Message(
            conversation_id, activity_id, dict(payload), self.clock(), from_bot=from_bot, reply_to_id=reply_to_id, history=[dict(payload)]
        )
        self.messages[activity_id] = message
        return message

    def _next_id(self) -> str:
        # Teams' activity ids are millisecond timestamps; two in the same millisecond differ by one.
        self._last_id = max(self._last_id + 1, int(self.clock().timestamp() * 1000))
        return str(self._last_id)


def _base(conversation_id: str) -> str:
    return conversation_id.partition(THREAD_MARKER)[0]


def _seconds_text(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def _error_response(refusal: _ConnectorRefusal) -> web.Response:
    headers = {"Retry-After": refusal.retry_after} if refusal.retry_after is not None else {}
    if refusal.code is None and refusal.status in _GATEWAY_STATUSES:
        page = f"<html><body><h1>{refusal.status}</h1><p>{refusal.message}</p></body></html>"
        return web.Response(status=refusal.status, text=page, content_type="text/html", headers=headers)
    return web.json_response({"error": {"code": refusal.code, "message": refusal.message}}, status=refusal.status, headers=headers)
