"""The botbuilder boundary: build the CloudAdapter, and post, reply to and update cards in Teams.

This is the only module that imports botbuilder (with the future activity handler), so a port to
the Microsoft 365 Agents SDK changes this file. Everything crossing it is plain data: conversation
references as their wire JSON (camelCase dicts), cards as dicts, ids as strings; every failure as a
`bot.teams.errors.ConnectorError`.

What botbuilder 4.17.1 / msrest do by default, and what the adapter built here does instead:

- retries: urllib3 retried every 5xx of an idempotent method 3 times (a card update answered 502
  slept ~5 s, then surfaced as a status-less RetryError). Each call is now tried exactly once;
  the notifier owns retries (it knows Retry-After, pacing and duplicates).
- undecodable error bodies: a gateway's text/html 502 raised a status-less DeserializationError;
  now the status survives and is mapped.
- per-send cost: a new connector client per turn (an msrest configuration costs ~8 ms of CPU, plus
  a new TCP/TLS connection) and, with an APP_ID, new credentials — a new msal app and an Entra
  token request before every send, on the event loop. Clients are now reused per service URL,
  credentials per app, and tokens fetched in a worker thread (measured: 35 → 3.6 ms per send).
- card serialisation: msrest walks an attachment's content ("object") field by field, recursively
  (a third of the notifier's CPU per card); a card now goes into the JSON body as it is (it is
  plain JSON data already), through `_CardContent`.
- inbound auth: botbuilder fetched the Bot Framework's signing keys with a blocking
  `requests.get` (no timeout) on the event loop, and a forged, garbled or unverifiable token
  raised plain exceptions (HTTP 500, traceback). Tokens are now checked by bot/teams/channel_auth.py:
  401 without a network call for any token that cannot be valid, keys fetched with aiohttp under
  a timeout and cached, 503 while they cannot be had. Anonymous mode accepts only a local Bot
  Connector (serviceUrl on this machine).
- tenant: ConversationAccount.tenant_id is "tenantID" on botbuilder's wire and Teams' "tenantId"
  is dropped; stored references keep Teams' key.

Teams ids: a channel is `19:…@thread.tacv2`; a thread in it is `<channel>;messageid=<root id>`,
where the root id is the activity id of the thread's first post.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Mapping, TypeVar

import aiohttp
import msal
from botbuilder.core import CardFactory, TurnContext
from botbuilder.core.teams import TeamsInfo
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import Activity, ActivityTypes, Attachment, CallerIdConstants, ConversationParameters, ConversationReference
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    ClaimsIdentity,
    ConnectorFactory,
    ServiceClientCredentialsFactory,
    UserTokenClient,
)
from msrest.exceptions import DeserializationError
from msrest.pipeline import AsyncHTTPPolicy, AsyncPipeline
from msrest.pipeline.async_requests import AsyncPipelineRequestsHTTPSender, AsyncRequestsCredentialsPolicy
from msrest.pipeline.universal import RawDeserializer
from msrest.serialization import Model
from msrest.universal_http.async_requests import AsyncRequestsHTTPSender
from urllib3.util.retry import Retry

from bot.teams.channel_auth import BotFrameworkSigningKeys, ChannelTokenRejectedError, ChannelTokenValidator, is_loopback_url
from bot.teams.errors import (
    BadArgumentError,
    ConnectorError,
    InvalidReferenceError,
    UnexpectedConnectorError,
    map_connector_error,
)
from bot.origin import split_conversation_id

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

TEAMS_CHANNEL_ID = "msteams"
APP_TYPES = ("MultiTenant", "SingleTenant", "UserAssignedMSI")
DEFAULT_TIMEOUT_SECONDS = 30.0  # msrest's default is 100 s: far past the point a send is worth waiting for


@dataclass(frozen=True, slots=True)
class PostedMessage:
    """Where a new top-level post landed: the thread it opened and its own activity id."""

    thread_conversation_id: str  # "<channel>;messageid=<root id>": the reference for later updates
    activity_id: str


# --- the adapter ------------------------------------------------------------------------------


def create_adapter(
    app_id: str,
    app_password: str,
    app_type: str = "SingleTenant",
    app_tenant_id: str = "",
    *,
    clock: Clock | None = None,
    http: aiohttp.ClientSession | None = None,
    signing_keys: BotFrameworkSigningKeys | None = None,
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
    token_http_client: Any = None,
) -> CloudAdapter:
    """A CloudAdapter authenticated as the bot on the public Azure cloud (anonymous when `app_id`
    is empty: local use only, see `authenticate_request`).

    Inbound tokens are checked by bot/teams/channel_auth.py against the Bot Framework's published keys,
    fetched with `http` (an aiohttp session; None: one of the adapter's own) or taken from
    `signing_keys`; `clock` dates them. Outbound, the bot's token comes from Entra through msal:
    SingleTenant (the default: Azure creates only single-tenant or managed-identity bots since
    2025-07-31) asks APP_TENANTID's authority, MultiTenant the botframework.com tenant.
    `token_http_client` (requests-like: `get`/`post`) carries those token requests instead of
    msal's own session — for proxies, and for tests. `timeout_seconds` bounds each Bot Connector
    call. Call `close_adapter` at shutdown. Raises BadArgumentError (a ConnectorConfigError) when
    the combination is incomplete.
    """
    kind = next((t for t in APP_TYPES if t.lower() == (app_type or "SingleTenant").strip().lower()), None)
    problems = []
    if kind is None:
        problems.append(f"APP_TYPE must be one of {', '.join(APP_TYPES)}, not {app_type!r}")
    if not app_id:
        if app_password:
            problems.append("APP_PASSWORD is set but APP_ID is empty (set both, or neither for anonymous local use)")
    elif kind == "SingleTenant" and not (app_password and app_tenant_id):
        problems.append("SingleTenant needs APP_ID, APP_PASSWORD and APP_TENANTID")
    elif kind == "UserAssignedMSI" and not app_tenant_id:
        problems.append("UserAssignedMSI needs APP_ID and APP_TENANTID")
    elif kind == "MultiTenant" and not app_password:
        problems.append("MultiTenant needs both APP_ID and APP_PASSWORD")
    if timeout_seconds <= 0:
        problems.append("timeout_seconds must be positive")
    if problems:
        raise BadArgumentError("; ".join(problems), operation="create_adapter")

    # Anonymous mode is botbuilder's MultiTenant without an id: its credential factory then
    # reports authentication disabled and sends without a token.
    config = _AdapterConfig(app_id or "", app_password or "", (kind or "SingleTenant") if app_id else "MultiTenant", app_tenant_id or "")
    credentials = _CachedCredentialsFactory(ConfigurationServiceClientCredentialFactory(config), token_http_client)
    clock = clock or (lambda: datetime.now(timezone.utc))
    validator = None
    if app_id:
        keys = signing_keys or BotFrameworkSigningKeys(http, clock=clock)
        validator = ChannelTokenValidator(app_id, keys, clock=clock)
    return CloudAdapter(_HardenedAuthentication(config, credentials, validator, timeout_seconds=timeout_seconds))


async def close_adapter(adapter: CloudAdapter) -> None:
    """Close the Bot Connector clients an adapter from `create_adapter` keeps (at shutdown)."""
    authentication = adapter.bot_framework_authentication
    if isinstance(authentication, _HardenedAuthentication):
        await authentication.close()


# Any service URL does: building a connector client makes no request, it only asks the credential
# factory for the credentials a send there would carry (the same for every Teams service URL).
_PROBE_SERVICE_URL = "https://smba.trafficmanager.net/teams/"


async def fetch_bot_token(adapter: CloudAdapter) -> str:
    """The bot's Bot Connector token, got exactly as a send gets it: from the credentials object
    the adapter's sends use (same authority, same scope, same msal app and cache), in a worker
    thread. Raises a ConnectorError (config_error for a refused id or secret); "" in anonymous mode."""
    authentication = adapter.bot_framework_authentication
    if not isinstance(authentication, _HardenedAuthentication):
        raise TypeError("fetch_bot_token needs an adapter from create_adapter")
    app_id = authentication.app_id
    if not app_id:
        return ""
    factory = super(_HardenedAuthentication, authentication).create_connector_factory(ClaimsIdentity({"aud": app_id}, True))
    try:
        client = await factory.create(_PROBE_SERVICE_URL, None)
        try:
            credentials = client.config.credentials
            return await asyncio.get_running_loop().run_in_executor(None, credentials.get_access_token)
        finally:
            await _close(client)
    except ConnectorError:
        raise
    except Exception as exc:  # every msal/requests failure becomes ours, chained
        raise map_connector_error(exc, operation="token") from exc


class _AdapterConfig:
    """The APP_* attributes botbuilder's configuration factories read; the password never shows."""

    VALIDATE_AUTHORITY = True

    def __init__(self, app_id: str, app_password: str, app_type: str, app_tenant_id: str) -> None:
        self.APP_ID = app_id
        self.APP_PASSWORD = app_password
        self.APP_TYPE = app_type
        self.APP_TENANTID = app_tenant_id

    def __repr__(self) -> str:
        return f"_AdapterConfig(APP_ID={self.APP_ID!r}, APP_TYPE={self.APP_TYPE!r}, APP_PASSWORD='********')"


class _CachedCredentialsFactory(ServiceClientCredentialsFactory):
    """One credentials object (hence one msal app and token cache) per app id and audience.

    botbuilder 4.17 builds new credentials for every connector client, i.e. every send: a new
    msal app, an empty token cache, and a token request to Entra each time.
    """

    def __init__(self, inner: ServiceClientCredentialsFactory, token_http_client: Any = None) -> None:
        self._inner = inner
        self._token_http_client = token_http_client
        self._credentials: dict[tuple[Any, ...], Any] = {}

    async def is_valid_app_id(self, app_id: str) -> bool:
        return await self._inner.is_valid_app_id(app_id)

    async def is_authentication_disabled(self) -> bool:
        return await self._inner.is_authentication_disabled()

    async def create_credentials(self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool) -> Any:
        key = (app_id, oauth_scope, login_endpoint, validate_authority)
        credentials = self._credentials.get(key)
        if credentials is None:
            credentials = await self._inner.create_credentials(app_id, oauth_scope, login_endpoint, validate_authority)
            password = getattr(credentials, "microsoft_app_password", None)
            if self._token_http_client is not None and password and getattr(credentials, "microsoft_app_id", None):
                # MicrosoftAppCredentials builds its msal app from the same three values, on first use.
                credentials.app = _LazyMsalApp(functools.partial(
                    msal.ConfidentialClientApplication,
                    client_id=credentials.microsoft_app_id,
                    client_credential=password,
                    authority=credentials.oauth_endpoint,
                    http_client=self._token_http_client,
                ))
            self._credentials[key] = credentials
        return credentials


class _LazyMsalApp:
    """An msal app built on its first token request, in the worker thread that makes it.

    msal's constructor already asks Entra for the tenant's OpenID configuration, which must not
    happen on the event loop (an http client that runs on the loop, like graph.msal_http's, even
    refuses to). MicrosoftAppCredentials.get_access_token calls only these two methods."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._app: Any = None
        self._lock = threading.Lock()

    def _get(self) -> Any:
        with self._lock:
            if self._app is None:
                self._app = self._build()
            return self._app

    def acquire_token_silent(self, *args: Any, **kwargs: Any) -> Any:
        """msal's cache lookup."""
        return self._get().acquire_token_silent(*args, **kwargs)

    def acquire_token_for_client(self, *args: Any, **kwargs: Any) -> Any:
        """msal's client-credentials request."""
        return self._get().acquire_token_for_client(*args, **kwargs)


class _HardenedAuthentication(ConfigurationBotFrameworkAuthentication):
    """botbuilder's configuration authentication with our inbound token check and reused,
    hardened connector clients."""

    def __init__(
        self,
        configuration: Any,
        credentials: ServiceClientCredentialsFactory,
        validator: ChannelTokenValidator | None,
        *,
        timeout_seconds: float,
    ) -> None:
        super().__init__(configuration, credentials_factory=credentials)
        self.app_id: str = configuration.APP_ID
        self.credentials = credentials
        self.validator = validator
        self._clients = _ClientCache(timeout_seconds)
        self._user_token_clients: dict[str | None, UserTokenClient] = {}
        self._user_token_clients_lock = asyncio.Lock()  # the notifier's lanes start together: build one

    async def authenticate_request(self, activity: Activity, auth_header: str) -> AuthenticateRequestResult:
        """Who sent the activity: a Bot Framework channel token checked by bot/teams/channel_auth.py
        (PermissionError → 401, SigningKeysUnavailableError → the route's 503), or, in anonymous
        mode, nobody, which is only accepted from a local Bot Connector (the Agents Playground):
        a serviceUrl elsewhere would let any request reroute the bot's replies and cards."""
        if self.validator is None:
            if auth_header:
                raise ChannelTokenRejectedError("a token came to a bot in anonymous mode (APP_ID is empty)")
            if not is_loopback_url(activity.service_url):
                raise ChannelTokenRejectedError("anonymous mode only accepts activities whose serviceUrl is on this machine")
            identity = ClaimsIdentity({}, True, AuthenticationConstants.ANONYMOUS_AUTH_TYPE)
        else:
            claims = await self.validator.validate(auth_header, service_url=activity.service_url, channel_id=activity.channel_id)
            identity = ClaimsIdentity(claims, True)
        result = AuthenticateRequestResult()
        result.claims_identity = identity
        result.audience = self.get_originating_audience()
        result.caller_id = await self.generate_caller_id(
            credential_factory=self.credentials, claims_identity=identity, caller_id=CallerIdConstants.public_azure_channel
        )
        result.connector_factory = self.create_connector_factory(identity)
        return result

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _CachedConnectorFactory(super().create_connector_factory(claims_identity), self._clients, _app_id_of(claims_identity))

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        # Built on every turn by botbuilder (an msrest configuration costs ~8 ms of CPU); the bot
        # uses no OAuth connection, so one per app id is plenty.
        app_id = _app_id_of(claims_identity)
        client = self._user_token_clients.get(app_id)
        if client is None:
            async with self._user_token_clients_lock:
                client = self._user_token_clients.get(app_id)
                if client is None:
                    client = self._user_token_clients[app_id] = await super().create_user_token_client(claims_identity)
        return client

    async def close(self) -> None:
        """Close every cached connector client and the signing-key fetcher."""
        await self._clients.close()
        if self.validator is not None:
            await self.validator.keys.close()


def _app_id_of(claims_identity: ClaimsIdentity) -> str | None:
    # As botbuilder reads it: the audience claim for channel tokens, appid for the emulator.
    claims = claims_identity.claims or {}
    return claims.get(AuthenticationConstants.AUDIENCE_CLAIM) or claims.get(AuthenticationConstants.APP_ID_CLAIM)


class _ClientCache:
    """Connector clients per (app id, service URL, audience), hardened once, least recently used out.

    botbuilder makes a client per turn: an msrest configuration (~8 ms of CPU building its retry
    table), a new HTTP session and TCP/TLS connection each time. Reusing one per service URL keeps
    the connection alive and the CPU free. A client's requests may run concurrently: its session
    is only read by them, and tokens go on each request, never on the shared session.
    """

    def __init__(self, timeout_seconds: float, size: int = 64) -> None:
        self._timeout_seconds = timeout_seconds
        self._size = size
        self._clients: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._building = asyncio.Lock()  # concurrent first sends to one service URL build one client

    async def get(self, key: tuple[Any, ...], make: Callable[[], Awaitable[Any]]) -> Any:
        client = self._clients.get(key)
        if client is not None:
            self._clients.move_to_end(key)
            return client
        async with self._building:
            client = self._clients.get(key)
            if client is not None:  # another turn built it while this one waited
                return client
            client = await make()
            _harden(client.config, self._timeout_seconds)
            self._clients[key] = client
            while len(self._clients) > self._size:
                _, evicted = self._clients.popitem(last=False)
                await _close(evicted)
        return client

    async def close(self) -> None:
        while self._clients:
            _, client = self._clients.popitem()
            await _close(client)


class _CachedConnectorFactory(ConnectorFactory):
    """botbuilder's connector factory, answering from the shared client cache."""

    def __init__(self, inner: ConnectorFactory, clients: _ClientCache, app_id: str | None) -> None:
        self._inner = inner
        self._clients = clients
        self._app_id = app_id

    async def create(self, service_url: str, audience: str | None = None) -> Any:
        return await self._clients.get((self._app_id, service_url, audience), lambda: self._inner.create(service_url, audience))


class _TolerantRawDeserializer(RawDeserializer):
    """msrest's body decoder, except that an undecodable body leaves the status readable."""

    def on_response(self, request: Any, response: Any, **kwargs: Any) -> None:
        try:
            super().on_response(request, response, **kwargs)
        except DeserializationError:
            # ErrorResponseException then falls back to the HTTP status; a 2xx with such a body
            # deserialises to None and surfaces as an unexpected response.
            response.context[self.CONTEXT_NAME] = None


class _BearerTokenPolicy(AsyncHTTPPolicy):
    """Puts the bot's token on each request, fetching it in a worker thread.

    msrest's policy calls botbuilder's synchronous `signed_session` on the event loop, so every
    token request to Entra (msal, blocking HTTP) froze the loop; and it wrote the token into the
    shared session. Credentials without an app id (anonymous mode) add nothing, as botbuilder's.
    """

    def __init__(self, credentials: Any) -> None:
        super().__init__()
        self._credentials = credentials

    async def send(self, request: Any, **kwargs: Any) -> Any:
        app_id = getattr(self._credentials, "microsoft_app_id", None)
        if app_id and app_id != AuthenticationConstants.ANONYMOUS_SKILL_APP_ID:
            token = await asyncio.get_running_loop().run_in_executor(None, self._credentials.get_access_token)
            request.http_request.headers["Authorization"] = f"Bearer {token}"
        return await self.next.send(request, **kwargs)


def _single_attempt(config: Any, timeout_seconds: float) -> None:
    """One try, bounded time (msrest retries 5xx 3 times and waits 100 s by default)."""
    single_attempt = Retry(total=0, raise_on_status=False)
    single_attempt.BACKOFF_MAX = 0  # msrest's policy logging still reads this urllib3 1.x attribute
    config.retry_policy.policy = single_attempt
    config.connection.timeout = timeout_seconds


def _harden(config: Any, timeout_seconds: float) -> None:
    """Single attempt, bounded time, tolerant decoding, token off the loop: msrest without surprises."""
    _single_attempt(config, timeout_seconds)
    # The policies of msrest's ServiceClientAsync._create_default_pipeline, two replaced.
    policies: list[Any] = [config.user_agent_policy, _TolerantRawDeserializer(), config.http_logger_policy]
    if config.credentials:
        if hasattr(config.credentials, "get_access_token"):
            policies.insert(1, _BearerTokenPolicy(config.credentials))
        else:
            policies.insert(1, AsyncRequestsCredentialsPolicy(config.credentials))
    config.pipeline = AsyncPipeline(policies, AsyncPipelineRequestsHTTPSender(AsyncRequestsHTTPSender(config)))


async def _close(client: Any) -> None:
    try:
        await client.__aexit__(None, None, None)  # msrest: closes the client's requests session
    except Exception:  # a failed close loses nothing but a socket; say so and carry on
        log.warning("could not close a Bot Connector client", exc_info=True)


# --- the Teams extensions (team details, a team's channels) -----------------------------------

T = TypeVar("T")
TEAM_CALL_TIMEOUT_SECONDS = 10.0  # a person may be waiting for the answer that needs it


@dataclass(frozen=True, slots=True)
class TeamFacts:
    """What the Bot Connector says about a team (GET /v3/teams/{teamId})."""

    team_id: str  # Teams' id, 19:…
    name: str | None
    aad_group_id: str | None  # Graph's id of the team


@dataclass(frozen=True, slots=True)
class TeamChannel:
    """One channel of a team as the Bot Connector lists it (GET /v3/teams/{teamId}/conversations)."""

    channel_id: str
    name: str | None  # None for General (Teams names it nothing)


async def team_facts(turn_context: TurnContext, team_id: str, *, timeout_seconds: float = TEAM_CALL_TIMEOUT_SECONDS) -> TeamFacts:
    """The team's details, asked during a turn: what TeamsInfo.get_team_details does, except that
    its synchronous client (requests, and msal for the token) runs in a worker thread under a
    timeout instead of blocking the event loop. Raises a ConnectorError."""
    details = await _teams_call(turn_context, lambda teams: teams.get_team_details(team_id), "team_details", timeout_seconds)
    return TeamFacts(details.id or team_id, details.name or None, details.aad_group_id or None)


async def team_channels(turn_context: TurnContext, team_id: str, *, timeout_seconds: float = TEAM_CALL_TIMEOUT_SECONDS) -> list[TeamChannel]:
    """The team's channels the bot can post in unasked (TeamsInfo.get_team_channels, off the loop
    as `team_facts`). Raises a ConnectorError."""
    listed = await _teams_call(turn_context, lambda teams: teams.get_teams_channels(team_id), "team_channels", timeout_seconds)
    return [TeamChannel(c.id, c.name or None) for c in listed.conversations or [] if c.id]


async def _teams_call(turn_context: TurnContext, call: Callable[[Any], T], operation: str, timeout_seconds: float) -> T:
    try:
        client = await TeamsInfo.get_teams_connector_client(turn_context)  # the turn's credentials; no I/O yet
    except Exception as exc:  # noqa: BLE001 - e.g. no connector client on this turn
        raise map_connector_error(exc, operation=operation) from exc
    _single_attempt(client.config, timeout_seconds)
    try:
        return await asyncio.to_thread(call, client.teams)
    except Exception as exc:  # every msrest/requests/msal failure becomes ours, chained
        raise map_connector_error(exc, operation=operation) from exc
    finally:
        client.close()


# --- sending ----------------------------------------------------------------------------------


class TeamsConnector:
    """Posts, replies to and updates messages through a CloudAdapter; the only sender in the app.

    Every method raises a `bot.teams.errors.ConnectorError` (never a botbuilder/msrest exception) whose
    flags tell the caller what to do. Nothing here retries or paces: the notifier does, with
    `bot.pacing.ConversationPacer`. `app_id` is the bot's APP_ID ("" in anonymous mode).
    """

    def __init__(self, adapter: CloudAdapter, *, app_id: str = "", clock: Clock | None = None) -> None:
        self._adapter = adapter
        self._app_id = app_id or ""
        self._clock = clock or (lambda: datetime.now(timezone.utc))

    async def create_thread(
        self, channel_reference: Mapping[str, Any], card: Mapping[str, Any], *, text_fallback: str
    ) -> PostedMessage:
        """Post `card` as a NEW top-level post (a new thread) in the channel of `channel_reference`.

        Uses the adapter's create_conversation directly (TeamsInfo breaks in anonymous mode);
        `text_fallback` becomes the activity's summary (notification / preview text).
        """
        operation = "create_thread"
        target = _thread_target(channel_reference, operation)
        channel_id, _ = split_conversation_id(target.conversation_id)
        parameters = _NewThread(channel_id, target.tenant_id, card, text_fallback)
        created: dict[str, str] = {}

        async def capture(turn_context: TurnContext) -> None:
            created["conversation_id"] = turn_context.activity.conversation.id
            created["activity_id"] = turn_context.activity.id

        await self._run(
            operation,
            self._adapter.create_conversation(
                self._app_id, capture, parameters, target.channel_id or TEAMS_CHANNEL_ID, target.service_url, None
            ),
        )
        thread_id = created.get("conversation_id") or ""
        activity_id = created.get("activity_id") or ""
        _, root_id = split_conversation_id(thread_id)
        if root_id and root_id != activity_id:
            # botbuilder invents a uuid when the answer lacks activityId; the thread's root id is
            # the real one (a post's thread is named after it), so keep that.
            log.warning("create_thread: answer's activity id %r differs from the thread root %r; using the root", activity_id, root_id)
            activity_id = root_id
        if not thread_id or not activity_id:
            raise UnexpectedConnectorError(
                f"Teams accepted the post but named no thread/activity ({thread_id!r}, {activity_id!r})",
                operation=operation,
                maybe_delivered=True,
            )
        log.debug("create_thread: posted %s in %s", activity_id, thread_id)
        return PostedMessage(thread_conversation_id=thread_id, activity_id=activity_id)

    async def update_card(
        self, reference: Mapping[str, Any], activity_id: str, card: Mapping[str, Any], *, text_fallback: str | None = None
    ) -> None:
        """Replace the card of message `activity_id` in place (PUT …/activities/{id}).

        `reference` must name the conversation that holds the message: for a post made by
        `create_thread`, `thread_reference(channel_reference, posted.thread_conversation_id)`.
        """
        operation = "update_card"
        if not activity_id:
            raise InvalidReferenceError("no activity id to update", operation=operation)
        loaded = _load_reference(reference, operation)
        replacement = _message(card=card, text=None, summary=text_fallback)
        replacement.id = activity_id

        async def update(turn_context: TurnContext) -> None:
            await turn_context.update_activity(replacement)

        await self._run(operation, self._adapter.continue_conversation(loaded, update, bot_app_id=self._app_id))
        log.debug("update_card: updated %s in %s", activity_id, loaded.conversation.id)

    async def send(
        self,
        reference: Mapping[str, Any],
        card: Mapping[str, Any] | None = None,
        text: str | None = None,
        *,
        summary: str | None = None,
    ) -> str | None:
        """Send a message into the reference's conversation; returns its activity id.

        A thread reference (`…;messageid=…`) replies inside that thread; a bare channel reference
        makes a new top-level post. Give a card, a text, or both (the text shows above the card).
        Returns None only if Teams accepted the message without naming it (logged; Teams and the
        Playground always name it).
        """
        operation = "send"
        if card is None and not text:
            raise ValueError("send needs a card or a text")
        loaded = _load_reference(reference, operation)
        message = _message(card=card, text=text, summary=summary)
        sent: dict[str, str | None] = {}

        async def deliver(turn_context: TurnContext) -> None:
            response = await turn_context.send_activity(message)
            sent["id"] = response.id if response is not None else None

        await self._run(operation, self._adapter.continue_conversation(loaded, deliver, bot_app_id=self._app_id))
        activity_id = sent.get("id") or None
        if activity_id is None:
            log.warning("send: Teams accepted a message in %s without returning its id", loaded.conversation.id)
        return activity_id

    async def team_channels(self, reference: Mapping[str, Any], team_id: str) -> list[TeamChannel]:
        """The channels of team `team_id` the Bot Connector lists, asked through one of its stored
        references, outside any turn. Raises a ConnectorError."""
        return await self._about_team("team_channels", reference, lambda turn_context: team_channels(turn_context, team_id))

    async def _about_team(self, operation: str, reference: Mapping[str, Any], ask: Callable[[TurnContext], Awaitable[T]]) -> T:
        loaded = _load_reference(reference, operation)
        answer: dict[str, T] = {}

        async def in_turn(turn_context: TurnContext) -> None:
            answer["value"] = await ask(turn_context)

        await self._run(operation, self._adapter.continue_conversation(loaded, in_turn, bot_app_id=self._app_id))
        return answer["value"]

    async def _run(self, operation: str, call: Awaitable[Any]) -> None:
        try:
            await call
        except ConnectorError:
            raise
        except Exception as exc:  # every botbuilder/msrest/transport failure becomes ours, chained
            raise map_connector_error(exc, operation=operation, now=self._clock()) from exc


class _CardContent(Model):
    """A card that msrest puts into the JSON body as it is: a model whose only attribute is
    msrest's "additional_properties", which it copies without walking them (and never validates)."""

    _attribute_map = {"additional_properties": {"key": "", "type": "{object}"}}

    def __init__(self, card: Mapping[str, Any]) -> None:
        super().__init__()
        self.additional_properties = dict(card)


class _NewThread(ConversationParameters):
    """ConversationParameters for a new post in a channel whose JSON body is built here, once.

    msrest turns a ConversationParameters into JSON by first re-reading it as a model, then
    validating and walking its ~50 Activity attributes: about a third of the notifier's CPU per
    card. This subclass is what msrest does for `_CardContent`: its only serialised attribute is
    "additional_properties", copied as it is. The body is exactly msrest's for the same
    parameters (tests/bot/teams/test_connector.py compares them); `tenant_id` and `channel_data`
    stay readable, as the adapter reads them to describe the new conversation."""

    _attribute_map = {"additional_properties": {"key": "", "type": "{object}"}}

    def __init__(self, channel_id: str, tenant_id: str | None, card: Mapping[str, Any], summary: str | None) -> None:
        channel_data = {"channel": {"id": channel_id}}
        super().__init__(is_group=True, channel_data=channel_data, tenant_id=tenant_id)
        activity: dict[str, Any] = {"type": ActivityTypes.message}
        if summary:
            activity["summary"] = summary
        activity["attachments"] = [{"contentType": CardFactory.content_types.adaptive_card, "content": dict(card)}]
        body: dict[str, Any] = {"isGroup": True, "channelData": channel_data, "activity": activity}
        if tenant_id:
            body["tenantID"] = tenant_id  # botbuilder's spelling; the Bot Connector reads keys case-insensitively
        self.additional_properties = body


def _message(*, card: Mapping[str, Any] | None, text: str | None, summary: str | None) -> Activity:
    attachments = None
    if card is not None:
        attachments = [Attachment(content_type=CardFactory.content_types.adaptive_card, content=_CardContent(card))]
    return Activity(type=ActivityTypes.message, text=text or None, summary=summary or None, attachments=attachments)


@dataclass(frozen=True, slots=True)
class _ThreadTarget:
    conversation_id: str
    tenant_id: str | None
    channel_id: str | None
    service_url: str


def _thread_target(data: Mapping[str, Any], operation: str) -> _ThreadTarget:
    """The four fields of a channel reference a new post needs, read as they are: every card
    goes through here, and a full msrest ConversationReference cost ~0.5 ms of CPU a card."""
    if not isinstance(data, Mapping):
        raise InvalidReferenceError(f"a conversation reference must be a dict, not {type(data).__name__}", operation=operation)
    conversation = data.get("conversation")
    if conversation is not None and not isinstance(conversation, Mapping):
        raise InvalidReferenceError(f"unreadable conversation reference (conversation is a {type(conversation).__name__})",
                                    operation=operation)  # fmt: skip
    conversation = conversation or {}
    fields = {"serviceUrl": data.get("serviceUrl"), "conversation.id": conversation.get("id"),
              "conversation.tenantId": conversation.get("tenantId"), "channelId": data.get("channelId")}  # fmt: skip
    wrong = [name for name, value in fields.items() if value is not None and not isinstance(value, str)]
    if wrong:
        raise InvalidReferenceError(f"unreadable conversation reference ({', '.join(wrong)} not text)", operation=operation)
    missing = [name for name in ("serviceUrl", "conversation.id") if not fields[name]]
    if missing:
        raise InvalidReferenceError(f"conversation reference lacks {', '.join(missing)}", operation=operation)
    return _ThreadTarget(fields["conversation.id"], fields["conversation.tenantId"] or None, fields["channelId"] or None,
                         fields["serviceUrl"])  # fmt: skip


def _load_reference(data: Mapping[str, Any], operation: str) -> ConversationReference:
    if not isinstance(data, Mapping):
        raise InvalidReferenceError(f"a conversation reference must be a dict, not {type(data).__name__}", operation=operation)
    try:
        reference = ConversationReference().deserialize(copy.deepcopy(dict(data)))
    except Exception as exc:  # msrest raises several types for malformed models
        raise InvalidReferenceError(f"unreadable conversation reference ({type(exc).__name__})", operation=operation) from exc
    conversation = data.get("conversation")
    if reference.conversation is not None and isinstance(conversation, Mapping) and not reference.conversation.tenant_id:
        reference.conversation.tenant_id = conversation.get("tenantId")  # see _wire
    missing = [
        name
        for name, value in (
            ("serviceUrl", reference.service_url),
            ("conversation.id", getattr(reference.conversation, "id", None)),
        )
        if not value
    ]
    if missing:
        raise InvalidReferenceError(f"conversation reference lacks {', '.join(missing)}", operation=operation)
    return reference


# --- reading activities -----------------------------------------------------------------------


def reference_from_activity(activity: Activity | Mapping[str, Any]) -> dict[str, Any]:
    """The conversation reference of an incoming activity, as wire JSON (camelCase dict)."""
    parsed = _as_activity(activity)
    return _wire(TurnContext.get_conversation_reference(parsed), parsed)


def channel_reference(activity: Activity | Mapping[str, Any]) -> dict[str, Any]:
    """The reference of the bare channel an activity came from, for new top-level posts.

    In a channel, conversation.id becomes the channel id (channelData.channel.id, else
    teamsChannelId, else the conversation id without its `;messageid=` part) and activityId is
    dropped, so a send starts a new thread instead of replying. For a channel event
    (channelCreated/Renamed/Deleted) that is the affected channel, not the team's General. Outside
    channels (personal or group chats) it is the conversation's own reference.
    """
    parsed = _as_activity(activity)
    reference = TurnContext.get_conversation_reference(parsed)
    reference.activity_id = None
    if reference.conversation is not None and reference.conversation.id:
        conversation = copy.copy(reference.conversation)
        channel_data = parsed.channel_data if isinstance(parsed.channel_data, Mapping) else {}
        from_data = None
        if (conversation.conversation_type or "channel") == "channel":
            channel = channel_data.get("channel")
            from_data = (channel.get("id") if isinstance(channel, Mapping) else None) or channel_data.get("teamsChannelId")
        conversation.id = from_data or split_conversation_id(conversation.id)[0]
        reference.conversation = conversation
    return _wire(reference, parsed)


def thread_reference(reference: Mapping[str, Any], thread_conversation_id: str) -> dict[str, Any]:
    """A copy of a reference (wire JSON) aimed at another conversation of the same channel/chat.

    Typical use: `thread_reference(channel_ref, posted.thread_conversation_id)` to update the card
    `create_thread` posted, or to reply in its thread.
    """
    if not thread_conversation_id:
        raise ValueError("thread_conversation_id is empty")
    retargeted = copy.deepcopy(dict(reference))
    retargeted.pop("activityId", None)
    conversation = dict(retargeted.get("conversation") or {})
    conversation["id"] = thread_conversation_id
    retargeted["conversation"] = conversation
    return retargeted


def strip_mention(activity: Activity | Mapping[str, Any]) -> str:
    """The message text without the @mention of this bot, trimmed (the activity is not changed).

    Removes, once each, the mention text (`<at>Bot</at>`) of every mention entity naming the
    recipient — what TurnContext.remove_recipient_mention does, minus two of its traits: it
    deletes EVERY occurrence of the bot's display name in the text (a vendor whose name contains
    the bot's name would be cut) and it mutates the activity. The text/html attachment Teams
    adds is ignored.
    """
    parsed = _as_activity(activity)
    text = parsed.text or ""
    bot_id = getattr(parsed.recipient, "id", None)
    for entity in parsed.entities or []:
        if (getattr(entity, "type", None) or "").lower() != "mention":
            continue
        props = getattr(entity, "additional_properties", None) or {}
        mentioned = props.get("mentioned") or getattr(entity, "mentioned", None) or {}
        mentioned_id = mentioned.get("id") if isinstance(mentioned, Mapping) else getattr(mentioned, "id", None)
        if not bot_id or mentioned_id != bot_id:
            continue
        name = mentioned.get("name") if isinstance(mentioned, Mapping) else getattr(mentioned, "name", None)
        mention_text = props.get("text") or getattr(entity, "text", None) or (f"<at>{name}</at>" if name else "")
        if mention_text and mention_text in text:
            text = text.replace(mention_text, " ", 1)
    return text.strip()


def _wire(reference: ConversationReference, activity: Activity) -> dict[str, Any]:
    # botbuilder 4.17 names ConversationAccount.tenant_id "tenantID" on the wire and drops the
    # "tenantId" Teams sends, so serialize() loses the tenant; the stored JSON keeps Teams' key.
    data = reference.serialize()
    conversation = data.get("conversation")
    if isinstance(conversation, dict):
        conversation.pop("tenantID", None)
        tenant = _tenant_of(activity)
        if tenant:
            conversation["tenantId"] = tenant
    return data


def _tenant_of(activity: Activity) -> str | None:
    conversation = activity.conversation
    extra = getattr(conversation, "additional_properties", None) or {}
    channel_data = activity.channel_data if isinstance(activity.channel_data, Mapping) else {}
    tenant = channel_data.get("tenant")
    return (
        getattr(conversation, "tenant_id", None)
        or extra.get("tenantId")
        or (tenant.get("id") if isinstance(tenant, Mapping) else None)
    )


def _as_activity(activity: Activity | Mapping[str, Any]) -> Activity:
    if isinstance(activity, Activity):
        return activity
    if isinstance(activity, Mapping):
        return Activity().deserialize(copy.deepcopy(dict(activity)))
    raise TypeError(f"expected an Activity or its wire JSON, not {type(activity).__name__}")
