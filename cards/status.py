"""Operator cards: `status` (polling health, quota, delivery backlog, Graph) and `subscriptions`."""

from __future__ import annotations

from collections.abc import Sequence

from cards import texts
from cards.elements import CARD_SIZE_BUDGET, Card, Element, aligned_facts, container, heading, make_card, text
from cards.fit import fit
from cards.format import Tone, ago, moment, money, plural
from cards.sanitize import DESCRIPTION_LIMIT, ID_LIMIT, NAME_LIMIT, clean_optional, clean_text
from cards.views import CompanyStatus, GraphState, RouteView, ScheduleView, StatusView, SubscriptionsView
from intacct.company import TeamZone

DEFAULT_MAX_ITEMS = 20  # companies and inactive routes on the status card; routes on subscriptions


def build_status_card(
    view: StatusView, *, zone: TeamZone, max_items: int = DEFAULT_MAX_ITEMS, max_bytes: int = CARD_SIZE_BUDGET
) -> Card:
    """Per company: how it is polling, its schedule in words, last poll and success, next poll,
    failures and last error, Intacct functions per poll and a month's estimate; then the
    outbox, Graph, and inactive subscriptions. Times in `zone`, named once."""

    def render(items: int) -> Card:
        return _status_card(view, zone=zone, max_items=items)

    return fit("status", render, wanted=max_items, max_bytes=max_bytes, minimum=1)


def build_subscriptions_card(
    view: SubscriptionsView, *, max_items: int = DEFAULT_MAX_ITEMS, max_bytes: int = CARD_SIZE_BUDGET
) -> Card:
    """The routes of one channel (its name in `view.scope`): event kinds, company name, filters,
    active or why not."""

    def render(items: int) -> Card:
        return _subscriptions_card(view, max_items=items)

    return fit("subscriptions", render, wanted=max_items, max_bytes=max_bytes)


def route_filters(route: RouteView) -> str:
    """`department D100 · over 5,000.00`, or "none"."""
    parts = [
        texts.filter_part("department", route.department) if route.department else "",
        texts.filter_part("location", route.location) if route.location else "",
        texts.filter_part("vendor", route.vendor) if route.vendor else "",
        texts.over_amount(money(route.min_amount)) if route.min_amount is not None else "",
        texts.filter_part("entity", route.entity) if route.entity else "",
    ]
    kept = [clean_text(part, NAME_LIMIT) for part in parts if part]
    return " · ".join(kept) if kept else texts.NO_FILTERS


def schedule_words(schedule: ScheduleView) -> str:
    """`every 2 minutes, Mon–Fri 06:00–20:00 America/Chicago`, `Mon–Fri at 08:00 Europe/London`,
    `every 30 seconds`; the configured expression itself when its shape has no plain wording.
    The zone is named when the words contain a day or a time of day."""
    zone = clean_text(schedule.timezone, ID_LIMIT)
    if not schedule.words:
        return texts.raw_schedule(clean_text(schedule.expression, DESCRIPTION_LIMIT), zone)
    days = "" if len(set(schedule.weekdays)) == 7 else _weekdays(schedule.weekdays)
    if schedule.every_seconds:
        window = _window(schedule.start_minute, schedule.end_minute)
        when = f"{days} {window}".strip()
        return texts.schedule_text([_every(schedule.every_seconds), when], zone) if when else _every(schedule.every_seconds)
    times = ", ".join(_clock(minute) for minute in schedule.at_minutes)
    return texts.schedule_text([f"{days or texts.EVERY_DAY} {texts.at_time(times)}"], zone)


def _every(seconds: int) -> str:
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            return texts.every(seconds // size, unit)
    return texts.every(seconds, "second")


def _window(start: int | None, end: int | None) -> str:
    if start is None or end is None or (start == 0 and end >= 24 * 60):
        return ""
    return f"{_clock(start)}–{_clock(end)}"


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _weekdays(days: Sequence[int]) -> str:
    ordered = sorted(set(days))
    if len(ordered) == 7:
        return texts.EVERY_DAY
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{texts.WEEKDAY_NAMES[ordered[0]]}–{texts.WEEKDAY_NAMES[ordered[-1]]}"
    return ", ".join(texts.WEEKDAY_NAMES[day] for day in ordered)


def _status_card(view: StatusView, *, zone: TeamZone, max_items: int) -> Card:
    failing = [company for company in view.companies if company.consecutive_failures > 0]
    trouble = failing or view.graph.state is GraphState.FAILING or view.inactive_routes
    subtitle = f"{texts.AS_OF} {moment(view.now, zone, named=True)}"
    if view.version:
        subtitle = f"{subtitle} · {texts.VERSION} {clean_text(view.version, ID_LIMIT)}"
    companies = view.companies[:max_items]
    routes = view.inactive_routes[:max_items]
    body: list[Element | None] = [
        container([heading(texts.STATUS_TITLE), text(subtitle, spacing="None")], tone=Tone.ATTENTION if trouble else Tone.GOOD),
        text(texts.NO_COMPANIES) if not view.companies else None,
        *(_company(company, view, zone) for company in companies),
        _more(len(view.companies) - len(companies), "companies"),
        aligned_facts(_system_facts(view, zone), spacing="Medium"),
    ]
    if view.inactive_routes:
        lines = [text(f"{_channel(route)}: {clean_text(route.inactive_reason or texts.INACTIVE, DESCRIPTION_LIMIT)}") for route in routes]
        body.append(
            container(
                [text(f"{texts.INACTIVE_ROUTES} ({len(view.inactive_routes):,})", weight="Bolder"), *lines],
                tone=Tone.ATTENTION,
                separator=True,
                spacing="Medium",
            )
        )
        body.append(_more(len(view.inactive_routes) - len(routes), "subscriptions"))
    problems = f"{plural(len(failing), 'company')} failing" if failing else "all companies polling"
    fallback = f"{texts.STATUS_TITLE}: {problems}, {plural(view.outbox_depth, 'post')} waiting, Graph {view.graph.state.value}"
    return make_card(body, fallback_text=fallback)


def _system_facts(view: StatusView, zone: TeamZone) -> list[tuple[str, object]]:
    graph = view.graph
    state = graph.state.value
    if graph.detail:
        state = f"{state}: {clean_text(graph.detail, DESCRIPTION_LIMIT)}"
    configured = graph.state is not GraphState.NOT_CONFIGURED
    # Each company shows its own posts waiting; the total only adds something for several.
    own = len(view.companies) == 1 and view.companies[0].outbox_depth is not None
    return [
        (texts.TOTAL_WAITING if len(view.companies) > 1 else texts.OUTBOX, None if own else f"{view.outbox_depth:,}"),
        (texts.GRAPH, state),
        (texts.GRAPH_SUBSCRIPTIONS, f"{graph.subscriptions:,}" if configured else None),
        (texts.GRAPH_RENEWAL, ago(graph.next_renewal_at, view.now, zone) if graph.next_renewal_at else None),
    ]


def _company(company: CompanyStatus, view: StatusView, zone: TeamZone) -> Element | None:
    key = clean_text(company.company, ID_LIMIT)
    title = texts.company_and_key(clean_text(company.name, NAME_LIMIT), key) if company.name else key
    if company.consecutive_failures:
        health = texts.failing(company.consecutive_failures)
    else:
        health = texts.POLLING_OK if company.last_success_at else texts.NEVER_POLLED
    error = clean_optional(company.last_error, DESCRIPTION_LIMIT)
    if error and company.last_error_at:
        error = f"{error} · {ago(company.last_error_at, view.now, zone)}"
    estimate = company.monthly_transactions_estimate
    estimate_text = texts.transactions_per_month(estimate) if estimate is not None else None
    if estimate_text is not None and company.wakeups:
        estimate_text = f"{estimate_text} {texts.PER_WAKEUP_POLL}"
    wakeup_kinds = " · ".join(texts.WAKEUP_KINDS.get(kind, kind) for kind in company.wakeups)
    pairs: list[tuple[str, object]] = [
        (texts.SCHEDULE, schedule_words(company.schedule) if company.schedule else None),
        (texts.LAST_POLL, ago(company.last_attempt_at, view.now, zone)),
        (texts.LAST_SUCCESS, ago(company.last_success_at, view.now, zone) if company.last_success_at != company.last_attempt_at else None),
        (texts.NEXT_POLL, ago(company.next_poll_at, view.now, zone) if company.next_poll_at else None),
        (texts.LAST_ERROR, error),
        (texts.PER_POLL, texts.functions_per_poll(company.functions_last_cycle)),
        (texts.PER_MONTH, estimate_text),
        (texts.PEOPLES_READS, texts.peoples_reads(company.people_functions_today, company.people_functions_month)),
        (texts.WAKEUPS, clean_optional(wakeup_kinds, DESCRIPTION_LIMIT) if wakeup_kinds else None),
        (texts.LAST_WAKEUP, (ago(company.last_wakeup_at, view.now, zone) if company.last_wakeup_at else texts.NO_WAKEUP_YET)
         if company.wakeups else None),
        (texts.OUTBOX, f"{company.outbox_depth:,}" if company.outbox_depth is not None else None),
    ]
    header = container(
        [text(title, weight="Bolder"), text(health, spacing="None")],
        tone=Tone.ATTENTION if company.consecutive_failures else None,
    )
    return container([header, aligned_facts(pairs, spacing="Small")], separator=True, spacing="Medium")


def _subscriptions_card(view: SubscriptionsView, *, max_items: int) -> Card:
    routes = _ordered(view.routes)[:max_items]
    body: list[Element | None] = [
        heading(texts.SUBSCRIPTIONS_TITLE),
        text(clean_text(view.scope, NAME_LIMIT), spacing="None") if view.scope else None,
        text(texts.NO_SUBSCRIPTIONS) if not view.routes else None,
        *(_route(route) for route in routes),
        _more(len(view.routes) - len(routes), "subscriptions"),
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
    company = texts.EVERY_COMPANY
    if route.company:
        key = clean_text(route.company, ID_LIMIT)
        company = texts.company_and_key(clean_text(route.company_name, NAME_LIMIT), key) if route.company_name else key
    pairs: list[tuple[str, object]] = [
        (texts.COMPANY, company),
        (texts.FILTERS, route_filters(route)),
        (texts.STATUS, state),
    ]
    # Only the heading of an inactive route is styled: the facts stay aligned with the others'.
    title = container([text(kinds, weight="Bolder")], tone=None if route.active else Tone.ATTENTION)
    return container([title, aligned_facts(pairs, spacing="Small")], separator=True)


def _ordered(routes: Sequence[RouteView]) -> list[RouteView]:
    # Inactive first (they need someone to act), then by channel name.
    return sorted(routes, key=lambda r: (r.active, (r.channel_name or r.conversation_id).casefold(), r.route_id))


def _channel(route: RouteView) -> str:
    """A channel elsewhere in the tenant: its name, else a short form of its id."""
    return clean_text(route.channel_name, NAME_LIMIT) if route.channel_name else texts.unnamed_channel(route.conversation_id)


def _more(count: int, noun: str) -> Element | None:
    return text(texts.more_items(count, noun), subtle=True) if count > 0 else None
