"""One outbox row into Teams: prepare it (decode, build the card, commit "sending"), send it
(paced, retried, shrunk, re-posted), and record the outcome (store, audit, metrics, log, alerts).

The notifier's lanes call `prepare` then `send` for each row of a channel, in order. What is
decided here comes from bot/delivery_policy.py; the contract (at most once, order, crash
trade-offs) is in bot/notifier.py's docstring.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable, Mapping

from bot import messages as texts
from bot.connector import PostedMessage, TeamsConnector, thread_reference
from bot.context import BotContext, CompanyContext
from bot.delivery_alerts import OperatorAlerts
from bot.delivery_policy import Action, DeliveryPolicy, Verdict, choose_action, classify, keeps_card, may_have_card, retry_delay
from bot.errors import BadArgumentError, ConnectorAuthError, ConnectorError, InvalidBotApiHostError
from bot.pacing import ConversationPacer
from cards.alerts import alert_view, build_alert_card
from cards.dispatch import card_for_event, shrink_card
from cards.elements import card_size
from cards.errors import CardTooLargeError
from poller.codec import event_from_payload
from poller.events import AlertRaised, Event
from poller.routing import describe
from store.api import Store
from store.types import AuditEntry, ConversationRecord, OutboxItem, PostedCard

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

    @property
    def tenant_id(self) -> str | None:
        """The tenant Teams counts the channel's requests against."""
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
        self._holder = holder
        self._jitter = jitter
        self._max_attempts = max_attempts
        self._policy = policy
        self._stopping = stopping
        self._alerts = OperatorAlerts(store, context.clock, repeat_seconds=policy.alert_repeat_seconds)
        self._held: dict[str, tuple[datetime, str]] = {}
        self._gone: dict[str, tuple[tuple[Any, ...], str]] = {}
        self._failing: dict[str, int] = {}

    # --- channels ------------------------------------------------------------------------------
    async def open_channel(self, conversation_id: str) -> Channel:
        """The channel's stored reference and what this notifier knows about it."""
        now = self._clock()
        channel = Channel(conversation_id, await self._store.get_conversation(conversation_id))
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
            await self._store.mark_delivered(item.id, now=now, activity_id=None)
            await self._audit(item, "skip", "skipped", now)
            self._metrics.deliveries.labels("skip", "skipped").inc()
            report.skipped += 1
            log.debug("skipped %s for %s: details changed, no card to update", item.event_key, item.conversation_id)
            return None
        try:
            card = _render(event, company, now)
        except Exception as exc:  # noqa: BLE001 - CardTooLargeError or a builder bug: the row cannot be shown
            await self.give_up(item, event, report, action=action.value, error=_describe(exc),
                               reason=texts.NOTIFIER_REASON_CARD, fix=texts.NOTIFIER_FIX_DEFAULT, key="card")
            return None
        ready = Ready(item, event, company, action, posted, card)
        return ready if await self._mark_sending(ready, channel, claims, report) else None

    async def send(self, ready: Ready, channel: Channel, claims: Claims, report: DrainReport) -> Awaitable[None] | None:
        """Send a prepared row (paced) and act on Teams' answer; returns the bookkeeping still to
        commit after a success (the lane goes on meanwhile), or None when the row is settled."""
        item = ready.item
        marked = True
        while True:
            if not marked and not await self._mark_sending(ready, channel, claims, report):
                return None
            marked = False
            if not self._claim_allows(claims, item, channel):
                await self._give_back(item, channel, report)
                return None
            if not await self._acquire(channel):
                await self._store.mark_retry(item.id, not_before=self._clock(), error=item.last_error or texts.NOTIFIER_RELEASED_AT_STOP)
                report.retried += 1
                return None
            try:
                message = await self._transmit(ready, channel)
            except ConnectorError as error:
                if await self._after_failure(ready, channel, claims, report, error):
                    continue
                return None
            return self._delivered(ready, report, message)

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
        if verdict is Verdict.CARD_GONE and ready.posted is not None:
            # Someone deleted the message: forget it and post the card anew.
            await self._store.forget_posted_card(item.company, item.record_kind, item.record_no, item.conversation_id)
            await self._audit(item, "update", "gone", now, activity_id=ready.posted.activity_id, error=str(error))
            self._metrics.deliveries.labels("update", "gone").inc()
            ready.posted, ready.action = None, Action.POST
            return True
        if verdict is Verdict.SHRINK:
            ready.shrink_step += 1
            try:
                ready.card = _render(ready.event, ready.company, now, shrink_step=ready.shrink_step, refused_size=card_size(ready.card))
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

    async def _give_back(self, item: OutboxItem, channel: Channel, report: DrainReport) -> None:
        """Release a row whose pacer wait outlasts its claim, due when the pacer will allow it."""
        wait = self._pacer.delay_for(item.conversation_id, tenant_id=channel.tenant_id)
        await self._store.mark_retry(item.id, not_before=self._clock() + timedelta(seconds=wait),
                                     error=item.last_error or texts.NOTIFIER_WAITING_PACER)
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
            await self._give_back(item, channel, report)
            return False
        if not await self._store.mark_sending(item.id, self._holder, now=self._clock()):
            report.lost += 1
            log.debug("row %s: claim lost before sending (expired or taken by another instance)", item.id)
            return False
        ready.tries += 1
        return True

    async def _acquire(self, channel: Channel) -> bool:
        """The pacer's permission to write to the channel; False when the notifier stops first."""
        if self._stopping.is_set():
            return False
        acquire = asyncio.ensure_future(self._pacer.acquire(channel.conversation_id, tenant_id=channel.tenant_id))
        stopped = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({acquire, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            if not acquire.done():
                acquire.cancel()  # safe: nothing was sent, and the pacer records a slot only when granted
            await asyncio.gather(acquire, stopped, return_exceptions=True)
        if acquire.cancelled():
            return False
        acquire.result()  # re-raises a pacer failure
        return True

    async def _settled_by_channel(self, item: OutboxItem, channel: Channel, report: DrainReport) -> bool:
        """Settle a row without sending when the notifier stops or its channel is gone or held."""
        if self._stopping.is_set():
            await self._store.mark_retry(item.id, not_before=self._clock(), error=item.last_error or texts.NOTIFIER_RELEASED_AT_STOP)
            report.retried += 1
        elif channel.gone_reason is not None:
            await self._fail_gone(item, channel, report)
        elif channel.hold_until is not None:
            await self._store.mark_retry(item.id, not_before=channel.hold_until, error=channel.hold_error)
            report.retried += 1
        else:
            return False
        return True

    # --- outcomes ------------------------------------------------------------------------------
    async def _delivered(self, ready: Ready, report: DrainReport, message: PostedMessage) -> None:
        item, action, posted = ready.item, ready.action, ready.posted
        now = self._clock()
        # Where the card sits is saved BEFORE the row is finished: a holder dying in between
        # leaves a row whose retry finds the card and updates it instead of posting it again.
        if posted is not None:
            await self._store.save_posted_card(replace(posted, updated_at=now))
        elif keeps_card(ready.event):
            await self._store.save_posted_card(PostedCard(
                item.company, item.record_kind, item.record_no, item.conversation_id,
                message.thread_conversation_id, message.activity_id, posted_at=now,
            ))  # fmt: skip
        await self._store.mark_delivered(item.id, now=now, activity_id=message.activity_id)
        outcome = "shrunk" if ready.shrink_step else "ok"
        await self._audit(item, action.value, outcome, now, activity_id=message.activity_id)
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
        await self._store.mark_failed(item.id, now=now, error=str(error))
        await self._audit(item, action.value, "gone", now, error=str(error))
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
        await self._store.mark_failed(item.id, now=now, error=error)
        await self._audit(item, "failure", "gone", now, error=error)
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
        await self._store.mark_failed(item.id, now=now, error=error)
        await self._audit(item, action, "failed", now, error=error)
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

    async def _audit(
        self, item: OutboxItem, action: str, outcome: str, at: datetime, *, activity_id: str | None = None, error: str | None = None
    ) -> None:
        await self._store.append_audit(AuditEntry(
            at=at, action=action, outcome=outcome, company=item.company, event_key=item.event_key,
            record_kind=item.record_kind, record_no=item.record_no, conversation_id=item.conversation_id,
            activity_id=activity_id, error=error,
        ))  # fmt: skip


def _claim_left(claims: Claims, item: OutboxItem, now: datetime) -> float:
    return (claims[item.id] - now).total_seconds()


def _render(
    event: Event, company: CompanyContext | None, now: datetime, *, shrink_step: int = 0, refused_size: int | None = None
) -> dict[str, Any]:
    """The card for an event; after a 413, step `shrink_step` of cards.dispatch.SHRINK_STEPS."""
    if company is None:  # an alert about a company no longer configured: alerts need no links
        assert isinstance(event, AlertRaised)
        if shrink_step:
            raise CardTooLargeError("alert", refused_size or 0, (refused_size or 1) - 1)
        return build_alert_card(alert_view(event))
    today = company.today(now)
    if shrink_step:
        return shrink_card(event, links=company.links, today=today, attempt=shrink_step, refused_size=refused_size)
    return card_for_event(event, links=company.links, today=today)


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
    if isinstance(error, ConnectorAuthError) or error.status == 401:
        return texts.NOTIFIER_REASON_CREDENTIALS, texts.NOTIFIER_FIX_CREDENTIALS, "credentials", False
    if isinstance(error, InvalidBotApiHostError):
        return texts.NOTIFIER_REASON_API_HOST, texts.NOTIFIER_FIX_API_HOST, "api-host", True
    if isinstance(error, BadArgumentError):
        return texts.NOTIFIER_REASON_PAYLOAD, texts.NOTIFIER_FIX_PAYLOAD, "payload", True
    return texts.NOTIFIER_REASON_REFUSED, texts.NOTIFIER_FIX_DEFAULT, f"refused-{error.status}-{error.code}", True


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
