"""The Microsoft Graph / Entra error tree, and the one place where upstream answers map onto it.

    GraphError                       anything Graph or Entra refused or failed to answer
    ├── GraphAuthError               no usable token (Entra said no, or Graph rejected ours twice)
    │   ├── GraphWrongSecretError    AADSTS7000215 wrong secret / AADSTS7000222 expired secret
    │   ├── GraphUnknownTenantError  AADSTS90002 / no OpenID configuration for the tenant
    │   ├── GraphUnknownClientError  AADSTS700016: no such application id in the tenant
    │   └── GraphConsentError        AADSTS65001, 7000229, 500011, 650057…: admin consent missing
    ├── GraphPermissionError         403: the app lacks an application permission (.permission)
    ├── GraphNotFoundError           404: team, channel or subscription is gone
    ├── GraphValidationError         400: Graph refused the request as invalid (.code, Graph's text)
    ├── GraphRequestError            any other 4xx (405, 409, 412, 413…): not worth retrying
    ├── GraphProtocolError           a 2xx answer we cannot read (not JSON, fields missing)
    └── GraphTransientError          retrying later may help (.transient is True)
        ├── GraphNetworkError        connection refused/reset, TLS failure, timeout
        └── GraphThrottledError      429, 503, 504 (.retry_after in seconds when Graph sent it)

`error_from_response` (Graph HTTP answers), `error_from_token_result` (msal's result dict) and
`error_from_discovery_failure` (msal could not read the tenant's OpenID configuration) are the
only translations; the client and the token provider call them and `raise … from`. Messages say
what to fix and never carry a secret: tokens, client secrets and clientState values are
redacted by the caller before any upstream text is quoted.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Mapping

# Upstream text is quoted only this far into a message: enough to diagnose, never a whole page.
_QUOTE_LIMIT = 300


class GraphError(Exception):
    """Base of every Graph/Entra failure; `transient` says whether a later retry may help."""

    transient = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.request_id = request_id


class GraphAuthError(GraphError):
    """No usable app-only token: Entra refused to issue one, or Graph rejected it twice."""


class GraphWrongSecretError(GraphAuthError):
    """Entra rejected the client secret (wrong value, the secret id instead of its value, expired)."""


class GraphUnknownTenantError(GraphAuthError):
    """Entra does not know the tenant id (or the authority host is not an Entra authority)."""


class GraphUnknownClientError(GraphAuthError):
    """Entra knows no application with this client id in the tenant."""


class GraphConsentError(GraphAuthError):
    """The application exists but an administrator has not consented to it in this tenant."""


class GraphPermissionError(GraphError):
    """Graph answered 403: the app registration lacks an application permission."""

    def __init__(self, message: str, *, permission: str | None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.permission = permission


class GraphNotFoundError(GraphError):
    """Graph answered 404: the team, channel or subscription does not exist (any more)."""


class GraphValidationError(GraphError):
    """Graph answered 400: the request itself was refused (bad expiry, missing lifecycle URL…)."""


class GraphRequestError(GraphError):
    """Graph refused the request with another 4xx status; retrying the same request will not help."""


class GraphProtocolError(GraphError):
    """Graph answered 2xx with a body we cannot read (not JSON, required field missing)."""


class GraphTransientError(GraphError):
    """A failure that may pass: 5xx, network trouble, Entra unavailable."""

    transient = True


class GraphNetworkError(GraphTransientError):
    """The request did not complete: connection refused or reset, TLS failure, timeout."""


class GraphThrottledError(GraphTransientError):
    """Graph asked us to slow down (429, or 503/504 under load); `retry_after` is in seconds."""

    def __init__(self, message: str, *, retry_after: float | None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


# --- Graph HTTP answers ---------------------------------------------------------------------

_THROTTLED_STATUSES = frozenset({429, 503, 504})
# Graph's own 403 text names the permissions it wanted: "API requires one of 'A, B'."
_REQUIRED_PERMISSIONS = re.compile(r"API require[sd]? one of '([^']+)'")


def error_from_response(
    status: int,
    body: bytes,
    headers: Mapping[str, str],
    *,
    method: str,
    path: str,
    permission: str | None = None,
    now: datetime,
    redact: tuple[str, ...] = (),
) -> GraphError:
    """Translate one non-2xx Graph answer into the error tree.

    `path` is the request path (no host, no query) used in messages; `permission` is the
    least-privileged application permission the call needs, named in the 403 message; `redact`
    lists values (clientState…) that must not appear in the message even if Graph echoed them.
    """
    code, graph_message, request_id = _graph_error_fields(body)
    quoted = _quote(graph_message, redact)
    what = f"{method} {path}"
    detail = f": {quoted}" if quoted else ""
    http = f"HTTP {status} {code}" if code else f"HTTP {status}"
    common: dict[str, Any] = {"status": status, "code": code, "request_id": request_id}

    if status in _THROTTLED_STATUSES:
        retry_after = parse_retry_after(headers.get("Retry-After"), now=now)
        wait = f"; Graph asks to wait {retry_after:g} s" if retry_after is not None else ""
        return GraphThrottledError(
            f"Graph throttled {what} (HTTP {status}{wait}){detail}", retry_after=retry_after, **common
        )
    if status == 400:
        return GraphValidationError(f"Graph refused {what} as invalid ({http}){detail}", **common)
    if status == 401:
        return GraphAuthError(
            f"Graph rejected the app's token for {what} ({http}){detail}", **common
        )
    if status == 403:
        wanted = _permission_named(graph_message, permission)
        need = (
            f"the app registration needs the application permission {wanted} with admin consent "
            "(Entra admin center → App registrations → API permissions)"
            if wanted
            else "the app registration lacks a permission for it"
        )
        return GraphPermissionError(
            f"Graph refused {what} (HTTP 403): {need}{detail}", permission=wanted, **common
        )
    if status == 404:
        return GraphNotFoundError(f"Graph has no such resource: {what} (HTTP 404){detail}", **common)
    if 400 <= status < 500:
        return GraphRequestError(f"Graph refused {what} (HTTP {status}){detail}", **common)
    if status >= 500:
        return GraphTransientError(f"Graph failed on {what} (HTTP {status}){detail}", **common)
    return GraphProtocolError(f"Graph answered {what} with unexpected HTTP {status}{detail}", **common)


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent or unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            return None
        seconds = (moment - now).total_seconds()
    return max(0.0, seconds)


def _graph_error_fields(body: bytes) -> tuple[str | None, str | None, str | None]:
    """(code, message, request-id) from Graph's `{"error": {...}}` body, whatever is there."""
    try:
        document = json.loads(body.decode("utf-8", errors="replace")) if body else None
    except ValueError:
        return None, body.decode("utf-8", errors="replace").strip() or None, None
    error = document.get("error") if isinstance(document, dict) else None
    if not isinstance(error, dict):
        return None, None, None
    inner = error.get("innerError") if isinstance(error.get("innerError"), dict) else {}
    code = error.get("code") if isinstance(error.get("code"), str) else None
    message = error.get("message") if isinstance(error.get("message"), str) else None
    request_id = inner.get("request-id") if isinstance(inner.get("request-id"), str) else None
    return code, message, request_id


def _permission_named(graph_message: str | None, permission: str | None) -> str | None:
    """The permission to ask the admin for: the one we know the call needs, else Graph's first."""
    if permission:
        return permission
    match = _REQUIRED_PERMISSIONS.search(graph_message or "")
    if match:
        return match.group(1).split(",")[0].strip() or None
    return None


def _quote(text: str | None, redact: tuple[str, ...]) -> str:
    """Upstream text, one line, secrets replaced, cut to a readable length."""
    if not text:
        return ""
    line = " ".join(text.split())
    for secret in redact:
        if secret:
            line = line.replace(secret, "***")
    return line if len(line) <= _QUOTE_LIMIT else line[: _QUOTE_LIMIT - 1] + "…"


# --- Entra (msal) answers -------------------------------------------------------------------

_WRONG_SECRET_CODES = frozenset({7000215, 7000222})
_UNKNOWN_TENANT_CODES = frozenset({90002, 900023, 90013})
_UNKNOWN_CLIENT_CODES = frozenset({700016})
_CONSENT_CODES = frozenset({65001, 7000229, 500011, 650051, 650052, 650057})
_TRANSIENT_OAUTH_ERRORS = frozenset({"temporarily_unavailable", "server_error"})
_AADSTS = re.compile(r"AADSTS(\d+)")


def error_from_token_result(result: Mapping[str, Any], *, tenant_id: str, client_id: str) -> GraphError:
    """Translate msal's failed `acquire_token_for_client` result (`error`, `error_description`,
    `error_codes`) into the error tree; the message says which setting to fix."""
    error = str(result.get("error") or "unknown_error")
    description = str(result.get("error_description") or "")
    ordered = _aadsts_codes(result, description)
    codes = set(ordered)
    first = _first_sentence(description)
    aadsts = f"AADSTS{ordered[0]}" if ordered else error
    common: dict[str, Any] = {"code": aadsts, "request_id": _str_or_none(result.get("correlation_id"))}
    detail = f" ({first})" if first else ""

    if codes & _WRONG_SECRET_CODES:
        fix = (
            "the client secret has expired: create a new one and update GRAPH_CLIENT_SECRET"
            if 7000222 in codes
            else "put the secret's Value (not its Secret ID) into GRAPH_CLIENT_SECRET, "
            "and check it has not expired"
        )
        return GraphWrongSecretError(
            f"Entra rejected the client secret of app {client_id} [{aadsts}]: {fix}", **common
        )
    if codes & _UNKNOWN_TENANT_CODES:
        return GraphUnknownTenantError(
            f"Entra does not know tenant '{tenant_id}' [{aadsts}]: check GRAPH_TENANT_ID{detail}", **common
        )
    if codes & _UNKNOWN_CLIENT_CODES:
        return GraphUnknownClientError(
            f"Entra has no application {client_id} in tenant {tenant_id} [{aadsts}]: check GRAPH_CLIENT_ID, "
            "or have an administrator of the tenant consent to the app",
            **common,
        )
    if codes & _CONSENT_CODES:
        return GraphConsentError(
            f"app {client_id} is not consented in tenant {tenant_id} [{aadsts}]: an administrator must "
            f"grant admin consent to its application permissions{detail}",
            **common,
        )
    if error in _TRANSIENT_OAUTH_ERRORS:
        return GraphTransientError(f"Entra could not issue a token right now [{aadsts}]{detail}", **common)
    return GraphAuthError(f"Entra refused a token for app {client_id} [{aadsts}]{detail}", **common)


def error_from_discovery_failure(*, tenant_id: str, authority: str, reason: str) -> GraphUnknownTenantError:
    """msal could not read `{authority}/v2.0/.well-known/openid-configuration` (unknown tenant);
    `reason` is msal's text, which quotes Entra's answer (AADSTS90002 for an unknown tenant)."""
    found = _AADSTS.search(reason)
    code = f"AADSTS{found.group(1)}" if found else None
    return GraphUnknownTenantError(
        f"Entra has no OpenID configuration for tenant '{tenant_id}' at {authority}: check GRAPH_TENANT_ID "
        f"(a tenant GUID or verified domain) [{code or _first_sentence(reason)}]",
        code=code,
    )


def _aadsts_codes(result: Mapping[str, Any], description: str) -> list[int]:
    """Entra's error numbers in the order it gave them (`error_codes`, then AADSTS… in the text)."""
    ordered: list[int] = []
    listed = result.get("error_codes")
    if isinstance(listed, list):
        ordered.extend(int(code) for code in listed if str(code).isdigit())
    ordered.extend(int(code) for code in _AADSTS.findall(description))
    return list(dict.fromkeys(ordered))


def _first_sentence(text: str) -> str:
    """Entra descriptions run on with trace and correlation ids; the first sentence says it."""
    line = " ".join(text.split())
    line = _AADSTS.sub("", line, count=1).lstrip(": ").strip()
    for stop in (". ", "\r", "\n"):
        if stop in line:
            line = line.split(stop, 1)[0] + ("." if stop == ". " else "")
            break
    return line if len(line) <= _QUOTE_LIMIT else line[: _QUOTE_LIMIT - 1] + "…"


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
