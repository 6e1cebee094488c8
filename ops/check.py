"""`python app.py check`: ping every configured system and say, per system, ok or what to fix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Sequence

import aiohttp

from bot.teams.channel_auth import is_loopback_host
from bot.teams.connector import fetch_bot_token
from bot.teams.errors import ConnectorError
from bot.wakeups.intacct_events import events_url
from bot.teams.server import EVENTS_PATH
from graph.check import check_graph
from graph.client import GraphClient
from graph.tokens import EntraTokenProvider, GraphCredentials
from intacct import errors as intacct_errors
from intacct.client import IntacctClient
from intacct.schema import describe_problem
from ops.key_rotation import ROLL_CALL_WINDOW, describe_roll_call, describe_usage, key_usage
from ops.vault import KeyRing
from poller.schedules import TIER1_MONTHLY_TRANSACTIONS, UsageEstimate
from poller.wakeups import TRIGGER_OBJECTS
from settings import CompanySettings, Settings
from store.api import Store
from store.types import WakeUpState


@dataclass(frozen=True)
class CheckResult:
    """One line of `check`: the system, ok or not (a warning is ok, printed WARN), and what to print."""

    ok: bool
    text: str
    warning: bool = False


async def check_store(store: Store, description: str) -> CheckResult:
    """The database answers and is migrated."""
    try:
        await store.ping()
    except Exception as exc:  # noqa: BLE001 - check reports every failure as a line
        return CheckResult(False, f"Store: cannot reach {description}: {exc}")
    return CheckResult(True, f"Store: ok ({description})")


async def check_master_key(store: Store, ring: KeyRing | None, *, key_file, now: datetime) -> list[CheckResult]:
    """Which key of the ring opens the stored credentials, whether an older key is still needed,
    and whether every running instance holds the newest key (a rotation's progress)."""
    if ring is None:
        return []  # nothing stored (else the settings could not have been read): nothing to say
    lines = [describe_usage(key_usage(await store.load_secrets(), ring), key_file=key_file)]
    roll_call = describe_roll_call(await store.key_ring_reports(since=now - ROLL_CALL_WINDOW), ring)
    if roll_call is not None:
        lines.append(roll_call)
    return [CheckResult(ok is not False, text, warning=ok is None) for ok, text in lines]


async def check_intacct(company: CompanySettings, client: IntacctClient, usage: UsageEstimate | None, *,
                        max_wakeup_polls_per_hour: int | None = None) -> list[CheckResult]:
    """A session, the company's definitions of every object read (`lookup`), the user's time zone;
    the schedules' monthly cost (and, with wake-ups on, what each wake-up poll adds). Fails on a
    missing object or required field, naming the fix."""
    label = f"Intacct {company.key}"
    try:
        report = await client.check_schema()
    except intacct_errors.IntacctError as exc:
        return [CheckResult(False, f"{label}: {exc}. {intacct_fix(exc, company)}")]
    lines = [CheckResult(True, f"Intacct: ok — signed in to {company.company_id}"
                               + (f" entity {company.entity_id}" if company.entity_id else "")
                               + f"; {len(report.checks)} objects looked up")]
    for check in report.problems():
        lines.append(CheckResult(False, f"{label}: {describe_problem(check)}"))
    for name in report.absent_objects():
        lines.append(CheckResult(True, f"{label}: the company has no {name}; it is not read ({report.checks[name].error})"))
    for name, dropped in report.dropped().items():
        lines.append(CheckResult(True, f"{label}: {name} has no {', '.join(dropped)}; not read, cards leave them out"))
    lines.append(await _check_time_zone(label, company, client))
    if usage is not None:
        share = usage.total / TIER1_MONTHLY_TRANSACTIONS
        lines.append(CheckResult(
            share <= 1,
            f"Intacct usage for {company.key}: about {usage.total:,} API transactions a month at the configured schedules "
            f"({usage.poll_runs:,} polls × {usage.poll_functions} functions, plus reference data and definitions, reconciliation "
            f"and digests; "
            f"{share:.0%} of Tier 1's 100,000)" + ("" if share <= 1 else " — poll less often or buy a higher tier")
            + (f"; plus {usage.poll_functions} per wake-up poll (a burst of changes is one or two polls; at most "
               f"{max_wakeup_polls_per_hour} an hour, WAKEUP_MAX_POLLS_PER_HOUR)" if max_wakeup_polls_per_hour else ""),
        ))
    return lines


async def _check_time_zone(label: str, company: CompanySettings, client: IntacctClient) -> CheckResult:
    """The user's time zone from Intacct; a refusal fails unless INTACCT_GMT_OFFSET stands in for it."""
    try:
        formatting = await client.fetch_user_formatting()
    except intacct_errors.UserFormattingRefusedError as exc:
        if company.gmt_offset:
            return CheckResult(True, f"{label}: user time zone GMT{company.gmt_offset} from INTACCT_GMT_OFFSET "
                                     f"(Intacct refused readUserFormatting: {exc.description2 or exc.errorno})")
        return CheckResult(False, f"{label}: {exc}. {exc.correction}")
    except intacct_errors.IntacctError as exc:
        return CheckResult(False, f"{label}: reading the user's time zone failed: {exc}. {intacct_fix(exc, company)}")
    offset = formatting.gmt_offset.total_seconds() / 3600
    source = " (INTACCT_GMT_OFFSET is set and used instead)" if company.gmt_offset else ""
    return CheckResult(True, f"{label}: user time zone GMT{offset:+g}{source}")


def check_wakeups(settings: Settings, company: CompanySettings, state: WakeUpState | None, *, now: datetime) -> list[CheckResult]:
    """Whether Intacct can wake this company's poller, when it last did, and how to set up each
    kind of trigger in Intacct with the exact URL to paste."""
    label = f"Intacct wake-ups for {company.key}"
    kinds = settings.wakeup_kinds(company)
    if not kinds:
        return [CheckResult(True, f"{label}: off — cards come with the regular poll ({company.poll_schedule}). For cards within "
                                  "seconds set INTACCT_EVENTS_SECRET (Smart Events) or INTACCT_EVENTS_CLIENT_ID and "
                                  "INTACCT_EVENTS_CLIENT_SECRET (Platform Triggers): README, \"Intacct wake-ups\"")]
    names = " and ".join({"platform_trigger": "Platform Triggers", "smart_event": "Smart Events"}[kind] for kind in kinds)
    if state is None or state.last_at is None:
        last = "none has arrived yet"
    else:
        minutes = max(0, int((now - state.last_at).total_seconds() // 60))  # another instance's clock may run ahead
        last = (f"the last arrived {state.last_at.isoformat(timespec='seconds')} ({minutes:,} min ago, "
                f"{'a Platform Trigger' if state.last_kind == 'platform_trigger' else 'a Smart Event'}), {state.received:,} so far")
    alerted = state is not None and state.trigger_alert_at is not None
    lines = [CheckResult(not alerted, f"{label}: {names}; {last}" + (
        f" — the regular poll found changes no wake-up announced (alerted {state.trigger_alert_at.isoformat(timespec='minutes')}): "
        "check the triggers below" if alerted and state is not None and state.trigger_alert_at else ""))]
    if not settings.public_url:
        lines.append(CheckResult(False, f"{label}: set PUBLIC_URL to the https address where Intacct reaches this service; "
                                        f"the URL to paste into Intacct is PUBLIC_URL{EVENTS_PATH}?company={company.key}"))
        return lines
    url = events_url(settings.public_url, company.key)
    objects = ", ".join(TRIGGER_OBJECTS.values())
    if "platform_trigger" in kinds:
        lines.append(CheckResult(True, (
            f"Set up Platform Triggers for {company.key} (Platform Services > Triggers): one trigger on each of {objects}, "
            f"events add and set; trigger type HTTP post; select Use webhook delivery; Client ID {settings.events_client_id}; "
            f"URL {url} (the body is not used)")))
    if "smart_event" in kinds:
        lines.append(CheckResult(True, (
            f"Set up Smart Events for {company.key} (Platform Services > Smart events): one on each of {objects}, events Add "
            f"and Set, action HTTP post; URL {url}; body {{\"secret\": \"<the company's events secret>\"}} "
            "(INTACCT_EVENTS_SECRET, or its events_secret; or add &secret=<it> to the URL; check never prints secrets)")))
    return lines


def intacct_fix(exc: intacct_errors.IntacctError, company: CompanySettings) -> str:
    """What to change for a failed Intacct check."""
    if isinstance(exc, intacct_errors.SenderAuthenticationError):
        return "Fix INTACCT_SENDER_ID / INTACCT_SENDER_PASSWORD (the Web Services sender credentials)."
    if isinstance(exc, intacct_errors.SenderNotAuthorizedError):
        return (f"In Intacct, add sender id {company.sender_id!r} under Company > Setup > Configuration > Security > "
                "Web Services authorizations.")
    if isinstance(exc, intacct_errors.LoginFailedError):
        return "Fix INTACCT_COMPANY_ID / INTACCT_USER_ID / INTACCT_USER_PASSWORD (and check the user is active and not locked)."
    if isinstance(exc, intacct_errors.CompanyExpiredError):
        return "The Intacct company has expired; use a live company."
    if isinstance(exc, intacct_errors.IntacctTransportError):
        return f"Cannot reach {company.endpoint_url}: check INTACCT_ENDPOINT_URL, DNS, proxy and firewall."
    if isinstance(exc, intacct_errors.UntrustedEndpointError):
        return exc.correction or "Check INTACCT_ENDPOINT_URL."
    if isinstance(exc, intacct_errors.FunctionError):
        return "The web-services user lacks a permission: give its role read access to Company, AP and GL."
    return "See the error above; `python app.py check` again after fixing it."


def anonymous_mode_problem(settings: Settings) -> str | None:
    """Why `serve` must not start, as one line naming APP_ID; None when it may.

    With APP_ID empty nothing on /api/messages is authenticated: anyone who reaches the port could
    read AP data or subscribe a channel. That is fine on loopback (the demo, the Agents Playground)
    and allowed elsewhere only when ALLOW_ANONYMOUS_ON_NETWORK says so explicitly."""
    if settings.app_id or is_loopback_host(settings.host) or settings.allow_anonymous_on_network:
        return None
    return (f"APP_ID is empty, so requests would not be authenticated, and HOST={settings.host} is reachable from "
            "the network: set APP_ID (with APP_PASSWORD and APP_TENANTID) from your Azure Bot, or HOST=127.0.0.1 "
            "for local use (ALLOW_ANONYMOUS_ON_NETWORK=true accepts the risk)")


def check_configuration(settings: Settings) -> list[CheckResult]:
    """The settings' own warnings (valid, but worth a word)."""
    return [CheckResult(True, f"Configuration: {warning}", warning=True) for warning in settings.warnings]


async def check_bot(settings: Settings, adapter: Any) -> CheckResult:
    """The Azure Bot registration's credentials give a Bot Framework token — asked through the very
    credentials object the adapter's sends use (bot.teams.connector.fetch_bot_token), so `check` cannot
    say ok for an authority or scope the sends would not use."""
    if not settings.app_id:
        problem = anonymous_mode_problem(settings)
        if problem is not None:
            return CheckResult(False, f"Bot: {problem}")
        if not is_loopback_host(settings.host):
            return CheckResult(True, f"Bot: anonymous mode (APP_ID empty) OPEN TO THE NETWORK on {settings.host} "
                                     "(ALLOW_ANONYMOUS_ON_NETWORK): anyone who reaches it can read AP data", warning=True)
        return CheckResult(True, f"Bot: anonymous mode (APP_ID empty) on {settings.host} only — for local use with the "
                                 "Agents Playground")
    if settings.app_type == "UserAssignedMSI":
        return CheckResult(True, "Bot credentials: managed identity — can only be checked from inside Azure")
    authority = settings.app_tenant_id if settings.app_type == "SingleTenant" else "botframework.com"
    try:
        await fetch_bot_token(adapter)
    except ConnectorError as exc:
        return CheckResult(False, f"Bot credentials: Entra refused a token for app {settings.app_id} from tenant {authority} "
                                  f"({exc}). Fix APP_ID / APP_PASSWORD / APP_TENANTID / APP_TYPE (Azure Bot > Configuration: "
                                  "a single-tenant bot needs APP_TYPE=SingleTenant and its tenant id).")
    return CheckResult(True, f"Bot credentials: ok (app {settings.app_id}, {settings.app_type}, token from tenant {authority})")


async def check_graph_access(settings: Settings, http: aiohttp.ClientSession, team_ids: Sequence[str], *, clock: Callable[[], datetime]) -> list[CheckResult]:
    """Entra token for Graph and reading each routed team's channels."""
    if not settings.graph_enabled:
        return [CheckResult(True, "Graph: off (set GRAPH_TENANT_ID/GRAPH_CLIENT_ID/GRAPH_CLIENT_SECRET or APP_*, and PUBLIC_URL) — "
                                  "channel names show as ids and deleted channels are noticed only when a post fails")]
    try:
        tokens = EntraTokenProvider(
            GraphCredentials(settings.graph_tenant_id, settings.graph_client_id, settings.graph_client_secret.reveal(), settings.graph_authority_host),
            http=http,
        )
    except ValueError as exc:
        return [CheckResult(False, f"Entra token: {exc}")]
    client = GraphClient(tokens, http=http, base_url=settings.graph_base_url, clock=clock)
    return [CheckResult(line.ok, line.text) for line in await check_graph(tokens, client, team_ids)]
