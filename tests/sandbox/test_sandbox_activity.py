"""Demo activity: driven tick by tick through the fake clock's sleep, it keeps changing the company."""

from __future__ import annotations

import asyncio

from tests.fakes.clock import FakeClock
from tests.sandbox.helpers import Sandbox

CHANGED_SINCE_START = "WHENMODIFIED > '11/23/2026 06:00:00'"  # the fake clock starts at 06:00:00 -08:00


class Ticks:
    """A sleep that waits for the test to allow each tick, then advances the fake clock."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.entered = 0
        self._go: asyncio.Queue[None] = asyncio.Queue()
        self._changed = asyncio.Condition()

    async def __call__(self, seconds: float) -> None:
        async with self._changed:
            self.entered += 1
            self._changed.notify_all()
        await self._go.get()
        await self.clock.sleep(seconds)

    async def run(self, ticks: int) -> None:
        """Let `ticks` intervals pass and wait until each change has been made."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.entered >= 1)  # the loop is waiting
        for _ in range(ticks):
            async with self._changed:
                target = self.entered + 1
                self._go.put_nowait(None)
                await self._changed.wait_for(lambda: self.entered >= target)


async def _changes(sandbox: Sandbox) -> dict[str, list[dict]]:
    return {
        obj: await sandbox.query(obj, "*", CHANGED_SINCE_START)
        for obj in ("APBILL", "APPYMT", "VENDOR")
    }


async def test_activity_makes_one_change_per_interval(make_sandbox, clock: FakeClock) -> None:
    ticks = Ticks(clock)
    sandbox = await make_sandbox("demo", sleep=ticks, activity_interval=60)
    before = await sandbox.query("APBILL", "RECORDNO")
    assert await _changes(sandbox) == {"APBILL": [], "APPYMT": [], "VENDOR": []}
    await ticks.run(40)
    assert clock.sleeps == [60.0] * 40
    changed = await _changes(sandbox)
    new_bills = [b for b in changed["APBILL"] if int(b["RECORDNO"]) > max(int(r["RECORDNO"]) for r in before)]
    assert new_bills and all(b["STATE"] in ("Submitted", "Partially Approved", "Posted", "Declined", "Selected")
                             for b in new_bills)
    assert len(changed["APBILL"]) > len(new_bills)  # existing bills moved on too
    assert changed["APPYMT"] and changed["VENDOR"]
    assert sum(len(rows) for rows in changed.values()) >= 25
    # every change is stamped with the fake clock's time at its tick
    stamps = {row["WHENMODIFIED"] for rows in changed.values() for row in rows}
    assert max(stamps) <= "11/23/2026 06:40:00" and min(stamps) >= "11/23/2026 06:01:00"


async def test_activity_is_deterministic_for_a_seed(make_sandbox) -> None:
    dumps = []
    for rng_seed in (7, 7, 8):
        clock = FakeClock()
        ticks = Ticks(clock)
        sandbox = await make_sandbox("demo", clock=clock, sleep=ticks, activity_interval=30, rng_seed=rng_seed)
        await ticks.run(25)
        dumps.append(await _changes(sandbox))
    assert dumps[0] == dumps[1]
    assert dumps[0] != dumps[2]


async def test_activity_in_the_empty_company_starts_with_a_vendor_and_bills(make_sandbox, clock: FakeClock) -> None:
    ticks = Ticks(clock)
    sandbox = await make_sandbox("empty", sleep=ticks, activity_interval=10)
    await ticks.run(6)
    assert len(await sandbox.query("VENDOR", "VENDORID")) >= 1
    assert len(await sandbox.query("APBILL", "RECORDNO")) >= 1


async def test_activity_stops_with_the_app(make_sandbox, clock: FakeClock) -> None:
    ticks = Ticks(clock)
    sandbox = await make_sandbox("demo", sleep=ticks, activity_interval=60)
    await ticks.run(1)
    assert [t for t in asyncio.all_tasks() if t.get_name() == "sandbox-activity"]
    await sandbox.client.close()
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "sandbox-activity" and not t.done()]


async def test_without_an_interval_nothing_changes(sandbox: Sandbox, clock: FakeClock) -> None:
    await asyncio.sleep(0)
    clock.advance(hours=5)
    assert await _changes(sandbox) == {"APBILL": [], "APPYMT": [], "VENDOR": []}
    assert clock.sleeps == []
