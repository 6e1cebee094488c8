"""From an outbox event to its card, and to a smaller card when Teams says the message is too big.

The shrink path: the notifier posts `card_for_event(event, …)`. When Teams answers 413
MessageSizeTooBig (the ~28 KB limit counts the whole activity, not only the card), it calls
`shrink_card(event, …, attempt=1, refused_size=card_size(card))`, then `attempt=2`, … with the
size of the card refused last. Each step lowers the byte budget and lists fewer lines/items
(`SHRINK_STEPS`). When no smaller card exists — the steps are exhausted, the smallest rendering
still exceeds the step's budget, or the result is not smaller than `refused_size` (cards without
lists cannot shrink) — it raises CardTooLargeError: the notifier then fails the row for good and
alerts, instead of retrying forever.
"""

from __future__ import annotations

from datetime import datetime

from cards.alerts import alert_view, build_alert_card
from cards.bills import build_bill_card
from cards.digest import build_digest_card, build_summary_card
from cards.elements import CARD_SIZE_BUDGET, Card, card_size
from cards.errors import CardTooLargeError
from cards.format import ReferenceNames
from cards.links import IntacctLinks
from cards.payments import build_payment_card
from cards.refresh import NOTICE, REFRESH_RESERVE, RecordRef, with_refresh
from cards.vendors import build_vendor_status_card
from intacct.company import TeamZone
from poller.events import (
    AlertRaised,
    BillCreated,
    BillStateChanged,
    ChangesSummarized,
    DigestPrepared,
    Event,
    PaymentPending,
    PaymentStateChanged,
    VendorStatusChanged,
)

# (byte budget, list items) per shrink attempt; attempt 1 is the first retry after a 413.
SHRINK_STEPS: tuple[tuple[int, int], ...] = ((12_000, 4), (8_000, 2), (4_000, 0))


def card_for_event(
    event: Event,
    *,
    links: IntacctLinks,
    zone: TeamZone,
    now: datetime,
    names: ReferenceNames | None = None,
    company_name: str | None = None,
    max_items: int | None = None,
    max_bytes: int = CARD_SIZE_BUDGET,
) -> Card:
    """The card for one outbox event at `now`, with its dates and times in the AP team's `zone`
    (one zone per card: "today" is the zone's date at `now`); `max_items` caps bill lines / list
    rows (None: the default). A bill, payment or vendor card carries its refresh (cards/refresh.py),
    by hand only: it is posted into a channel."""
    if isinstance(event, (BillCreated, BillStateChanged, PaymentPending, PaymentStateChanged, VendorStatusChanged)):
        card = _card_for_event(event, links=links, zone=zone, now=now, names=names, company_name=company_name,
                               max_items=max_items, max_bytes=max_bytes - REFRESH_RESERVE)  # fmt: skip
        return with_refresh(card, RecordRef(event.company, event.record_kind, event.record_no, NOTICE), _record_of(event))
    return _card_for_event(event, links=links, zone=zone, now=now, names=names, company_name=company_name,
                           max_items=max_items, max_bytes=max_bytes)  # fmt: skip


def _record_of(event: BillCreated | BillStateChanged | PaymentPending | PaymentStateChanged | VendorStatusChanged):
    """The record an event's card shows."""
    if isinstance(event, VendorStatusChanged):
        return event.vendor
    if isinstance(event, (PaymentPending, PaymentStateChanged)):
        return event.payment
    return event.bill


def _card_for_event(
    event: Event,
    *,
    links: IntacctLinks,
    zone: TeamZone,
    now: datetime,
    names: ReferenceNames | None,
    company_name: str | None,
    max_items: int | None,
    max_bytes: int,
) -> Card:
    items = {} if max_items is None else {"max_items": max_items}
    lines = {} if max_items is None else {"max_lines": max_items}
    today = zone.today(now)
    if isinstance(event, BillCreated):
        return build_bill_card(
            event.bill, links=links, today=today, created=True, names=names, max_bytes=max_bytes, **lines
        )
    if isinstance(event, BillStateChanged):
        return build_bill_card(
            event.bill, links=links, today=today, old_state=event.old_state, names=names, max_bytes=max_bytes, **lines
        )
    if isinstance(event, PaymentPending):
        return build_payment_card(event.payment, links=links, today=today, max_bytes=max_bytes)
    if isinstance(event, PaymentStateChanged):
        return build_payment_card(
            event.payment, links=links, today=today, old_state=event.old_state, max_bytes=max_bytes
        )
    if isinstance(event, VendorStatusChanged):
        return build_vendor_status_card(
            event.vendor,
            links=links,
            zone=zone,
            old_status=event.old_status,
            new_status=event.new_status,
            old_on_hold=event.old_on_hold,
            new_on_hold=event.new_on_hold,
            max_bytes=max_bytes,
        )
    if isinstance(event, DigestPrepared):
        return build_digest_card(event, links=links, names=names, company_name=company_name, max_bytes=max_bytes, **items)
    if isinstance(event, ChangesSummarized):
        return build_summary_card(event, links=links, zone=zone, max_bytes=max_bytes, **items)
    if isinstance(event, AlertRaised):
        return build_alert_card(alert_view(event), zone=zone, company_name=company_name, max_bytes=max_bytes)
    raise TypeError(f"no card for event type {type(event).__name__}")


def shrink_card(
    event: Event,
    *,
    links: IntacctLinks,
    zone: TeamZone,
    now: datetime,
    attempt: int,
    refused_size: int | None = None,
    names: ReferenceNames | None = None,
    company_name: str | None = None,
) -> Card:
    """A smaller card for `event` after a 413 (attempt 1, 2, …); see the module docstring.

    Raises CardTooLargeError when attempt exceeds len(SHRINK_STEPS), nothing fits the step's
    budget, or the card would not be smaller than `refused_size`.
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1 (the first retry after a 413)")
    name = type(event).__name__
    if attempt > len(SHRINK_STEPS):
        smallest = card_for_event(event, links=links, zone=zone, now=now, names=names, company_name=company_name, max_items=0, max_bytes=10**9)
        raise CardTooLargeError(name, card_size(smallest), SHRINK_STEPS[-1][0])
    max_bytes, max_items = SHRINK_STEPS[attempt - 1]
    if refused_size is not None:
        max_bytes = min(max_bytes, refused_size - 1)
    return card_for_event(
        event, links=links, zone=zone, now=now, names=names, company_name=company_name, max_items=max_items, max_bytes=max_bytes
    )
