"""ROUTE_ADMINS: parsing the policy, and deciding who may change routes with the real GraphClient
against the fake Entra + Graph (TLS, random port)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import AsyncIterator

import pytest

from bot import messages
from bot.chat.admins import RouteAdmins, RouteAdminsConfigError, parse_route_admins
from graph.client import GraphClient
from tests.bot.bot_harness import AAD_GROUP_ID, bot_harness, playground_policy, running_graph
from tests.fakes.entra_graph import CLIENT_SECRET, RunningEntraGraph, TestTls, make_test_tls

TEAM = "5d3f9a10-2b7c-4e8d-9f01-a1b2c3d4e5f6"
OWNER = "1f6b2a3c-0d4e-4f5a-8b6c-7d8e9f0a1b2c"
MEMBER = "2a7c3b4d-1e5f-4a6b-9c7d-8e9f0a1b2c3d"
OUTSIDER = "3b8d4c5e-2f6a-4b7c-8d9e-9f0a1b2c3d4e"
AP_ADMINS = "9c0e5d6f-3a7b-4c8d-9e0f-0a1b2c3d4e5f"
FINANCE = "8d1f6e7a-4b8c-4d9e-8f0a-1b2c3d4e5f6a"


@pytest.fixture(scope="module")
def tls() -> TestTls:
    return make_test_tls()


@pytest.fixture
async def graph_env(clock, tls: TestTls) -> AsyncIterator[tuple[RunningEntraGraph, GraphClient]]:
    """Entra + Graph with one team (an owner, a member) and nested groups, and a client for it."""
    async with running_graph(clock, tls) as (env, client):
        fake = env.fake
        fake.add_team(TEAM)
        fake.add_team_member(TEAM, OWNER, "Olga Owner", roles=("owner",))
        fake.add_team_member(TEAM, MEMBER, "Max Member")
        fake.add_group(AP_ADMINS, (MEMBER,))
        fake.add_group(FINANCE, (AP_ADMINS,))
        fake.users.add(OUTSIDER)
        yield env, client


@pytest.fixture
def env(graph_env) -> RunningEntraGraph:
    return graph_env[0]


@pytest.fixture
def graph(graph_env) -> GraphClient:
    return graph_env[1]


# --- the policy ------------------------------------------------------------------------------------


def test_policy_entries_are_parsed_case_insensitively():
    policy = parse_route_admins([" Team-Owners ", OWNER.upper(), f"group:{FINANCE.upper()}", f"GROUP:{FINANCE}", ""])

    assert policy.team_owners and policy.user_ids == frozenset({OWNER}) and policy.group_ids == (FINANCE,)
    assert policy.needs_graph and not policy.open
    assert parse_route_admins(["Anyone"]).open
    assert parse_route_admins([]) == parse_route_admins(["team-owners"])  # no entry: the safe default


def test_a_misspelt_entry_fails_at_start_up_naming_every_problem():
    with pytest.raises(RouteAdminsConfigError) as caught:
        parse_route_admins(["team-owner", "group:finance", OWNER])

    assert "'team-owner'" in str(caught.value) and "'group:finance'" in str(caught.value)
    with pytest.raises(RouteAdminsConfigError):
        RouteAdmins(["owners"])
    with pytest.raises(RouteAdminsConfigError) as caught:
        parse_route_admins(["anyone", "team-owners"])
    assert "'anyone' cannot be combined" in str(caught.value)


# --- decisions -------------------------------------------------------------------------------------


async def test_only_anyone_lets_anyone_change_routes_and_no_policy_means_team_owners():
    open_ = await RouteAdmins(["anyone"]).check(user_id=None, aad_group_id=None)
    default = await RouteAdmins([]).check(user_id=MEMBER, aad_group_id=TEAM)

    assert (open_.allowed, open_.basis) == (True, "open")
    assert (default.allowed, default.basis) == (False, "graph-missing")  # owners are only known to Graph


async def test_team_owners_are_asked_from_graph(graph: GraphClient, env: RunningEntraGraph):
    admins = RouteAdmins(["team-owners"], graph)

    owner = await admins.check(user_id=OWNER, aad_group_id=TEAM)
    member = await admins.check(user_id=MEMBER, aad_group_id=TEAM)
    outsider = await admins.check(user_id=OUTSIDER, aad_group_id=TEAM)

    assert (owner.allowed, owner.basis) == (True, "team-owner")
    assert (member.allowed, member.refusal) == (False, messages.ADMIN_NOT_ALLOWED.format(who="team owners"))
    assert not outsider.allowed
    assert len(env.fake.graph_requests("GET", f"/v1.0/teams/{TEAM}/members")) == 3


async def test_group_members_are_found_through_nested_groups(graph: GraphClient):
    admins = RouteAdmins([f"group:{FINANCE}"], graph)

    assert (await admins.check(user_id=MEMBER, aad_group_id=TEAM)).basis == "group"
    refused = await admins.check(user_id=OWNER, aad_group_id=TEAM)
    assert refused.refusal == messages.ADMIN_NOT_ALLOWED.format(who="members of the ml-connector admin group")
    unknown = await admins.check(user_id="4c9e5d6f-3a0b-4c1d-8e2f-3a4b5c6d7e8f", aad_group_id=TEAM)  # not in Entra
    assert not unknown.allowed and unknown.basis == "not-allowed"


async def test_listed_people_need_no_graph_call(graph: GraphClient, env: RunningEntraGraph):
    admins = RouteAdmins(["team-owners", OUTSIDER], graph)

    assert (await admins.check(user_id=OUTSIDER.upper(), aad_group_id=TEAM)).basis == "listed"
    assert env.fake.graph_requests() == []


async def test_any_entry_is_enough(graph: GraphClient):
    admins = RouteAdmins(["team-owners", f"group:{AP_ADMINS}"], graph)

    assert (await admins.check(user_id=OWNER, aad_group_id=TEAM)).allowed
    assert (await admins.check(user_id=MEMBER, aad_group_id=TEAM)).allowed
    decision = await admins.check(user_id=OUTSIDER, aad_group_id=TEAM)
    assert decision.refusal == messages.ADMIN_NOT_ALLOWED.format(who="team owners or members of the ml-connector admin group")


async def test_a_policy_that_needs_graph_refuses_clearly_when_graph_is_not_configured():
    decision = await RouteAdmins(["team-owners", OWNER]).check(user_id=MEMBER, aad_group_id=TEAM)

    assert not decision.allowed
    assert decision.refusal == messages.ADMIN_GRAPH_NEEDED.format(who="team owners or the people named in ROUTE_ADMINS")


async def test_a_missing_graph_permission_is_named(graph: GraphClient, env: RunningEntraGraph):
    env.fake.roles -= {"TeamMember.Read.All"}

    decision = await RouteAdmins(["team-owners"], graph).check(user_id=OWNER, aad_group_id=TEAM)

    assert (decision.allowed, decision.basis) == (False, "check-failed")
    assert decision.refusal == messages.ADMIN_GRAPH_PERMISSION.format(permission="TeamMember.Read.All")


async def test_graph_failing_is_said_not_guessed(graph: GraphClient, env: RunningEntraGraph):
    env.fake.fail_next(r"/members$", 500, count=10)

    decision = await RouteAdmins(["team-owners"], graph).check(user_id=OWNER, aad_group_id=TEAM)

    assert not decision.allowed
    assert decision.refusal.startswith("I couldn't check whether you may change subscriptions: Graph failed on GET")
    assert not any(token in decision.refusal for token in env.fake.tokens) and CLIENT_SECRET not in decision.refusal
    assert "eyJ" not in decision.refusal  # no piece of a JWT either


async def test_without_a_user_id_or_a_team_id_nothing_can_be_checked(graph: GraphClient):
    admins = RouteAdmins(["team-owners"], graph)

    assert (await admins.check(user_id=None, aad_group_id=TEAM)).refusal == messages.ADMIN_UNKNOWN_USER
    assert (await admins.check(user_id=OWNER, aad_group_id=None)).refusal == messages.ADMIN_TEAM_UNKNOWN
    # the Playground's mock ids are not GUIDs: Entra could not know such a user
    assert (await admins.check(user_id="00000000-0000-0000-0000-0000000000020", aad_group_id=TEAM)).refusal == messages.ADMIN_UNKNOWN_USER


# --- through Teams ---------------------------------------------------------------------------------


async def test_only_a_team_owner_subscribes_a_channel_from_teams(clock, fixtures_dir, tmp_path, graph: GraphClient, env: RunningEntraGraph):
    env.fake.add_team(AAD_GROUP_ID)
    env.fake.add_team_member(AAD_GROUP_ID, OWNER, "Olga Owner", roles=("owner",))
    env.fake.add_team_member(AAD_GROUP_ID, MEMBER, "Max Member")
    policy = playground_policy(route_admins=("team-owners",))
    async with bot_harness(clock, fixtures_dir, tmp_path, policy=policy, graph_members=graph) as harness:
        await harness.install()
        as_member = {"from": {"id": "29:max", "name": "Max Member", "aadObjectId": MEMBER}}
        as_owner = {"from": {"id": "29:olga", "name": "Olga Owner", "aadObjectId": OWNER}}
        [refused] = await harness.say("subscribe bills", **as_member)
        [done] = await harness.say("subscribe bills", **as_owner)
        routes = await harness.store.list_routes()

    assert refused.payload["text"] == messages.ADMIN_NOT_ALLOWED.format(who="team owners")
    assert done.payload["text"].startswith("Done: this channel now receives new and changed bills")
    [route] = routes
    assert route.created_by == OWNER and route.team_id == AAD_GROUP_ID


async def test_a_team_whose_install_was_missed_gets_its_graph_id_from_the_bot_connector(
    clock, fixtures_dir, tmp_path, graph: GraphClient, env: RunningEntraGraph
):
    # Messages carry only Teams' id of the team (channelData.team.id; the recorded Teams message
    # has no aadGroupId), so without the install events the owners check had nothing to ask Graph.
    env.fake.add_team(AAD_GROUP_ID)
    env.fake.add_team_member(AAD_GROUP_ID, OWNER, "Olga Owner", roles=("owner",))
    policy = playground_policy(route_admins=("team-owners",))
    as_owner = {"from": {"id": "29:olga", "name": "Olga Owner", "aadObjectId": OWNER}}
    async with bot_harness(clock, fixtures_dir, tmp_path, policy=policy, graph_members=graph) as harness:
        [done] = await harness.say("subscribe bills", **as_owner)  # no install before: it was missed
        [listed] = await harness.say("subscriptions", **as_owner)
        lookups = harness.fake.calls_of("get_team")
        stored = {r.conversation_id: r.aad_group_id for r in await harness.store.list_conversations()}
        routes = await harness.store.list_routes()

    assert done.payload["text"].startswith("Done: this channel now receives new and changed bills")
    [route] = routes
    assert route.team_id == AAD_GROUP_ID  # so Graph can subscribe to its channels
    assert len(lookups) == 1 and lookups[0].status == 200  # once: then the stored records know it
    assert set(stored.values()) == {AAD_GROUP_ID}


async def test_a_failed_graph_id_lookup_refuses_with_a_reason_and_is_not_repeated_at_once(
    clock, fixtures_dir, tmp_path, graph: GraphClient, env: RunningEntraGraph, caplog
):
    env.fake.add_team(AAD_GROUP_ID)
    env.fake.add_team_member(AAD_GROUP_ID, OWNER, "Olga Owner", roles=("owner",))
    policy = playground_policy(route_admins=("team-owners",))
    as_owner = {"from": {"id": "29:olga", "name": "Olga Owner", "aadObjectId": OWNER}}
    async with bot_harness(clock, fixtures_dir, tmp_path, policy=policy, graph_members=graph) as harness:
        harness.fake.fail_next(502, operations=["get_team"], times=1)
        with caplog.at_level(logging.WARNING, logger="bot.teams.conversations"):
            [refused] = await harness.say("subscribe bills", **as_owner)
            [again] = await harness.say("subscribe bills", **as_owner)
        clock.advance(minutes=11)
        [done] = await harness.say("subscribe bills", **as_owner)
        lookups = [c.status for c in harness.fake.calls_of("get_team")]

    assert refused.payload["text"] == again.payload["text"] == messages.ADMIN_TEAM_UNKNOWN
    assert done.payload["text"].startswith("Done:")
    assert lookups == [502, 200]  # one try (no SDK retries), none while the failure is fresh, one after
    assert len([r for r in caplog.records if "would not give its Graph id" in r.getMessage()]) == 1


async def test_the_graph_id_lookup_never_blocks_the_event_loop(clock, fixtures_dir, tmp_path, graph: GraphClient, env: RunningEntraGraph):
    # botbuilder's TeamsInfo.get_team_details calls a synchronous requests client inside a coroutine.
    env.fake.add_team(AAD_GROUP_ID)
    env.fake.add_team_member(AAD_GROUP_ID, OWNER, "Olga Owner", roles=("owner",))
    policy = playground_policy(route_admins=("team-owners",))
    as_owner = {"from": {"id": "29:olga", "name": "Olga Owner", "aadObjectId": OWNER}}
    async with bot_harness(clock, fixtures_dir, tmp_path, policy=policy, graph_members=graph) as harness:
        arrived = asyncio.Event()

        async def seen(operation: str, conversation_id: str | None) -> None:
            if operation == "get_team":
                arrived.set()

        harness.fake.on_request = seen
        harness.fake.stall_next()
        subscribing = asyncio.ensure_future(harness.post(harness.message("subscribe bills", **as_owner)))
        await asyncio.wait_for(arrived.wait(), 10)
        started = time.perf_counter()
        health = await harness.client.get("/healthz")
        waited_ms = (time.perf_counter() - started) * 1000
        harness.fake.release()
        status = await subscribing

    assert health.status == 200 and waited_ms < 500
    assert status == 201
