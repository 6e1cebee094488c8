"""Fixtures for the graph tests: the fake Entra + Graph over TLS, a real token provider and client."""

from __future__ import annotations

from typing import AsyncIterator

import aiohttp
import pytest

from graph.client import GraphClient
from graph.subscriptions import SubscriptionManager
from graph.tokens import EntraTokenProvider, GraphCredentials
from tests.fakes.clock import FakeClock
from tests.fakes.entra_graph import (
    CLIENT_ID,
    CLIENT_SECRET,
    TENANT_ID,
    RunningEntraGraph,
    TestTls,
    make_test_tls,
    running_entra_graph,
)
from tests.graph.memory_storage import MemoryGraphStorage
from tests.graph.receiver import NotificationReceiver, running_receiver

TEAM_A = "5d3f9a10-2b7c-4e8d-9f01-a1b2c3d4e5f6"
TEAM_B = "8e2a4c61-9d0b-4f3e-8a72-b6c5d4e3f2a1"
GENERAL = "19:3f2504e04f8911d39a0c0305e82c3301@thread.tacv2"
PAYABLES = "19:9b1deb4d3b7d4bad9bdd2b0d7b3dcb6d@thread.tacv2"


@pytest.fixture(scope="session")
def tls() -> TestTls:
    """One throwaway CA per test session (key generation is the slow part)."""
    return make_test_tls()


@pytest.fixture
async def env(clock: FakeClock, tls: TestTls) -> AsyncIterator[RunningEntraGraph]:
    """The fake Entra + Graph, with TEAM_A (General, Payables) and TEAM_B (General)."""
    async with running_entra_graph(clock=clock, tls=tls) as running:
        running.fake.add_team(TEAM_A, {GENERAL: "General", PAYABLES: "Payables"})
        running.fake.add_team(TEAM_B, {"19:b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0@thread.tacv2": "General"})
        yield running


@pytest.fixture
async def http(tls: TestTls) -> AsyncIterator[aiohttp.ClientSession]:
    """The app's one HTTP session, trusting the test CA."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=tls.client)) as session:
        yield session


@pytest.fixture
def credentials(env: RunningEntraGraph) -> GraphCredentials:
    """Credentials the fake accepts, with the fake as authority host."""
    return GraphCredentials(TENANT_ID, CLIENT_ID, CLIENT_SECRET, authority_host=env.authority_host)


@pytest.fixture
def tokens(credentials: GraphCredentials, http: aiohttp.ClientSession) -> EntraTokenProvider:
    """A real msal-backed token provider."""
    return EntraTokenProvider(credentials, http=http)


@pytest.fixture
def graph(
    tokens: EntraTokenProvider, http: aiohttp.ClientSession, env: RunningEntraGraph, clock: FakeClock
) -> GraphClient:
    """A real client with the fake clock's sleep and a fixed jitter (so backoff is exact)."""
    return GraphClient(tokens, http=http, base_url=env.graph_url, clock=clock, sleep=clock.sleep, jitter=lambda: 1.0)


@pytest.fixture
def storage() -> MemoryGraphStorage:
    """Fresh in-memory storage."""
    return MemoryGraphStorage()


@pytest.fixture
async def receiver(tls: TestTls) -> AsyncIterator[NotificationReceiver]:
    """Our notification endpoint (TLS, random port)."""
    async with running_receiver(tls) as running:
        yield running


@pytest.fixture
def manager(
    graph: GraphClient, storage: MemoryGraphStorage, receiver: NotificationReceiver, clock: FakeClock
) -> SubscriptionManager:
    """A subscription manager wired to the receiver's URLs (the receiver verifies with it)."""
    subscriptions = SubscriptionManager(
        graph, storage, notification_url=receiver.notification_url, lifecycle_url=receiver.lifecycle_url, clock=clock
    )
    receiver.verify = subscriptions.verify_client_state
    return subscriptions
