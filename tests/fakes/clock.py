"""A clock the tests move by hand: `now()` never reads the wall clock, `sleep()` never waits."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone


class FakeClock:
    """Callable clock (aware UTC) with an async `sleep` that advances time instead of waiting."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)  # a Monday
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self._now

    def now(self) -> datetime:
        """The current fake time."""
        return self._now

    def advance(self, seconds: float = 0, **delta: float) -> datetime:
        """Move time forward."""
        self._now += timedelta(seconds=seconds, **delta)
        return self._now

    def set(self, moment: datetime) -> None:
        """Jump to a moment."""
        self._now = moment

    async def sleep(self, seconds: float) -> None:
        """Record the wait, advance the clock, and yield to the loop once."""
        self.sleeps.append(seconds)
        if seconds > 0:
            self._now += timedelta(seconds=seconds)
        await asyncio.sleep(0)
