"""Bill cards: the notification card (new bill and every later state), the detail card, the list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from cards import texts
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
from cards.fit import fit
from cards.format import (
    ReferenceNames,
    Tone,
    bill_is_open,
    bill_is_pending_approval,
    bill_tone,
    day,
    days_overdue,
    money,
    money_totals,
    moment,
    named,
)
from cards.links import IntacctLinks
from cards.sanitize import DESCRIPTION_LIMIT, ID_LIMIT, NAME_LIMIT, clean_optional, clean_text
from intacct.bills import Bill, BillLine
from intacct.dimensions import DimensionKind

DEFAULT_MAX_LINES = 8  # lines on a notification card before "+N more lines"
DETAIL_MAX_LINES = 40  # lines on the `show bill` card
DEFAULT_MAX_ITEMS = 10  # bills on the `show pending bills` card


def build_bill_card(
    bill: Bill,
    *,
    links: IntacctLinks,
    today: date,
    created: bool = False,
    old_state: str | None = None,
    names: ReferenceNames | None = None,
    max_lines: int = DEFAULT_MAX_LINES,
    max_bytes: int = CARD_SIZE_BUDGET,
) -> Card:
    """The card posted for a new bill (`created`) and updated in place on every later state
    (`old_state` shows as "was: …"); at most `max_lines` lines, fewer if the card must shrink."""
    if created:
        title = texts.NEW_BILL_PENDING if bill_is_pending_approval(bill.state) else texts.NEW_BILL
    elif old_state is not None and old_state == bill.state:
        title = texts.BILL_UPDATED  # same state: the due date or an amount changed
    else:
        title = texts.bill_state_heading(bill.state)
    was = old_state if old_state is not None and old_state != bill.state else None

    def render(lines: int) -> Card:
        return _bill_card(bill, title, was=was, links=links, today=today, names=names, lines=lines, detail=False)

    return fit("bill", render, wanted=max_lines, max_bytes=max_bytes)


def build_bill_detail_card(
    bill: Bill,
    *,
    links: IntacctLinks,
    today: date,
    names: ReferenceNames | None = None,
    max_lines: int = DETAIL_MAX_LINES,
    max_bytes: int = CARD_SIZE_BUDGET,
) -> Card:
    """The answer to `show bill <number>`: every header field and up to `max_lines` lines."""
    title = f"{texts.BILL_DETAIL} {clean_text(bill.bill_number, ID_LIMIT)}"

    def render(lines: int) -> Card:
        return _bill_card(bill, title, was=None, links=links, today=today, names=names, lines=lines, detail=True)

    return fit("bill detail", render, wanted=max_lines, max_bytes=max_bytes)


def build_pending_bills_card(
    bills: Sequence[Bill],
    *,
    total: int,
    links: IntacctLinks,
    today: date,
    title: str = texts.PENDING_BILLS,
    filters: str | None = None,
    max_items: int = DEFAULT_MAX_ITEMS,
    max_bytes: int = CARD_SIZE_BUDGET,
) -> Card:
    """The answer to `show pending bills …`: the soonest-due bills, their total, and a link to
    the rest when Intacct has more (`total` is Intacct's count of matching bills)."""
    ordered = sorted(bills, key=due_order)
    total = max(total, len(ordered))  # Intacct's count can lag what it just returned

    def render(items: int) -> Card:
        return _bill_list_card(ordered[:items], total=total, links=links, today=today, title=title, filters=filters)

    return fit("pending bills", render, wanted=max_items, max_bytes=max_bytes)


def due_order(bill: Bill) -> tuple[bool, date, str, int]:
    """Sort key: soonest due first, bills without a due date last, then by number."""
    return (bill.due_date is None, bill.due_date or date.max, bill.bill_number, bill.record_no)


def bill_row(bill: Bill, *, links: IntacctLinks, today: date) -> Element | None:
    """One bill as a clickable row of a list: vendor and number, due date and state, amount due."""
    overdue = days_overdue(bill, today)
    when = texts.due_on(day(bill.due_date)) if bill.due_date else texts.NO_DUE_DATE
    if overdue:
        when = f"{when} · {texts.overdue_by(overdue)}"
    label = f"{clean_text(bill.vendor_name, NAME_LIMIT)} · {clean_text(bill.bill_number, ID_LIMIT)}"
    details = f"{when} · {clean_text(bill.state, ID_LIMIT)}"
    row = columns(
        (
            [
                text(label, weight="Bolder"),
                text(details, subtle=not overdue, tone=Tone.ATTENTION if overdue else None, spacing="None"),
            ],
            "stretch",
        ),
        ([text(money(bill.total_due, bill.currency), align="Right")], "auto"),
    )
    return container([row], separator=True, select_action=open_url(texts.OPEN_BILL, links.bill(bill)))


def currency_totals(amounts: Sequence[tuple[Decimal, str]]) -> dict[str, Decimal]:
    """Sum amounts per currency (never across currencies)."""
    totals: dict[str, Decimal] = {}
    for amount, currency in amounts:
        totals[currency] = totals.get(currency, Decimal(0)) + amount
    return totals


def totals_fact(shown: int, total: int, totals: dict[str, Decimal]) -> Element | None:
    """The "Total" line under a list; says "of these N" when Intacct has more than are shown."""
    label = texts.total_of_shown(shown) if total > shown else texts.TOTAL
    return facts([(label, money_totals(totals))], spacing="Medium")


def _bill_card(
    bill: Bill,
    title: str,
    *,
    was: str | None,
    links: IntacctLinks,
    today: date,
    names: ReferenceNames | None,
    lines: int,
    detail: bool,
) -> Card:
    overdue = days_overdue(bill, today)
    tone = bill_tone(bill.state, overdue=overdue > 0)
    vendor = f"{clean_text(bill.vendor_name, NAME_LIMIT)} ({clean_text(bill.vendor_id, ID_LIMIT)})"
    number = clean_text(bill.bill_number, ID_LIMIT)
    amount = money(bill.total_entered, bill.currency)
    state = [text(bill.state, weight="Bolder", tone=tone, align="Right", limit=ID_LIMIT)]
    if was:
        state.append(text(texts.was(clean_text(was, ID_LIMIT)), subtle=True, align="Right", spacing="None"))
    pending = bill_is_pending_approval(bill.state)
    body: list[Element | None] = [
        container([heading(title), text(f"{vendor} · {texts.BILL_NUMBER} {number}", spacing="None")], tone=tone),
        columns(([text(amount, size="Large", weight="Bolder")], "stretch"), (state, "auto")),
        text(texts.overdue_by(overdue), weight="Bolder", tone=Tone.ATTENTION, spacing="None") if overdue else None,
        facts(_header_facts(bill, vendor=vendor, number=number, today=today, overdue=overdue, detail=detail)),
        *_lines_section(bill.lines, currency=bill.currency, names=names, max_lines=lines),
        text(texts.APPROVAL_HINT, subtle=True, spacing="Medium") if pending else None,
    ]
    actions = [
        open_url(texts.REVIEW_AND_APPROVE if pending else texts.OPEN_BILL, links.bill(bill), tooltip=links.sign_in_hint),
        open_url(texts.OPEN_VENDOR, links.vendor_by_id(bill.vendor_id), tooltip=links.sign_in_hint),
    ]
    due = f", due {day(bill.due_date)}" if bill.due_date else ""
    fallback = f"{title}: {vendor}, bill {number}, {amount}{due}, {bill.state}"
    return make_card(body, fallback_text=fallback, actions=actions)


def _header_facts(
    bill: Bill, *, vendor: str, number: str, today: date, overdue: int, detail: bool
) -> list[tuple[str, object]]:
    due: str | None = None
    if bill.due_date is not None:
        due = day(bill.due_date)
        if not overdue and bill_is_open(bill) and bill.due_date >= today:
            due = f"{due} · {texts.due_in((bill.due_date - today).days)}"
    pairs: list[tuple[str, object]] = [
        (texts.VENDOR, vendor),
        (texts.BILL_NUMBER, number),
        (texts.REFERENCE, clean_optional(bill.reference, ID_LIMIT)),
        (texts.AMOUNT_DUE, money(bill.total_due, bill.currency) if bill.total_due != bill.total_entered else None),
        (texts.DUE_DATE, due),
        (texts.DESCRIPTION, clean_optional(bill.description, DESCRIPTION_LIMIT)),
    ]
    if detail:
        pairs += [
            (texts.STATE, bill.state),
            (texts.BILL_DATE, day(bill.bill_date) if bill.bill_date else None),
            (texts.PAID, money(bill.total_paid, bill.currency) if bill.total_paid else None),
            (texts.PAID_DATE, day(bill.paid_date) if bill.paid_date else None),
        ]
    pairs.append((texts.ENTITY, clean_optional(bill.entity_id, ID_LIMIT)))
    if detail:
        pairs += [
            (texts.MODIFIED, moment(bill.when_modified) if bill.when_modified else None),
            (texts.RECORD_NO, str(bill.record_no)),
        ]
    return pairs


def _lines_section(
    lines: Sequence[BillLine], *, currency: str, names: ReferenceNames | None, max_lines: int
) -> list[Element | None]:
    if not lines:
        return []
    ordered = sorted(lines, key=lambda line: (line.line_no, line.record_no))
    shown = ordered[: max(0, max_lines)]
    section: list[Element | None] = [
        text(texts.lines_heading(len(ordered)), weight="Bolder", separator=True, spacing="Medium"),
        *(_line_row(line, currency=currency, names=names) for line in shown),
    ]
    if len(ordered) > len(shown):
        section.append(text(texts.more_lines(len(ordered) - len(shown)), subtle=True))
    return section


def _line_row(line: BillLine, *, currency: str, names: ReferenceNames | None) -> Element:
    account = named(DimensionKind.GL_ACCOUNT, line.gl_account_no, line.gl_account_title, names) or texts.NONE
    dimensions = [
        (texts.DEPARTMENT, named(DimensionKind.DEPARTMENT, line.department_id, line.department_name, names)),
        (texts.LOCATION, named(DimensionKind.LOCATION, line.location_id, line.location_name, names)),
        (texts.CLASS, named(DimensionKind.CLASS, line.class_id, line.class_name, names)),
        (texts.PROJECT, named(DimensionKind.PROJECT, line.project_id, line.project_name, names)),
    ]
    where = " · ".join(f"{label} {clean_text(value, NAME_LIMIT)}" for label, value in dimensions if value)
    left = [
        text(clean_text(account, NAME_LIMIT + ID_LIMIT)),
        text(where, subtle=True, spacing="None") if where else None,
        text(clean_text(line.memo, DESCRIPTION_LIMIT), subtle=True, spacing="None") if line.memo else None,
    ]
    return columns((left, "stretch"), ([text(money(line.amount, currency), align="Right")], "auto"), spacing="Small")


def _bill_list_card(
    bills: Sequence[Bill], *, total: int, links: IntacctLinks, today: date, title: str, filters: str | None
) -> Card:
    subtitle = texts.showing(len(bills), total, "bills")
    if bills:
        subtitle = f"{subtitle}, {texts.SOONEST_FIRST}"
    if filters:
        subtitle = f"{subtitle} · {clean_text(filters, DESCRIPTION_LIMIT)}"
    more = total - len(bills)
    totals = currency_totals([(bill.total_due, bill.currency) for bill in bills])
    body: list[Element | None] = [
        heading(title),
        text(subtitle, subtle=True, spacing="None"),
        text(texts.NO_PENDING_BILLS) if not bills else None,
        *(bill_row(bill, links=links, today=today) for bill in bills),
        totals_fact(len(bills), total, totals) if bills else None,
        text(texts.more_in_intacct(more), subtle=True) if more > 0 else None,
    ]
    button = texts.more_in_intacct(more) if more > 0 else texts.OPEN_BILLS
    actions = [open_url(button, links.list_view("bill"), tooltip=links.sign_in_hint)]
    label = texts.total_of_shown(len(bills)) if total > len(bills) else texts.TOTAL
    fallback = f"{title}: {texts.showing(len(bills), total, 'bills')}; {label.lower()}: {money_totals(totals)}"
    return make_card(body, fallback_text=fallback, actions=actions)
