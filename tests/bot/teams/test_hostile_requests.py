"""Malformed and hostile requests to /api/messages: each gets its 4xx and one log line, none
reaches the parser's recursion or the bot, none stores a row; a flood is summed up per interval."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from bot.teams.inbound import MAX_JSON_DEPTH, RefusedBodyError, nesting_depth, read_json
from bot.refusals import INTERVAL
from tests.bot.bot_harness import BotHarness, bot_harness

REFUSALS_LOGGER = "mlc.bot.refused"


@pytest.fixture
async def harness(clock, fixtures_dir: Path, tmp_path: Path):
    async with bot_harness(clock, fixtures_dir, tmp_path) as running:
        yield running


def refusal_lines(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == REFUSALS_LOGGER]


async def nothing_was_stored_or_sent(harness: BotHarness) -> bool:
    return (harness.fake.calls == [] and await harness.store.list_conversations() == []
            and await harness.store.list_routes() == [])


async def post_raw(harness: BotHarness, body: bytes) -> int:
    response = await harness.client.post("/api/messages", data=body, headers={"Content-Type": "application/json"})
    await response.read()
    return response.status


def without(activity: dict[str, Any], path: str) -> dict[str, Any]:
    """The activity with one (possibly nested) field removed."""
    *parents, last = path.split(".")
    target = activity
    for name in parents:
        target = target[name]
    del target[last]
    return activity


async def test_a_hundred_thousand_brackets_are_a_400_before_the_parser_recurses(harness: BotHarness, caplog):
    caplog.set_level(logging.INFO)

    assert await post_raw(harness, b"[" * 100_000) == 400

    assert refusal_lines(caplog) == [
        f"refused a request to /api/messages from 127.0.0.1: JSON nested deeper than {MAX_JSON_DEPTH} levels; "
        "more refusals in the next 60 s are counted and summed up in one line"]
    assert not [r for r in caplog.records if r.exc_info or "Recursion" in r.getMessage()]
    assert await nothing_was_stored_or_sent(harness)


async def test_an_activity_without_conversation_is_a_400_and_stores_nothing(harness: BotHarness, caplog):
    status = await harness.post(without(harness.message("subscribe bills"), "conversation"))

    assert status == 400
    (line,) = refusal_lines(caplog)
    assert line.endswith("not an activity: conversation.id is missing or not a string; "
                         "more refusals in the next 60 s are counted and summed up in one line")
    assert await nothing_was_stored_or_sent(harness)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(("change", "problem"), [
    (lambda a: without(a, "conversation.id"), "conversation.id is missing"),
    (lambda a: a.update(conversation={"id": ""}), "conversation.id is missing"),
    (lambda a: a.update(conversation="19:x@thread.tacv2"), "conversation.id is missing"),
    (lambda a: without(a, "serviceUrl"), "serviceUrl is missing"),
    (lambda a: without(a, "channelId"), "channelId is missing"),
    (lambda a: without(a, "from"), "from.id is missing"),
    (lambda a: without(a, "recipient.id"), "recipient.id is missing"),
    (lambda a: a.update(type=7), "type is missing or not a string"),
    (lambda a: a.update(text={"a": 1}), "text is not a string"),
    (lambda a: a.update(entities=5), "entities is not a list of objects"),
    (lambda a: a.update(membersAdded=[5]), "membersAdded is not a list of objects"),
    (lambda a: a["from"].update(aadObjectId=["x"]), "from.aadObjectId is not a string"),
    (lambda a: a.update(timestamp="not a time"), "a field has the wrong type"),  # msrest's own check
])
async def test_activities_missing_a_required_field_or_with_a_wrong_type_are_400s(harness: BotHarness, caplog, change, problem):
    activity = harness.message("subscribe bills")
    change(activity)

    response = await harness.client.post("/api/messages", json=activity)

    assert response.status == 400 and problem in await response.text()
    # (the line's words are not compared: the log masker is process-wide, and another test's
    # secret may be a plain word such as "wrong")
    (line,) = refusal_lines(caplog)
    assert line.startswith("refused a request to /api/messages from 127.0.0.1: not an activity: ")
    assert await nothing_was_stored_or_sent(harness)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_flood_of_bad_requests_is_one_line_per_interval_with_counts(harness: BotHarness, caplog):
    # 100 bodies × 1000 items, one request a second over 100 s: an activity with a thousand
    # entities but no conversation, and a thousand-deep array, in turns.
    flat = without(harness.message("help"), "conversation")
    flat["entities"] = [{"type": "mention", "text": f"<at>{n}</at>"} for n in range(1000)]
    bodies = [json.dumps(flat).encode(), b"[" * 1000 + b"]" * 1000]
    statuses = []
    for n in range(100):
        statuses.append(await post_raw(harness, bodies[n % 2]))
        harness.clock.advance(1)
    await harness.client.close()  # shutdown logs what was only counted

    assert statuses == [400] * 100
    lines = refusal_lines(caplog)
    assert len(lines) == 3, lines  # the first in full, then one per minute: at 60 s, and the rest at shutdown
    counted = [re.match(r"refused (\d+) more request\(s\) in (\d+) s: /api/messages: (.*)$", line) for line in lines[1:]]
    assert all(counted), lines
    assert 1 + sum(int(m.group(1)) for m in counted) == 100
    assert [m.group(3) for m in counted] == ["29 not_an_activity, 30 too_deep", "20 not_an_activity, 20 too_deep"]
    assert len(caplog.records) == len(lines), "nothing else logged per request"
    assert await nothing_was_stored_or_sent(harness)


async def test_after_a_quiet_interval_the_next_refusal_is_logged_in_full_again(harness: BotHarness, caplog):
    for _ in range(3):
        assert await post_raw(harness, b"{not json") == 400
    harness.clock.advance(INTERVAL.total_seconds() * 3)
    assert await post_raw(harness, b"[" * 100) == 400

    lines = refusal_lines(caplog)
    assert [line.split(":")[0] for line in lines] == [
        "refused a request to /api/messages from 127.0.0.1", "refused 2 more request(s) in 0 s",
        "refused a request to /api/messages from 127.0.0.1"]
    assert "the body is not JSON" in lines[0] and "/api/messages: 2 not_json" in lines[1] and "deeper than" in lines[2]


async def test_the_recorded_activities_still_get_in(harness: BotHarness):
    # The bounds and the required fields hold for what Teams and the Playground really send.
    for name in ("playground/installation-update-add.json", "playground/conversation-update-bot-added.json",
                 "bot-framework/conversation-update-channel-renamed.json", "bot-framework/message-channel-mention.json"):
        assert await harness.post(harness.sample(name)) in (200, 201), name


@pytest.mark.parametrize(("body", "depth"), [
    (b"", 0),
    (b"17", 0),
    (b'{"a": "[[[[{{{{"}', 1),
    (b'{"a": "\\"[[["}', 1),  # an escaped quote does not end the string
    (b'[{}, [], {"x": [1, {"y": []}]}]', 5),
    (b'[[["unterminated', 3),
    (b'["\\\\", [[]]]', 3),  # an escaped backslash ends before the quote
    (b"[" * 100_000, 100_000),
])
def test_nesting_depth_counts_brackets_outside_strings(body: bytes, depth: int):
    assert nesting_depth(body) == depth


def test_the_depth_bound_is_exact():
    assert read_json(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH) is not None
    with pytest.raises(RefusedBodyError) as refused:
        read_json(b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1))
    assert refused.value.reason == "too_deep"
    with pytest.raises(RefusedBodyError) as refused:
        read_json('{"name": "Müller"}'.encode("utf-16"))
    assert refused.value.reason == "not_utf8"
