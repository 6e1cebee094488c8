"""Pure fan-out: which channels get which event, and folding a burst into one summary per channel."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Iterable, Sequence

from poller.codec import event_to_payload
from poller.events import (
    AlertRaised,
    BillCreated,
    BillStateChanged,
    ChangesSummarized,
    DigestPrepared,
    Event,
    PaymentPending,
    PaymentStateChanged,
    SummarizedChange,
    VendorStatusChanged,
)
from store.types import NewOutboxItem, Route

ALL_EVENT_KINDS = frozenset({"bills", "payments", "vendors", "digest"})
_NEVER_FOLDED = (AlertRaised, DigestPrepared, ChangesSummarized)


def route_matches(route: Route, event: Event) -> bool:
    """Whether `route` wants `event`: active, right company and kind, and every filter passes.

    A filter that cannot apply to an event (a department on a vendor change) does not block it.
    """
    if not route.active or event.kind.value not in route.event_kinds:
        return False
    if route.company is not None and route.company != event.company:
        return False
    f = route.filter
    if f.vendor is not None and not _vendor_matches(f.vendor, event):
        return False
    if f.min_amount is not None:
        amount = _amount(event)
        if amount is not None and amount < f.min_amount:
            return False
    if f.entity is not None:
        entity = _entity(event)
        if entity is not None and entity.casefold() != f.entity.casefold():
            return False
    if f.department is not None and isinstance(event, (BillCreated, BillStateChanged)):
        if not any(_same(f.department, line.department_id, line.department_name) for line in event.bill.lines):
            return False
    if f.location is not None and isinstance(event, (BillCreated, BillStateChanged)):
        if not any(_same(f.location, line.location_id, line.location_name) for line in event.bill.lines):
            return False
    return True


def fan_out(
    events: Sequence[Event],
    routes: Sequence[Route],
    *,
    now: datetime,
    max_per_channel: int,
) -> list[NewOutboxItem]:
    """One outbox item per (event, channel); a channel with more than `max_per_channel` record
    events in this batch gets one ChangesSummarized instead (alerts and digests always pass)."""
    per_channel: dict[str, list[tuple[Event, Route]]] = defaultdict(list)
    for event in events:
        seen: set[str] = set()
        for route in routes:
            if route.conversation_id not in seen and route_matches(route, event):
                seen.add(route.conversation_id)
                per_channel[route.conversation_id].append((event, route))
    items: list[NewOutboxItem] = []
    for conversation_id, pairs in per_channel.items():
        foldable = [(e, r) for e, r in pairs if not isinstance(e, _NEVER_FOLDED)]
        if len(foldable) > max_per_channel:
            always = [(e, r) for e, r in pairs if isinstance(e, _NEVER_FOLDED)]
            summary = _summarize([e for e, _ in foldable], conversation_id, now)
            pairs = always + [(summary, foldable[0][1])]
        items.extend(_outbox_item(event, route, now) for event, route in pairs)
    return items


def _outbox_item(event: Event, route: Route, now: datetime) -> NewOutboxItem:
    return NewOutboxItem(
        company=event.company,
        event_key=event.key,
        event_kind=event.kind.value,
        record_kind=event.record_kind,
        record_no=event.record_no,
        conversation_id=route.conversation_id,
        route_id=route.id,
        payload=event_to_payload(event),
        created_at=now,
        source_modified_at=_modified(event),
    )


def _summarize(events: Sequence[Event], conversation_id: str, now: datetime) -> ChangesSummarized:
    changes = tuple(
        SummarizedChange(e.kind, e.record_kind, e.record_no, describe(e), getattr(_record(e), "record_url", None))
        for e in events
    )
    return ChangesSummarized(events[0].company, now, conversation_id, len(changes), changes)


def describe(event: Event) -> str:
    """A one-line, plain-text description of a record event (for summaries and logs)."""
    if isinstance(event, BillCreated):
        b = event.bill
        return f"New bill {b.bill_number} · {b.vendor_name} · {_money(b.total_entered, b.currency)} · {b.state}"
    if isinstance(event, BillStateChanged):
        b = event.bill
        change = f"{event.old_state} → {event.new_state}" if event.old_state != event.new_state else f"{b.state} (details changed)"
        return f"Bill {b.bill_number} · {b.vendor_name} · {_money(b.total_entered, b.currency)} · {change}"
    if isinstance(event, PaymentPending):
        p = event.payment
        return f"Payment {p.record_no} · {p.vendor_name or p.vendor_id} · {_money(p.amount, p.currency)} · {p.state}"
    if isinstance(event, PaymentStateChanged):
        p = event.payment
        return f"Payment {p.record_no} · {p.vendor_name or p.vendor_id} · {event.old_state} → {event.new_state}"
    if isinstance(event, VendorStatusChanged):
        v = event.vendor
        hold = " · on hold" if v.on_hold else ""
        return f"Vendor {v.vendor_id} · {v.name} · {event.old_status} → {event.new_status}{hold}"
    return type(event).__name__


def _money(amount: Decimal, currency: str) -> str:
    return f"{amount:,.2f} {currency}"


def _record(event: Event):
    return getattr(event, "bill", None) or getattr(event, "payment", None) or getattr(event, "vendor", None)


def _modified(event: Event) -> datetime | None:
    record = _record(event)
    return getattr(record, "when_modified", None) if record is not None else None


def _amount(event: Event) -> Decimal | None:
    if isinstance(event, (BillCreated, BillStateChanged)):
        return event.bill.total_entered
    if isinstance(event, (PaymentPending, PaymentStateChanged)):
        return event.payment.amount
    return None


def _entity(event: Event) -> str | None:
    record = _record(event)
    entity = getattr(record, "entity_id", None) if record is not None else None
    if entity:
        return entity
    # The company key of an entity poll is "COMPANY/ENTITY".
    return event.company.split("/", 1)[1] if "/" in event.company else None


def _vendor_matches(wanted: str, event: Event) -> bool:
    record = _record(event)
    if record is None:
        return True
    vendor_id = getattr(record, "vendor_id", None)
    name = getattr(record, "vendor_name", None) or getattr(record, "name", None)
    needle = wanted.casefold()
    return (vendor_id or "").casefold() == needle or needle in (name or "").casefold()


def _same(wanted: str, *candidates: str | None) -> bool:
    needle = wanted.casefold()
    return any(c is not None and c.casefold() == needle for c in candidates)


def expand_kinds(kinds: Iterable[str]) -> frozenset[str]:
    """`all` means every record event kind and the digest (alerts are asked for by name)."""
    result: set[str] = set()
    for kind in kinds:
        result |= ALL_EVENT_KINDS if kind == "all" else {kind}
    return frozenset(result)
