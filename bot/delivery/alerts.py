"""Telling the operators' channel what the notifier could not deliver: gone channels, failed
cards, and posting paused because Teams refuses the bot.

An alert is an `AlertRaised` event fanned out to the routes subscribed to "alerts" and queued in
the outbox like any other event, so it is paced, retried and audited the same way. Repeats are
bounded: a gone channel is announced only by the call that switched its routes off (the store
counts, so across instances too), the same delivery failure at most once per `repeat_seconds`
per notifier, and a pause once (a revoked bot secret would refuse every card; operators need one
alert, not one per card).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Callable

from bot import messages as texts
from bot.delivery.policy import DeliveryPause
from poller.events import AlertKind, AlertRaised
from poller.routing import fan_out
from store.api import Store
from store.types import OutboxItem

log = logging.getLogger("mlc.notifier")

Clock = Callable[[], datetime]

_MAX_REMEMBERED = 1000  # throttled alert keys kept; beyond it the oldest are forgotten


class OperatorAlerts:
    """Queues the notifier's alerts for the "alerts" routes, without repeating itself."""

    def __init__(self, store: Store, clock: Clock, *, repeat_seconds: float) -> None:
        self._store = store
        self._clock = clock
        self._repeat = timedelta(seconds=repeat_seconds)
        self._last_sent: dict[tuple[str, str | None], datetime] = {}

    async def deactivate_channel(self, item: OutboxItem, *, reason: str, detail: str | None) -> bool:
        """Switch the channel's routes off with `reason`; when this call did it (not an earlier
        one, nor another instance), log it and alert the operators. Returns whether it did."""
        label = await self.channel_label(item.conversation_id)
        if not await self._store.set_routes_active(item.conversation_id, False, reason=reason):
            return False
        log.warning("channel %s stopped receiving cards: %s%s", item.conversation_id, reason, f" ({detail})" if detail else "")
        await self.raise_alert(
            AlertRaised(
                company=item.company,
                alert=AlertKind.CHANNEL_GONE,
                at=self._clock(),
                summary=texts.NOTIFIER_CHANNEL_GONE_SUMMARY.format(channel=label, reason=reason),
                detail=detail,
                subject=item.conversation_id,
            )
        )
        return True

    async def delivery_failed(
        self, item: OutboxItem, *, what: str, reason: str, detail: str | None, fix: str, key: str, per_channel: bool = True
    ) -> bool:
        """Alert that one card was given up on, unless the same `key` (per channel, or for every
        channel when `per_channel` is False) was alerted within `repeat_seconds`. Never for a
        row that is itself an alert: its failure would raise another, and so on."""
        if item.record_kind == "alert":
            return False
        now = self._clock()
        throttle_key = (key, item.conversation_id if per_channel else None)
        last = self._last_sent.get(throttle_key)
        if last is not None and now - last < self._repeat:
            return False
        self._remember(throttle_key, now)
        label = await self.channel_label(item.conversation_id)
        await self.raise_alert(
            AlertRaised(
                company=item.company,
                alert=AlertKind.DELIVERY_FAILED,
                at=now,
                summary=texts.NOTIFIER_FAILED_SUMMARY.format(channel=label, what=what, reason=reason),
                detail=detail,
                fix=fix,
                subject=item.conversation_id,
            )
        )
        return True

    async def delivery_paused(self, item: OutboxItem, pause: DeliveryPause, *, fix: str) -> bool:
        """Alert that Teams refuses the bot and posting is paused (once per pause, and at most once
        per `repeat_seconds` should pauses come and go). It waits in the outbox like every card, so
        operators read it once posting works again; until then the log line is the witness."""
        throttle_key = ("paused", None)
        last = self._last_sent.get(throttle_key)
        if last is not None and pause.since - last < self._repeat:
            return False
        self._remember(throttle_key, pause.since)
        await self.raise_alert(
            AlertRaised(
                company=item.company,
                alert=AlertKind.DELIVERY_PAUSED,
                at=pause.since,
                summary=texts.NOTIFIER_PAUSED_SUMMARY.format(reason=pause.reason),
                detail=pause.error,
                fix=fix,
                subject=None,
            )
        )
        return True

    async def raise_alert(self, alert: AlertRaised) -> int:
        """Queue `alert` for every active "alerts" route that wants its company; returns the rows
        queued. With no operators' channel subscribed the log is the only witness: say so."""
        routes = await self._store.list_routes(active_only=True)
        items = fan_out([alert], routes, now=alert.at, max_per_channel=1)  # alerts are never folded
        if not items:
            log.error("no channel is subscribed to alerts; operators not told: %s", alert.summary)
            return 0
        return await self._store.enqueue_outbox(items)

    async def channel_label(self, conversation_id: str) -> str:
        """The channel as people know it: its name from its routes when known, and its id."""
        names = [r.channel_name for r in await self._store.list_routes(conversation_id=conversation_id) if r.channel_name]
        return texts.NOTIFIER_CHANNEL.format(name=names[0], id=conversation_id) if names else conversation_id

    def _remember(self, key: tuple[str, str | None], now: datetime) -> None:
        self._last_sent[key] = now
        if len(self._last_sent) > _MAX_REMEMBERED:
            oldest = min(self._last_sent, key=self._last_sent.__getitem__)
            del self._last_sent[oldest]
