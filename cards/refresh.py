"""The refresh every bill, payment and vendor card carries, added in one place: `with_refresh`.

A card's `refresh` (Adaptive Cards 1.4+, Universal Actions) holds an `Action.Execute`; Teams sends
it to the bot as an `adaptiveCard/action` invoke whose `value.action` is a copy of that action
(`verb`, `data`) and `value.trigger` is "automatic" or "manual" (MicrosoftDocs/AdaptiveCards,
authoring-cards/universal-action-model.md, "Request format"). The bot answers with the record's
current card. Teams' rules for `refresh.userIds` (learn.microsoft.com, "Work with Universal
Actions for Adaptive Cards", section "User IDs in refresh"):

- `userIds` lists the user MRIs (`29:…` or `8:orgid:<AAD id>`) whose client refreshes the card by
  itself when it is shown, at most 60 (MAX_AUTO_REFRESH_USERS);
- `userIds: []` refreshes nobody automatically: Teams offers "Refresh card" in the message's
  "…" menu (long press on a phone), which sends the same invoke with trigger "manual";
- leaving `userIds` out makes Teams refresh the card for everyone in a chat or channel of at
  most 60 members, on every view: never done here, since each refresh reads Intacct.

So a card posted into a channel refreshes by hand only (`user_ids=()`), and a card made for one
person (a search result, an unfurled link, a command's answer) refreshes by itself for that person.
The action's data names the record and the card's view, plus the fingerprint of the record's
version the card shows (its WHENMODIFIED and the fields whose change matters): the bot compares
it with the record's current one to know whether a posted message needs updating in place. (Not
the card's own bytes: "overdue by 3 days" becoming "4 days" is no reason to rewrite a channel.)
The schema's `Refresh` object (adaptive-card 1.5 schema, definitions.Refresh) allows exactly
`action` and `userIds` besides `type`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cards import texts
from cards.elements import Card
from intacct.bills import Bill
from intacct.payments import Payment
from intacct.vendors import Vendor

REFRESH_VERB = "mlcRefresh"
DATA_VERSION = 1
RECORD_KINDS = ("bill", "payment", "vendor")
NOTICE = "notice"  # the card the notifier posted for a change (refreshes by hand in its channel)
DETAIL = "detail"  # a card made for a person: a search result, an unfurled link, `show bill`, `show vendor`
VIEWS = (NOTICE, DETAIL)
MAX_AUTO_REFRESH_USERS = 60  # Teams: at most 60 user MRIs in refresh.userIds
MAX_USER_ID_LENGTH = 256
MAX_COMPANY_KEY_LENGTH = 100
REFRESH_RESERVE = 512  # bytes a refresh adds at most without auto-refresh users (a 100-character company key)
MAX_RECORD_NO = 2**53 - 1  # survives a round trip through any JSON parser (Teams' clients are JavaScript)
_FINGERPRINT = re.compile(r"[0-9a-f]{16}")
_DATA_KEYS = frozenset({"v", "company", "kind", "record", "view", "fp"})


@dataclass(frozen=True, slots=True)
class RecordRef:
    """The record a card shows: company key, kind (bill, payment, vendor), RECORDNO, and the card's view."""

    company: str
    kind: str
    record_no: int
    view: str = DETAIL

    def __post_init__(self) -> None:
        if self.kind not in RECORD_KINDS or self.view not in VIEWS:
            raise ValueError(f"no refresh for a {self.kind!r} card in view {self.view!r}")
        if not isinstance(self.record_no, int) or isinstance(self.record_no, bool) or not 0 < self.record_no <= MAX_RECORD_NO:
            raise ValueError(f"not a RECORDNO: {self.record_no!r}")
        if not self.company or len(self.company) > MAX_COMPANY_KEY_LENGTH:
            raise ValueError("a company key of 1 to 100 characters is needed")


@dataclass(frozen=True, slots=True)
class RefreshRequest:
    """What a refresh invoke asks for: the record and view, and the fingerprint of the card it came from."""

    ref: RecordRef
    fingerprint: str


def record_fingerprint(record: Bill | Payment | Vendor) -> str:
    """A short digest of a record's version: its WHENMODIFIED and the fields whose change a card
    must show (state, amounts, due and paid dates; a vendor's status and hold)."""
    if isinstance(record, Bill):
        parts: tuple[Any, ...] = (record.state, record.total_entered, record.total_due, record.total_paid, record.due_date, record.paid_date)
    elif isinstance(record, Payment):
        parts = (record.state, record.amount, record.amount_paid, record.amount_due, record.paid_date)
    else:
        parts = (record.status, record.on_hold)
    canonical = json.dumps([record.record_no, record.when_modified, *parts], default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def with_refresh(card: Card, ref: RecordRef, record: Bill | Payment | Vendor, *, user_ids: Sequence[str] = ()) -> Card:
    """A copy of `card` with its refresh: Action.Execute for the record in `ref` (`record` being the
    version the card shows), refreshed by itself for `user_ids` (at most 60), by hand for everyone else."""
    users = list(dict.fromkeys(user_ids))
    if len(users) > MAX_AUTO_REFRESH_USERS:
        raise ValueError(f"Teams refreshes a card by itself for at most {MAX_AUTO_REFRESH_USERS} users")
    if any(not isinstance(user, str) or not user or len(user) > MAX_USER_ID_LENGTH for user in users):
        raise ValueError("user ids must be Teams user MRIs (non-empty strings)")
    data = {"v": DATA_VERSION, "company": ref.company, "kind": ref.kind, "record": ref.record_no, "view": ref.view,
            "fp": record_fingerprint(record)}  # fmt: skip
    action = {"type": "Action.Execute", "title": texts.REFRESH, "verb": REFRESH_VERB, "data": data}
    refreshed = {key: value for key, value in card.items() if key != "refresh"}
    refreshed["refresh"] = {"action": action, "userIds": users}
    return refreshed


def refresh_request(verb: object, data: object) -> RefreshRequest | None:
    """The refresh an invoke's action asks for, or None when it is not one of ours (another verb,
    data of another shape or version, a value out of range). Input from the network: every field
    is checked, nothing else is accepted."""
    if verb != REFRESH_VERB or not isinstance(data, Mapping) or set(data) != _DATA_KEYS or data.get("v") != DATA_VERSION:
        return None
    company, kind, record, view, fp = (data[key] for key in ("company", "kind", "record", "view", "fp"))
    if not isinstance(company, str) or not isinstance(fp, str) or not _FINGERPRINT.fullmatch(fp):
        return None
    try:
        return RefreshRequest(RecordRef(company, kind, record, view), fp)
    except (TypeError, ValueError):
        return None


def refresh_of(card: Mapping[str, Any]) -> RefreshRequest | None:
    """The refresh a card carries (tests, in-place updates), or None."""
    action = (card.get("refresh") or {}).get("action") or {}
    return refresh_request(action.get("verb"), action.get("data"))
