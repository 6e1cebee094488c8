"""One outbox row into Teams: prepare it (decode, build the card, commit "sending"), send it
(paced, retried, shrunk, re-posted), and record the outcome (store, audit, metrics, log, alerts).

The notifier's lanes call `prepare` then `send` for each row of a channel, in order. What is
decided here comes from bot/delivery/policy.py; the contract (at most once, order, crash
trade-offs) is in bot/delivery/notifier.py's docstring.

A refusal of the bot itself (401, no token) pauses posting for every channel instead of failing
cards: the refused row and every row that comes up meanwhile go back to pending (with the attempt
taken back: a 401 posts nothing), until `DeliveryPause.until`; then one row probes, and the first
card Teams takes ends the pause. `pause` tells the status view.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from functools import cached_property
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable, Mapping, Sequence

from bot import messages as texts
from bot.teams.connector import PostedMessage, TeamsConnector, thread_reference
from bot.context import BotContext, CompanyContext
from bot.delivery.alerts import OperatorAlerts
from bot.delivery.policy import (
    Action,
    DeliveryPause,
    DeliveryPolicy,
    Verdict,
    choose_action,
    classify,
    keeps_card,
    may_have_card,
    pause_delivery,
    retry_delay,
)
from bot.teams.errors import BadArgumentError, ConnectorError, InvalidBotApiHostError
from bot.pacing import ConversationPacer, Write
from bot.delivery.store_writes import StoreWrites
from cards.alerts import alert_view, build_alert_card
from cards.dispatch import card_for_event, shrink_card
from cards.elements import card_size
from cards.errors import CardTooLargeError
from intacct.company import UTC_ZONE, TeamZone
from poller.codec import event_from_payload
from poller.events import AlertRaised, Event
from poller.routing import describe
from store.api import Store
from store.types import AuditEntry, ConversationRecord, Delivery, OutboxItem, PostedCard

log = logging.getLogger("mlc.notifier")

Claims = Mapping[int, datetime]  # row id → when this holder's claim on it expires


@dataclass
class DrainReport:
    """What one drain did."""

    claimed: int = 0
    posted: int = 0
    updated: int = 0
    skipped: int = 0  # details-only changes with no card to update
    shrunk: int = 0  # of the posts and updates, those sent smaller after a 413
    throttled: int = 0  # 429 answers
    retried: int = 0  # rows given back to be tried later (their own failure, or their channel's)
    failed: int = 0  # rows given up on (gone channel, refusal, retries exhausted)
    lost: int = 0  # claims that expired or went to another holder before the send
    paused: int = 0  # rows kept pending because Teams refuses the bot (see Deliverer.pause)
    errors: list[str] = field(default_factory=list)  # store or internal failures (the row waits)

    @property
    def delivered(self) -> int:
        """Rows finished successfully (posted, updated or skipped)."""
        return self.posted + self.updated + self.skipped


@dataclass
class Channel:
    """A lane's target: the stored reference, and whether the channel is gone or backing off."""

    conversation_id: str
    record: ConversationRecord | None
    gone_reason: str | None = None
    deactivated: bool = False
    hold_until: datetime | None = None
    hold_error: str = ""

    @property
    def reference(self) -> Mapping[str, Any]:
        """The channel's conversation reference (wire JSON)."""
        assert self.record is not None  # a channel without one is gone before any send
        return self.record.reference

    @cached_property
    def tenant_id(self) -> str | None:
        """The tenant Teams counts the channel's requests against (read once: the pacer asks
        for every row, and the record does not change while a lane holds it)."""
        if self.record is None:
            return None
        conversation = self.record.reference.get("conversation")
        from_reference = conversation.get("tenantId") if isinstance(conversation, Mapping) else None
        return self.record.tenant_id or from_reference

    @property
    def stamp(self) -> tuple[Any, ...]:
        """Identifies the stored reference: a new one (bot reinstalled) lets sends resume."""
        return (self.record.updated_at, self.record.service_url) if self.record is not None else (None, None)


@dataclass
class Ready:
    """A row prepared for sending: decoded, its card built, its first try committed as "sending"."""

    item: OutboxItem
    event: Event
    company: CompanyContext | None
    action: Action
    posted: PostedCard | None
    card: dict[str, Any]
    tries: int = 0  # "sending" commits made by this holder (each one counts as an attempt)
    shrink_step: int = 0
    zone: TeamZone = UTC_ZONE  # the AP team's zone the card was built in (a shrunk card keeps it)
    company_name: str | None = None


class Deliverer:
    """Prepares, sends and records rows; remembers per channel, across drains, which are held
    back, which answered "gone" and which keep failing (for one log line per state change)."""

    def __init__(
        self,
        context: BotContext,
        store: Store,
        connector: TeamsConnector,
        pacer: ConversationPacer,
        *,
        holder: str,
        jitter: Callable[[], float],
        max_attempts: int,
        policy: DeliveryPolicy,
        stopping: asyncio.Event,
    ) -> None:
        self._context = context
        self._store = store
        self._clock = context.clock
        self._metrics = context.metrics
        self._connector = connector
        self._pacer = pacer
        self._jitter = jitter
        self._max_attempts = max_attempts
        self._policy = policy
        self._stopping = stopping
        self._alerts = OperatorAlerts(store, context.clock, repeat_seconds=policy.alert_repeat_seconds)
        self._writes = StoreWrites(store, holder, context.clock)
        self._held: dict[str, tuple[datetime, str]] = {}
        self._gone: dict[str, tuple[tuple[Any, ...], str]] = {}
        self._failing: dict[str, int] = {}
        self._pause: DeliveryPause | None = None
        self._probe: tuple[int, asyncio.Event] | None = None  # the row probing a pause, and its answer

    # --- pause (Teams refuses the bot itself) --------------------------------------------------------
    @property
    def pause(self) -> DeliveryPause | None:
        """Why and until when posting is paused; None while Teams accepts the bot."""
        return self._pause

    def paused_at(self, now: datetime) -> bool:
        """Whether no card may be sent at `now` (the notifier then claims nothing)."""
        return self._pause is not None and now < self._pause.until

    # --- channels ------------------------------------------------------------------------------
    async def open_channels(self, conversation_ids: Sequence[str]) -> dict[str, Channel]:
        """The channels' stored references (one read for all) and what this notifier knows of them."""
        records = await self._store.get_conversations(conversation_ids)
        return {cid: self._channel(cid, records.get(cid)) for cid in conversation_ids}

    def _channel(self, conversation_id: str, record: ConversationRecord | None) -> Channel:
        now = self._clock()
        channel = Channel(conversation_id, record)
        gone = self._gone.get(conversation_id)
        if channel.record is None or not channel.record.reference:
            channel.gone_reason = texts.NOTIFIER_NO_REFERENCE
        elif gone is not None and gone[0] == channel.stamp:
            channel.gone_reason, channel.deactivated = gone[1], True
        elif gone is not None:
            del self._gone[conversation_id]  # a fresh reference (bot reinstalled): try again
        held = self._held.get(conversation_id)
        if held is not None and held[0] > now:
            channel.hold_until, channel.hold_error = held
        elif held is not None:
            del self._held[conversation_id]
        return channel

    # --- one row -------------------------------------------------------------------------------
    async def prepare(self, item: OutboxItem, channel: Channel, claims: Claims, report: DrainReport) -> Ready | None:
        """Everything before the network: None when the row was settled here (skipped, failed,
        given back) or its claim is lost; else a Ready row, committed as "sending"."""
        if await self._settled_by_channel(item, channel, report):
            return None
        now = self._clock()
        try:
            event = event_from_payload(dict(item.payload))
        except (ValueError, KeyError, TypeError) as exc:
            await self.give_up(item, None, report, action="failure", error=f"undecodable payload: {_describe(exc)}",
                               reason=texts.NOTIFIER_REASON_UNREADABLE, fix=texts.NOTIFIER_FIX_DEFAULT, key="unreadable")
            return None
        company = self._context.companies.get(item.company)
        if company is None and not isinstance(event, AlertRaised):
            reason = texts.NOTIFIER_REASON_NO_COMPANY.format(company=item.company)
            await self.give_up(item, event, report, action="failure", error=reason, reason=reason,
                               fix=texts.NOTIFIER_FIX_DEFAULT, key="no-company", per_channel=False)
            return None
        posted = None
        if may_have_card(event, item.attempts):
            posted = await self._store.get_posted_card(item.company, item.record_kind, item.record_no, item.conversation_id)
        action = choose_action(event, card_posted=posted is not None)
        if action is Action.SKIP:
            await self._writes.record_delivery(Delivery(item.id, now, None, None, _audit_entry(item, "skip", "skipped", now)))
            self._metrics.deliveries.labels("skip", "skipped").inc()
            report.skipped += 1
            log.debug("skipped %s for %s: details changed, no card to update", item.event_key, item.conversation_id)
            return None
        zone = await company.zone(ask=False) if company is not None else UTC_ZONE
        names = await company.known_name() if company is not None else None
        try:
            card = _render(event, company, now, zone, names)
        except Exception as exc:  # noqa: BLE001 - CardTooLargeError or a builder bug: the row cannot be shown
            await self.give_up(item, event, report, action=action.value, error=_describe(exc),
                               reason=texts.NOTIFIER_REASON_CARD, fix=texts.NOTIFIER_FIX_DEFAULT, key="card")
            return None
        ready = Ready(item, event, company, action, posted, card, zone=zone, company_name=names)
        return ready if await self._mark_sending(ready, channel, claims, report) else None

    async def send(self, ready: Ready, channel: Channel, claims: Claims, report: DrainReport) -> Awaitable[None] | None:
        """Send a prepared row (paced) and act on Teams' answer; returns the bookkeeping still to
        commit after a success (the lane goes on meanwhile), or None when the row is settled.

        Another lane may have met a refusal of the bot while this row was being committed as
        "sending", so the pause (and stopping) is looked at again first; a row kept back then
        is given back with that attempt taken back. Once a pause's time is up, the first row
        to get here probes whether Teams accepts the bot again, and the others wait for its
        answer."""
        item = ready.item
        try:
            if await self._settled_by_channel(item, channel, report, marked=True):
                return None
            marked = True
            while True:
                if not marked and not await self._mark_sending(ready, channel, claims, report):
                    return None
                marked = False
                if not self._claim_allows(claims, item, channel):
                    await self._give_back(item, channel, report, marked=True)
                    return None
                write = await self._acquire(channel)
                if write is None:
                    await self._release(item, report, not_before=self._clock(), error=texts.NOTIFIER_RELEASED_AT_STOP,
                                        marked=True)
                    return None
                try:
                    try:
                        message = await self._transmit(ready, channel)
                    finally:
                        self._pacer.sent(write)  # Teams has counted it by now, if at all
                except ConnectorError as error:
                    if await self._after_failure(ready, channel, claims, report, error):
                        continue
                    return None
                if self._pause is not None:
                    self._resume()
                return self._delivered(ready, report, message)
        finally:
            self._end_probe(item)

    async def _transmit(self, ready: Ready, channel: Channel) -> PostedMessage:
        if ready.action is Action.POST:
            return await self._connector.create_thread(channel.reference, ready.card, text_fallback=_fallback(ready.card))
        posted = ready.posted
        assert posted is not None
        reference = thread_reference(channel.reference, posted.thread_conversation_id)
        await self._connector.update_card(reference, posted.activity_id, ready.card, text_fallback=_fallback(ready.card))
        return PostedMessage(posted.thread_conversation_id, posted.activity_id)

    async def _after_failure(self, ready: Ready, channel: Channel, claims: Claims, report: DrainReport, error: ConnectorError) -> bool:
        """Act on a failed send; True to try again at once (a new "sending" commit first)."""
        item, action = ready.item, ready.action
        attempts = item.attempts + ready.tries
        verdict = classify(error)
        now = self._clock()
        if verdict is Verdict.PAUSE:
            await self._pause_delivery(ready, report, error)
            return False
        if verdict is Verdict.CARD_GONE and ready.posted is not None:
            # Someone deleted the message: forget it and post the card anew.
            await self._store.forget_posted_card(item.company, item.record_kind, item.record_no, item.conversation_id)
            await self._store.append_audit(
                _audit_entry(item, "update", "gone", now, activity_id=ready.posted.activity_id, error=str(error))
            )
            self._metrics.deliveries.labels("update", "gone").inc()
            ready.posted, ready.action = None, Action.POST
            return True
        if verdict is Verdict.SHRINK:
            ready.shrink_step += 1
            try:
                ready.card = _render(ready.event, ready.company, now, ready.zone, ready.company_name,
                                     shrink_step=ready.shrink_step, refused_size=card_size(ready.card))
            except CardTooLargeError as exc:
                await self.give_up(item, ready.event, report, action=action.value, error=f"{error}; {exc}",
                                   reason=texts.NOTIFIER_REASON_TOO_LARGE, fix=texts.NOTIFIER_FIX_DEFAULT, key="too-large")
                return False
            return True
        if verdict in (Verdict.THROTTLED, Verdict.RETRY):
            delay = retry_delay(error, attempts, self._policy, self._jitter)
            if verdict is Verdict.THROTTLED:
                report.throttled += 1
                self._metrics.deliveries.labels(action.value, "throttled").inc()
                self._pacer.penalize(item.conversation_id, delay)
            if attempts >= self._max_attempts:
                await self.give_up(item, ready.event, report, action=action.value, error=str(error),
                                   reason=texts.NOTIFIER_REASON_RETRIES.format(attempts=attempts),
                                   fix=texts.NOTIFIER_FIX_RETRIES, key="retries")
                return False
            if verdict is Verdict.THROTTLED and _claim_left(claims, item, now) - delay >= self._policy.send_budget_seconds:
                return True  # keep the claim: the pacer waits out the penalty before the next try
            await self._retry_later(item, channel, report, action, error, delay)
            return False
        if verdict is Verdict.ROUTE_GONE:
            await self._route_gone(item, channel, report, action, error)
            return False
        reason, fix, key, per_channel = _refusal(error)
        await self.give_up(item, ready.event, report, action=action.value, error=str(error), reason=reason, fix=fix,
                           key=key, per_channel=per_channel)
        return False

    # --- claims, pacing, "sending" ---------------------------------------------------------------
    def _claim_allows(self, claims: Claims, item: OutboxItem, channel: Channel) -> bool:
        """Whether the pacer's wait plus a send fit in what is left of the claim (else another
        holder may take the row when the claim expires, and send it too)."""
        wait = self._pacer.delay_for(item.conversation_id, tenant_id=channel.tenant_id)
        return _claim_left(claims, item, self._clock()) - wait >= self._policy.send_budget_seconds

    async def _give_back(self, item: OutboxItem, channel: Channel, report: DrainReport, *, marked: bool) -> None:
        """Release a row whose pacer wait outlasts its claim, due when the pacer will allow it."""
        wait = self._pacer.delay_for(item.conversation_id, tenant_id=channel.tenant_id)
        await self._release(item, report, not_before=self._clock() + timedelta(seconds=wait),
                            error=texts.NOTIFIER_WAITING_PACER, marked=marked)

    async def _release(
        self, item: OutboxItem, report: DrainReport, *, not_before: datetime, error: str, marked: bool, paused: bool = False
    ) -> None:
        """Give a row back unsent, due at `not_before`; a row committed as "sending" gets that
        attempt back (it certainly did not go out). An earlier failure stays its last error."""
        if marked:
            await self._store.mark_unsent(item.id, not_before=not_before, error=item.last_error or error)
        else:
            await self._store.mark_retry(item.id, not_before=not_before, error=item.last_error or error)
        if paused:
            report.paused += 1
        else:
            report.retried += 1

    async def _mark_sending(self, ready: Ready, channel: Channel, claims: Claims, report: DrainReport) -> bool:
        """Commit "sending" (one attempt) unless the claim cannot cover the wait and the send.

        It is committed BEFORE the pacer's grant, so only the HTTP call lies between the grant
        and the moment Teams counts the request (a commit can be slow under load, and a request
        arriving late inside Teams' window is a 429). A row then not sent because the notifier
        stops is given back and counts one attempt it did not use; one that a crash leaves in
        "sending" is sent by the next holder, as a row that may have been sent.
        """
        item = ready.item
        if not self._claim_allows(claims, item, channel):
            await self._give_back(item, channel, report, marked=False)
            return False
        if not await self._writes.mark_sending(item.id):
            report.lost += 1
            log.debug("row %s: claim lost before sending (expired or taken by another instance)", item.id)
            return False
        ready.tries += 1
        return True

    async def _acquire(self, channel: Channel) -> Write | None:
        """The pacer's grant of a write to the channel; None when the notifier stops first."""
        if self._stopping.is_set():
            return None
        acquire = asyncio.ensure_future(self._pacer.reserve(channel.conversation_id, tenant_id=channel.tenant_id))
        stopped = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({acquire, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not acquire.done():
                acquire.cancel()  # safe: nothing was sent, and the pacer records a slot only when granted
            await asyncio.gather(acquire, stopped, return_exceptions=True)
        if acquire.cancelled():
            return None
        return acquire.result()  # re-raises a pacer failure

    async def _settled_by_channel(self, item: OutboxItem, channel: Channel, report: DrainReport, *, marked: bool = False) -> bool:
        """Settle a row without sending when the notifier stops, its channel is gone or held
        back, or posting is paused; `marked`: the row is committed as "sending" (then it may
        have to wait for a probe's answer, see `send`)."""
        if self._stopping.is_set():
            await self._release(item, report, not_before=self._clock(), error=texts.NOTIFIER_RELEASED_AT_STOP, marked=marked)
        elif channel.gone_reason is not None:
            await self._fail_gone(item, channel, report)
        elif (paused_until := await self._paused_until(item, wait=marked)) is not None:
            assert self._pause is not None
            await self._release(item, report, not_before=paused_until,
                                error=texts.NOTIFIER_PAUSED.format(reason=self._pause.reason), marked=marked, paused=True)
        elif channel.hold_until is not None:
            await self._release(item, report, not_before=channel.hold_until, error=channel.hold_error, marked=marked)
        else:
            return False
        return True

    async def _paused_until(self, item: OutboxItem, *, wait: bool) -> datetime | None:
        """When a paused row may go (None: now). Once the pause's time is up, the first row about
        to be sent (`wait`) probes; the others wait for its answer, then look again."""
        while self._pause is not None:
            if self._clock() < self._pause.until:
                return self._pause.until
            if not wait:
                return None  # prepared rows go on; the probe is chosen among rows about to be sent
            if self._probe is None or self._probe[0] == item.id:
                self._probe = (item.id, self._probe[1] if self._probe else asyncio.Event())
                return None
            await self._probe[1].wait()
        return None

    def _end_probe(self, item: OutboxItem) -> None:
        """The probing row is settled: wake the rows that wait for its answer. They find the
        pause over (Teams took the card), longer (refused again), or still due: the probe met
        another failure (a 503, a gone channel) or was given back unsent, which proves nothing
        either way, so the next row probes."""
        if self._probe is not None and self._probe[0] == item.id:
            self._probe[1].set()
            self._probe = None

    async def _pause_delivery(self, ready: Ready, report: DrainReport, error: ConnectorError) -> None:
        """Teams refused the bot: keep the row pending (its attempt taken back: a 401 posts
        nothing), and pause posting. Logged and alerted once per pause; probes are logged at debug."""
        item, now = ready.item, self._clock()
        first = self._pause is None
        self._pause = pause_delivery(self._pause, reason=texts.NOTIFIER_REASON_CREDENTIALS, error=str(error),
                                     now=now, policy=self._policy, jitter=self._jitter)
        self._metrics.delivery_paused.set(1)
        await self._store.mark_unsent(item.id, not_before=self._pause.until, error=str(error))
        report.paused += 1
        self._metrics.deliveries.labels(ready.action.value, "paused").inc()
        if first:
            log.error("Teams refused the bot (%s): posting paused, no card is dropped; next try at %s",
                      error, self._pause.until.isoformat(timespec="seconds"))
            fix = texts.NOTIFIER_FIX_PAUSED.format(minutes=round(self._policy.pause_max_seconds / 60))
            await self._alerts.delivery_paused(item, self._pause, fix=fix)
        else:
            log.debug("Teams still refuses the bot (probe %d: %s); next try at %s",
                      self._pause.probes, error, self._pause.until.isoformat(timespec="seconds"))

    def _resume(self) -> None:
        """Teams took a card: the bot is accepted again, so the pause ends (logged once)."""
        pause, self._pause = self._pause, None
        self._metrics.delivery_paused.set(0)
        if pause is not None:
            minutes = (self._clock() - pause.since).total_seconds() / 60
            log.info("posting to Teams resumed after %.0f min paused (%d probes refused)", minutes, pause.probes)

    # --- outcomes ------------------------------------------------------------------------------
    async def _delivered(self, ready: Ready, report: DrainReport, message: PostedMessage) -> None:
        item, action, posted = ready.item, ready.action, ready.posted
        now = self._clock()
        card: PostedCard | None = None
        if posted is not None:
            card = replace(posted, updated_at=now)
        elif keeps_card(ready.event):
            card = PostedCard(item.company, item.record_kind, item.record_no, item.conversation_id,
                              message.thread_conversation_id, message.activity_id, posted_at=now)
        outcome = "shrunk" if ready.shrink_step else "ok"
        # One transaction: where the card sits, the row delivered and its audit line commit together.
        audit = _audit_entry(item, action.value, outcome, now, activity_id=message.activity_id)
        await self._writes.record_delivery(Delivery(item.id, now, message.activity_id, card, audit))
        self._metrics.deliveries.labels(action.value, outcome).inc()
        if item.source_modified_at is not None:
            self._metrics.delivery_latency.observe(max(0.0, (now - item.source_modified_at).total_seconds()))
        if action is Action.POST:
            report.posted += 1
        else:
            report.updated += 1
        report.shrunk += bool(ready.shrink_step)
        failures = self._failing.pop(item.conversation_id, 0)
        if failures:
            log.info("channel %s takes cards again after %d failed attempts", item.conversation_id, failures)
        log.debug("%s %s to %s as %s (%s)", action.value, item.event_key, item.conversation_id, message.activity_id, outcome)

    async def _retry_later(
        self, item: OutboxItem, channel: Channel, report: DrainReport, action: Action, error: ConnectorError, delay: float
    ) -> None:
        until = self._clock() + timedelta(seconds=delay)
        await self._store.mark_retry(item.id, not_before=until, error=str(error))
        report.retried += 1
        self._metrics.deliveries.labels(action.value, "retry").inc()
        # The channel's other rows would meet the same failure: hold them back as long.
        channel.hold_until, channel.hold_error = until, texts.NOTIFIER_HELD_BACK.format(error=str(error))
        self._held[item.conversation_id] = (until, channel.hold_error)
        failures = self._failing[item.conversation_id] = self._failing.get(item.conversation_id, 0) + 1
        if failures == 1:
            log.warning("channel %s: %s; retrying in %.0f s", item.conversation_id, error, delay)
        else:
            log.debug("channel %s still failing (%d): %s; retrying in %.0f s", item.conversation_id, failures, error, delay)

    async def _route_gone(self, item: OutboxItem, channel: Channel, report: DrainReport, action: Action, error: ConnectorError) -> None:
        now = self._clock()
        await self._store.record_failure(item.id, now=now, error=str(error),
                                         audit=_audit_entry(item, action.value, "gone", now, error=str(error)))
        self._metrics.deliveries.labels(action.value, "gone").inc()
        report.failed += 1
        channel.gone_reason = _gone_reason(error)
        channel.deactivated = True
        self._gone[item.conversation_id] = (channel.stamp, channel.gone_reason)
        self._failing.pop(item.conversation_id, None)
        await self._alerts.deactivate_channel(item, reason=channel.gone_reason, detail=str(error))

    async def _fail_gone(self, item: OutboxItem, channel: Channel, report: DrainReport) -> None:
        """A row for a channel known gone (or without a reference): failed unsent."""
        assert channel.gone_reason is not None
        now = self._clock()
        error = texts.NOTIFIER_NOT_SENT_GONE.format(reason=channel.gone_reason)
        audit = _audit_entry(item, "failure", "gone", now, error=error)
        await self._store.record_failure(item.id, now=now, error=error, audit=audit)
        self._metrics.deliveries.labels("failure", "gone").inc()
        report.failed += 1
        log.info("row %s (%s) not delivered to %s: %s", item.id, item.event_key, item.conversation_id, channel.gone_reason)
        if not channel.deactivated:
            channel.deactivated = True
            await self._alerts.deactivate_channel(item, reason=channel.gone_reason, detail=None)

    async def give_up(
        self,
        item: OutboxItem,
        event: Event | None,
        report: DrainReport,
        *,
        action: str,
        error: str,
        reason: str,
        fix: str,
        key: str,
        per_channel: bool = True,
    ) -> None:
        """Fail the row for good: store, audit trail, metrics, log and (bounded) an alert."""
        now = self._clock()
        audit = _audit_entry(item, action, "failed", now, error=error)
        await self._store.record_failure(item.id, now=now, error=error, audit=audit)
        self._metrics.deliveries.labels(action, "failed").inc()
        report.failed += 1
        self._failing.pop(item.conversation_id, None)
        log.error("gave up on %s for %s: %s (%s)", item.event_key, item.conversation_id, reason, error)
        what = describe(event) if event is not None else f"{item.record_kind} {item.record_no}"
        await self._alerts.delivery_failed(item, what=what, reason=reason, detail=error, fix=fix, key=key, per_channel=per_channel)

    async def fail_internal(self, item: OutboxItem, report: DrainReport, exc: Exception) -> None:
        """Fail a row that an internal error (a bug) stopped, so it cannot block its channel."""
        await self.give_up(item, None, report, action="failure", error=_describe(exc),
                           reason=texts.NOTIFIER_REASON_INTERNAL, fix=texts.NOTIFIER_FIX_DEFAULT, key="internal")


def _audit_entry(
    item: OutboxItem, action: str, outcome: str, at: datetime, *, activity_id: str | None = None, error: str | None = None
) -> AuditEntry:
    """The audit line of what happened to a row."""
    return AuditEntry(
        at=at, action=action, outcome=outcome, company=item.company, event_key=item.event_key,
        record_kind=item.record_kind, record_no=item.record_no, conversation_id=item.conversation_id,
        activity_id=activity_id, error=error,
    )  # fmt: skip


def _claim_left(claims: Claims, item: OutboxItem, now: datetime) -> float:
    return (claims[item.id] - now).total_seconds()


def _render(
    event: Event,
    company: CompanyContext | None,
    now: datetime,
    zone: TeamZone,
    company_name: str | None,
    *,
    shrink_step: int = 0,
    refused_size: int | None = None,
) -> dict[str, Any]:
    """The card for an event in the AP team's zone; after a 413, step `shrink_step` of
    cards.dispatch.SHRINK_STEPS."""
    if company is None:  # an alert about a company no longer configured: alerts need no links
        assert isinstance(event, AlertRaised)
        if shrink_step:
            raise CardTooLargeError("alert", refused_size or 0, (refused_size or 1) - 1)
        return build_alert_card(alert_view(event), zone=zone)
    if shrink_step:
        return shrink_card(
            event, links=company.links, zone=zone, now=now, attempt=shrink_step, refused_size=refused_size, company_name=company_name
        )
    return card_for_event(event, links=company.links, zone=zone, now=now, company_name=company_name)


def _fallback(card: Mapping[str, Any]) -> str:
    """The notification / preview text of a card: its own (sanitised) fallback text."""
    text = card.get("fallbackText")
    return text if isinstance(text, str) else ""


def _gone_reason(error: ConnectorError) -> str:
    if not error.route_gone:
        return texts.NOTIFIER_BAD_REFERENCE
    return texts.NOTIFIER_GONE_REASONS.get(error.code or "", texts.NOTIFIER_GONE_DEFAULT)


def _refusal(error: ConnectorError) -> tuple[str, str, str, bool]:
    """(reason, fix, alert key, per channel) for a failure that is not worth retrying."""
    if isinstance(error, InvalidBotApiHostError):
        return texts.NOTIFIER_REASON_API_HOST, texts.NOTIFIER_FIX_API_HOST, "api-host", True
    if isinstance(error, BadArgumentError):
        return texts.NOTIFIER_REASON_PAYLOAD, texts.NOTIFIER_FIX_PAYLOAD, "payload", True
    return texts.NOTIFIER_REASON_REFUSED, texts.NOTIFIER_FIX_DEFAULT, f"refused-{error.status}-{error.code}", True


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
