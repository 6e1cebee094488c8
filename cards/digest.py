"""Cards that gather many records: the scheduled digest and the summary of a burst of changes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from cards import texts
from cards.bills import bill_row, currency_totals, due_order
from cards.elements import CARD_SIZE_BUDGET, Card, Element, container, facts, heading, make_card, open_url, text
from cards.fit import fit
from cards.format import ReferenceNames, Tone, day, days_overdue, money_totals, moment, named, plural
from cards.links import IntacctLinks
from cards.payments import payment_row
from cards.sanitize import DESCRIPTION_LIMIT, NAME_LIMIT, clean_text
from intacct.bills import Bill
from intacct.dimensions import DimensionKind
from intacct.payments import Payment
from poller.events import ChangesSummarized, DigestPrepared, SummarizedChange

DEFAULT_MAX_ITEMS = 5  # rows per digest section (departments: twice that)
DEFAULT_SUMMARY_ITEMS = 15  # changes listed on a summary card


def build_digest_card(
    event: DigestPrepared,
    *,
    links: IntacctLinks,
    today: date,
    names: ReferenceNames | None = None,
    max_items: int = DEFAULT_MAX_ITEMS,
    max_bytes: int = CARD_SIZE_BUDGET,
) -> Card:
    """The scheduled digest: bills waiting for approval, bills due this week, payments pending,
    and the amount due per department; each section lists at most `max_items` rows."""
    pending = sorted(event.pending_bills, key=due_order)
    due = sorted(event.bills_due, key=due_order)
    payments = sorted(event.payments_due, key=lambda p: (p.payment_date is None, p.payment_date or date.max, p.record_no))
    departments = department_totals(_unique(pending + due), names)

    def render(items: int) -> Card:
        return _digest_card(event, pending, due, payments, departments, links=links, today=today, max_items=items)

    return fit("digest", render, wanted=max_items, max_bytes=max_bytes)


def build_summary_card(
    event: ChangesSummarized,
    *,
    links: IntacctLinks,
    today: date,
    max_items: int = DEFAULT_SUMMARY_ITEMS,
    max_bytes: int = CARD_SIZE_BUDGET,
) -> Card:
    """One card for a burst of changes that would have flooded a channel: one clickable line per
    change, at most `max_items`, and how many more there were. `today` is not used (uniform
    builder signature)."""
    del today
    total = max(event.total, len(event.changes))

    def render(items: int) -> Card:
        return _summary_card(event, event.changes[:items], total=total, links=links)

    return fit("summary", render, wanted=max_items, max_bytes=max_bytes)


def department_totals(bills: Iterable[Bill], names: ReferenceNames | None = None) -> list[tuple[str, dict[str, Decimal]]]:
    """Amount due per department, per currency, sorted by department label ("No department" last).

    A bill's amount due is spread over its lines in proportion to the line amounts, so partly
    paid bills count only what is still due; a bill without lines (or whose lines sum to zero)
    counts under "No department".
    """
    by_key: dict[str | None, dict[str, Decimal]] = {}
    labels: dict[str | None, str] = {None: texts.NO_DEPARTMENT}
    for bill in bills:
        line_sum = sum((line.amount for line in bill.lines), Decimal(0))
        if not bill.lines or line_sum == 0:
            _add(by_key, None, bill.currency, bill.total_due)
            continue
        for line in bill.lines:
            key = line.department_id or None
            if key is not None and key not in labels:
                labels[key] = named(DimensionKind.DEPARTMENT, key, line.department_name, names) or key
            _add(by_key, key, bill.currency, bill.total_due * line.amount / line_sum)
    ordered = sorted(by_key, key=lambda key: (key is None, labels[key].casefold()))
    return [(labels[key], by_key[key]) for key in ordered]


def _digest_card(
    event: DigestPrepared,
    pending: Sequence[Bill],
    due: Sequence[Bill],
    payments: Sequence[Payment],
    departments: Sequence[tuple[str, dict[str, Decimal]]],
    *,
    links: IntacctLinks,
    today: date,
    max_items: int,
) -> Card:
    overdue = sum(1 for bill in _unique(list(pending) + list(due)) if days_overdue(bill, today))
    tone = Tone.ATTENTION if overdue else Tone.WARNING if pending else Tone.GOOD
    pending_totals = money_totals(currency_totals([(b.total_due, b.currency) for b in pending]))
    due_totals = money_totals(currency_totals([(b.total_due, b.currency) for b in due]))
    payment_totals = money_totals(currency_totals([(p.amount, p.currency) for p in payments]))
    subtitle = f"{clean_text(event.company, NAME_LIMIT)} · {day(event.as_of)}"
    body: list[Element | None] = [
        container([heading(texts.DIGEST), text(subtitle, subtle=True, spacing="None")], tone=tone),
        facts(
            [
                (texts.WAITING_FOR_APPROVAL, f"{plural(len(pending), 'bill')} · {pending_totals}"),
                (texts.DUE_THIS_WEEK, f"{plural(len(due), 'bill')} · {due_totals}"),
                (texts.PAYMENTS_PENDING, f"{plural(len(payments), 'payment')} · {payment_totals}"),
                (texts.OVERDUE, plural(overdue, "bill") if overdue else None),
            ]
        ),
    ]
    if not pending and not due and not payments:
        body.append(text(texts.NOTHING_PENDING))
    pending_rows = [bill_row(bill, links=links, today=today) for bill in pending[:max_items]]
    due_rows = [bill_row(bill, links=links, today=today) for bill in due[:max_items]]
    payment_rows = [payment_row(payment, links=links, today=today) for payment in payments[:max_items]]
    body += _section(texts.WAITING_FOR_APPROVAL, pending_rows, len(pending), "bills")
    body += _section(texts.DUE_THIS_WEEK, due_rows, len(due), "bills")
    body += _section(texts.PAYMENTS_PENDING, payment_rows, len(payments), "payments")
    if departments:
        shown = departments[: max_items * 2]
        body.append(text(texts.BY_DEPARTMENT, weight="Bolder", separator=True, spacing="Medium"))
        body.append(facts([(label, money_totals(totals)) for label, totals in shown], limit=DESCRIPTION_LIMIT))
        if len(departments) > len(shown):
            body.append(text(texts.more_items(len(departments) - len(shown), "departments"), subtle=True))
    actions = [
        open_url(texts.OPEN_BILLS, links.list_view("bill"), tooltip=links.sign_in_hint),
        open_url(texts.OPEN_PAYMENTS, links.list_view("payment"), tooltip=links.sign_in_hint),
    ]
    fallback = (
        f"{texts.DIGEST} {event.company} {day(event.as_of)}: {plural(len(pending), 'bill')} waiting for approval, "
        f"{plural(len(due), 'bill')} due this week, {plural(len(payments), 'payment')} pending"
    )
    return make_card(body, fallback_text=fallback, actions=actions)


def _section(title: str, rows: list[Element | None], count: int, noun: str) -> list[Element | None]:
    if not count:
        return []
    section: list[Element | None] = [text(f"{title} ({count:,})", weight="Bolder", separator=True, spacing="Medium"), *rows]
    if count > len(rows):
        section.append(text(texts.more_items(count - len(rows), noun), subtle=True))
    return section


def _summary_card(event: ChangesSummarized, changes: Sequence[SummarizedChange], *, total: int, links: IntacctLinks) -> Card:
    intro = text(texts.SUMMARY_INTRO, subtle=True, spacing="None")
    body: list[Element | None] = [
        container([heading(texts.changes_count(total)), intro], tone=Tone.ACCENT),
        text(f"{clean_text(event.company, NAME_LIMIT)} · {moment(event.cycle_at)}", subtle=True),
    ]
    for change in changes:
        label = clean_text(change.label, DESCRIPTION_LIMIT)
        body.append(container([text(label)], separator=True, select_action=open_url(label, links.change(change))))
    if total > len(changes):
        body.append(text(texts.more_items(total - len(changes), "changes"), subtle=True))
    # One button per kind of record in the burst, to its list in Intacct.
    kinds = {change.record_kind for change in event.changes}
    buttons = [("bill", texts.OPEN_BILLS), ("payment", texts.OPEN_PAYMENTS), ("vendor", texts.OPEN_VENDORS)]
    actions = [
        open_url(title, links.list_view(kind), tooltip=links.sign_in_hint) for kind, title in buttons if kind in kinds
    ]
    fallback = f"{texts.changes_count(total)} ({event.company}, {moment(event.cycle_at)})"
    return make_card(body, fallback_text=fallback, actions=actions)


def _unique(bills: Sequence[Bill]) -> list[Bill]:
    seen: set[int] = set()
    kept = []
    for bill in bills:
        if bill.record_no not in seen:
            seen.add(bill.record_no)
            kept.append(bill)
    return kept


def _add(totals: dict[str | None, dict[str, Decimal]], key: str | None, currency: str, amount: Decimal) -> None:
    per_currency = totals.setdefault(key, {})
    per_currency[currency] = per_currency.get(currency, Decimal(0)) + amount
