"""API sessions: one getAPISession per (sender, company, user, entity), shared, refreshed before it lapses.

- Login is a request whose only function is ``getAPISession`` (entity via login ``locationid``);
  every later request goes to the ``endpoint`` it returned, authenticated by the session id. That
  endpoint is trusted only over https on an Intacct host (``intacct.com`` or a subdomain), or on
  the very scheme and host (and port) of the configured login URL (a sandbox, a test gateway, a
  proxy the operator chose); anything else is refused before the session id goes anywhere.
- A session is replaced proactively when 49 minutes have passed since it was issued or when
  ``now`` is within 5 minutes of the last ``sessiontimeout`` the gateway sent (it slides forward
  with every answer, and we keep the newest), whichever comes first.
- An "Invalid session" answer drops the session, logs in once and replays the request once.
- Concurrent callers share one login: the per-key lock is taken only when a login is needed.
- A refused login (any `AuthenticationError`) is never retried; for 15 minutes later callers get
  the same error without another attempt, so a poller cannot lock the Web Services user out.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Callable, Sequence
from urllib.parse import urlsplit

from intacct.credentials import IntacctCredentials
from intacct.errors import AuthenticationError, InvalidSessionError, MalformedResponseError, UntrustedEndpointError
from intacct.protocol import GET_API_SESSION, Function, LoginAuth, Response, SessionAuth, build_request, get_api_session
from intacct.transport import Transport

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

REFRESH_AFTER = timedelta(minutes=49)
EXPIRY_MARGIN = timedelta(minutes=5)
LOGIN_FAILURE_COOLDOWN = timedelta(minutes=15)
INTACCT_DOMAIN = "intacct.com"


def trusted_endpoint(endpoint: str, login_url: str) -> bool:
    """Whether the session requests may go to `endpoint` (see the module docstring)."""
    parts = urlsplit(endpoint)
    try:
        host, port = (parts.hostname or "").lower(), parts.port
        login = urlsplit(login_url)
        login_host, login_port = (login.hostname or "").lower(), login.port
    except ValueError:  # a port that is not a number
        return False
    if not host or parts.username is not None or parts.password is not None:
        return False
    if parts.scheme == "https" and (host == INTACCT_DOMAIN or host.endswith("." + INTACCT_DOMAIN)):
        return True
    return (parts.scheme, host, port) == (login.scheme, login_host, login_port)


@dataclass(frozen=True, slots=True)
class SessionKey:
    """What a session belongs to; legal entities never share one."""

    sender_id: str
    company_id: str
    user_id: str
    entity_id: str | None

    @classmethod
    def of(cls, credentials: IntacctCredentials) -> SessionKey:
        """The key of these credentials."""
        return cls(credentials.sender_id, credentials.company_id, credentials.user_id, credentials.entity_id or None)


@dataclass(frozen=True, slots=True)
class Session:
    """An API session as getAPISession returned it, plus when it must be replaced."""

    session_id: str = field(repr=False)
    endpoint: str
    location_id: str | None
    issued_at: datetime
    expires_at: datetime | None = None

    def usable_at(self, now: datetime) -> bool:
        """Whether the session may still be used at ``now`` (see the module docstring)."""
        if now >= self.issued_at + REFRESH_AFTER:
            return False
        return self.expires_at is None or now < self.expires_at - EXPIRY_MARGIN


class SessionCache:
    """Sessions (and recent login refusals) by key; share one between clients of the same user."""

    def __init__(self) -> None:
        self._sessions: dict[SessionKey, Session] = {}
        self._locks: dict[SessionKey, asyncio.Lock] = {}
        self._refusals: dict[SessionKey, tuple[datetime, AuthenticationError]] = {}

    def get(self, key: SessionKey) -> Session | None:
        """The cached session of ``key``, usable or not."""
        return self._sessions.get(key)

    def put(self, key: SessionKey, session: Session) -> None:
        """Cache a new session for ``key``."""
        self._sessions[key] = session
        self._refusals.pop(key, None)

    def discard(self, key: SessionKey, session_id: str) -> None:
        """Forget the session of ``key`` if it is still this one (a newer one is kept)."""
        current = self._sessions.get(key)
        if current is not None and current.session_id == session_id:
            del self._sessions[key]

    def extend(self, key: SessionKey, session_id: str, expires_at: datetime) -> None:
        """Record the latest sessiontimeout seen for this session."""
        current = self._sessions.get(key)
        if current is not None and current.session_id == session_id and current.expires_at != expires_at:
            self._sessions[key] = replace(current, expires_at=expires_at)

    def lock(self, key: SessionKey) -> asyncio.Lock:
        """The lock that makes logins for ``key`` single-flight."""
        return self._locks.setdefault(key, asyncio.Lock())

    def refusal(self, key: SessionKey) -> tuple[datetime, AuthenticationError] | None:
        """When and how the last login of ``key`` was refused, if it was."""
        return self._refusals.get(key)

    def refuse(self, key: SessionKey, at: datetime, error: AuthenticationError) -> None:
        """Remember a refused login."""
        self._refusals[key] = (at, error)


class SessionManager:
    """Sends requests for one set of credentials with a valid session, logging in when needed."""

    def __init__(
        self,
        credentials: IntacctCredentials,
        *,
        transport: Transport,
        cache: SessionCache,
        login_url: str,
        clock: Clock,
    ) -> None:
        self._credentials = credentials
        self._transport = transport
        self._cache = cache
        self._login_url = login_url
        self._clock = clock
        self.key = SessionKey.of(credentials)

    async def session(self) -> Session:
        """A usable session, logging in (once, whoever else is waiting) when there is none."""
        session = self._cache.get(self.key)
        if session is not None and session.usable_at(self._clock()):
            return session
        async with self._cache.lock(self.key):
            # Whoever held the lock before us may have logged in already.
            session = self._cache.get(self.key)
            now = self._clock()
            if session is not None and session.usable_at(now):
                return session
            refusal = self._cache.refusal(self.key)
            if refusal is not None and now < refusal[0] + LOGIN_FAILURE_COOLDOWN:
                raise _repeat(refusal[1], refusal[0] + LOGIN_FAILURE_COOLDOWN)
            try:
                session = await self._login(now)
            except AuthenticationError as exc:
                self._cache.refuse(self.key, now, exc)
                log.error("intacct login refused for company %s user %s: %s", self.key.company_id, self.key.user_id, exc)
                raise
            self._cache.put(self.key, session)
            return session

    async def send(self, functions: Sequence[Function]) -> Response:
        """Send the functions in one session-authenticated request; raise control/authentication errors.

        On "Invalid session" the session is dropped, a new one is obtained and the request is
        replayed exactly once; a second refusal is raised.
        """
        session = await self.session()
        response = await self._send_once(session, functions)
        if isinstance(response.error, InvalidSessionError):
            log.info("intacct session for company %s was refused as invalid; logging in again and replaying once", self.key.company_id)
            self._cache.discard(self.key, session.session_id)
            session = await self.session()
            response = await self._send_once(session, functions)
        response.raise_for_error()
        if response.auth is not None and response.auth.session_timeout is not None:
            self._cache.extend(self.key, session.session_id, response.auth.session_timeout)
        return response

    async def _send_once(self, session: Session, functions: Sequence[Function]) -> Response:
        credentials = self._credentials
        body = build_request(
            sender_id=credentials.sender_id,
            sender_password=credentials.sender_password,
            auth=SessionAuth(session.session_id),
            functions=functions,
        )
        return await self._transport.exchange(
            session.endpoint,
            body,
            function_names=[f.name for f in functions],
            secrets=(*credentials.secrets, session.session_id),
        )

    async def _login(self, now: datetime) -> Session:
        credentials = self._credentials
        auth = LoginAuth(credentials.user_id, credentials.company_id, credentials.user_password, credentials.entity_id or None)
        body = build_request(
            sender_id=credentials.sender_id,
            sender_password=credentials.sender_password,
            auth=auth,
            functions=[get_api_session()],
        )
        response = await self._transport.exchange(self._login_url, body, function_names=[GET_API_SESSION], secrets=credentials.secrets)
        response.raise_for_error()
        if len(response.results) != 1:
            raise MalformedResponseError(f"getAPISession answered with {len(response.results)} results instead of 1")
        api = next(response.results[0].raise_for_error().rows(), None)
        if not api or not api.get("sessionid"):
            raise MalformedResponseError("getAPISession answer without a sessionid")
        endpoint = (api.get("endpoint") or self._login_url).strip()
        if not trusted_endpoint(endpoint, self._login_url):
            raise UntrustedEndpointError(
                f"getAPISession returned the endpoint {endpoint[:200]!r}, which is neither https on an "
                f"{INTACCT_DOMAIN} host nor the host of INTACCT_ENDPOINT_URL; nothing was sent to it",
                correction="Check INTACCT_ENDPOINT_URL; if a proxy rewrites the gateway's answers, point "
                "INTACCT_ENDPOINT_URL at that proxy so its own host is trusted.",
            )
        expires_at = response.auth.session_timeout if response.auth is not None else None
        session = Session(api["sessionid"], endpoint, api.get("locationid"), issued_at=now, expires_at=expires_at)
        log.info(
            "intacct session issued for company %s user %s%s at %s (gateway timeout %s)",
            self.key.company_id,
            self.key.user_id,
            f" entity {self.key.entity_id}" if self.key.entity_id else "",
            urlsplit(endpoint).netloc,
            expires_at.isoformat() if expires_at else "not given",
        )
        return session


def _repeat(error: AuthenticationError, until: datetime) -> AuthenticationError:
    repeated = copy.copy(error)
    repeated.message = f"{error.message} (login not retried before {until.isoformat(timespec='seconds')})"
    repeated.args = (repeated.message,)
    return repeated
