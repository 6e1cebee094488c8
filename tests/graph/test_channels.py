"""The channel directory: names not ids, TTL cache on the injected clock, diffs, fallbacks."""

from __future__ import annotations

import asyncio
import logging

from graph.channels import ChannelDiff, ChannelDirectory, diff_names
from graph.client import GraphClient
from graph.notifications import ChannelChanged
from tests.fakes.entra_graph import RunningEntraGraph
from tests.graph.conftest import GENERAL, PAYABLES, TEAM_A
from tests.graph.memory_storage import MemoryGraphStorage

CHANNELS_PATH = f"/v1.0/teams/{TEAM_A}/channels"


def _list_calls(env: RunningEntraGraph) -> int:
    return sum(1 for r in env.fake.graph_requests("GET", authorized=True) if r.path == CHANNELS_PATH)


async def test_label_shows_the_name_not_the_id(graph: GraphClient, clock):
    directory = ChannelDirectory(graph, clock=clock)

    assert await directory.label(TEAM_A, PAYABLES) == "Payables"
    assert await directory.label(TEAM_A, "19:unknown@thread.tacv2") == "19:unknown@thread.tacv2"
    assert await directory.label(None, PAYABLES) == PAYABLES


async def test_names_are_cached_for_the_ttl(graph: GraphClient, env: RunningEntraGraph, clock):
    directory = ChannelDirectory(graph, clock=clock)

    await directory.names(TEAM_A)
    clock.advance(minutes=29)
    await asyncio.gather(*(directory.names(TEAM_A) for _ in range(3)))
    assert _list_calls(env) == 1

    clock.advance(minutes=2)
    env.fake.rename_channel(TEAM_A, GENERAL, "Town Square")
    assert (await directory.names(TEAM_A))[GENERAL] == "Town Square"
    assert _list_calls(env) == 2


async def test_invalidate_forces_a_new_listing(graph: GraphClient, env: RunningEntraGraph, clock):
    directory = ChannelDirectory(graph, clock=clock)
    await directory.names(TEAM_A)

    directory.invalidate(TEAM_A)
    await directory.names(TEAM_A)

    assert _list_calls(env) == 2


async def test_change_notifications_update_one_channel(graph: GraphClient, env: RunningEntraGraph, clock, storage):
    reported: list[ChannelDiff] = []

    async def collect(diff: ChannelDiff) -> None:
        reported.append(diff)

    directory = ChannelDirectory(graph, storage, clock=clock, on_change=collect)
    await directory.names(TEAM_A)
    added = env.fake.add_channel(TEAM_A, "Audit")
    env.fake.delete_channel(TEAM_A, PAYABLES)

    await directory.apply(ChannelChanged(TEAM_A, added, "created"))
    await directory.apply(ChannelChanged(TEAM_A, PAYABLES, "deleted"))

    assert reported[1:] == [ChannelDiff(TEAM_A, added={added: "Audit"}),
                            ChannelDiff(TEAM_A, removed={PAYABLES: "Payables"})]
    assert storage.names[TEAM_A] == {GENERAL: "General", added: "Audit"}
    assert _list_calls(env) == 1  # single-channel GETs, no re-listing


async def test_update_for_a_channel_deleted_meanwhile_counts_as_removed(
    graph: GraphClient, env: RunningEntraGraph, clock
):
    directory = ChannelDirectory(graph, clock=clock)
    await directory.names(TEAM_A)
    env.fake.delete_channel(TEAM_A, PAYABLES)

    diff = await directory.apply(ChannelChanged(TEAM_A, PAYABLES, "updated"))

    assert diff.removed == {PAYABLES: "Payables"}


async def test_stored_names_survive_a_restart_and_a_graph_outage(
    graph: GraphClient, env: RunningEntraGraph, clock, storage: MemoryGraphStorage, caplog
):
    await ChannelDirectory(graph, storage, clock=clock).names(TEAM_A)
    restarted = ChannelDirectory(graph, storage, clock=clock)
    env.fake.roles.clear()  # Graph now refuses (permission removed)
    caplog.set_level(logging.INFO)

    assert await restarted.label(TEAM_A, PAYABLES) == "Payables"
    assert await restarted.label(TEAM_A, GENERAL) == "General"
    warnings = [r for r in caplog.records if "cannot read channel names" in r.getMessage()]
    assert len(warnings) == 1  # logged once when it starts failing, not on every label

    env.fake.roles.add("Channel.ReadBasic.All")
    restarted.invalidate(TEAM_A)
    await restarted.label(TEAM_A, GENERAL)
    assert any("readable from Graph again" in r.getMessage() for r in caplog.records)


async def test_resync_after_a_restart_compares_with_stored_names(
    graph: GraphClient, env: RunningEntraGraph, clock, storage
):
    await ChannelDirectory(graph, storage, clock=clock).names(TEAM_A)
    env.fake.rename_channel(TEAM_A, PAYABLES, "AP")
    env.fake.delete_channel(TEAM_A, GENERAL)

    diff = await ChannelDirectory(graph, storage, clock=clock).resync(TEAM_A)

    assert diff == ChannelDiff(TEAM_A, renamed={PAYABLES: ("Payables", "AP")}, removed={GENERAL: "General"})


async def test_unchanged_names_are_not_written_again(graph: GraphClient, clock, storage: MemoryGraphStorage):
    directory = ChannelDirectory(graph, storage, clock=clock)
    await directory.resync(TEAM_A)
    await directory.resync(TEAM_A)

    assert storage.saved_names == 1


async def test_callback_may_ask_for_names_without_deadlock(graph: GraphClient, env: RunningEntraGraph, clock):
    labels: list[str] = []
    directory: ChannelDirectory

    async def describe(diff: ChannelDiff) -> None:
        for channel_id in diff.renamed:
            labels.append(await directory.label(diff.team_id, channel_id))

    directory = ChannelDirectory(graph, clock=clock, on_change=describe)
    await directory.names(TEAM_A)
    env.fake.rename_channel(TEAM_A, GENERAL, "Lobby")

    await asyncio.wait_for(directory.apply(ChannelChanged(TEAM_A, GENERAL, "updated")), timeout=5)

    assert labels == ["Lobby"]


def test_diff_names():
    diff = diff_names("t", {"a": "A", "b": "B", "c": "C"}, {"a": "A", "b": "Bee", "d": "D"})

    assert diff == ChannelDiff("t", added={"d": "D"}, renamed={"b": ("B", "Bee")}, removed={"c": "C"})
    assert diff.changed
    assert not diff_names("t", {"a": "A"}, {"a": "A"}).changed
