"""What the notifier does with an outbox row and with each Bot Connector failure: pure decisions.

Nothing here does I/O or reads a clock; bot/delivery/deliverer.py acts on the answers.

    failure (bot.teams.errors flags)              verdict      the notifier then…
    429 Throttled                           THROTTLED    penalizes the conversation in the pacer for
                                                         Retry-After (else a back-off) and retries: in
                                                         place when the wait fits in the row's claim,
                                                         else via not_before
    412 / 502 / 503 / 504 / network / 408   RETRY        mark_retry(not_before = now + back-off), and
                                                         holds the rest of that channel back as long
    413 MessageSizeTooBig                   SHRINK       rebuilds a smaller card and retries at once
    404 ActivityNotFoundInConversation      CARD_GONE    forgets the posted card and posts anew
    403 roster/disabled/blocked, 404 conv., ROUTE_GONE   fails the row, deactivates the channel's
    an unusable stored reference                         routes, alerts the operators once
    401 (BotNotRegistered…) / no token      PAUSE        the bot itself is refused, so every card
                                                         would be: keeps the row (and all others)
                                                         pending, pauses delivery, alerts once, and
                                                         probes with one card at growing intervals
    400 BadArgument / InvalidBotApiHost     CONFIG       fails the row, alerts (this card's payload,
                                                         or this tenant's host, is wrong)
    500 and every other refusal             FAIL         fails the row, alerts

Back-off is exponential with "equal jitter" (half fixed, half random), so a burst of failures
spreads out without ever retrying sooner than half the nominal delay; a pause's probes too.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Sequence

from bot.teams.errors import ConnectorAuthError, ConnectorError, InvalidReferenceError
from bot.pacing import CONVERSATION_LIMITS, TENANT_LIMITS, RateWindow
from poller.events import BillCreated, BillStateChanged, Event, PaymentPending, PaymentStateChanged

Jitter = Callable[[], float]

# Events whose card is remembered (store.save_posted_card) so that later changes update it.
_CARD_EVENTS = (BillCreated, BillStateChanged, PaymentPending, PaymentStateChanged)


@dataclass(frozen=True)
class DeliveryPolicy:
    """The notifier's timing knobs (the defaults suit Teams; tests and benchmarks may tighten them)."""

    backoff_base_seconds: float = 5.0  # first retry after a 5xx / network failure
    backoff_max_seconds: float = 900.0  # 5, 10, 20 … capped at 15 min: 8 attempts span ~8 min
    send_budget_seconds: float = 45.0  # claim time a send must have left: the connector's 30 s timeout + slack
    reclaim_seconds: float = 0.5  # while lanes are busy, claim newly due rows at most this often
    alert_repeat_seconds: float = 3600.0  # the same delivery failure alerts at most once an hour
    run_backoff_max_seconds: float = 60.0  # the run loop's longest pause after a failed drain
    pause_base_seconds: float = 300.0  # bot refused (401): first probe after 5 min, then 10, 20…
    pause_max_seconds: float = 1800.0  # …capped at 30 min: a fixed secret is used within 30 min


class Verdict(enum.Enum):
    """What to do after a failed send or update."""

    THROTTLED = "throttled"
    RETRY = "retry"
    SHRINK = "shrink"
    CARD_GONE = "card_gone"
    ROUTE_GONE = "route_gone"
    PAUSE = "pause"
    CONFIG = "config"
    FAIL = "fail"


class Action(enum.Enum):
    """What a row asks of Teams."""

    POST = "post"  # a new thread in the channel
    UPDATE = "update"  # replace the card already posted for the record
    SKIP = "skip"  # nothing to show: a details-only change of a record with no card posted


def classify(error: ConnectorError) -> Verdict:
    """The verdict for one mapped Bot Connector failure (flags first, so subclasses need no case)."""
    if error.status == 429:
        return Verdict.THROTTLED
    if error.route_gone or isinstance(error, InvalidReferenceError):
        # An unusable stored reference is as good as gone until the bot stores a fresh one.
        return Verdict.ROUTE_GONE
    if error.card_gone:
        return Verdict.CARD_GONE
    if error.too_large:
        return Verdict.SHRINK
    if refuses_the_bot(error):
        return Verdict.PAUSE
    if error.config_error:
        return Verdict.CONFIG
    if error.retryable:
        return Verdict.RETRY
    return Verdict.FAIL


def refuses_the_bot(error: ConnectorError) -> bool:
    """Whether Teams refused the bot itself (any 401, or no token for it), not this one card:
    every other card would meet the same refusal until the credentials are fixed."""
    return error.status == 401 or isinstance(error, ConnectorAuthError)


@dataclass(frozen=True)
class DeliveryPause:
    """Delivery is paused because Teams refuses the bot: since when, why, and the next probe."""

    since: datetime
    reason: str  # what operators read (bot.messages)
    error: str  # Teams' answer, as the connector error describes it
    probes: int  # probes sent since the pause began (each one a card that met the refusal again)
    until: datetime  # no card is sent before this; then one card probes the credentials


def pause_delivery(
    current: DeliveryPause | None, *, reason: str, error: str, now: datetime, policy: DeliveryPolicy, jitter: Jitter
) -> DeliveryPause:
    """The pause after a refusal: a new one, or `current` with one more probe and a later
    `until` (base·2^probes, capped, with equal jitter). A refusal from a card that was already
    on its way when the pause began does not count as a probe."""
    if current is not None and now < current.until:
        return current
    probes = 0 if current is None else current.probes + 1
    # The exponent stops growing long before the cap stops mattering: a pause may last weeks.
    nominal = min(policy.pause_max_seconds, policy.pause_base_seconds * 2 ** min(probes, 32))
    wait = nominal / 2 + jitter() * nominal / 2
    since = now if current is None else current.since
    return DeliveryPause(since=since, reason=reason, error=error, probes=probes, until=now + timedelta(seconds=wait))


def backoff_seconds(attempt: int, policy: DeliveryPolicy, jitter: Jitter) -> float:
    """Delay before retry number `attempt` (1 = after the first failure): base·2^(attempt−1),
    capped, then between half and all of it depending on `jitter()` in [0, 1)."""
    nominal = min(policy.backoff_max_seconds, policy.backoff_base_seconds * 2 ** max(0, attempt - 1))
    return nominal / 2 + jitter() * nominal / 2


def retry_delay(error: ConnectorError, attempt: int, policy: DeliveryPolicy, jitter: Jitter) -> float:
    """Seconds to wait before retrying after `error`: Teams' Retry-After when it gave one (a 429
    waits exactly that; a 503 at least that), else the exponential back-off."""
    backoff = backoff_seconds(attempt, policy, jitter)
    if error.retry_after is None:
        return backoff
    if error.status == 429:
        return error.retry_after
    return max(backoff, error.retry_after)


def keeps_card(event: Event) -> bool:
    """Whether the card of this event is remembered, so the record's later changes update it."""
    return isinstance(event, _CARD_EVENTS)


def may_have_card(event: Event, attempts: int) -> bool:
    """Whether a posted card for the event's record may exist in the channel (worth a look-up).

    A bill is created once, so a BillCreated row finds a card only if an earlier attempt of this
    very row got through (`attempts` > 0: its holder died after posting); then the card is
    updated instead of posted twice. Payments can become pending again, so they always look.
    """
    if isinstance(event, BillCreated):
        return attempts > 0
    return keeps_card(event)


def choose_action(event: Event, *, card_posted: bool) -> Action:
    """Update the record's card when one is posted; otherwise post a new thread, except for a
    details-only bill change (due date or amount, same state), which has nothing to update."""
    if card_posted and keeps_card(event):
        return Action.UPDATE
    if isinstance(event, BillStateChanged) and event.old_state == event.new_state:
        return Action.SKIP
    return Action.POST


def with_margin(limits: Sequence[RateWindow], margin_seconds: float) -> tuple[RateWindow, ...]:
    """Rate windows lengthened by `margin_seconds`: a knob for a Teams that measured its windows
    more coarsely than it publishes. Not needed for the network's delay: the pacer stamps each
    write when its answer is in (bot/pacing.py), after Teams counted it."""
    if margin_seconds < 0:
        raise ValueError("margin_seconds must not be negative")
    return tuple(RateWindow(w.seconds + margin_seconds, w.limit) for w in limits)


PACING_MARGIN_SECONDS = 0.0  # writes are stamped at their answer, so the published windows suffice


def delivery_limits(margin_seconds: float = PACING_MARGIN_SECONDS) -> dict[str, tuple[RateWindow, ...]]:
    """Keyword arguments for `ConversationPacer` pacing at Teams' published limits (plus a margin,
    if one is given): `ConversationPacer(clock, sleep, **delivery_limits())`."""
    return {
        "conversation_limits": with_margin(CONVERSATION_LIMITS, margin_seconds),
        "tenant_limits": with_margin(TENANT_LIMITS, margin_seconds),
    }
