"""End to end with the Microsoft 365 Agents Playground (npm, pinned in package.json) as Teams.

The whole app (app.build_runtime + app.build_web_app: handler, notifier, scheduler) serves on a
free port; the Playground impersonates the Teams client and the Bot Connector. We install the bot
in its team, @mention it, and read what it posted from the Playground's conversation stream.
Waiting here is for two real processes talking over HTTP, bounded by deadlines, never a sleep.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from contextlib import asynccontextmanager

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from app import build_runtime, build_web_app, utc_now
from ops.playground import playground_command, start_playground
from sandbox import create_sandbox_app
from settings import load_settings

pytestmark = [pytest.mark.playground, pytest.mark.slow]
DEADLINE = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ConversationStream:
    """The Playground's websocket of everything posted in its conversations."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.messages: list[dict] = []

    async def wait_for(self, predicate, what: str) -> dict:
        for message in self.messages:
            if predicate(message):
                return message
        try:
            async with asyncio.timeout(DEADLINE):
                async for frame in self.ws:
                    event = json.loads(frame.data)
                    self.messages.append(event)
                    if predicate(event):
                        return event
        except TimeoutError:
            pass
        seen = "\n".join(json.dumps(m)[:300] for m in self.messages)
        raise AssertionError(f"no {what} within {DEADLINE:.0f} s; the Playground showed:\n{seen}")


def card_of(event: dict) -> dict | None:
    attachments = event.get("message", {}).get("attachments") or []
    return attachments[0]["content"] if attachments else None


def card_text(card: dict) -> str:
    return json.dumps(card)


@asynccontextmanager
async def running_app(tmp_path):
    sandbox = TestServer(create_sandbox_app("demo", web_url=None, clock=utc_now))
    await sandbox.start_server()
    gateway = str(sandbox.make_url("/ia/xml/xmlgw.phtml"))
    port = free_port()
    settings = load_settings({
        "INTACCT_SENDER_ID": "mlc-sandbox", "INTACCT_SENDER_PASSWORD": "sandbox-secret", "INTACCT_COMPANY_ID": "DEMO-CO",
        "INTACCT_USER_ID": "ap-admin", "INTACCT_USER_PASSWORD": "demo-pass", "INTACCT_ENDPOINT_URL": gateway,
        "INTACCT_WEB_URL": str(sandbox.make_url("")).rstrip("/"),
        # Polls run when the test says so (plus the first one at start-up: the baseline).
        "POLL_SCHEDULE": "0 0 1 1 *", "DIGEST_SCHEDULE": "0 0 1 1 *", "RECONCILE_SCHEDULE": "0 0 1 1 *",
        "DATA_DIR": str(tmp_path), "PORT": str(port), "HOST": "127.0.0.1",
        "ROUTE_ADMINS": "anyone",  # the Playground's people are mock users no Graph knows
    })
    runtime = await build_runtime(settings)
    app, _ = await build_web_app(runtime)
    runner = aiohttp.web.AppRunner(app)
    await runner.setup()
    await aiohttp.web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield runtime, sandbox, f"http://127.0.0.1:{port}/api/messages"
    finally:
        await runner.cleanup()
        await runtime.close()
        await sandbox.close()


@pytest.mark.skipif(playground_command() is None, reason="Node.js/npx is not installed")
async def test_install_ask_and_receive_a_new_bill_in_the_playground(tmp_path):
    async with running_app(tmp_path) as (runtime, sandbox, endpoint):
        playground = await start_playground(endpoint, port=free_port(), http=runtime.http, work_dir=tmp_path / "playground")
        try:
            config = await playground.config()
            team, bot_id, user_id = config["teams"][0]["id"], config["bot"]["id"], config["currentUser"]["id"]
            async with runtime.http.ws_connect(f"{playground.url}/_ws_conversation/v1/conversations/stream") as ws:
                stream = ConversationStream(ws)
                await playground.install(team)
                welcome = await stream.wait_for(lambda e: card_of(e) and "Hello" in card_text(card_of(e)), "the welcome card")
                assert welcome["actionConversationId"] == team

                await playground.say(team, "show pending bills", bot_id=bot_id, user_id=user_id)
                reply = await stream.wait_for(lambda e: card_of(e) and "waiting for approval" in card_text(card_of(e))
                                              and ";messageid=" in e["actionConversationId"], "the pending-bills card")
                assert card_of(reply)["version"] == "1.5" and "INV-" in card_text(card_of(reply))

                await playground.say(team, "subscribe all", bot_id=bot_id, user_id=user_id)
                await stream.wait_for(lambda e: "Done" in (e.get("message", {}).get("text") or ""), "the subscribe confirmation")

                async with runtime.http.post(str(sandbox.make_url("/sandbox/bills")), json={"amount": "4321.09"}) as response:
                    bill = await response.json()
                company = next(iter(runtime.companies.values()))
                outcome = await company.coordinator.poll()
                assert outcome.ok  # (or the scheduler's start-up poll queued it first)
                posted = await stream.wait_for(
                    lambda e: card_of(e) and bill["bill_number"] in card_text(card_of(e)) and e["actionConversationId"] == team,
                    "the new bill's card as a new post in the channel",
                )
                assert "4,321.09" in card_text(card_of(posted))
        finally:
            await playground.stop()


@pytest.fixture(autouse=True)
def _node_available():
    if os.environ.get("ML_CONNECTOR_SKIP_PLAYGROUND") == "1":
        pytest.skip("ML_CONNECTOR_SKIP_PLAYGROUND=1")


@pytest.mark.skipif(playground_command() is None, reason="Node.js/npx is not installed")
async def test_search_a_pasted_link_and_a_refresh_in_the_playground(tmp_path):
    async with running_app(tmp_path) as (runtime, sandbox, endpoint):
        playground = await start_playground(endpoint, port=free_port(), http=runtime.http, work_dir=tmp_path / "playground")
        try:
            config = await playground.config()
            team, bot_id, user_id = config["teams"][0]["id"], config["bot"]["id"], config["currentUser"]["id"]
            company = next(iter(runtime.companies.values()))
            async with runtime.http.ws_connect(f"{playground.url}/_ws_conversation/v1/conversations/stream") as ws:
                stream = ConversationStream(ws)
                await playground.install(team)
                await playground.say(team, "subscribe bills", bot_id=bot_id, user_id=user_id)
                await stream.wait_for(lambda e: "Done" in (e.get("message", {}).get("text") or ""), "the subscribe confirmation")
                assert (await company.coordinator.poll()).ok  # the baseline: every record's link indexed
                client = company.context.client
                [pending] = (await client.query_bills(states=["Submitted"], limit=1)).bills

                # The compose-box search, as the Playground's Message extension panel sends it.
                found = await playground.invoke("composeExtension/query", {"commandId": "searchBills", "parameters": [
                    {"name": "query", "value": pending.bill_number}], "queryOptions": {"skip": 0, "count": 25}},
                    conversation_id=team, user_id=user_id)  # fmt: skip
                result = found["composeExtension"]
                assert result["type"] == "result" and pending.bill_number in card_text(result["attachments"][0]["content"])

                # A pasted RECORD_URL, as its link-unfurling dialog sends it.
                unfurled = await playground.invoke("composeExtension/queryLink", {"url": pending.record_url},
                                                   conversation_id=team, user_id=user_id)  # fmt: skip
                [card] = [a["content"] for a in unfurled["composeExtension"]["attachments"]]
                assert card["refresh"]["action"]["data"]["record"] == pending.record_no

                # A new bill's card in the channel, then its bill approved in Intacct and the card refreshed.
                async with runtime.http.post(str(sandbox.make_url("/sandbox/bills")), json={"amount": "777.00"}) as response:
                    bill = await response.json()
                assert (await company.coordinator.poll()).ok
                posted = await stream.wait_for(
                    lambda e: card_of(e) and bill["bill_number"] in card_text(card_of(e)) and e["actionConversationId"] == team,
                    "the new bill's card",
                )
                async with runtime.http.post(str(sandbox.make_url(f"/sandbox/bills/{bill['record_no']}/state")), json={"state": "Approved"}):
                    pass
                notice = card_of(posted)
                message_id = posted["message"]["messageId"]
                answer = await playground.invoke("adaptiveCard/action", {"action": notice["refresh"]["action"], "trigger": "manual"},
                                                 conversation_id=f"{team};messageid={message_id}", user_id=user_id, reply_to_id=message_id)
                assert answer["type"] == "application/vnd.microsoft.card.adaptive" and "Posted" in card_text(answer["value"])
                updated = await stream.wait_for(
                    lambda e: card_of(e) and e.get("message", {}).get("messageId") == message_id and "Posted" in card_text(card_of(e)),
                    "the channel's card updated in place",
                )
                assert card_of(updated)["refresh"]["userIds"] == []
        finally:
            await playground.stop()
