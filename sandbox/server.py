"""Run the sandbox as a server until cancelled (`python app.py sandbox --port N --seed demo|empty`)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from typing import Callable

from aiohttp import web

from sandbox.app import GATEWAY_PATH, create_sandbox_app
from sandbox.state import DEFAULT_RNG_SEED, DEFAULT_SESSION_LIFETIME, Clock, Sleep
from sandbox.webhooks import WebhookConfig

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    """The wall clock, aware UTC (the default clock of a real server)."""
    return datetime.now(timezone.utc)


async def run_sandbox(
    host: str = "127.0.0.1",
    port: int = 8090,
    seed: str = "demo",
    *,
    clock: Clock = utc_now,
    sleep: Sleep = asyncio.sleep,
    session_lifetime: timedelta = DEFAULT_SESSION_LIFETIME,
    web_url: str | None = None,
    activity_interval: float | None = None,
    rng_seed: int = DEFAULT_RNG_SEED,
    on_ready: Callable[[str], None] | None = None,
    webhook: WebhookConfig | None = None,
) -> None:
    """Serve the sandbox on host:port until the task is cancelled, then shut down cleanly.

    `port=0` picks a free port; `on_ready` receives the base URL (http://host:port) once the
    socket listens, so a caller can point a client at `base + GATEWAY_PATH`. `web_url=None` makes
    RECORD_URLs point at the sandbox's own record pages. `webhook` makes it call out after every
    change, as Intacct's triggers do.
    """
    app = create_sandbox_app(
        seed, clock=clock, sleep=sleep, session_lifetime=session_lifetime, web_url=web_url,
        activity_interval=activity_interval, rng_seed=rng_seed, webhook=webhook,
    )
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound_port = runner.addresses[0][1] if runner.addresses else port
        base_url = f"http://{host}:{bound_port}"
        log.info("Intacct sandbox (seed %s) listening on %s%s", seed, base_url, GATEWAY_PATH)
        if on_ready is not None:
            on_ready(base_url)
        await asyncio.Event().wait()  # until cancelled
    finally:
        await runner.cleanup()
