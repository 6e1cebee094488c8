"""Every invoke is answered within Teams' time budget, whatever Intacct does: a gateway that hangs
gets a polite answer once the deadline passes, and the hung read is cancelled."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot import messages
from tests.bot.chat.invoke_helpers import ACTION_SAMPLE, INTACCT, QUERY_LINK_SAMPLE, QUERY_SAMPLE, invoke_harness, message_text, results


async def test_a_hanging_intacct_gets_each_invoke_its_answer_at_the_deadline(clock, fixtures_dir: Path, tmp_path: Path):
    in_delay, release = asyncio.Event(), asyncio.Event()

    async def hang(seconds: float) -> None:  # the sandbox's "delay" fault, until the test ends
        in_delay.set()
        await release.wait()

    async def deadline(seconds: float) -> None:  # the invoke's deadline passes once Intacct hangs
        await in_delay.wait()

    async with invoke_harness(clock, fixtures_dir, tmp_path, sandbox_options={"sleep": hang},
                              invoke_options={"sleep": deadline}) as harness:  # fmt: skip
        try:
            await harness.sandbox.fault("delay", seconds=60, count=100)
            search = harness.sample(QUERY_SAMPLE)
            link = harness.sample(QUERY_LINK_SAMPLE)
            link["value"] = {"url": f"{INTACCT}/ia/acct/lister.phtml?.it=apbill&.filter=INV-1"}
            action = harness.sample(ACTION_SAMPLE)
            action["value"] = {"action": {"type": "Action.Execute", "verb": "mlcRefresh", "data": {
                "v": 1, "company": "DEMO-CO", "kind": "bill", "record": 1, "view": "detail", "fp": "0123456789abcdef"}}}  # fmt: skip
            async with asyncio.timeout(30):  # safety net only
                _, searched = await harness.invoke(search)
                _, unfurled = await harness.invoke(link)
                _, refreshed = await harness.invoke(action)
        finally:
            release.set()

    assert message_text(searched) == messages.SEARCH_SLOW
    [attachment] = results(unfurled)
    assert attachment["content"]["body"][1]["text"] == messages.LINK_SLOW
    assert refreshed == {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": messages.REFRESH_SLOW}
