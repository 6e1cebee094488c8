"""When Intacct fails, refuses or hangs, the person reads a clear text in the thread — never a
stack trace or a secret — and the reply still comes inside Teams' budget."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot import messages
from cards import texts as card_texts
from intacct.credentials import IntacctCredentials
from tests.bot.bot_harness import THREAD, BotHarness, bot_harness, company

SECRETS = ("sandbox-secret", "demo-pass")


@pytest.fixture
async def harness(clock, fixtures_dir: Path, tmp_path: Path):
    async with bot_harness(clock, fixtures_dir, tmp_path) as running:
        yield running


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


async def test_an_intacct_error_is_named_with_its_errorno_and_description(harness: BotHarness):
    await harness.sandbox.fault("error_response", function="readByQuery")  # the read, not the lookup before it

    [reply] = await harness.say("show pending bills")

    text = reply.payload["text"]
    assert text.startswith("Sage Intacct answered with an error: BL01001973 Sandbox fault: readByQuery failed")
    assert "Traceback" not in text
    assert_no_secret(text)


async def test_an_unreachable_intacct_gets_a_friendly_text_after_the_client_gave_up(harness: BotHarness):
    await harness.sandbox.fault("http_500", count=10)

    [reply] = await harness.say("show payments pending")

    assert reply.conversation_id == THREAD
    assert reply.payload["text"] == messages.FAILED_INTACCT_UNREACHABLE.format(problem="Intacct gateway answered HTTP 500")
    assert harness.clock.sleeps, "the client retried (on the fake clock) before giving up"


async def test_refused_credentials_say_so_without_echoing_them(clock, fixtures_dir: Path, tmp_path: Path):
    async with bot_harness(clock, fixtures_dir, tmp_path) as harness:
        wrong = IntacctCredentials("mlc-sandbox", "sandbox-secret", "DEMO-CO", "ap-admin", "not-the-password")
        harness.context.companies = {"DEMO-CO": company(harness.sandbox, clock, credentials=wrong)}
        [reply] = await harness.say("due this week")

    text = reply.payload["text"]
    assert text.startswith("Sage Intacct refused ml-connector's sign-in (XL03000006")
    assert "python app.py check" in text
    assert "not-the-password" not in text
    assert_no_secret(text)


async def test_a_hung_intacct_gets_the_slow_text_once_the_deadline_passes(clock, fixtures_dir: Path, tmp_path: Path):
    in_delay = asyncio.Event()
    release = asyncio.Event()

    async def hang(seconds: float) -> None:  # the sandbox's delay fault: stuck until released
        in_delay.set()
        await release.wait()

    async def deadline(seconds: float) -> None:  # the service's deadline passes while Intacct hangs
        assert seconds == 10.0
        await in_delay.wait()

    async with bot_harness(
        clock, fixtures_dir, tmp_path, sandbox_options={"sleep": hang}, service_options={"sleep": deadline}
    ) as harness:
        await harness.sandbox.fault("delay", seconds=60)
        try:
            async with asyncio.timeout(30):  # a safety net only: the fake deadline answers at once
                [reply] = await harness.say("show vendor Pacific")
                [after] = await harness.say("help")  # the bot is not stuck behind the hung request
        finally:
            release.set()

    assert reply.payload["text"] == messages.FAILED_INTACCT_SLOW
    assert after.card is not None


async def test_one_failing_company_does_not_hide_the_others(clock, fixtures_dir: Path, tmp_path: Path):
    async with bot_harness(clock, fixtures_dir, tmp_path, companies=2) as harness:
        wrong = IntacctCredentials("mlc-sandbox", "sandbox-secret", "DEMO-CO", "ap-admin", "wrong")
        harness.context.companies = {
            "DEMO-CO": harness.context.companies["DEMO-CO"],
            "DEMO-2": company(harness.sandbox, clock, "DEMO-2", credentials=wrong),
        }
        replies = await harness.say("show pending bills")

    assert len(replies) == 2
    assert replies[0].card["body"][0]["text"] == f"{card_texts.PENDING_BILLS} · DEMO-CO"
    assert replies[1].payload["text"].startswith("DEMO-2: Sage Intacct refused ml-connector's sign-in")


async def test_an_unexpected_failure_is_logged_with_its_traceback_and_apologised_for(harness: BotHarness, caplog):
    class BrokenStatus:
        async def status_view(self):
            raise RuntimeError("scheduler state unreadable")

    harness.context.status = BrokenStatus()
    with caplog.at_level(logging.ERROR, logger="bot.teams.handler"):
        [apology] = await harness.say("status")
        [answer] = await harness.say("help")  # the process carries on

    assert apology.payload["text"] == messages.FAILED_APOLOGY
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "RuntimeError: scheduler state unreadable" in record.getMessage() and record.exc_info
    assert answer.card is not None


async def test_without_a_database_events_are_logged_and_commands_still_answered(clock, fixtures_dir: Path, tmp_path: Path, caplog):
    unreachable = "postgresql://mlc@127.0.0.1:9/mlc"  # nothing listens on port 9
    async with bot_harness(clock, fixtures_dir, tmp_path, database_url=unreachable) as harness:
        with caplog.at_level(logging.WARNING):
            status = await harness.post(harness.sample("playground/installation-update-remove.json"))
            [answer] = await harness.say("show vendor V1001")
            [second] = await harness.say("help")

    assert status == 201  # Teams must not retry: the failure is ours, and logged
    assert any(r.levelno == logging.ERROR and "StoreError" in r.getMessage() for r in caplog.records)
    assert "Pacific Steel Supply" in (answer.card or {}).get("fallbackText", "")  # reading Intacct needs no database
    assert second.card is not None
    warnings = [r for r in caplog.records if "cannot store conversation references" in r.getMessage()]
    assert len(warnings) == 1  # once while the store is down, not once per message
