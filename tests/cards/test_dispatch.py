"""card_for_event picks the right card for every event type, also after the outbox JSON round trip."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cards.dispatch import card_for_event
from cards.elements import card_size
from poller.codec import event_from_payload, event_to_payload
from poller.events import (
    EVENT_TYPES,
    AlertKind,
    AlertRaised,
    BillCreated,
    BillStateChanged,
    PaymentPending,
    PaymentStateChanged,
    VendorStatusChanged,
)
from tests.cards import samples as s
from tests.cards.harness import assert_snapshot, assert_valid_card, shown_strings

EVENTS = {
    "bill_created": BillCreated(s.COMPANY, s.bill()),
    "bill_state_changed": BillStateChanged(s.COMPANY, s.bill(state="Declined", due_date=s.TODAY - timedelta(days=2)), "Submitted", "Declined"),
    "payment_pending": PaymentPending(s.COMPANY, s.payment()),
    "payment_state_changed": PaymentStateChanged(s.COMPANY, s.payment(state="Approved"), "Submitted", "Approved"),
    "vendor_status_changed": VendorStatusChanged(s.COMPANY, s.vendor(on_hold=True), "active", "active", False, True),
    "digest_prepared": s.digest(),
    "changes_summarized": s.summary(4, total=9),
    "alert_raised": AlertRaised(
        s.COMPANY,
        AlertKind.POLLING_FAILED,
        s.NOW,
        "Polling DEMO-CO failed 3 times in a row.",
        detail="XL03000006 Sign-in information is incorrect",
        fix="Check the web-services user's password.",
    ),
}

HEADINGS = {
    "bill_created": "New bill waiting for approval",
    "bill_state_changed": "Bill declined",
    "payment_pending": "Payment waiting for approval",
    "payment_state_changed": "Payment approved",
    "vendor_status_changed": "Vendor put on hold",
    "digest_prepared": "Accounts payable digest",
    "changes_summarized": "9 changes in Sage Intacct",
    "alert_raised": "Polling Sage Intacct is failing",
}


def test_every_event_type_has_a_sample() -> None:
    assert {type(e).__name__ for e in EVENTS.values()} == set(EVENT_TYPES)


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_card_for_event(name: str, validator) -> None:
    card = card_for_event(EVENTS[name], links=s.LINKS, zone=s.ZONE, now=s.NOW)
    assert_valid_card(card, validator)
    assert HEADINGS[name] in shown_strings(card)
    assert_snapshot(f"event_{name}", card)


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_the_card_is_the_same_after_the_outbox_json_round_trip(name: str) -> None:
    event = EVENTS[name]
    decoded = event_from_payload(event_to_payload(event))
    assert card_for_event(decoded, links=s.LINKS, zone=s.ZONE, now=s.NOW) == card_for_event(event, links=s.LINKS, zone=s.ZONE, now=s.NOW)


def test_max_items_caps_lines_and_rows() -> None:
    lines = tuple(s.line(n, "1.00") for n in range(1, 11))
    card = card_for_event(BillCreated(s.COMPANY, s.bill(lines=lines)), links=s.LINKS, zone=s.ZONE, now=s.NOW, max_items=2)
    assert "+8 more lines in Sage Intacct" in shown_strings(card)
    full = card_for_event(s.summary(10), links=s.LINKS, zone=s.ZONE, now=s.NOW)
    capped = card_for_event(s.summary(10), links=s.LINKS, zone=s.ZONE, now=s.NOW, max_items=3)
    assert "+7 more changes" in shown_strings(capped) and card_size(capped) < card_size(full)


def test_an_unknown_event_type_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="no card for event type str"):
        card_for_event("BillCreated", links=s.LINKS, zone=s.ZONE, now=s.NOW)  # type: ignore[arg-type]
