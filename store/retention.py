"""Keeping the database small over months: finished outbox rows are removed after a retention.

Every card the notifier delivers leaves its outbox row behind, payload included (a bill with its
lines: a few KB). What became of each card stays in the audit trail and where it sits in the
posted cards, so a delivered or failed row older than the retention serves nobody. The job runs
daily (`PRUNE_SCHEDULE`); on several instances each runs it, which is harmless.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Callable

from store.api import Store, StoreError

log = logging.getLogger("mlc.store")

PRUNE_SCHEDULE = "30 3 * * *"  # daily, at night in UTC


async def prune_finished_outbox(store: Store, clock: Callable[[], datetime], *, retention_days: int) -> int:
    """Remove outbox rows delivered or failed more than `retention_days` ago; returns how many
    (0 when the store is unreachable: logged, and tried again the next day)."""
    try:
        removed = await store.prune_outbox(finished_before=clock() - timedelta(days=retention_days))
    except StoreError as exc:
        log.error("outbox: removing rows finished over %d days ago failed (tried again tomorrow): %s", retention_days, exc)
        return 0
    if removed:
        log.info("outbox: removed %d delivered or failed rows finished over %d days ago (the audit trail keeps them)",
                 removed, retention_days)
    return removed
