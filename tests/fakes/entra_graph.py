"""A fake Entra ID + Microsoft Graph in ONE aiohttp app, faithful to what ml-connector relies on.

Entra: OIDC discovery `GET /{tenant}/v2.0/.well-known/openid-configuration` and the token endpoint
`POST /{tenant}/oauth2/v2.0/token` (client credentials; checks the tenant, the app registration —
a single-tenant app exists only in its home tenant, so asking the botframework.com tenant for it
fails with AADSTS700016 as Entra does —, the secret and the scope (Graph's or the Bot
Connector's); answers with Entra's AADSTS errors; issues RS256 JWTs with Entra's v1 claims
`aud`, `iss` https://sts.windows.net/{tid}/, `tid`, `appid`, and `expires_in`; counts requests).
Graph accepts only its own audience from its own tenant; `bot_connector_auth` hands the Bot
Connector fake what it needs to check the bot's tokens.
Graph v1.0: `GET /teams/{id}/channels[/{channel}]`, `GET /teams/{id}/members` (with the
`aadUserConversationMember/userId eq` filter), `POST /users/{id}/checkMemberGroups` (transitive,
at most 20 ids), `POST/GET /subscriptions`,
`PATCH/DELETE /subscriptions/{id}`, `POST /subscriptions/{id}/reauthorize`, with the bearer check,
application roles (403 "Missing role permissions…"), the 4,320-minute maximum, the rule that
lifecycleNotificationUrl is required beyond 1 hour, lazy deletion of expired subscriptions (404),
and — when `validate_urls` is on — the validation handshake against notificationUrl and
lifecycleNotificationUrl, as real Graph does before it answers 201. It can deliver channel change
notifications and lifecycle events to the subscribed URLs. Every request is recorded; `fail_next`
scripts 429 (Retry-After), 5xx, or any other answer.

msal insists on an https authority, so `running_entra_graph()` serves it over TLS with a
throwaway CA (`make_test_tls`); give clients `tls.client` as their SSL context. Time comes from
the injected clock (token and subscription expiry); nothing here sleeps.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import itertools
import json
import re
import secrets
import ssl
import tempfile
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Mapping
from urllib.parse import quote, quote_plus

import aiohttp
import jwt
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

TENANT_ID = "7f3c1a52-3d2e-4b8a-9d61-0c8e2f4a9b10"
CLIENT_ID = "0b4e8a1c-5f6d-4e2a-8c3b-9a7d6e5f4c21"
CLIENT_SECRET = "fake~Secret.Value_9x8y7z"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
GRAPH_AUDIENCE = "https://graph.microsoft.com"
# The Bot Connector's scope and the botframework.com tenant a multi-tenant bot asks (Learn,
# "Authentication with the Bot Connector API": token from login.microsoftonline.com/botframework.com,
# scope https://api.botframework.com/.default; its example token's issuer is
# https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/, the botframework.com tenant).
BOT_FRAMEWORK_SCOPE = "https://api.botframework.com/.default"
BOT_FRAMEWORK_AUDIENCE = "https://api.botframework.com"
BOTFRAMEWORK_TENANT_ID = "d6d49420-f39b-4df7-a1dc-d59a935871db"
ENTRA_HOST = "login.microsoftonline.com"
SIGNING_KID = "fake-entra-1"
MAX_SUBSCRIPTION_MINUTES = 4320
CHANNEL_ROLES = ("Channel.ReadBasic.All", "ChannelSettings.Read.All", "ChannelSettings.ReadWrite.All")
TEAM_MEMBER_ROLES = ("TeamMember.Read.All", "TeamMember.ReadWrite.All")
# checkMemberGroups for another user, app-only: a user-read role AND a group-read role (Learn).
USER_READ_ROLES = ("User.Read.All", "Directory.Read.All")
GROUP_READ_ROLES = ("GroupMember.Read.All", "Group.Read.All", "Directory.Read.All")

Clock = Callable[[], dt.datetime]


# --- TLS ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TestTls:
    """A throwaway CA and a 127.0.0.1/localhost certificate: `server` for sites, `client` for sessions."""

    __test__ = False  # not a pytest test class
    server: ssl.SSLContext
    client: ssl.SSLContext


def make_test_tls(*names: str) -> TestTls:
    """Generate a CA and a server certificate (EC P-256, valid one day either side of now) for
    127.0.0.1, localhost and `names` (real host names a test redirects to this machine)."""
    now = dt.datetime.now(dt.timezone.utc)  # certificate validity is checked against the real clock
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ml-connector test CA")])
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), *map(x509.DNSName, names), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    with tempfile.TemporaryDirectory() as folder:
        cert_file, key_file = Path(folder, "cert.pem"), Path(folder, "key.pem")
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=ca_cert.public_bytes(serialization.Encoding.PEM).decode())
    return TestTls(server=server, client=client)


# --- tokens ------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _signing_key() -> rsa.RSAPrivateKey:
    """The fake Entra's token-signing key (one per test run: generating RSA keys is slow)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def entra_jwks() -> dict[str, Any]:
    """The fake Entra's public signing keys, as a JWKS document."""
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(_signing_key().public_key()))
    public.update({"kid": SIGNING_KID, "use": "sig"})
    return {"keys": [public]}


def entra_claims(token: str, *, audience: str, now: dt.datetime) -> dict[str, Any] | None:
    """The claims of a token this fake Entra issued for `audience` and still valid at `now`, else None."""
    try:
        claims = jwt.decode(token, _signing_key().public_key(), algorithms=["RS256"], audience=audience,
                            options={"verify_exp": False, "verify_nbf": False, "verify_iat": False})
    except jwt.PyJWTError:
        return None
    tenant = claims.get("tid")
    if claims.get("iss") != f"https://sts.windows.net/{tenant}/" or not claims.get("appid"):
        return None
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= now.timestamp():
        return None
    return claims


@dataclass
class AppRegistration:
    """An Entra app registration: single-tenant (exists in its home tenant only) or multi-tenant."""

    client_id: str
    secret: str = field(repr=False)
    home_tenant: str
    multi_tenant: bool = False


# --- records -----------------------------------------------------------------------------------
@dataclass
class RecordedRequest:
    """One request as the fake received it (`path` decoded, `raw_path` as sent) and the status it got."""

    method: str
    path: str
    raw_path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes
    status: int | None = None  # set once the fake has answered

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


@dataclass(frozen=True)
class Handshake:
    """One validation request the fake sent to a notification or lifecycle URL."""

    url: str
    token: str
    status: int | None
    body: str | None
    content_type: str | None
    ok: bool


@dataclass(frozen=True)
class Delivery:
    """One notification POST the fake made, with the status the receiver answered."""

    url: str
    body: Mapping[str, Any]
    status: int


@dataclass
class FakeSubscription:
    """A subscription as the fake Graph keeps it."""

    id: str
    resource: str
    team_id: str
    change_type: str
    notification_url: str
    lifecycle_url: str | None
    client_state: str | None
    expires_at: dt.datetime


@dataclass
class _Fault:
    method: str | None
    path: re.Pattern[str]
    status: int
    retry_after: str | None
    body: Any
    remaining: int


_GRAPH_CODES = {400: "BadRequest", 401: "InvalidAuthenticationToken", 403: "Forbidden", 404: "NotFound",
                409: "Conflict", 429: "TooManyRequests", 500: "InternalServerError", 502: "BadGateway",
                503: "ServiceUnavailable", 504: "GatewayTimeout"}
_MEMBER_FILTER = re.compile(r"^\(?microsoft\.graph\.aadUserConversationMember/userId eq '([^']+)'\)?$")
_CHANNELS_RESOURCE = re.compile(r"^/?teams/([^/]+)/channels$", re.IGNORECASE)


class FakeEntraGraph:
    """State and aiohttp app of the fake; see the module docstring for what it implements."""

    def __init__(
        self,
        *,
        clock: Clock,
        tenant_id: str = TENANT_ID,
        client_id: str = CLIENT_ID,
        client_secret: str = CLIENT_SECRET,
        token_lifetime: int = 3599,
        validate_urls: bool = True,
        require_https: bool = True,
        client_ssl: ssl.SSLContext | None = None,
        channel_page_size: int | None = None,
    ) -> None:
        self.clock = clock
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_lifetime = token_lifetime
        self.validate_urls = validate_urls
        self.require_https = require_https
        self.channel_page_size = channel_page_size
        self.consented = True
        self.roles: set[str] = {"Channel.ReadBasic.All"}
        self.teams: dict[str, dict[str, dict[str, Any]]] = {}
        self.team_members: dict[str, dict[str, dict[str, Any]]] = {}  # team → user id → conversationMember
        self.groups: dict[str, set[str]] = {}  # group id → member ids (users or nested groups)
        self.users: set[str] = set()
        self.member_page_size: int | None = None
        self.subscriptions: dict[str, FakeSubscription] = {}
        self.tokens: dict[str, dt.datetime] = {}  # token → expiry (fake clock)
        self.apps: dict[str, AppRegistration] = {client_id: AppRegistration(client_id, client_secret, tenant_id)}
        # Tenant names in a token URL → tenant ids (botframework.com is where multi-tenant bots ask).
        self.tenants: dict[str, str] = {tenant_id: tenant_id, "botframework.com": BOTFRAMEWORK_TENANT_ID,
                                        BOTFRAMEWORK_TENANT_ID: BOTFRAMEWORK_TENANT_ID}
        self.requests: list[RecordedRequest] = []
        self.handshakes: list[Handshake] = []
        self.deliveries: list[Delivery] = []
        self._faults: list[_Fault] = []
        self._client_ssl = client_ssl
        self._http: aiohttp.ClientSession | None = None
        self._serial = itertools.count(1)
        self.app = self._build_app()

    # --- scripting -------------------------------------------------------------------------
    def add_team(self, team_id: str, channels: Mapping[str, str] | None = None) -> None:
        """Create a team with channels {channel id: display name} (General by default)."""
        self.teams[team_id] = {}
        for channel_id, name in (channels or {f"19:{uuid.uuid4().hex}@thread.tacv2": "General"}).items():
            self.add_channel(team_id, name, channel_id)

    def add_channel(self, team_id: str, name: str, channel_id: str | None = None,
                    membership_type: str = "standard") -> str:
        """Add a channel; returns its id."""
        channel_id = channel_id or f"19:{uuid.uuid4().hex}@thread.tacv2"
        self.teams[team_id][channel_id] = {
            "id": channel_id, "createdDateTime": _graph_time(self.clock()), "displayName": name,
            "description": None, "isFavoriteByDefault": None, "email": "", "tenantId": self.tenant_id,
            "webUrl": f"https://teams.microsoft.com/l/channel/{quote(channel_id, safe='')}/{quote(name)}"
                      f"?groupId={team_id}&tenantId={self.tenant_id}",
            "membershipType": membership_type,
        }
        return channel_id

    def register_app(self, client_id: str, secret: str, *, multi_tenant: bool = False, home_tenant: str | None = None) -> None:
        """Register (or replace) an app: single-tenant in `home_tenant` (default: this fake's) or multi-tenant."""
        self.apps[client_id] = AppRegistration(client_id, secret, home_tenant or self.tenant_id, multi_tenant)

    def rename_channel(self, team_id: str, channel_id: str, name: str) -> None:
        """Give a channel a new display name."""
        self.teams[team_id][channel_id]["displayName"] = name

    def delete_channel(self, team_id: str, channel_id: str) -> None:
        """Delete a channel."""
        del self.teams[team_id][channel_id]

    def fail_next(self, path: str, status: int, *, method: str | None = None, count: int = 1,
                  retry_after: str | int | None = None, body: Any = None) -> None:
        """Answer the next `count` requests whose path matches regex `path` with `status`.
        `body` defaults to a Graph error object; a dict is sent as JSON (an Entra OAuth error…),
        a str as text/html."""
        self._faults.append(_Fault(method, re.compile(path), status,
                                   None if retry_after is None else str(retry_after), body, count))

    def revoke_tokens(self) -> None:
        """Make every issued token invalid (Graph then answers 401)."""
        self.tokens.clear()

    def add_team_member(self, team_id: str, user_id: str, name: str = "Member", *, roles: tuple[str, ...] = ()) -> None:
        """Put an Entra user in a team; `roles` is () for a member, ("owner",) or ("guest",)."""
        self.users.add(user_id)
        self.team_members.setdefault(team_id, {})[user_id] = {
            "@odata.type": "#microsoft.graph.aadUserConversationMember",
            "id": f"MCMjMSMj{uuid.uuid5(uuid.NAMESPACE_OID, team_id + user_id).hex}",
            "roles": list(roles), "displayName": name, "visibleHistoryStartDateTime": "0001-01-01T00:00:00Z",
            "userId": user_id, "email": f"{name.replace(' ', '.').lower()}@contoso.example", "tenantId": self.tenant_id,
        }

    def add_group(self, group_id: str, members: tuple[str, ...] = ()) -> None:
        """An Entra group whose members are users or other groups (membership is transitive)."""
        self.groups[group_id] = set(members)
        self.users.update(m for m in members if m not in self.groups)

    def drop_subscription(self, subscription_id: str) -> None:
        """Graph deleted the subscription on its own (missed renewal, removal)."""
        self.subscriptions.pop(subscription_id, None)

    @property
    def token_requests(self) -> int:
        """How many token requests reached the token endpoint."""
        return sum(1 for r in self.requests if r.method == "POST" and r.path.endswith("/oauth2/v2.0/token"))

    def graph_requests(self, method: str | None = None, path_prefix: str = "/v1.0/", *,
                       authorized: bool = False) -> list[RecordedRequest]:
        """Recorded Graph requests, optionally of one method, under a path prefix, and (with
        `authorized`) leaving out those refused with 401 for an expired or revoked token."""
        return [r for r in self.requests
                if r.path.startswith(path_prefix) and (method is None or r.method == method)
                and not (authorized and r.status == 401)]

    def live_subscriptions(self) -> list[FakeSubscription]:
        """Subscriptions Graph still has (expired ones are gone)."""
        self._purge_expired()
        return list(self.subscriptions.values())

    # --- delivering notifications ----------------------------------------------------------
    async def notify_channel_change(self, team_id: str, channel_id: str, change_type: str) -> list[int]:
        """POST a change notification (without resource data) to every subscription on the team's
        channels that asked for `change_type`; returns the receivers' statuses."""
        statuses = []
        resource = f"teams('{team_id}')/channels('{channel_id}')"
        for sub in self.live_subscriptions():
            if sub.team_id != team_id or change_type not in sub.change_type.split(","):
                continue
            item = {
                "subscriptionId": sub.id, "subscriptionExpirationDateTime": _graph_time(sub.expires_at),
                "changeType": change_type, "resource": resource, "clientState": sub.client_state,
                "tenantId": self.tenant_id,
                "resourceData": {"id": channel_id, "@odata.type": "#Microsoft.Graph.Channel", "@odata.id": resource},
            }
            statuses.append(await self._deliver(sub.notification_url, {"value": [item]}))
        return statuses

    async def send_lifecycle_event(self, subscription_id: str, event: str) -> int:
        """POST a lifecycle event to the subscription's lifecycle URL; `subscriptionRemoved`
        also deletes the subscription, as Graph does. Returns the receiver's status."""
        sub = self.subscriptions[subscription_id]
        if event == "subscriptionRemoved":
            self.drop_subscription(subscription_id)
        item = {
            "subscriptionId": sub.id, "subscriptionExpirationDateTime": _graph_time(sub.expires_at),
            "tenantId": self.tenant_id, "clientState": sub.client_state, "lifecycleEvent": event,
        }
        assert sub.lifecycle_url, "subscription has no lifecycleNotificationUrl"
        return await self._deliver(sub.lifecycle_url, {"value": [item]})

    async def _deliver(self, url: str, body: Mapping[str, Any]) -> int:
        async with self._session().post(
            url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json; charset=utf-8"}
        ) as response:
            await response.read()
            self.deliveries.append(Delivery(url, body, response.status))
            return response.status

    # --- the app ---------------------------------------------------------------------------
    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._record_and_fault])
        app.cleanup_ctx.append(self._client_session)
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._discovery)
        app.router.add_get("/common/discovery/instance", self._instance_discovery)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        app.router.add_get("/v1.0/teams/{team}/channels", self._list_channels)
        app.router.add_get("/v1.0/teams/{team}/channels/{channel}", self._get_channel)
        app.router.add_post("/v1.0/subscriptions", self._create_subscription)
        app.router.add_get("/v1.0/subscriptions", self._list_subscriptions)
        app.router.add_patch("/v1.0/subscriptions/{id}", self._renew_subscription)
        app.router.add_delete("/v1.0/subscriptions/{id}", self._delete_subscription)
        app.router.add_post("/v1.0/subscriptions/{id}/reauthorize", self._reauthorize_subscription)
        app.router.add_get("/v1.0/teams/{team}/members", self._list_team_members)
        app.router.add_post("/v1.0/users/{user}/checkMemberGroups", self._check_member_groups)
        return app

    async def _client_session(self, _app: web.Application) -> AsyncIterator[None]:
        self._http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=self._client_ssl or True))
        yield
        await self._http.close()

    def _session(self) -> aiohttp.ClientSession:
        assert self._http is not None, "the fake's app is not running"
        return self._http

    @web.middleware
    async def _record_and_fault(self, request: web.Request, handler: Any) -> web.StreamResponse:
        record = RecordedRequest(request.method, request.path, request.raw_path, dict(request.query),
                                 dict(request.headers), await request.read())
        self.requests.append(record)
        response = self._scripted(request) or await handler(request)
        record.status = response.status
        return response

    def _scripted(self, request: web.Request) -> web.Response | None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.path.search(request.path) and fault.method in (None, request.method):
                fault.remaining -= 1
                headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                if isinstance(fault.body, str):  # raw text: an HTML error page, a proxy's answer
                    return web.Response(text=fault.body, status=fault.status, headers=headers, content_type="text/html")
                payload = fault.body if fault.body is not None else _graph_error(
                    _GRAPH_CODES.get(fault.status, "UnknownError"), "Scripted failure.")
                return web.json_response(payload, status=fault.status, headers=headers)
        return None

    # --- Entra -----------------------------------------------------------------------------
    async def _discovery(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        if tenant not in self.tenants:
            return _oauth_error(400, "invalid_tenant", 90002,
                                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
                                "and are signing into the correct cloud.")
        base = f"{request.scheme}://{request.host}/{tenant}"
        return web.json_response({
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "issuer": f"{request.scheme}://{request.host}/{self.tenants[tenant]}/v2.0",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "tenant_region_scope": "EU",
        })

    async def _instance_discovery(self, request: web.Request) -> web.Response:
        # msal asks which hosts are aliases of an authority after an error answer (msal 1.39's
        # authority.py; the shape is Entra's instance-discovery document).
        hosts = [ENTRA_HOST, "login.windows.net", "login.microsoft.com", "sts.windows.net"]
        return web.json_response({
            "tenant_discovery_endpoint": f"https://{ENTRA_HOST}/common/v2.0/.well-known/openid-configuration",
            "api-version": "1.1",
            "metadata": [{"preferred_network": ENTRA_HOST, "preferred_cache": "login.windows.net", "aliases": hosts}],
        })

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        tenant = request.match_info["tenant"]
        tenant_id = self.tenants.get(tenant)
        if tenant_id is None:
            return _oauth_error(400, "invalid_request", 90002, f"Tenant '{tenant}' not found.")
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
        app = self.apps.get(str(form.get("client_id")))
        if app is None or not (app.multi_tenant or app.home_tenant == tenant_id):
            # A single-tenant app asked for in another tenant (a single-tenant bot configured as
            # MultiTenant asks botframework.com) is, to Entra, an app that does not exist there.
            return _oauth_error(400, "unauthorized_client", 700016,
                                f"Application with identifier '{form.get('client_id')}' was not found in the "
                                f"directory '{tenant}'. This can happen if the application has not been installed "
                                "by the administrator of the tenant or consented to by any user in the tenant.")
        if form.get("client_secret") != app.secret:
            return _oauth_error(401, "invalid_client", 7000215,
                                "Invalid client secret provided. Ensure the secret being sent in the request is the "
                                f"client secret value, not the client secret ID, for a secret added to app "
                                f"'{app.client_id}'.")
        if not self.consented:
            return _oauth_error(400, "invalid_client", 7000229,
                                f"The client application {app.client_id} is missing service principal in the "
                                f"tenant {tenant}.")
        audience = {GRAPH_SCOPE: GRAPH_AUDIENCE, BOT_FRAMEWORK_SCOPE: BOT_FRAMEWORK_AUDIENCE}.get(str(form.get("scope")))
        if audience is None:
            return _oauth_error(400, "invalid_scope", 1002012, f"The provided value for scope {form.get('scope')} "
                                "is not valid.")
        now = self.clock()
        expiry = now + dt.timedelta(seconds=self.token_lifetime)
        claims = {"aud": audience, "iss": f"https://sts.windows.net/{tenant_id}/", "tid": tenant_id, "appid": app.client_id,
                  "appidacr": "1", "ver": "1.0", "iat": int(now.timestamp()), "nbf": int(now.timestamp()),
                  "exp": int(expiry.timestamp()), "jti": f"{next(self._serial)}-{secrets.token_hex(8)}"}
        token = jwt.encode(claims, _signing_key(), algorithm="RS256", headers={"kid": SIGNING_KID})
        self.tokens[token] = expiry
        return web.json_response({"token_type": "Bearer", "expires_in": self.token_lifetime,
                                  "ext_expires_in": self.token_lifetime, "access_token": token})

    # --- Graph -----------------------------------------------------------------------------
    def _refusal(self, request: web.Request, roles: tuple[str, ...] = ()) -> web.Response | None:
        """401 for a missing/unknown/expired bearer token, 403 for a missing application role."""
        auth = request.headers.get("Authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
        expiry = self.tokens.get(token or "")
        if expiry is None or expiry <= self.clock():
            return web.json_response(_graph_error("InvalidAuthenticationToken",
                                                  "Access token has expired or is not yet valid."), status=401)
        claims = entra_claims(token or "", audience=GRAPH_AUDIENCE, now=self.clock())
        if claims is None or claims["tid"] != self.tenant_id:
            # Graph takes only tokens for itself, from the tenant whose teams it serves.
            return web.json_response(_graph_error("InvalidAuthenticationToken",
                                                  "Access token validation failure. Invalid audience."), status=401)
        if roles and not self.roles.intersection(roles):
            message = (f"Missing role permissions on the request. API requires one of '{', '.join(roles)}'. "
                       f"Roles on the request '{', '.join(sorted(self.roles))}'.")
            return web.json_response(_graph_error("Forbidden", message), status=403)
        return None

    async def _list_channels(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request, CHANNEL_ROLES)
        if refusal:
            return refusal
        team_id = request.match_info["team"]
        if team_id not in self.teams:
            return _not_found(f"No team found with Group Id {team_id}")
        channels = list(self.teams[team_id].values())
        start = int(request.query.get("$skiptoken", "0"))
        size = self.channel_page_size or len(channels) or 1
        page = {"@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#teams('{team_id}')/channels",
                "value": channels[start:start + size]}
        if start + size < len(channels):
            page["@odata.nextLink"] = str(request.url.with_query({"$skiptoken": str(start + size)}))
        return web.json_response(page)

    async def _get_channel(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request, CHANNEL_ROLES)
        if refusal:
            return refusal
        team = self.teams.get(request.match_info["team"])
        channel = team.get(request.match_info["channel"]) if team is not None else None
        if channel is None:
            return _not_found("Channel not found")
        return web.json_response(channel)

    async def _create_subscription(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request)
        if refusal:
            return refusal
        body = await request.json()
        resource = str(body.get("resource", ""))
        match = _CHANNELS_RESOURCE.match(resource)
        if match is None:
            return _bad_request(f"Resource '{resource}' is not supported by this fake.")
        refusal = self._refusal(request, CHANNEL_ROLES)
        if refusal:
            return refusal
        team_id = match.group(1)
        if team_id not in self.teams:
            return _not_found(f"No team found with Group Id {team_id}")
        for key in ("changeType", "notificationUrl", "expirationDateTime"):
            if not body.get(key):
                return _bad_request(f"{key} is a required property.")
        state = body.get("clientState")
        if state is not None and len(state) > 128:
            return _bad_request("clientState must be at most 128 characters.")
        expiry, problem = self._check_expiry(body["expirationDateTime"])
        if problem:
            return problem
        lifecycle = body.get("lifecycleNotificationUrl")
        if expiry - self.clock() > dt.timedelta(hours=1) and not lifecycle:
            return _bad_request("lifecycleNotificationUrl is a required property for subscription creation on "
                                "this resource when the expirationDateTime value is set to greater than 1 hour.")
        for url in filter(None, (body["notificationUrl"], lifecycle)):
            if self.require_https and not url.startswith("https://"):
                return _bad_request(f"Subscription validation request failed. The notification URL must use "
                                    f"HTTPS: {url}")
            if self.validate_urls and not await self._handshake(url):
                return _bad_request("Subscription validation request failed. Notification endpoint must respond "
                                    "with 200 OK to validation request.")
        sub = FakeSubscription(str(uuid.uuid4()), resource, team_id, body["changeType"], body["notificationUrl"],
                               lifecycle, state, expiry)
        self.subscriptions[sub.id] = sub
        return web.json_response(self._subscription_json(sub, include_state=True), status=201)

    async def _list_subscriptions(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request)
        if refusal:
            return refusal
        return web.json_response({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscriptions",
                                  "value": [self._subscription_json(s) for s in self.live_subscriptions()]})

    async def _renew_subscription(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request)
        if refusal:
            return refusal
        sub = self._live(request.match_info["id"])
        if sub is None:
            return _not_found(f"The object was not found. subscription {request.match_info['id']}")
        expiry, problem = self._check_expiry((await request.json()).get("expirationDateTime", ""))
        if problem:
            return problem
        sub.expires_at = expiry
        return web.json_response(self._subscription_json(sub))

    async def _delete_subscription(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request)
        if refusal:
            return refusal
        if self._live(request.match_info["id"]) is None:
            return _not_found("The object was not found.")
        del self.subscriptions[request.match_info["id"]]
        return web.Response(status=204)

    async def _reauthorize_subscription(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request)
        if refusal:
            return refusal
        if self._live(request.match_info["id"]) is None:
            return _not_found("The object was not found.")
        return web.Response(status=204)

    async def _list_team_members(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request, TEAM_MEMBER_ROLES)
        if refusal:
            return refusal
        team_id = request.match_info["team"]
        if team_id not in self.teams:
            return _not_found(f"No team found with Group Id {team_id}")
        members = list(self.team_members.get(team_id, {}).values())
        member_filter = request.query.get("$filter")
        if member_filter is not None:
            match = _MEMBER_FILTER.match(member_filter)
            if match is None:
                return _bad_request(f"Filter '{member_filter}' is not supported by this fake.")
            members = [m for m in members if m["userId"].lower() == match.group(1).lower()]
        start = int(request.query.get("$skiptoken", "0"))
        size = self.member_page_size or len(members) or 1
        page: dict[str, Any] = {"@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#teams('{team_id}')/members",
                                "@odata.count": len(members), "value": members[start:start + size]}
        if start + size < len(members):
            page["@odata.nextLink"] = str(request.url.update_query({"$skiptoken": str(start + size)}))
        return web.json_response(page)

    async def _check_member_groups(self, request: web.Request) -> web.Response:
        refusal = self._refusal(request, USER_READ_ROLES) or self._refusal(request, GROUP_READ_ROLES)
        if refusal:
            return refusal
        user_id = request.match_info["user"]
        if user_id not in self.users:
            return web.json_response(_graph_error(
                "Request_ResourceNotFound", f"Resource '{user_id}' does not exist or one of its queried reference-property "
                                            "objects are not present."), status=404)
        group_ids = (await request.json()).get("groupIds")
        if not isinstance(group_ids, list) or not 1 <= len(group_ids) <= 20:
            return _bad_request("groupIds must list between 1 and 20 group ids.")
        return web.json_response({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(Edm.String)",
                                  "value": [g for g in group_ids if self._in_group(user_id, g, set())]})

    def _in_group(self, member: str, group_id: str, seen: set[str]) -> bool:
        if group_id in seen or group_id not in self.groups:
            return False
        seen.add(group_id)
        members = self.groups[group_id]
        return member in members or any(self._in_group(member, nested, seen) for nested in members)

    # --- helpers ---------------------------------------------------------------------------
    def _check_expiry(self, text: str) -> tuple[dt.datetime, web.Response | None]:
        try:
            expiry = dt.datetime.fromisoformat(text)
        except (TypeError, ValueError):
            return self.clock(), _bad_request(f"expirationDateTime '{text}' is not a valid date time.")
        if expiry.tzinfo is None:
            expiry = expiry.replace(tzinfo=dt.timezone.utc)
        now = self.clock()
        if expiry <= now:
            return expiry, _bad_request("Subscription expiration must be in the future.")
        if expiry > now + dt.timedelta(minutes=MAX_SUBSCRIPTION_MINUTES):
            return expiry, _bad_request(f"Subscription expiration can only be {MAX_SUBSCRIPTION_MINUTES} minutes "
                                        "in the future.")
        return expiry, None

    async def _handshake(self, url: str) -> bool:
        token = f"Validation: Testing client application reachability for subscription Request-Id: {uuid.uuid4()}"
        target = f"{url}{'&' if '?' in url else '?'}validationToken={quote_plus(token)}"
        status = text = content_type = None
        try:
            async with self._session().post(target, data=b"", headers={"Content-Type": "text/plain; charset=utf-8"},
                                            timeout=aiohttp.ClientTimeout(total=10)) as response:
                status, text, content_type = response.status, await response.text(), response.content_type
        except (aiohttp.ClientError, TimeoutError):
            pass  # recorded below as a failed handshake, like Graph's "endpoint unreachable"
        ok = status == 200 and text == token and content_type == "text/plain"
        self.handshakes.append(Handshake(url, token, status, text, content_type, ok))
        return ok

    def _live(self, subscription_id: str) -> FakeSubscription | None:
        self._purge_expired()
        return self.subscriptions.get(subscription_id)

    def _purge_expired(self) -> None:
        now = self.clock()
        for sub_id in [s.id for s in self.subscriptions.values() if s.expires_at <= now]:
            del self.subscriptions[sub_id]

    def _subscription_json(self, sub: FakeSubscription, *, include_state: bool = False) -> dict[str, Any]:
        return {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity",
            "id": sub.id, "resource": sub.resource, "applicationId": self.client_id,
            "changeType": sub.change_type, "clientState": sub.client_state if include_state else None,
            "notificationUrl": sub.notification_url, "lifecycleNotificationUrl": sub.lifecycle_url,
            "expirationDateTime": _graph_time(sub.expires_at),
            "creatorId": str(uuid.uuid5(uuid.NAMESPACE_URL, self.client_id)),
            "includeResourceData": False, "latestSupportedTlsVersion": "v1_2", "encryptionCertificate": None,
            "encryptionCertificateId": None, "notificationUrlAppId": None,
        }


# --- running it --------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunningEntraGraph:
    """A started fake: `authority_host` for GraphCredentials, `graph_url` for GraphClient."""

    fake: FakeEntraGraph
    url: str
    tls: TestTls

    @property
    def authority_host(self) -> str:
        """The Entra side (https origin)."""
        return self.url

    @property
    def graph_url(self) -> str:
        """The Graph v1.0 base URL."""
        return f"{self.url}/v1.0"


@asynccontextmanager
async def running_entra_graph(
    *, clock: Clock, tls: TestTls | None = None, **options: Any
) -> AsyncIterator[RunningEntraGraph]:
    """Serve a FakeEntraGraph over TLS on a random 127.0.0.1 port for the duration of the block."""
    tls = tls or make_test_tls()
    fake = FakeEntraGraph(clock=clock, client_ssl=tls.client, **options)
    server = TestServer(fake.app, host="127.0.0.1")
    await server.start_server(ssl=tls.server)
    try:
        yield RunningEntraGraph(fake, str(server.make_url("")).rstrip("/"), tls)
    finally:
        await server.close()


def _graph_time(moment: dt.datetime) -> str:
    """Graph's own style: UTC with seven fractional digits and Z."""
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def _graph_error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "innerError": {
        "date": "2026-11-23T14:00:00", "request-id": str(uuid.uuid4()), "client-request-id": str(uuid.uuid4())}}}


def _oauth_error(status: int, error: str, code: int, description: str) -> web.Response:
    trace = uuid.uuid4()
    return web.json_response({
        "error": error,
        "error_description": f"AADSTS{code}: {description} Trace ID: {trace} Correlation ID: {uuid.uuid4()} "
                             "Timestamp: 2026-11-23 14:00:00Z",
        "error_codes": [code], "timestamp": "2026-11-23 14:00:00Z", "trace_id": str(trace),
        "correlation_id": str(uuid.uuid4()), "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }, status=status)


def _not_found(message: str) -> web.Response:
    return web.json_response(_graph_error("NotFound", message), status=404)


def _bad_request(message: str) -> web.Response:
    return web.json_response(_graph_error("ValidationError", message), status=400)
