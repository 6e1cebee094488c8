"""App-only Graph tokens from Entra with msal (client credentials), one msal app per credential.

msal keeps its token cache on the `ConfidentialClientApplication` object, so the provider builds
that object once (lazily: its constructor already fetches the tenant's OpenID configuration) and
reuses it; create ONE provider per credential per process. msal is synchronous: every call runs
in a worker thread (`asyncio.to_thread`) and its HTTP goes through `LoopHttpClient`, i.e. through
the app's aiohttp session on the event loop, so the loop never blocks.

msal decides cache expiry with `time.time()` (a token counts as expired 5 minutes before its
`expires_in` runs out); it cannot be driven by the injected clock. msal also remembers failed
token answers per app — a 429/5xx for its Retry-After (5 s without one), a 400 for 60 s — and
answers repeats from that memory without calling Entra.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import aiohttp
import msal  # type: ignore[import-untyped]
from msal.exceptions import MsalServiceError  # type: ignore[import-untyped]

from graph.errors import (
    GraphError,
    GraphTransientError,
    error_from_discovery_failure,
    error_from_token_result,
)
from graph.msal_http import LoopHttpClient

log = logging.getLogger(__name__)

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
PUBLIC_AUTHORITY_HOST = "https://login.microsoftonline.com"
# Hosts msal already knows; any other host is a test double or a sovereign cloud given explicitly.
_WELL_KNOWN_HOSTS = frozenset(
    {"login.microsoftonline.com", "login.microsoft.com", "login.windows.net", "login.microsoftonline.us",
     "login.partner.microsoftonline.cn"}
)


@dataclass(frozen=True, slots=True)
class GraphCredentials:
    """An Entra app registration's client-credentials identity (the secret stays out of repr)."""

    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    authority_host: str = PUBLIC_AUTHORITY_HOST

    def __post_init__(self) -> None:
        parts = urlsplit(self.authority_host)
        if parts.scheme != "https" or not parts.hostname or parts.path.strip("/") or parts.query:
            raise ValueError(f"authority_host must be an https origin such as {PUBLIC_AUTHORITY_HOST}")
        for name in ("tenant_id", "client_id", "client_secret"):
            if not getattr(self, name).strip():
                raise ValueError(f"GraphCredentials.{name} is empty")

    @property
    def authority(self) -> str:
        """The tenant's authority URL, e.g. https://login.microsoftonline.com/<tenant>."""
        return f"{self.authority_host.rstrip('/')}/{self.tenant_id}"


class TokenProvider(Protocol):
    """What the Graph client needs from a token source."""

    async def get_token(self) -> str:
        """A bearer token for Graph (cached until shortly before it expires)."""

    def invalidate(self, token: str) -> None:
        """Forget `token` (Graph rejected it with 401) so the next `get_token` fetches a new one."""


class EntraTokenProvider:
    """Client-credentials tokens for Graph, cached by msal; concurrent callers share one fetch."""

    def __init__(
        self,
        credentials: GraphCredentials,
        *,
        http: aiohttp.ClientSession,
        timeout_seconds: float = 30.0,
        scopes: tuple[str, ...] = (GRAPH_SCOPE,),
    ) -> None:
        self._credentials = credentials
        self._http = http
        self._timeout_seconds = timeout_seconds
        self._scopes = list(scopes)
        self._app: Any = None  # msal.ConfidentialClientApplication, built on first use
        self._lock = asyncio.Lock()
        self.tokens_fetched = 0  # answers that came from Entra rather than msal's cache

    def __repr__(self) -> str:
        credentials = self._credentials
        return f"EntraTokenProvider(tenant_id={credentials.tenant_id!r}, client_id={credentials.client_id!r})"

    async def get_token(self) -> str:
        """A bearer token for Graph; raises a GraphAuthError subclass with what to fix, or
        GraphTransientError when Entra could not be reached."""
        async with self._lock:
            app = self._app or await self._build_app()
            try:
                result = await asyncio.to_thread(app.acquire_token_for_client, scopes=self._scopes)
            except GraphError:
                raise
            except MsalServiceError as exc:  # msal's raise_for_status on a 5xx token answer
                raise GraphTransientError(f"Entra's token endpoint failed: {exc}") from exc
            except ValueError as exc:  # a non-JSON answer from the token endpoint
                raise GraphTransientError("Entra's token endpoint answered with something that is not JSON") from exc
        if "access_token" not in result:
            raise error_from_token_result(
                result, tenant_id=self._credentials.tenant_id, client_id=self._credentials.client_id
            )
        if result.get("token_source") != "cache":
            self.tokens_fetched += 1
            log.info("Entra issued a Graph token for app %s (expires in %s s)",
                     self._credentials.client_id, result.get("expires_in"))
        return str(result["access_token"])

    def invalidate(self, token: str) -> None:
        """Drop `token` from msal's cache (acquire_token_for_client has no force_refresh)."""
        if self._app is None:
            return
        cache = self._app.token_cache
        for entry in list(cache.search(cache.CredentialType.ACCESS_TOKEN)):
            if entry.get("secret") == token:
                cache.remove_at(entry)
                log.info("dropped a Graph token that Graph rejected; the next call fetches a new one")

    async def _build_app(self) -> Any:
        loop = asyncio.get_running_loop()
        credentials = self._credentials
        custom_host = (urlsplit(credentials.authority_host).hostname or "") not in _WELL_KNOWN_HOSTS

        def build() -> Any:
            return msal.ConfidentialClientApplication(
                credentials.client_id,
                client_credential=credentials.client_secret,
                authority=credentials.authority,
                http_client=LoopHttpClient(self._http, loop, timeout_seconds=self._timeout_seconds),
                # A host msal does not know (a test double, a sovereign cloud given explicitly) must not
                # be checked against login.microsoftonline.com's instance discovery; we chose it ourselves.
                validate_authority=not custom_host,
                instance_discovery=False if custom_host else None,
            )

        try:
            self._app = await asyncio.to_thread(build)
        except GraphError:
            raise
        except MsalServiceError as exc:  # 5xx from the discovery endpoint
            raise GraphTransientError(f"Entra's OpenID discovery failed: {exc}") from exc
        except (ValueError, KeyError) as exc:  # 4xx or unreadable discovery document: unknown tenant
            reason = f"{exc.__context__ or ''} {exc}"
            raise error_from_discovery_failure(
                tenant_id=credentials.tenant_id, authority=credentials.authority_host, reason=reason
            ) from exc
        return self._app
