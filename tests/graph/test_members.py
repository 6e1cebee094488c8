"""GraphClient's route-administration reads against the fake Graph: a user's roles in a team
(filtered on the wire) and transitive group membership (20 ids a request)."""

from __future__ import annotations

import pytest

from graph.client import GraphClient
from graph.errors import GraphNotFoundError, GraphPermissionError, GraphThrottledError
from tests.fakes.entra_graph import RunningEntraGraph
from tests.graph.conftest import TEAM_A, TEAM_B

OWNER = "1f6b2a3c-0d4e-4f5a-8b6c-7d8e9f0a1b2c"
MEMBER = "2a7c3b4d-1e5f-4a6b-9c7d-8e9f0a1b2c3d"
STRANGER = "3b8d4c5e-2f6a-4b7c-8d9e-9f0a1b2c3d4e"
AP_ADMINS = "9c0e5d6f-3a7b-4c8d-9e0f-0a1b2c3d4e5f"
FINANCE = "8d1f6e7a-4b8c-4d9e-8f0a-1b2c3d4e5f6a"


@pytest.fixture
def people(env: RunningEntraGraph) -> RunningEntraGraph:
    fake = env.fake
    fake.roles |= {"TeamMember.Read.All", "GroupMember.Read.All", "User.Read.All"}
    fake.add_team_member(TEAM_A, OWNER, "Olga Owner", roles=("owner",))
    fake.add_team_member(TEAM_A, MEMBER, "Max Member")
    fake.add_group(AP_ADMINS, (OWNER,))
    fake.add_group(FINANCE, (AP_ADMINS, MEMBER))  # nested: OWNER is in FINANCE through AP_ADMINS
    fake.users.add(STRANGER)
    return env


async def test_team_member_roles_filters_on_the_user_in_the_request(graph: GraphClient, people: RunningEntraGraph):
    assert await graph.team_member_roles(TEAM_A, OWNER.upper()) == frozenset({"owner"})
    assert await graph.team_member_roles(TEAM_A, MEMBER) == frozenset()
    assert await graph.team_member_roles(TEAM_A, STRANGER) is None

    raw = people.fake.graph_requests("GET", "/v1.0/teams/")[0].raw_path
    assert raw == (
        f"/v1.0/teams/{TEAM_A}/members?$filter=%28microsoft.graph.aadUserConversationMember%2FuserId%20eq%20"
        f"%27{OWNER}%27%29"
    )


async def test_the_user_id_must_be_an_object_id_before_it_reaches_a_filter(graph: GraphClient, people: RunningEntraGraph):
    with pytest.raises(ValueError, match="object id"):
        await graph.team_member_roles(TEAM_A, "x') or (true")
    with pytest.raises(ValueError, match="object id"):
        await graph.member_groups(OWNER, ["group:not-a-guid"])

    assert people.fake.graph_requests() == []


async def test_missing_team_member_permission_names_it(graph: GraphClient, env: RunningEntraGraph):
    with pytest.raises(GraphPermissionError) as caught:
        await graph.team_member_roles(TEAM_A, OWNER)

    assert caught.value.permission == "TeamMember.Read.All"
    assert "TeamMember.Read.All" in str(caught.value)


async def test_unknown_team_is_not_found(graph: GraphClient, people: RunningEntraGraph):
    with pytest.raises(GraphNotFoundError):
        await graph.team_member_roles("0e0e0e0e-0e0e-4e0e-8e0e-0e0e0e0e0e0e", OWNER)
    assert await graph.team_member_roles(TEAM_B, OWNER) is None


async def test_member_groups_is_transitive(graph: GraphClient, people: RunningEntraGraph):
    assert await graph.member_groups(OWNER, [FINANCE, AP_ADMINS]) == frozenset({FINANCE, AP_ADMINS})
    assert await graph.member_groups(MEMBER, [FINANCE.upper(), AP_ADMINS]) == frozenset({FINANCE})
    assert await graph.member_groups(STRANGER, [FINANCE, AP_ADMINS]) == frozenset()
    assert await graph.member_groups(OWNER, []) == frozenset()

    body = people.fake.graph_requests("POST", "/v1.0/users/")[0].json()
    assert body == {"groupIds": [FINANCE, AP_ADMINS]}


async def test_member_groups_asks_at_most_twenty_ids_per_request(graph: GraphClient, people: RunningEntraGraph):
    others = [f"00000000-0000-4000-8000-{n:012d}" for n in range(25)]

    assert await graph.member_groups(OWNER, [*others, AP_ADMINS]) == frozenset({AP_ADMINS})

    sizes = [len(r.json()["groupIds"]) for r in people.fake.graph_requests("POST", "/v1.0/users/")]
    assert sizes == [20, 6]


async def test_member_groups_needs_both_directory_roles(graph: GraphClient, people: RunningEntraGraph):
    people.fake.roles -= {"User.Read.All"}

    with pytest.raises(GraphPermissionError) as caught:
        await graph.member_groups(OWNER, [AP_ADMINS])

    assert "GroupMember.Read.All" in str(caught.value)


async def test_unknown_user_is_not_found(graph: GraphClient, people: RunningEntraGraph):
    with pytest.raises(GraphNotFoundError):
        await graph.member_groups("4c9e5d6f-3a0b-4c1d-8e2f-3a4b5c6d7e8f", [AP_ADMINS])


async def test_member_groups_is_retried_like_a_read(graph: GraphClient, people: RunningEntraGraph, clock):
    people.fake.fail_next(r"/checkMemberGroups$", 503, count=1)

    assert await graph.member_groups(OWNER, [AP_ADMINS]) == frozenset({AP_ADMINS})
    assert clock.sleeps == [1.0]

    people.fake.fail_next(r"/checkMemberGroups$", 429, count=9, retry_after=3)
    with pytest.raises(GraphThrottledError):
        await graph.member_groups(OWNER, [AP_ADMINS])
