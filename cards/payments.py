"""Payment cards: the notification card (pending, and every later state) and the payments list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from cards import texts
from cards.bills import figure_summary
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
from cards.format import day_and_relative, money, payment_tone, relative_day, short_day
from cards.links import IntacctLinks
from cards.sanitize import DESCRIPTION_LIMIT, ID_LIMIT, NAME_LIMIT, clean_optional, clean_text
from intacct import figures
from intacct.figures import Tally
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
    """The card for a payment request, updated in place on later states (`old_state` shows as
    "was …"); the payment date reads relative to `today`."""
    if old_state is None:
        pending = figures.PAYMENTS_PENDING_APPROVAL.includes(payment)
        title = texts.PAYMENT_PENDING_APPROVAL if pending else texts.payment_state_heading(payment.state)
    else:
        title = texts.payment_state_heading(payment.state)
    vendor = _vendor(payment)
    number = texts.payment_title(payment.record_no)
    amount = money(figures.payment_amount(payment), payment.currency)
    was = old_state if old_state is not None and old_state != payment.state else None
    state = clean_text(payment.state, ID_LIMIT) + (f" · {texts.was(clean_text(was, ID_LIMIT))}" if was else "")
    body: list[Element | None] = [
        container(
            [heading(title), text(f"{vendor} · {number}", spacing="None"), text(state, weight="Bolder", spacing="None")],
            tone=payment_tone(payment.state),
        ),
        text(amount, size="Large", weight="Bolder"),
        facts(
            [
                (texts.PAYMENT_DATE, day_and_relative(payment.payment_date, today) if payment.payment_date else None),
                (texts.PAYMENT_METHOD, clean_optional(payment.payment_method, NAME_LIMIT)),
                (texts.BANK_ACCOUNT, clean_optional(payment.financial_entity, ID_LIMIT)),
                (texts.REFERENCE, clean_optional(payment.reference, ID_LIMIT)),
                (texts.DESCRIPTION, clean_optional(payment.description, DESCRIPTION_LIMIT)),
                (texts.ENTITY, clean_optional(payment.entity_id, ID_LIMIT)),
            ]
        ),
    ]
    actions = [
        open_url(texts.OPEN_PAYMENT, links.payment(payment), tooltip=links.sign_in_hint),
        open_url(texts.OPEN_VENDOR, links.vendor_by_id(payment.vendor_id), tooltip=links.sign_in_hint),
    ]
    fallback = f"{title}: {vendor}, {number}, {amount}, {payment.state}"  # the preview ends with the state
    return ensure_fits("payment", make_card(body, fallback_text=fallback, actions=actions), max_bytes)


def build_payments_list_card(
    payments: Sequence[Payment],
    *,
    links: IntacctLinks,
    today: date,
    title: str = texts.PAYMENTS,
    tally: Tally | None = None,
    total: int | None = None,
    max_items: int = DEFAULT_MAX_ITEMS,
    max_bytes: int = CARD_SIZE_BUDGET,
) -> Card:
    """The answer to `show payments [pending]`: the figure for the whole result (`tally`, or the
    payments given with Intacct's count `total`), latest payment date first, and one button to
    Intacct's payment list."""
    ordered = sorted(payments, key=_latest_first)
    whole = tally or figures.tally(ordered, figures.payment_amount, count=total)

    def render(items: int) -> Card:
        return _payments_list_card(ordered[:items], whole, links=links, today=today, title=title)

    return fit("payments list", render, wanted=max_items, max_bytes=max_bytes)


def payment_row(payment: Payment, *, links: IntacctLinks, today: date) -> Element | None:
    """One payment as a clickable row: vendor and number, date, method and state, amount."""
    label = f"{clean_text(payment.vendor_name or payment.vendor_id, NAME_LIMIT)} · {texts.payment_title(payment.record_no)}"
    when = texts.NO_PAYMENT_DATE
    if payment.payment_date:
        when = f"{short_day(payment.payment_date, today)} ({relative_day(payment.payment_date, today)})"
    method = clean_optional(payment.payment_method, NAME_LIMIT)
    details = " · ".join(part for part in (when, method, clean_text(payment.state, ID_LIMIT)) if part)
    left = [text(label, weight="Bolder"), text(details, subtle=True, spacing="None")]
    row = columns((left, "stretch"), ([text(money(figures.payment_amount(payment), payment.currency), align="Right")], "auto"))
    return container([row], separator=True, select_action=open_url(texts.OPEN_PAYMENT, links.payment(payment)))


def payment_list_button(links: IntacctLinks) -> Element | None:
    """The one button of a payment list: Intacct's payment list (it takes no filter from a link)."""
    return open_url(texts.OPEN_PAYMENT_LIST, links.list_view("payment"), tooltip=links.list_hint("payment"))


def _payments_list_card(payments: Sequence[Payment], whole: Tally, *, links: IntacctLinks, today: date, title: str) -> Card:
    body: list[Element | None] = [
        heading(title),
        text(figure_summary(whole, "payment"), spacing="None") if whole.count else None,
        text(texts.none_match(title, None)) if not whole.count else None,
        *(payment_row(payment, links=links, today=today) for payment in payments),
        text(texts.showing_first(len(payments), texts.LATEST_FIRST), subtle=True) if whole.count > len(payments) else None,
    ]
    fallback = f"{title}: {figure_summary(whole, 'payment')}" if whole.count else texts.none_match(title, None)
    return make_card(body, fallback_text=fallback, actions=[payment_list_button(links)])


def _latest_first(payment: Payment) -> tuple[bool, int, int]:
    # Payments without a date last; among the rest the latest date first, then the newest record.
    return (payment.payment_date is None, -(payment.payment_date or date.min).toordinal(), -payment.record_no)


def _vendor(payment: Payment) -> str:
    return clean_text(payment.vendor_name or payment.vendor_id, NAME_LIMIT)
