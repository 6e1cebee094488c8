"""The validation harness itself: offline, strict, and able to fail."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from referencing.exceptions import Unresolvable

from cards.help import build_help_card
from tests.cards.harness import SCHEMA_FILE, NetworkRetrievalError, assert_valid_card, load_validator, remote_refs


def test_the_official_schema_has_no_remote_refs(fixtures_dir: Path) -> None:
    schema = json.loads((fixtures_dir / SCHEMA_FILE).read_text(encoding="utf-8"))
    assert remote_refs(schema) == []
    assert schema["$schema"] == "http://json-schema.org/draft-06/schema#"


def test_a_remote_ref_would_fail_instead_of_fetching(tmp_path: Path, fixtures_dir: Path) -> None:
    schema = json.loads((fixtures_dir / SCHEMA_FILE).read_text(encoding="utf-8"))
    schema["definitions"]["TextBlock"]["properties"]["text"] = {"$ref": "https://example.invalid/remote.json"}
    (tmp_path / "schemas").mkdir()
    (tmp_path / SCHEMA_FILE).write_text(json.dumps(schema), encoding="utf-8")
    asked: list[str] = []

    def refuse(uri: str) -> None:
        asked.append(uri)
        raise NetworkRetrievalError(uri)

    validator = load_validator(tmp_path, retrieve=refuse)
    with pytest.raises(Unresolvable):
        list(validator.iter_errors(build_help_card()))
    assert asked == ["https://example.invalid/remote.json"]


def test_msteams_is_accepted_only_in_its_teams_shape(validator) -> None:
    card = build_help_card()
    assert card["msteams"] == {"width": "Full"}
    assert_valid_card(card, validator)
    wrong = copy.deepcopy(card)
    wrong["msteams"] = {"width": "Half"}
    assert list(validator.iter_errors(wrong))


@pytest.mark.parametrize(
    "break_it",
    [
        lambda c: c.update(bogus=1),  # additionalProperties: false on AdaptiveCard
        lambda c: c["body"][0].pop("text"),  # TextBlock needs text
        lambda c: c["body"][0].update(wrap="yes"),  # wrong type
        lambda c: c["body"].append({"type": "Carousel", "pages": []}),  # not in 1.5
        lambda c: c.update(actions=[{"type": "Action.OpenUrl", "title": "x"}]),  # url required
    ],
)
def test_the_validator_rejects_broken_cards(break_it, validator) -> None:
    card = copy.deepcopy(build_help_card())
    break_it(card)
    assert list(validator.iter_errors(card))


@pytest.mark.parametrize(
    "break_it",
    [
        lambda c: c["body"][0].pop("wrap"),
        lambda c: c.update(version="1.6"),
        lambda c: c.update(fallbackText=" "),
        lambda c: c["body"][0].update(text="**bold**"),
        lambda c: c["body"][0].update(text="[x](https://evil.example)"),
        lambda c: c["body"][0].update(text="<at>all</at>"),
        lambda c: c["body"][0].update(text="bidi\u202e"),
        lambda c: c.update(actions=[{"type": "Action.OpenUrl", "title": "x", "url": "javascript:alert(1)"}]),
        lambda c: c["body"].append({"type": "TextBlock", "text": "x" * 30_000, "wrap": True}),
    ],
)
def test_the_house_rules_catch_what_the_schema_allows(break_it, validator) -> None:
    card = copy.deepcopy(build_help_card())
    break_it(card)
    with pytest.raises(AssertionError):
        assert_valid_card(card, validator)


def test_the_fast_validator_agrees_with_the_stock_draft6_validator(fixtures_dir: Path, validator) -> None:
    stock = load_validator(fixtures_dir, stock=True)
    good = build_help_card()
    broken = copy.deepcopy(good)
    broken["body"][1]["items"] = "not a list"
    broken["body"].append({"type": "TextBlock", "wrap": True})
    for card in (good, broken):
        fast_errors = sorted(e.message for e in validator.iter_errors(card))
        stock_errors = sorted(e.message for e in stock.iter_errors(card))
        assert fast_errors == stock_errors
    assert not list(validator.iter_errors(good)) and list(validator.iter_errors(broken))
