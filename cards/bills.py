"""Bill cards: the notification card (new bill and every later state), the detail card, the lists."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

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
    bill_tone,
    day,
    day_and_relative,
    money,
    moment,
    named,
    plural,
    short_day,
    tally_amounts,
)
from cards.links import IntacctLinks
from cards.sanitize import DESCRIPTION_LIMIT, ID_LIMIT, NAME_LIMIT, clean_optional, clean_text
from intacct import figures
from intacct.bills import Bill, BillLine
from intacct.company import TeamZone
from intacct.dimensions import DimensionKind
from intacct.figures import Tally

DEFAULT_MAX_LINES = 8  # lines on a notification card before "+N more lines"
DETAIL_MAX_LINES = 40  # lines on the `show bill` card
DEFAULT_MAX_ITEMS = 10  # bills on a list card

_DIMENSIONS = (DimensionKind.DEPARTMENT, DimensionKind.LOCATION, DimensionKind.CLASS, DimensionKind.PROJECT)


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
    (`old_state` shows as "was …"); at most `max_lines` lines, fewer if the card must shrink."""
    pending = figures.in_states(bill.state, figures.BILL_PENDING_APPROVAL)
    if created:
        title = texts.NEW_BILL_PENDING if pending else texts.NEW_BILL
    elif old_state is not None and old_state == bill.state:
        title = texts.BILL_UPDATED  # same state: the due date or an amount changed
    else:
        title = texts.bill_state_heading(bill.state)
    was = old_state if old_state is not None and old_state != bill.state else None
    who = f"{clean_text(bill.vendor_name or bill.vendor_id, NAME_LIMIT)} · {clean_text(bill.bill_number, ID_LIMIT)}"

    def render(lines: int) -> Card:
        return _bill_card(bill, title, who, was=was, links=links, today=today, names=names, lines=lines, detail=None)

    return fit("bill", render, wanted=max_lines, max_bytes=max_bytes)


def build_bill_detail_card(
    bill: Bill,
    *,
    links: IntacctLinks,
    today: date,
    zone: TeamZone,
    names: ReferenceNames | None = None,
    max_lines: int = DETAIL_MAX_LINES,
    max_bytes: int = CARD_SIZE_BUDGET,
) -> Card:
    """The answer to `show bill <number>`: every header field (its last change in the team's
    zone) and up to `max_lines` lines."""
    title = texts.bill_title(clean_text(bill.bill_number, ID_LIMIT))
    who = f"{clean_text(bill.vendor_name or bill.vendor_id, NAME_LIMIT)} ({clean_text(bill.vendor_id, ID_LIMIT)})"

    def render(lines: int) -> Card:
        return _bill_card(bill, title, who, was=None, links=links, today=today, names=names, lines=lines, detail=zone)

    return fit("bill detail", render, wanted=max_lines, max_bytes=max_bytes)


def build_bill_list_card(
    bills: Sequence[Bill],
    *,
    links: IntacctLinks,
    today: date,
    title: str,
    tally: Tally | None = None,
    total: int | None = None,
    filters: str | None = None,
    max_items: int = DEFAULT_MAX_ITEMS,
    max_bytes: int = CARD_SIZE_BUDGET,
) -> Card:
    """A list of bills (`show pending bills`, `due this week`): the figure for the whole result
    (`tally`, or the bills given with Intacct's count `total`), the soonest-due bills, what was
    searched, and one button to Intacct's bill list."""
    ordered = sorted(bills, key=due_order)
    whole = tally or figures.tally(ordered, figures.amount_due, count=total)

    def render(items: int) -> Card:
        return _bill_list_card(ordered[:items], whole, links=links, today=today, title=title, filters=filters)

    return fit("bill list", render, wanted=max_items, max_bytes=max_bytes)


def build_pending_bills_card(
    bills: Sequence[Bill],
    *,
    links: IntacctLinks,
    today: date,
    tally: Tally | None = None,
    total: int | None = None,
    title: str = texts.PENDING_BILLS,
    filters: str | None = None,
    max_items: int = DEFAULT_MAX_ITEMS,
    max_bytes: int = CARD_SIZE_BUDGET,
) -> Card:
    """The answer to `show pending bills …` (a bill list titled with its figure)."""
    return build_bill_list_card(
        bills, links=links, today=today, title=title, tally=tally, total=total, filters=filters, max_items=max_items, max_bytes=max_bytes
    )


def due_order(bill: Bill) -> tuple[bool, date, str, int]:
    """Sort key: soonest due first, bills without a due date last, then by number."""
    return (bill.due_date is None, bill.due_date or date.max, bill.bill_number, bill.record_no)


def bill_row(bill: Bill, *, links: IntacctLinks, today: date, flag_overdue: bool = True) -> Element | None:
    """One bill as a clickable row of a list: vendor and number, due date and state, amount due;
    an overdue bill's row has the attention style (unless `flag_overdue` is off: a section of
    overdue bills says so once, in its heading)."""
    overdue = figures.days_overdue(bill, today)
    when = texts.due_on(short_day(bill.due_date, today)) if bill.due_date else texts.NO_DUE_DATE
    parts = [when, texts.overdue_by(overdue) if overdue else None, clean_text(bill.state, ID_LIMIT)]
    label = f"{clean_text(bill.vendor_name or bill.vendor_id, NAME_LIMIT)} · {clean_text(bill.bill_number, ID_LIMIT)}"
    row = columns(
        ([text(label, weight="Bolder"), text(" · ".join(p for p in parts if p), subtle=True, spacing="None")], "stretch"),
        ([text(money(figures.amount_due(bill), bill.currency), align="Right")], "auto"),
    )
    return container(
        [row],
        separator=True,
        tone=Tone.ATTENTION if overdue and flag_overdue else None,
        select_action=open_url(texts.OPEN_BILL, links.bill(bill)),
    )


def figure_summary(value: Tally, noun: str) -> str:
    """`42 bills · 28,074.35 USD` (with whose amounts, when Intacct counted more than were read)."""
    summary = texts.count_and_total(plural(value.count, noun), tally_amounts(value))
    if not value.complete and value.summed is not None:
        summary = f"{summary} ({texts.first_summed(value.summed)})"
    return summary


def bill_list_button(links: IntacctLinks) -> Element | None:
    """The one button of a bill list: Intacct's bill list (it takes no filter from a link)."""
    return open_url(texts.OPEN_BILL_LIST, links.list_view("bill"), tooltip=links.list_hint("bill"))


def _bill_card(
    bill: Bill,
    title: str,
    who: str,
    *,
    was: str | None,
    links: IntacctLinks,
    today: date,
    names: ReferenceNames | None,
    lines: int,
    detail: TeamZone | None,
) -> Card:
    overdue = figures.days_overdue(bill, today)
    state = " · ".join(
        part
        for part in (
            clean_text(bill.state, ID_LIMIT),
            texts.was(clean_text(was, ID_LIMIT)) if was else None,
            texts.overdue_by(overdue) if overdue else None,
        )
        if part
    )
    due = money(figures.amount_due(bill), bill.currency)
    pending = figures.in_states(bill.state, figures.BILL_PENDING_APPROVAL)
    body: list[Element | None] = [
        container(
            [heading(title), text(who, spacing="None"), text(state, weight="Bolder", spacing="None")],
            tone=bill_tone(bill, today),
        ),
        text(texts.amount_due(due), size="Large", weight="Bolder"),
        _paid_line(bill, today),
        facts(_header_facts(bill, today=today, overdue=overdue, detail=detail)),
        *_lines_section(bill.lines, currency=bill.currency, names=names, max_lines=lines),
        text(texts.APPROVAL_HINT, subtle=True, spacing="Medium") if pending else None,
    ]
    actions = [
        open_url(texts.REVIEW_BILL if pending else texts.OPEN_BILL, links.bill(bill), tooltip=links.sign_in_hint),
        open_url(texts.OPEN_VENDOR, links.vendor_by_id(bill.vendor_id), tooltip=links.sign_in_hint),
    ]
    when = f", {texts.due_on(day(bill.due_date))}" if bill.due_date else ""
    fallback = f"{title}: {who}, {texts.amount_due(due)}{when}, {bill.state}"  # the preview ends with the state
    return make_card(body, fallback_text=fallback, actions=actions)


def _paid_line(bill: Bill, today: date) -> Element | None:
    """Beside the amount due: the total and what was paid (and when), once anything was paid."""
    if not bill.total_paid and bill.total_due == bill.total_entered and bill.paid_date is None:
        return None
    parts = [texts.of_total(money(bill.total_entered, bill.currency))]
    if bill.total_paid or bill.paid_date:
        on = short_day(bill.paid_date, today) if bill.paid_date else None
        parts.append(texts.paid(money(bill.total_paid, bill.currency), on))
    return text(" · ".join(parts), subtle=True, spacing="None")


def _header_facts(bill: Bill, *, today: date, overdue: int, detail: TeamZone | None) -> list[tuple[str, object]]:
    due: str | None = None
    if bill.due_date is not None:
        # The header already says "overdue by N days"; say "in 3 days" only for bills still to pay.
        still_open = not overdue and figures.OPEN_BILLS.includes(bill, today) and bill.due_date >= today
        due = day_and_relative(bill.due_date, today) if still_open else day(bill.due_date)
    pairs: list[tuple[str, object]] = [
        (texts.DUE_DATE, due),
        (texts.BILL_DATE, day(bill.bill_date) if detail and bill.bill_date else None),
        (texts.REFERENCE, clean_optional(bill.reference, ID_LIMIT)),
        (texts.DESCRIPTION, clean_optional(bill.description, DESCRIPTION_LIMIT)),
        (texts.ENTITY, clean_optional(bill.entity_id, ID_LIMIT)),
    ]
    if detail is not None:
        pairs += [
            (texts.MODIFIED, moment(bill.when_modified, detail, named=True) if bill.when_modified else None),
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


def dimensions_line(line: BillLine, names: ReferenceNames | None) -> str:
    """A line's department, location, class and project as ids with names on one short line:
    `D100 Operations · L-NYC New York` (empty dimensions left out)."""
    values = {
        DimensionKind.DEPARTMENT: (line.department_id, line.department_name),
        DimensionKind.LOCATION: (line.location_id, line.location_name),
        DimensionKind.CLASS: (line.class_id, line.class_name),
        DimensionKind.PROJECT: (line.project_id, line.project_name),
    }
    shown = (named(kind, *values[kind], names) for kind in _DIMENSIONS)
    return " · ".join(clean_text(value, NAME_LIMIT) for value in shown if value)


def _line_row(line: BillLine, *, currency: str, names: ReferenceNames | None) -> Element | None:
    # The account and the amount share a row; the dimensions and the memo get the card's full
    # width below it, so they stay on one line on a phone more often.
    account = named(DimensionKind.GL_ACCOUNT, line.gl_account_no, line.gl_account_title, names) or texts.NONE
    where = dimensions_line(line, names)
    return container(
        [
            columns(
                ([text(clean_text(account, NAME_LIMIT + ID_LIMIT))], "stretch"),
                ([text(money(line.amount, currency), align="Right")], "auto"),
            ),
            text(where, subtle=True, spacing="None") if where else None,
            text(clean_text(line.memo, DESCRIPTION_LIMIT), subtle=True, spacing="None") if line.memo else None,
        ],
        spacing="Small",
    )


def _bill_list_card(
    bills: Sequence[Bill], whole: Tally, *, links: IntacctLinks, today: date, title: str, filters: str | None
) -> Card:
    search = clean_text(filters, DESCRIPTION_LIMIT) if filters else None
    body: list[Element | None] = [
        heading(title),
        text(figure_summary(whole, "bill"), spacing="None") if whole.count else None,
        text(texts.searched(search), subtle=True, spacing="None") if search and whole.count else None,
        text(texts.none_match(title, search)) if not whole.count else None,
        *(bill_row(bill, links=links, today=today) for bill in bills),
        text(texts.showing_first(len(bills), texts.SOONEST_FIRST), subtle=True) if whole.count > len(bills) else None,
    ]
    fallback = f"{title}: {figure_summary(whole, 'bill')}" if whole.count else texts.none_match(title, search)
    return make_card(body, fallback_text=fallback, actions=[bill_list_button(links)])
