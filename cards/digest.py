"""Cards that gather many records: the scheduled digest and the summary of a burst of changes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from cards import texts
from cards.bills import bill_list_button, bill_row, due_order, figure_summary
from cards.elements import CARD_SIZE_BUDGET, Card, Element, container, facts, heading, make_card, open_url, text
from cards.fit import fit
from cards.format import ReferenceNames, Tone, day, money_totals, moment, named, tally_amounts
from cards.links import IntacctLinks
from cards.payments import payment_list_button, payment_row
from cards.sanitize import DESCRIPTION_LIMIT, NAME_LIMIT, clean_text
from intacct import figures
from intacct.company import TeamZone
from intacct.dimensions import DimensionKind
from intacct.bills import Bill
from intacct.figures import DepartmentAmount, Tally
from intacct.payments import Payment
from poller.events import ChangesSummarized, DigestFigures, DigestPrepared, SummarizedChange

DEFAULT_MAX_ITEMS = 3  # rows per digest section (departments: twice that)
DEFAULT_SUMMARY_ITEMS = 15  # changes listed on a summary card


def build_digest_card(
    event: DigestPrepared,
    *,
    links: IntacctLinks,
    names: ReferenceNames | None = None,
    company_name: str | None = None,
    max_items: int = DEFAULT_MAX_ITEMS,
    max_bytes: int = CARD_SIZE_BUDGET,
) -> Card:
    """The scheduled digest as of `event.as_of` (the AP team's date): bills waiting for approval,
    overdue, due this week, payments waiting for approval (each figure over Intacct's whole
    result, at most `max_items` rows each) and what is due this week per department, with a
    total equal to the due-this-week figure."""
    pending = sorted(event.pending_bills, key=due_order)
    overdue = sorted(event.overdue_bills, key=due_order)
    due = sorted(event.bills_due, key=due_order)
    payments = sorted(event.payments_pending, key=lambda p: (p.payment_date is None, p.payment_date or date.max, p.record_no))
    values = event.figures or _figures_of_rows(event)
    departments = event.due_by_department or figures.amount_due_by_department(due)

    def render(items: int) -> Card:
        return _digest_card(
            event, values, pending, overdue, due, payments, departments,
            links=links, names=names, company_name=company_name, max_items=items,
        )  # fmt: skip

    return fit("digest", render, wanted=max_items, max_bytes=max_bytes)


def build_summary_card(
    event: ChangesSummarized,
    *,
    links: IntacctLinks,
    zone: TeamZone,
    max_items: int = DEFAULT_SUMMARY_ITEMS,
    max_bytes: int = CARD_SIZE_BUDGET,
) -> Card:
    """One card for a burst of changes that would have flooded a channel: one clickable line per
    change, at most `max_items`, and how many more there were; the cycle's time in the team's zone."""
    total = max(event.total, len(event.changes))

    def render(items: int) -> Card:
        return _summary_card(event, event.changes[:items], total=total, links=links, zone=zone)

    return fit("summary", render, wanted=max_items, max_bytes=max_bytes)


def department_label(part: DepartmentAmount, names: ReferenceNames | None = None) -> str:
    """`D100 Operations`, or "No department"."""
    if part.department_id is None:
        return texts.NO_DEPARTMENT
    return named(DimensionKind.DEPARTMENT, part.department_id, part.department_name, names) or part.department_id


def _figures_of_rows(event: DigestPrepared) -> DigestFigures:
    # A digest queued before the figures travelled with it: count what it carries.
    return DigestFigures(
        figures.tally(event.pending_bills, figures.amount_due),
        figures.tally(event.bills_due, figures.amount_due),
        figures.tally(event.overdue_bills, figures.amount_due),
        figures.tally(event.payments_pending, figures.payment_amount),
    )


def _digest_card(
    event: DigestPrepared,
    values: DigestFigures,
    pending: Sequence[Bill],
    overdue: Sequence[Bill],
    due: Sequence[Bill],
    payments: Sequence[Payment],
    departments: Sequence[DepartmentAmount],
    *,
    links: IntacctLinks,
    names: ReferenceNames | None,
    company_name: str | None,
    max_items: int,
) -> Card:
    today = event.as_of
    counts = (values.pending_approval.count, values.overdue.count, values.due_this_week.count, values.payments_pending_approval.count)
    tone = Tone.ATTENTION if values.overdue.count else Tone.WARNING if any(counts) else Tone.GOOD
    company = clean_text(company_name or event.company, NAME_LIMIT)
    body: list[Element | None] = [
        container(
            [
                heading(texts.DIGEST),
                text(f"{company} · {day(event.as_of)}", spacing="None"),
                text(texts.digest_glance(*counts), weight="Bolder", spacing="None") if any(counts) else None,
            ],
            tone=tone,
        ),
        text(texts.NOTHING_PENDING) if not any(counts) else None,
    ]
    # Most urgent first. A bill listed in one section is not listed again in the next (an
    # overdue bill waiting for approval is in both figures); the section says how many it skipped.
    listed: set[int] = set()

    def bills(title: str, value: Tally, rows: Sequence[Bill], tone: Tone | None = None) -> list[Element | None]:
        fresh = [bill for bill in rows if bill.record_no not in listed][:max_items]
        skipped = sum(1 for bill in rows if bill.record_no in listed)
        listed.update(bill.record_no for bill in fresh)
        shown = [bill_row(bill, links=links, today=today, flag_overdue=False) for bill in fresh]
        return _section(title, value, shown, "bill", skipped=skipped, tone=tone)

    body += bills(texts.OVERDUE_BILLS, values.overdue, overdue, Tone.ATTENTION)
    body += bills(texts.PENDING_BILLS, values.pending_approval, pending)
    body += bills(texts.DUE_THIS_WEEK, values.due_this_week, due)
    body += _section(
        texts.PENDING_PAYMENTS, values.payments_pending_approval,
        [payment_row(p, links=links, today=today) for p in payments[:max_items]], "payment",
    )  # fmt: skip
    if departments and values.due_this_week.count:
        shown_parts = departments[: max_items * 2]
        rows = [(department_label(part, names), money_totals({t.currency: t.amount for t in part.totals})) for part in shown_parts]
        if len(departments) > len(shown_parts):
            rows.append((texts.more_items(len(departments) - len(shown_parts), "departments"), ""))
        rows.append((texts.TOTAL, tally_amounts(values.due_this_week)))
        body.append(text(texts.BY_DEPARTMENT, weight="Bolder", separator=True, spacing="Medium"))
        body.append(facts(rows, limit=DESCRIPTION_LIMIT, spacing="Small"))
    actions = [bill_list_button(links), payment_list_button(links) if values.payments_pending_approval.count else None]
    fallback = f"{texts.DIGEST} {company} {day(event.as_of)}: {texts.digest_glance(*counts)}"
    return make_card(body, fallback_text=fallback, actions=actions)


def _section(
    title: str, value: Tally, rows: list[Element | None], noun: str, *, skipped: int = 0, tone: Tone | None = None
) -> list[Element | None]:
    if not value.count:
        return []
    heading_text = text(texts.section(title, figure_summary(value, noun)), weight="Bolder")
    section: list[Element | None] = [
        container([heading_text], tone=tone, separator=True, spacing="Medium") if tone else container([heading_text], separator=True, spacing="Medium"),
        *rows,
    ]
    more = value.count - len(rows) - skipped
    notes = [texts.more_items(more, noun + "s") if more > 0 else None, texts.listed_above(skipped) if skipped else None]
    if any(notes):
        section.append(text(" · ".join(note for note in notes if note), subtle=True))
    return section


def _summary_card(
    event: ChangesSummarized, changes: Sequence[SummarizedChange], *, total: int, links: IntacctLinks, zone: TeamZone
) -> Card:
    body: list[Element | None] = [
        container(
            [
                heading(texts.changes_count(total)),
                text(f"{clean_text(event.company, NAME_LIMIT)} · {moment(event.cycle_at, zone, named=True)}", spacing="None"),
                text(texts.SUMMARY_INTRO, spacing="None"),
            ],
            tone=Tone.ACCENT,
        ),
    ]
    for change in changes:
        label = clean_text(change.label, DESCRIPTION_LIMIT)
        body.append(container([text(label)], separator=True, select_action=open_url(label, links.change(change))))
    if total > len(changes):
        body.append(text(texts.more_items(total - len(changes), "changes"), subtle=True))
    # A button per kind of record in the burst, to its list in Intacct: two at most, so they fit
    # side by side on a phone (each row opens its own record anyway).
    kinds = {change.record_kind for change in event.changes}
    buttons = [("bill", texts.OPEN_BILL_LIST), ("payment", texts.OPEN_PAYMENT_LIST), ("vendor", texts.OPEN_VENDOR_LIST)]
    actions = [open_url(title, links.list_view(kind), tooltip=links.list_hint(kind)) for kind, title in buttons if kind in kinds][:2]
    fallback = f"{texts.changes_count(total)} ({event.company}, {moment(event.cycle_at, zone, named=True)})"
    return make_card(body, fallback_text=fallback, actions=actions)
