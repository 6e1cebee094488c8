"""The one place that shapes Adaptive Card JSON: version, envelope, elements, actions, size.

Elements come from the `adaptivecards` package (TextBlock, FactSet/Fact, Container, ColumnSet/
Column), rendered at once into plain dicts so nothing downstream sees its objects. Plain dicts are
used where the package gets in the way: the card envelope (its AdaptiveCard class pins version
1.2 and has no `msteams`), actions (it has no Action classes) and `selectAction` (it types that as
a string). Every text that reaches an element goes through `clean_text`, and every URL through
`clean_url`, here — so a builder cannot forget to.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from adaptivecards.baseobject import BareObject
from adaptivecards.containers import Column, ColumnSet, Container, Fact, FactSet
from adaptivecards.elements import TextBlock

from cards.format import Tone
from cards.sanitize import DEFAULT_LIMIT, clean_text, clean_url

CARD_VERSION = "1.5"  # the highest version Teams supports; the ONLY place it is set
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_SIZE_LIMIT = 28_000  # Teams answers 413 MessageSizeTooBig above ~28 KB per message
CARD_SIZE_BUDGET = 24_000  # what builders aim for: leaves room for the activity around the card

Card = dict[str, Any]
Element = dict[str, Any]

_ACTION_TITLE_LIMIT = 60
_FALLBACK_LIMIT = 400
_FACT_TITLE_LIMIT = 40
FACT_TITLE_WIDTH = "110px"  # aligned_facts' title column: the longest admin label fits at 14 px bold
ACTION_TITLE_MAX = 18  # characters: two buttons side by side still fit a 360 px phone screen


def card_size(card: Card) -> int:
    """Bytes of the card as JSON (`len(json.dumps(card).encode())`): what counts toward 28 KB."""
    return len(json.dumps(card).encode("utf-8"))


def make_card(body: Sequence[Element | None], *, fallback_text: str, actions: Sequence[Element | None] = ()) -> Card:
    """The card envelope: version 1.5, full width in Teams, a plain-text fallback; None parts dropped."""
    card: Card = {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "fallbackText": clean_text(fallback_text, _FALLBACK_LIMIT),
        "body": [element for element in body if element is not None],
        "msteams": {"width": "Full"},
    }
    kept_actions = [action for action in actions if action is not None]
    if kept_actions:
        card["actions"] = kept_actions
    return card


def text(
    value: object,
    *,
    limit: int = DEFAULT_LIMIT,
    size: str | None = None,
    weight: str | None = None,
    subtle: bool = False,
    spacing: str | None = None,
    separator: bool = False,
    align: str | None = None,
) -> Element:
    """A wrapping TextBlock of cleaned plain text, in the default colour: a card shows state by
    words and container styles, never by coloured text (see `Tone`)."""
    block = TextBlock(text=clean_text(value, limit), wrap=True)
    if size:
        block.size = size
    if weight:
        block.weight = weight
    if subtle:
        block.isSubtle = True
    if spacing:
        block.spacing = spacing
    if separator:
        block.separator = True
    if align:
        block.horizontalAlignment = align
    return _plain(block)


def heading(value: object) -> Element:
    """The card's title line."""
    return text(value, size="Medium", weight="Bolder", limit=200)


def facts(pairs: Iterable[tuple[str, object]], *, limit: int = DEFAULT_LIMIT, spacing: str | None = None) -> Element | None:
    """A FactSet of the pairs whose value is not None or empty; None when nothing is left."""
    kept = []
    for title, value in pairs:
        cleaned = clean_text(value, limit) if value is not None else ""
        if cleaned:
            kept.append(Fact(title=clean_text(title, _FACT_TITLE_LIMIT), value=cleaned))
    if not kept:
        return None
    fact_set = FactSet(facts=kept)
    if spacing:
        fact_set.spacing = spacing
    return _plain(fact_set)


def container(
    items: Sequence[Element | None],
    *,
    tone: Tone | None = None,
    spacing: str | None = None,
    separator: bool = False,
    select_action: Element | None = None,
) -> Element | None:
    """A Container of the non-None items (None when empty); `tone` styles its background."""
    kept = [item for item in items if item is not None]
    if not kept:
        return None
    box = Container(items=kept)
    if tone is not None and tone is not Tone.DEFAULT:
        box.style = tone.value
    if spacing:
        box.spacing = spacing
    if separator:
        box.separator = True
    rendered = _plain(box)
    if select_action is not None:
        rendered["selectAction"] = select_action  # the package types selectAction as a string
    return rendered


def aligned_facts(pairs: Iterable[tuple[str, object]], *, limit: int = DEFAULT_LIMIT, spacing: str | None = None) -> Element | None:
    """Title/value rows whose titles share one fixed-width column, so facts line up across the
    sections of a card (separate FactSets each size their own title column); None when empty."""
    rows = []
    for title, value in pairs:
        cleaned = clean_text(value, limit) if value is not None else ""
        if cleaned:
            rows.append(
                columns(
                    ([text(clean_text(title, _FACT_TITLE_LIMIT), weight="Bolder")], FACT_TITLE_WIDTH),
                    ([text(cleaned)], "stretch"),
                    spacing="Small",
                )
            )
    return container(rows, spacing=spacing)


def columns(*cells: tuple[Sequence[Element | None], str], spacing: str | None = None, separator: bool = False) -> Element:
    """A ColumnSet; each cell is (items, width) with width "stretch", "auto" or a weight."""
    row = ColumnSet(columns=[Column(items=[i for i in items if i is not None], width=width) for items, width in cells])
    if spacing:
        row.spacing = spacing
    if separator:
        row.separator = True
    return _plain(row)


def open_url(title: str, url: str | None, *, tooltip: str | None = None) -> Element | None:
    """An Action.OpenUrl, or None when the URL is not a safe http(s) URL (the button is left out)."""
    safe = clean_url(url)
    if safe is None:
        return None
    action: Element = {"type": "Action.OpenUrl", "title": clean_text(title, _ACTION_TITLE_LIMIT), "url": safe}
    if tooltip:
        action["tooltip"] = clean_text(tooltip, 120)
    return action


def _plain(value: Any) -> Any:
    # adaptivecards objects nest other objects inside their dicts; flatten all of it.
    if isinstance(value, BareObject):
        return _plain(value.render())
    if isinstance(value, dict):
        # "type" first: the package appends it last, and cards read (and diff) better this way.
        ordered = {"type": value["type"]} if "type" in value else {}
        ordered.update((key, _plain(item)) for key, item in value.items() if key != "type")
        return ordered
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value
