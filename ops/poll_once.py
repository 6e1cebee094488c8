"""`python app.py poll --once`: one poll cycle per company, its events printed, its leases given back.

Each company's poll takes the company's lease like `serve` does (so it never polls beside a
running instance) and gives it back as soon as its cycle ends, so the next `poll --once`, or a
`serve` instance, polls at once. A company whose lease another instance holds is skipped and the
holder is named; a failed poll prints its own error and fix. Exit code: 1 when a poll failed,
else 3 when one was skipped, else 0 (ops/cli.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Sequence, TextIO

from bot.context import CompanyContext
from cards.dispatch import card_for_event
from ops import messages
from ops.cli import CommandError, ExitCode
from poller.coordinator import LEASE_HELD, CycleOutcome, PollCoordinator
from store.api import Store


@dataclass(frozen=True)
class PollTarget:
    """One configured company: its key, its poller and what its cards need (links, local date)."""

    key: str
    coordinator: PollCoordinator
    context: CompanyContext


async def refuse_backfill_after_baseline(store: Store, keys: Sequence[str]) -> None:
    """--backfill-since only shapes a company's first poll: refuse it (exit 2) when a company was polled before."""
    polled = [key for key in keys if await store.has_baseline(key)]
    if polled:
        raise CommandError(messages.POLL_BACKFILL_AFTER_BASELINE.format(companies=", ".join(polled)), ExitCode.USAGE)


async def poll_once(targets: Sequence[PollTarget], *, clock: Callable[[], datetime], dry_run: bool, as_json: bool,
                    out: TextIO, err: TextIO) -> ExitCode:
    """Poll every company once; events on `out` (text or JSON lines), one summary line per company on `err`."""
    failed = skipped = False
    for target in targets:
        try:
            outcome = await target.coordinator.poll(dry_run=dry_run)
        finally:
            await target.coordinator.release_lease()  # ours only; a dry run never took it
        failed |= outcome.error is not None
        skipped |= outcome.skipped == LEASE_HELD
        zone = await target.context.zone(ask=False) if dry_run and outcome.events else None  # the AP team's zone, as on the cards posted
        for event in outcome.events:
            card = card_for_event(event, links=target.context.links, zone=zone, now=clock()) if dry_run else None
            print(_event_line(event, card, as_json), file=out)
        print(summary(target.key, outcome), file=err)
    return ExitCode.FAILED if failed else ExitCode.SKIPPED if skipped else ExitCode.OK


def summary(key: str, outcome: CycleOutcome) -> str:
    """The one line that says how a company's poll went."""
    if outcome.skipped == LEASE_HELD:
        if outcome.lease_holder is None:
            return messages.POLL_SKIPPED_LEASE_ENDED.format(company=key)
        until = (outcome.lease_until or datetime.now(timezone.utc)).astimezone(timezone.utc)
        return messages.POLL_SKIPPED_LEASE.format(company=key, holder=outcome.lease_holder,
                                                  until=until.strftime("%Y-%m-%d %H:%M:%S UTC"))
    if outcome.error is not None:
        return messages.POLL_FAILED.format(company=key, error=outcome.error, fix=outcome.fix or messages.POLL_FIX_DEFAULT)
    return messages.POLL_OK.format(company=key, events=len(outcome.events), requests=outcome.requests,
                                   functions=outcome.functions)


def _event_line(event, card: dict | None, as_json: bool) -> str:
    if as_json:
        line = {"kind": type(event).__name__, "key": event.key, "company": event.company, "record_no": event.record_no}
        if card is not None:
            line["card"] = card
        return json.dumps(line, default=str)
    text = messages.POLL_EVENT.format(company=event.company, kind=type(event).__name__, key=event.key)
    return text if card is None else f"{text}\n{json.dumps(card, indent=2, ensure_ascii=False, default=str)}"
