"""`serve`'s front door: listen at once, and wait for the database behind a starting page.

`serve` binds its port before anything else (a port in use is one line, at once), then answers
from a small starting app while it opens the store: `/healthz` 200 (the process is alive),
`/readyz` 503 saying why it is not ready, everything else 503 with `Retry-After`. A database that
cannot be reached is retried with back-off (1, 2, 4 … 30 s, on the injected sleep) until it
answers; then the real app takes over the same listening socket (both serve it for a moment, so
no connection is refused) and the starting app stops. The first failure is logged once as an
ERROR, the recovery once; the attempts in between at DEBUG.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Awaitable, Callable, TypeVar

from aiohttp import web

from bot.waiting import sleep_or_wake
from ops import messages
from ops.cli import port_in_use
from store.api import StoreError

log = logging.getLogger("mlc.serve")

T = TypeVar("T")
Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]
FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 30.0
RETRY_AFTER_SECONDS = 5  # what the starting app tells a client that came too early


def bind_listener(host: str, port: int, *, fix: str = messages.PORT_FIX_SERVE) -> socket.socket:
    """A listening TCP socket on host:port; CommandError naming the fix when the port is taken."""
    family, kind, proto, _, address = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    listener = socket.socket(family, kind, proto)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp does: restart over TIME_WAIT
        listener.bind(address)
        listener.listen(128)
    except OSError as exc:
        listener.close()
        if exc.errno == errno.EADDRINUSE:
            raise port_in_use(host, port, fix) from None
        raise
    listener.setblocking(False)
    return listener


async def serve_on(app: web.Application, listener: socket.socket) -> web.AppRunner:
    """Start serving `app` on (a duplicate of) `listener`; the caller cleans the runner up."""
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    # A duplicate descriptor: stopping this site closes only its copy, the socket keeps listening.
    await web.SockSite(runner, listener.dup()).start()
    return runner


@dataclass
class StartupState:
    """What the starting app reports while the store is not reachable yet."""

    attempts: int = 0
    last_error: str | None = None
    retry_at: datetime | None = None


def starting_app(state: StartupState) -> web.Application:
    """The app that answers while `serve` waits for its database."""

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(request: web.Request) -> web.Response:
        body = {"store": f"unreachable: {state.last_error}" if state.last_error else "connecting",
                "starting": True, "attempts": state.attempts,
                "retry_at": state.retry_at.isoformat() if state.retry_at else None}
        return web.Response(status=503, text=json.dumps(body, indent=2) + "\n", content_type="application/json")

    async def not_yet(request: web.Request) -> web.Response:
        return web.Response(status=503, text=messages.SERVE_STARTING + "\n", headers={"Retry-After": str(RETRY_AFTER_SECONDS)})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_route("*", "/{tail:.*}", not_yet)
    return app


async def retry_until_reachable(open_: Callable[[], Awaitable[T]], state: StartupState, *, clock: Clock, sleep: Sleep,
                                stop: asyncio.Event) -> T | None:
    """Call `open_` until it does not fail for an unreachable database; None when `stop` is set first.

    Any other failure (a bad configuration, a database that refuses the schema) is raised: waiting
    would not mend it."""
    delay = FIRST_RETRY_SECONDS
    while not stop.is_set():
        state.attempts += 1
        try:
            opened = await open_()
        except StoreError as exc:
            if not exc.unreachable:
                raise
            first = state.last_error is None
            state.last_error = str(exc)
            state.retry_at = clock() + timedelta(seconds=delay)
            if first:
                log.error("database unreachable at start (%s; %s): /readyz answers 503, retrying with back-off from %gs",
                          exc, exc.database or "DATABASE_URL", delay)
            else:
                log.debug("database still unreachable (attempt %d): %s; next try in %gs", state.attempts, exc, delay)
            await sleep_or_wake(sleep, delay, stop)
            if stop.is_set():
                return None
            delay = min(MAX_RETRY_SECONDS, delay * 2)
            continue
        if state.last_error is not None:
            log.info("database reachable after %d attempts: starting", state.attempts)
        state.last_error, state.retry_at = None, None
        return opened
    return None
