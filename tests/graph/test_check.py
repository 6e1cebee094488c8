"""`check` lines for Graph: ok, or the reason and what to fix."""

from __future__ import annotations

import aiohttp

from graph.check import CheckLine, check_graph
from graph.client import GraphClient
from graph.tokens import EntraTokenProvider, GraphCredentials
from tests.fakes.entra_graph import CLIENT_ID, TENANT_ID, RunningEntraGraph
from tests.graph.conftest import TEAM_A, TEAM_B


async def test_all_ok(tokens: EntraTokenProvider, graph: GraphClient):
    lines = await check_graph(tokens, graph, [TEAM_B, TEAM_A, TEAM_A])

    assert lines == [
        CheckLine(True, "Entra token: ok"),
        CheckLine(True, f"Graph: can read channels of team {TEAM_A} (2 channels)"),
        CheckLine(True, f"Graph: can read channels of team {TEAM_B} (1 channels)"),
    ]


async def test_no_team_yet(tokens: EntraTokenProvider, graph: GraphClient):
    lines = await check_graph(tokens, graph, [])

    assert lines[1] == CheckLine(True, "Graph: no team to check yet (no route has a team id)")


async def test_wrong_secret(env: RunningEntraGraph, http: aiohttp.ClientSession, clock):
    wrong = EntraTokenProvider(
        GraphCredentials(TENANT_ID, CLIENT_ID, "wrong-secret", authority_host=env.authority_host), http=http
    )
    client = GraphClient(wrong, http=http, base_url=env.graph_url, clock=clock, sleep=clock.sleep)

    lines = await check_graph(wrong, client, [TEAM_A])

    assert not lines[0].ok
    assert lines[0].text.startswith("Entra token: Entra rejected the client secret")
    assert "AADSTS7000215" in lines[0].text and "wrong-secret" not in lines[0].text
    assert lines[1] == CheckLine(False, "Graph: not tried (no token)")


async def test_missing_permission(tokens: EntraTokenProvider, graph: GraphClient, env: RunningEntraGraph):
    env.fake.roles.clear()

    lines = await check_graph(tokens, graph, [TEAM_A])

    assert lines[0] == CheckLine(True, "Entra token: ok")
    assert not lines[1].ok
    assert lines[1].text.startswith(f"Graph: cannot read channels of team {TEAM_A}: ")
    assert "needs the application permission Channel.ReadBasic.All with admin consent" in lines[1].text
