"""Commands people type after @mentioning the bot: the parser and the catalogue.

`parse_command(text)` turns the text of an @mention (mention already stripped) into one frozen
command value; it never raises. Grammar (case-insensitive, extra spaces ignored):

    show pending bills [vendor NAME] [over AMOUNT] [department NAME]   (also: pending bills)
    show bill REF                       (also: bill REF; a leading # is dropped)
    show vendor NAME-OR-ID              (also: vendor NAME-OR-ID)
    show payments [pending]             (also: payments, show pending payments, pending payments)
    due this week                       (also: show / bills / show bills due this week)
    status | show status
    subscribe KINDS [department NAME] [location NAME] [vendor NAME] [over AMOUNT] [entity ID]
    unsubscribe [KINDS | all]           (nothing = all)
    subscriptions | list subscriptions | show subscriptions
    help | commands | ? | show help     (and an empty mention)

Options may come in any order; `dept`, `loc`, `above`, `min` and `minimum` are aliases. A value
runs to the next option keyword or the end, so `vendor Acme Ltd over 500` works; quote a value
that contains a keyword: `vendor "Over The Top Inc"` ("…", “…” or '…'). KINDS are bills, payments,
vendors, digest, alerts, or all (= bills, payments, vendors and digest — not alerts, which is the
operators' channel), separated by spaces, commas or "and".

Amounts: `500`, `1,200.50`, `$1,200` (also €, £), `1.2k`, `2m`; thousands separators must group
by three; no minus; at most two decimals after applying k/m; up to 1,000,000,000,000. European
`1.200,50` is refused (ambiguous). Returned as Decimal with two decimals.

Chat text is hostile: control characters become spaces, invisible format characters (zero-width,
bidi overrides) are dropped, text over MAX_COMMAND_CHARS is refused, and everything else —
quotes, `' OR 1=1 --`, `]]>`, `<at>`, markdown — stays in values as plain text: escaping for
Intacct queries is intacct/query.py's job, for cards cards/'.

A recognised command with a bad value becomes `InvalidCommand` with a message for the person
(bot/messages.py); text that is no command becomes `Unknown`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Callable, Sequence, Union

from bot import messages

MAX_COMMAND_CHARS = 500
MAX_AMOUNT = Decimal("1000000000000")
EVENT_KINDS = ("bills", "payments", "vendors", "digest")  # poller.events.EventKind values
SUBSCRIBABLE_KINDS = (*EVENT_KINDS, "alerts")


# --- the commands ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShowPendingBills:
    """List open bills, optionally narrowed."""

    vendor: str | None = None
    min_amount: Decimal | None = None
    department: str | None = None


@dataclass(frozen=True, slots=True)
class ShowBill:
    """Show one bill by its number or record number."""

    ref: str


@dataclass(frozen=True, slots=True)
class ShowVendor:
    """Find a vendor by id or name."""

    text: str


@dataclass(frozen=True, slots=True)
class ShowPayments:
    """List payment requests (only those still pending when asked)."""

    pending_only: bool = False


@dataclass(frozen=True, slots=True)
class DueThisWeek:
    """List open bills due from today to the end of the week."""


@dataclass(frozen=True, slots=True)
class ShowStatus:
    """Show the poller's health and this channel's subscriptions."""


@dataclass(frozen=True, slots=True)
class ShowHelp:
    """Show what the bot can do."""


@dataclass(frozen=True, slots=True)
class Subscribe:
    """Post these kinds of events in this conversation, optionally filtered."""

    kinds: frozenset[str]
    department: str | None = None
    location: str | None = None
    vendor: str | None = None
    min_amount: Decimal | None = None
    entity: str | None = None


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    """Stop posting these kinds here; `kinds` None means everything (alerts included)."""

    kinds: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class ListSubscriptions:
    """List this conversation's subscriptions."""


@dataclass(frozen=True, slots=True)
class Unknown:
    """Text that is not a command (cleaned and capped)."""

    text: str


@dataclass(frozen=True, slots=True)
class InvalidCommand:
    """A recognised command with an unusable value; `message` tells the person what to fix."""

    text: str
    message: str


Command = Union[
    ShowPendingBills,
    ShowBill,
    ShowVendor,
    ShowPayments,
    DueThisWeek,
    ShowStatus,
    ShowHelp,
    Subscribe,
    Unsubscribe,
    ListSubscriptions,
    Unknown,
    InvalidCommand,
]


# --- the catalogue -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """One entry of the help card and of the manifest's command menu."""

    title: str  # what a person types (and what the menu inserts); ≤ 32 characters
    syntax: str  # with CAPITALISED placeholders and [optional] parts
    description: str  # ≤ 128 characters


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "show pending bills",
        "show pending bills [vendor NAME] [over AMOUNT] [department NAME]",
        messages.COMMAND_PENDING_BILLS,
    ),
    CommandSpec("show bill", "show bill NUMBER", messages.COMMAND_SHOW_BILL),
    CommandSpec("show vendor", "show vendor NAME-OR-ID", messages.COMMAND_SHOW_VENDOR),
    CommandSpec("show payments", "show payments [pending]", messages.COMMAND_SHOW_PAYMENTS),
    CommandSpec("due this week", "due this week", messages.COMMAND_DUE_THIS_WEEK),
    CommandSpec("status", "status", messages.COMMAND_STATUS),
    CommandSpec(
        "subscribe",
        "subscribe KINDS [department NAME] [location NAME] [vendor NAME] [over AMOUNT] [entity ID]",
        messages.COMMAND_SUBSCRIBE,
    ),
    CommandSpec("unsubscribe", "unsubscribe [KINDS | all]", messages.COMMAND_UNSUBSCRIBE),
    CommandSpec("subscriptions", "subscriptions", messages.COMMAND_SUBSCRIPTIONS),
    CommandSpec("help", "help", messages.COMMAND_HELP),
)
MANIFEST_SCOPES = ("team", "groupChat", "personal")


def manifest_command_lists(scopes: Sequence[str] = MANIFEST_SCOPES) -> list[dict[str, object]]:
    """The manifest's `bots[0].commandLists`: one list per scope, as the v1.25 schema advises."""
    commands = [{"title": spec.title, "description": spec.description} for spec in COMMANDS]
    return [{"scopes": [scope], "commands": [dict(c) for c in commands]} for scope in scopes]


# --- parsing -----------------------------------------------------------------------------------


class _Invalid(Exception):
    """Raised inside the parser; becomes InvalidCommand with this message."""


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    quoted: bool

    @property
    def word(self) -> str:
        """The token as a keyword candidate (quoted tokens never are keywords)."""
        return "" if self.quoted else self.text.casefold()


# "…" or “…” anywhere a token starts; '…' and ‘…’ only when closed before a space or the end, so
# apostrophes (O'Brien) and lone quotes (' OR 1=1 --) stay literal.
_TOKEN = re.compile(r"\"([^\"]*)\"|“([^”]*)”|'([^']*)'(?=\s|$)|‘([^’]*)’(?=\s|$)|(\S+)")
_AMOUNT = re.compile(r"^([$€£])?\s*([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]+))?\s*([km])?$", re.IGNORECASE)
_MULTIPLIERS = {None: Decimal(1), "k": Decimal(1000), "m": Decimal(1_000_000)}
_CENT = Decimal("0.01")

_BILL_OPTIONS = {"vendor": "vendor", "over": "min_amount", "above": "min_amount", "min": "min_amount",
                 "minimum": "min_amount", "department": "department", "dept": "department"}
_SUBSCRIBE_OPTIONS = {**_BILL_OPTIONS, "location": "location", "loc": "location", "entity": "entity"}
_OPTION_EXAMPLES = {"vendor": "vendor Acme", "min_amount": "over 500", "department": 'department "Sales & Marketing"',
                    "location": "location Boston", "entity": "entity US01"}
_KIND_ALIASES = {"bill": "bills", "payment": "payments", "digests": "digest", "alert": "alerts"}
_KIND_SEPARATORS = {"and", "&", "+"}


def parse_command(text: str) -> Command:
    """The command in the text of an @mention (mention already stripped); never raises."""
    cleaned = _clean(text or "")
    if len(cleaned) > MAX_COMMAND_CHARS:
        return InvalidCommand(cleaned[:MAX_COMMAND_CHARS], messages.PARSE_TOO_LONG.format(limit=MAX_COMMAND_CHARS))
    try:
        tokens = _tokenize(cleaned)
        if not tokens:
            return ShowHelp()
        for head, build in _HEADS:
            if len(tokens) >= len(head) and all(t.word == w for t, w in zip(tokens, head)):
                return build(tokens[len(head):], cleaned)
        return Unknown(cleaned)
    except _Invalid as problem:
        return InvalidCommand(cleaned, str(problem))


def parse_amount(text: str) -> Decimal:
    """An amount as people type it (see the module docstring); raises ValueError with a message for them."""
    stripped = text.strip()
    shown = messages.quote_value(text)
    if stripped.lstrip("$€£").lstrip().startswith(("-", "−")):
        raise ValueError(messages.PARSE_NEGATIVE_AMOUNT.format(value=shown))
    match = _AMOUNT.match(stripped)
    if match is None:
        raise ValueError(messages.PARSE_BAD_AMOUNT.format(value=shown))
    _, whole, fraction, suffix = match.groups()
    try:
        value = Decimal(whole.replace(",", "") + ("." + fraction if fraction else "")) * _MULTIPLIERS[suffix and suffix.lower()]
    except InvalidOperation:  # pragma: no cover - the pattern only lets digits through
        raise ValueError(messages.PARSE_BAD_AMOUNT.format(value=shown)) from None
    if value > MAX_AMOUNT:
        raise ValueError(messages.PARSE_AMOUNT_TOO_LARGE.format(value=shown))
    if value != value.quantize(_CENT):
        raise ValueError(messages.PARSE_AMOUNT_TOO_PRECISE.format(value=shown))
    return value.quantize(_CENT)


def _clean(text: str) -> str:
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in ("Cc", "Zl", "Zp"):
            kept.append(" ")  # newlines, tabs, NUL, …: separators at most
        elif category == "Cf":
            continue  # zero-width and bidi controls: invisible, and they can disguise a value
        else:
            kept.append(char)
    return " ".join("".join(kept).split())


def _tokenize(text: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(text):
        bare = match.group(5)
        if bare is None:
            quoted = next(g for g in match.groups()[:4] if g is not None)
            tokens.append(_Token(" ".join(quoted.split()), quoted=True))
        elif bare[0] in "\"“":
            raise _Invalid(messages.PARSE_UNCLOSED_QUOTE)
        else:
            tokens.append(_Token(bare, quoted=False))
    return tokens


def _joined(tokens: Sequence[_Token]) -> str:
    return " ".join(t.text for t in tokens if t.text)


def _options(tokens: Sequence[_Token], allowed: dict[str, str], command: str) -> dict[str, str]:
    """option name → raw value; values run to the next allowed keyword."""
    found: dict[str, str] = {}
    index = 0
    if tokens and tokens[0].word not in allowed:
        end = next((i for i, t in enumerate(tokens) if t.word in allowed), len(tokens))
        raise _Invalid(messages.PARSE_UNEXPECTED.format(text=messages.quote_value(_joined(tokens[:end])), command=command))
    while index < len(tokens):
        keyword = tokens[index].word
        name = allowed[keyword]
        end = next((i for i in range(index + 1, len(tokens)) if tokens[i].word in allowed), len(tokens))
        value = _joined(tokens[index + 1 : end])
        if not value:
            raise _Invalid(messages.PARSE_MISSING_VALUE.format(keyword=keyword, example=_OPTION_EXAMPLES[name]))
        if name in found:
            raise _Invalid(messages.PARSE_DUPLICATE_OPTION.format(keyword=keyword))
        found[name] = value
        index = end
    return found


def _amount_option(found: dict[str, str]) -> Decimal | None:
    if "min_amount" not in found:
        return None
    try:
        return parse_amount(found["min_amount"])
    except ValueError as problem:
        raise _Invalid(str(problem)) from None


def _kinds(tokens: Sequence[_Token]) -> set[str]:
    kinds: set[str] = set()
    for token in tokens:
        for part in token.text.split(","):
            word = part.strip().casefold()
            if not word or word in _KIND_SEPARATORS:
                continue
            word = _KIND_ALIASES.get(word, word)
            if word == "all":
                kinds.update(EVENT_KINDS)
            elif word in SUBSCRIBABLE_KINDS:
                kinds.add(word)
            else:
                raise _Invalid(messages.PARSE_KIND_UNKNOWN.format(kind=messages.quote_value(part.strip()), kinds=_KIND_LIST))
    return kinds


_KIND_LIST = ", ".join([*SUBSCRIBABLE_KINDS, "all"])


def _nothing_more(tokens: Sequence[_Token], command: str) -> None:
    if tokens:
        raise _Invalid(messages.PARSE_UNEXPECTED.format(text=messages.quote_value(_joined(tokens)), command=command))


def _pending_bills(rest: Sequence[_Token], _: str) -> Command:
    found = _options(rest, _BILL_OPTIONS, "show pending bills")
    return ShowPendingBills(vendor=found.get("vendor"), min_amount=_amount_option(found), department=found.get("department"))


def _bill(rest: Sequence[_Token], _: str) -> Command:
    ref = _joined(rest)
    ref = ref[1:].strip() if ref.startswith("#") else ref
    if not ref:
        raise _Invalid(messages.PARSE_BILL_MISSING)
    return ShowBill(ref)


def _vendor(rest: Sequence[_Token], _: str) -> Command:
    text = _joined(rest)
    if not text:
        raise _Invalid(messages.PARSE_VENDOR_MISSING)
    return ShowVendor(text)


def _payments(pending: bool) -> Callable[[Sequence[_Token], str], Command]:
    def build(rest: Sequence[_Token], _: str) -> Command:
        if not pending and len(rest) == 1 and rest[0].word == "pending":
            return ShowPayments(pending_only=True)
        if rest:
            raise _Invalid(messages.PARSE_PAYMENTS_OPTION.format(text=messages.quote_value(_joined(rest))))
        return ShowPayments(pending_only=pending)

    return build


def _exactly(command: Command, name: str) -> Callable[[Sequence[_Token], str], Command]:
    def build(rest: Sequence[_Token], _: str) -> Command:
        _nothing_more(rest, name)
        return command

    return build


def _help(rest: Sequence[_Token], _: str) -> Command:
    return ShowHelp()  # "help subscribe" still deserves the help card


def _subscribe(rest: Sequence[_Token], _: str) -> Command:
    end = next((i for i, t in enumerate(rest) if t.word in _SUBSCRIBE_OPTIONS), len(rest))
    kinds = _kinds(rest[:end])
    if not kinds:
        raise _Invalid(messages.PARSE_KINDS_MISSING.format(kinds=_KIND_LIST))
    found = _options(rest[end:], _SUBSCRIBE_OPTIONS, "subscribe")
    return Subscribe(
        kinds=frozenset(kinds),
        department=found.get("department"),
        location=found.get("location"),
        vendor=found.get("vendor"),
        min_amount=_amount_option(found),
        entity=found.get("entity"),
    )


def _unsubscribe(rest: Sequence[_Token], _: str) -> Command:
    if not rest or any(t.word == "all" for t in rest):
        return Unsubscribe(kinds=None)  # "all" here means everything, alerts included
    return Unsubscribe(kinds=frozenset(_kinds(rest)))


# Longest heads first, so "show bills due this week" is not read as something shorter.
_HEADS: tuple[tuple[tuple[str, ...], Callable[[Sequence[_Token], str], Command]], ...] = tuple(
    sorted(
        [
            (("show", "bills", "due", "this", "week"), _exactly(DueThisWeek(), "due this week")),
            (("bills", "due", "this", "week"), _exactly(DueThisWeek(), "due this week")),
            (("show", "due", "this", "week"), _exactly(DueThisWeek(), "due this week")),
            (("due", "this", "week"), _exactly(DueThisWeek(), "due this week")),
            (("show", "pending", "bills"), _pending_bills),
            (("pending", "bills"), _pending_bills),
            (("show", "pending", "payments"), _payments(pending=True)),
            (("pending", "payments"), _payments(pending=True)),
            (("show", "payments"), _payments(pending=False)),
            (("payments",), _payments(pending=False)),
            (("show", "bill"), _bill),
            (("bill",), _bill),
            (("show", "vendor"), _vendor),
            (("vendor",), _vendor),
            (("show", "status"), _exactly(ShowStatus(), "status")),
            (("status",), _exactly(ShowStatus(), "status")),
            (("list", "subscriptions"), _exactly(ListSubscriptions(), "subscriptions")),
            (("show", "subscriptions"), _exactly(ListSubscriptions(), "subscriptions")),
            (("subscriptions",), _exactly(ListSubscriptions(), "subscriptions")),
            (("subscribe",), _subscribe),
            (("unsubscribe",), _unsubscribe),
            (("show", "help"), _help),
            (("help",), _help),
            (("commands",), _help),
            (("?",), _help),
        ],
        key=lambda entry: -len(entry[0]),
    )
)
