"""`python app.py check`: ping every configured system and say, per system, ok or what to fix."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Sequence

import aiohttp

from graph.check import check_graph
from graph.client import GraphClient
from graph.errors import GraphError
from graph.tokens import EntraTokenProvider, GraphCredentials
from intacct import errors as intacct_errors
from intacct.client import IntacctClient
from poller.schedules import TIER1_MONTHLY_TRANSACTIONS, UsageEstimate
from settings import CompanySettings, Settings
from store.api import Store

BOT_SCOPE = "https://api.botframework.com/.default"


@dataclass(frozen=True)
class CheckResult:
    """One line of `check`: the system, ok or not, and what to print."""

    ok: bool
    text: str


async def check_store(store: Store, description: str) -> CheckResult:
    """The database answers and is migrated."""
    try:
        await store.ping()
    except Exception as exc:  # noqa: BLE001 - check reports every failure as a line
        return CheckResult(False, f"Store: cannot reach {description}: {exc}")
    return CheckResult(True, f"Store: ok ({description})")


async def check_intacct(company: CompanySettings, client: IntacctClient, usage: UsageEstimate | None) -> list[CheckResult]:
    """A session, the company's name and the user's time zone; the schedules' monthly cost."""
    label = f"Intacct {company.key}"
    try:
        info = await client.fetch_company_info()
        formatting = await client.fetch_user_formatting()
    except intacct_errors.IntacctError as exc:
        return [CheckResult(False, f"{label}: {exc}. {intacct_fix(exc, company)}")]
    offset = formatting.gmt_offset.total_seconds() / 3600
    lines = [CheckResult(True, f"Intacct: ok — {company.key} is {info.name!r} (user time zone GMT{offset:+g})")]
    if usage is not None:
        share = usage.total / TIER1_MONTHLY_TRANSACTIONS
        lines.append(CheckResult(
            share <= 1,
            f"Intacct usage for {company.key}: about {usage.total:,} API transactions a month at the configured schedules "
            f"({usage.poll_runs:,} polls × {usage.poll_functions} functions, plus reference data, reconciliation and digests; "
            f"{share:.0%} of Tier 1's 100,000)" + ("" if share <= 1 else " — poll less often or buy a higher tier"),
        ))
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
    if isinstance(exc, intacct_errors.FunctionError):
        return "The web-services user lacks a permission: give its role read access to Company, AP and GL."
    return "See the error above; `python app.py check` again after fixing it."


async def check_bot(settings: Settings, http: aiohttp.ClientSession) -> CheckResult:
    """The Azure Bot registration's credentials give a Bot Framework token."""
    if not settings.app_id:
        return CheckResult(True, "Bot: anonymous mode (APP_ID empty) — only for local use with the Agents Playground")
    if settings.app_type == "UserAssignedMSI":
        return CheckResult(True, "Bot credentials: managed identity — can only be checked from inside Azure")
    tenant = settings.app_tenant_id or "botframework.com"
    try:
        provider = EntraTokenProvider(
            GraphCredentials(tenant, settings.app_id, settings.app_password.reveal(), settings.graph_authority_host),
            http=http,
            scopes=(BOT_SCOPE,),
        )
        await provider.get_token()
    except (GraphError, ValueError) as exc:
        return CheckResult(False, f"Bot credentials: {exc}. Fix APP_ID / APP_PASSWORD / APP_TENANTID (Azure Bot > Configuration).")
    return CheckResult(True, f"Bot credentials: ok (app {settings.app_id}, {settings.app_type})")


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
