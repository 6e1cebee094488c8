"""Every text on every card reads in both Teams themes: WCAG contrast against Teams' own light and
dark host configs (tests/fixtures/hostconfig), 4.5:1 for body text, 3:1 for large text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cards.dispatch import card_for_event
from tests.cards import samples as s
from tests.cards.contrast import check, contrast
from tests.cards.test_dispatch import EVENTS
from tests.cards.test_snapshots import CARDS

THEMES = ("microsoft-teams-light", "microsoft-teams-dark")


@pytest.fixture(scope="module", params=THEMES)
def host_config(request, fixtures_dir: Path) -> dict[str, Any]:
    return json.loads((fixtures_dir / "hostconfig" / f"{request.param}.json").read_text(encoding="utf-8"))


def _all_cards() -> dict[str, dict[str, Any]]:
    cards = {name: build() for name, build in CARDS.items()}
    cards.update({f"event_{name}": card_for_event(event, links=s.LINKS, zone=s.ZONE, now=s.NOW) for name, event in EVENTS.items()})
    return cards


ALL = _all_cards()


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_text_has_enough_contrast_in_both_themes(name: str, host_config) -> None:
    findings = check(ALL[name], host_config)
    assert findings, "a card with no text?"
    poor = [f"{f.use.text[:40]!r} ({f.use.color}{' subtle' if f.use.subtle else ''} on {f.use.style}): "
            f"{f.foreground} on {f.background} = {f.ratio:.2f} < {f.needed}" for f in findings if f.ratio < f.needed]
    assert not poor, "\n".join(poor)


def test_the_cards_use_the_styles_that_carry_state(host_config) -> None:
    """The state styles are really exercised (so the test above covers them), in both themes."""
    used = {finding.use.style for card in ALL.values() for finding in check(card, host_config)}
    assert {"default", "attention", "good", "warning", "accent"} <= used


def test_the_check_catches_coloured_state_text(host_config) -> None:
    """The old cards' yellow and green state words fail; a styled container with plain text passes."""
    def card(**block: Any) -> dict[str, Any]:
        return {"type": "AdaptiveCard", "body": [{"type": "Container", "style": block.pop("style", None) or "default",
                                                  "items": [{"type": "TextBlock", "text": "Submitted", **block}]}]}

    light = host_config["containerStyles"]["default"]["backgroundColor"].lower() in ("#ffffff", "#ffffffff")
    warning_text = check(card(color="Warning", weight="Bolder"), host_config)[0]
    if light:
        assert warning_text.ratio < 2 and warning_text.ratio < warning_text.needed  # #f8d22a on white: 1.5:1
        good_text = check(card(color="Good"), host_config)[0]
        assert good_text.ratio < 2.5  # #92c353 on white: 2.2:1
    styled = check(card(style="warning"), host_config)[0]
    assert styled.ratio >= 4.5


def test_contrast_matches_the_wcag_reference_values() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # WebAIM's classic borderline grey
    assert contrast("#ff000000", "#ffffff") == contrast("#000000", "#ffffff")  # #AARRGGBB, opaque
    assert contrast("#80000000", "#ffffff") == pytest.approx(contrast("#7f7f7f", "#ffffff"), abs=0.05)  # half black on white
