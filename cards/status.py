"""Operator cards: `status` (polling health, quota, delivery backlog, Graph) and `subscriptions`."""

from __future__ import annotations

from collections.abc import Sequence

from cards import texts
from cards.elements import CARD_SIZE_BUDGET, Card, Element, container, facts, heading, make_card, text
from cards.fit import fit
from cards.format import Tone, ago, moment, money, plural
from cards.sanitize import DESCRIPTION_LIMIT, ID_LIMIT, NAME_LIMIT, clean_optional, clean_text
from cards.views import CompanyStatus, GraphState, RouteView, StatusView, SubscriptionsView

DEFAULT_MAX_ITEMS = 20  # companies and inactive routes on the status card; routes on subscriptions


def build_status_card(view: StatusView, *, max_items: int = DEFAULT_MAX_ITEMS, max_bytes: int = CARD_SIZE_BUDGET) -> Card:
    """Per company: last poll, last success, next poll, failures and last error, functions per
    cycle and the monthly transaction estimate; then the outbox, Graph, and inactive routes."""

    def render(items: int) -> Card:
        return _status_card(view, max_items=items)

    return fit("status", render, wanted=max_items, max_bytes=max_bytes, minimum=1)


def build_subscriptions_card(
    view: SubscriptionsView, *, max_items: int = DEFAULT_MAX_ITEMS, max_bytes: int = CARD_SIZE_BUDGET
) -> Card:
    """The routes of a channel or team: channel, event kinds, company, filters, active or why not."""

    def render(items: int) -> Card:
        return _subscriptions_card(view, max_items=items)

    return fit("subscriptions", render, wanted=max_items, max_bytes=max_bytes)


def route_filters(route: RouteView) -> str:
    """`department D100 · over 5,000.00`, or "none"."""
    parts = [
        f"department {route.department}" if route.department else "",
        f"location {route.location}" if route.location else "",
        f"vendor {route.vendor}" if route.vendor else "",
        texts.over_amount(money(route.min_amount)) if route.min_amount is not None else "",
        f"entity {route.entity}" if route.entity else "",
    ]
    kept = [clean_text(part, NAME_LIMIT) for part in parts if part]
    return " · ".join(kept) if kept else texts.NO_FILTERS


def _status_card(view: StatusView, *, max_items: int) -> Card:
    failing = [company for company in view.companies if company.consecutive_failures > 0]
    trouble = failing or view.graph.state is GraphState.FAILING or view.inactive_routes
    subtitle = f"{texts.AS_OF} {moment(view.now)}"
    if view.version:
        subtitle = f"{subtitle} · {texts.VERSION} {clean_text(view.version, ID_LIMIT)}"
    companies = view.companies[:max_items]
    routes = view.inactive_routes[:max_items]
    header = [heading(texts.STATUS_TITLE), text(subtitle, subtle=True, spacing="None")]
    body: list[Element | None] = [
        container(header, tone=Tone.ATTENTION if trouble else Tone.GOOD),
        text(texts.NO_COMPANIES, tone=Tone.ATTENTION) if not view.companies else None,
        *(_company(company, view) for company in companies),
        _more(len(view.companies) - len(companies), "companies"),
        facts(_system_facts(view), spacing="Medium"),
    ]
    if view.inactive_routes:
        heading_text = f"{texts.INACTIVE_ROUTES} ({len(view.inactive_routes):,})"
        body.append(text(heading_text, weight="Bolder", tone=Tone.ATTENTION, separator=True, spacing="Medium"))
        for route in routes:
            reason = clean_text(route.inactive_reason or texts.INACTIVE, DESCRIPTION_LIMIT)
            body.append(text(f"{_channel(route)}: {reason}", spacing="Small"))
        body.append(_more(len(view.inactive_routes) - len(routes), "routes"))
    problems = f"{plural(len(failing), 'company')} failing" if failing else "all companies polling"
    fallback = (
        f"{texts.STATUS_TITLE}: {problems}, {plural(view.outbox_depth, 'post')} waiting, "
        f"Graph {view.graph.state.value}"
    )
    return make_card(body, fallback_text=fallback)


def _system_facts(view: StatusView) -> list[tuple[str, object]]:
    graph = view.graph
    state = graph.state.value
    if graph.detail:
        state = f"{state}: {clean_text(graph.detail, DESCRIPTION_LIMIT)}"
    configured = graph.state is not GraphState.NOT_CONFIGURED
    return [
        (texts.OUTBOX, f"{view.outbox_depth:,}"),
        (texts.GRAPH, state),
        (texts.GRAPH_SUBSCRIPTIONS, f"{graph.subscriptions:,}" if configured else None),
        (texts.GRAPH_RENEWAL, ago(graph.next_renewal_at, view.now) if graph.next_renewal_at else None),
    ]


def _company(company: CompanyStatus, view: StatusView) -> Element | None:
    title = clean_text(company.company, ID_LIMIT)
    if company.name:
        title = f"{title} · {clean_text(company.name, NAME_LIMIT)}"
    error = clean_optional(company.last_error, DESCRIPTION_LIMIT)
    if error and company.last_error_at:
        error = f"{error} · {ago(company.last_error_at, view.now)}"
    estimate = company.monthly_transactions_estimate
    if estimate is not None and company.wakeups:
        estimate_text: str | None = f"{estimate:,} {texts.PER_WAKEUP_POLL}"
    else:
        estimate_text = f"{estimate:,}" if estimate is not None else None
    wakeup_kinds = " · ".join(texts.WAKEUP_KINDS.get(kind, kind) for kind in company.wakeups)
    pairs: list[tuple[str, object]] = [
        (texts.SCHEDULE, clean_optional(company.schedule, DESCRIPTION_LIMIT)),
        (texts.LAST_POLL, ago(company.last_attempt_at, view.now)),
        (texts.LAST_SUCCESS, ago(company.last_success_at, view.now)),
        (texts.NEXT_POLL, ago(company.next_poll_at, view.now) if company.next_poll_at else None),
        (texts.FAILURES, f"{company.consecutive_failures:,}" if company.consecutive_failures else None),
        (texts.LAST_ERROR, error),
        (texts.FUNCTIONS_PER_CYCLE, f"{company.functions_last_cycle:,}"),
        (texts.MONTHLY_ESTIMATE, estimate_text),
        (texts.WAKEUPS, clean_optional(wakeup_kinds, DESCRIPTION_LIMIT) if wakeup_kinds else None),
        (texts.LAST_WAKEUP, (ago(company.last_wakeup_at, view.now) if company.last_wakeup_at else texts.NO_WAKEUP_YET)
         if company.wakeups else None),
        (texts.OUTBOX, f"{company.outbox_depth:,}" if company.outbox_depth is not None else None),
    ]
    tone = Tone.ATTENTION if company.consecutive_failures > 0 else Tone.GOOD
    items = [text(title, weight="Bolder", tone=tone), facts(pairs, spacing="None")]
    return container(items, separator=True, spacing="Medium")


def _subscriptions_card(view: SubscriptionsView, *, max_items: int) -> Card:
    routes = _ordered(view.routes)[:max_items]
    body: list[Element | None] = [
        heading(texts.SUBSCRIPTIONS_TITLE),
        text(clean_text(view.scope, NAME_LIMIT), subtle=True, spacing="None") if view.scope else None,
        text(texts.NO_SUBSCRIPTIONS) if not view.routes else None,
        *(_route(route) for route in routes),
        _more(len(view.routes) - len(routes), "routes"),
    ]
    active = sum(1 for route in view.routes if route.active)
    fallback = f"{texts.SUBSCRIPTIONS_TITLE}: {plural(len(view.routes), 'route')}, {active:,} active"
    return make_card(body, fallback_text=fallback)


def _route(route: RouteView) -> Element | None:
    state = texts.ACTIVE
    if not route.active:
        reason = clean_optional(route.inactive_reason, DESCRIPTION_LIMIT)
        state = f"{texts.INACTIVE}: {reason}" if reason else texts.INACTIVE
    kinds = ", ".join(route.event_kinds) or texts.NONE
    pairs: list[tuple[str, object]] = [
        (texts.COMPANY, clean_optional(route.company, ID_LIMIT) or texts.EVERY_COMPANY),
        (texts.FILTERS, route_filters(route)),
        (texts.STATUS, state),
    ]
    return container(
        [text(f"{_channel(route)} · {kinds}", weight="Bolder"), facts(pairs, spacing="None")],
        separator=True,
        tone=None if route.active else Tone.ATTENTION,
    )


def _ordered(routes: Sequence[RouteView]) -> list[RouteView]:
    # Inactive first (they need someone to act), then by channel name.
    return sorted(routes, key=lambda r: (r.active, (r.channel_name or r.conversation_id).casefold(), r.route_id))


def _channel(route: RouteView) -> str:
    return clean_text(route.channel_name or route.conversation_id, NAME_LIMIT)


def _more(count: int, noun: str) -> Element | None:
    return text(texts.more_items(count, noun), subtle=True) if count > 0 else None
