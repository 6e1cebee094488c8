"""Notification requests: the validation handshake, change and lifecycle notifications, clientState checks."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
import pytest

from graph.notifications import (
    ChannelChanged,
    ClientStateMismatchError,
    Handshake,
    LifecycleEvent,
    LifecycleEventKind,
    NotificationFormatError,
    parse_notification_request,
)
from graph.subscriptions import SubscriptionManager
from tests.fakes.entra_graph import RunningEntraGraph
from tests.graph.conftest import GENERAL, PAYABLES, TEAM_A
from tests.graph.receiver import NotificationReceiver

SAMPLE_STATE = "<<--SpecifiedClientState-->>"
JSON = "application/json; charset=utf-8"


def _accepting(expected: str):
    async def verify(subscription_id: str, client_state: str) -> bool:
        return client_state == expected
    return verify


def _sample(fixtures_dir: Path, name: str) -> bytes:
    return (fixtures_dir / "teams-samples" / "graph" / name).read_bytes()


async def test_graph_handshake_succeeds_against_our_endpoint(manager: SubscriptionManager, env: RunningEntraGraph):
    await manager.ensure([TEAM_A])

    handshakes = env.fake.handshakes
    assert [h.ok for h in handshakes] == [True, True]  # notification URL and lifecycle URL
    assert all(h.token.startswith("Validation: Testing client application reachability") for h in handshakes)
    assert [h.body for h in handshakes] == [h.token for h in handshakes]
    assert all(h.content_type == "text/plain" for h in handshakes)


async def test_handshake_token_is_echoed_url_decoded_and_verbatim(
    receiver: NotificationReceiver, http: aiohttp.ClientSession
):
    receiver.verify = _accepting("unused")
    url = f"{receiver.notification_url}?validationToken=Validation%3a+Testing+%2B+%26+%3C%3E+%C3%A9"

    async with http.post(url, data=b"", headers={"Content-Type": "text/plain; charset=utf-8"}) as response:
        assert response.status == 200
        assert response.content_type == "text/plain"
        assert await response.text() == "Validation: Testing + & <> é"


async def test_handshake_needs_no_body_and_no_client_state():
    result = await parse_notification_request({"validationToken": "abc 123"}, b"", "text/plain; charset=utf-8",
                                              verify_client_state=_accepting("never-called"))
    assert result == Handshake("abc 123")


async def test_channel_notification_from_graph_reaches_us_typed(
    manager: SubscriptionManager, env: RunningEntraGraph, receiver: NotificationReceiver
):
    await manager.ensure([TEAM_A])
    env.fake.delete_channel(TEAM_A, PAYABLES)

    statuses = await env.fake.notify_channel_change(TEAM_A, PAYABLES, "deleted")

    assert statuses == [202]
    subscription_id = env.fake.live_subscriptions()[0].id
    assert receiver.accepted == [ChannelChanged(TEAM_A, PAYABLES, "deleted", subscription_id, env.fake.tenant_id)]


async def test_lifecycle_notification_from_graph_reaches_us_typed(
    manager: SubscriptionManager, env: RunningEntraGraph, receiver: NotificationReceiver
):
    await manager.ensure([TEAM_A])
    subscription = env.fake.live_subscriptions()[0]

    assert await env.fake.send_lifecycle_event(subscription.id, "reauthorizationRequired") == 202

    [event] = receiver.accepted
    assert isinstance(event, LifecycleEvent)
    assert event.kind is LifecycleEventKind.REAUTHORIZATION_REQUIRED
    assert event.subscription_id == subscription.id
    assert event.subscription_expires_at == subscription.expires_at


async def test_forged_notification_is_refused_and_logged_without_the_state(
    manager: SubscriptionManager, env: RunningEntraGraph, receiver: NotificationReceiver,
    http: aiohttp.ClientSession, storage, caplog,
):
    await manager.ensure([TEAM_A])
    [record] = storage.subscriptions.values()
    caplog.set_level(logging.DEBUG)
    forged = {"value": [{"subscriptionId": record.id, "clientState": "guessed-state", "changeType": "deleted",
                         "resource": f"teams('{TEAM_A}')/channels('{GENERAL}')"}]}

    async with http.post(receiver.notification_url, json=forged) as response:
        assert response.status == 403

    assert receiver.accepted == []
    refusal = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(refusal) == 1 and record.id in refusal[0] and "1 wrong clientState" in refusal[0]
    assert all(record.client_state not in r.getMessage() and "guessed-state" not in r.getMessage()
               for r in caplog.records)


async def test_missing_client_state_is_refused():
    body = json.dumps({"value": [{"subscriptionId": "s1", "changeType": "created",
                                  "resource": f"teams('{TEAM_A}')/channels('{GENERAL}')"}]}).encode()

    with pytest.raises(ClientStateMismatchError):
        await parse_notification_request({}, body, JSON, verify_client_state=_accepting("x"))


async def test_a_bad_item_does_not_sink_the_good_ones():
    good = {"subscriptionId": "s1", "clientState": "right", "changeType": "updated",
            "resource": f"teams('{TEAM_A}')/channels('{GENERAL}')"}
    bad = dict(good, clientState="wrong")
    body = json.dumps({"value": [bad, good]}).encode()

    result = await parse_notification_request({}, body, JSON, verify_client_state=_accepting("right"))

    assert result == [ChannelChanged(TEAM_A, GENERAL, "updated", "s1")]


async def test_documented_channel_notification_sample(fixtures_dir: Path):
    body = _sample(fixtures_dir, "notification-channel-with-resource-data.json")

    result = await parse_notification_request({}, body, JSON, verify_client_state=_accepting(SAMPLE_STATE))

    assert result == [ChannelChanged("fb82c19a-0f6d-41ed-90f0-cbb29a476ede",
                                     "19:01f39f5ac52f45fb9a7ce01cedd57b1f@thread.tacv2", "created",
                                     "10493aa0-4d29-4df5-bc0c-ef742cc6cd7f", "<<--TenantForWhichNotificationWasSent-->>")]


@pytest.mark.parametrize("kind", list(LifecycleEventKind))
async def test_documented_lifecycle_sample_with_each_event(fixtures_dir: Path, kind: LifecycleEventKind):
    document = json.loads(_sample(fixtures_dir, "lifecycle-notification-template.json"))
    document["value"][0]["lifecycleEvent"] = kind.value  # the sample holds the doc's placeholder text

    [event] = await parse_notification_request({}, json.dumps(document).encode(), JSON,
                                               verify_client_state=_accepting("<secretClientState>"))

    assert event == LifecycleEvent("<subscription_guid>", kind, "<tenant_guid>",
                                   datetime(2019, 3, 20, 11, 0, tzinfo=timezone.utc))


async def test_team_level_notification_is_ignored(fixtures_dir: Path, caplog):
    item = json.loads(_sample(fixtures_dir, "notification-team-without-resource-data.json"))
    body = json.dumps({"value": [item]}).encode()

    result = await parse_notification_request({}, body, JSON, verify_client_state=_accepting(SAMPLE_STATE))

    assert result == []
    assert any("not a team channel" in r.getMessage() for r in caplog.records)


async def test_unknown_lifecycle_event_is_ignored_and_logged(caplog):
    body = json.dumps({"value": [{"subscriptionId": "s1", "clientState": "ok", "lifecycleEvent": "somethingNew"}]})

    result = await parse_notification_request({}, body.encode(), JSON, verify_client_state=_accepting("ok"))

    assert result == []
    assert [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()] == [
        "dropped 1 Graph notification(s): 1 unknown lifecycle event (the first for subscription 's1')"]


@pytest.mark.parametrize(("body", "content_type"), [
    (b"not json", JSON),
    (b'{"value": []}', JSON),
    (b'{"nothing": 1}', JSON),
    (b'{"value": ["x"]}', JSON),
    (b'{"value": [{"clientState": "ok"}]}', JSON),
    (b'{"value": [{}]}', "text/html"),
    (b"x" * (1024 * 1024 + 1), JSON),
])
async def test_malformed_requests_are_format_errors(body: bytes, content_type: str):
    with pytest.raises(NotificationFormatError):
        await parse_notification_request({}, body, content_type, verify_client_state=_accepting("ok"))


async def test_malformed_request_gets_400_from_the_route(receiver: NotificationReceiver, http: aiohttp.ClientSession):
    receiver.verify = _accepting("ok")
    async with http.post(receiver.notification_url, data=b"{", headers={"Content-Type": JSON}) as response:
        assert response.status == 400


async def test_url_encoded_ids_in_the_resource_are_decoded():
    body = json.dumps({"value": [{"subscriptionId": "s1", "clientState": "ok", "changeType": "Created",
                                  "resource": f"Teams('{TEAM_A}')/Channels('19%3Aabc%40thread.tacv2')"}]}).encode()

    result = await parse_notification_request({}, body, JSON, verify_client_state=_accepting("ok"))

    assert result == [ChannelChanged(TEAM_A, "19:abc@thread.tacv2", "created", "s1")]
