"""Route matching and fan-out, including the burst summary per channel."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from intacct.bills import Bill, BillLine
from intacct.payments import Payment
from intacct.vendors import Vendor
from poller.codec import event_from_payload
from poller.events import AlertKind, AlertRaised, BillCreated, ChangesSummarized, PaymentPending, VendorStatusChanged
from poller.routing import expand_kinds, fan_out, route_matches
from store.types import Route, RouteFilter

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)


def bill(no=1, amount="100.00", dept="D100", loc="L1", vendor_id="V1", vendor_name="Acme Ltd", company="C") -> BillCreated:
    line = BillLine(no * 10, 1, Decimal(amount), "6000", department_id=dept, department_name=f"Dept {dept}", location_id=loc)
    b = Bill(no, f"B-{no}", vendor_id, vendor_name, "Submitted", Decimal(amount), Decimal(amount), "USD",
             due_date=date(2026, 12, 1), when_modified=NOW, lines=(line,))
    return BillCreated(company, b)


def route(id=1, conv="19:a@thread.tacv2", kinds=("bills",), company=None, active=True, **filters) -> Route:
    return Route(id, conv, expand_kinds(kinds), RouteFilter(**filters), company=company, active=active)


MATCH_CASES = [
    ("kind matches", route(), bill(), True),
    ("kind differs", route(kinds=("payments",)), bill(), False),
    ("all covers bills", route(kinds=("all",)), bill(), True),
    ("inactive route", route(active=False), bill(), False),
    ("company differs", route(company="OTHER"), bill(), False),
    ("company same", route(company="C"), bill(), True),
    ("department by id, any case", route(department="d100"), bill(), True),
    ("department by name", route(department="Dept D100"), bill(), True),
    ("department differs", route(department="D200"), bill(), False),
    ("location differs", route(location="L9"), bill(), False),
    ("over amount passes", route(min_amount=Decimal("50")), bill(), True),
    ("under amount blocked", route(min_amount=Decimal("500")), bill(), False),
    ("vendor id", route(vendor="v1"), bill(), True),
    ("vendor name part", route(vendor="acme"), bill(), True),
    ("vendor differs", route(vendor="Globex"), bill(), False),
    ("entity from company key", route(entity="E1"), bill(company="C/E1"), True),
    ("entity differs", route(entity="E2"), bill(company="C/E1"), False),
    ("department filter does not block a vendor event", route(kinds=("vendors",), department="D100"),
     VendorStatusChanged("C", Vendor(1, "V1", "Acme", "active", True), "active", "active", False, True), True),
    ("amount filter applies to payments", route(kinds=("payments",), min_amount=Decimal("100")),
     PaymentPending("C", Payment(1, "V1", "Submitted", Decimal("99.99"), "USD")), False),
]


@pytest.mark.parametrize("name,r,event,expected", MATCH_CASES, ids=[c[0] for c in MATCH_CASES])
def test_route_matches(name, r, event, expected):
    assert route_matches(r, event) is expected


def test_fan_out_one_item_per_event_and_channel_even_with_overlapping_routes():
    routes = [route(1, "chan-a"), route(2, "chan-a", kinds=("all",)), route(3, "chan-b")]
    items = fan_out([bill(1), bill(2)], routes, now=NOW, max_per_channel=20)
    assert sorted((i.conversation_id, i.record_no) for i in items) == [("chan-a", 1), ("chan-a", 2), ("chan-b", 1), ("chan-b", 2)]
    assert all(i.source_modified_at == NOW for i in items)
    assert event_from_payload(items[0].payload) == bill(1)


def test_burst_above_limit_becomes_one_summary_for_that_channel_only():
    routes = [route(1, "busy"), route(2, "quiet", department="D7")]
    events = [bill(n) for n in range(1, 26)] + [bill(99, dept="D7")]
    alert = AlertRaised("C", AlertKind.POLLING_FAILED, NOW, "Polling DEMO-CO fails")
    routes.append(Route(3, "busy", frozenset({"alerts"})))
    items = fan_out(events + [alert], routes, now=NOW, max_per_channel=20)
    busy = [i for i in items if i.conversation_id == "busy"]
    assert sorted(i.record_kind for i in busy) == ["alert", "summary"]
    summary = event_from_payload(next(i for i in busy if i.record_kind == "summary").payload)
    assert isinstance(summary, ChangesSummarized) and summary.total == 26
    assert summary.changes[0].label.startswith("New bill B-1 · Acme Ltd · 100.00 USD")
    quiet = [i for i in items if i.conversation_id == "quiet"]
    assert [i.record_no for i in quiet] == [99]


def test_exactly_at_limit_is_not_folded():
    items = fan_out([bill(n) for n in range(1, 21)], [route()], now=NOW, max_per_channel=20)
    assert len(items) == 20 and all(i.record_kind == "bill" for i in items)
