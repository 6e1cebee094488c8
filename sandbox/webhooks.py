"""Outbound wake-up calls as Intacct makes them: a POST after every change the sandbox makes.

Configured by `python app.py sandbox --webhook-url URL --webhook-secret S` or the admin API
(`POST /sandbox/webhooks {url, secret, objects?, events?}`, `GET` shows the deliveries, `DELETE`
stops them). What is emulated, and from where:

- **When**: after each add or set of a watched object (APBILL, APPYMT, VENDOR by default). Smart
  Events fire on Add, Set and Delete of their object (developer.intacct.com "Smart events");
  Platform Triggers on the events chosen for their object (Intacct help "Add Platform triggers").
  The sandbox deletes nothing, so it never sends "delete".
- **Retries**: a call not answered 200 is retried, 4 attempts in all, on 408, 429, 500, 502, 503
  and 504, the first retry after 10 s, the second after 30 s, the third after 90 s; "webhooks
  automatically re-try if no response is received" (developer.sage.com "Outbound webhooks"), so a
  refused connection or a timeout is retried too. Any other answer ends the delivery.
- **Idempotency key**: unique per delivery, repeated by its retries (same page). Sage does not
  name the header; the sandbox sends `Idempotency-Key`.
- **Concurrency**: "You may have concurrent requests using webhooks" (same page): every delivery
  is its own task.
- **Authenticity**: Smart-Event style, the customer-templated JSON body carrying the secret:
  `{"secret": S, "object": "APBILL", "event": "add", "id": "<RECORDNO>"}`. (A Platform Trigger's
  signed token is not emulated: its format is not documented.)
- **Timeout** of one attempt: undocumented ("respond within the specified timeout periods");
  30 s here.

Time goes through the sandbox's injected sleep, so tests see the retry schedule without waiting.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, AsyncIterator, Awaitable, Callable

import aiohttp
from aiohttp import web

log = logging.getLogger(__name__)

RETRY_DELAYS = (10.0, 30.0, 90.0)  # seconds before the 2nd, 3rd and 4th attempt
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
IDEMPOTENCY_HEADER = "Idempotency-Key"
WATCHED_OBJECTS = ("APBILL", "APPYMT", "VENDOR")
EVENTS = ("add", "set", "delete")
DEFAULT_EVENTS = ("add", "set")
ATTEMPT_TIMEOUT_SECONDS = 30.0
KEPT_ATTEMPTS = 1000  # the admin API shows the latest attempts


@dataclass(frozen=True)
class WebhookConfig:
    """Where the sandbox calls, with which secret, for which objects and events."""

    url: str
    secret: str = field(repr=False)
    objects: frozenset[str] = frozenset(WATCHED_OBJECTS)
    events: frozenset[str] = frozenset(DEFAULT_EVENTS)

    def as_json(self) -> dict[str, Any]:
        """The configuration without its secret."""
        return {"url": self.url, "objects": sorted(self.objects), "events": sorted(self.events)}


@dataclass(frozen=True)
class Attempt:
    """One POST of one delivery, as the admin API lists it."""

    key: str
    object: str
    event: str
    record_no: int
    attempt: int
    at: datetime
    status: int | None  # None: no answer (refused, timed out)
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        """For GET /sandbox/webhooks."""
        return {"key": self.key, "object": self.object, "event": self.event, "record_no": self.record_no,
                "attempt": self.attempt, "at": self.at.isoformat(), "status": self.status, "error": self.error}


class WebhookSender:
    """Sends a call after each watched change while configured; `changed` is the tables' hook."""

    def __init__(self, *, clock: Callable[[], datetime], sleep: Callable[[float], Awaitable[None]],
                 attempt_timeout: float = ATTEMPT_TIMEOUT_SECONDS) -> None:
        self.clock = clock
        self.sleep = sleep
        self.attempt_timeout = attempt_timeout
        self.config: WebhookConfig | None = None
        self.attempts: deque[Attempt] = deque(maxlen=KEPT_ATTEMPTS)
        self._tasks: set[asyncio.Task] = set()
        self._http: aiohttp.ClientSession | None = None

    def configure(self, config: WebhookConfig | None) -> None:
        """Start (or change) calling `config.url`; None stops new deliveries (retries under way go on)."""
        self.config = config

    def changed(self, object_name: str, record_no: int, event: str) -> None:
        """A row was added or set: deliver a call if that object and event are watched."""
        config = self.config
        if config is None or object_name not in config.objects or event not in config.events:
            return
        task = asyncio.get_running_loop().create_task(
            self._deliver(config, object_name, record_no, event, uuid.uuid4().hex), name=f"sandbox webhook {object_name}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait until every delivery under way has ended (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Cancel deliveries under way and close the HTTP session."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _deliver(self, config: WebhookConfig, object_name: str, record_no: int, event: str, key: str) -> None:
        body = {"secret": config.secret, "object": object_name, "event": event, "id": str(record_no)}
        for attempt in range(1, len(RETRY_DELAYS) + 2):
            status, error = await self._post(config.url, body, key)
            self.attempts.append(Attempt(key, object_name, event, record_no, attempt, self.clock(), status, error))
            if status == 200:
                return
            retry = (status is None or status in RETRY_STATUSES) and attempt <= len(RETRY_DELAYS)
            answer = f"answered {status}" if status is not None else f"got no answer ({error})"
            if not retry:
                log.warning("sandbox webhook: %s %s %s, %s: giving up after attempt %d", object_name, event, record_no, answer, attempt)
                return
            delay = RETRY_DELAYS[attempt - 1]
            log.info("sandbox webhook: %s %s %s, %s; retrying in %g s", object_name, event, record_no, answer, delay)
            await self.sleep(delay)

    async def _post(self, url: str, body: dict[str, str], key: str) -> tuple[int | None, str | None]:
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.attempt_timeout))
        try:
            async with self._http.post(url, json=body, headers={IDEMPOTENCY_HEADER: key}) as response:
                await response.read()
                return response.status, None
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            return None, type(exc).__name__


def webhooks_context(sender: WebhookSender) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup_ctx entry that closes the sender with the app."""

    async def run(app: web.Application) -> AsyncIterator[None]:
        yield
        await sender.close()

    return run
