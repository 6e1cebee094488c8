"""Kill -9 at seeded-random points of the service's own progress, and the hooks that find them.

A kill point is "the n-th time the service does X after it starts", X being one of:

    gateway call    a request reaches the Intacct sandbox (the service is mid-poll or mid-login)
    gateway answer  the sandbox has its answer ready (the service will never read it)
    teams call      a write reaches the fake Bot Connector, before Teams takes it
    teams answer    Teams took the card, before the service hears so (the crash window that
                    can repeat a card)
    healthy         /healthz answered for the first time (start-up jobs in flight)

so kills land inside polls, commits, sends and start-ups without a timer: the plan is a function of
the seed only, and `ML_CONNECTOR_CHAOS_SEED` replays it. The kill is a synchronous SIGKILL issued
from inside the fake's request handler, before it answers.
"""

from __future__ import annotations

import asyncio
import bisect
import os
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Awaitable, Callable

from aiohttp import web

from tests.fakes.bot_connector import FakeBotConnector
from tests.fakes.gateway_log import GatewayCall, GatewayLog
from tests.fakes.service_process import ServiceProcess

KILL_POINTS = ("gateway call", "gateway answer", "teams call", "teams answer", "healthy")
SEED_ENV = "ML_CONNECTOR_CHAOS_SEED"
DEFAULT_SEED = 20261125
_WRITES = frozenset({"POST", "PUT"})


def chaos_seed() -> int:
    """The seed: ML_CONNECTOR_CHAOS_SEED when set (to replay a run), else a fixed default."""
    return int(os.environ.get(SEED_ENV) or DEFAULT_SEED)


@dataclass(frozen=True)
class KillPoint:
    """Kill at the `n`-th occurrence of `point` after the (re)start."""

    point: str
    n: int

    def __str__(self) -> str:
        return f"{self.point} #{self.n}"


def kill_plan(rng: random.Random, kills: int) -> list[KillPoint]:
    """`kills` seeded kill points; Teams points come with small n (cards are rarer than requests)."""
    plan = []
    for _ in range(kills):
        point = rng.choice(KILL_POINTS)
        n = 1 if point == "healthy" else rng.randint(1, 3 if point.startswith("teams") else 6)
        plan.append(KillPoint(point, n))
    return plan


class TeamsWithHooks(FakeBotConnector):
    """The fake Bot Connector with `before_write` / `after_write` hooks around every write
    (create, send, reply, update). A `before_write` hook returning True answers 503 without
    letting the fake take the message (the sender is dead; nobody reads the answer)."""

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.before_write: list[Callable[[], bool]] = []
        self.after_write: list[Callable[[], None]] = []

    def app(self) -> web.Application:
        """The fake's routes behind the hook middleware."""
        app = super().app()
        app.middlewares.append(self._hooks)
        return app

    @web.middleware
    async def _hooks(self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        if request.method not in _WRITES:
            return await handler(request)
        if any(hook() for hook in list(self.before_write)):
            return web.Response(status=503)
        response = await handler(request)
        for hook in list(self.after_write):
            hook()
        return response


@dataclass
class KillSwitch:
    """Counts occurrences of the armed point and SIGKILLs the service at the n-th."""

    service: ServiceProcess
    gateway: GatewayLog
    teams: TeamsWithHooks
    armed: KillPoint | None = None
    seen: int = 0
    fired: asyncio.Event = field(default_factory=asyncio.Event)
    fired_at: list[str] = field(default_factory=list)  # the point each kill happened at
    kill_times: list[datetime] = field(default_factory=list)  # wall clock, like the fakes' records

    def __post_init__(self) -> None:
        self.gateway.before.append(self._on_gateway("gateway call"))
        self.gateway.after.append(self._on_gateway("gateway answer"))
        self.teams.before_write.append(lambda: self._count("teams call"))
        self.teams.after_write.append(lambda: self._count("teams answer"))

    def arm(self, point: KillPoint) -> None:
        """Kill at `point` from now on."""
        self.armed, self.seen = point, 0
        self.fired.clear()

    def disarm(self) -> None:
        """No more kills."""
        self.armed = None

    def healthy(self) -> None:
        """Tell the switch the service just answered /healthz."""
        self._count("healthy")

    def kill_now(self, why: str) -> None:
        """Kill at once (the armed point did not come before the deadline)."""
        self._kill(why)

    def _on_gateway(self, point: str) -> Callable[[GatewayCall], None]:
        def hook(call: GatewayCall) -> None:
            self._count(point)

        return hook

    def _count(self, point: str) -> bool:
        armed = self.armed
        if armed is None or armed.point != point or not self.service.running:
            return False
        self.seen += 1
        if self.seen < armed.n:
            return False
        self._kill(str(armed))
        return True

    def _kill(self, why: str) -> None:
        self.armed = None
        self.service.kill()
        self.fired_at.append(why)
        self.kill_times.append(datetime.now(timezone.utc))
        self.fired.set()

    def blame(self, originals: list[datetime]) -> Counter[int]:
        """Per kill (1-based), how many duplicates it caused, given when each duplicate's original
        reached Teams: the first kill after the original is the one that kept the service from
        recording it (the repeat itself may come after later kills: a claim outlives a restart)."""
        return Counter(bisect.bisect_right(self.kill_times, moment) + 1 for moment in originals)
