"""Payment cards: the notification card (pending, and every later state) and the payments list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from cards import texts
from cards.bills import currency_totals, totals_fact
from cards.elements import (
    CARD_SIZE_BUDGET,
    Card,
    Element,
    columns,
    container,
    facts,
    heading,
    make_card,
    open_url,
    text,
)
from cards.fit import ensure_fits, fit
from cards.format import day_and_relative, money, money_totals, payment_is_pending_approval, payment_tone
from cards.links import IntacctLinks
from cards.sanitize import DESCRIPTION_LIMIT, ID_LIMIT, NAME_LIMIT, clean_optional, clean_text
from intacct.payments import Payment

DEFAULT_MAX_ITEMS = 10  # payments on the `show payments` card


def build_payment_card(
    payment: Payment,
    *,
    links: IntacctLinks,
    today: date,
    old_state: str | None = None,
    max_bytes: int = CARD_SIZE_BUDGET,
) -> Card:
    """The card for a payment waiting for approval or payment, updated in place on later states
    (`old_state` shows as "was: …"); the payment date reads relative to `today`."""
    if old_state is None:
        title = texts.PAYMENT_PENDING_APPROVAL if payment_is_pending_approval(payment) else texts.PAYMENT_PENDING
    else:
        title = texts.payment_state_heading(payment.state)
    tone = payment_tone(payment.state)
    vendor = _vendor(payment)
    number = texts.payment_title(payment.record_no)
    amount = money(payment.amount, payment.currency)
    state = [text(payment.state, weight="Bolder", tone=tone, align="Right", limit=ID_LIMIT)]
    if old_state is not None and old_state != payment.state:
        state.append(text(texts.was(clean_text(old_state, ID_LIMIT)), subtle=True, align="Right", spacing="None"))
    paid_on = day_and_relative(payment.payment_date, today) if payment.payment_date else None
    body: list[Element | None] = [
        container([heading(title), text(f"{vendor} · {number}", spacing="None")], tone=tone),
        columns(([text(amount, size="Large", weight="Bolder")], "stretch"), (state, "auto")),
        facts(
            [
                (texts.VENDOR, vendor),
                (texts.PAYMENT_METHOD, clean_optional(payment.payment_method, NAME_LIMIT)),
                (texts.PAYMENT_DATE, paid_on),
                (texts.REFERENCE, clean_optional(payment.reference, ID_LIMIT)),
                (texts.BANK_ACCOUNT, clean_optional(payment.financial_entity, ID_LIMIT)),
                (texts.DESCRIPTION, clean_optional(payment.description, DESCRIPTION_LIMIT)),
                (texts.ENTITY, clean_optional(payment.entity_id, ID_LIMIT)),
            ]
        ),
    ]
    actions = [
        open_url(texts.OPEN_PAYMENT, links.payment(payment), tooltip=links.sign_in_hint),
        open_url(texts.OPEN_VENDOR, links.vendor_by_id(payment.vendor_id), tooltip=links.sign_in_hint),
    ]
    fallback = f"{title}: {vendor}, {number}, {amount}, {payment.state}"
    return ensure_fits("payment", make_card(body, fallback_text=fallback, actions=actions), max_bytes)


def build_payments_list_card(
    payments: Sequence[Payment],
    *,
    total: int,
    links: IntacctLinks,
    today: date,
    title: str = texts.PAYMENTS,
    max_items: int = DEFAULT_MAX_ITEMS,
    max_bytes: int = CARD_SIZE_BUDGET,
) -> Card:
    """The answer to `show payments [pending]`: latest payment date first, totals per currency,
    and a link to the rest when Intacct has more (`total` is Intacct's count)."""
    ordered = sorted(payments, key=_latest_first)
    total = max(total, len(ordered))

    def render(items: int) -> Card:
        return _payments_list_card(ordered[:items], total=total, links=links, today=today, title=title)

    return fit("payments list", render, wanted=max_items, max_bytes=max_bytes)


def payment_row(payment: Payment, *, links: IntacctLinks, today: date) -> Element | None:
    """One payment as a clickable row: vendor and number, date, method and state, amount."""
    label = f"{clean_text(payment.vendor_name or payment.vendor_id, NAME_LIMIT)} · {texts.payment_title(payment.record_no)}"
    when = day_and_relative(payment.payment_date, today) if payment.payment_date else texts.NO_PAYMENT_DATE
    method = clean_optional(payment.payment_method, NAME_LIMIT)
    details = " · ".join(part for part in (when, method, clean_text(payment.state, ID_LIMIT)) if part)
    left = [text(label, weight="Bolder"), text(details, subtle=True, tone=payment_tone(payment.state), spacing="None")]
    row = columns((left, "stretch"), ([text(money(payment.amount, payment.currency), align="Right")], "auto"))
    return container([row], separator=True, select_action=open_url(texts.OPEN_PAYMENT, links.payment(payment)))


def _payments_list_card(payments: Sequence[Payment], *, total: int, links: IntacctLinks, today: date, title: str) -> Card:
    more = total - len(payments)
    totals = currency_totals([(payment.amount, payment.currency) for payment in payments])
    body: list[Element | None] = [
        heading(title),
        text(texts.showing(len(payments), total, "payments"), subtle=True, spacing="None"),
        text(texts.NO_PAYMENTS) if not payments else None,
        *(payment_row(payment, links=links, today=today) for payment in payments),
        totals_fact(len(payments), total, totals) if payments else None,
        text(texts.more_in_intacct(more), subtle=True) if more > 0 else None,
    ]
    button = texts.more_in_intacct(more) if more > 0 else texts.OPEN_PAYMENTS
    actions = [open_url(button, links.list_view("payment"), tooltip=links.sign_in_hint)]
    label = texts.total_of_shown(len(payments)) if total > len(payments) else texts.TOTAL
    fallback = f"{title}: {texts.showing(len(payments), total, 'payments')}; {label.lower()}: {money_totals(totals)}"
    return make_card(body, fallback_text=fallback, actions=actions)


def _latest_first(payment: Payment) -> tuple[bool, int, int]:
    # Payments without a date last; among the rest the latest date first, then the newest record.
    return (payment.payment_date is None, -(payment.payment_date or date.min).toordinal(), -payment.record_no)


def _vendor(payment: Payment) -> str:
    if payment.vendor_name:
        return f"{clean_text(payment.vendor_name, NAME_LIMIT)} ({clean_text(payment.vendor_id, ID_LIMIT)})"
    return clean_text(payment.vendor_id, ID_LIMIT)
