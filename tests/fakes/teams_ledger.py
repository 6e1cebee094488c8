"""What the fake Teams shows in a channel, read as an oracle: cards per Intacct record, their
versions, and the repeats a crash can cause.

A card names its record through its deep links: the sandbox's RECORD_URL carries an opaque token
that decodes to "OBJECT:RECORDNO" (sandbox/links.py), so a bill's card, updated in place
through every state change, is found by ("APBILL", record_no) without reading any of
ml-connector's own bookkeeping. A record's state is the last field of the card's fallback text
(`…, Posted`), which every bill and payment card ends with (cards/bills.py, cards/payments.py).

Duplicates, as Teams' users would see them: a second thread for the same record in the channel
(the same event posted twice), or the same version of a card sent twice in a row (an update
repeated after a crash: harmless on screen, but the event was still delivered twice).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Iterator
from urllib.parse import parse_qs, urlsplit

from sandbox.links import parse_record_token
from tests.fakes.bot_connector import ADAPTIVE_CARD, Call, FakeBotConnector, Message

Record = tuple[str, int]  # (Intacct object, RECORDNO)


def record_of(card: dict[str, Any] | None) -> Record | None:
    """The record a card is about: the one record its RECORD_URL links name (a digest or a
    summary card links several records and is about none of them)."""
    records = set()
    for url in _urls(card or {}):
        token = parse_qs(urlsplit(url).query).get(".r")
        parsed = parse_record_token(token[0]) if token else None
        if parsed is not None:
            records.add(parsed)
    return records.pop() if len(records) == 1 else None


def _urls(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") == "Action.OpenUrl" and isinstance(node.get("url"), str):
            yield node["url"]
        for value in node.values():
            yield from _urls(value)
    elif isinstance(node, list):
        for item in node:
            yield from _urls(item)


def fallback(version: dict[str, Any]) -> str:
    """The plain-text fallback of one version of a message (its first card's)."""
    for attachment in version.get("attachments") or []:
        content = attachment.get("content") or {}
        if isinstance(content.get("fallbackText"), str):
            return content["fallbackText"]
    return ""


def shown_state(version: dict[str, Any]) -> str:
    """The record state a bill or payment card shows: the last field of its fallback text."""
    return fallback(version).rsplit(", ", 1)[-1]


def vendor_shown(version: dict[str, Any]) -> tuple[str, str]:
    """(status, on hold) a vendor card ends with: the new side of `old → new` when both show."""
    text = fallback(version)
    status_part, _, hold_part = text.rpartition(", on hold ")
    status = status_part.rpartition(", status ")[2]
    return status.split(" → ")[-1], hold_part.split(" → ")[-1]


def repeated_versions(message: Message) -> int:
    """How many versions of a message repeat the one before them (an update sent twice)."""
    history = message.history
    return sum(1 for before, after in zip(history, history[1:]) if _card_of(before) == _card_of(after))


def _card_of(version: dict[str, Any]) -> Any:
    return [a.get("content") for a in version.get("attachments") or []]


@dataclass
class ChannelLedger:
    """The bot's thread roots in one channel, grouped by the record their card is about."""

    by_record: dict[Record, list[Message]]
    unattributed: list[Message]  # bot posts without a record (welcome, digest, summary, alerts)

    @classmethod
    def read(cls, fake: FakeBotConnector, channel_id: str) -> ChannelLedger:
        """Group what the fake holds for `channel_id` right now."""
        by_record: dict[Record, list[Message]] = defaultdict(list)
        other: list[Message] = []
        for message in fake.posts_in(channel_id):
            if not message.from_bot or message.deleted:  # a deleted message is gone from the channel
                continue
            record = record_of(message.card)
            (by_record[record] if record is not None else other).append(message)
        return cls(dict(by_record), other)

    def cards(self, record: Record) -> list[Message]:
        """The threads opened for one record (more than one is a duplicate post)."""
        return self.by_record.get(record, [])

    def latest(self, record: Record) -> dict[str, Any] | None:
        """What the channel shows of the record now: the current version of its most recently
        written card (after a duplicate post, later changes update the newer thread; the older
        one is the duplicate). None when the record has no card."""
        cards = self.cards(record)
        if not cards:
            return None
        return max(cards, key=lambda m: (m.updated_at or m.posted_at, m.posted_at)).payload

    def records(self, object_name: str) -> set[int]:
        """Record numbers of one object that have a card."""
        return {no for (obj, no) in self.by_record if obj == object_name}

    def duplicate_posts(self, records: Iterable[Record] | None = None) -> int:
        """Threads beyond the first per record."""
        keys = self.by_record if records is None else records
        return sum(max(0, len(self.cards(r)) - 1) for r in keys)

    def duplicate_updates(self) -> int:
        """Versions that repeat the version before them, over every card."""
        return sum(repeated_versions(m) for cards in self.by_record.values() for m in cards)



@dataclass(frozen=True)
class Repeat:
    """A card that reached Teams twice: `kind` "post" (a second thread for the record) or
    "update" (the same version again); when the first and the repeated write arrived."""

    record: Record
    kind: str
    first_at: datetime
    again_at: datetime


def written_card(call: Call) -> tuple[Record | None, list[Any], dict[str, Any]]:
    """(record, cards, activity) of a create or update request the fake recorded."""
    body = call.body if isinstance(call.body, dict) else {}
    activity = (body.get("activity") if call.operation == "create" else body) or {}
    cards = [a.get("content") for a in activity.get("attachments") or [] if a.get("contentType") == ADAPTIVE_CARD]
    return record_of(cards[0] if cards else None), cards, activity


def repeated_writes(fake: FakeBotConnector, channel_id: str) -> list[Repeat]:
    """Every duplicate in a channel, from the fake's request log, with when its original came."""
    found: list[Repeat] = []
    current: dict[Record, tuple[Any, datetime]] = {}
    for call in fake.calls:
        if call.operation not in ("create", "update") or call.status >= 300:
            continue
        if (call.conversation_id or "").partition(";")[0] != channel_id:
            continue
        record, cards, _ = written_card(call)
        if record is None:
            continue
        before = current.get(record)
        if before is not None and call.operation == "create":
            found.append(Repeat(record, "post", before[1], call.at))
        elif before is not None and call.operation == "update" and before[0] == cards:
            found.append(Repeat(record, "update", before[1], call.at))
        current[record] = (cards, call.at)
    return found
