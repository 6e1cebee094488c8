"""What the compose box shows: a bill's line in the search results, and the small card for an
Intacct link the bot cannot turn into a record's card.

A search result is an attachment whose `preview` Teams lists; for an Adaptive Card the preview
must be a hero or thumbnail card (learn.microsoft.com, "Respond to search command", section
"result response type": "To send an Adaptive Card … you must include a preview. The preview
property must be a Hero or Thumbnail card"). A thumbnail card's content is `title`, `subtitle`,
`text` (cards-reference, "Thumbnail card"), all plain text here, cleaned like every card text.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from cards import texts
from cards.elements import Card, heading, make_card, open_url, text
from cards.format import money, short_day
from cards.sanitize import ID_LIMIT, NAME_LIMIT, clean_text
from intacct import figures
from intacct.bills import Bill
from intacct.payments import Payment
from intacct.vendors import Vendor

THUMBNAIL_CARD = "application/vnd.microsoft.card.thumbnail"  # Bot Framework card content type (cards-reference)


def bill_preview(bill: Bill, *, today: date) -> dict[str, Any]:
    """A bill's line in the compose box's results: vendor and number; what is due, when, and its state."""
    due = short_day(bill.due_date, today) if bill.due_date else None
    return {
        "title": f"{clean_text(bill.vendor_name or bill.vendor_id, NAME_LIMIT)} · {clean_text(bill.bill_number, ID_LIMIT)}",
        "subtitle": clean_text(
            texts.preview_due(money(figures.amount_due(bill), bill.currency), due, clean_text(bill.state, ID_LIMIT)), NAME_LIMIT
        ),
    }


def record_preview(record: Bill | Payment | Vendor, *, today: date) -> dict[str, Any]:
    """Any record's line in the compose box: a bill's as above; a payment's vendor, amount and
    state; a vendor's name, id and status."""
    if isinstance(record, Bill):
        return bill_preview(record, today=today)
    if isinstance(record, Payment):
        who = clean_text(record.vendor_name or record.vendor_id, NAME_LIMIT)
        return {"title": f"{texts.PAYMENT_PREVIEW} · {who}", "subtitle": f"{money(record.amount, record.currency)} · {clean_text(record.state, ID_LIMIT)}"}
    hold = f" · {texts.ON_HOLD.lower()}" if record.on_hold else ""
    return {"title": f"{clean_text(record.name, NAME_LIMIT)} ({clean_text(record.vendor_id, ID_LIMIT)})",
            "subtitle": f"{clean_text(record.status, ID_LIMIT)}{hold}"}  # fmt: skip


def link_preview(message: str) -> dict[str, Any]:
    """The compose box's line for a link that shows no record."""
    return {"title": texts.LINK_CARD_TITLE, "subtitle": clean_text(message, NAME_LIMIT)}


def build_link_card(url: str | None, message: str) -> Card:
    """The card for a pasted Intacct link that shows no record: why, and (for an Intacct host) the
    link itself as a button, so the person still gets where it leads. `url` None: no button."""
    return make_card(
        [heading(texts.LINK_CARD_TITLE), text(message, spacing="Small")],
        fallback_text=f"{texts.LINK_CARD_TITLE}: {message}",
        actions=[open_url(texts.OPEN_IN_INTACCT, url)] if url else (),
    )
