"""Keeps one Graph change-notification subscription on `/teams/{id}/channels` per routed team.

- `ensure(team_ids)` creates what is missing (random clientState per subscription, kept in the
  store; lifecycleNotificationUrl always set; expiry at Graph's 4,320-minute maximum minus a
  safety margin) and deletes subscriptions of teams that no longer have routes.
- `renew_due()` (a scheduled job) PATCHes subscriptions with less than `renew_before` left and
  recreates those Graph has already deleted (404), then resyncs their teams.
- `handle_lifecycle(event)`: reauthorizationRequired → reauthorize (recreate on 404);
  subscriptionRemoved → recreate + resync; missed → resync.
- `verify_client_state` is what `parse_notification_request` calls: an in-memory, constant-time
  comparison, reloading from the store (at most every few seconds) for ids made by another
  instance.

Every creation is followed by a resync of the team's channels, because changes made while no
subscription existed were never notified. Run `ensure`/`renew_due` on one instance at a time
(a store lease): two instances would each create a subscription for the same team.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Iterable, Mapping, Sequence

from graph.channels import ChannelDiff, ChannelDirectory
from graph.client import DEFAULT_CHANGE_TYPE, GraphClient
from graph.errors import GraphError, GraphNotFoundError
from graph.notifications import ChannelChanged, LifecycleEvent, LifecycleEventKind, Notification
from graph.storage import GraphStorage, StoredSubscription, SubscriptionRecord

log = logging.getLogger(__name__)

MAX_LIFETIME = timedelta(minutes=4320)  # Graph's maximum for Teams channel subscriptions
SAFETY_MARGIN = timedelta(minutes=10)  # room for clock skew between us and Graph
RENEW_BEFORE = timedelta(hours=24)
MAX_CLIENT_STATE_LENGTH = 128
# Team ids are Microsoft 365 group GUIDs; anything that could break out of the resource path is refused.
_TEAM_ID = re.compile(r"^[A-Za-z0-9-]+$")


@dataclass(frozen=True, slots=True)
class SubscriptionReport:
    """What one `ensure` or `renew_due` run did, by team id; `failed` holds the errors it met."""

    created: tuple[str, ...] = ()
    renewed: tuple[str, ...] = ()
    recreated: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    failed: Mapping[str, GraphError] = field(default_factory=dict)


@dataclass(slots=True)
class _Tally:
    created: list[str] = field(default_factory=list)
    renewed: list[str] = field(default_factory=list)
    recreated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: dict[str, GraphError] = field(default_factory=dict)

    def report(self) -> SubscriptionReport:
        return SubscriptionReport(
            tuple(self.created), tuple(self.renewed), tuple(self.recreated), tuple(self.deleted), dict(self.failed)
        )


def channels_resource(team_id: str) -> str:
    """The subscribed resource for one team's channels."""
    if not _TEAM_ID.match(team_id):
        raise ValueError(f"not a Graph team id: {team_id!r}")
    return f"/teams/{team_id}/channels"


class SubscriptionManager:
    """Creates, renews, recreates and deletes the app's channel subscriptions (see module docstring)."""

    def __init__(
        self,
        client: GraphClient,
        storage: GraphStorage,
        *,
        notification_url: str,
        lifecycle_url: str,
        clock: Callable[[], datetime],
        random_state: Callable[[], str] = secrets.token_urlsafe,
        directory: ChannelDirectory | None = None,
        renew_before: timedelta = RENEW_BEFORE,
        safety_margin: timedelta = SAFETY_MARGIN,
        change_type: str = DEFAULT_CHANGE_TYPE,
        state_reload_interval: timedelta = timedelta(seconds=10),
    ) -> None:
        self._client = client
        self._storage = storage
        self._notification_url = notification_url
        self._lifecycle_url = lifecycle_url
        self._clock = clock
        self._random_state = random_state
        self.directory = directory or ChannelDirectory(client, storage, clock=clock)  # resyncs go here
        self._renew_before = renew_before
        self._safety_margin = safety_margin
        self._change_type = change_type
        self._state_reload_interval = state_reload_interval
        self._states: dict[str, str] = {}  # subscription id → clientState
        self._states_loaded_at: datetime | None = None
        self._lock = asyncio.Lock()  # one mutation of the subscription set at a time

    # --- scheduled work --------------------------------------------------------------------
    async def ensure(self, team_ids: Iterable[str]) -> SubscriptionReport:
        """Make the set of subscriptions match the teams that have routes."""
        wanted = set(team_ids)
        tally = _Tally()
        resync: list[str] = []
        async with self._lock:
            now = self._clock()
            kept: dict[str, SubscriptionRecord] = {}
            lapsed: set[str] = set()
            for record in await self._records():
                if record.team_id not in wanted:
                    await self._delete(record, tally, "its team has no routes left")
                elif record.team_id in kept:
                    await self._delete(record, tally, "a second subscription for the same team")
                elif record.expires_at <= now:
                    # Graph has deleted it already; changes since then were never notified.
                    await self._forget(record.id)
                    lapsed.add(record.team_id)
                else:
                    kept[record.team_id] = record
            for team_id in sorted(wanted - kept.keys()):
                try:
                    await self._create(team_id)
                except GraphError as error:
                    self._fail(tally, team_id, "create the subscription for", error)
                    continue
                (tally.recreated if team_id in lapsed else tally.created).append(team_id)
                resync.append(team_id)
        await self._resync_all(resync, tally)
        return tally.report()

    async def renew_due(self) -> SubscriptionReport:
        """Renew every subscription with less than `renew_before` left; recreate the lost ones."""
        tally = _Tally()
        resync: list[str] = []
        async with self._lock:
            now = self._clock()
            for record in await self._records():
                if record.expires_at - now > self._renew_before:
                    continue
                try:
                    renewed = await self._client.renew_subscription(record.id, self._expiry())
                except GraphNotFoundError:
                    log.warning("Graph subscription %s of team %s is gone; creating a new one",
                                record.id, record.team_id)
                    await self._replace(record, tally, resync)
                    continue
                except GraphError as error:
                    self._fail(tally, record.team_id, "renew the subscription of", error)
                    continue
                await self._storage.save_subscription(StoredSubscription.copy_of(record, expires_at=renewed.expires_at))
                tally.renewed.append(record.team_id)
        await self._resync_all(resync, tally)
        return tally.report()

    async def recover_lost(self) -> SubscriptionReport:
        """Recreate (and resync) the subscriptions Graph no longer has although we think they are
        live: removed without a lifecycle notification, which would otherwise go unnoticed until
        renewal, up to three days of missed channel changes. One GET /subscriptions per call."""
        tally = _Tally()
        resync: list[str] = []
        async with self._lock:
            try:
                live = {subscription.id for subscription in await self._client.list_subscriptions()}
            except GraphError as error:
                self._fail(tally, "*", "list the subscriptions of", error)
                return tally.report()
            for record in await self._records():
                if record.id in live:
                    continue
                log.warning("Graph no longer has subscription %s of team %s; creating a new one", record.id, record.team_id)
                await self._replace(record, tally, resync)
        await self._resync_all(resync, tally)
        return tally.report()

    async def _replace(self, record: SubscriptionRecord, tally: _Tally, resync: list[str]) -> None:
        """Recreate a lost subscription; its team's channels are resynced after (a failure is
        tallied and logged)."""
        try:
            await self._recreate(record)
        except GraphError as error:
            self._fail(tally, record.team_id, "recreate the subscription of", error)
            return
        tally.recreated.append(record.team_id)
        resync.append(record.team_id)

    # --- notifications ---------------------------------------------------------------------
    async def handle(self, notification: Notification) -> None:
        """Act on one accepted notification (the background worker's handler)."""
        if isinstance(notification, LifecycleEvent):
            await self.handle_lifecycle(notification)
        else:
            await self.handle_change(notification)

    async def handle_change(self, change: ChannelChanged) -> ChannelDiff:
        """A channel was created, renamed or deleted: update the directory (which reports the diff)."""
        return await self.directory.apply(change)

    async def handle_lifecycle(self, event: LifecycleEvent) -> None:
        """Answer a lifecycle event (reauthorize, recreate + resync, or resync)."""
        async with self._lock:
            record = next((r for r in await self._records() if r.id == event.subscription_id), None)
            if record is None:
                log.warning("Graph lifecycle event %s for unknown subscription %s ignored",
                            event.kind.value, event.subscription_id)
                return
            team_id = record.team_id
            needs_resync = True
            if event.kind is LifecycleEventKind.REAUTHORIZATION_REQUIRED:
                try:
                    await self._client.reauthorize_subscription(record.id)
                    needs_resync = False
                    log.info("reauthorized Graph subscription %s of team %s", record.id, team_id)
                except GraphNotFoundError:
                    await self._recreate(record)
            elif event.kind is LifecycleEventKind.SUBSCRIPTION_REMOVED:
                log.warning("Graph removed subscription %s of team %s; creating a new one", record.id, team_id)
                await self._recreate(record)
            else:
                log.warning("Graph missed notifications for team %s; resyncing its channels", team_id)
        if needs_resync:
            await self.directory.resync(team_id)

    async def resync(self, team_id: str) -> ChannelDiff:
        """Re-list a team's channels and report what disappeared or was renamed."""
        return await self.directory.resync(team_id)

    async def verify_client_state(self, subscription_id: str, client_state: str) -> bool:
        """Whether `client_state` is the one we gave subscription `subscription_id` (constant time)."""
        expected = self._states.get(subscription_id)
        if expected is None and self._may_reload():
            await self._records()
            expected = self._states.get(subscription_id)
        if expected is None or not client_state:
            return False
        return hmac.compare_digest(expected.encode("utf-8"), client_state.encode("utf-8"))

    # --- helpers ---------------------------------------------------------------------------
    async def _records(self) -> Sequence[SubscriptionRecord]:
        """Every stored subscription; refreshes the clientState map on the way."""
        records = await self._storage.list_subscriptions()
        self._states = {record.id: record.client_state for record in records}
        self._states_loaded_at = self._clock()
        return records

    def _may_reload(self) -> bool:
        # Unknown ids are reloaded from the store, but not on every request: a flood of forged
        # notifications must not turn into a flood of queries.
        loaded = self._states_loaded_at
        return loaded is None or self._clock() - loaded >= self._state_reload_interval

    def _expiry(self) -> datetime:
        return self._clock() + MAX_LIFETIME - self._safety_margin

    async def _create(self, team_id: str) -> StoredSubscription:
        state = self._random_state()
        if not 0 < len(state) <= MAX_CLIENT_STATE_LENGTH:
            raise ValueError(f"clientState must be 1..{MAX_CLIENT_STATE_LENGTH} characters")
        resource = channels_resource(team_id)
        subscription = await self._client.create_subscription(
            resource, self._notification_url, self._lifecycle_url, state, self._expiry(), self._change_type
        )
        record = StoredSubscription(subscription.id, team_id, resource, state, subscription.expires_at, self._clock())
        await self._storage.save_subscription(record)
        self._states[record.id] = state
        log.info("created Graph subscription %s on %s (expires %s)", record.id, resource, record.expires_at.isoformat())
        return record

    async def _recreate(self, record: SubscriptionRecord) -> None:
        await self._forget(record.id)
        await self._create(record.team_id)

    async def _delete(self, record: SubscriptionRecord, tally: _Tally, reason: str) -> None:
        try:
            await self._client.delete_subscription(record.id)
        except GraphNotFoundError:
            pass  # Graph had already deleted it: forgetting it is all that is left to do
        except GraphError as error:
            self._fail(tally, record.team_id, "delete the subscription of", error)
            return
        await self._forget(record.id)
        tally.deleted.append(record.team_id)
        log.info("deleted Graph subscription %s of team %s (%s)", record.id, record.team_id, reason)

    async def _forget(self, subscription_id: str) -> None:
        await self._storage.delete_subscription(subscription_id)
        self._states.pop(subscription_id, None)

    async def _resync_all(self, team_ids: list[str], tally: _Tally) -> None:
        for team_id in team_ids:
            try:
                await self.directory.resync(team_id)
            except GraphError as error:
                self._fail(tally, team_id, "resync the channels of", error)

    @staticmethod
    def _fail(tally: _Tally, team_id: str, action: str, error: GraphError) -> None:
        tally.failed[team_id] = error
        log.warning("could not %s team %s: %s", action, team_id, error)
