"""The notifier's pure decisions (bot/delivery_policy.py) and its in-process write queue
(bot/store_writes.py): every Teams failure gets a verdict, back-off grows and is bounded,
update-or-post follows the record, and SQLite writes take turns with sends first."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest

from bot import errors
from bot.delivery_policy import (
    Action,
    DeliveryPolicy,
    Verdict,
    backoff_seconds,
    choose_action,
    classify,
    delivery_limits,
    may_have_card,
    retry_delay,
)
from bot.pacing import CONVERSATION_LIMITS, TENANT_LIMITS
from bot.store_writes import WriteQueue, serialize_sqlite_writes
from store.sql import open_store
from store.types import AuditEntry
from tests.bot.notifier_world import changed, created, vendor_held

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)

ERRORS = [
    (errors.ThrottledError("t", status=429, retry_after=2.0), Verdict.THROTTLED),
    (errors.PreconditionFailedError("p", status=412), Verdict.RETRY),
    (errors.BadGatewayError("b", status=502), Verdict.RETRY),
    (errors.ServiceUnavailableError("s", status=503), Verdict.RETRY),
    (errors.GatewayTimeoutError("g", status=504), Verdict.RETRY),
    (errors.ConnectorNetworkError("n"), Verdict.RETRY),
    (errors.UnexpectedConnectorError("u", status=408), Verdict.RETRY),
    (errors.MessageTooLargeError("m", status=413), Verdict.SHRINK),
    (errors.ActivityNotFoundError("a", status=404), Verdict.CARD_GONE),
    (errors.BotNotInConversationRosterError("r", status=403), Verdict.ROUTE_GONE),
    (errors.BotDisabledByAdminError("d", status=403), Verdict.ROUTE_GONE),
    (errors.ConversationBlockedByUserError("c", status=403), Verdict.ROUTE_GONE),
    (errors.ConversationNotFoundError("c", status=404), Verdict.ROUTE_GONE),
    (errors.InvalidReferenceError("i"), Verdict.ROUTE_GONE),
    (errors.BotNotRegisteredError("r", status=401), Verdict.CONFIG),
    (errors.BadArgumentError("b", status=400), Verdict.CONFIG),
    (errors.InvalidBotApiHostError("h", status=403), Verdict.CONFIG),
    (errors.ConnectorAuthError("a"), Verdict.CONFIG),
    (errors.ServiceInternalError("i", status=500), Verdict.FAIL),
    (errors.NotEnoughPermissionsError("p", status=403), Verdict.FAIL),
    (errors.ForbiddenOperationError("f", status=403), Verdict.FAIL),
    (errors.NotFoundError("n", status=404), Verdict.FAIL),
    (errors.UnexpectedConnectorError("u", status=501), Verdict.FAIL),
]


@pytest.mark.parametrize(("error", "verdict"), ERRORS, ids=[type(e).__name__ + str(e.status) for e, _ in ERRORS])
def test_every_connector_failure_has_a_verdict(error, verdict):
    assert classify(error) is verdict


def test_every_error_class_of_the_tree_is_covered_above():
    def subclasses(cls):
        return {cls, *(s for sub in cls.__subclasses__() for s in subclasses(sub))}

    covered = {type(e) for e, _ in ERRORS}
    abstract = {errors.ConnectorError, errors.ConnectorConfigError, errors.RouteGoneError, errors.ForbiddenError, errors.TransientConnectorError}
    assert subclasses(errors.ConnectorError) - abstract - covered == set()


def test_back_off_doubles_with_equal_jitter_and_is_capped():
    policy = DeliveryPolicy(backoff_base_seconds=5, backoff_max_seconds=60)
    assert [backoff_seconds(n, policy, lambda: 0.0) for n in range(1, 7)] == [2.5, 5, 10, 20, 30, 30]
    assert [backoff_seconds(n, policy, lambda: 0.999999) for n in (1, 5)] == pytest.approx([5, 60], rel=1e-5)


def test_retry_after_is_obeyed_exactly_for_429_and_as_a_floor_for_503():
    policy = DeliveryPolicy()
    assert retry_delay(errors.ThrottledError("t", status=429, retry_after=1.0), 5, policy, lambda: 0.5) == 1.0
    assert retry_delay(errors.ThrottledError("t", status=429), 1, policy, lambda: 0.5) == 3.75
    assert retry_delay(errors.ServiceUnavailableError("s", status=503, retry_after=30.0), 1, policy, lambda: 0.5) == 30.0
    assert retry_delay(errors.ServiceUnavailableError("s", status=503, retry_after=1.0), 1, policy, lambda: 0.5) == 3.75


def test_update_or_post_follows_the_record():
    assert choose_action(created(1), card_posted=False) is Action.POST
    assert choose_action(created(1), card_posted=True) is Action.UPDATE  # a re-sent row whose card landed
    assert choose_action(changed(1, "Submitted", "Posted", at=NOW), card_posted=True) is Action.UPDATE
    assert choose_action(changed(1, "Submitted", "Posted", at=NOW), card_posted=False) is Action.POST
    assert choose_action(changed(1, "Submitted", "Submitted", at=NOW), card_posted=False) is Action.SKIP
    assert choose_action(vendor_held(NOW), card_posted=True) is Action.POST
    assert not may_have_card(created(1), 0) and may_have_card(created(1), 1)
    assert not may_have_card(vendor_held(NOW), 3)


def test_the_delivery_limits_add_the_margin_to_every_window():
    limits = delivery_limits(0.25)
    assert [(w.seconds, w.limit) for w in limits["conversation_limits"]] == [(w.seconds + 0.25, w.limit) for w in CONVERSATION_LIMITS]
    assert [(w.seconds, w.limit) for w in limits["tenant_limits"]] == [(w.seconds + 0.25, w.limit) for w in TENANT_LIMITS]
    with pytest.raises(ValueError):
        delivery_limits(-0.1)


# --- the write queue ------------------------------------------------------------------------------


async def test_the_write_queue_serves_one_at_a_time_urgent_first_and_survives_cancellation():
    queue = WriteQueue()
    order: list[str] = []
    await queue.acquire(urgent=False)  # a bookkeeping write holds the turn

    async def write(name: str, urgent: bool) -> None:
        await queue.acquire(urgent=urgent)
        order.append(name)
        queue.release()

    waiting = [asyncio.create_task(write(name, urgent)) for name, urgent in
               [("audit-1", False), ("sending-1", True), ("audit-2", False), ("sending-2", True)]]
    cancelled = asyncio.create_task(write("never", True))
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    queue.release()
    await asyncio.wait_for(asyncio.gather(*waiting), 5)

    assert order == ["sending-1", "sending-2", "audit-1", "audit-2"]
    await asyncio.wait_for(queue.acquire(urgent=False), 5)  # free again: no turn was lost


async def test_a_sqlite_store_gets_the_queue_and_still_answers(tmp_path):
    store = open_store(None, data_dir=tmp_path)
    try:
        await store.migrate()
        queued = serialize_sqlite_writes(store)
        assert queued is not store and "serialized writes" in repr(queued)
        assert await queued.outbox_depth() == 0 and await queued.append_audit(AuditEntry(NOW, "post", "ok")) == 1
    finally:
        await store.close()
