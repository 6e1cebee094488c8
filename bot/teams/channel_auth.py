"""Inbound authentication on /api/messages: Bot Framework channel tokens checked without blocking.

Teams signs each request to the bot with a JWT that the Bot Framework's OpenID metadata vouches
for. botframework-connector 4.17 checks it itself, but fetches the metadata and keys with a
blocking `requests.get` (no timeout) inside async code, so a slow login.botframework.com froze
the event loop, and an unreachable one turned a token that could never be valid into a 500 with
a traceback. This module does the same checks (Learn, "Authenticate requests from the Bot
Connector service to your bot", step 4; botframework-connector's ChannelValidation and
JwtTokenExtractor) in this order:

1. everything that needs no network: the `Bearer` scheme, a well-formed JWT, RS256, a key id, the
   issuer, the audience (= APP_ID), the validity period (5 minutes of clock skew) and the
   `serviceurl` claim (= the activity's serviceUrl). A token failing any of these is refused
   (ChannelTokenRejectedError, a PermissionError: botbuilder's CloudAdapter answers 401);
2. the signing key named by `kid`, from a cache fetched with aiohttp under a timeout, refreshed
   in the background ahead of its expiry. When no usable keys can be had, the request gets
   SigningKeysUnavailableError (the route answers 503) and the log gets one line per outage;
3. the key's endorsements (the activity's channelId must be among them) and the signature.

Only Bot Framework channel tokens are accepted: the Emulator's and skills' tokens, which
botbuilder also takes, have no business reaching a Teams-only bot.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

import aiohttp
import jwt
from jwt.algorithms import RSAAlgorithm

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

# Learn, "Authenticate requests from the Bot Connector service to your bot", step 2 ("a static URL
# that you can hardcode"); botframework-connector AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL.
OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
# Same page, step 4 requirement 3; AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER.
ISSUER = "https://api.botframework.com"
# The metadata's id_token_signing_alg_values_supported is ["RS256"] (same page, step 2);
# botframework-connector lists RS384/RS512 too but JwtTokenExtractor decodes with RS256 only.
ALGORITHMS = ("RS256",)
# Same page, step 4 requirement 5 ("Industry-standard clock-skew is 5 minutes"); ChannelValidation's
# clock_tolerance = 5 * 60.
CLOCK_SKEW = timedelta(minutes=5)
# botframework-connector's _OpenIdMetadata refreshes keys older than a day, and again for an
# unknown key id at most once an hour; the page says keys "may be cached for long periods of time
# (by default, 5 days within the Bot Framework SDK)": beyond that they are not trusted any more.
REFRESH_AFTER = timedelta(hours=24)
MAX_KEY_AGE = timedelta(days=5)
UNKNOWN_KEY_REFRESH = timedelta(hours=1)
RETRY_AFTER_FAILURE = timedelta(seconds=30)  # an unreachable endpoint is not asked again per request
FETCH_TIMEOUT_SECONDS = 10.0
MAX_DOCUMENT_BYTES = 1024 * 1024  # the real key set is a few KB
SERVICE_URL_CLAIM = "serviceurl"  # ChannelValidation.SERVICE_URL_CLAIM; Learn step 4 requirement 7


class ChannelTokenRejectedError(PermissionError):
    """The request's token cannot be valid; `reason` says why (never the token itself)."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Unauthorized: {reason}")
        self.reason = reason


class SigningKeysUnavailableError(Exception):
    """The Bot Framework's signing keys cannot be fetched, so no token can be checked now."""


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One key of the Bot Framework's key set: the public key and the channels it is endorsed for."""

    public_key: Any
    endorsements: frozenset[str]


class BotFrameworkSigningKeys:
    """The Bot Framework's signing keys, fetched with aiohttp under a timeout and cached.

    One fetch at a time (every waiting request shares it); keys older than `refresh_after` are
    still used while a background fetch replaces them; keys older than `max_age`, or none at all,
    make requests wait for a fetch. A failed fetch is not retried for `retry_after_failure`.
    `http` is the session to fetch with (None: one of its own, closed by `close`).
    """

    def __init__(
        self,
        http: aiohttp.ClientSession | None = None,
        *,
        clock: Clock,
        metadata_url: str = OPENID_METADATA_URL,
        timeout_seconds: float = FETCH_TIMEOUT_SECONDS,
        refresh_after: timedelta = REFRESH_AFTER,
        max_age: timedelta = MAX_KEY_AGE,
    ) -> None:
        if timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        self._http = http
        self._own_http: aiohttp.ClientSession | None = None
        self._clock = clock
        self.metadata_url = metadata_url
        self._timeout = timeout_seconds
        self._refresh_after = refresh_after
        self._max_age = max_age
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: datetime | None = None
        self._failed_at: datetime | None = None
        self._fetch: asyncio.Task[None] | None = None
        self.fetches = 0  # attempts, for tests and logs

    async def key(self, key_id: str) -> SigningKey | None:
        """The key named `key_id`, or None when the current key set has no such key.
        Raises SigningKeysUnavailableError when there is no usable key set and none can be fetched."""
        now = self._clock()
        if not self._usable(now):
            await self._refresh(now, wait=True)
            if not self._usable(self._clock()):
                raise SigningKeysUnavailableError(f"no Bot Framework signing keys from {self.metadata_url}")
        elif self._age(now) >= self._refresh_after:
            await self._refresh(now, wait=False)  # ahead of expiry: the current keys answer meanwhile
        key = self._keys.get(key_id)
        if key is None and self._age(now) >= UNKNOWN_KEY_REFRESH:
            # Microsoft may have rolled its keys; look again, at most once an hour (as botbuilder).
            await self._refresh(now, wait=True)
            key = self._keys.get(key_id)
        return key

    async def close(self) -> None:
        """Stop a fetch in flight and close the session this object opened."""
        if self._fetch is not None and not self._fetch.done():
            self._fetch.cancel()
            await asyncio.gather(self._fetch, return_exceptions=True)
        if self._own_http is not None:
            await self._own_http.close()
            self._own_http = None

    def _usable(self, now: datetime) -> bool:
        return bool(self._keys) and self._age(now) < self._max_age

    def _age(self, now: datetime) -> timedelta:
        return now - self._fetched_at if self._fetched_at is not None else timedelta.max

    async def _refresh(self, now: datetime, *, wait: bool) -> None:
        if self._fetch is None or self._fetch.done():
            if self._failed_at is not None and now - self._failed_at < RETRY_AFTER_FAILURE:
                return  # asked moments ago and it failed: do not hammer it (nor wait for it) per request
            self._fetch = asyncio.create_task(self._fetch_keys(), name="bot-signing-keys")
        if wait:
            # shield: a request that goes away must not cancel the fetch other requests wait for
            await asyncio.shield(self._fetch)

    async def _fetch_keys(self) -> None:
        self.fetches += 1
        try:
            async with asyncio.timeout(self._timeout):
                metadata = await self._get_json(self.metadata_url)
                jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
                if not isinstance(jwks_uri, str) or not jwks_uri.startswith("https://"):
                    raise ValueError("the OpenID metadata names no https jwks_uri")
                keys = _parse_key_set(await self._get_json(jwks_uri))
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - every way a fetch fails is one outage
            self._failed(error)
            return
        self._keys = keys
        self._fetched_at = self._clock()
        if self._failed_at is not None:
            log.info("Bot Framework signing keys fetched again from %s", self.metadata_url)
        self._failed_at = None

    async def _get_json(self, url: str) -> Any:
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        async with self._session().get(url, timeout=timeout, allow_redirects=False) as response:
            if response.status != 200:
                raise ValueError(f"{url} answered HTTP {response.status}")
            body = await response.content.read(MAX_DOCUMENT_BYTES + 1)
        if len(body) > MAX_DOCUMENT_BYTES:
            raise ValueError(f"{url} answered more than {MAX_DOCUMENT_BYTES} bytes")
        return json.loads(body)

    def _session(self) -> aiohttp.ClientSession:
        if self._http is not None:
            return self._http
        if self._own_http is None:
            self._own_http = aiohttp.ClientSession()
        return self._own_http

    def _failed(self, error: Exception) -> None:
        first = self._failed_at is None
        self._failed_at = self._clock()
        if not first:
            return
        what = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        if self._keys:
            log.error("cannot refresh the Bot Framework signing keys from %s (%s); still using the keys fetched at %s",
                      self.metadata_url, what, self._fetched_at.isoformat() if self._fetched_at else "?")
        else:
            log.error("cannot fetch the Bot Framework signing keys from %s (%s); Teams requests are answered 503 "
                      "until they can be fetched", self.metadata_url, what)


def _parse_key_set(document: Any) -> dict[str, SigningKey]:
    """The RSA keys of a JWKS document, by key id (other keys are skipped)."""
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ValueError("the key set has no `keys` list")
    keys: dict[str, SigningKey] = {}
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA" or not isinstance(entry.get("kid"), str):
            continue
        try:
            public_key = RSAAlgorithm.from_jwk(json.dumps(entry))
        except (jwt.InvalidKeyError, ValueError, KeyError, TypeError):
            continue
        endorsements = entry.get("endorsements")
        keys[entry["kid"]] = SigningKey(
            public_key, frozenset(e for e in endorsements if isinstance(e, str)) if isinstance(endorsements, list) else frozenset()
        )
    if not keys:
        raise ValueError("the key set holds no usable RSA key")
    return keys


class ChannelTokenValidator:
    """Checks the Authorization header of one request from the Bot Connector (module docstring)."""

    def __init__(self, app_id: str, keys: BotFrameworkSigningKeys, *, clock: Clock) -> None:
        if not app_id:
            raise ValueError("a channel token is checked against an APP_ID")
        self.app_id = app_id
        self.keys = keys
        self._clock = clock
        self._reasons_logged: set[str] = set()

    async def validate(self, auth_header: str | None, *, service_url: str | None, channel_id: str | None) -> dict[str, Any]:
        """The token's claims. Raises ChannelTokenRejectedError (401) or SigningKeysUnavailableError (503)."""
        try:
            token = self._bearer(auth_header)
            header, claims = _unverified(token)
            self._check_claims(claims, service_url)
            key = await self.keys.key(header["kid"])
            if key is None:
                raise ChannelTokenRejectedError("the token is signed with a key the Bot Framework does not list")
            if key.endorsements and (not channel_id or channel_id not in key.endorsements):
                # Learn step 3 / botframework-connector EndorsementsValidator: the key must vouch for the channel.
                raise ChannelTokenRejectedError(f"the signing key is not endorsed for channel {channel_id!r}")
            try:
                jwt.decode(token, key.public_key, algorithms=list(ALGORITHMS),
                           options={"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False})
            except jwt.PyJWTError:
                raise ChannelTokenRejectedError("the token's signature is wrong") from None
        except ChannelTokenRejectedError as refusal:
            self._log_once(refusal.reason)
            raise
        return claims

    @staticmethod
    def _bearer(auth_header: str | None) -> str:
        # botframework-connector: exactly two space-separated parts, the first exactly "Bearer".
        parts = (auth_header or "").split(" ")
        if len(parts) != 2 or parts[0] != "Bearer" or not parts[1]:
            raise ChannelTokenRejectedError("no Bearer token in the Authorization header")
        return parts[1]

    def _check_claims(self, claims: Mapping[str, Any], service_url: str | None) -> None:
        if claims.get("iss") != ISSUER:
            raise ChannelTokenRejectedError(f"the token's issuer is not {ISSUER}")
        if claims.get("aud") != self.app_id:
            raise ChannelTokenRejectedError("the token's audience is not this bot's APP_ID")
        now = self._clock().timestamp()
        expires, not_before = claims.get("exp"), claims.get("nbf")
        if not _is_number(expires):
            raise ChannelTokenRejectedError("the token has no expiry")
        if now > expires + CLOCK_SKEW.total_seconds():
            raise ChannelTokenRejectedError("the token has expired")
        if not_before is not None and (not _is_number(not_before) or now < not_before - CLOCK_SKEW.total_seconds()):
            raise ChannelTokenRejectedError("the token is not valid yet")
        if not service_url or claims.get(SERVICE_URL_CLAIM) != service_url:
            raise ChannelTokenRejectedError("the token's serviceurl claim is not the activity's serviceUrl")

    def _log_once(self, reason: str) -> None:
        if reason in self._reasons_logged:
            log.debug("refused a request on /api/messages: %s", reason)
            return
        self._reasons_logged.add(reason)
        log.warning("refused a request on /api/messages: %s (answered 401; further refusals for this reason "
                    "are only counted in mlc_inbound_activities{outcome=\"unauthorized\"})", reason)


def _unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a JWT, before its signature is checked; refuses what cannot be one."""
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except (jwt.PyJWTError, ValueError, TypeError):
        raise ChannelTokenRejectedError("the token is not a JWT") from None
    if header.get("alg") not in ALGORITHMS:
        raise ChannelTokenRejectedError(f"the token is not signed with {'/'.join(ALGORITHMS)}")
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise ChannelTokenRejectedError("the token names no signing key (kid)")
    if not isinstance(claims, dict):
        raise ChannelTokenRejectedError("the token is not a JWT")
    return header, claims


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_loopback_host(host: str | None) -> bool:
    """Whether a host name or address is this machine: localhost, 127.0.0.0/8 or ::1."""
    name = (host or "").strip().strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str | None) -> bool:
    """Whether an http(s) URL points at this machine (the Agents Playground's connector does)."""
    try:
        parts = urlsplit(url or "")
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and is_loopback_host(host)
