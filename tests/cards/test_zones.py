"""One zone per card, named once: every card that shows a time of day shows it in the AP team's
zone and names that zone exactly once (dates alone need no zone)."""

from __future__ import annotations

import re

import pytest

from tests.cards import samples as s
from tests.cards.harness import card_text
from tests.cards.test_contrast import ALL

_TIME = re.compile(r"\b\d{2}:\d{2}\b")
# Schedules are written in their own zone ("Mon–Fri 07:00–20:00 America/New_York"): not times of day on the card.
_SCHEDULE = re.compile(r"^every .*|^.* at \d{2}:\d{2}.*$")


@pytest.mark.parametrize("name", sorted(ALL))
def test_a_card_with_times_names_the_teams_zone_once(name: str) -> None:
    lines = [line for line in card_text(ALL[name]).splitlines() if not _SCHEDULE.match(line)]
    times = [line for line in lines if _TIME.search(line)]
    named = sum(line.count(s.ZONE.name) for line in lines)
    assert named == (1 if times else 0), "\n".join(times)
    assert "UTC" not in "\n".join(times), "a time in another zone beside the team's"


def test_the_cards_with_times_are_really_checked() -> None:
    with_times = [name for name, card in ALL.items() if _TIME.search(card_text(card))]
    assert {"bill_detail", "status", "summary", "vendor_card", "alert_polling_failed", "event_vendor_status_changed"} <= set(with_times)
