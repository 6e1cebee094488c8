"""The `status` view: per company the last poll, next poll, errors, Intacct usage and wake-ups; outbox; Graph."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Awaitable, Callable, Sequence

from cards.views import CompanyStatus, GraphStatus, RouteView, StatusView
from store.api import Store
from store.types import Route

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class CompanyFacts:
    """What is fixed for a company while the app runs: schedule text and usage estimate."""

    key: str
    schedule: str
    monthly_transactions_estimate: int | None = None
    name: str | None = None
    wakeups: tuple[str, ...] = ()  # the Intacct wake-up kinds it takes


class StatusBuilder:
    """Builds the StatusView from the store (shared by every instance) and this instance's
    scheduler and Graph bridge."""

    def __init__(
        self,
        store: Store,
        companies: Sequence[CompanyFacts],
        *,
        clock: Clock,
        next_poll: Callable[[str], datetime | None],
        graph: Callable[[], Awaitable[GraphStatus]],
        channel_label: Callable[[str | None, str], Awaitable[str]] | None = None,
        version: str | None = None,
    ) -> None:
        self.store = store
        self.companies = list(companies)
        self.clock = clock
        self.next_poll = next_poll
        self.graph = graph
        self.channel_label = channel_label
        self.version = version

    async def _label(self, route: Route) -> str | None:
        if self.channel_label is None or not route.team_id:
            return None
        return await self.channel_label(route.team_id, route.conversation_id)

    async def status_view(self) -> StatusView:
        """The current status (one store round trip per kind of fact)."""
        states = {s.company: s for s in await self.store.poll_states()}
        wakeups = {w.company: w for w in await self.store.wakeup_states()} if any(f.wakeups for f in self.companies) else {}
        companies = []
        for facts in self.companies:
            state = states.get(facts.key)
            woken = wakeups.get(facts.key)
            companies.append(
                CompanyStatus(
                    company=facts.key,
                    name=facts.name,
                    schedule=facts.schedule,
                    last_attempt_at=state.last_attempt_at if state else None,
                    last_success_at=state.last_success_at if state else None,
                    next_poll_at=self.next_poll(facts.key),
                    last_error=state.last_error if state else None,
                    last_error_at=state.last_error_at if state else None,
                    consecutive_failures=state.consecutive_failures if state else 0,
                    functions_last_cycle=state.functions_last_cycle if state else 0,
                    monthly_transactions_estimate=facts.monthly_transactions_estimate,
                    wakeups=facts.wakeups,
                    last_wakeup_at=woken.last_at if woken else None,
                )
            )
        inactive = [r for r in await self.store.list_routes() if not r.active]
        return StatusView(
            now=self.clock(),
            companies=tuple(companies),
            outbox_depth=await self.store.outbox_depth(),
            graph=await self.graph(),
            inactive_routes=tuple([route_view(r, await self._label(r)) for r in inactive]),
            version=self.version,
        )


KIND_ORDER = ("bills", "payments", "vendors", "digest", "alerts")


def route_view(route: Route, channel_name: str | None = None) -> RouteView:
    """A stored route as the subscriptions and status cards show it (kinds in a fixed order)."""
    f = route.filter
    return RouteView(
        route_id=route.id,
        conversation_id=route.conversation_id,
        event_kinds=tuple(kind for kind in KIND_ORDER if kind in route.event_kinds)
        + tuple(sorted(route.event_kinds - set(KIND_ORDER))),
        channel_name=channel_name or route.channel_name,
        company=route.company,
        department=f.department,
        location=f.location,
        vendor=f.vendor,
        min_amount=f.min_amount,
        entity=f.entity,
        active=route.active,
        inactive_reason=route.inactive_reason,
    )


def company_facts(key: str, schedule: str, timezone: str, estimate: int | None, name: str | None = None,
                  wakeups: tuple[str, ...] = ()) -> CompanyFacts:
    """CompanyFacts with the schedule written as people read it."""
    return CompanyFacts(key, f"{schedule} ({timezone})", estimate, name, wakeups)

