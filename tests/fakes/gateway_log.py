"""What an Intacct sandbox was asked and answered, request by request, with hooks for chaos.

`GatewayLog.install(app)` adds an aiohttp middleware to a sandbox app (before it starts) that
records every gateway request: when it came and was answered (time.monotonic()), a digest of the
session it used (never the session id itself), its functions as (name, object), the HTTP status
and, per function, the result status and error number. A poll cycle is recognisable on the wire:
one request with a readByQuery on each of APBILL, APPYMT and VENDOR (docs/design.md); counting
those per interval and per session is how the tests see who polls and how often, without trusting
the service.

`before` hooks run when a request arrives, before the sandbox handles it (a test may queue a
fault or kill a process there); `after` hooks run once the answer is built, before it is sent.
`running_logged_sandbox()` serves a sandbox with a log on a random port.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable

from aiohttp import web
from lxml import etree

from sandbox import GATEWAY_PATH, create_sandbox_app
from sandbox.app import SESSION_PATH
from sandbox.envelope import parse_document, read_operation
from sandbox.errors import ControlFailure
from tests.fakes.sandbox import RunningSandbox, serving_sandbox

POLL_OBJECTS = frozenset({"APBILL", "APPYMT", "VENDOR"})

Function = tuple[str, str | None]  # (function name, object name)


@dataclass
class GatewayCall:
    """One gateway request and its answer."""

    arrived: float  # time.monotonic()
    session: str | None  # sha256 prefix of the session id; None for a login
    functions: tuple[Function, ...]
    answered: float | None = None
    status: int | None = None
    auth_failed: bool = False  # the answer refused the session or the login
    results: tuple[tuple[str, str | None], ...] = ()  # per function: (status, errorno)

    @property
    def is_poll_cycle(self) -> bool:
        """One poll cycle's first request: a readByQuery on each of the three polled objects."""
        read = {obj for name, obj in self.functions if name == "readByQuery"}
        return POLL_OBJECTS <= read

    def carries(self, name: str) -> bool:
        """Whether the request carries function `name` (readMore, getAPISession…)."""
        return any(function == name for function, _ in self.functions)


Hook = Callable[[GatewayCall], Awaitable[None] | None]


class GatewayLog:
    """Every gateway request a sandbox answered (see the module docstring)."""

    def __init__(self) -> None:
        self.calls: list[GatewayCall] = []
        self.before: list[Hook] = []
        self.after: list[Hook] = []

    def install(self, app: web.Application) -> None:
        """Record the gateway requests of `app` (call before the app starts)."""
        app.middlewares.append(self._middleware)

    def poll_cycles(self, *, since: float | None = None, until: float | None = None) -> list[GatewayCall]:
        """Poll-cycle requests that arrived in [since, until), oldest first."""
        return [c for c in self.calls if c.is_poll_cycle and (since is None or c.arrived >= since)
                and (until is None or c.arrived < until)]

    def sessions(self, calls: list[GatewayCall]) -> set[str | None]:
        """The session digests these calls used."""
        return {c.session for c in calls}

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        if request.method != "POST" or request.path not in (GATEWAY_PATH, SESSION_PATH, "/"):
            return await handler(request)
        call = _describe(await request.read())
        self.calls.append(call)
        await _run(self.before, call)
        response = await handler(request)
        call.answered, call.status = time.monotonic(), response.status
        if isinstance(response, web.Response) and isinstance(response.body, bytes):
            call.auth_failed, call.results = _outcome(response.body)
        await _run(self.after, call)
        return response


async def _run(hooks: list[Hook], call: GatewayCall) -> None:
    for hook in list(hooks):
        outcome = hook(call)
        if asyncio.iscoroutine(outcome):
            await outcome


def _describe(body: bytes) -> GatewayCall:
    """The request's functions and session digest (the sandbox's own hardened parser)."""
    arrived = time.monotonic()
    try:
        operation = read_operation(parse_document(body))
    except ControlFailure:
        return GatewayCall(arrived, None, ())
    session = hashlib.sha256(operation.session_id.encode()).hexdigest()[:12] if operation.session_id else None
    functions = tuple((f.name, f.object_name) for f in operation.functions)
    return GatewayCall(arrived, session, functions)


def _outcome(body: bytes) -> tuple[bool, tuple[tuple[str, str | None], ...]]:
    """(authentication refused, per-result (status, errorno)) of an answer; malformed → (False, ())."""
    try:
        root = etree.fromstring(body, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return False, ()
    auth_failed = root.findtext("operation/authentication/status") == "failure"
    results = tuple(
        (result.findtext("status") or "", result.findtext("errormessage/error/errorno"))
        for result in root.iterfind("operation/result")
    )
    return auth_failed, results


@asynccontextmanager
async def running_logged_sandbox(log: GatewayLog, seed: str = "demo", **options: Any) -> AsyncIterator[RunningSandbox]:
    """A sandbox on a random port whose gateway requests go to `log`; `options` go to
    create_sandbox_app (pass `clock` and `sleep`: the wall clock when a real process talks to it)."""
    app = create_sandbox_app(seed, **options)
    log.install(app)
    async with serving_sandbox(app) as sandbox:
        yield sandbox
