"""`python app.py audit`: the audit trail as CSV or JSON (an array, one entry per line)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict
from datetime import date, datetime, time, timezone
from typing import Iterable

from ops import messages
from ops.cli import CommandError, ExitCode
from store.types import AuditEntry

COLUMNS = ("at", "action", "outcome", "company", "event_key", "record_kind", "record_no", "conversation_id", "activity_id", "error")


def parse_moment(text: str, option: str) -> datetime:
    """`2026-11-01`, `2026-11-01T08:00`, or `2026-11-01T08:00+01:00` → aware UTC (dates are UTC midnight);
    anything else is a usage error naming `option` (--since or --until)."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(messages.AUDIT_BAD_MOMENT.format(option=option, text=text), ExitCode.USAGE) from None
    if len(text.strip()) == 10:
        moment = datetime.combine(date.fromisoformat(text.strip()), time(0))
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def parse_range(since: str | None, until: str | None) -> tuple[datetime | None, datetime | None]:
    """--since and --until as aware UTC moments; a range that ends before it starts is a usage error."""
    start = parse_moment(since, "--since") if since is not None else None
    end = parse_moment(until, "--until") if until is not None else None
    if start is not None and end is not None and end < start:
        raise CommandError(messages.AUDIT_EMPTY_RANGE.format(since=since, until=until), ExitCode.USAGE)
    return start, end


def _row(entry: AuditEntry) -> dict:
    data = asdict(entry)
    data["at"] = entry.at.isoformat()
    return {column: data[column] for column in COLUMNS}


def to_csv(entries: Iterable[AuditEntry]) -> str:
    """RFC 4180 CSV with a header row."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for entry in entries:
        writer.writerow({k: ("" if v is None else v) for k, v in _row(entry).items()})
    return buffer.getvalue()


def to_json(entries: Iterable[AuditEntry]) -> str:
    """A JSON array with one entry per line (valid JSON that line tools can still read)."""
    rows = [json.dumps(_row(entry), ensure_ascii=False) for entry in entries]
    return "[\n" + ",\n".join(rows) + ("\n" if rows else "") + "]\n"
