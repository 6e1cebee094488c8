"""The one place that talks HTTP to the gateway: timeouts, size limit, gzip, bounded retries with backoff.

Retried (exponential backoff with jitter, at most ``max_attempts`` attempts in all): network
errors, timeouts, HTTP 5xx (524 included: we only read, so a replay is harmless), HTTP 429 /
GW-0010 / "API rate limit exceeded", "Temporarily Off-line" / "Please Try Again Later" at control
level, a response whose every function failed transiently, and a malformed body (once only).
Never retried: authentication, session, query and other function errors — the caller decides.
One log line per retry decision; bodies are logged only at DEBUG and only redacted.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Awaitable, Callable, Sequence

import aiohttp

from intacct.errors import (
    IntacctError,
    IntacctTimeoutError,
    IntacctTransportError,
    MalformedResponseError,
    RateLimitError,
    ResponseTooLargeError,
    UnexpectedStatusError,
)
from intacct.protocol import Response, parse_response
from intacct.redact import redact_xml, scrub
from intacct.stats import StatsRecorder

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Jitter = Callable[[], float]

_XML_TYPES = ("text/xml", "application/xml")
# The one cap on an answer's size, which bounds the memory one answer can cost: parsing keeps
# lxml's tree (short fields cost ~5x their text) and the records at once, about 9.4 MiB per MB
# of answer (bench/intacct_memory.py), so 16 MiB costs at most ~150 MiB. Sized from the largest
# real answer: a request carries at most 10 functions (paging.MAX_FUNCTIONS_PER_REQUEST), a
# readByQuery page at most 1,000 rows (the documented maximum pagesize), and with our explicit
# field lists a bill row is ~0.6 KB and a bill line ~0.4 KB (bench/intacct_parse.py's realistic
# rows): ten pages of bill lines, the largest answer we ask for, are ~4 MB. 16 MiB leaves 4x that
# for long descriptions and names. (It was 64 MiB: a 60 MB answer peaked at 650 MB.)
DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024
_READ_CHUNK = 64 * 1024


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded exponential backoff: attempt n waits base·2^(n-1), capped, scaled into [½, 1] by jitter."""

    max_attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0

    def delay(self, attempt: int, jitter: float, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based); honours Retry-After up to 2·max_delay."""
        backoff = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        delay = backoff * (0.5 + 0.5 * min(max(jitter, 0.0), 1.0))
        if retry_after is not None:
            delay = max(delay, min(retry_after, 2 * self.max_delay))
        return delay


class Transport:
    """POSTs request XML, returns the parsed Response; retries what may succeed later."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        *,
        stats: StatsRecorder,
        sleep: Sleep = asyncio.sleep,
        jitter: Jitter,
        timeout_seconds: float = 60,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        retry: RetryPolicy = RetryPolicy(),
        max_concurrent_requests: int = 1,
    ) -> None:
        if retry.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self._http = http
        self._stats = stats
        self._sleep = sleep
        self._jitter = jitter
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._max_bytes = max_response_bytes
        self._retry = retry
        # Intacct runs one API job per company at a time and queues or refuses (GW-0010) the
        # rest, so requests of one client wait here rather than in the gateway.
        self._slots = asyncio.Semaphore(max_concurrent_requests)

    async def exchange(self, url: str, body: bytes, *, function_names: Sequence[str], secrets: Sequence[str] = ()) -> Response:
        """Send one request (retrying transient failures) and return the parsed answer.

        A parsed answer is returned even when it carries a non-transient control/authentication
        error (the caller decides); a transient error still present after the last attempt is
        raised, except a response whose functions all failed transiently, which is returned.
        """
        label = "+".join(sorted(set(function_names))) or "request"
        malformed_seen = False
        attempt = 0
        while True:
            attempt += 1
            failure: IntacctError
            partial: Response | None = None
            try:
                response = await self._attempt(url, body, function_names, secrets)
            except IntacctError as exc:
                self._stats.error(exc.code)
                if not exc.transient:
                    raise
                if isinstance(exc, MalformedResponseError):
                    # A CDN page or a truncated body may be a blip; twice in a row it is not.
                    if malformed_seen:
                        log.debug("intacct %s: malformed answer again on attempt %d; giving up: %s", label, attempt, exc)
                        raise
                    malformed_seen = True
                failure = exc
            else:
                self._count_errors(response)
                transient = _transient_failure(response)
                if transient is None:
                    return response
                failure = transient
                partial = response if response.error is None else None
            if attempt >= self._retry.max_attempts:
                log.debug("intacct %s: giving up after %d attempt(s): %s", label, attempt, failure)
                if partial is not None:
                    return partial  # every function failed transiently: each Result carries its error
                raise failure
            delay = self._retry.delay(attempt, self._jitter(), failure.retry_after)
            # DEBUG: the caller logs the outcome once (operators get one line per failure state change).
            log.debug(
                "intacct %s: attempt %d/%d failed (%s: %s); retrying in %.2fs",
                label, attempt, self._retry.max_attempts, type(failure).__name__, failure, delay,
            )  # fmt: skip
            self._stats.retry()
            await self._sleep(delay)

    def _count_errors(self, response: Response) -> None:
        if response.error is not None:
            self._stats.error(response.error.code)
        for result in response.results:
            if result.error is not None:
                self._stats.error(result.error.code)

    async def _attempt(self, url: str, body: bytes, function_names: Sequence[str], secrets: Sequence[str]) -> Response:
        headers = {
            "Content-Type": "application/xml; charset=utf-8",
            "Accept": "application/xml, text/xml",
            "Accept-Encoding": "gzip, deflate",
        }
        if log.isEnabledFor(logging.DEBUG):
            log.debug("intacct request to %s: %s", url, redact_xml(body, secrets=secrets))
        async with self._slots:
            self._stats.request(function_names)
            try:
                async with self._http.post(url, data=body, headers=headers, timeout=self._timeout, allow_redirects=False) as reply:
                    raw = await self._read_limited(reply)
                    status = reply.status
                    content_type = reply.content_type
                    retry_after = _retry_after(reply.headers.get("Retry-After"))
            except asyncio.TimeoutError:
                raise IntacctTimeoutError(f"no complete answer from the Intacct gateway within {self._timeout.total:g}s") from None
            except aiohttp.ClientError as exc:
                detail = scrub(str(exc), secrets) or type(exc).__name__
                raise IntacctTransportError(f"network error talking to the Intacct gateway: {type(exc).__name__}: {detail}") from None
        if log.isEnabledFor(logging.DEBUG):
            log.debug("intacct answer HTTP %d (%d bytes): %s", status, len(raw), redact_xml(raw[:65536], secrets=secrets))
        return self._interpret(status, content_type, raw, retry_after, secrets)

    async def _read_limited(self, reply: aiohttp.ClientResponse) -> bytes:
        declared = reply.content_length
        if declared is not None and declared > self._max_bytes:
            raise ResponseTooLargeError(f"Intacct answer of {declared:,} bytes refused: {self._too_large()}")
        chunks: list[bytes] = []
        size = 0
        # The limit applies to the decompressed stream, so a small gzip bomb is refused too.
        async for chunk in reply.content.iter_chunked(_READ_CHUNK):
            size += len(chunk)
            if size > self._max_bytes:
                raise ResponseTooLargeError(f"Intacct answer refused after {size:,} bytes: {self._too_large()}")
            chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self) -> str:
        return (f"over the limit of {self._max_bytes:,} bytes (max_response_bytes), far above the largest real answer "
                "(10 pages of 1,000 rows): not read, so it cannot exhaust memory")

    def _interpret(self, status: int, content_type: str, raw: bytes, retry_after: float | None, secrets: Sequence[str]) -> Response:
        if status >= 500:
            raise IntacctTransportError(f"Intacct gateway answered HTTP {status}", http_status=status)
        is_xml = content_type in _XML_TYPES or raw.lstrip()[:5] in (b"<?xml", b"<resp")
        if status == 429:
            error = RateLimitError("Intacct rate limit: HTTP 429", http_status=429, retry_after=retry_after)
            if is_xml:
                try:
                    parsed = parse_response(raw, content_type=content_type, http_status=status, secrets=secrets)
                except IntacctError:
                    parsed = None
                if parsed is not None and isinstance(parsed.error, RateLimitError):
                    parsed.error.retry_after = retry_after
                    error = parsed.error
            raise error
        if status != 200 and not is_xml:
            if b"api rate limit exceeded" in raw[:65536].lower():
                raise RateLimitError(f"Intacct rate limit: HTTP {status}", http_status=status, retry_after=retry_after)
            raise UnexpectedStatusError(f"Intacct gateway answered HTTP {status} ({content_type or 'no content type'})", http_status=status)
        if status == 200 and not is_xml and b"api rate limit exceeded" in raw[:65536].lower():
            raise RateLimitError("Intacct rate limit: 'API rate limit exceeded'", http_status=status, retry_after=retry_after)
        # 200, or a 4xx with an XML body (e.g. 401 XMLGW_JPP0002): the body says what happened.
        response = parse_response(raw, content_type=content_type, http_status=status, secrets=secrets)
        if status != 200 and response.error is None:
            raise UnexpectedStatusError(f"Intacct gateway answered HTTP {status} without an error message", http_status=status)
        return response


def _transient_failure(response: Response) -> IntacctError | None:
    if response.error is not None:
        return response.error if response.error.transient else None
    errors = [r.error for r in response.results]
    # Retry the request only when nothing in it succeeded: replaying successful reads costs
    # transactions, and a partial transient failure is reported per function instead.
    if errors and all(e is not None and e.transient for e in errors):
        return errors[0]
    return None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None  # an HTTP date: ignore it and use our own backoff
    return seconds if seconds >= 0 else None
