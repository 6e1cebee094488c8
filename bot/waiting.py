"""Sleeping on the injected clock in a way that something else may cut short, and work under a deadline."""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, TypeVar

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


class DeadlinePassedError(Exception):
    """The deadline passed before the work finished (the work was cancelled)."""


async def within_deadline(work: Awaitable[T], seconds: float, sleep: Sleep) -> T:
    """The work's result, or DeadlinePassedError once `sleep(seconds)` returns first (the work is
    then cancelled and awaited, so nothing of it runs on after the answer)."""
    task = asyncio.ensure_future(work)
    timer = asyncio.ensure_future(sleep(seconds))
    try:
        await asyncio.wait({task, timer}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        timer.cancel()
        if not task.done():
            task.cancel()
            await asyncio.wait({task})
    if task.cancelled():
        raise DeadlinePassedError()
    return task.result()


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
