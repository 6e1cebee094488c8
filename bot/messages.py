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


# --- notifier: why a card did not reach a channel (routes, audit trail, operators' alerts) ---
# Reasons complete "inactive: …" in `subscriptions` and "stopped receiving cards: …" in alerts.

NOTIFIER_GONE_REASONS = {
    "BotNotInConversationRoster": "the bot was removed from this team or chat",
    "BotDisabledByAdmin": "a tenant admin blocked the app",
    "ConversationBlockedByUser": "a user blocked the bot",
    "ConversationNotFound": "the channel was deleted, or Teams does not know it",
}
NOTIFIER_GONE_DEFAULT = "Teams no longer accepts the bot's posts here"
NOTIFIER_NO_REFERENCE = "the bot is not installed here (no conversation reference is stored)"
NOTIFIER_BAD_REFERENCE = "the stored conversation reference is unusable; reinstall the bot here"
NOTIFIER_NOT_SENT_GONE = "not sent: {reason}"
NOTIFIER_HELD_BACK = "not sent yet: an earlier message to this channel failed ({error})"
NOTIFIER_RELEASED_AT_STOP = "not sent yet: the notifier stopped first"
NOTIFIER_WAITING_PACER = "not sent yet: waiting for Teams' rate limit"
NOTIFIER_CHANNEL = "“{name}” ({id})"
NOTIFIER_CHANNEL_GONE_SUMMARY = "Channel {channel} stopped receiving cards: {reason}."
NOTIFIER_FAILED_SUMMARY = "A card was not posted to channel {channel} ({what}): {reason}."
NOTIFIER_REASON_CREDENTIALS = "Teams did not accept the bot's credentials"
NOTIFIER_REASON_PAYLOAD = "Teams rejected the message as malformed"
NOTIFIER_REASON_API_HOST = "this tenant must be reached on another Bot Connector host"
NOTIFIER_REASON_RETRIES = "Teams kept failing after {attempts} attempts"
NOTIFIER_REASON_REFUSED = "Teams refused it"
NOTIFIER_REASON_TOO_LARGE = "the card is too large for Teams even at its smallest"
NOTIFIER_REASON_UNREADABLE = "its outbox row cannot be read"
NOTIFIER_REASON_NO_COMPANY = "company {company} is no longer configured"
NOTIFIER_REASON_CARD = "its card could not be built"
NOTIFIER_REASON_INTERNAL = "an internal error stopped it"
NOTIFIER_FIX_CREDENTIALS = "Check APP_ID, APP_PASSWORD, APP_TYPE and APP_TENANTID, then run: python app.py check"
NOTIFIER_FIX_PAYLOAD = "Report it with its audit line (python app.py audit); later cards are sent normally."
NOTIFIER_FIX_API_HOST = "Remove the bot from the team and add it again, so Teams gives it the tenant's own service URL."
NOTIFIER_FIX_RETRIES = "Teams was unavailable for a while; the card is listed in the audit trail (python app.py audit)."
NOTIFIER_FIX_DEFAULT = "See the audit trail (python app.py audit) and the log for details."
# Teams refused the bot itself (401): posting pauses, nothing is failed, and it resumes by itself.
NOTIFIER_PAUSED = "not sent yet: posting to Teams is paused ({reason})"
NOTIFIER_PAUSED_SUMMARY = (
    "Posting to Teams paused: {reason}. No card was dropped: they wait in the outbox and go out as soon "
    "as Teams accepts the bot again."
)
NOTIFIER_FIX_PAUSED = (
    NOTIFIER_FIX_CREDENTIALS + ". Posting resumes by itself within {minutes} minutes of the fix; a restart resumes it at once."
)

# --- commands: the catalogue (help card and the manifest's command menu) --------------------
# Titles are what Teams inserts in the compose box from the command menu (≤ 32 characters);
# descriptions show beside them (≤ 128 characters). tests/bot/chat/test_commands.py checks both.

COMMAND_PENDING_BILLS = "Bills waiting for approval, soonest due first. Narrow with: vendor NAME, over AMOUNT, department NAME."
COMMAND_SHOW_BILL = "One bill with its lines, by bill number or record number."
COMMAND_SHOW_VENDOR = "A vendor by id or name: status, hold, terms and open bills."
COMMAND_SHOW_PAYMENTS = "Recent payment requests; add “pending” for those waiting for approval."
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

# --- handler and command service: answers (bot/chat/service.py) ---------------------------------
# {company} is a configured company key; every {text}/{ref}/{value} is a person's input, already
# cleaned (cards.sanitize.clean_text) and quoted (quote_value) by the service.

ANSWER_NO_COMPANY = "No Sage Intacct company is configured yet. An administrator can add one with: python app.py setup"
ANSWER_FOR_COMPANY = "{company}: {text}"
ANSWER_TITLE_FOR_COMPANY = "{title} · {company}"
# The list cards' titles are the figures' names in cards/texts.py (one name per figure, the digest's too).
ANSWER_DUE_RANGE = "due {start} to {end}"
ANSWER_NOTHING_DUE = "No open bills are due between {start} and {end} (overdue bills are not counted here)."
ANSWER_BILL_NOT_FOUND = "I found no bill {ref} in Sage Intacct. Try its bill number or record number, for example “show bill 10234”."
ANSWER_VENDOR_NOT_FOUND = "No vendor matches {text}. Try the vendor id, for example “show vendor V-100”, or part of the name."
ANSWER_VENDOR_CHOICES = "Several vendors match {text}: {choices}. Which one? For example “show vendor {example}”."
ANSWER_VENDOR_CHOICE = "{name} ({vendor_id})"
ANSWER_CHOICE_JOINER = ", "
FILTER_VENDOR = "vendor {value}"
FILTER_DEPARTMENT = "department {value}"
FILTER_LOCATION = "location {value}"
FILTER_OVER = "over {value}"
FILTER_ENTITY = "entity {value}"
FILTER_JOINER = " · "

# --- handler and command service: subscriptions (bot/chat/service.py) ---------------------------

ROUTES_CHANNEL_ONLY = "Subscriptions belong to team channels: mention me in the channel that should receive the posts."
ROUTES_SUBSCRIBED = "Done: this channel now receives {kinds}{filters}."
ROUTES_FILTERS = " ({filters})"
ROUTES_ALERTS = (
    "This channel is now the operators' channel: I post here when polling Sage Intacct fails or "
    "recovers, when credentials are rejected, and when a subscribed channel is gone."
)
ROUTES_UNSUBSCRIBED = "Done: I no longer post {kinds} here."
ROUTES_UNSUBSCRIBED_ALL = "Done: I no longer post anything here."
ROUTES_NOTHING_TO_REMOVE = "This channel was not subscribed to {kinds}, so nothing changed."
ROUTES_NOTHING_AT_ALL = "This channel had no subscriptions, so nothing changed."
ROUTES_SCOPE = "This channel"
KIND_NAMES = {
    "bills": "new and changed bills",
    "payments": "payment requests",
    "vendors": "vendor status changes",
    "digest": "the daily digest",
    "alerts": "operator alerts",
}
KIND_JOINER = ", "
KIND_LAST_JOINER = " and "

# Why a route is inactive (stored on the route, shown by `subscriptions` and `status`).
ROUTE_REASON_CHANNEL_DELETED = "channel deleted"
ROUTE_REASON_BOT_REMOVED = "bot removed from the team"
ROUTE_REASON_BOT_REMOVED_CHAT = "bot removed from the chat"
ROUTE_REASON_TEAM_DELETED = "team deleted"
ROUTE_REASON_TEAM_ARCHIVED = "team archived"

# --- handler and command service: who may change subscriptions (bot/chat/admins.py) -------------

ADMIN_WHO_OWNERS = "team owners"
ADMIN_WHO_GROUP = "members of the ml-connector admin group"
ADMIN_WHO_PEOPLE = "the people named in ROUTE_ADMINS"
ADMIN_WHO_JOINER = " or "
ADMIN_NOT_ALLOWED = "Only {who} can change subscriptions here. Ask one of them, or your administrator."
ADMIN_GRAPH_NEEDED = (
    "Only {who} can change subscriptions here, and checking that needs Microsoft Graph, which is not "
    "configured. Ask your administrator to configure Graph (the GRAPH_* settings) or to add you to ROUTE_ADMINS."
)
ADMIN_GRAPH_PERMISSION = (
    "I couldn't check whether you may change subscriptions: the app registration lacks the Microsoft Graph "
    "permission {permission}. Ask your administrator to grant it (with admin consent)."
)
ADMIN_GRAPH_FAILED = "I couldn't check whether you may change subscriptions: {problem}. Please try again later."
ADMIN_UNKNOWN_USER = "I can't tell who you are (Teams sent no Microsoft Entra user id), so I can't let you change subscriptions."
ADMIN_TEAM_UNKNOWN = (
    "I don't know this team's Microsoft 365 id yet, so I can't check who owns it. "
    "Remove me from the team and add me again, then try once more."
)

# --- handler and command service: failures (bot/chat/service.py, bot/teams/handler.py) ----------------

FAILED_INTACCT_SLOW = "Sage Intacct is slow to answer right now, so I stopped waiting. Please try again in a minute."
FAILED_SLOW = "That took too long, so I stopped waiting. Please try again in a minute."
FAILED_INTACCT_ERROR = "Sage Intacct answered with an error: {problem}. Try again later; if it keeps happening, tell your administrator."
FAILED_INTACCT_AUTH = "Sage Intacct refused ml-connector's sign-in ({problem}). An administrator needs to check the credentials: python app.py check"
FAILED_INTACCT_UNREACHABLE = "I couldn't reach Sage Intacct ({problem}). Please try again in a few minutes."
FAILED_INTACCT_UNREADABLE = "Sage Intacct sent an answer I couldn't read ({problem}). Please try again; if it keeps happening, tell your administrator."
FAILED_STORE = "I couldn't read or save subscriptions just now: my database did not answer. Please try again in a minute."
FAILED_APOLOGY = "Sorry, something went wrong on my side while answering that. It has been logged; please try again."


# --- invokes: Intacct links unfurled, the compose-box bill search, card refreshes -----------------
# Manifest texts (v1.25 schema bounds: command title 32, description 128; parameter title 32).
SEARCH_COMMAND_TITLE = "Search bills"
SEARCH_COMMAND_DESCRIPTION = "Find a Sage Intacct bill by vendor, bill number or amount, and insert its card."
SEARCH_PARAMETER_TITLE = "Vendor, bill number or amount"
SEARCH_PARAMETER_DESCRIPTION = "For example: Acme, INV-1042 or 1,250.00"

SEARCH_MALFORMED = "Teams sent a search I cannot read. Please type it again."
SEARCH_UNKNOWN_COMMAND = "I search bills only: choose “Search bills” and type a vendor, a bill number or an amount."
SEARCH_EMPTY = "Type a vendor, a bill number or an amount, for example: Acme, INV-1042 or 1,250.00."
SEARCH_TOO_LONG = "That is longer than any vendor, bill number or amount ({limit} characters at most)."
SEARCH_TOO_FAR = "That goes past the first 1,000 bills found: type more of the vendor, number or amount."
SEARCH_NOTHING = "No bill matches {text}. Try a vendor's name, a bill number or an amount."
SEARCH_FAILED_FOR = "{company}: {problem}"
SEARCH_SLOW = "Sage Intacct did not answer the search in time. Try again in a moment."
SEARCH_BUSY = "Many people are asking Sage Intacct right now. Try again in {seconds} seconds."
INVOKE_NO_COMPANY = "No Sage Intacct company is set up yet."

INVOKE_NO_URL = "Teams sent no link to show."
INVOKE_URL_TOO_LONG = "This link is too long to be a Sage Intacct record's."
LINK_NOT_INTACCT = "This is not a Sage Intacct link I know: I show links to the Intacct hosts I am set up for."
LINK_NOT_A_RECORD = "This Sage Intacct page is not a bill, payment or vendor I can show. The link opens it in Intacct."
LINK_NOT_KNOWN = (
    "I cannot show this record: it is not one I have seen in Sage Intacct (yet), or it belongs to a "
    "company I do not read. The link still opens it in Intacct for anyone signed in there."
)
LINK_NOT_FOUND = "This record is no longer in Sage Intacct, or I may not read it. The link opens Intacct."
LINK_FAILED = "{problem} The link still opens the record in Intacct."
LINK_SLOW = "Sage Intacct did not answer in time; the link still opens the record there."
LINK_BUSY = "Many people are asking Sage Intacct right now; the link still opens the record there."

ACTION_MALFORMED = "This card sent an action I cannot read."
ACTION_NOT_EXECUTE = "This card's action is not one I answer."
ACTION_NOT_OURS = "This card's button is not one of mine."
REFRESH_GONE = "This {kind} is no longer in Sage Intacct, or I may not read it."
REFRESH_NO_COMPANY = "This card comes from company {company}, which I no longer read."
REFRESH_FAILED = "{problem} The card still shows what it knew before."
REFRESH_SLOW = "Sage Intacct did not answer in time; the card shows what it knew before."
REFRESH_BUSY = "Many people are asking Sage Intacct right now; try again in {seconds} seconds."
INVOKE_FAILED = "Something went wrong on my side (the log says what). Please try again in a moment."
RECORD_KIND_NAMES = {"bill": "bill", "payment": "payment", "vendor": "vendor"}
