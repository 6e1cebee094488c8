"""The whole inbound path for the handler and service tests: the real CloudAdapter (anonymous
unless told otherwise) behind the aiohttp app of bot/teams/server.py on a random port, the fake Bot
Connector as every activity's serviceUrl, the Intacct sandbox over HTTP and a real SQLite store."""

from __future__ import annotations

import copy
import json
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Mapping

import aiohttp
from aiohttp.test_utils import TestClient, TestServer

from bot.teams.connector import PostedMessage, TeamsConnector, close_adapter, create_adapter
from bot.context import BotContext, BotPolicy, CompanyContext
from bot.teams.conversations import ConversationBook
from bot.teams.handler import MlConnectorBot, make_messages_handler
from bot.chat.invokes import InvokeService
from bot.origin import Origin
from bot.pacing import ConversationPacer
from bot.teams.server import create_web_app
from bot.chat.service import CommandService
from cards.links import IntacctLinks
from graph.client import GraphClient
from graph.tokens import EntraTokenProvider, GraphCredentials
from observability.metrics import Metrics
from store.sql import SqlStore, open_store
from tests.bot.conftest import CHANNEL_ID, TEAM_ID, TENANT_ID
from tests.fakes.bot_connector import FakeBotConnector, Message
from tests.fakes.clock import FakeClock
from tests.fakes.entra_graph import CLIENT_ID, CLIENT_SECRET, RunningEntraGraph, TestTls, running_entra_graph
from tests.fakes.entra_graph import TENANT_ID as GRAPH_TENANT_ID
from tests.fakes.sandbox import RunningSandbox, running_sandbox

AAD_GROUP_ID = "00000000-0000-0000-0000-000000000031"  # the Playground team's Graph id
BOT_ID = "00000000-0000-0000-0000-00000000000011"
USER_AAD_ID = "00000000-0000-0000-0000-0000000000020"  # the Playground's current user
WEB_URL = "https://demo.intacct.example"
MESSAGE = "playground/message-channel-mention.json"
THREAD = "channel-announcements-id;messageid=1795502516985"


def company(sandbox: RunningSandbox, clock: FakeClock, key: str = "DEMO-CO", **client_options: Any) -> CompanyContext:
    """The sandbox's demo company as the bot sees it (Los Angeles AP calendar)."""
    return CompanyContext(
        key=key,
        client=sandbox.client(clock, **client_options),
        links=IntacctLinks(web_url=WEB_URL, company_id="DEMO-CO"),
        timezone="America/Los_Angeles",
    )


# The tenants of the recorded Teams activities in tests/fixtures/teams-samples/bot-framework.
SAMPLE_TENANTS = frozenset({
    "50612dbb-0237-4969-b378-8d42590f9c00", "56653e9d-2158-46ee-90d7-675c39642038",
    "72f988bf-86f1-41af-91ab-2d7cd011db47", "b28fdbfd-2b78-4f93-b0f8-8881793f0f8f",
})


def playground_policy(**changes: Any) -> BotPolicy:
    """The Playground's and the recorded samples' tenants allowed and, as the Playground's people are
    mock users Graph cannot know, anyone in a team may change routes; `changes` override either."""
    values: dict[str, Any] = {"allowed_tenant_ids": frozenset({TENANT_ID}) | SAMPLE_TENANTS, "route_admins": ("anyone",)}
    values.update(changes)
    return BotPolicy(**values)


def channel_origin(**changes: Any) -> Origin:
    """Where the Playground's channel message comes from, for service tests without Teams."""
    values: dict[str, Any] = {
        "conversation_id": THREAD,
        "conversation_type": "channel",
        "service_url": "http://localhost/_connector/",
        "tenant_id": TENANT_ID,
        "channel_id": CHANNEL_ID,
        "team_id": TEAM_ID,
        "aad_group_id": AAD_GROUP_ID,
        "user_id": USER_AAD_ID,
        "user_name": "Alex Wilber",
    }
    values.update(changes)
    return Origin(**values)


@dataclass
class BotHarness:
    """Everything a handler test talks to."""

    fixtures_dir: Path
    fake: FakeBotConnector
    sandbox: RunningSandbox
    store: SqlStore
    context: BotContext
    bot: MlConnectorBot
    client: TestClient
    clock: FakeClock
    adapter: Any = None  # the CloudAdapter behind /api/messages
    seen: set[str] = field(default_factory=set)

    def sample(self, name: str, **changes: Any) -> dict[str, Any]:
        """A recorded activity from tests/fixtures/teams-samples, aimed at the fake Bot Connector."""
        activity = json.loads((self.fixtures_dir / "teams-samples" / name).read_text(encoding="utf-8"))
        activity["serviceUrl"] = self.fake.service_url
        activity.update(changes)
        return activity

    def message(self, text: str, **changes: Any) -> dict[str, Any]:
        """The Playground's channel @mention with another command after the mention."""
        activity = self.sample(MESSAGE, **changes)
        activity["text"] = f"<at>Test Bot</at> {text}"
        return activity

    async def post(self, activity: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> int:
        """POST an activity to /api/messages; returns the HTTP status."""
        response = await self.client.post("/api/messages", json=copy.deepcopy(dict(activity)), headers=dict(headers or {}))
        await response.read()
        return response.status

    async def invoke(self, activity: Mapping[str, Any]) -> tuple[int, Any]:
        """POST an invoke to /api/messages; returns the HTTP status and the answer's JSON body."""
        response = await self.client.post("/api/messages", json=copy.deepcopy(dict(activity)))
        raw = await response.read()
        return response.status, json.loads(raw) if raw else None

    async def say(self, text: str, **changes: Any) -> list[Message]:
        """Mention the bot in the Playground's thread; returns the bot's new messages."""
        status = await self.post(self.message(text, **changes))
        assert status == 201, status
        return self.new_messages()

    def new_messages(self) -> list[Message]:
        """Bot messages the fake received since the last call."""
        fresh = [m for key, m in self.fake.messages.items() if key not in self.seen and m.from_bot]
        self.seen.update(self.fake.messages)
        return fresh

    async def post_card(self, reference: Mapping[str, Any], card: Mapping[str, Any]) -> PostedMessage:
        """Start a thread with `card` through a stored reference, as the notifier does (anonymous)."""
        adapter = create_adapter("", "")
        try:
            return await TeamsConnector(adapter, clock=self.clock).create_thread(reference, card, text_fallback="card")
        finally:
            await close_adapter(adapter)

    async def install(self) -> list[Message]:
        """The Playground's install: installationUpdate add, then the bot in membersAdded."""
        for name in ("playground/installation-update-add.json", "playground/conversation-update-bot-added.json"):
            assert await self.post(self.sample(name)) == 201
        return self.new_messages()


@asynccontextmanager
async def bot_harness(
    clock: FakeClock,
    fixtures_dir: Path,
    data_dir: Path,
    *,
    policy: BotPolicy | None = None,
    companies: int = 1,
    adapter_options: Mapping[str, Any] | None = None,
    service_options: Mapping[str, Any] | None = None,
    sandbox_options: Mapping[str, Any] | None = None,
    graph_members: Any = None,
    database_url: str | None = None,
    pacer: ConversationPacer | None = None,
    invoke_options: Mapping[str, Any] | None = None,
) -> AsyncIterator[BotHarness]:
    """Start everything; `companies` > 1 adds the same sandbox company under more keys; a
    `database_url` replaces the migrated SQLite store (e.g. one that cannot be reached)."""
    store = open_store(database_url, data_dir=data_dir)
    if database_url is None:
        await store.migrate()
    options = {"clock": clock, **dict(adapter_options or {})}
    adapter = create_adapter(options.pop("app_id", ""), options.pop("app_password", ""), **options)
    try:
        async with FakeBotConnector(clock=clock, tenant_id=TENANT_ID) as fake, running_sandbox(
            clock, **dict(sandbox_options or {})
        ) as sandbox:
            fake.add_team(TEAM_ID, name="My Team", aad_group_id=AAD_GROUP_ID, channels={CHANNEL_ID: "Announcements"})
            keys = ["DEMO-CO", *(f"DEMO-{n}" for n in range(2, companies + 1))]
            context = BotContext(
                store=store,
                companies={key: company(sandbox, clock, key) for key in keys},
                clock=clock,
                metrics=Metrics(),
                policy=policy or playground_policy(),
                graph_members=graph_members,
                pacer=pacer,
            )
            service = CommandService(context, **dict(service_options or {}))
            invokes = InvokeService(context, **dict(invoke_options or {}))
            bot = MlConnectorBot(context, service=service, conversations=ConversationBook(store, clock), invokes=invokes)
            app = create_web_app(context, messages=make_messages_handler(adapter, bot))
            client = TestClient(TestServer(app, host="127.0.0.1", port=0))
            await client.start_server()
            try:
                yield BotHarness(fixtures_dir, fake, sandbox, store, context, bot, client, clock, adapter)
            finally:
                await client.close()
    finally:
        await close_adapter(adapter)
        await store.close()


@asynccontextmanager
async def running_graph(clock: FakeClock, tls: TestTls) -> AsyncIterator[tuple[RunningEntraGraph, GraphClient]]:
    """The fake Entra + Graph (every role the bot uses granted) and a real GraphClient for it."""
    async with running_entra_graph(clock=clock, tls=tls) as env, aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=tls.client)
    ) as http:
        env.fake.roles |= {"TeamMember.Read.All", "GroupMember.Read.All", "User.Read.All"}
        credentials = GraphCredentials(GRAPH_TENANT_ID, CLIENT_ID, CLIENT_SECRET, authority_host=env.authority_host)
        tokens = EntraTokenProvider(credentials, http=http)
        yield env, GraphClient(tokens, http=http, base_url=env.graph_url, clock=clock, sleep=clock.sleep, jitter=lambda: 1.0)
