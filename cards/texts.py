"""Every label and sentence the cards show, in one place (values from Intacct are never in here)."""

from __future__ import annotations

# --- buttons ------------------------------------------------------------------------------------
REVIEW_AND_APPROVE = "Review and approve in Sage Intacct"
OPEN_BILL = "Open bill in Sage Intacct"
OPEN_VENDOR = "Open vendor"
OPEN_PAYMENT = "Open payment in Sage Intacct"
OPEN_BILLS = "Open bills in Sage Intacct"
OPEN_PAYMENTS = "Open payments in Sage Intacct"
OPEN_VENDORS = "Open vendors in Sage Intacct"


def sign_in_hint(company_id: str) -> str:
    """Tooltip of every button that opens Intacct: the company to be signed in to."""
    return f"Opens Sage Intacct (company {company_id})"

# --- field titles -------------------------------------------------------------------------------
VENDOR = "Vendor"
BILL_NUMBER = "Bill number"
REFERENCE = "Reference"
AMOUNT_DUE = "Amount due"
PAID = "Paid"
DUE_DATE = "Due date"
BILL_DATE = "Bill date"
PAID_DATE = "Paid on"
STATE = "State"
ENTITY = "Entity"
DESCRIPTION = "Description"
RECORD_NO = "Record no."
MODIFIED = "Last changed"
PAYMENT_METHOD = "Method"
PAYMENT_DATE = "Payment date"
BANK_ACCOUNT = "Paid from"
STATUS = "Status"
ON_HOLD = "On hold"
CURRENCY = "Currency"
TERMS = "Terms"
EMAIL = "Email"
DEPARTMENT = "Department"
LOCATION = "Location"
CLASS = "Class"
PROJECT = "Project"
COMPANY = "Company"

YES = "yes"
NO = "no"
NONE = "—"
NO_DEPARTMENT = "No department"

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
BILL_DETAIL = "Bill"
APPROVAL_HINT = "Approvals happen in Sage Intacct: open the bill, or Accounts Payable › Approve bills."


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


def due_on(day: str) -> str:
    """`Due Mon 30 Nov 2026`."""
    return f"Due {day}"


def was(old_state: str) -> str:
    """The previous state, under the new one."""
    return f"was: {old_state}"


def overdue_by(days: int) -> str:
    """`Overdue by 3 days`."""
    return f"Overdue by {days} day" if days == 1 else f"Overdue by {days} days"


def due_in(days: int) -> str:
    """`due today`, `due tomorrow`, `due in 5 days`."""
    if days == 0:
        return "due today"
    if days == 1:
        return "due tomorrow"
    return f"due in {days} days"


def lines_heading(count: int) -> str:
    """`Lines (12)`."""
    return f"Lines ({count})"


def more_lines(count: int) -> str:
    """`+4 more lines in Sage Intacct`."""
    return f"+{count} more line in Sage Intacct" if count == 1 else f"+{count} more lines in Sage Intacct"


def more_items(count: int, noun: str) -> str:
    """`+12 more bills`."""
    return f"+{count:,} more {noun}"


def more_in_intacct(count: int) -> str:
    """Button and note when a list shows fewer than Intacct has: `47 more in Sage Intacct`."""
    return f"{count:,} more in Sage Intacct"


# --- payments -----------------------------------------------------------------------------------
PAYMENT_PENDING_APPROVAL = "Payment waiting for approval"
PAYMENT_PENDING = "Payment approved, waiting to be paid"
NO_PAYMENT_DATE = "No payment date"


def payment_state_heading(state: str) -> str:
    """Heading of a payment card after a state change, by the new state."""
    return {
        "submitted": PAYMENT_PENDING_APPROVAL,
        "partially approved": PAYMENT_PENDING_APPROVAL,
        "approved": "Payment approved",
        "delivered": "Payment delivered",
        "declined": "Payment declined",
        "unapproved": "Payment declined",
        "complete": "Payment complete",
        "voided": "Payment voided",
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
VENDOR_CARD = "Vendor"
VENDOR_ID = "Vendor id"
OPEN_BILLS_OF_VENDOR = "Open bills"

# --- lists --------------------------------------------------------------------------------------
PENDING_BILLS = "Bills waiting for approval"
PAYMENTS = "Payments"
NO_PENDING_BILLS = "No bills are waiting for approval."
NO_PAYMENTS = "No payments match."
SOONEST_FIRST = "soonest due first"


def showing(shown: int, total: int, noun: str) -> str:
    """`Showing 10 of 57 bills`."""
    if shown >= total:
        return f"{total:,} {noun}"
    return f"Showing {shown:,} of {total:,} {noun}"


TOTAL = "Total"


def total_of_shown(shown: int) -> str:
    """Title of the totals line of a partial list."""
    return TOTAL if shown <= 1 else f"Total of these {shown:,}"


# --- digest and summary -------------------------------------------------------------------------
DIGEST = "Accounts payable digest"
WAITING_FOR_APPROVAL = "Waiting for approval"
DUE_THIS_WEEK = "Due this week"
PAYMENTS_PENDING = "Payments pending"
OVERDUE = "Overdue"
BY_DEPARTMENT = "Amount due by department"
NOTHING_PENDING = "Nothing is waiting: no bills to approve, none due this week, no payments pending."
SUMMARY_INTRO = "Too many changes at once for one card each, so here they are together."


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
FAILURES = "Failures in a row"
FUNCTIONS_PER_CYCLE = "Functions per cycle"
MONTHLY_ESTIMATE = "Transactions a month (est.)"
PER_WAKEUP_POLL = "+ 3 per wake-up poll"
WAKEUPS = "Intacct wake-ups"
WAKEUP_KINDS = {"platform_trigger": "Platform Triggers", "smart_event": "Smart Events"}
LAST_WAKEUP = "Last wake-up"
NO_WAKEUP_YET = "none yet"
OUTBOX = "Posts waiting"
GRAPH = "Microsoft Graph"
GRAPH_SUBSCRIPTIONS = "Channel subscriptions"
GRAPH_RENEWAL = "Next renewal"
INACTIVE_ROUTES = "Inactive routes"
NO_COMPANIES = "No company is configured."
VERSION = "Version"
SUBSCRIPTIONS_TITLE = "Subscriptions"
NO_SUBSCRIPTIONS = "Nothing is subscribed here. Try: subscribe bills"
ACTIVE = "active"
INACTIVE = "inactive"
EVERY_COMPANY = "every company"
FILTERS = "Filters"
NO_FILTERS = "none"


def over_amount(amount: str) -> str:
    """Filter description: `over 5,000.00`."""
    return f"over {amount}"


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
FIX = "What to do"
SINCE = "Failing since"
CHANNEL = "Channel"
CONVERSATION = "Conversation"
DEFAULT_FIXES = {
    "polling_failed": "Run: python app.py check. Polling keeps retrying and I will say when it recovers.",
    "credentials_rejected": (
        "Polling is stopped for this company. Update the credentials (python app.py setup), "
        "then run: python app.py check."
    ),
    "channel_gone": "Its routes are now inactive. Subscribe another channel, or remove them (python app.py routes remove).",
    "wakeups_missing": "Check the company's triggers in Intacct (python app.py check shows the set-up). Cards still come with the regular poll.",
}
