"""Every label and sentence the cards show, in one place (values from Intacct are never in here).

Fact titles stay short (one word or two: they must not wrap in a FactSet's title column on a
phone), and button titles stay within elements.ACTION_TITLE_MAX characters, so two buttons side
by side fit a 360 px screen; the button's tooltip says where it goes.
"""

from __future__ import annotations

# --- buttons ------------------------------------------------------------------------------------
REVIEW_BILL = "Review bill"
OPEN_BILL = "Open bill"
OPEN_VENDOR = "Open vendor"
OPEN_PAYMENT = "Open payment"
OPEN_BILL_LIST = "Open bill list"
OPEN_PAYMENT_LIST = "Open payment list"
OPEN_VENDOR_LIST = "Open vendor list"


def sign_in_hint(company_id: str) -> str:
    """Tooltip of a button that opens one record in Intacct: the company to be signed in to."""
    return f"Opens Sage Intacct (company {company_id})"


def list_hint(what: str, company_id: str) -> str:
    """Tooltip of a list button: Intacct's list pages take no filter from a link, so say what opens."""
    return f"Opens the {what} list in Sage Intacct (company {company_id}): all of them; filter there"


# --- field titles -------------------------------------------------------------------------------
REFERENCE = "Reference"
DUE_DATE = "Due"
BILL_DATE = "Bill date"
ENTITY = "Entity"
DESCRIPTION = "Description"
RECORD_NO = "Record no."
MODIFIED = "Changed"
PAYMENT_METHOD = "Method"
PAYMENT_DATE = "Date"
BANK_ACCOUNT = "From account"
STATUS = "Status"
ON_HOLD = "On hold"
CURRENCY = "Currency"
TERMS = "Terms"
EMAIL = "Email"
COMPANY = "Company"
TOTAL = "Total"

YES = "yes"
NO = "no"
NONE = "—"
NO_DEPARTMENT = "No department"

# --- figures (one name each, the same on every card) -------------------------------------------
PENDING_BILLS = "Bills waiting for approval"
DUE_THIS_WEEK = "Bills due this week"
OVERDUE_BILLS = "Overdue bills"
PENDING_PAYMENTS = "Payments waiting for approval"
OPEN_BILLS = "Open bills"
PAYMENTS = "Payments"

# --- bill card ----------------------------------------------------------------------------------
NEW_BILL_PENDING = "New bill waiting for approval"
NEW_BILL = "New bill"
BILL_PENDING = "Bill waiting for approval"
BILL_DECLINED = "Bill declined"
BILL_APPROVED = "Bill approved"
BILL_SELECTED = "Bill selected for payment"
BILL_PARTIALLY_PAID = "Bill partially paid"
BILL_PAID = "Bill paid"
BILL_UPDATED = "Bill updated: due date or amount changed"
APPROVAL_HINT = "Approvals happen in Sage Intacct: open the bill, or Accounts Payable › Approve bills."


def bill_title(number: str) -> str:
    """Title of the `show bill` card: `Bill BILL-1042`."""
    return f"Bill {number}"


def bill_state_heading(state: str) -> str:
    """Heading of a bill card after a state change, by the new state."""
    return {
        "submitted": BILL_PENDING,
        "partially approved": BILL_PENDING,
        "declined": BILL_DECLINED,
        "posted": BILL_APPROVED,
        "selected": BILL_SELECTED,
        "partially paid": BILL_PARTIALLY_PAID,
        "paid": BILL_PAID,
    }.get(state.casefold(), f"Bill {state}")


NO_DUE_DATE = "No due date"


def amount_due(amount: str) -> str:
    """The headline of a bill: `4,480.50 USD due`."""
    return f"{amount} due"


def of_total(total: str) -> str:
    """Beside the headline, when something was paid: `of 12,480.50 USD`."""
    return f"of {total}"


def paid(amount: str, on: str | None) -> str:
    """`8,000.00 USD paid Mon 23 Nov 2026`."""
    return f"{amount} paid {on}" if on else f"{amount} paid"


def due_on(day: str) -> str:
    """`Due Mon 30 Nov`."""
    return f"Due {day}"


def was(old_state: str) -> str:
    """The previous state, beside the new one."""
    return f"was {old_state}"


def overdue_by(days: int) -> str:
    """`overdue by 3 days`."""
    return f"overdue by {days} day" if days == 1 else f"overdue by {days} days"


def lines_heading(count: int) -> str:
    """`Lines (12)`."""
    return f"Lines ({count})"


def more_lines(count: int) -> str:
    """`+4 more lines in Sage Intacct`."""
    return f"+{count} more line in Sage Intacct" if count == 1 else f"+{count} more lines in Sage Intacct"


def more_items(count: int, noun: str) -> str:
    """`+12 more bills`."""
    return f"+{count:,} more {noun}"


# --- payments -----------------------------------------------------------------------------------
PAYMENT_PENDING_APPROVAL = "Payment waiting for approval"
NO_PAYMENT_DATE = "No payment date"


def payment_state_heading(state: str) -> str:
    """Heading of a payment card after a state change, by the new state."""
    return {
        "submitted": PAYMENT_PENDING_APPROVAL,
        "partially approved": PAYMENT_PENDING_APPROVAL,
        "approved": "Payment approved",
        "delivered": "Payment delivered",
        "declined": "Payment declined",
        "confirmed": "Payment confirmed",
        "voided": "Payment voided",
        "print voided": "Payment voided",
    }.get(state.casefold(), f"Payment {state}")


def payment_title(record_no: int) -> str:
    """`Payment 812`."""
    return f"Payment {record_no}"


# --- vendors ------------------------------------------------------------------------------------
VENDOR_CHANGED = "Vendor status changed"
VENDOR_ON_HOLD = "Vendor put on hold"
VENDOR_RELEASED = "Vendor released from hold"
VENDOR_INACTIVE = "Vendor made inactive"
VENDOR_ACTIVE = "Vendor made active"
ON_HOLD_WORD = "on hold"

# --- lists --------------------------------------------------------------------------------------
SOONEST_FIRST = "soonest due first"
LATEST_FIRST = "latest first"


def count_and_total(count: str, amounts: str) -> str:
    """`42 bills · 28,074.35 USD`."""
    return f"{count} · {amounts}"


def first_summed(summed: int) -> str:
    """When Intacct counted more than could be read and added up: whose amounts these are."""
    return f"amounts of the first {summed:,}"


def showing_first(shown: int, order: str) -> str:
    """`Showing 10, soonest due first`."""
    return f"Showing {shown:,}, {order}"


def searched(filters: str) -> str:
    """What a list was narrowed by: `Search: over 5,000.00 · vendor pacific`."""
    return f"Search: {filters}"


def none_match(figure: str, filters: str | None) -> str:
    """An empty list, saying what was searched: `No bills waiting for approval match over 5,000.00.`"""
    if filters:
        return f"No {figure[0].lower()}{figure[1:]} match {filters}."
    return f"No {figure[0].lower()}{figure[1:]} right now."


# --- digest and summary -------------------------------------------------------------------------
DIGEST = "Accounts payable digest"
BY_DEPARTMENT = "Due this week by department"
NOTHING_PENDING = "Nothing is waiting: no bills to approve, none overdue or due this week, no payments to approve."
SUMMARY_INTRO = "Too many changes at once for one card each, so here they are together."


def digest_glance(pending: int, overdue: int, due: int, payments: int) -> str:
    """The digest's one-line summary: `7 to approve · 2 overdue · 3 due this week · 2 payments to approve`."""
    return (
        f"{pending:,} to approve · {overdue:,} overdue · {due:,} due this week · "
        f"{payments:,} payment{'' if payments == 1 else 's'} to approve"
    )


def section(title: str, summary: str) -> str:
    """A digest section heading: `Bills waiting for approval: 7 bills · 3,580.50 USD`."""
    return f"{title}: {summary}"


def listed_above(count: int) -> str:
    """Rows a digest section leaves out because an earlier section lists them: `2 listed above`."""
    return f"{count:,} listed above"


def changes_count(count: int) -> str:
    """`57 changes in Sage Intacct`."""
    return f"{count:,} change in Sage Intacct" if count == 1 else f"{count:,} changes in Sage Intacct"


# --- status and subscriptions -------------------------------------------------------------------
STATUS_TITLE = "ml-connector status"
AS_OF = "As of"
LAST_POLL = "Last poll"
LAST_SUCCESS = "Last success"
NEXT_POLL = "Next poll"
SCHEDULE = "Schedule"
LAST_ERROR = "Last error"
FAILURES = "Failures"
PER_POLL = "Per poll"
PER_MONTH = "Per month"
PER_WAKEUP_POLL = "+ 3 per wake-up poll"
PEOPLES_READS = "On request"
WAKEUPS = "Wake-ups"
WAKEUP_KINDS = {"platform_trigger": "Platform Triggers", "smart_event": "Smart Events"}
LAST_WAKEUP = "Last wake-up"
NO_WAKEUP_YET = "none yet"
OUTBOX = "Posts waiting"
TOTAL_WAITING = "Total waiting"
GRAPH = "Graph"
GRAPH_SUBSCRIPTIONS = "Channel subs"
GRAPH_RENEWAL = "Renewal"
INACTIVE_ROUTES = "Inactive subscriptions"
NO_COMPANIES = "No company is configured."
VERSION = "version"
POLLING_OK = "polling normally"
NEVER_POLLED = "not polled yet"
SUBSCRIPTIONS_TITLE = "Subscriptions"
NO_SUBSCRIPTIONS = "Nothing is subscribed here. Try: subscribe bills"
ACTIVE = "active"
INACTIVE = "inactive"
EVERY_COMPANY = "every company"
FILTERS = "Filters"
NO_FILTERS = "none"


def failing(count: int) -> str:
    """`failing: 3 polls in a row`."""
    return f"failing: {count:,} poll in a row" if count == 1 else f"failing: {count:,} polls in a row"


def peoples_reads(today: int, month: int) -> str:
    """What people's reads (commands, links, searches, refreshes) used: `12 functions today · 340 this month`."""
    return f"{today:,} function{'' if today == 1 else 's'} today · {month:,} this month"


def functions_per_poll(count: int) -> str:
    """`3 Intacct functions`."""
    return f"{count:,} Intacct function" if count == 1 else f"{count:,} Intacct functions"


def transactions_per_month(count: int) -> str:
    """`about 30,000 transactions (estimate)`."""
    return f"about {count:,} transactions (estimate)"


def unnamed_channel(conversation_id: str) -> str:
    """A channel whose name Teams never told us: its id without the `@thread…` part, shortened."""
    short = conversation_id.split("@", 1)[0]
    short = short if len(short) <= 18 else short[:16] + "…"
    return f"channel {short}"


def over_amount(amount: str) -> str:
    """Filter description: `over 5,000.00`."""
    return f"over {amount}"


def filter_part(name: str, value: str) -> str:
    """One filter: `department D100`."""
    return f"{name} {value}"


def company_and_key(name: str, key: str) -> str:
    """`Demo Company (DEMO-CO)`."""
    return f"{name} ({key})"


# --- schedules in words -------------------------------------------------------------------------
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def every(count: int, unit: str) -> str:
    """`every 2 minutes`, `every minute`."""
    return f"every {unit}" if count == 1 else f"every {count:,} {unit}s"


def at_time(time: str) -> str:
    """`at 08:00`."""
    return f"at {time}"


EVERY_DAY = "every day"


def schedule_text(parts: list[str], zone: str) -> str:
    """`every 2 minutes, Mon–Fri 06:00–20:00 America/Chicago`."""
    return f"{', '.join(part for part in parts if part)} {zone}"


def raw_schedule(expression: str, zone: str) -> str:
    """A schedule too unusual to put in words: `cron 5 4 1,15 * * (Europe/London)`."""
    return f"cron {expression} ({zone})"


# --- help and welcome ---------------------------------------------------------------------------
EXAMPLES = "Examples"
WELCOME_TITLE = "Hello! I bring Sage Intacct accounts-payable news to Teams."
WELCOME_BODY = (
    "I post new bills, approvals, payments and vendor changes into the channels that subscribe, "
    "and answer questions about bills and vendors. Approvals stay in Sage Intacct."
)
WELCOME_NEXT = "To start, mention me in a channel with: subscribe bills"

# --- alerts -------------------------------------------------------------------------------------
ALERT_TITLES = {
    "polling_failed": "Polling Sage Intacct is failing",
    "polling_recovered": "Polling Sage Intacct recovered",
    "credentials_rejected": "Sage Intacct rejected the credentials",
    "channel_gone": "A subscribed channel is gone",
    "delivery_paused": "Posting to Teams is paused",
    "wakeups_missing": "Intacct wake-ups stopped arriving",
}
ERROR = "Error"
FIX = "Fix"
SINCE = "Since"
CHANNEL = "Channel"
CONVERSATION = "Channel id"
DEFAULT_FIXES = {
    "polling_failed": "Run: python app.py check. Polling keeps retrying and I will say when it recovers.",
    "credentials_rejected": (
        "Polling is stopped for this company. Update the credentials (python app.py setup), "
        "then run: python app.py check."
    ),
    "channel_gone": "Its routes are now inactive. Subscribe another channel, or remove them (python app.py routes remove).",
    "wakeups_missing": "Check the company's triggers in Intacct (python app.py check shows the set-up). Cards still come with the regular poll.",
}

# --- refresh, unfurled links and compose-box search ----------------------------------------------
REFRESH = "Refresh"  # the refresh action's title (Teams' own "Refresh card" menu item starts it)
LINK_CARD_TITLE = "Sage Intacct link"
OPEN_IN_INTACCT = "Open in Intacct"
PAYMENT_PREVIEW = "Payment"


def preview_due(amount_due: str, due: str | None, state: str) -> str:
    """A search result's second line: what is still due, when, and the state."""
    return " · ".join(part for part in (f"{amount_due} due", f"due {due}" if due else None, state) if part)
