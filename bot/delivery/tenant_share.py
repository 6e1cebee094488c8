"""Teams' per-tenant budget shared by every instance: each one paces its writes at an equal share.

Teams allows an app 50 requests a second per tenant, whichever instance sends them (Learn,
"Optimize your bot with rate limiting and best practices"; bot/pacing.py's TENANT_LIMITS). Each
instance's pacer only sees its own writes, so N instances each pacing at 50/s could send 50·N. Here
every instance holds a lease `teams-budget:<holder>` in the shared store, renewed every
`heartbeat`, counts the live ones (N) and paces each tenant at floor(50 / N) a second.

Joining is the delicate moment: the others learn of a new instance only at their next renewal.
So a joining instance takes its lease, then sends nothing for two heartbeats — by then every
other instance has counted it and cut its own share. An instance that dies keeps its lease until
it expires (three heartbeats): the others stay under budget meanwhile, then grow their share.
One that stops cleanly gives its lease back at once.
"""

from __future__ import annotations

import asyncio
import logging
import math
from datetime import datetime, timedelta
from typing import Callable

from bot.pacing import TENANT_LIMITS, ConversationPacer, RateWindow
from bot.waiting import Sleep
from store.api import Store

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

LEASE_PREFIX = "teams-budget:"
DEFAULT_HEARTBEAT_SECONDS = 2.0  # a lease upsert and a count every 2 s: nothing for the store, 4 s of hold at start
LEASE_HEARTBEATS = 3  # a lease outlives two missed renewals
JOIN_HEARTBEATS = 2  # a joining instance waits until every other has renewed (and counted it) once


def heartbeat_for(claim_seconds: float) -> float:
    """The renewal period for an OUTBOX_CLAIM_SECONDS: a quarter of a claim (instances learn of each
    other well before they take over each other's cards), between 0.5 and 2 s."""
    return max(0.5, min(DEFAULT_HEARTBEAT_SECONDS, claim_seconds / 4))


def shared_limits(instances: int, limits: tuple[RateWindow, ...] = TENANT_LIMITS) -> tuple[RateWindow, ...]:
    """One instance's equal share of the tenant windows (at least one write per window)."""
    count = max(1, instances)
    return tuple(RateWindow(window.seconds, max(1, math.floor(window.limit / count))) for window in limits)


class TenantBudgetShare:
    """Keeps this instance's lease and its pacer's tenant windows at its share (module docstring)."""

    def __init__(
        self,
        store: Store,
        pacer: ConversationPacer,
        *,
        holder: str,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
        heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS,
        limits: tuple[RateWindow, ...] = TENANT_LIMITS,
    ) -> None:
        if heartbeat_seconds <= 0:
            raise ValueError("heartbeat_seconds must be positive")
        self._store = store
        self._pacer = pacer
        self._lease = f"{LEASE_PREFIX}{holder}"
        self._holder = holder
        self._clock = clock
        self._sleep = sleep
        self._heartbeat = heartbeat_seconds
        self._limits = limits
        self.instances = 1
        self._failing = False

    async def join(self) -> None:
        """Take the lease and hold the pacer until the other instances have counted this one."""
        self._pacer.hold_until(self._clock() + timedelta(seconds=JOIN_HEARTBEATS * self._heartbeat))
        await self.refresh()

    async def refresh(self) -> None:
        """Renew the lease, count the instances and set the pacer's tenant windows to the share.
        A store that fails leaves the share as it was (logged once per outage)."""
        now = self._clock()
        try:
            await self._store.try_lease(self._lease, self._holder, now=now, ttl_seconds=LEASE_HEARTBEATS * self._heartbeat)
            instances = max(1, await self._store.count_leases(LEASE_PREFIX, now=now))
        except Exception as error:  # noqa: BLE001 - a loop that must survive any store failure
            if not self._failing:
                self._failing = True
                log.warning("cannot renew this instance's share of Teams' per-tenant budget (%s); keeping 1/%d of it",
                            error, self.instances)
            return
        if self._failing:
            self._failing = False
            log.info("this instance's share of Teams' per-tenant budget is renewed again")
        if instances != self.instances:
            log.info("%d instance(s) post to Teams: each paces a tenant at %s", instances,
                     ", ".join(f"{w.limit} per {w.seconds:g} s" for w in shared_limits(instances, self._limits)))
        self.instances = instances
        self._pacer.set_tenant_limits(shared_limits(instances, self._limits))

    async def leave(self) -> None:
        """Give the lease back (a clean stop): the others grow their share at their next renewal."""
        try:
            await self._store.release_lease(self._lease, self._holder)
        except Exception as error:  # noqa: BLE001 - stopping anyway; the lease expires by itself
            log.warning("could not give back this instance's share of Teams' per-tenant budget (%s)", error)

    async def run(self) -> None:
        """Refresh every heartbeat until cancelled (after `join`)."""
        while True:
            await self._sleep(self._heartbeat)
            await self.refresh()
