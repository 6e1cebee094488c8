"""The codec round-trips every event type; a first check that the skeleton imports."""

from datetime import date, datetime, timezone
from decimal import Decimal

from intacct.bills import Bill, BillLine
from poller.codec import event_from_payload, event_to_payload
from poller.events import BillStateChanged


def test_event_round_trips_through_json_payload():
    bill = Bill(
        1, "B-1", "V1", "Acme", "Submitted", Decimal("10.50"), Decimal("10.50"), "USD",
        due_date=date(2026, 12, 1), when_modified=datetime(2026, 11, 23, tzinfo=timezone.utc),
        lines=(BillLine(7, 1, Decimal("10.50"), "6000", department_id="D1"),),
    )
    event = BillStateChanged("DEMO-CO", bill, "Submitted", "Posted")
    assert event_from_payload(event_to_payload(event)) == event
