"""SubscriptionManager against the fake Graph: creation, deletion, renewal, recreation, lifecycle events."""

from __future__ import annotations

import pytest

from graph.channels import ChannelDiff, ChannelDirectory
from graph.client import GraphClient
from graph.errors import GraphPermissionError
from graph.notifications import ChannelChanged, LifecycleEvent, LifecycleEventKind
from graph.subscriptions import MAX_LIFETIME, SAFETY_MARGIN, SubscriptionManager
from tests.fakes.entra_graph import RunningEntraGraph
from tests.graph.conftest import GENERAL, PAYABLES, TEAM_A, TEAM_B
from tests.graph.memory_storage import MemoryGraphStorage
from tests.graph.receiver import NotificationReceiver


@pytest.fixture
def diffs() -> list[ChannelDiff]:
    """What the channel directory reported."""
    return []


@pytest.fixture
def manager(
    graph: GraphClient, storage: MemoryGraphStorage, receiver: NotificationReceiver, clock, diffs
) -> SubscriptionManager:
    """A manager whose directory reports channel diffs into `diffs`."""
    async def collect(diff: ChannelDiff) -> None:
        diffs.append(diff)

    directory = ChannelDirectory(graph, storage, clock=clock, on_change=collect)
    subscriptions = SubscriptionManager(graph, storage, notification_url=receiver.notification_url,
                                        lifecycle_url=receiver.lifecycle_url, clock=clock, directory=directory)
    receiver.verify = subscriptions.verify_client_state
    return subscriptions


async def test_ensure_creates_one_subscription_per_team(manager, env: RunningEntraGraph, storage, receiver, clock):
    report = await manager.ensure([TEAM_A, TEAM_B])

    assert report.created == tuple(sorted([TEAM_A, TEAM_B])) and not report.failed
    live = {s.team_id: s for s in env.fake.live_subscriptions()}
    assert set(live) == {TEAM_A, TEAM_B}
    for team_id, sub in live.items():
        assert sub.resource == f"/teams/{team_id}/channels"
        assert sub.change_type == "created,updated,deleted"
        assert sub.notification_url == receiver.notification_url
        assert sub.lifecycle_url == receiver.lifecycle_url
        assert sub.expires_at == clock() + MAX_LIFETIME - SAFETY_MARGIN
    stored = {r.team_id: r for r in storage.subscriptions.values()}
    assert {stored[t].id for t in stored} == {s.id for s in live.values()}
    states = [r.client_state for r in stored.values()]
    assert all(0 < len(state) <= 128 for state in states) and len(set(states)) == 2
    assert [live[t].client_state for t in sorted(live)] == [stored[t].client_state for t in sorted(live)]


async def test_ensure_fills_channel_names(manager, storage):
    await manager.ensure([TEAM_A])

    assert storage.names[TEAM_A] == {GENERAL: "General", PAYABLES: "Payables"}


async def test_ensure_is_idempotent(manager, env: RunningEntraGraph):
    await manager.ensure([TEAM_A])
    report = await manager.ensure([TEAM_A])

    assert report.created == () and report.deleted == ()
    assert len(env.fake.graph_requests("POST")) == 1


async def test_team_without_routes_loses_its_subscription(manager, env: RunningEntraGraph, storage):
    await manager.ensure([TEAM_A, TEAM_B])
    [gone] = [s.id for s in env.fake.live_subscriptions() if s.team_id == TEAM_B]

    report = await manager.ensure([TEAM_A])

    assert report.deleted == (TEAM_B,)
    assert [r.method for r in env.fake.graph_requests() if r.path == f"/v1.0/subscriptions/{gone}"] == ["DELETE"]
    assert [s.team_id for s in env.fake.live_subscriptions()] == [TEAM_A]
    assert [r.team_id for r in storage.subscriptions.values()] == [TEAM_A]


async def test_deleting_a_subscription_graph_already_dropped_just_forgets_it(manager, env: RunningEntraGraph, storage):
    await manager.ensure([TEAM_A])
    env.fake.drop_subscription(next(iter(storage.subscriptions)))

    report = await manager.ensure([])

    assert report.deleted == (TEAM_A,) and not report.failed
    assert storage.subscriptions == {}


async def test_one_failing_team_does_not_stop_the_others(manager, env: RunningEntraGraph):
    report = await manager.ensure([TEAM_A, "00000000-0000-4000-8000-000000000000"])

    assert report.created == (TEAM_A,)
    assert list(report.failed) == ["00000000-0000-4000-8000-000000000000"]


async def test_missing_permission_is_reported(manager, env: RunningEntraGraph):
    env.fake.roles.clear()

    report = await manager.ensure([TEAM_A])

    assert isinstance(report.failed[TEAM_A], GraphPermissionError)
    assert "Channel.ReadBasic.All" in str(report.failed[TEAM_A])


async def test_no_renewal_while_more_than_a_day_is_left(manager, env: RunningEntraGraph, clock):
    await manager.ensure([TEAM_A])
    clock.advance(hours=47)  # 3 days - 10 min - 47 h ≈ 24 h 50 min left

    report = await manager.renew_due()

    assert report.renewed == ()
    assert env.fake.graph_requests("PATCH") == []


async def test_renewal_when_less_than_a_day_is_left(manager, env: RunningEntraGraph, storage, clock):
    await manager.ensure([TEAM_A])
    clock.advance(hours=49)

    report = await manager.renew_due()

    assert report.renewed == (TEAM_A,)
    [patch] = env.fake.graph_requests("PATCH", authorized=True)  # the first try met an expired token
    new_expiry = clock() + MAX_LIFETIME - SAFETY_MARGIN
    assert env.fake.live_subscriptions()[0].expires_at == new_expiry
    assert [r.expires_at for r in storage.subscriptions.values()] == [new_expiry]
    assert patch.json() == {"expirationDateTime": new_expiry.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}


async def test_subscription_lost_to_a_late_renewal_is_recreated_and_resynced(
    manager, env: RunningEntraGraph, storage, clock, diffs
):
    await manager.ensure([TEAM_A])
    [old_id] = storage.subscriptions
    clock.advance(days=3)  # past expiry: Graph deleted it
    env.fake.rename_channel(TEAM_A, PAYABLES, "Accounts Payable")
    diffs.clear()

    report = await manager.renew_due()

    assert report.recreated == (TEAM_A,) and not report.failed
    assert [r.path for r in env.fake.graph_requests("PATCH", authorized=True)] == [f"/v1.0/subscriptions/{old_id}"]
    [new] = env.fake.live_subscriptions()
    assert new.id != old_id and list(storage.subscriptions) == [new.id]
    assert diffs == [ChannelDiff(TEAM_A, renamed={PAYABLES: ("Payables", "Accounts Payable")})]


async def test_a_subscription_graph_dropped_silently_is_recreated_and_resynced(
    manager, env: RunningEntraGraph, storage, clock, diffs
):
    await manager.ensure([TEAM_A])
    [old_id] = storage.subscriptions
    env.fake.drop_subscription(old_id)  # no lifecycle notification, long before expiry
    env.fake.delete_channel(TEAM_A, PAYABLES)
    diffs.clear()

    assert (await manager.renew_due()).recreated == ()  # renewal would not notice for two days
    report = await manager.recover_lost()

    assert report.recreated == (TEAM_A,) and not report.failed
    [new] = env.fake.live_subscriptions()
    assert new.id != old_id and list(storage.subscriptions) == [new.id]
    assert diffs == [ChannelDiff(TEAM_A, removed={PAYABLES: "Payables"})]
    assert (await manager.recover_lost()).recreated == ()


async def test_ensure_replaces_a_locally_expired_subscription(manager, env: RunningEntraGraph, storage, clock):
    await manager.ensure([TEAM_A])
    clock.advance(days=4)

    report = await manager.ensure([TEAM_A])

    assert report.recreated == (TEAM_A,)
    assert len(env.fake.live_subscriptions()) == 1
    assert [r.id for r in storage.subscriptions.values()] == [env.fake.live_subscriptions()[0].id]


async def test_reauthorization_required(manager, env: RunningEntraGraph, storage):
    await manager.ensure([TEAM_A])
    [record] = storage.subscriptions.values()

    await manager.handle_lifecycle(LifecycleEvent(record.id, LifecycleEventKind.REAUTHORIZATION_REQUIRED))

    assert [r.path for r in env.fake.graph_requests("POST")][-1] == f"/v1.0/subscriptions/{record.id}/reauthorize"
    assert list(storage.subscriptions) == [record.id]


async def test_reauthorization_of_a_gone_subscription_recreates_it(manager, env: RunningEntraGraph, storage):
    await manager.ensure([TEAM_A])
    [old_id] = storage.subscriptions
    env.fake.drop_subscription(old_id)

    await manager.handle_lifecycle(LifecycleEvent(old_id, LifecycleEventKind.REAUTHORIZATION_REQUIRED))

    [new] = env.fake.live_subscriptions()
    assert list(storage.subscriptions) == [new.id] and new.id != old_id


async def test_subscription_removed_end_to_end(manager, env: RunningEntraGraph, storage, receiver, diffs):
    await manager.ensure([TEAM_A])
    [old_id] = storage.subscriptions
    env.fake.delete_channel(TEAM_A, PAYABLES)  # a change nobody will be notified of
    diffs.clear()

    assert await env.fake.send_lifecycle_event(old_id, "subscriptionRemoved") == 202
    [event] = receiver.accepted
    await manager.handle(event)

    [new] = env.fake.live_subscriptions()
    assert new.id != old_id and list(storage.subscriptions) == [new.id]
    assert diffs == [ChannelDiff(TEAM_A, removed={PAYABLES: "Payables"})]


async def test_missed_resyncs_the_team(manager, env: RunningEntraGraph, storage, diffs):
    await manager.ensure([TEAM_A])
    [record] = storage.subscriptions.values()
    new_channel = env.fake.add_channel(TEAM_A, "Vendor Questions")
    diffs.clear()

    await manager.handle_lifecycle(LifecycleEvent(record.id, LifecycleEventKind.MISSED))

    assert diffs == [ChannelDiff(TEAM_A, added={new_channel: "Vendor Questions"})]
    assert len(env.fake.graph_requests("POST")) == 1  # nothing recreated


async def test_lifecycle_event_for_an_unknown_subscription_is_ignored(manager, env: RunningEntraGraph, caplog):
    await manager.handle_lifecycle(LifecycleEvent("not-ours", LifecycleEventKind.SUBSCRIPTION_REMOVED))

    assert env.fake.graph_requests("POST") == []
    assert any("unknown subscription not-ours" in r.getMessage() for r in caplog.records)


async def test_channel_change_notification_updates_names(manager, env: RunningEntraGraph, storage, diffs):
    await manager.ensure([TEAM_A])
    env.fake.rename_channel(TEAM_A, GENERAL, "General (AP)")
    diffs.clear()

    await manager.handle(ChannelChanged(TEAM_A, GENERAL, "updated"))

    assert diffs == [ChannelDiff(TEAM_A, renamed={GENERAL: ("General", "General (AP)")})]
    assert storage.names[TEAM_A][GENERAL] == "General (AP)"


async def test_verify_client_state(manager, storage):
    await manager.ensure([TEAM_A])
    [record] = storage.subscriptions.values()

    assert await manager.verify_client_state(record.id, record.client_state)
    assert not await manager.verify_client_state(record.id, record.client_state + "x")
    assert not await manager.verify_client_state(record.id, "")
    assert not await manager.verify_client_state("unknown-id", record.client_state)


async def test_client_state_of_another_instances_subscription_is_found(
    graph, storage, receiver, clock, manager, env: RunningEntraGraph
):
    await manager.ensure([TEAM_A])
    [record] = storage.subscriptions.values()
    other_instance = SubscriptionManager(graph, storage, notification_url=receiver.notification_url,
                                         lifecycle_url=receiver.lifecycle_url, clock=clock)

    assert await other_instance.verify_client_state(record.id, record.client_state)


async def test_unknown_ids_do_not_reload_the_store_on_every_request(manager, storage, clock):
    await manager.verify_client_state("forged", "x")
    reads = storage.list_calls
    for _ in range(5):
        await manager.verify_client_state("forged", "x")
    assert storage.list_calls == reads
    clock.advance(seconds=10)
    await manager.verify_client_state("forged", "x")
    assert storage.list_calls == reads + 1


async def test_client_state_generator_is_checked(graph, storage, receiver, clock):
    too_long = SubscriptionManager(graph, storage, notification_url=receiver.notification_url,
                                   lifecycle_url=receiver.lifecycle_url, clock=clock, random_state=lambda: "x" * 129)

    with pytest.raises(ValueError, match="clientState"):
        await too_long.ensure([TEAM_A])


async def test_team_ids_that_could_break_the_resource_path_are_refused(manager):
    with pytest.raises(ValueError, match="not a Graph team id"):
        await manager.ensure(["abc/../../users"])
