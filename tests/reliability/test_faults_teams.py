"""Teams faults through the whole service: AP changes in the sandbox reach a channel whose Bot
Connector answers 429, 412, 502, 503, 413, 403 or 404 for a while.

The notifier's reaction to each status is unit-tested in tests/bot; here the poller, the store,
the notifier's run and the real CloudAdapter run together, and the verdict is what the channel
shows (tests/fakes/teams_ledger.py) and what the store keeps.
"""

from __future__ import annotations

import pytest

from tests.fakes.ap_workload import ApWorkload, Truth, read_truth
from tests.fakes.teams_activities import CHANNEL_ID, TEAM_ID
from tests.reliability.conftest import make_workload
from tests.reliability.harness import Service
from tests.reliability.oracle import check_delivery


async def changes(service: Service, count: int = 12) -> tuple[ApWorkload, Truth]:
    """`count` seeded AP changes and the final state they leave."""
    workload = await make_workload(service)
    await workload.burst(count)
    return workload, await read_truth(service.sandbox.client(service.clock))


async def delivered(service: Service, workload: ApWorkload, truth: Truth) -> bool:
    """Every change shows in its final state and no row is left to send."""
    return check_delivery(truth, workload, service.ledger()).complete and await service.outbox_settled()


def writes_to(service: Service, status: int, channel_id: str = CHANNEL_ID) -> list:
    """Calls to the channel (and its threads) that got `status`."""
    return [c for c in service.fake.calls if c.status == status and (c.conversation_id or "").partition(";")[0] == channel_id]


@pytest.mark.parametrize("status, retry_after", [(429, 3), (412, None), (502, None), (503, 2)])
async def test_a_channel_that_refuses_for_a_while_gets_every_card_once_afterwards(service: Service, status: int, retry_after):
    workload, truth = await changes(service)
    service.fake.fail_next(status, times=3, retry_after=retry_after, conversation_id=CHANNEL_ID, operations={"create", "update"})

    waited = await service.run_until(lambda: delivered(service, workload, truth), what=f"every card delivered after {status}s")

    check = check_delivery(truth, workload, service.ledger())
    assert check.duplicates == 0 and check.expected >= 4, check.describe()
    assert len(writes_to(service, status)) == 3, "the refusals must have hit the service"
    assert await service.store.outbox_items(status="failed") == [] and service.alerts() == []
    if retry_after:
        assert waited >= retry_after, "Retry-After must be honoured"


async def test_a_card_too_large_for_teams_is_sent_smaller(service: Service):
    workload, truth = await changes(service)
    service.fake.fail_next(413, times=1, conversation_id=CHANNEL_ID, operations={"create"})

    await service.run_until(lambda: delivered(service, workload, truth), what="every card delivered after a 413")

    [refused] = writes_to(service, 413)
    resent = next(c for c in service.fake.calls if c.status == 201 and c.at >= refused.at)
    assert len(str(resent.body)) < len(str(refused.body)), "the card sent after the 413 must be smaller"
    assert sum(d.shrunk for d in service.drains) == 1
    check = check_delivery(truth, workload, service.ledger())
    assert check.duplicates == 0, check.describe()


# How the channel comes back: a message from the channel proves the bot is back in the team; a
# deleted channel's routes stay off (bot/teams/conversations.py PRESENCE_REASONS) until someone in it
# subscribes again.
@pytest.mark.parametrize("gone, heal", [("403 bot removed", "subscriptions"), ("404 channel deleted", "subscribe all")])
async def test_a_channel_that_is_gone_is_switched_off_the_operators_are_told_and_it_heals(service: Service, gone: str, heal: str):
    if gone.startswith("403"):
        service.fake.fail_next(403, "BotNotInConversationRoster", times=1000, conversation_id=CHANNEL_ID)
    else:
        service.fake.delete_channel(CHANNEL_ID)
    workload, truth = await changes(service)

    await service.run_until(service.outbox_settled, what="every row settled")

    [route] = [r for r in await service.store.list_routes() if r.conversation_id == CHANNEL_ID]
    assert not route.active, "the gone channel's route must be switched off"
    assert len(writes_to(service, int(gone[:3]))) == 1, "one refusal is enough: the other rows are not sent"
    failed = await service.store.outbox_items(status="failed")
    assert failed and {r.conversation_id for r in failed} == {CHANNEL_ID}
    audit = {(a.event_key, a.outcome) for a in await service.store.list_audit() if a.conversation_id == CHANNEL_ID}
    assert {(r.event_key, "gone") for r in failed} <= audit, "every card not delivered is in the audit trail"
    [alert] = service.alerts()
    assert "Announcements" in alert or CHANNEL_ID in alert, alert

    # The bot is back (re-added, or the channel restored) and someone writes there.
    if gone.startswith("403"):
        service.fake.faults.clear()
    else:
        service.fake.add_channel(TEAM_ID, CHANNEL_ID, "Announcements")
    assert await service.say(heal) in (200, 201)
    bill = await service.sandbox.add_bill(amount="310.00")
    await service.run_until(lambda: _has_card(service, bill["record_no"]), what="cards flow again after the channel healed")


async def test_a_card_someone_deleted_is_posted_again_when_its_record_changes(service: Service):
    bill = await service.sandbox.add_bill(amount="2500.00")
    await service.run_until(lambda: _has_card(service, bill["record_no"]), what="the bill's card")
    [card] = service.ledger().cards(("APBILL", bill["record_no"]))
    service.fake.messages[card.activity_id].deleted = True  # a team owner deleted the bot's message

    await service.sandbox.set_bill_state(bill["record_no"], "Approved")
    await service.run_until(lambda: _has_card(service, bill["record_no"], "Posted"), what="a new card for the approved bill")

    [update] = [c for c in service.fake.calls if c.operation == "update"]
    assert update.status == 404 and update.activity_id == card.activity_id
    [fresh] = service.ledger().cards(("APBILL", bill["record_no"]))
    assert fresh.activity_id != card.activity_id
    assert await service.store.outbox_items(status="failed") == []


async def _has_card(service: Service, record_no: int, state: str | None = None) -> bool:
    latest = service.ledger().latest(("APBILL", record_no))
    return latest is not None and (state is None or latest["attachments"][0]["content"]["fallbackText"].endswith(state)) \
        and await service.outbox_settled()
