"""Checks every card must pass: the official 1.5 schema (offline), the house rules, and snapshots.

Schema: `tests/fixtures/schemas/adaptive-card-1.5.0.schema.json` has `additionalProperties: false` on
AdaptiveCard, so Teams' top-level `msteams` extension is added to a copy of the schema here
(schemas/README.md). The schema has only local `#/definitions/…` references; the validator's
registry refuses any retrieval, so validation can never touch the network.

Speed: the schema lists 16 element types in one `anyOf`, and the stock keyword collects every
error of every alternative before moving on (~60 ms per card). `CardValidator` is Draft6Validator
with an `anyOf` that stops at the first error of an alternative and keeps the stock keyword for the
error report when none matches: same verdicts (a test compares them), about 5x faster.

Snapshots: one JSON file per card under tests/cards/snapshots/. A missing file fails the test,
unless UPDATE_SNAPSHOTS=1, which writes it. An existing file is always compared: to accept an
intended change, delete the file and run once with UPDATE_SNAPSHOTS=1.
"""

from __future__ import annotations

import copy
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from jsonschema import Draft6Validator, validators
from jsonschema.exceptions import best_match
from referencing import Registry

from cards.elements import ACTION_TITLE_MAX, CARD_SIZE_LIMIT, CARD_VERSION, card_size

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
SCHEMA_FILE = "schemas/adaptive-card-1.5.0.schema.json"

MSTEAMS_SCHEMA = {
    "type": "object",
    "properties": {"width": {"enum": ["Full"]}, "entities": {"type": "array"}},
    "additionalProperties": False,
}

# Keys whose string values are shown to a reader (URLs are checked separately).
_TEXT_KEYS = {"text", "title", "value", "fallbackText", "tooltip"}
_MARKUP = re.compile(r"\]\(|<|>|\*|\{\{|(?<![^\W_])_|_(?![^\W_])")


_STOCK_ANY_OF = Draft6Validator.VALIDATORS["anyOf"]


def _any_of(validator: Any, alternatives: list[Any], instance: Any, schema: Any) -> Iterator[Any]:
    for index, alternative in enumerate(alternatives):
        if next(validator.descend(instance, alternative, schema_path=index), None) is None:
            return
    yield from _STOCK_ANY_OF(validator, alternatives, instance, schema)


CardValidator = validators.extend(Draft6Validator, {"anyOf": _any_of})


class NetworkRetrievalError(AssertionError):
    """The schema validator tried to fetch a remote document."""


def _refuse(uri: str) -> Any:
    raise NetworkRetrievalError(f"schema validation tried to retrieve {uri!r}")


def load_validator(
    fixtures_dir: Path, retrieve: Callable[[str], Any] | None = None, *, stock: bool = False
) -> Draft6Validator:
    """A Draft-6 validator for the Teams flavour of the Adaptive Card 1.5 schema, fully offline:
    any remote reference goes to `retrieve`, which by default refuses. `stock` gives the unmodified
    Draft6Validator instead of the faster CardValidator."""
    schema = copy.deepcopy(json.loads((fixtures_dir / SCHEMA_FILE).read_text(encoding="utf-8")))
    schema["definitions"]["AdaptiveCard"]["properties"]["msteams"] = MSTEAMS_SCHEMA
    Draft6Validator.check_schema(schema)
    cls = Draft6Validator if stock else CardValidator
    return cls(schema, registry=Registry(retrieve=retrieve or _refuse))


def remote_refs(schema: Any) -> list[str]:
    """Every `$ref` that does not point inside the document."""
    found = []
    for node in walk(schema):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            found.append(ref)
    return found


def walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every dict inside a JSON value, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def shown_strings(card: dict[str, Any]) -> Iterator[str]:
    """Every string a reader sees on the card."""
    for node in walk(card):
        for key in _TEXT_KEYS:
            if isinstance(node.get(key), str):
                yield node[key]


def card_text(card: dict[str, Any]) -> str:
    """What a person reads on the card (TextBlocks, facts, action titles; not the fallback text),
    one string per line."""
    return "\n".join(
        node[key] for part in ("body", "actions") for node in walk(card.get(part, [])) for key in ("text", "title", "value")
        if isinstance(node.get(key), str)
    )


def assert_valid_card(card: dict[str, Any], validator: Draft6Validator) -> None:
    """Schema-valid and within the house rules (`assert_house_rules`)."""
    error = best_match(validator.iter_errors(card))
    assert error is None, f"schema: {error.message} at {list(error.absolute_path)}"
    assert_house_rules(card)


def assert_house_rules(card: dict[str, Any]) -> None:
    """Version 1.5, fallbackText, wrapping non-empty TextBlocks, no coloured text, at most two
    buttons with short titles (they fit side by side on a 360 px phone), http(s) URLs only,
    under 28 KB, and no markup or invisible characters in any shown text."""
    assert card["version"] == CARD_VERSION == "1.5"
    assert card["fallbackText"].strip()
    actions = card.get("actions", [])
    assert len(actions) <= 2, [a["title"] for a in actions]
    assert all(len(action["title"]) <= ACTION_TITLE_MAX for action in actions), [a["title"] for a in actions]
    for node in walk(card):
        if node.get("type") == "TextBlock":
            assert node.get("wrap") is True, node
            assert "color" not in node, f"state is told by words and container styles, not text colour: {node}"
            assert node["text"].strip(), f"empty TextBlock {node}"
        if "url" in node:
            assert re.match(r"^https?://[^\s/@]+/", node["url"], re.IGNORECASE), node["url"]
    for shown in shown_strings(card):
        assert not _MARKUP.search(shown), f"markup in {shown!r}"
        assert all(unicodedata.category(ch) not in ("Cc", "Cs") for ch in shown), repr(shown)
        assert not any(unicodedata.category(ch) == "Cf" and ch not in "\u200c\u200d" for ch in shown), repr(shown)
    json.dumps(card, ensure_ascii=False).encode("utf-8")  # raises on a lone surrogate
    assert card_size(card) < CARD_SIZE_LIMIT


def assert_snapshot(name: str, card: dict[str, Any]) -> None:
    """Compare with tests/cards/snapshots/<name>.json (see the module docstring)."""
    path = SNAPSHOTS / f"{name}.json"
    if not path.exists():
        if os.environ.get("UPDATE_SNAPSHOTS") == "1":
            path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
            return
        raise AssertionError(f"snapshot {path.name} is missing: run once with UPDATE_SNAPSHOTS=1 and review it")
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert card == expected, f"card differs from snapshot {path.name} (delete it and rerun with UPDATE_SNAPSHOTS=1 if intended)"
