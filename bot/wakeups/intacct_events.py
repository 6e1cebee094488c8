"""POST /api/intacct/events: Intacct's Platform Triggers and Smart Events wake the poller up.

Each request is checked (intacct/wakeups.py says how and on what evidence). An authentic one for
a company that takes wake-ups asks the poller for that company's next poll now (poller/wakeups.py
debounces, coalesces and bounds it) and is answered 200; what its body says about the change is
never used. A repeat of a delivery (the same idempotency key, or the same token) is answered 200
and asks for nothing. Anything else is answered 401, counted (`mlc_intacct_wakeups`), logged
through the app's RefusalLog (one line, and under a flood one line a minute), and never causes a
poll or any request to Intacct.

The URL names the company: `/api/intacct/events?company=<key>` (`check` prints it per company).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Mapping
from urllib.parse import quote

from aiohttp import web

from bot.teams.inbound import too_deep
from bot.refusals import RefusalLog
from bot.teams.server import EVENTS_PATH
from intacct.wakeups import (
    COMPANY_FIELD,
    PLATFORM_TRIGGER,
    SMART_EVENT,
    UNKNOWN_COMPANY,
    PlatformTriggerKeys,
    WakeUpRefused,
    has_bearer_token,
    verify_platform_trigger,
    verify_smart_event,
    wakeup_fields,
)
from observability.metrics import Metrics
from poller.wakeups import WakeUps

log = logging.getLogger("mlc.wakeups")

Clock = Callable[[], datetime]

# A Smart Event body is a few hundred bytes of template; anything much bigger is not one.
MAX_BODY_BYTES = 16 * 1024
# A Platform Trigger's body is whatever its trigger sends (a record, undocumented size); it is
# read up to this and ignored, so a big record never makes Intacct give up on the call.
MAX_TRIGGER_BODY_BYTES = 1024 * 1024
# Remember deliveries this long: Intacct's retries end 130 s after the first attempt (10 + 30 +
# 90 s, developer.sage.com "Outbound webhooks"), a token lives at most INTACCT_EVENTS_MAX_AGE_SECONDS.
REPEAT_MEMORY = timedelta(minutes=15)
MAX_REMEMBERED = 20_000
UNKNOWN = "unknown"


def events_url(public_url: str, company: str) -> str:
    """The URL to paste into Intacct for `company` (PUBLIC_URL + the events path + the company)."""
    return f"{public_url.rstrip('/')}{EVENTS_PATH}?{COMPANY_FIELD}={quote(company, safe='')}"


@dataclass(frozen=True)
class WakeUpAccess:
    """Which company takes which kind of wake-up, and what each is checked against."""

    smart_event_secrets: Mapping[str, str] = field(default_factory=dict, repr=False)  # company → events secret
    platform_trigger: PlatformTriggerKeys | None = None  # the REST client's keys, when set
    platform_companies: frozenset[str] = frozenset()  # every company, when Platform Triggers are set

    @classmethod
    def build(cls, companies: Mapping[str, str], platform_trigger: PlatformTriggerKeys | None) -> WakeUpAccess:
        """From company key → events secret ("" for none) and the Platform Trigger keys (shared)."""
        secrets = {key: secret for key, secret in companies.items() if secret}
        return cls(secrets, platform_trigger, frozenset(companies) if platform_trigger else frozenset())

    def companies(self) -> set[str]:
        """Every company key that takes some kind of wake-up."""
        return set(self.smart_event_secrets) | set(self.platform_companies)


class _RecentDeliveries:
    """Repeat keys seen lately (bounded in number and age)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._seen: OrderedDict[str, datetime] = OrderedDict()

    def seen_before(self, keys: tuple[str, ...]) -> bool:
        """Whether any key was seen within REPEAT_MEMORY; remembers them all either way."""
        now = self._clock()
        while self._seen and (len(self._seen) > MAX_REMEMBERED or next(iter(self._seen.values())) < now - REPEAT_MEMORY):
            self._seen.popitem(last=False)
        repeat = any(key in self._seen for key in keys)
        for key in keys:
            self._seen[key] = now
            self._seen.move_to_end(key)
        return repeat


class IntacctEventsEndpoint:
    """The aiohttp handler of POST /api/intacct/events."""

    def __init__(self, wakeups: WakeUps, access: WakeUpAccess, *, clock: Clock, metrics: Metrics, refusals: RefusalLog) -> None:
        self.wakeups = wakeups
        self.access = access
        self.clock = clock
        self.metrics = metrics
        self.refusals = refusals  # the app's: one line per refusal, one a minute under a flood (bot/refusals.py)
        self._companies = access.companies() & set(wakeups.companies)
        self._recent = _RecentDeliveries(clock)

    async def handle(self, request: web.Request) -> web.Response:
        """Check the request; 200 and a poll asked for, 200 for a repeat, 401 for anything else."""
        trigger = has_bearer_token(request.headers) and self.access.platform_trigger is not None
        limit = MAX_TRIGGER_BODY_BYTES if trigger else MAX_BODY_BYTES
        body = await _read_bounded(request, limit)
        if body is None:
            self._count(UNKNOWN, UNKNOWN, "too_large")
            self.refusals.refused(EVENTS_PATH, "too_large", f"body over {limit} bytes", remote=request.remote)
            return web.json_response({"error": "request body too large"}, status=413)
        company, kind = UNKNOWN, UNKNOWN
        try:
            # A Platform Trigger's body is never read: its company comes from the URL alone. A
            # Smart Event body nested deeper than any template is read as no body (bot/teams/inbound.py).
            fields = wakeup_fields(request.query, b"" if trigger or too_deep(body) else body)
            company = self._company(fields.get(COMPANY_FIELD))
            if trigger and company in self.access.platform_companies:
                kind = PLATFORM_TRIGGER
                assert self.access.platform_trigger is not None  # platform_companies is empty without it
                proof = verify_platform_trigger(request.headers, self.access.platform_trigger, now=self.clock())
            else:
                kind = SMART_EVENT
                proof = verify_smart_event(fields.get("secret"), self.access.smart_event_secrets.get(company, ""), request.headers)
        except WakeUpRefused as exc:
            self._count(company, kind, "refused")
            self.refusals.refused(EVENTS_PATH, exc.reason, f"Intacct wake-up refused (401): {exc} (company {company})",
                                  remote=request.remote)
            return web.json_response({"error": "unauthorized"}, status=401)
        if proof.repeat_keys and self._recent.seen_before(tuple(f"{company}|{key}" for key in proof.repeat_keys)):
            self._count(company, kind, "repeat")
            log.debug("%s: repeated %s wake-up ignored", company, kind)
            return web.json_response({"status": "repeat"})
        self._count(company, kind, "accepted")
        log.debug("%s: %s wake-up accepted", company, kind)
        await self.wakeups.receive(company, kind)
        return web.json_response({"status": "accepted"})

    def _company(self, named: str | None) -> str:
        if named is None:
            if len(self._companies) == 1:
                return next(iter(self._companies))
            raise WakeUpRefused(UNKNOWN_COMPANY, "the URL names no company (?company=<key>)")
        if named not in self._companies:
            raise WakeUpRefused(UNKNOWN_COMPANY, f"no company {named[:60]!r} takes wake-ups")
        return named

    def _count(self, company: str, kind: str, outcome: str) -> None:
        # Only configured names become label values: a forged name cannot grow the metrics.
        label = company if company in self._companies else UNKNOWN
        self.metrics.wakeups.labels(label, kind, outcome).inc()


async def _read_bounded(request: web.Request, limit: int) -> bytes | None:
    """The body, or None when it is longer than `limit` (read no further than that)."""
    if request.content_length is not None and request.content_length > limit:
        return None
    chunks, size = [], 0
    while True:
        chunk = await request.content.readany()
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
