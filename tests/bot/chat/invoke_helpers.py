"""Shared pieces of the invoke tests: a harness whose sandbox links live on www.intacct.com, the
poll that fills the record-link index, and checks on answers as Teams reads them."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

from jsonschema import Draft6Validator

from poller.coordinator import PollCoordinator, PollerConfig
from tests.bot.bot_harness import BotHarness, bot_harness
from tests.cards.harness import assert_valid_card, load_validator

INTACCT = "https://www.intacct.com"  # where the sandbox's RECORD_URLs point, as real ones do
ADAPTIVE = "application/vnd.microsoft.card.adaptive"
THUMBNAIL = "application/vnd.microsoft.card.thumbnail"
QUERY_LINK_SAMPLE = "playground/invoke-compose-query-link-channel.json"
QUERY_SAMPLE = "playground/invoke-compose-query-channel.json"
ACTION_SAMPLE = "playground/invoke-card-action-channel.json"
PLAYGROUND_USER_AAD = "00000000-0000-0000-0000-0000000000020"  # the Playground's current user (from.aadObjectId)


@asynccontextmanager
async def invoke_harness(clock, fixtures_dir: Path, data_dir: Path, **options: Any) -> AsyncIterator[BotHarness]:
    """The bot harness with the sandbox's record links on www.intacct.com."""
    sandbox_options = {"web_url": INTACCT, **options.pop("sandbox_options", {})}
    async with bot_harness(clock, fixtures_dir, data_dir, sandbox_options=sandbox_options, **options) as harness:
        yield harness


async def poll(harness: BotHarness, key: str = "DEMO-CO") -> None:
    """One poll of the company, as the poller runs it: it keeps the record-link index."""
    company = harness.context.companies[key]
    outcome = await PollCoordinator(PollerConfig(key, "test-instance"), company.client, harness.store, clock=harness.clock).poll()
    assert outcome.ok, outcome.error


def validator(fixtures_dir: Path) -> Draft6Validator:
    """The Adaptive Card 1.5 schema validator of the card tests."""
    return load_validator(fixtures_dir)


def results(body: Any) -> list[dict[str, Any]]:
    """The attachments of a compose-extension `result` answer, checked for Teams' shape."""
    extension = body["composeExtension"]
    assert extension["type"] == "result" and extension["attachmentLayout"] == "list", extension
    for attachment in extension["attachments"]:
        assert attachment["contentType"] == ADAPTIVE
        assert attachment["preview"]["contentType"] == THUMBNAIL and attachment["preview"]["content"]["title"]
    return extension["attachments"]


def message_text(body: Any) -> str:
    """The text of a compose-extension `message` answer."""
    extension = body["composeExtension"]
    assert extension["type"] == "message" and "attachments" not in extension, extension
    return extension["text"]


def checked_card(card: dict[str, Any], fixtures_dir: Path) -> dict[str, Any]:
    """`card` after the card tests' checks (1.5 schema with Teams' msteams, house rules, < 28 KB)."""
    assert_valid_card(card, validator(fixtures_dir))
    return card
