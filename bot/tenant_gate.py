"""Which Entra tenants may talk to the bot (ALLOWED_TENANT_IDS), applied alike on every inbound surface.

Bot Framework authentication proves a request comes from the Bot Connector for this bot, not
from which organisation: anyone who knows the bot's id can sideload a manifest naming it in their
own tenant. So every surface that takes requests asks the gate first — activities and invokes on
/api/messages (bot/teams/handler.py), Graph change and lifecycle notifications (bot/teams/graph_bridge.py),
and any later invoke handler — and a refused request gets the protocol's minimum answer and
nothing else: an activity an empty 201 (what every handled activity gets), an invoke
`REFUSED_INVOKE_STATUS` with no body, a Graph notification 403 when nothing in it was accepted.
Each refusal is counted in `mlc_tenant_refusals{surface}`; the first one per tenant and surface
is logged (one line, the tenant id as the request gave it, made safe by `shown`), so a flood of
them costs no log volume and a forged id cannot write lines of its own.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Iterable

from bot.refusals import shown
from observability.metrics import Metrics

log = logging.getLogger(__name__)

ANY_TENANT = "*"  # ALLOWED_TENANT_IDS=* : every tenant the bot registration admits (say so loudly)
MAX_LOGGED_TENANTS = 1000  # refused tenants remembered for log-once; beyond, one summary line
# An invoke must get an invokeResponse (Bot Framework protocol); botbuilder answers one nobody
# handled with 501. A refused tenant gets 403 without a body: no card, no data, no hint.
REFUSED_INVOKE_STATUS = HTTPStatus.FORBIDDEN

ACTIVITY = "activity"
INVOKE = "invoke"
GRAPH = "graph"


def normalise_tenants(tenant_ids: Iterable[str]) -> frozenset[str]:
    """Tenant ids as compared here: trimmed, lower case (Entra ids are GUIDs; case carries nothing)."""
    return frozenset(t.strip().lower() for t in tenant_ids if t and t.strip())


class TenantGate:
    """Decides per request whether its tenant is allowed; logs and counts refusals."""

    def __init__(self, allowed: Iterable[str], metrics: Metrics) -> None:
        self.allowed = normalise_tenants(allowed)
        self._metrics = metrics
        self._logged: set[tuple[str, str | None]] = set()
        self._overflow_logged = False

    @property
    def admits_any(self) -> bool:
        """Whether every tenant is admitted (ALLOWED_TENANT_IDS=*)."""
        return ANY_TENANT in self.allowed

    def allows(self, tenant_id: str | None) -> bool:
        """Whether a tenant may talk to the bot (a request naming no tenant never may)."""
        if self.admits_any:
            return True
        return bool(tenant_id) and tenant_id.strip().lower() in self.allowed

    def admit(self, tenant_id: str | None, *, surface: str, what: str) -> bool:
        """`allows`, plus the refusal's log line (first per tenant and surface) and count."""
        if self.allows(tenant_id):
            return True
        self._metrics.tenant_refusals.labels(surface=surface).inc()
        key = (surface, (tenant_id or "").strip().lower() or None)
        if key in self._logged:
            return False
        if len(self._logged) >= MAX_LOGGED_TENANTS:
            if not self._overflow_logged:
                self._overflow_logged = True
                log.warning("more than %d tenants refused; further ones are only counted in mlc_tenant_refusals", MAX_LOGGED_TENANTS)
            return False
        self._logged.add(key)
        log.warning("refused a %s from tenant %s (not in ALLOWED_TENANT_IDS); logged once per tenant, counted in "
                    "mlc_tenant_refusals{surface=%r}", what, shown(key[1] or "(none given)"), surface)
        return False
