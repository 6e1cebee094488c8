"""Vendor cards: the status-change notification (active/inactive, on hold) and the `show vendor` card."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from cards import texts
from cards.bills import bill_list_button, bill_row, due_order, figure_summary
from cards.elements import CARD_SIZE_BUDGET, Card, Element, container, facts, heading, make_card, open_url, text
from cards.fit import ensure_fits, fit
from cards.format import moment, vendor_tone
from cards.links import IntacctLinks
from cards.sanitize import ID_LIMIT, NAME_LIMIT, clean_optional, clean_text
from intacct import figures
from intacct.bills import Bill
from intacct.company import TeamZone
from intacct.figures import Tally
from intacct.vendors import Vendor

DEFAULT_MAX_ITEMS = 5  # open bills on the vendor card


def build_vendor_status_card(
    vendor: Vendor,
    *,
    links: IntacctLinks,
    zone: TeamZone,
    old_status: str,
    new_status: str,
    old_on_hold: bool,
    new_on_hold: bool,
    max_bytes: int = CARD_SIZE_BUDGET,
) -> Card:
    """The card for a vendor whose status or on-hold flag changed: old → new for each, and when
    (in the team's zone). Intacct's VENDOR object as read has no hold-reason field, so none is shown."""
    title = _status_heading(old_status, new_status, old_on_hold, new_on_hold)
    name = f"{clean_text(vendor.name, NAME_LIMIT)} ({clean_text(vendor.vendor_id, ID_LIMIT)})"
    status_change = _change(old_status, new_status)
    hold_change = _change(_yes_no(old_on_hold), _yes_no(new_on_hold))
    body: list[Element | None] = [
        container([heading(title), text(name, spacing="None")], tone=vendor_tone(new_status, new_on_hold)),
        facts(
            [
                (texts.STATUS, status_change),
                (texts.ON_HOLD, hold_change),
                (texts.ENTITY, clean_optional(vendor.entity_id, ID_LIMIT)),
                (texts.MODIFIED, moment(vendor.when_modified, zone, named=True) if vendor.when_modified else None),
            ]
        ),
    ]
    actions = [open_url(texts.OPEN_VENDOR, links.vendor(vendor), tooltip=links.sign_in_hint)]
    fallback = f"{title}: {name}, status {status_change}, on hold {hold_change}"
    return ensure_fits("vendor status", make_card(body, fallback_text=fallback, actions=actions), max_bytes)


def build_vendor_card(
    vendor: Vendor,
    *,
    links: IntacctLinks,
    today: date,
    zone: TeamZone,
    open_bills: Sequence[Bill] = (),
    open_bills_total: int | None = None,
    open_bills_tally: Tally | None = None,
    max_items: int = DEFAULT_MAX_ITEMS,
    max_bytes: int = CARD_SIZE_BUDGET,
) -> Card:
    """The answer to `show vendor <name or id>`: status, hold, terms, contact and, when given, the
    vendor's open bills (soonest due first) with their figure for the whole result."""
    ordered = sorted(open_bills, key=due_order)
    whole = open_bills_tally or figures.tally(ordered, figures.amount_due, count=open_bills_total)

    def render(items: int) -> Card:
        return _vendor_card(vendor, ordered[:items], whole, links=links, today=today, zone=zone)

    return fit("vendor", render, wanted=max_items, max_bytes=max_bytes)


def _vendor_card(vendor: Vendor, bills: Sequence[Bill], whole: Tally, *, links: IntacctLinks, today: date, zone: TeamZone) -> Card:
    standing = clean_text(vendor.status, ID_LIMIT) + (f" · {texts.ON_HOLD_WORD}" if vendor.on_hold else "")
    body: list[Element | None] = [
        container(
            [
                heading(clean_text(vendor.name, NAME_LIMIT)),
                text(f"{clean_text(vendor.vendor_id, ID_LIMIT)} · {standing}", weight="Bolder", spacing="None"),
            ],
            tone=vendor_tone(vendor.status, vendor.on_hold),
        ),
        facts(
            [
                (texts.TERMS, clean_optional(vendor.term_name, NAME_LIMIT)),
                (texts.CURRENCY, clean_optional(vendor.currency, ID_LIMIT)),
                (texts.EMAIL, clean_optional(vendor.email, NAME_LIMIT)),
                (texts.ENTITY, clean_optional(vendor.entity_id, ID_LIMIT)),
                (texts.MODIFIED, moment(vendor.when_modified, zone, named=True) if vendor.when_modified else None),
            ]
        ),
    ]
    actions = [open_url(texts.OPEN_VENDOR, links.vendor(vendor), tooltip=links.sign_in_hint)]
    if whole.count:
        body.append(text(texts.OPEN_BILLS, weight="Bolder", separator=True, spacing="Medium"))
        body.append(text(figure_summary(whole, "bill"), spacing="None"))
        body += [bill_row(bill, links=links, today=today) for bill in bills]
        if whole.count > len(bills):
            body.append(text(texts.showing_first(len(bills), texts.SOONEST_FIRST), subtle=True))
        actions.append(bill_list_button(links))
    fallback = f"{vendor.name} ({vendor.vendor_id}): {standing}"
    return make_card(body, fallback_text=fallback, actions=actions)


def _status_heading(old_status: str, new_status: str, old_on_hold: bool, new_on_hold: bool) -> str:
    status_changed = old_status.casefold() != new_status.casefold()
    hold_changed = old_on_hold != new_on_hold
    if status_changed and hold_changed:
        return texts.VENDOR_CHANGED
    if hold_changed:
        return texts.VENDOR_ON_HOLD if new_on_hold else texts.VENDOR_RELEASED
    if status_changed:
        return texts.VENDOR_ACTIVE if new_status.casefold() == "active" else texts.VENDOR_INACTIVE
    return texts.VENDOR_CHANGED


def _change(old: str, new: str) -> str:
    old_text, new_text = clean_text(old, ID_LIMIT), clean_text(new, ID_LIMIT)
    return new_text if old_text == new_text else f"{old_text} → {new_text}"


def _yes_no(flag: bool) -> str:
    return texts.YES if flag else texts.NO
