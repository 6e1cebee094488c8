"""OUTBOX_CLAIM_SECONDS below the notifier's default send budget (45 s) used to stop `serve` at
start-up with a ValueError from the Notifier; app.delivery_timing now shrinks the Bot Connector
timeout and the send budget to fit the claim, so a dead instance's rows are retried within seconds
(the scale-out and kill tests run with 3 s claims)."""

from __future__ import annotations

import pytest

from app import build_runtime, build_web_app, delivery_timing
from bot.teams.connector import DEFAULT_TIMEOUT_SECONDS
from bot.delivery.policy import DeliveryPolicy
from settings import load_settings


@pytest.mark.parametrize("claim", [60, 120, 3600])
def test_claims_of_a_minute_or_more_keep_the_default_timeout_and_budget(claim):
    policy, timeout = delivery_timing(claim)
    assert policy == DeliveryPolicy() and timeout == DEFAULT_TIMEOUT_SECONDS


@pytest.mark.parametrize("claim", [2, 3, 10, 46, 59])
def test_a_shorter_claim_shrinks_the_timeout_and_the_budget_so_a_send_ends_inside_its_claim(claim):
    policy, timeout = delivery_timing(claim)
    assert timeout < policy.send_budget_seconds < claim
    assert policy.send_budget_seconds == pytest.approx(1.5 * timeout)
    assert policy.backoff_base_seconds == DeliveryPolicy().backoff_base_seconds, "only the budget changes"


async def test_serve_builds_with_a_three_second_claim(tmp_path):
    settings = load_settings({
        "INTACCT_SENDER_ID": "mlc-sandbox", "INTACCT_SENDER_PASSWORD": "sandbox-secret", "INTACCT_COMPANY_ID": "DEMO-CO",
        "INTACCT_USER_ID": "ap-admin", "INTACCT_USER_PASSWORD": "demo-pass", "INTACCT_ENDPOINT_URL": "http://127.0.0.1:9/ia/xml/xmlgw.phtml",
        "DATA_DIR": str(tmp_path), "OUTBOX_CLAIM_SECONDS": "3",
    })
    runtime = await build_runtime(settings)
    try:
        app, _ = await build_web_app(runtime)  # raised ValueError before the fix
    finally:
        await runtime.close()
    assert app is not None
