"""Hostile chat text through the whole path: parser → Intacct query (escaped, sandbox parses it) →
cards and reply texts (inert: no mention, link or markup can form)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cards import texts as card_texts
from tests.bot.bot_harness import BotHarness, bot_harness
from tests.bot.teams.test_handler import bill_rows
from tests.cards.harness import card_text


@pytest.fixture
async def harness(clock, fixtures_dir: Path, tmp_path: Path):
    async with bot_harness(clock, fixtures_dir, tmp_path) as running:
        await running.install()
        yield running


def everything_shown(reply) -> str:
    """The reply's text and its card's texts."""
    return (reply.payload.get("text") or "") + "\n" + (card_text(reply.card) if reply.card else "")


async def test_a_real_vendor_search_finds_the_vendor(harness: BotHarness):
    # The control for the next test: searching works, so "no match" below means the injection failed.
    [reply] = await harness.say("show vendor Pacific Steel")

    assert reply.card is not None and "Pacific Steel Supply" in card_text(reply.card)


async def test_sql_style_injection_in_a_vendor_search_matches_nothing(harness: BotHarness):
    [reply] = await harness.say("show vendor ' OR 1=1 --")

    assert reply.card is None
    assert reply.payload["text"].startswith("No vendor matches “' OR 1=1 --”")
    assert (await harness.sandbox.stats())["functions"]["readByQuery"] >= 2  # Intacct was asked, and answered


async def test_cdata_breaking_text_in_a_filter_leaves_the_xml_intact(harness: BotHarness):
    [reply] = await harness.say("show pending bills vendor ]]><x>")

    assert reply.card is not None, reply.payload.get("text")
    assert bill_rows(reply.card) == 0
    shown = card_text(reply.card)
    assert "No bills waiting for approval match vendor ]]›‹x›." in shown  # the filter is echoed, inert
    assert "<x>" not in shown


@pytest.mark.parametrize(
    ("command", "forbidden"),
    [
        ("show bill <at>Finance Director</at>", ("<at>",)),
        ("show bill [approve here](https://evil.example/steal)", ("](",)),
        ("show vendor **urgent** <b>pay now</b>", ("**", "<b>")),
        ("show vendor {{DATE(2017-02-14T06:08:39Z)}}", ("{{",)),
    ],
)
async def test_markup_in_values_is_echoed_inert(harness: BotHarness, command: str, forbidden: tuple[str, ...]):
    [reply] = await harness.say(command)

    shown = everything_shown(reply)
    assert "found no bill" in shown or "No vendor matches" in shown
    for fragment in forbidden:
        assert fragment not in shown


async def test_markup_in_unknown_text_stays_inert_on_the_help_card(harness: BotHarness):
    [reply] = await harness.say("please [click](javascript:alert(1)) <at>Everyone</at>")

    shown = card_text(reply.card)
    assert "didn't understand" in shown
    assert "](" not in shown and "<at>" not in shown


async def test_hostile_subscription_filters_are_stored_as_data_and_shown_inert(harness: BotHarness):
    [reply] = await harness.say('subscribe bills vendor "<at>Eve</at> [x](javascript:alert(1))"')

    [route] = await harness.store.list_routes()
    assert route.filter.vendor == "<at>Eve</at> [x](javascript:alert(1))"  # data stays what was typed
    shown = everything_shown(reply)
    assert "now receives" in shown
    assert "<at>" not in shown and "](" not in shown


async def test_invisible_and_control_characters_do_not_disguise_a_command(harness: BotHarness):
    [reply] = await harness.say("show\u200b pending\u202e bills\x00")

    assert reply.card is not None and reply.card["body"][0]["text"] == card_texts.PENDING_BILLS
