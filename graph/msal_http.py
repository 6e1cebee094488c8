"""msal's synchronous `http_client` contract, served by our aiohttp session on the event loop.

msal is synchronous, so the token provider runs it in a worker thread; every HTTP call msal makes
from that thread is handed back to the event loop with `run_coroutine_threadsafe` and goes out
through the app's one `aiohttp.ClientSession` (same TLS settings, proxies and timeouts as Graph
calls). msal does no retrying of its own when given an http_client; the Graph client decides.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import dataclass, field
from typing import Any, Mapping

import aiohttp

from graph.errors import GraphAuthError, GraphNetworkError, GraphTransientError

# Extra seconds the worker thread waits beyond aiohttp's own timeout before giving up on the loop
# (only reached when the loop is stuck or shutting down).
_LOOP_GRACE_SECONDS = 5.0


@dataclass(slots=True)
class MsalResponse:
    """The response shape msal reads: `status_code`, `text`, `headers`, `raise_for_status()`."""

    status_code: int
    text: str
    headers: dict[str, str] = field(default_factory=dict)

    def raise_for_status(self) -> None:
        """Raise for an error status (msal normally reads the status itself and calls its own wrapper)."""
        if self.status_code >= 500:
            raise GraphTransientError(f"Entra answered HTTP {self.status_code}", status=self.status_code)
        if self.status_code >= 400:
            raise GraphAuthError(f"Entra refused the request (HTTP {self.status_code})", status=self.status_code)


class LoopHttpClient:
    """An msal `http_client` whose `post`/`get` run on `loop` through `http`; call only from a
    worker thread (calling it on the loop's own thread would deadlock, so that raises)."""

    def __init__(self, http: aiohttp.ClientSession, loop: asyncio.AbstractEventLoop, *, timeout_seconds: float) -> None:
        self._http = http
        self._loop = loop
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._wait_seconds = timeout_seconds + _LOOP_GRACE_SECONDS

    def post(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        **_ignored: Any,  # msal may pass requests-style options (timeout…); our session has its own
    ) -> MsalResponse:
        """HTTP POST (msal sends the token request's form fields as a dict in `data`)."""
        return self._run("POST", url, params=params, data=data, headers=headers)

    def get(
        self,
        url: str,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        **_ignored: Any,
    ) -> MsalResponse:
        """HTTP GET (msal's OpenID discovery)."""
        return self._run("GET", url, params=params, data=None, headers=headers)

    def close(self) -> None:
        """Nothing to release: the session belongs to whoever created it."""

    def _run(self, method: str, url: str, *, params: Any, data: Any, headers: Any) -> MsalResponse:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            raise RuntimeError("msal must run in a worker thread, not on the event loop")
        future = asyncio.run_coroutine_threadsafe(self._send(method, url, params, data, headers), self._loop)
        try:
            return future.result(timeout=self._wait_seconds)
        except concurrent.futures.TimeoutError as exc:
            future.cancel()
            raise GraphNetworkError(f"Entra did not answer {method} within {self._wait_seconds:g} s") from exc

    async def _send(self, method: str, url: str, params: Any, data: Any, headers: Any) -> MsalResponse:
        try:
            async with self._http.request(
                method, url, params=params, data=data, headers=headers, timeout=self._timeout
            ) as response:
                text = await response.text(errors="replace")
                return MsalResponse(response.status, text, {k: v for k, v in response.headers.items()})
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            # The URL has no secret in it (the secret travels in the form body), so it may be named.
            raise GraphNetworkError(
                f"could not reach Entra ({method} {url.split('?', 1)[0]}): {type(exc).__name__}"
            ) from exc
