"""The operators' alert card: polling failing (with Intacct's error and the fix), recovered,
credentials rejected, a subscribed channel gone."""

from __future__ import annotations

from cards import texts
from cards.elements import CARD_SIZE_BUDGET, Card, Element, container, facts, heading, make_card, text
from cards.fit import ensure_fits
from cards.format import Tone, moment
from cards.sanitize import DEFAULT_LIMIT, DESCRIPTION_LIMIT, ID_LIMIT, NAME_LIMIT, clean_text
from cards.views import AlertKind, AlertView
from intacct.company import TeamZone
from poller.events import AlertRaised

_TONES = {
    AlertKind.POLLING_FAILED: Tone.ATTENTION,
    AlertKind.POLLING_RECOVERED: Tone.GOOD,
    AlertKind.CREDENTIALS_REJECTED: Tone.ATTENTION,
    AlertKind.CHANNEL_GONE: Tone.WARNING,
    AlertKind.WAKEUPS_MISSING: Tone.WARNING,
}


def alert_view(event: AlertRaised) -> AlertView:
    """The view of a poller AlertRaised event."""
    return AlertView(
        kind=event.alert,
        company=event.company,
        at=event.at,
        summary=event.summary,
        detail=event.detail,
        fix=event.fix,
        subject=event.subject,
    )


def build_alert_card(view: AlertView, *, zone: TeamZone, company_name: str | None = None, max_bytes: int = CARD_SIZE_BUDGET) -> Card:
    """What happened, when (in `zone`, named once), Intacct's error, and what to do (a default
    fix when none is given); the company by its name when known."""
    title = texts.ALERT_TITLES.get(view.kind.value, view.kind.value.replace("_", " ").capitalize())
    tone = _TONES.get(view.kind, Tone.ATTENTION)
    when = moment(view.at, zone, named=True)
    company = None
    if view.company:
        key = clean_text(view.company, ID_LIMIT)
        company = texts.company_and_key(clean_text(company_name, NAME_LIMIT), key) if company_name else key
    where = f"{company} · {when}" if company else when
    fix = view.fix or texts.DEFAULT_FIXES.get(view.kind.value)
    body: list[Element | None] = [
        container([heading(title), text(where, spacing="None")], tone=tone),
        text(clean_text(view.summary, DEFAULT_LIMIT)),
        facts(
            [
                (texts.ERROR, clean_text(view.detail, DEFAULT_LIMIT) if view.detail else None),
                (texts.FIX, clean_text(fix, DEFAULT_LIMIT) if fix else None),
                (texts.SINCE, moment(view.failing_since, zone) if view.failing_since else None),
                (texts.FAILURES, f"{view.consecutive_failures:,}" if view.consecutive_failures else None),
                (texts.CHANNEL, clean_text(view.channel_name, NAME_LIMIT) if view.channel_name else None),
                (texts.CONVERSATION, clean_text(view.subject, DESCRIPTION_LIMIT) if view.subject else None),
            ]
        ),
    ]
    fallback = f"{title}: {view.summary}"
    return ensure_fits("alert", make_card(body, fallback_text=fallback), max_bytes)
