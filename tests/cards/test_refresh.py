"""The refresh on record cards (Universal Actions) and the compose-box cards: valid Adaptive Card 1.5
for Teams, under 28 KB, deep links kept, Teams' userIds rules, and only our own data read back."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest

from cards.bills import build_bill_card, build_bill_detail_card
from cards.compose import bill_preview, build_link_card
from cards.dispatch import SHRINK_STEPS, card_for_event, shrink_card
from cards.elements import CARD_SIZE_LIMIT, card_size
from cards.payments import build_payment_card
from cards.refresh import (
    DETAIL,
    MAX_AUTO_REFRESH_USERS,
    NOTICE,
    REFRESH_RESERVE,
    REFRESH_VERB,
    RecordRef,
    record_fingerprint,
    refresh_of,
    refresh_request,
    with_refresh,
)
from cards.vendors import build_vendor_card
from poller.events import BillCreated, PaymentPending, VendorStatusChanged
from tests.cards import samples as s
from tests.cards.harness import assert_valid_card
from tests.cards.test_size import HUGE, _huge_bill

USER = "29:1uMVvhoAyfTqdMsyvHL0qlJTTfQF9MOUSI8_cQts2kdSWEZVDyJO2jz-CsNOhQcdYq1Bw4cHT0__O6XDj4AZ-Jw"  # a recorded Teams MRI


def record_cards():
    bill, payment, vendor = s.bill(), s.payment(), s.vendor()
    return {
        "bill notice": (build_bill_card(bill, links=s.LINKS, today=s.TODAY, created=True), RecordRef("DEMO-CO", "bill", bill.record_no, NOTICE), bill),
        "bill detail": (build_bill_detail_card(bill, links=s.LINKS, today=s.TODAY, zone=s.ZONE), RecordRef("DEMO-CO", "bill", bill.record_no), bill),
        "payment": (build_payment_card(payment, links=s.LINKS, today=s.TODAY), RecordRef("DEMO-CO", "payment", payment.record_no), payment),
        "vendor": (build_vendor_card(vendor, links=s.LINKS, today=s.TODAY, zone=s.ZONE), RecordRef("DEMO-CO", "vendor", vendor.record_no), vendor),
    }


@pytest.mark.parametrize("name", list(record_cards()))
def test_every_record_card_with_its_refresh_is_a_valid_teams_card_with_its_deep_links(name, validator):
    card, ref, record = record_cards()[name]

    refreshed = with_refresh(card, ref, record, user_ids=[USER])

    assert_valid_card(refreshed, validator)
    assert refreshed["actions"] == card["actions"] and refreshed["body"] == card["body"]
    assert refreshed["refresh"]["action"]["type"] == "Action.Execute" and refreshed["refresh"]["action"]["verb"] == REFRESH_VERB
    assert refreshed["refresh"]["userIds"] == [USER]
    assert refresh_of(refreshed).ref == ref


def test_a_posted_card_refreshes_by_hand_only_and_a_persons_card_by_itself_for_them():
    card, ref, bill = record_cards()["bill notice"]

    assert with_refresh(card, ref, bill)["refresh"]["userIds"] == []  # Teams: [] = the "Refresh card" menu item only
    assert with_refresh(card, ref, bill, user_ids=[USER, USER])["refresh"]["userIds"] == [USER]


def test_teams_refreshes_by_itself_for_at_most_60_users():
    card, ref, payment = record_cards()["payment"]
    users = [f"29:user-{n}" for n in range(MAX_AUTO_REFRESH_USERS + 1)]

    assert len(with_refresh(card, ref, payment, user_ids=users[:-1])["refresh"]["userIds"]) == MAX_AUTO_REFRESH_USERS
    with pytest.raises(ValueError):
        with_refresh(card, ref, payment, user_ids=users)


def test_the_fingerprint_follows_the_records_version_not_the_cards_wording():
    bill = s.bill()
    later = s.bill(when_modified=bill.when_modified + timedelta(minutes=1))
    paid = s.bill(state="Paid", total_due=Decimal("0"))
    card, ref, _ = record_cards()["bill detail"]

    refreshed = with_refresh(card, ref, bill)

    assert refresh_of(refreshed).fingerprint == record_fingerprint(bill) == record_fingerprint(s.bill(description="other words"))
    assert len({record_fingerprint(bill), record_fingerprint(later), record_fingerprint(paid)}) == 3
    assert record_fingerprint(s.vendor()) != record_fingerprint(s.vendor(on_hold=not s.vendor().on_hold))
    assert record_fingerprint(s.payment()) != record_fingerprint(s.payment(state="Confirmed"))


def test_a_refresh_adds_at_most_the_reserve_even_with_the_longest_company_key():
    card, _, bill = record_cards()["bill notice"]
    ref = RecordRef("K" * 100, "bill", 2**53 - 1, NOTICE)

    assert card_size(with_refresh(card, ref, bill)) - card_size(card) <= REFRESH_RESERVE


@pytest.mark.parametrize("event_name", ["bill", "payment", "vendor"])
def test_posted_cards_carry_a_manual_refresh_and_stay_under_28_kb_when_huge(event_name, validator):
    events = {
        "bill": BillCreated("DEMO-CO", _huge_bill(lines=500)),
        "payment": PaymentPending("DEMO-CO", s.payment(vendor_name=HUGE, description=HUGE)),
        "vendor": VendorStatusChanged("DEMO-CO", s.vendor(name=HUGE), "active", "inactive", False, True),
    }
    event = events[event_name]

    card = card_for_event(event, links=s.LINKS, zone=s.ZONE, now=s.NOW)

    assert_valid_card(card, validator)
    assert card_size(card) < CARD_SIZE_LIMIT
    request = refresh_of(card)
    assert request.ref == RecordRef("DEMO-CO", event.record_kind, event.record_no, NOTICE) and card["refresh"]["userIds"] == []


def test_a_shrunk_card_after_a_413_keeps_its_refresh_and_is_smaller_than_the_one_refused():
    event = BillCreated("DEMO-CO", _huge_bill(lines=500))
    refused = card_size(card_for_event(event, links=s.LINKS, zone=s.ZONE, now=s.NOW))

    smaller = shrink_card(event, links=s.LINKS, zone=s.ZONE, now=s.NOW, attempt=1, refused_size=refused)

    assert card_size(smaller) < min(refused, SHRINK_STEPS[0][0] + 1) and refresh_of(smaller) is not None


def valid_data() -> dict:
    return {"v": 1, "company": "DEMO-CO", "kind": "bill", "record": 42, "view": DETAIL, "fp": "0123456789abcdef"}


def test_a_refresh_request_is_read_back_from_the_action_data():
    assert refresh_request(REFRESH_VERB, valid_data()).ref == RecordRef("DEMO-CO", "bill", 42, DETAIL)


@pytest.mark.parametrize(
    ("verb", "changes"),
    [
        ("other", {}),
        (None, {}),
        (REFRESH_VERB, {"v": 2}),
        (REFRESH_VERB, {"kind": "digest"}),
        (REFRESH_VERB, {"view": "admin"}),
        (REFRESH_VERB, {"record": "42"}),
        (REFRESH_VERB, {"record": 0}),
        (REFRESH_VERB, {"record": -5}),
        (REFRESH_VERB, {"record": 2**53}),
        (REFRESH_VERB, {"record": True}),
        (REFRESH_VERB, {"record": 4.2}),
        (REFRESH_VERB, {"company": ""}),
        (REFRESH_VERB, {"company": 7}),
        (REFRESH_VERB, {"company": "x" * 101}),
        (REFRESH_VERB, {"fp": "not-hex"}),
        (REFRESH_VERB, {"fp": None}),
        (REFRESH_VERB, {"extra": "field"}),
    ],
)
def test_action_data_not_of_our_making_is_refused(verb, changes):
    data = {**valid_data(), **changes}

    assert refresh_request(verb, data) is None


@pytest.mark.parametrize("data", [None, "text", [1, 2], 42, {"v": 1}])
def test_action_data_of_another_shape_is_refused(data):
    assert refresh_request(REFRESH_VERB, data) is None


def test_a_bill_preview_is_plain_text_a_thumbnail_card_shows():
    preview = bill_preview(s.bill(vendor_name=HUGE, bill_number=HUGE), today=s.TODAY)

    assert set(preview) == {"title", "subtitle"}
    assert all("<" not in value and "*" not in value and "\n" not in value for value in preview.values())
    assert s.bill().bill_number in bill_preview(s.bill(), today=s.TODAY)["title"]


def test_the_link_card_links_back_only_when_given_a_safe_url(validator):
    back = build_link_card("https://www.intacct.com/ia/acct/ur.phtml?.r=abc", "not known")
    none = build_link_card(None, "not ours")
    hostile = build_link_card("javascript:alert(1)", "not ours")

    for card in (back, none, hostile):
        assert_valid_card(card, validator)
    assert [a["url"] for a in back["actions"]] == ["https://www.intacct.com/ia/acct/ur.phtml?.r=abc"]
    assert "actions" not in none and "actions" not in hostile
    assert json.dumps(back).count("not known") == 2  # in the card and its fallback text
