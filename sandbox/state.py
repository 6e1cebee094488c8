"""One sandbox's state: configuration, the company, sessions, result ids, faults and counters."""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta
from typing import Awaitable, Callable

from aiohttp import web

from sandbox.company import Company
from sandbox.cursors import CursorStore
from sandbox.errors import SandboxConfigError
from sandbox.faults import FaultQueue
from sandbox.seed import SEEDS, DataGenerator, build_company
from sandbox.sessions import SessionStore
from sandbox.stats import GatewayStats
from sandbox.webhooks import WATCHED_OBJECTS, WebhookSender

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]

DEFAULT_SESSION_LIFETIME = timedelta(minutes=50)
DEFAULT_RESULT_LIFETIME = timedelta(minutes=15)
DEFAULT_WEB_URL = "https://sandbox.intacct.local"
DEFAULT_RNG_SEED = 20261123


class SandboxState:
    """Everything one running sandbox holds; `reset()` returns it to its seed."""

    def __init__(
        self,
        seed: str = "demo",
        *,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
        session_lifetime: timedelta = DEFAULT_SESSION_LIFETIME,
        result_lifetime: timedelta = DEFAULT_RESULT_LIFETIME,
        web_url: str | None = DEFAULT_WEB_URL,
        rng_seed: int = DEFAULT_RNG_SEED,
    ) -> None:
        if seed not in SEEDS:
            raise SandboxConfigError(f"unknown seed {seed!r}; expected one of {', '.join(SEEDS)}")
        if session_lifetime <= timedelta(0) or result_lifetime <= timedelta(0):
            raise SandboxConfigError("session_lifetime and result_lifetime must be positive")
        self.seed = seed
        self.rng_seed = rng_seed
        self.clock = clock
        self.sleep = sleep
        self.web_url = web_url.rstrip("/") if web_url else None  # None: the URL each request came to
        self.sessions = SessionStore(session_lifetime)
        self.cursors = CursorStore(result_lifetime)
        self.faults = FaultQueue()
        self.stats = GatewayStats()
        self.webhooks = WebhookSender(clock=self.now, sleep=sleep)  # calls out after changes, once configured
        self.company: Company
        self.generator: DataGenerator
        self.activity_rng: random.Random
        self._build()

    def now(self) -> datetime:
        """The injected clock's time, to the second (Intacct timestamps have no fractions)."""
        moment = self.clock()
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise SandboxConfigError("the sandbox clock must return aware datetimes")
        return moment.replace(microsecond=0)

    def reset(self) -> None:
        """Back to the seed: a fresh company (dated from the clock's now), no open result ids, no
        queued faults, counters at zero. Live sessions stay valid: they belong to the gateway,
        not to the company data."""
        self.cursors.clear()
        self.faults.clear()
        self.stats.clear()
        self.sessions.reset_counter()
        self._build()

    def generate(self, *, vendors: int = 0, bills: int = 0, payments: int = 0, max_age_days: int = 365) -> None:
        """Bulk-add generated rows (benchmarks): vendors first, then bills with lines and their
        payments spread over `max_age_days`, then stand-alone completed payments."""
        if min(vendors, bills, payments) < 0:
            raise ValueError("counts must not be negative")
        now = self.now()
        if vendors:
            self.generator.add_vendors(vendors, now)
        if bills:
            self.generator.ensure_vendor(now)
            self.generator.add_bills(bills, now, max_age_days=max_age_days)
        if payments:
            self.generator.ensure_vendor(now)
            self.generator.add_payments(payments, now)

    def _build(self) -> None:
        self.company, self.generator = build_company(self.seed, now=self.now(), rng_seed=self.rng_seed)
        self.activity_rng = random.Random(f"{self.rng_seed}:{self.seed}:activity")
        for name in WATCHED_OBJECTS:  # after the seed: its rows are not changes
            self.company.tables[name].on_change = self.webhooks.changed


SANDBOX_STATE: web.AppKey[SandboxState] = web.AppKey("sandbox_state", SandboxState)
