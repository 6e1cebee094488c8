"""Sleeping on the injected clock in a way that something else may cut short."""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

Sleep = Callable[[float], Awaitable[None]]


async def sleep_or_wake(sleep: Sleep, seconds: float, wake: asyncio.Event) -> None:
    """Sleep `seconds` with `sleep`, or less when `wake` is (or gets) set; leaves no task behind."""
    if wake.is_set():
        return
    sleeper = asyncio.ensure_future(sleep(seconds))
    waker = asyncio.ensure_future(wake.wait())
    try:
        await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sleeper, waker):
            task.cancel()
        await asyncio.gather(sleeper, waker, return_exceptions=True)
