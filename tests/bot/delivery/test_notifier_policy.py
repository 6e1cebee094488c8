"""The notifier's pure decisions (bot/delivery/policy.py): every Teams failure gets a verdict,
back-off and a pause's probes grow and are bounded, and update-or-post follows the record."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

from bot.teams import errors
from bot.delivery.policy import (
    Action,
    DeliveryPolicy,
    Verdict,
    backoff_seconds,
    choose_action,
    classify,
    delivery_limits,
    may_have_card,
    pause_delivery,
    refuses_the_bot,
    retry_delay,
)
from bot.pacing import CONVERSATION_LIMITS, TENANT_LIMITS
from tests.bot.delivery.notifier_world import changed, created, vendor_held

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
    (errors.BotNotRegisteredError("r", status=401), Verdict.PAUSE),
    (errors.BadArgumentError("b", status=400), Verdict.CONFIG),
    (errors.InvalidBotApiHostError("h", status=403), Verdict.CONFIG),
    (errors.ConnectorAuthError("a"), Verdict.PAUSE),
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


def test_a_pause_probes_at_doubling_intervals_capped_and_ignores_cards_already_on_their_way():
    policy = DeliveryPolicy()  # first try after 5 min nominal, capped at 30 min
    pause, now, waits = None, NOW, []
    for _ in range(5):
        pause = pause_delivery(pause, reason="refused", error="HTTP 401", now=now, policy=policy, jitter=lambda: 0.5)
        waits.append((pause.until - now).total_seconds())
        now = pause.until

    assert waits == [225, 450, 900, 1350, 1350]  # 300, 600, 1200, 1800, 1800 with equal jitter at 0.5
    assert (pause.since, pause.probes) == (NOW, 4)
    late = pause_delivery(pause, reason="refused", error="HTTP 401", now=pause.until - timedelta(seconds=1), policy=policy,
                          jitter=lambda: 0.5)
    assert late is pause, "a refusal of a card sent before the pause's next try is no probe"
    weeks_later = pause_delivery(dataclasses.replace(pause, probes=5000), reason="refused", error="HTTP 401", now=pause.until,
                                 policy=policy, jitter=lambda: 0.5)
    assert (weeks_later.until - pause.until).total_seconds() == 1350, "still capped after thousands of probes"
    assert refuses_the_bot(errors.BotNotRegisteredError("r", status=401)) and refuses_the_bot(errors.ConnectorAuthError("a"))
    assert not refuses_the_bot(errors.BadArgumentError("b", status=400))
