"""Every text the bot shows a person, in one place, organised by feature.

Add a section per feature (`# --- <feature>`), name texts `<FEATURE>_<WHAT>`, and write
placeholders as `{name}` for `str.format`. Values people typed are inserted by the code that uses
a text, already shortened by `quote_value`; escaping for Teams markdown or cards happens where the
text is rendered (cards/), never here. Teams renders these as markdown-ish plain text: keep them
short, one or two sentences, no HTML.
"""

from __future__ import annotations

_QUOTE_LIMIT = 40  # characters of a person's input echoed back in an error


def quote_value(value: str) -> str:
    """A person's input, shortened for echoing inside a message."""
    value = " ".join(value.split())
    return f"“{value}”" if len(value) <= _QUOTE_LIMIT else f"“{value[: _QUOTE_LIMIT - 1]}…”"


# --- commands: the catalogue (help card and the manifest's command menu) --------------------
# Titles are what Teams inserts in the compose box from the command menu (≤ 32 characters);
# descriptions show beside them (≤ 128 characters). tests/bot/test_commands.py checks both.

COMMAND_PENDING_BILLS = "Bills waiting for approval or payment. Narrow with: vendor NAME, over AMOUNT, department NAME."
COMMAND_SHOW_BILL = "One bill with its lines, by bill number or record number."
COMMAND_SHOW_VENDOR = "A vendor by id or name: status, hold, terms and open bills."
COMMAND_SHOW_PAYMENTS = "Recent payment requests; add “pending” for those still waiting."
COMMAND_DUE_THIS_WEEK = "Open bills due between today and Sunday."
COMMAND_STATUS = "When Intacct was last read, what failed, and what this channel receives."
COMMAND_SUBSCRIBE = "Post bills, payments, vendors, digest or alerts here. Filters: department, location, vendor, over, entity."
COMMAND_UNSUBSCRIBE = "Stop posting some kinds here (bills, payments, …), or “all”."
COMMAND_SUBSCRIPTIONS = "What this channel is subscribed to."
COMMAND_HELP = "What I can do, with examples."

# --- commands: help (the help card lists COMMANDS with these around them) ---------------------

HELP_TITLE = "What I can do"
HELP_INTRO = (
    "Mention me and type a command. Words in CAPITALS are yours to fill in; "
    "put a value in quotes if it contains a keyword."
)
HELP_EXAMPLES = (
    "show pending bills vendor Acme over 1,000",
    'subscribe bills department "Sales & Marketing" over 5k',
    "show bill 10234",
)
HELP_AMOUNTS = "Amounts: 500, 1,200.50, $1,200, 1.2k or 2m (no minus sign, at most 2 decimals)."

# --- commands: what went wrong when reading one ----------------------------------------------

PARSE_UNKNOWN = "I didn't understand {text}. Type “help” to see what I can do."
PARSE_TOO_LONG = "That message is too long to be a command (over {limit} characters). Type “help” for the commands."
PARSE_MISSING_VALUE = "“{keyword}” needs a value, for example “{example}”."
PARSE_DUPLICATE_OPTION = "“{keyword}” is given twice; keep one."
PARSE_UNEXPECTED = "I don't know what to do with {text} in “{command}”. Type “help” for its options."
PARSE_UNCLOSED_QUOTE = "A quote is never closed; put the value between two quotes, like department “Sales & Marketing”."
PARSE_BAD_AMOUNT = "{value} is not an amount I understand. Try 500, 1,200.50, $1,200 or 1.2k."
PARSE_NEGATIVE_AMOUNT = "Amounts cannot be negative: {value}."
PARSE_AMOUNT_TOO_PRECISE = "{value} has more than 2 decimals."
PARSE_AMOUNT_TOO_LARGE = "{value} is larger than any amount I can search for."
PARSE_BILL_MISSING = "Which bill? For example “show bill 10234”."
PARSE_VENDOR_MISSING = "Which vendor? For example “show vendor Acme” or “show vendor V-100”."
PARSE_PAYMENTS_OPTION = "I can show payments or pending payments, not {text}."
PARSE_KINDS_MISSING = "Subscribe to what? Choose from {kinds}, for example “subscribe bills”."
PARSE_KIND_UNKNOWN = "{kind} is not something I post. Choose from {kinds}."
